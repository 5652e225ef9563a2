"""A GIN index for full-text search of descriptions, on PostgreSQL only.

The expression is the one ``cpv.selectors`` searches with
(``SearchVector("description", config="english")``), so the planner uses it.
SQLite has no GIN indexes; there the search reads the table (9,454 rows).
"""

from django.db import migrations

INDEX = "cpv_description_fts"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("cpv", "CpvCode")._meta.db_table)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING gin "
        "(to_tsvector('english'::regconfig, COALESCE(description, '')))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("cpv", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
