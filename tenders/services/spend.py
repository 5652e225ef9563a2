"""The running totals behind the local-spend figures (``SpendTotal``).

Contracts are written once and never changed or deleted, so the totals of a
(council, financial year, department) group only ever grow: each contract
adds itself with ``add_to_spend_totals`` in the transaction that creates it.
Anything that writes contracts in bulk (the scale data) calls
``rebuild_spend_totals`` afterwards, which is also the repair; and
``verify_spend_totals`` compares the totals with the contracts themselves.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, ExtractYear, Substr

from portal.models import BuyerOrganisation
from tenders.models import Contract, SpendTotal
from tenders.models.spend import FIGURES, KINDS
from tenders.rules import financial_year

CENT = Decimal("0.01")
# A group's figures, in ``FIGURES`` order (money as Decimal, counts as int).
Figures = tuple[Decimal | int, ...]


def _financial_year_of(field: str) -> CombinedExpression:
    """``financial_year`` in SQL: January to March belong to the year before."""
    before_april = When(Q(**{f"{field}__month__lt": 4}), then=Value(1))
    return ExtractYear(field) - Case(before_april, default=Value(0), output_field=IntegerField())


def _grouped(contracts: QuerySet[Contract]) -> QuerySet[Contract, dict[str, Any]]:
    """``contracts`` summed by council, financial year, department and CPV
    division: the totals as they should be, straight from the contracts. Each
    figure is named ``total_`` and its column's name, in ``FIGURES`` order."""
    money = SpendTotal._meta.get_field("value")
    sums = {
        "total_value": Coalesce(Sum("value_including_vat"), Value(Decimal(0)), output_field=money),
        "total_count": Count("pk"),
    }
    for kind in KINDS:
        is_kind = Q(**{f"supplier_was_{kind}": True})
        sums[f"total_{kind}_value"] = Coalesce(
            Sum("value_including_vat", filter=is_kind), Value(Decimal(0)), output_field=money
        )
        sums[f"total_{kind}_count"] = Count("pk", filter=is_kind)
    return (
        contracts.annotate(
            fy=_financial_year_of("awarded_on"),
            division=Substr("award__lot__opportunity__cpv_id", 1, 2),
        )
        .values("buyer_id", "fy", "department_id", "division")
        .annotate(**sums)
        .order_by()
    )


GROUP = ("financial_year", "department_id", "cpv_division")


def summed(totals: QuerySet[SpendTotal]) -> QuerySet[SpendTotal, dict[str, Any]]:
    """``totals`` summed by financial year, department and CPV division (a
    group may have two rows, see the model), each figure named ``total_`` and
    its column's name."""
    # The stubs cannot follow the annotations' names through ``**``: the type is said here.
    rows: QuerySet[SpendTotal, dict[str, Any]] = (
        totals.values(*GROUP)
        .annotate(**{f"total_{name}": Sum(name) for name in FIGURES})
        .order_by(*GROUP)
    )
    return rows


def _group(contract: Contract) -> dict[str, Any]:
    return {
        "buyer_id": contract.buyer_id,
        "financial_year": financial_year(contract.awarded_on),
        "department_id": contract.department_id,
        "cpv_division": contract.award.lot.opportunity.cpv_id[:2],
    }


def _rows_of(group: dict[str, Any]) -> QuerySet[SpendTotal, int]:
    return SpendTotal.objects.filter(**group).order_by("pk").values_list("pk", flat=True)


def add_to_spend_totals(contract: Contract) -> None:
    """Add a new contract to its group's totals, in the caller's transaction.

    The increment is one ``UPDATE ... SET value = value + ...`` on one row of
    the group, so two awards at once both count (the second waits for the
    first's row lock). The group's row is made first if there is none; if
    another transaction makes it at the same moment, the unique constraint
    refuses one of them and that one adds to the other's row instead.
    Without a department two rows may be made at once (NULLs are distinct);
    both are counted, since readers sum a group's rows.
    """
    group = _group(contract)
    pk = _rows_of(group).first()
    if pk is None:
        try:
            with transaction.atomic():
                pk = SpendTotal.objects.create(**group).pk
        except IntegrityError:  # made by a concurrent award since we looked
            # The row that refused ours: it is there.
            pk = _rows_of(group)[0]
    is_kind = {
        "local": contract.supplier_was_local,
        "sme": contract.supplier_was_sme,
        "vcse": contract.supplier_was_vcse,
    }
    # On one basis, including VAT, whatever each opportunity's was.
    value = contract.value_including_vat
    increments = {"value": F("value") + value, "count": F("count") + 1}
    for kind in KINDS:
        if is_kind[kind]:
            increments[f"{kind}_value"] = F(f"{kind}_value") + value
            increments[f"{kind}_count"] = F(f"{kind}_count") + 1
    SpendTotal.objects.filter(pk=pk).update(**increments)


@transaction.atomic
def rebuild_spend_totals(buyer: BuyerOrganisation) -> None:
    """Recount the council's totals from its contracts: its rows are replaced
    by one ``INSERT ... SELECT ... GROUP BY`` over the contracts. For writers
    that insert contracts in bulk, and as a repair."""
    SpendTotal.objects.filter(buyer=buyer).delete()
    # The SELECT's columns come in the order of ``values()`` then ``annotate()``
    # (buyer, year, department, division, then FIGURES): the tests verify after
    # a rebuild.
    select, params = _grouped(Contract.objects.filter(buyer=buyer)).query.sql_with_params()
    table = connection.ops.quote_name(SpendTotal._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(column)
        for column in ("buyer_id", "financial_year", "department_id", "cpv_division", *FIGURES)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select}", params)


def _normal(row: dict[str, Any]) -> Figures:
    return tuple(
        Decimal(row[f"total_{name}"] or 0).quantize(CENT)
        if name.endswith("value")
        else row[f"total_{name}"]
        for name in FIGURES
    )


def verify_spend_totals(
    buyer: BuyerOrganisation,
) -> dict[tuple[int, int | None, str], tuple[Figures | None, Figures | None]]:
    """Where the council's totals differ from its contracts: for each (financial
    year, department, CPV division) that differs, (what the totals say, what the contracts
    say), each a tuple in ``FIGURES`` order, or None where there is no such
    group. Empty when they agree. Two queries, whatever the number of contracts."""
    live = {
        (row["fy"], row["department_id"], row["division"]): _normal(row)
        for row in _grouped(Contract.objects.filter(buyer=buyer))
    }
    kept = {
        (row["financial_year"], row["department_id"], row["cpv_division"]): _normal(row)
        for row in summed(SpendTotal.objects.filter(buyer=buyer))
    }
    return {
        group: (kept.get(group), live.get(group))
        for group in live.keys() | kept.keys()
        if kept.get(group) != live.get(group)
    }
