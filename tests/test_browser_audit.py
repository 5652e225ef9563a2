"""The demo auditor opens the local-spend dashboard and the award register
in a real browser, on the demo history that ``make run`` loads."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from portal.models import User
from tests.two_factor_helpers import code_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(transactional_db):
    call_command("seed_demo", "--opportunities", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_demo_auditor_reads_the_dashboard_and_filters_the_register(page, seeded):
    page.goto("/")
    page.get_by_label("Email address").fill("auditor@demo-council.example")
    page.get_by_label("Password").fill("demo-password-2026")
    page.get_by_role("button", name="Sign in").click()
    # The second step: the code from the auditor's authenticator app.
    page.get_by_label("Code from your authenticator app").fill(
        code_for(User.objects.get(email="auditor@demo-council.example"))
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Auditor home")

    page.get_by_role("link", name="Audit", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit")
    with page.expect_navigation():  # is_visible() and count() below do not wait
        page.get_by_role("link", name="Local spend").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Local spend"

    # The chart is an image with a name, drawn without JavaScript; the table
    # beside it holds the same figures.
    chart = page.get_by_role("img", name="Share of awarded value by financial year")
    assert chart.is_visible()
    bars = page.locator("svg.lt-chart__svg rect")
    assert bars.count() >= 6  # two years, three bars each
    table = page.locator("#by-year")
    assert "2025–26" in table.inner_text() and "2026–27" in table.inner_text()
    assert page.get_by_text("Goal 60%").is_visible()

    # One department's figures.
    page.get_by_label("Department", exact=True).select_option(label="Place")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Place")).to_be_visible()

    # The register, filtered to local suppliers in 2026–27.
    page.get_by_role("link", name="Award register").click()
    page.get_by_label("Financial year").select_option(label="2026–27")
    page.get_by_label("Local supplier").select_option(label="Yes")
    with page.expect_navigation():  # the filtered page, not the one before it
        page.get_by_role("button", name="Apply filters").click()
    caption = page.locator("caption").first.inner_text()
    assert "match" in caption
    rows = page.locator("table.lt-register tbody tr")
    assert rows.count() >= 1
    assert all("Local" in rows.nth(i).inner_text() for i in range(rows.count()))

    # From a contract to the opportunity's full history.
    with page.expect_navigation():
        rows.first.get_by_role("link").first.click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("History of")
    assert "Lot awarded" in page.locator("table.lt-history").inner_text()
