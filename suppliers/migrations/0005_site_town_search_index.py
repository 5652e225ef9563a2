"""A GIN index for full-text search of site towns, on PostgreSQL only.

The directory search looks for each word in supplier names, category
descriptions and the towns of sites; the names and descriptions have their
indexes (suppliers 0004, cpv 0002), and without this one every search read
every site. The expression is the one ``suppliers.selectors`` searches with
(``SearchVector("town", config="simple")``), so the planner uses it.
"""

from django.db import migrations

INDEX = "supplier_site_town_fts"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("suppliers", "SupplierSite")._meta.db_table)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING gin "
        "(to_tsvector('simple'::regconfig, COALESCE(town, '')))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("suppliers", "0004_supplier_name_search_index")]

    operations = [migrations.RunPython(create_index, drop_index)]
