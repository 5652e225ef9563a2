"""The council's whole ledger in a real browser (issue 18): the demo officer
uploads the spending file the council publishes (Windows-1252, a £ amount,
a redacted row, a credit note, a row with a date that does not exist),
confirms the columns the portal suggests after reading the preview, watches
the import finish, confirms the supplier a misspelt payee is, sees the real
local share rise while the unknown share falls, maps the leaking category to
its CPV group and starts a draft opportunity for it, pre-filled from the
spending with the local cleaning suppliers invited.

The job runs in this process (``in_process_tasks``), as on the embedded
default; the worker's own behaviour is tested in ``test_spend_import``.

Also here: the screenshots of the dashboard and of the leakage page on the
data ``make run`` loads (``spending-*.png``: ``tests.browser.screenshot_path``)."""

from __future__ import annotations

import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from ledger.models import ImportStatus, Payee, Payment, SpendImport
from tenders.models import Invitation, Opportunity, OpportunityStatus
from tests.browser import screenshot_path, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICER = "officer@demo-council.example"

HEADERS = [
    "Transaction Date",
    "Transaction Number",
    "Supplier Name",
    "Company Registration Number",
    "Service Area",
    "Expenditure Category",
    "Net Amount",
    "Purpose",
]


def spending_file(folder: Path) -> Path:
    """A month of the council's payments as its finance system exports them:
    Windows-1252 (the £ and the dashes are single bytes), CRLF line ends.

    Line 2: a demo supplier misspelt (a fuzzy candidate, no number), £2,500.
    Line 3: a demo supplier outside the district, by its Companies House number.
    Line 4: a redacted payment to a person.
    Line 5: a credit note from the misspelt supplier, written another way.
    Line 6: a date that does not exist (refused).
    Line 7: a local firm the portal does not know, without a postcode (unknown).
    Net: £10,000 (the refused row not counted)."""
    today = timezone.localdate()
    day = [(today - datetime.timedelta(days=n)).strftime("%d/%m/%Y") for n in (30, 25, 20)]
    rows = [
        [day[0], "T1001", "Aire Vally Cleaning Ltd", "", "Facilities Management",
         "Cleaning Services", "£2,500.00", "Office cleaning – town hall"],
        [day[1], "T1002", "National Facilities Group plc", "01345679", "Facilities Management",
         "Cleaning Services", "3,000.00", "Deep clean – depot"],
        [day[1], "T1003", "Redacted Personal Data", "", "Adult Social Care",
         "Direct Payments", "1000.00", "Direct payment"],
        [day[2], "T1004", "AIRE VALLY CLEANING LIMITED", "", "Facilities Management",
         "Cleaning Services", "(£500.00)", "Credit note – missed visits"],
        ["31/02/2026", "T1005", "Thackley Joinery Ltd", "", "Highways",
         "Building Repairs", "750.00", "Gate repair"],
        [day[0], "T1006", "Thackley Joinery Ltd", "", "Property Services",
         "Building Repairs", "4,000.00", "Door repairs – library"],
    ]  # fmt: skip
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(rows)
    path = folder / "spending-november.csv"
    path.write_bytes(text.getvalue().encode("cp1252"))
    assert b"\xa3" in path.read_bytes()  # the £ as Windows-1252 writes it
    return path


