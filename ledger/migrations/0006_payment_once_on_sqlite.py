"""A payment held once on SQLite too.

``payment_once_per_council`` includes columns (a covering index for
PostgreSQL), and Django creates no constraint with included columns on
SQLite (its check ``models.W039``): the embedded default held payments once
only because the import looks each one up first. This index gives SQLite
the same rule in the database, on the constraint's own columns; PostgreSQL
has the constraint itself and gets nothing here.
"""

from django.db import migrations

INDEX = "payment_once_per_council_sqlite"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{INDEX}" '
            'ON "ledger_payment" ("buyer_id", "transaction_date", "key")'
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_figures_bump_on_supplier_names")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
