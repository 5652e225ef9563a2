"""An awarded opportunity's route, band and policy are those its award's
route check recorded (ADR 6): opportunities awarded before that was so keep
the estimate's band, beside the award's reasons. Each takes its latest
passed award check's."""

from django.db import migrations


def forwards(apps, schema_editor):
    Opportunity = apps.get_model("tenders", "Opportunity")
    RouteCheck = apps.get_model("tenders", "RouteCheck")
    checks = (
        RouteCheck.objects.filter(occasion="award", opportunity__status="awarded")
        .order_by("opportunity_id", "-checked_at", "-pk")
        .values_list("opportunity_id", "route", "band_name", "policy_id", "checked_at")
    )
    seen = set()
    for opportunity_id, route, band_name, policy_id, checked_at in checks.iterator():
        if opportunity_id in seen:
            continue
        seen.add(opportunity_id)
        Opportunity.objects.filter(pk=opportunity_id).exclude(
            route=route, band_name=band_name, policy_id=policy_id
        ).update(route=route, band_name=band_name, policy_id=policy_id, route_checked_at=checked_at)


class Migration(migrations.Migration):
    dependencies = [("tenders", "0018_contract_value_including_vat")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
