"""axe-core (through Playwright, in Debian's Chromium) on the key pages of every
role, and on the forms' error states: no violation of WCAG 2.0, 2.1 or 2.2 at
level A or AA.

People other than anonymous visitors are signed in with a session cookie made
here (as the test client's force_login does), so these tests do not depend on
how the sign-in page works; the sign-in page is checked on its own.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from portal.models import User
from tenders.models import Opportunity
from tenders.services import (
    DECLARATIONS,
    bid_add_file,
    bid_save_draft,
    bid_start,
    bid_submit,
    box_open,
    clarification_ask,
    invite,
    opportunity_publish,
)
from tests.evaluation_helpers import add_questionnaire, answered_bid
from tests.evaluation_report_helpers import marked, set_standstill
from tests.tenders_helpers import approved_supplier, contract_period, make_opportunity
from tests.two_factor_helpers import verified_force_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()
PDF = b"%PDF-1.4 our method statement"


# --- Running axe and saying what it found -----------------------------------------------------


def axe_violations(page) -> list[dict]:
    results = AXE.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations"],
        },
    )
    return results.response["violations"]


def describe(name: str, url: str, violations: list[dict]) -> str:
    lines = [f"{name} ({url}): {len(violations)} violation(s)"]
    for violation in violations:
        lines.append(
            f"  - {violation['id']} [{violation['impact']}] {violation['help']}"
            f" ({violation['helpUrl'].split('?')[0]})"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"      at {', '.join(map(str, node['target']))}")
            lines.append(f"         {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"         {summary[:300]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"      … and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


# The page's width against the viewport's; when wider, the outermost elements that
# stick out on the right (where the overflow starts) and the widest of all.
WIDER_THAN_VIEWPORT = """() => {
  const width = window.innerWidth;
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth <= width) return null;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("");
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      parts.unshift(name(e));
    }
    return parts.join(" > ");
  };
  const right = (el) => el.getBoundingClientRect().right;
  const fits = (el) => right(el) <= width + 0.5;
  // Inside a box that scrolls (or clips) and itself fits, an element is no trouble.
  const clipped = (el) => {
    for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
      if (getComputedStyle(e).overflowX !== "visible" && fits(e)) return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll("*")]
    .filter((el) => !fits(el) && !clipped(el));
  const outermost = wide.filter((el) => !el.parentElement || fits(el.parentElement));
  const widest = wide.reduce((a, b) => (right(b) > right(a) ? b : a), wide[0] || document.body);
  const say = (el) => `${path(el)} (right edge ${Math.round(right(el))}px): `
    + JSON.stringify((el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 80));
  return `page ${scrollWidth}px wide in a ${width}px viewport (sideways scroll); `
    + `sticking out: ${outermost.slice(0, 5).map(say).join("; ")}; widest: ${say(widest)}`;
}"""


class Audit:
    """Visits pages and keeps what axe found on each, to report all at once."""

    def __init__(self, page) -> None:
        self.page = page
        self.found: list[str] = []
        self.checked: list[str] = []

    def check(self, name: str, *, expect_error_summary: bool = False) -> None:
        page = self.page
        page.wait_for_load_state("load")
        if expect_error_summary:
            assert page.locator(".govuk-error-summary").count() == 1, f"{name}: no error summary"
        # Every page must have a level-1 heading (checked by axe as best practice only).
        assert page.locator("h1").count() >= 1, f"{name}: no h1"
        violations = axe_violations(page)
        self.checked.append(name)
        if violations:
            self.found.append(describe(name, page.url, violations))
        self.check_reflow(name)

    def check_reflow(self, name: str) -> None:
        """No sideways scroll of the page at a phone's width: at 320px when the
        test already runs there, otherwise at 375px (and back again)."""
        page = self.page
        size = page.viewport_size
        narrow = size is not None and size["width"] <= 375
        if not narrow:
            page.set_viewport_size({"width": 375, "height": 640})
        overflow = page.evaluate(WIDER_THAN_VIEWPORT)
        if not narrow:
            page.set_viewport_size(size)
        if overflow:
            self.found.append(f"{name} ({page.url}): {overflow}")

    def visit(self, name: str, url: str, *, status: int = 200) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == status, f"{name}: {url} gave {response}"
        # Not redirected elsewhere (to signing in, say): the page itself is checked.
        assert urlsplit(self.page.url).path == urlsplit(url).path, f"{name}: {self.page.url}"
        self.check(name)

    def submit(self, name: str, button: str) -> None:
        """Press the form's button with nothing (more) filled in: the error state."""
        self.page.get_by_role("button", name=button, exact=True).first.click()
        self.check(name, expect_error_summary=True)

    def assert_clean(self) -> None:
        assert not self.found, (
            f"axe found WCAG A/AA violations (or the page scrolls sideways) on "
            f"{len(self.found)} of {len(self.checked)} pages:\n\n" + "\n\n".join(self.found)
        )
        assert self.checked


