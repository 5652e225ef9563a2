"""The figures cached on PostgreSQL counted a supplier's own SME and VCSE
answers whether or not the council had verified it; they now count only for
a supplier the council has approved, and are of the spend with such
suppliers (ADR 15). Raising the figures' version makes every cached result
stale, so each is worked out again under the rule in force. (Approving or
suspending a supplier already raises it: the trigger on
``suppliers_supplierapproval``, migration 0004.)"""

from django.db import migrations


def bump(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SELECT ledger_figures_bump_now()")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_figures_anew_for_the_locality_rule")]

    operations = [migrations.RunPython(bump, migrations.RunPython.noop)]