@pytest.fixture
def seeded(transactional_db, in_process_tasks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


def main_text(page) -> str:
    return page.locator("main").inner_text()


def headline(page) -> dict[str, str]:
    """The dashboard's three figures, as a person reads them (once the page
    that shows them has loaded: a click does not wait for the next page)."""
    figures = page.locator(".lt-figure")
    expect(figures).to_have_count(3)
    return {
        figures.nth(i).locator("p").first.inner_text().split(",")[0]: figures.nth(i)
        .locator(".govuk-heading-xl")
        .inner_text()
        for i in range(figures.count())
    }


def test_from_the_published_file_to_a_draft_that_keeps_the_money_local(page, seeded, tmp_path):
    path = spending_file(tmp_path)
    sign_in(page, OFFICER)

    # The Spending section opens on the real local share: nothing imported yet.
    with page.expect_navigation():
        page.get_by_role("link", name="Spending", exact=True).first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "The real local share"
    assert "No spending has been imported" in main_text(page)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Spending").get_by_role(
            "link", name="Spending imports"
        ).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Spending imports"
    assert "No spending file has been imported yet." in main_text(page)

    # Uploading without a file says what is missing; then the file.
    page.get_by_role("button", name="Import a spending file").click()
    page.get_by_role("button", name="Upload and check the columns").click()
    assert "Select the spending file to upload" in page.locator(".govuk-error-summary").inner_text()
    page.get_by_label("Spending file").set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Upload and check the columns").click()

    # The columns the portal suggests from the headers, and the preview.
    assert page.get_by_role("heading", level=1).inner_text() == "Check the columns"
    main = main_text(page)
    assert "6 rows; 1 cannot be read with these columns." in main
    suggested = {
        "Transaction date": "Transaction Date",
        "Supplier (beneficiary)": "Supplier Name",
        "Amount (including irrecoverable VAT)": "Net Amount",
        "Companies House number (if the file has it)": "Company Registration Number",
        "Department or service (if the file has it)": "Service Area",
        "Procurement category (if the file has it)": "Expenditure Category",
        "Transaction number (if the file has it)": "Transaction Number",
        "Purpose (if the file has it)": "Purpose",
        "Postcode (if the file has it)": "",
    }
    for label, header in suggested.items():
        assert page.get_by_label(label, exact=True).input_value() == header, label
    preview = page.locator("#preview tbody tr")
    assert preview.count() == 6
    # The rows as they will be read: the £ and the separators, the dash of
    # Windows-1252, the credit note negative, the redaction tagged.
    first = preview.nth(0).inner_text()
    assert "Aire Vally Cleaning Ltd" in first and "£2,500.00" in first
    assert "Redacted" in preview.nth(2).inner_text()
    assert "Redacted Personal Data" not in preview.nth(2).inner_text()
    assert "−£500.00" in preview.nth(3).inner_text()  # a credit note, written as people write it
    assert "Refused" in preview.nth(4).inner_text()
    refused = page.locator("#preview-refused tbody tr")
    assert refused.count() == 1
    assert refused.first.locator("td").nth(0).inner_text() == "6"
    assert "“31/02/2026” is not a real date" in refused.first.locator("td").nth(1).inner_text()

    page.get_by_role("button", name="Import the file").click()

    # The progress page: the job has run (in this process); "Imported".
    status = page.locator("[data-field=status_label]")
    status.wait_for()
    assert status.inner_text() == "Imported"
    progress = page.locator(".govuk-summary-list").inner_text()
    assert re.search(r"Rows read\s+6 of about 6", progress)
    assert re.search(r"New payments\s+5", progress)
    assert re.search(r"Refused\s+1", progress)
    spend_import = SpendImport.objects.get(original_name="spending-november.csv")
    assert spend_import.status == ImportStatus.DONE
    assert spend_import.encoding == "cp1252"
    page.get_by_role("link", name="See the refused rows").click()
    assert "1 row" in page.locator("#refused-rows caption").inner_text()
    refused_row = page.locator("#refused-rows tbody tr").first.inner_text()
    assert refused_row.startswith("6") and "Thackley Joinery Ltd" in refused_row
    page.get_by_role("link", name="spending-november.csv").click()

    # The real local share before matching: the misspelt supplier is unknown.
    page.locator("#next-steps").get_by_role("link", name="the real local share").click()
    before = headline(page)
    assert before == {
        "Local share of all spend": "0.0%",
        "Unknown locality": "60.0%",
        "Net spend": "£10,000",
    }

    # The payees: the supplier named by its number is matched already; the
    # misspelt one waits, with the demo supplier proposed.
    with page.expect_navigation():
        page.get_by_role("link", name="Payees", exact=True).first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Payees"
    table = page.locator("main table").inner_text()
    assert "2 unmatched payees, the largest spend first" in table
    names = page.locator("main table tbody tr td:first-child").all_inner_texts()
    assert names == ["Thackley Joinery Ltd", "Aire Vally Cleaning Ltd"]
    assert "National Facilities Group plc" not in table
    with page.expect_navigation():
        page.get_by_role("link", name="Aire Vally Cleaning Ltd").click()
    assert "£2,000.00 in 2 payments" in main_text(page)
    candidates = page.get_by_role("region", name="Suppliers it may be")
    ranked = candidates.locator("tbody tr td:first-child").all_inner_texts()
    assert ranked[0] == "Aire Valley Cleaning Ltd"
    # Its standing with the council, in a column of its own, before Confirm.
    standing = candidates.locator("tbody tr").first.locator("td").nth(2).inner_text()
    assert standing.strip() == "Approved"
    # (The button's name reads "Confirm: <payee> is <supplier>" to a screen reader.)
    with page.expect_navigation():
        page.get_by_role(
            "button",
            name=re.compile(r"^Confirm\s?: Aire Vally Cleaning Ltd is Aire Valley Cleaning Ltd$"),
        ).click()
    assert (
        "Aire Vally Cleaning Ltd is Aire Valley Cleaning Ltd: every payment to it counts as the "
        "supplier's." in main_text(page)
    )
    assert Payee.objects.get(name="Aire Vally Cleaning Ltd").supplier.legal_name == (
        "Aire Valley Cleaning Ltd"
    )

    # The dashboard again: the local share has risen, the unknown share fallen.
    page.get_by_role("link", name="All payees").click()
    expect(page.locator("main table caption")).to_contain_text("1 unmatched payee,")
    page.get_by_role("link", name="The real local share").click()
    after = headline(page)
    assert after["Local share of all spend"] == "20.0%"
    assert after["Unknown locality"] == "40.0%"
    assert after["Net spend"] == "£10,000"
    row = page.locator("#figures tbody tr").first
    assert row.locator("[data-kind=local]").inner_text() == "20.0%"
    assert row.locator("[data-kind=not_local]").inner_text() == "30.0%"
    assert row.locator("[data-kind=unknown]").inner_text() == "40.0%"
    assert row.locator("[data-kind=redacted]").inner_text() == "10.0%"

    # Where it leaks: cleaning, once mapped to its CPV group.
    with page.expect_navigation():  # count() does not wait
        page.get_by_role("link", name="Where it leaks").click()
    cleaning = page.locator("[data-category='Cleaning Services']")
    assert cleaning.count() == 0  # not yet mapped to a CPV group
    mappings = page.get_by_role("region", name="Category mappings")
    cleaning_row = mappings.locator("tr", has_text="Cleaning Services")
    assert "Suggested 909" in cleaning_row.inner_text()  # from the category's words
    page.get_by_label("CPV group for Cleaning Services").fill("909")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm the CPV group for Cleaning Services").click()
    assert "Confirmed 909" in cleaning_row.inner_text()
    card = cleaning.inner_text()
    assert "£3,000.00 of £5,000.00" in card
    assert "909" in card
    assert "Aire Valley Cleaning Ltd" in card and "Eccleshill Facilities Ltd" in card
    assert "National Facilities Group plc" not in card  # outside the district
    with page.expect_navigation():
        cleaning.get_by_role("button", name="Start a draft opportunity").click()

    # The new draft: the value from the spending, the local cleaners invited.
    assert page.get_by_role("heading", level=1).inner_text() == "Cleaning Services"
    assert page.locator("#estimated-value").inner_text().startswith("£5,000.00")
    assert "Cleaning and sanitation services" in main_text(page)
    # The threshold rule decides its route, as for any draft.
    assert "May go to invited local bidders" in page.locator("#route").inner_text()
    invitations = page.locator("#invitations").inner_text()
    assert "Invited suppliers (2, 2 local)" in invitations
    assert "Aire Valley Cleaning Ltd" in invitations and "Eccleshill Facilities Ltd" in invitations
    opportunity = Opportunity.objects.get(title="Cleaning Services")
    assert opportunity.status == OpportunityStatus.DRAFT
    assert opportunity.cpv.digits.startswith("909")
    assert set(
        Invitation.objects.filter(opportunity=opportunity).values_list(
            "supplier__legal_name", flat=True
        )
    ) == {"Aire Valley Cleaning Ltd", "Eccleshill Facilities Ltd"}
    assert Payment.objects.filter(buyer=opportunity.buyer).count() == 5


# --- The screenshots, on the data ``make run`` loads ------------------------------------------


@pytest.fixture
def demo_spending(transactional_db, in_process_tasks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", "--opportunities", stdout=io.StringIO())


def test_screenshots_of_the_dashboard_and_the_leakage_page(page, demo_spending):
    sign_in(page, OFFICER)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/spending/")
    assert page.get_by_role("heading", level=1).inner_text() == "The real local share"
    assert page.locator("#local-share").inner_text().endswith("%")
    assert page.locator("#figures tbody tr").count() >= 2  # two financial years
    path = screenshot_path("spending-dashboard.png")
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000

    page.goto("/spending/leakage/")
    assert page.get_by_role("heading", level=1).inner_text() == "Where the spending leaks"
    assert page.locator("[data-category='Cleaning Services']").count() == 1
    assert page.get_by_role("button", name=re.compile("^Start a draft opportunity")).count() >= 3
    path = screenshot_path("spending-leakage.png")
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
