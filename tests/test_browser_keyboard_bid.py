"""A supplier who uses only the keyboard signs in and submits a bid, from the
sign-in page to the receipt: Tab, typing, Enter and Space; no clicks, no
fill(). Each control reached shows where the focus is."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from portal.models import User
from tenders.models import BidRevision, Opportunity
from tenders.services import DECLARATIONS, invite, opportunity_publish
from tests.tenders_helpers import make_opportunity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUPPLIER = "supplier@aire-valley.example"  # Jo Pickles, Aire Valley Cleaning Ltd
PASSWORD = "demo-password-2026"
PDF = b"%PDF-1.4 our method statement, typed by keyboard"

FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  const label = e.labels && e.labels.length ? e.labels[0] : null;
  const mark = label && (e.type === 'checkbox' || e.type === 'radio')
    ? getComputedStyle(label, '::before') : null;
  return {
    tag: e.tagName.toLowerCase(),
    type: e.type || '',
    name: e.name || '',
    text: (e.innerText || e.value || '').trim().replace(/\\s+/g, ' ').slice(0, 80),
    label: label ? label.innerText.trim().replace(/\\s+/g, ' ') : '',
    // GOV.UK's focus styles: an outline, a box shadow, or (for links) a yellow
    // background; a checkbox shows it on its label's box.
    shown: (style.outlineStyle !== 'none' && style.outlineWidth !== '0px')
      || style.boxShadow !== 'none'
      || (mark !== null && mark.boxShadow !== 'none'),
  };
}"""


@pytest.fixture
def opportunity(transactional_db, in_process_tasks, settings, tmp_path) -> Opportunity:
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    officer = User.objects.get(email="officer@demo-council.example")
    supplier = User.objects.get(email=SUPPLIER).supplier
    opportunity = make_opportunity(officer, "8000.00", title="Library cleaning")
    invite(opportunity=opportunity, suppliers=[supplier], by=officer)
    return opportunity_publish(opportunity=opportunity, by=officer)


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, what: str, matches, *, limit: int = 80) -> dict:
    """Press Tab until the control ``matches``; fail with the route the focus took."""
    route = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        route.append(f"{element['tag']}[{element['type']}] {element['label'] or element['text']}")
        if matches(element):
            assert element["shown"], f"{what} has the focus but does not show it: {element}"
            return element
    raise AssertionError(f"Tab never reached {what}; the focus went: " + " → ".join(route))


def link(text: str):
    return lambda e: e["tag"] == "a" and e["text"].startswith(text)


def field(label: str):
    return lambda e: e["tag"] in {"input", "textarea", "select"} and e["label"].startswith(label)


def test_a_supplier_signs_in_and_bids_with_the_keyboard_only(page, opportunity):
    page.goto("/sign-in/")
    tab_to(page, "the email address", field("Email address"))
    page.keyboard.type(SUPPLIER)
    tab_to(page, "the password", field("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")  # submits the form
    # The home page ("**/" matched the sign-in page itself, before it had gone).
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    assert "Signed in as Jo Pickles" in page.locator("header").inner_text()
    # The header is tabbed through in the order it is read: the service name on
    # the left before "Sign out" on the right.
    order = []
    for _ in range(4):
        page.keyboard.press("Tab")
        order.append(focused(page)["text"])
    assert order == ["Skip to main content", "Local Tenders", "Sign out", "Home"], order

    tab_to(page, "the Opportunities menu item", link("Opportunities"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/opportunities/")
    tab_to(page, "the opportunity", lambda e: e["tag"] == "a" and opportunity.title in e["text"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/opportunities/{opportunity.pk}/")
    tab_to(page, "the bid link", link("Prepare your bid for lot 1"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/bid/")

    tab_to(page, "the price", field("Your price"))
    page.keyboard.type("7,200")
    for text in DECLARATIONS.values():
        tab_to(page, f"the declaration “{text[:30]}…”", field(text[:40]))
        page.keyboard.press("Space")
    tab_to(page, "the file input", lambda e: e["type"] == "file")
    # A keyboard user presses Enter (or Space) on the file input to open the
    # system's file dialog, which Playwright cannot drive: the file is given to
    # the focused input instead, as the dialog would.
    page.locator("input[type=file]:focus").set_input_files(
        {"name": "method.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    assert focused(page)["type"] == "file"  # the focus stays where it was
    tab_to(page, "the Submit bid button", lambda e: e["text"] == "Submit bid")
    page.keyboard.press("Enter")
    page.wait_for_url("**/receipts/1/")

    main = page.locator("main").inner_text()
    assert "Bid submitted" in main
    reference = page.locator("#receipt-reference").inner_text().strip()
    assert reference.startswith("LT-")
    revision = BidRevision.objects.get(receipt_reference=reference)
    assert revision.bid.supplier.legal_name == "Aire Valley Cleaning Ltd"
    assert revision.bid.opportunity_id == opportunity.pk
    assert revision.price == Decimal("7200.00")
    assert all(revision.declarations[key] for key in DECLARATIONS)
    (bid_file,) = revision.files.all()
    assert bid_file.original_name == "method.pdf"
