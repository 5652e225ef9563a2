"""Lists people can work with, in a real browser (issue 16, item 2): an officer
searches and sorts the opportunities, approves two suppliers of the
verification queue for one reason, and splits a draft into lots by area in
natural order, changing one lot's value before making them."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from portal.models import BuyerOrganisation, User
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.selectors import status_of
from tests.browser import sign_in
from tests.tenders_helpers import make_opportunity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICER = "officer@demo-council.example"


@pytest.fixture
def seeded(transactional_db, in_process_tasks):
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_an_officer_searches_sorts_approves_several_and_builds_lots(page, seeded):
    officer = User.objects.get(email=OFFICER)
    make_opportunity(officer, "40000", title="Verge grass cutting")
    draft = make_opportunity(officer, "5000", title="Parks upkeep")
    sign_in(page, OFFICER)

    # Search and sort: the query stays in the box and the sort in the select.
    page.goto("/opportunities/")
    page.get_by_label("Search opportunities").fill("GRASS")
    page.get_by_label("Sort by").select_option("value")
    with page.expect_navigation():
        page.get_by_role("button", name="Show", exact=True).click()
    assert "q=GRASS" in page.url and "sort=value" in page.url
    rows = page.locator("table.govuk-table tbody tr")
    assert "Verge grass cutting" in rows.first.inner_text()
    assert "Parks upkeep" not in page.locator("table.govuk-table").inner_text()
    assert page.get_by_label("Search opportunities").input_value() == "GRASS"

    # The verification queue: two ticked, one reason, one button.
    council = BuyerOrganisation.objects.get(slug="demo-council")
    pending = [
        s
        for s in SupplierOrganisation.objects.order_by("legal_name")
        if status_of(s, council) == SupplierStatus.PENDING
    ][:2]
    assert len(pending) == 2
    page.goto("/suppliers/?status=pending&sort=name")
    page.get_by_role("button", name="Approve the suppliers ticked").click()
    assert "Choose at least one supplier" in page.locator(".govuk-error-summary").inner_text()
    for supplier in pending:
        page.get_by_label(f"Approve {supplier.legal_name}").check()
    page.get_by_label("Reason").fill("Insurance and references checked.")
    with page.expect_navigation():  # page.content() does not wait
        page.get_by_role("button", name="Approve the suppliers ticked").click()
    assert "Approved 2 suppliers" in page.content()
    for supplier in pending:
        assert status_of(supplier, council) == SupplierStatus.APPROVED

    # The lot builder: BD2 before BD10, and a lot's value changed before making it.
    page.goto(f"/opportunities/{draft.pk}/lots/areas/")
    labels = page.locator(".govuk-checkboxes__label").all_inner_texts()
    assert labels.index("BD2") < labels.index("BD10")
    page.get_by_label("Title of each lot").fill("Parks")
    page.get_by_label("Estimated value of each lot (£)").fill("4000")
    page.get_by_label("BD10", exact=True).check()
    page.get_by_label("BD2", exact=True).check()
    page.get_by_role("button", name="Continue", exact=True).click()
    assert page.get_by_label("Value of the BD2 lot (£)").input_value() == "4000.00"
    page.get_by_label("Value of the BD10 lot (£)").fill("6,500")
    with page.expect_navigation():
        page.get_by_role("button", name="Make the lots").click()
    assert "Made 2 lots" in page.content()
    assert [(lot.area, lot.estimated_value) for lot in draft.lots.all()] == [
        ("BD2", Decimal("4000.00")),
        ("BD10", Decimal("6500.00")),
    ]
