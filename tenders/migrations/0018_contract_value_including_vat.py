"""Each contract's price including VAT, and the local-spend running totals
recounted on that one basis (they added prices on each opportunity's basis)."""

from decimal import ROUND_CEILING, Decimal

from django.db import migrations, models

PENNY = Decimal("0.01")


def including_vat(value, basis, rate):
    # As ``tenders.rules.including_vat`` (a migration
    # keeps its own copy: the function may change, this step must not).
    if basis != "exclusive":
        return value
    rate = rate if rate is not None else Decimal("20.00")
    return (value * (Decimal(1) + rate / Decimal(100))).quantize(PENNY, rounding=ROUND_CEILING)


def financial_year(day):
    return day.year if day.month >= 4 else day.year - 1


def forwards(apps, schema_editor):
    Contract = apps.get_model("tenders", "Contract")
    SpendTotal = apps.get_model("tenders", "SpendTotal")
    contracts = Contract.objects.select_related("award__lot__opportunity__policy")
    groups = {}
    for contract in contracts.iterator(chunk_size=2000):
        opportunity = contract.award.lot.opportunity
        policy = opportunity.policy
        value = including_vat(
            contract.value, opportunity.value_vat_basis, policy.vat_rate_percent if policy else None
        )
        if value != contract.value_including_vat:
            Contract.objects.filter(pk=contract.pk).update(value_including_vat=value)
        key = (
            contract.buyer_id,
            financial_year(contract.awarded_on),
            contract.department_id,
            opportunity.cpv_id[:2],
        )
        figures = groups.setdefault(
            key,
            dict.fromkeys(("value", "local_value", "sme_value", "vcse_value"), Decimal("0.00"))
            | dict.fromkeys(("count", "local_count", "sme_count", "vcse_count"), 0),
        )
        figures["value"] += value
        figures["count"] += 1
        for kind in ("local", "sme", "vcse"):
            if getattr(contract, f"supplier_was_{kind}"):
                figures[f"{kind}_value"] += value
                figures[f"{kind}_count"] += 1
    SpendTotal.objects.all().delete()
    SpendTotal.objects.bulk_create(
        SpendTotal(
            buyer_id=buyer_id,
            financial_year=year,
            department_id=department_id,
            cpv_division=division,
            **figures,
        )
        for (buyer_id, year, department_id, division), figures in groups.items()
    )


class Migration(migrations.Migration):
    dependencies = [("tenders", "0017_clarification_published_question")]

    operations = [
        migrations.AddField(
            model_name="contract",
            name="value_including_vat",
            field=models.DecimalField(decimal_places=2, max_digits=14, default=Decimal("0.00")),
            preserve_default=False,
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
