"""The README's demo walk, in a real browser, on the data ``make run`` loads
(``seed_demo --opportunities``) and with nothing but what it prints: the
logins, the password and each member of staff's authenticator secret. No
shell, no clock travel: the officer publishes the draft that may go to
invited bidders, the approver records that aggregated work is separate, two
officers open the closed box, the bids are marked and
the lot awarded, the losing supplier reads the outcome letter in the inbox
and the auditor reads the opportunity's history.

On the way it takes a screenshot of each role's home for the README
(``docs/screenshots/<role>-home.png`` with ``make screenshots``; in
``build/screenshots/`` otherwise, ``tests.browser.screenshot_path``)."""

from __future__ import annotations

import base64
import io
import re

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP

from devdata.demo_opportunities import TITLES
from tenders.models import Award, Opportunity, OpportunityStatus
from tests.browser import screenshot_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Printed:
    """What ``seed_demo --opportunities`` printed, as a newcomer reads it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.password = re.search(r"password for all: (\S+)\)", text).group(1)
        self.logins = {
            email: role.strip()
            for role, email in re.findall(r"^  (\S.{19}) (\S+@\S+)\s", text, re.MULTILINE)
        }
        self.secrets = {
            email: secret.replace(" ", "")
            for email, secret in re.findall(
                r"^  (\S+@\S+)\s+((?:[A-Z2-7]{4} ){7}[A-Z2-7]{4})$", text, re.MULTILINE
            )
        }
        self.approver = re.search(r"^The approver .*: .+, (\S+@\S+)\.$", text, re.MULTILINE)

    def first(self, role: str) -> str:
        return next(email for email, r in self.logins.items() if r == role)


@pytest.fixture
def printed(transactional_db, in_process_tasks, settings, tmp_path) -> Printed:
    settings.MEDIA_ROOT = tmp_path / "media"
    out = io.StringIO()
    call_command("seed_demo", "--opportunities", stdout=out)
    return Printed(out.getvalue())


def authenticator_code(secret: str) -> str:
    """What an authenticator app shows for the printed (base32) secret now."""
    return f"{TOTP(base64.b32decode(secret)).token():06d}"


def signed_in(browser, live_server, printed: Printed, email: str):
    """A browser window of its own, signed in as ``email`` from the printed logins."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/sign-in/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(printed.password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if email in printed.secrets:
        page.get_by_label("Code from your authenticator app").fill(
            authenticator_code(printed.secrets[email])
        )
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
    assert "/sign-in/" not in page.url, page.locator("main").inner_text()
    return page


def screenshot_home(page, role: str) -> None:
    page.goto("/")
    path = screenshot_path(f"{role}-home.png")
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


def open_opportunity(page, title: str) -> None:
    page.goto(f"/opportunities/{Opportunity.objects.get(title=title).pk}/")
    assert title in page.locator("h1").inner_text()


