"""The value of an opportunity has one definition (RULES.md §2), in two forms
that agree: the query expressions that annotate lists and the model's
methods; the rule, the pages and the open-data export all read it."""

from __future__ import annotations

from decimal import Decimal as D

from tenders.models import Award, Bid, Opportunity
from tenders.services import opportunity_value
from tests.tenders_helpers import approved_supplier, make_opportunity


def annotated(opportunity: Opportunity) -> Opportunity:
    return Opportunity.objects.with_values().get(pk=opportunity.pk)


def award(lot, price: str, officer) -> None:
    """An award of ``lot`` at ``price`` (set up directly: the value is under test)."""
    supplier = approved_supplier(f"Winner of {lot.pk}", "BD1 1AA")
    bid = Bid.objects.create(opportunity=lot.opportunity, lot=lot, supplier=supplier)
    Award.objects.create(lot=lot, bid=bid, value=D(price), reasons="Best.", decided_by=officer)


def test_both_forms_agree_before_and_after_an_award(officer):
    opportunity = make_opportunity(officer, "4000.00", "3000.00", options="500.00")
    for form in (annotated(opportunity), opportunity):
        assert form.value_estimated() == D("7500.00") == form.value_known()
    row = annotated(opportunity)
    assert (row.estimated_value, row.known_value) == (D("7500.00"), D("7500.00"))

    award(opportunity.lots.get(number=1), "4200.00", officer)
    row = annotated(opportunity)
    # The estimate stays the estimate; what is known counts the award.
    assert row.estimated_value == opportunity.value_estimated() == D("7500.00")
    assert row.known_value == opportunity.value_known() == D("7700.00")
    assert opportunity_value(opportunity) == D("7700.00")
    # An award being made counts its lot at the price chosen.
    second = opportunity.lots.get(number=2)
    assert opportunity.value_known(lot_prices={second.pk: D("2000.00")}) == D("6700.00")


def test_an_opportunity_without_lots_is_worth_its_options(officer):
    opportunity = make_opportunity(officer, "1000.00", options="250.00")
    opportunity.lots.all().delete()
    row = annotated(opportunity)
    assert row.estimated_value == row.known_value == D("250.00")
    assert opportunity.value_estimated() == opportunity.value_known() == D("250.00")


def test_the_list_annotation_reads_no_join(officer):
    """A subquery per value: annotating a list never multiplies its rows."""
    for n in range(3):
        make_opportunity(officer, "1000.00", "2000.00", "3000.00", title=f"Work {n}")
    rows = list(Opportunity.objects.with_values().order_by("pk"))
    assert len(rows) == Opportunity.objects.count() == 3
    assert {row.estimated_value for row in rows} == {D("6000.00")}
