from django.db import migrations

from catalog.search import CREATE_SEARCH_TERMS, DROP_SEARCH_TERMS


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_importupload")]

    operations = [migrations.RunSQL(CREATE_SEARCH_TERMS, DROP_SEARCH_TERMS)]