def test_the_readme_demo_walk_from_the_printed_logins(browser, live_server, printed):
    # Every login the walk uses is printed, staff with their authenticator secret.
    officer = printed.first("Procurement officer")
    officers = [e for e, r in printed.logins.items() if r == "Procurement officer"]
    second = next(e for e in officers if e != officer)
    auditor, admin = printed.first("Auditor"), printed.first("Administrator")
    supplier = printed.first("Supplier")
    assert {officer, second, auditor, admin} <= set(printed.secrets)
    assert printed.approver is not None and printed.approver.group(1) == second
    for title in TITLES.values():
        assert title in printed.text

    # The officer publishes the draft that may go to invited bidders.
    page = signed_in(browser, live_server, printed, officer)
    screenshot_home(page, "officer")
    open_opportunity(page, TITLES["draft"])
    with page.expect_navigation():
        page.get_by_role("button", name="Publish and invite").click()
    assert "is open for bids" in page.locator("main").inner_text()

    # The closed box: the first officer confirms, the bids stay sealed …
    open_opportunity(page, TITLES["closed"])
    assert (
        page.locator("#box-state").inner_text()
        == "Closed: waiting for two officers to open the bids."
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Open the bids").click()
    assert "a second officer must confirm" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Evaluation of lot 1").count() == 0

    # … and the second officer, in a window of their own, opens it. They are
    # the approver, too: the care draft sent to full tender only because other
    # care work adds up may go to invited bidders once they record why it is separate.
    other = signed_in(browser, live_server, printed, second)
    open_opportunity(other, TITLES["aggregated"])
    other.get_by_label("Why is this work genuinely separate?").fill(
        "Shipley's visits are commissioned apart from Keighley's home support."
    )
    with other.expect_navigation():
        other.get_by_role("button", name="Record that the work is separate").click()
    assert "It may now go to invited bidders." in other.locator("main").inner_text()
    open_opportunity(other, TITLES["closed"])
    with other.expect_navigation():
        other.get_by_role("button", name="Confirm the opening as the second officer").click()
    assert "The bids are open." in other.locator("main").inner_text()
    other.context.close()

    # The first officer marks both bids and awards the lot.
    open_opportunity(page, TITLES["closed"])
    page.get_by_role("link", name="Evaluation of lot 1").click()
    for name, mark, comment in [
        ("Manningham Cleaning Co-operative Ltd", "90", "A thorough method and a local team."),
        ("Aire Valley Cleaning Ltd", "60", "Thin on cover for staff holidays."),
    ]:
        page.get_by_role("link", name=name).click()
        page.get_by_label("Quality of service: mark (%)").fill(mark)
        page.get_by_label("Quality of service: comment").fill(comment)
        with page.expect_navigation():
            page.get_by_role("button", name="Save the mark for Quality of service").click()
        assert f"Mark saved: {mark}% for Quality of service" in page.locator("main").inner_text()
        page.get_by_role("link", name="Back to the evaluation of lot 1").click()
    page.get_by_role("link", name="award lot 1").click()
    page.get_by_label("Reasons for the award").fill("Best quality for a fair price.")
    for field, day in [("start_date", (1, 4, 2027)), ("end_date", (31, 3, 2028))]:
        for n, part in enumerate(day):
            page.locator(f"#id_{field}_{n}").fill(str(part))
    with page.expect_navigation():
        page.get_by_role("button", name="Award the lot").click()
    assert "Lot 1 is awarded to Manningham Cleaning Co-operative Ltd" in (
        page.locator("main").inner_text()
    )
    page.context.close()
    closed = Opportunity.objects.get(title=TITLES["closed"])
    assert closed.status == OpportunityStatus.AWARDED
    assert Award.objects.get(lot__opportunity=closed).bid.supplier.legal_name == (
        "Manningham Cleaning Co-operative Ltd"
    )

    # The supplier who lost reads the outcome letter in the inbox.
    page = signed_in(browser, live_server, printed, supplier)
    screenshot_home(page, "supplier")
    page.goto("/inbox/")
    letters = page.get_by_role("link", name=re.compile("Your bid was not successful"))
    assert letters.count() == 2  # the demo's awarded opportunity and this one
    with page.expect_navigation():
        letters.first.click()
    letter = page.locator("main").inner_text()
    assert TITLES["closed"] in letter
    assert "ranked 2 of 2" in letter and "Best quality for a fair price." in letter
    # The evaluators' comment on its bid, and the winner's name.
    assert "Thin on cover for staff holidays." in letter
    assert "Manningham Cleaning Co-operative Ltd" in letter
    page.context.close()

    # The auditor reads the opportunity's history, from publishing to award.
    page = signed_in(browser, live_server, printed, auditor)
    screenshot_home(page, "auditor")
    page.goto(f"/audit/opportunities/{closed.pk}/history/")
    history = page.locator("main").inner_text()
    assert closed.reference in history
    for who in ["Priya Shah", "Tom Hughes"]:
        assert who in history
    page.context.close()

    # The administrator's home.
    page = signed_in(browser, live_server, printed, admin)
    screenshot_home(page, "admin")
    page.context.close()