@pytest.fixture(params=[None, 320], ids=["desktop", "320px"])
def width(request, page):
    """Each page as on a desktop, and at 320 CSS pixels wide (WCAG reflow: a
    phone, or a desktop zoomed to 400%), where links wrap and crowd."""
    if request.param:
        page.set_viewport_size({"width": request.param, "height": 640})
    return request.param


# --- Signing in with a session cookie -----------------------------------------------------------


def sign_in_as(page, live_server, user: User) -> None:
    client = verified_force_login(Client())  # council staff: past the second step too
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


# --- The data the pages show --------------------------------------------------------------------


@pytest.fixture
def seeded(transactional_db, in_process_tasks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


def person(email: str) -> User:
    return User.objects.get(email=email)


@pytest.fixture
def open_opportunity(seeded) -> Opportunity:
    """Open for bids; the local demo supplier is invited, has asked a question
    and has submitted a bid."""
    officer = person("officer@demo-council.example")
    supplier = person("supplier@aire-valley.example")
    opportunity = make_opportunity(officer, "8000.00", title="Library cleaning")
    invite(opportunity=opportunity, suppliers=[supplier.supplier], by=officer)
    opportunity = opportunity_publish(opportunity=opportunity, by=officer)
    clarification_ask(opportunity=opportunity, by=supplier, question="Is there parking?")
    return opportunity


def submit_bid(opportunity: Opportunity, user: User, price: str):
    bid = bid_start(lot=opportunity.lots.get(), by=user)
    bid_save_draft(
        bid=bid, by=user, price=Decimal(price), declarations=dict.fromkeys(DECLARATIONS, True)
    )
    bid_add_file(bid=bid, by=user, upload=SimpleUploadedFile("method.pdf", PDF))
    return bid_submit(bid=bid, by=user)


@pytest.fixture
def opened_opportunity(seeded) -> Opportunity:
    """Two bids, the deadline passed, the box opened by two officers."""
    officer = person("officer@demo-council.example")
    second = person("officer2@demo-council.example")
    approved_supplier("Manningham Cleaners", "BD8 7AA")
    approved_supplier("Saltaire Shine", "BD18 3LA")
    opportunity = make_opportunity(officer, "8000.00", title="Office cleaning")
    bidders = [person("bids@manningham-cleaners.example"), person("bids@saltaire-shine.example")]
    invite(opportunity=opportunity, suppliers=[b.supplier for b in bidders], by=officer)
    opportunity = opportunity_publish(opportunity=opportunity, by=officer)
    for bidder, price in zip(bidders, ["7200", "6400"], strict=True):
        submit_bid(opportunity, bidder, price)
    past = timezone.now() - datetime.timedelta(minutes=1)
    Opportunity.objects.filter(pk=opportunity.pk).update(
        clarification_deadline=past - datetime.timedelta(days=1), submission_deadline=past
    )
    opportunity.refresh_from_db()
    box_open(opportunity=opportunity, by=officer)
    box_open(opportunity=opportunity, by=second)
    opportunity.refresh_from_db()
    return opportunity


# --- The pages ----------------------------------------------------------------------------------


def test_anonymous_pages_and_their_errors(page, width, seeded):
    audit = Audit(page)
    audit.visit("Sign in", "/sign-in/")
    audit.submit("Sign in, nothing typed", "Sign in")
    page.get_by_label("Email address").fill("officer@demo-council.example")
    page.get_by_label("Password").fill("not the password")
    audit.submit("Sign in, wrong password", "Sign in")
    audit.visit("Password reset", "/password-reset/")
    audit.submit("Password reset, nothing typed", "Send reset link")
    audit.visit("Supplier registration", "/register/")
    audit.submit("Supplier registration, nothing typed", "Register")
    audit.visit("CPV finder", "/cpv/")
    audit.visit("CPV finder with results", "/cpv/?q=cleaning")
    audit.assert_clean()


def test_supplier_pages_and_their_errors(page, width, live_server, open_opportunity):
    supplier = person("supplier@aire-valley.example")
    sign_in_as(page, live_server, supplier)
    opportunity = open_opportunity
    lot = opportunity.lots.get()
    audit = Audit(page)
    audit.visit("Supplier home", "/")
    audit.visit("Opportunities", "/opportunities/")
    audit.visit("Opportunities, searched and sorted", "/opportunities/?q=library&sort=title")
    audit.visit("Opportunity", f"/opportunities/{opportunity.pk}/")
    audit.submit("Opportunity, empty question", "Send your question")
    audit.visit("Bid form", f"/opportunities/{opportunity.pk}/lots/{lot.pk}/bid/")
    audit.submit("Bid form, submitted empty", "Submit bid")
    revision = submit_bid(opportunity, supplier, "7500")
    audit.visit(
        "Receipt",
        f"/opportunities/{opportunity.pk}/bids/{revision.bid_id}/receipts/{revision.number}/",
    )
    audit.visit(
        "Bid form with a submitted version", f"/opportunities/{opportunity.pk}/lots/{lot.pk}/bid/"
    )
    draft_file = revision.bid.files.get(revision__isnull=True)
    audit.visit(
        "Remove a file from the draft, asked first",
        f"/opportunities/{opportunity.pk}/lots/{lot.pk}/bid/files/{draft_file.pk}/remove/",
    )
    audit.visit("Organisation", "/organisation/")
    audit.visit("Organisation, edit", "/organisation/edit/")
    page.get_by_label("Legal name").fill("")
    audit.submit("Organisation, edit, no name", "Save changes")
    audit.visit("People", "/organisation/people/")
    audit.visit("Invite a colleague", "/organisation/people/invite/")
    audit.submit("Invite a colleague, nothing typed", "Send invitation")
    audit.visit("Add an address", "/organisation/addresses/add/")
    audit.submit("Add an address, nothing typed", "Save address")
    audit.visit("Inbox", "/inbox/")
    audit.visit("Account", "/account/")
    audit.visit("Change password", "/account/password/")
    audit.submit("Change password, nothing typed", "Change password")
    audit.visit("Email preferences", "/account/notifications/")
    audit.assert_clean()


def test_officer_pages_and_their_errors(
    page, width, live_server, open_opportunity, opened_opportunity
):
    officer = person("officer@demo-council.example")
    sign_in_as(page, live_server, officer)
    audit = Audit(page)
    audit.visit("Officer home", "/")
    audit.visit("Opportunities", "/opportunities/")
    audit.visit("New opportunity", "/opportunities/new/")
    audit.submit("New opportunity, nothing typed", "Save and check the route")
    draft = make_opportunity(officer, "8000.00", title="Park cleaning")
    audit.visit("Draft opportunity", f"/opportunities/{draft.pk}/")
    audit.visit("Work added up", f"/opportunities/{draft.pk}/work-added-up/")
    audit.visit("Edit a draft", f"/opportunities/{draft.pk}/edit/")
    audit.visit("Lot builder", f"/opportunities/{draft.pk}/lots/areas/")
    audit.submit("Lot builder, nothing typed", "Continue")
    page.get_by_label("Title of each lot").fill("Grounds")
    page.get_by_label("Estimated value of each lot (£)").fill("4000")
    page.get_by_label("BD2", exact=True).check()
    page.get_by_label("BD10", exact=True).check()
    page.get_by_role("button", name="Continue", exact=True).click()
    audit.check("Lot builder, each lot's value")
    page.get_by_label("Value of the BD10 lot (£)").fill("")
    audit.submit("Lot builder, a lot's value left empty", "Make the lots")
    audit.visit("Invite suppliers", f"/opportunities/{draft.pk}/invite/")
    audit.submit("Invite suppliers, none chosen", "Invite the suppliers ticked")
    audit.visit("Cancel a draft", f"/opportunities/{draft.pk}/cancel/")
    audit.submit("Cancel a draft, no reason", "Cancel the opportunity")
    # issue 17: the questionnaire and pricing schedule
    add_questionnaire(draft)
    audit.visit("Questionnaire", f"/opportunities/{draft.pk}/questionnaire/")
    audit.visit("Add a question", f"/opportunities/{draft.pk}/questionnaire/questions/add/")
    audit.submit("Add a question, nothing typed", "Add the question")
    audit.visit("Open opportunity", f"/opportunities/{open_opportunity.pk}/")
    audit.submit("Open opportunity, empty answer", "Send answer")
    audit.visit("Extend the deadline", f"/opportunities/{open_opportunity.pk}/deadline/")
    audit.submit("Extend the deadline, nothing typed", "Extend the deadline")
    audit.visit("Correct the details", f"/opportunities/{open_opportunity.pk}/correct/")
    audit.visit("Change the value", f"/opportunities/{open_opportunity.pk}/value/")
    audit.submit("Change the value, no reason", "Change the value")

    opened = opened_opportunity
    lot = opened.lots.get()
    bid = opened.bids.first()
    audit.visit("Opened opportunity", f"/opportunities/{opened.pk}/")
    audit.visit("Evaluation", f"/opportunities/{opened.pk}/lots/{lot.pk}/evaluation/")
    audit.visit("Bid", f"/opportunities/{opened.pk}/bids/{bid.pk}/")
    audit.submit("Bid, empty mark", "Save the mark for Quality")
    audit.visit("Award", f"/opportunities/{opened.pk}/lots/{lot.pk}/award/")
    audit.submit("Award, nothing typed", "Award the lot")

    supplier = person("supplier@aire-valley.example").supplier
    audit.visit("Supplier directory", "/suppliers/")
    audit.visit("Supplier directory, filtered", "/suppliers/?q=cleaning&only=local")
    audit.visit("Supplier directory, sorted by district", "/suppliers/?sort=district")
    audit.visit("Verification queue", "/suppliers/?status=pending")
    audit.submit("Verification queue, none ticked", "Approve the suppliers ticked")
    audit.visit("Opportunities, searched and sorted", "/opportunities/?q=cleaning&sort=value")
    audit.visit("Supplier", f"/suppliers/{supplier.pk}/")
    audit.submit("Supplier, decision without a reason", "Save decision")
    audit.visit("Locality", "/council/locality/")
    audit.visit("Policy", "/council/policy/")
    audit.visit("Full tender register", "/council/policy/full-tender/")
    audit.visit("Inbox", "/inbox/")
    # A button's address asked for by GET (a reload, signing in again): its own page.
    audit.visit("A button's address", f"/opportunities/{open_opportunity.pk}/publish/", status=405)
    audit.assert_clean()


def test_auditor_pages_and_their_errors(page, width, live_server, seeded):
    from devdata import demo_history
    from tenders.models import Contract

    buyer = person("auditor@demo-council.example").buyer
    demo_history.seed(buyer, demo_history.officers())
    contract = Contract.objects.filter(buyer=buyer).select_related("award__lot").first()
    sign_in_as(page, live_server, person("auditor@demo-council.example"))
    audit = Audit(page)
    audit.visit("Auditor home", "/")
    audit.visit("Award register", "/audit/register/")
    audit.visit("Award register, filtered", "/audit/register/?year=2025&local=yes&band=30k-100k")
    page.goto("/audit/register/?year=1066")
    audit.check("Award register, a bad filter", expect_error_summary=True)
    audit.visit("Invitations to tender", "/audit/invitations-to-tender/")
    page.goto("/audit/invitations-to-tender/?quarter=1999-9")
    audit.check("Invitations to tender, a bad quarter", expect_error_summary=True)
    audit.visit("Local spend", "/audit/local-spend/")
    page.goto("/audit/local-spend/?department=999999")
    audit.check("Local spend, a bad department", expect_error_summary=True)
    audit.visit("Flags", "/audit/flags/")
    audit.visit("Flags, splitting", "/audit/flags/?flag=possible-splitting")
    opportunity = contract.award.lot.opportunity_id
    audit.visit("Opportunity history", f"/audit/opportunities/{opportunity}/history/")
    audit.visit("Supplier history", f"/audit/suppliers/{contract.supplier_id}/history/")
    audit.visit("Audit overview", "/audit/")
    audit.visit("Audit overview, a search", "/audit/?q=clean&supplier=valley")
    from transparency.flags import flag_report

    report = flag_report(buyer)
    flagged = report.page.object_list[0]
    kind = report.selected.kind.key
    audit.visit("Flag review", f"/audit/flags/{kind}/{flagged.record_id}/review/")
    audit.submit("Flag review, no note", "Mark as reviewed")
    audit.assert_clean()


def test_two_factor_pages_and_their_errors(page, width, live_server, seeded):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    # The second step, as the demo officer meets it after their password.
    officer = person("officer@demo-council.example")
    client = Client()
    client.force_login(officer)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    audit = Audit(page)
    audit.visit("Enter your code", "/sign-in/two-factor/")
    audit.submit("Enter your code, empty", "Continue")
    audit.visit("Use a recovery code", "/sign-in/two-factor/recovery-code/")
    # Set-up, for a member of staff without an authenticator app yet.
    TOTPDevice.objects.filter(user=officer).delete()
    audit.visit("Set up your authenticator app", "/sign-in/two-factor/set-up/")
    audit.assert_clean()


def test_administrator_pages_and_their_errors(page, width, live_server, seeded):
    sign_in_as(page, live_server, person("admin@demo-council.example"))
    audit = Audit(page)
    audit.visit("Administrator home", "/")
    audit.visit("Locality, editable", "/council/locality/")
    page.get_by_label("Postcode districts").fill("")
    audit.submit("Locality, emptied", "Save locality")
    audit.visit("Policy", "/council/policy/")
    audit.visit("New policy version", "/council/policy/new/")
    page.get_by_label("Local threshold").fill("")
    audit.submit("New policy version, no date or threshold", "Save the new version")
    audit.visit("Supplier directory", "/suppliers/")
    audit.assert_clean()


def test_outcome_letter_pages(page, width, live_server, opened_opportunity):
    """The unsuccessful bidder's outcome letter (issue 16): its page and its inbox copy."""
    from portal.models import InboxMessage
    from tenders.services import award_lot, score_set

    officer = person("officer@demo-council.example")
    opened = opened_opportunity
    quality = opened.criteria.get(is_price=False)
    for bid in opened.bids.all():
        score_set(
            bid=bid, criterion=quality, mark=Decimal("60"), comment="Sound & clear.", by=officer
        )
    award_lot(
        lot=opened.lots.get(),
        by=officer,
        reasons="Best value.",
        **contract_period(opened),
    )
    loser = person("bids@manningham-cleaners.example")
    sign_in_as(page, live_server, loser)
    audit = Audit(page)
    audit.visit("Outcome letter", f"/opportunities/{opened.pk}/outcome/")
    assert page.get_by_role("button", name="Print this letter").is_visible()
    letter = InboxMessage.objects.filter(recipient=loser).latest("pk")
    audit.visit("Outcome letter in the inbox", f"/inbox/{letter.pk}/")
    # The council's copy of every letter sent.
    sign_in_as(page, live_server, officer)
    lot = opened.lots.get()
    audit.visit("Outcome letters sent", f"/opportunities/{opened.pk}/lots/{lot.pk}/letters/")
    audit.assert_clean()


def test_check_your_email_pages(page, width, seeded):
    """After registering (issue 16): the check-your-email page, and the same
    page once the link has been sent again; and the CPV finder's everyday words."""
    from cpv.services import synonyms_load

    synonyms_load()  # the portal's everyday words, for the codes the demo loads
    audit = Audit(page)
    audit.visit("CPV finder, everyday words", "/cpv/?q=grass+cutting")
    assert page.locator("table tbody tr").count() >= 1
    page.goto("/register/")
    page.get_by_label("Legal name").fill("Girlington Gardens CIC")
    page.get_by_role("group", name="Is it a small or medium-sized enterprise (SME)?").get_by_label(
        "Yes"
    ).check()
    page.get_by_role(
        "group", name="Is it a voluntary, community or social enterprise (VCSE)?"
    ).get_by_label("No").check()
    page.get_by_label("Address line 1").fill("2 Girlington Road")
    page.get_by_label("Town or city").fill("Bradford")
    page.get_by_label("Postcode").fill("BD8 9NN")
    page.get_by_label("Categories of work").fill("90910000-9")
    page.get_by_label("Your full name").fill("Nadia Khan")
    page.get_by_label("Your email address").fill("nadia@girlington-gardens.example")
    page.get_by_label("Create a password").fill("green shoots grow slowly")
    page.get_by_label("Confirm your password").fill("green shoots grow slowly")
    with page.expect_navigation():
        page.get_by_role("button", name="Register").click()
    assert page.url.endswith("/register/check-email/")
    audit.check("Check your email")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the link again").click()
    assert page.get_by_role("alert").count() == 1
    audit.check("Check your email, link sent again")
    audit.assert_clean()


# --- issue 17: the questionnaire answered, the panel, moderation and the award steps ------------


@pytest.fixture
def panel_opportunity(seeded) -> Opportunity:
    """A questionnaire answered by two bidders, the box opened by two officers,
    and a panel (Priya Shah evaluates and moderates, Tom Hughes evaluates) that
    has finished marking: moderation is open. Tom's mark for Manningham's first
    answer is far from Priya's, so a reason is needed there. A standstill of 3 days."""
    from tenders.models import EvaluatorMark

    officer = person("officer@demo-council.example")
    second = person("officer2@demo-council.example")
    approved_supplier("Manningham Cleaners", "BD8 7AA")
    approved_supplier("Saltaire Shine", "BD18 3LA")
    opportunity = make_opportunity(officer, "8000.00", title="Library cleaning")
    add_questionnaire(opportunity)
    bidders = [person("bids@manningham-cleaners.example"), person("bids@saltaire-shine.example")]
    invite(opportunity=opportunity, suppliers=[b.supplier for b in bidders], by=officer)
    opportunity = opportunity_publish(opportunity=opportunity, by=officer)
    answered_bid(opportunity, bidders[0], rates=("95.50", "20.15"))
    answered_bid(opportunity, bidders[1], rates=("89.99", "24.00"))
    past = timezone.now() - datetime.timedelta(minutes=1)
    Opportunity.objects.filter(pk=opportunity.pk).update(
        clarification_deadline=past - datetime.timedelta(days=1), submission_deadline=past
    )
    opportunity.refresh_from_db()
    box_open(opportunity=opportunity, by=officer)
    box_open(opportunity=opportunity, by=second)
    marked(
        opportunity,
        [officer, second],
        officer,
        {"Manningham Cleaners": 5, "Saltaire Shine": 3},
        agree=False,
    )
    EvaluatorMark.objects.filter(
        member__officer=second, bid__supplier__legal_name="Manningham Cleaners", question__number=1
    ).update(mark=1)
    set_standstill(opportunity, 3)
    opportunity.refresh_from_db()
    return opportunity


def test_evaluation_pages_and_their_errors(page, width, live_server, panel_opportunity):
    from tenders.models import PanelMember

    supplier = person("supplier@aire-valley.example")
    officer = person("officer@demo-council.example")
    # The supplier's bid page with a questionnaire and a pricing schedule, and the
    # check page listing what is missing.
    draft = make_opportunity(officer, "6000.00", title="Museum cleaning")
    add_questionnaire(draft)
    invite(opportunity=draft, suppliers=[supplier.supplier], by=officer)
    draft = opportunity_publish(opportunity=draft, by=officer)
    lot = draft.lots.get()
    bid_start(lot=lot, by=supplier)
    sign_in_as(page, live_server, supplier)
    audit = Audit(page)
    bid_page = f"/opportunities/{draft.pk}/lots/{lot.pk}/bid/"
    audit.visit("Bid form with a questionnaire", bid_page)
    question = draft.questions.order_by("number").first()
    page.locator(f"#id_answer_{question.pk}").fill("word " * 301)
    page.get_by_label("Rate for line 1: Cleaning visit (£ per visit)").fill("95.50")
    # Leaving the answer box saves it in the background: let that land before the
    # form is posted (on SQLite the live server's threads share one connection).
    page.wait_for_load_state("networkidle")
    audit.submit("Bid form with a questionnaire, an answer over its limit", "Save draft")
    audit.visit("Check your bid, with problems", f"{bid_page}check/")
    assert page.locator("#problems").count() == 1

    opportunity = panel_opportunity
    lot = opportunity.lots.get()
    manningham = opportunity.bids.get(supplier__legal_name="Manningham Cleaners")
    sign_in_as(page, live_server, officer)
    base = f"/opportunities/{opportunity.pk}"
    audit.visit("Evaluation panel", f"{base}/panel/")
    audit.visit("Declaration of interest, made", f"{base}/panel/declaration/")
    # Marking, as an evaluator who has not finished yet.
    member = PanelMember.objects.filter(opportunity=opportunity, officer=officer)
    finished = member.get().finished_at
    member.update(finished_at=None)
    audit.visit("Your marking", f"{base}/marking/")
    audit.visit("Marking a bid", f"{base}/marking/bids/{manningham.pk}/")
    page.get_by_label("Question 1: comment").fill("")
    audit.submit("Marking a bid, a mark without a comment", "Save your marks")
    audit.visit("Finish marking", f"{base}/marking/finish/")
    member.update(finished_at=finished)
    audit.visit("Moderation", f"{base}/moderation/")
    audit.visit("Moderating a bid", f"{base}/moderation/bids/{manningham.pk}/")
    group = page.get_by_role("group", name="Question 1: mark")
    group.get_by_label("3: Satisfactory: meets the requirement").check()
    page.get_by_label("Question 1: comment").fill("Sound.")
    audit.submit("Moderating a bid, no reason where the marks differ", "Save the moderated marks")
    audit.visit("Evaluation report", f"{base}/evaluation-report/")
    audit.visit("Intention to award", f"{base}/lots/{lot.pk}/intention/")
    audit.submit("Intention to award, no reasons", "Send the letters of intention")
    audit.visit("Challenges", f"{base}/challenges/")
    audit.submit("Challenges, nothing typed", "Record the challenge")
    audit.assert_clean()


# --- issue 18: figures: the real local share and where it leaks ---------------------------------


def test_spending_figures_pages(page, width, live_server, seeded):
    from tests import ledger_figures_helpers as h

    officer = person("officer@demo-council.example")
    buyer = officer.buyer
    local = person("supplier@aire-valley.example").supplier
    distant = person("sales@leeds-office.example").supplier
    source = h.spend_import(buyer, officer)
    day = timezone.localdate() - datetime.timedelta(days=20)
    h.mapped(buyer, "Cleaning", "909")
    h.pay(
        source,
        h.payee(buyer, "Aire Valley Cleaning", supplier=local),
        "900.00",
        day,
        category="Cleaning",
        department="Facilities",
    )
    h.pay(
        source,
        h.payee(buyer, "Leeds Office Supplies", supplier=distant),
        "2500.00",
        day,
        category="Cleaning",
        department="Facilities",
    )
    h.pay(source, h.payee(buyer, "Unknown Payee"), "120.00", day, category="Stationery")
    h.pay(source, None, "60.00", day)
    sign_in_as(page, live_server, officer)
    audit = Audit(page)
    audit.visit("The real local share", "/spending/")
    audit.visit("The real local share, by category", "/spending/?group_by=category")
    page.goto("/spending/?year=1066")
    audit.check("The real local share, a bad year", expect_error_summary=True)
    audit.visit("Where it leaks", "/spending/leakage/")
    page.get_by_label("CPV group for Stationery").fill("9x9")
    audit.submit("Where it leaks, a bad CPV group", "Confirm the CPV group for Stationery")
    audit.visit("The network", "/spending/network/")
    audit.assert_clean()


# --- issue 18: the spending imports, the payees and the network ---------------------------------


def test_spending_import_and_payee_pages(page, width, live_server, seeded, tmp_path):
    from ledger.models import ImportStatus, Payee, SpendImport
    from ledger.services.figures import network_share_set
    from ledger.services.imports import import_start, import_upload
    from tests.test_browser_spending import spending_file

    officer = person("officer@demo-council.example")
    path = spending_file(tmp_path)
    columns = {
        "transaction_date": "Transaction Date",
        "payee": "Supplier Name",
        "amount": "Net Amount",
        "companies_house_number": "Company Registration Number",
        "category": "Expenditure Category",
    }

    def uploaded(name: str) -> SpendImport:
        upload = SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")
        return import_upload(buyer=officer.buyer, upload=upload, by=officer)

    # One file imported (the job runs in this process), one queued for a
    # worker, one with its columns to confirm.
    done = import_start(spend_import=uploaded("november.csv"), columns=columns, by=officer)
    done.refresh_from_db()
    assert done.status == ImportStatus.DONE
    queued = import_start(
        spend_import=uploaded("november-again.csv"), columns=columns, by=officer, queue=False
    )
    waiting = uploaded("november-once-more.csv")
    network_share_set(buyer=officer.buyer, shared=True, by=person("admin@demo-council.example"))
    misspelt = Payee.objects.get(name="Aire Vally Cleaning Ltd")
    matched = Payee.objects.get(name="National Facilities Group plc")
    assert matched.supplier_id is not None

    sign_in_as(page, live_server, officer)
    audit = Audit(page)
    audit.visit("Spending imports", "/spending/imports/")
    audit.visit("Import a spending file", "/spending/imports/new/")
    audit.submit("Import a spending file, no file", "Upload and check the columns")
    page.get_by_label("Spending file").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a spending file"}
    )
    audit.submit("Import a spending file, not a CSV", "Upload and check the columns")
    audit.visit("Check the columns, with the preview", f"/spending/imports/{waiting.pk}/")
    page.get_by_label("Transaction date", exact=True).select_option("")
    audit.submit("Check the columns, no date column", "Import the file")
    audit.visit("An import waiting for a worker", f"/spending/imports/{queued.pk}/")
    audit.visit("An import finished", f"/spending/imports/{done.pk}/")
    audit.visit("The rows refused", f"/spending/imports/{done.pk}/refused/")
    audit.visit("Withdraw an import", f"/spending/imports/{done.pk}/withdraw/")
    audit.submit("Withdraw an import, no reason", "Withdraw the import")
    audit.visit("Payees not matched", "/spending/payees/")
    audit.visit("Payees matched", "/spending/payees/?show=matched")
    audit.visit("A payee with candidates", f"/spending/payees/{misspelt.pk}/")
    audit.submit("A payee, inviting without an address", "Invite them to register")
    audit.visit("A matched payee", f"/spending/payees/{matched.pk}/")
    audit.submit("A matched payee, unmatching without a reason", "Unmatch")
    audit.visit("The network, the council sharing", "/spending/network/")
    sign_in_as(page, live_server, person("admin@demo-council.example"))
    audit.visit("The network, its administrator's switch", "/spending/network/")
    audit.assert_clean()
