"""Running totals of the contracts, for the local-spend figures.

One row per council, financial year (the year it starts, 1 April),
department (or none) and CPV division (the first two digits of the
opportunity's CPV code: the category an award register filters on): the
awarded value and number of contracts, in all and
to suppliers that were local, SMEs and VCSEs at award. The contracts are the
record; these rows are kept in step with them by ``tenders.services.spend``
(in the same transaction as each contract) and can be rebuilt from them at
any time (``rebuild_spend_totals``, checked by ``verify_spend_totals``).

A group may have more than one row (two first awards in a department-less
group at the same moment: NULLs are never equal to each other in a unique
index), so a reader always sums the rows of a group.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.db import models

from portal.models import BuyerOrganisation, Department


class _Total(TypedDict):
    max_digits: int
    decimal_places: int
    default: Decimal


# Wider than a contract's value: a sum of many.
TOTAL: _Total = {"max_digits": 18, "decimal_places": 2, "default": Decimal("0.00")}
KINDS = ("local", "sme", "vcse")
# The figures of a group, in the order the table's columns are written.
FIGURES = ("value", "count", *(f"{kind}_{what}" for kind in KINDS for what in ("value", "count")))


class SpendTotal(models.Model):
    buyer = models.ForeignKey(BuyerOrganisation, on_delete=models.PROTECT, related_name="+")
    financial_year = models.PositiveSmallIntegerField(
        help_text="The year in which the financial year starts (1 April)."
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cpv_division = models.CharField(
        max_length=2, help_text="The first two digits of the opportunity's CPV code."
    )
    value = models.DecimalField(**TOTAL)
    count = models.PositiveIntegerField(default=0)
    local_value = models.DecimalField(**TOTAL)
    local_count = models.PositiveIntegerField(default=0)
    sme_value = models.DecimalField(**TOTAL)
    sme_count = models.PositiveIntegerField(default=0)
    vcse_value = models.DecimalField(**TOTAL)
    vcse_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["buyer_id", "financial_year", "department_id", "cpv_division"]
        constraints = [
            # Holds for departments; a department-less group may still have two rows.
            models.UniqueConstraint(
                fields=["buyer", "financial_year", "department", "cpv_division"],
                name="spend_total_once",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Spend {self.financial_year} department {self.department_id or '-'} "
            f"CPV {self.cpv_division}"
        )
