from django.db import migrations


class Migration(migrations.Migration):
    """The word list is rewritten by REFRESH … CONCURRENTLY; with GIN's fast update on, the new
    entries wait in a pending list that every typo lookup scans (hundreds of ms after an
    import). Writing them straight into the index keeps lookups at a few milliseconds."""

    dependencies = [("catalog", "0004_search_vector")]

    operations = [
        migrations.RunSQL(
            "ALTER INDEX catalog_search_term_trgm SET (fastupdate = off)",
            "ALTER INDEX catalog_search_term_trgm RESET (fastupdate)",
        )
    ]
