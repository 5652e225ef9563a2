"""Paper and phones, in Debian's Chromium: a bid receipt and the award register
print without the portal's header, menu, phase banner, footer, buttons and
filters; a receipt's SHA-256 fingerprints wrap on a 320px screen.

(That no page of the accessibility tests scrolls sideways at 375px or 320px is
checked with axe, in tests/test_accessibility.py.)
"""

from __future__ import annotations

import pytest

from tests.test_accessibility import (  # the same demo data and signing in as axe's pages
    WIDER_THAN_VIEWPORT,
    open_opportunity,  # noqa: F401
    person,
    seeded,  # noqa: F401
    sign_in_as,
    submit_bid,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The portal around every page, which paper does without.
AROUND = [".govuk-header", ".govuk-service-navigation", ".govuk-phase-banner", ".govuk-footer"]


def visible(page, selector: str) -> bool:
    return page.locator(selector).first.is_visible()


def assert_prints_without_portal(page, *, also_hidden: list[str], kept: list[str]) -> None:
    page.emulate_media(media="screen")
    on_screen = AROUND + also_hidden + kept
    assert [s for s in on_screen if visible(page, s)] == on_screen  # so hiding them is news
    page.emulate_media(media="print")
    assert [s for s in AROUND + also_hidden if visible(page, s)] == []
    assert [s for s in kept if visible(page, s)] == kept
    page.emulate_media(media="screen")


@pytest.fixture
def receipt_url(live_server, page, open_opportunity) -> str:  # noqa: F811
    supplier = person("supplier@aire-valley.example")
    revision = submit_bid(open_opportunity, supplier, "7500")
    sign_in_as(page, live_server, supplier)
    return (
        f"/opportunities/{open_opportunity.pk}/bids/{revision.bid_id}/receipts/{revision.number}/"
    )


def test_a_receipt_prints_without_the_portal_around_it(page, receipt_url):
    page.goto(receipt_url)
    assert_prints_without_portal(
        page,
        also_hidden=[".govuk-back-link", "text=Download this receipt as a text file"],
        kept=["h1", "#receipt-reference", "#receipt-files", ".lt-hash"],
    )


def test_the_award_register_prints_without_the_portal_or_its_filters(page, live_server, seeded):  # noqa: F811
    from devdata import demo_history

    auditor = person("auditor@demo-council.example")
    demo_history.seed(auditor.buyer, demo_history.officers())
    sign_in_as(page, live_server, auditor)
    page.goto("/audit/register/")
    assert_prints_without_portal(
        page,
        also_hidden=[
            ".lt-subnav",
            "button:has-text('Apply filters')",
            "#id_year",
            "text=Download the register as CSV",
        ],
        kept=["h1", ".lt-register", ".lt-register tbody tr"],
    )


@pytest.mark.parametrize("width", [320, 375])
def test_a_receipts_fingerprints_wrap_on_a_phone(page, receipt_url, width):
    page.set_viewport_size({"width": width, "height": 640})
    page.goto(receipt_url)
    # The fingerprint of everything submitted (issue 17) and the file's.
    hashes = page.locator(".lt-hash")
    assert hashes.count() == 2
    for index in range(2):
        fingerprint = hashes.nth(index)
        assert len(fingerprint.inner_text().strip()) == 64  # whole, not cut short
        box = fingerprint.bounding_box()
        assert box is not None
        # Inside the screen, so on more than one line (64 characters do not fit in one).
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
        font_size = fingerprint.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
        assert box["height"] > 2 * font_size, (box, font_size)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The table of files does not need its own sideways scroll either.
    table = page.locator("#receipt-files")
    assert table.evaluate("el => el.parentElement.scrollWidth <= el.parentElement.clientWidth")


LONG_EMAIL = "procurementandtenderingteam@airevalleycommercialcleaningservices.example"


def test_long_email_addresses_wrap_on_a_phone(page, receipt_url):
    """Who is signed in (in the header, for someone without a name), who submitted
    a receipt and who belongs to the organisation: a long address wraps, the page
    does not scroll sideways."""
    from portal.models import User

    User.objects.filter(email="supplier@aire-valley.example").update(email=LONG_EMAIL, full_name="")
    page.set_viewport_size({"width": 320, "height": 640})
    for url in [receipt_url, "/organisation/", "/account/"]:
        page.goto(url)
        assert page.get_by_text(LONG_EMAIL).count() >= 1, url  # shown somewhere
        assert page.evaluate(WIDER_THAN_VIEWPORT) is None, url
