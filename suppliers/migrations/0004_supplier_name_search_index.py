"""A GIN index for full-text search of supplier names, on PostgreSQL only.

The expression is the one ``suppliers.selectors.name_search_vector`` searches
with (``SearchVector("legal_name", "trading_name", config="simple")``), so the
planner uses it. SQLite has no GIN indexes; there the directory search reads
the table.
"""

from django.db import migrations

INDEX = "supplier_name_fts"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(
        apps.get_model("suppliers", "SupplierOrganisation")._meta.db_table
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING gin "
        "(to_tsvector('simple'::regconfig, "
        "COALESCE(legal_name, '') || ' ' || COALESCE(trading_name, '')))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("suppliers", "0003_charity_number_length")]

    operations = [migrations.RunPython(create_index, drop_index)]
