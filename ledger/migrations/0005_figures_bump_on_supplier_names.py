"""ADR 16: the leakage page is cached with the figures, and it shows the
local suppliers by name for each CPV group, so a change of a supplier's
name or categories of work raises the figures' version too. PostgreSQL only."""

from django.db import migrations

INSTALL = [
    """
    CREATE TRIGGER ledger_figures_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON suppliers_supplierorganisation_categories
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_figures_bump();
    """,
    """
    CREATE TRIGGER ledger_figures_bump_names AFTER UPDATE OF legal_name
    ON suppliers_supplierorganisation
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_figures_bump();
    """,
]
UNINSTALL = [
    "DROP TRIGGER IF EXISTS ledger_figures_bump ON suppliers_supplierorganisation_categories;",
    "DROP TRIGGER IF EXISTS ledger_figures_bump_names ON suppliers_supplierorganisation;",
]


def _run(schema_editor, statements):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in statements:
        schema_editor.execute(statement)


def install(apps, schema_editor):
    _run(schema_editor, INSTALL)


def uninstall(apps, schema_editor):
    _run(schema_editor, UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_figures_totals")]

    operations = [migrations.RunPython(install, uninstall)]
