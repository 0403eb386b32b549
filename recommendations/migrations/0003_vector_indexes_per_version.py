"""The collaborative vectors' table-wide HNSW indexes become one partial index per model version
(``recommendations.services.vector_indexes``): a training then writes its rows without an index
to maintain and builds its version's index once, before the swap. The active version (if any)
gets its indexes here, so serving keeps its HNSW scans across the migration (ef_construction
128: RECOMMENDER["vectors"]["index_ef_construction"]'s default)."""

from django.db import migrations

TABLES = ("recommendations_trackvector", "recommendations_listenervector")


def _active_version_ids(apps):
    ModelVersion = apps.get_model("recommendations", "ModelVersion")
    return list(ModelVersion.objects.filter(status="active").values_list("pk", flat=True))


def create_active_indexes(apps, schema_editor):
    for version_id in _active_version_ids(apps):
        for table in TABLES:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_hnsw_v{int(version_id)} ON {table} "
                f"USING hnsw (vector vector_cosine_ops) WITH (m = 16, ef_construction = 128) "
                f"WHERE model_version_id = {int(version_id)}"
            )


def drop_version_indexes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(%s) AND indexname ~ '_hnsw_v[0-9]+$'",
            [list(TABLES)],
        )
        names = [row[0] for row in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("recommendations", "0002_popularity_views")]

    operations = [
        migrations.RemoveIndex(model_name="trackvector", name="track_vector_hnsw_cosine"),
        migrations.RemoveIndex(model_name="listenervector", name="listener_vector_hnsw_cosine"),
        migrations.RunPython(create_active_indexes, drop_version_indexes),
    ]
