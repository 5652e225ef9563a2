"""The figures cached on PostgreSQL were worked out with a payee's postcode
before the payment's own; the rule now reads the payment's first (ADR 15).
Raising the figures' version makes every cached result stale, so each is
worked out again under the rule in force."""

from django.db import migrations


def bump(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SELECT ledger_figures_bump_now()")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_payment_once_on_sqlite")]

    operations = [migrations.RunPython(bump, migrations.RunPython.noop)]
