"""In a real browser, the everyday pages of issue 16 not walked elsewhere:

* item 4: the opportunity's page says the time left to bid, for the invited
  supplier and the officer, and its "Add to calendar" link downloads an .ics
  file with the deadline (in UTC) and the opportunity's title;
* item 5: the CPV finder finds what people type ("grass cutting",
  "grounds maintenance", "home care"), on its page and in the registration
  form's search;
* item 8: the registration form's error summary lists the problems in the
  order of the fields and each link moves to its field; every input is styled,
  the email field shows its error state; "Send the link again" on the
  check-your-email page sends it; the green "Publish" button is offered for a
  draft that may go to invited bidders and hidden, with the reason (and the
  approver's link where one applies), for one the rule sends to full tender.

The demo opportunities (``seed_demo --opportunities``, ~15 s) are loaded for
one test only, which reads items 4 and 8's Publish button in the same world;
the CPV tests load just the part of the list the everyday words lead to.
"""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from icalendar import Calendar

from cpv.rules import search_words
from cpv.services import cpv_load, read_synonyms, synonyms_load
from devdata.demo_opportunities import SUPPLIER, TITLES
from portal.models import Notification
from portal.time_left import time_left
from tenders.models import Opportunity
from tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICER = "officer@demo-council.example"
APPROVER = "officer2@demo-council.example"  # the demo's approver (README, seed_demo)


def new_window(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


# --- Item 4 and item 8's Publish button, on the demo opportunities --------------------


@pytest.fixture
def demo_opportunities(transactional_db, in_process_tasks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", "--opportunities", stdout=io.StringIO())
    return {key: Opportunity.objects.get(title=title) for key, title in TITLES.items()}


def open_page(page, opportunity: Opportunity) -> None:
    response = page.goto(f"/opportunities/{opportunity.pk}/")
    assert response is not None and response.status == 200
    assert opportunity.title in page.locator("h1").inner_text()


def check_time_left_and_calendar(page, opportunity: Opportunity) -> None:
    deadline = opportunity.submission_deadline
    before = time_left(deadline, timezone.now())
    open_page(page, opportunity)
    shown = page.locator("#time-left").inner_text()
    assert shown in {before, time_left(deadline, timezone.now())}, shown
    # Two weeks away at noon (UK time): days and hours, not a date to work out
    # (no hours when under one is left over: between 11:00 and noon UK time).
    days = (deadline - timezone.now()).days
    assert re.match(rf"^Closes in {days} days( \d+ hours?)?$", shown), shown
    row = page.locator(".govuk-summary-list__row", has=page.locator("#time-left"))
    assert row.locator("dt").inner_text() == "Time left to bid"

    with page.expect_download() as download:
        row.get_by_role("link", name=re.compile("^Add to calendar")).click()
    assert download.value.suggested_filename.endswith(".ics")
    with open(download.value.path(), "rb") as handle:
        calendar = Calendar.from_ical(handle.read())
    events = {str(event["summary"]): event["dtstart"].dt for event in calendar.walk("VEVENT")}
    title = f"Bids close: {opportunity.reference} {opportunity.title}"
    assert title in events, events
    start = events[title]
    assert start.utcoffset() == datetime.timedelta(0)  # written in UTC (…Z)
    assert start == deadline
    assert "Questions close: " + f"{opportunity.reference} {opportunity.title}" in events


def test_time_left_calendars_and_the_publish_button_on_the_demo_opportunities(
    browser, live_server, demo_opportunities
):
    demo = demo_opportunities

    # Item 4: the invited supplier's page …
    supplier = new_window(browser, live_server)
    sign_in(supplier, SUPPLIER)
    check_time_left_and_calendar(supplier, demo["open"])
    supplier.context.close()

    # … and the officer's.
    officer = new_window(browser, live_server)
    sign_in(officer, OFFICER)
    check_time_left_and_calendar(officer, demo["open"])

    # Item 8: the draft that may go to invited bidders offers the green button …
    open_page(officer, demo["draft"])
    publish = officer.get_by_role("button", name="Publish and invite")
    assert publish.is_visible()
    assert "govuk-button--secondary" not in (publish.get_attribute("class") or "")
    assert officer.locator("#publish-blocked").count() == 0
    assert officer.locator("#route-heading").inner_text().startswith("May go to invited")

    # … the one the rule sends to full tender hides it and says why …
    open_page(officer, demo["refused"])
    assert officer.get_by_role("button", name="Publish and invite").count() == 0
    assert officer.locator("#route-heading").inner_text() == "Full tender required"
    blocked = officer.locator("#publish-blocked").inner_text()
    assert "You cannot publish this opportunity here" in blocked
    assert "change the value or the lots" in blocked
    assert officer.get_by_role("link", name="record that as an approver").count() == 0

    # … and the one refused only because other work adds up tells an officer
    # who is not the approver to ask one, with no form of their own.
    open_page(officer, demo["aggregated"])
    assert officer.get_by_role("button", name="Publish and invite").count() == 0
    blocked = officer.locator("#publish-blocked").inner_text()
    assert "an approver of your council can record so on this page" in blocked
    assert officer.get_by_role("link", name="record that as an approver").count() == 0
    assert officer.locator("#override").count() == 0
    officer.context.close()

    # The approver is linked to their form, and the link takes them to it.
    approver = new_window(browser, live_server)
    sign_in(approver, APPROVER)
    open_page(approver, demo["refused"])
    assert approver.get_by_role("button", name="Publish and invite").count() == 0
    assert approver.get_by_role("link", name="record that as an approver").count() == 0
    open_page(approver, demo["aggregated"])
    assert approver.get_by_role("button", name="Publish and invite").count() == 0
    approver.get_by_role("link", name="record that as an approver").click()
    approver.wait_for_url(re.compile(r"#override$"))
    assert approver.locator("#override").is_visible()
    assert approver.get_by_label("Why is this work genuinely separate?").is_visible()
    approver.context.close()


# --- Item 5: the CPV finder finds what people type ------------------------------------

EVERYDAY = {
    "grass cutting": "77314000-4",  # Grounds maintenance services
    "grounds maintenance": "77314000-4",
    "home care": "85312000-9",  # Social work services without accommodation
}
DESCENDANT = "77314100-5"  # Grassing services, below 77314000-4


@pytest.fixture
def cpv_with_synonyms(transactional_db):
    """The codes the everyday words lead to (and their ancestors), with the
    portal's synonyms for them: part of the list, as for the demo."""
    codes = {code for term, code in read_synonyms() if term.lower() in EVERYDAY}
    # Below the synonyms' codes, a code they do not name (found as a descendant);
    # beside them, a sibling and other work (not found).
    cpv_load(only=[*codes, DESCENDANT, "77320000-9", "90910000-9"])
    synonyms_load()


def synonym_codes(term: str) -> set[str]:
    """The codes of every shipped synonym holding all the words typed, plurals
    as singulars ("home care" also matches "care homes")."""
    typed = set(search_words(term))
    return {code for t, code in read_synonyms() if typed <= set(search_words(t))}


def test_the_cpv_finder_finds_what_people_type(page, cpv_with_synonyms):
    page.goto("/cpv/")
    for query, best in EVERYDAY.items():
        page.get_by_label("Words or code").fill(query)
        with page.expect_navigation():  # the results for this query, not the page before
            page.get_by_role("button", name="Search", exact=True).click()
        caption = page.locator("table caption").inner_text()
        assert f"found for ‘{query}’" in caption, caption
        codes = page.locator("table tbody tr td:first-child").all_inner_texts()
        assert best in codes[:5], (query, codes)
        # Every code the synonyms name (those in the list loaded) comes first.
        named = {code for t, code in read_synonyms() if t.lower() == query}
        assert named <= set(codes), (query, codes)  # each loaded, each found
        wanted = synonym_codes(query) & set(codes)
        assert EVERYDAY[query] in wanted
        assert set(codes[: len(wanted)]) == wanted, (query, codes)
        if query != "home care":
            # The codes below the synonyms' codes come after them.
            assert DESCENDANT in codes[len(wanted) :], (query, codes)
        else:
            assert DESCENDANT not in codes
        assert "77320000-9" not in codes  # a sibling, not a descendant
        assert "90910000-9" not in codes


def test_the_registration_forms_code_search_finds_home_care(page, cpv_with_synonyms):
    page.goto("/register/")
    page.get_by_label("Search for a code to add").fill("home care")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Add 85312000-9")).click()
    assert "85312000-9" in page.get_by_label("Categories of work").input_value()


# --- Item 8: the registration form and "Send the link again" -------------------------

# The target of each error-summary link and where it sits among the form's
# controls, in the order they come on the page.
FIELD_POSITIONS = """(ids) => {
  const controls = [...document.querySelectorAll("main input, main textarea, main select")];
  return ids.map((id) => controls.indexOf(document.getElementById(id)));
}"""


@pytest.fixture
def seeded(transactional_db, in_process_tasks):
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())


def test_registration_errors_come_in_field_order_and_each_link_moves_to_its_field(page, seeded):
    page.goto("/register/")
    # Every text input is a GOV.UK input, the website and email ones included.
    for label in ("Website (optional)", "Your email address", "Legal name", "Postcode"):
        assert "govuk-input" in page.get_by_label(label).get_attribute("class").split()
    assert page.locator("main input[type=text]:not(.govuk-input)").count() == 0
    assert page.locator("main input[type=email]:not(.govuk-input)").count() == 0
    assert page.locator("main input[type=url]:not(.govuk-input)").count() == 0

    # Several mistakes, from the top of the form to its bottom.
    page.get_by_label("Website (optional)").fill("not a web address")
    page.get_by_label("Postcode").fill("nowhere")
    page.get_by_label("Your full name").fill("Nadia Khan")
    page.get_by_label("Your email address").fill("nadia-at-example")
    page.get_by_label("Create a password").fill("green shoots grow slowly")
    with page.expect_navigation():
        page.get_by_role("button", name="Register").click()

    summary = page.locator(".govuk-error-summary")
    assert summary.count() == 1
    links = summary.locator("a")
    hrefs = [href.removeprefix("#") for href in links.evaluate_all("as => as.map(a => a.hash)")]
    texts = links.all_inner_texts()
    assert len(hrefs) >= 6, texts
    positions = page.evaluate(FIELD_POSITIONS, hrefs)
    assert -1 not in positions, list(zip(texts, hrefs, strict=True))
    assert positions == sorted(positions), list(zip(texts, hrefs, strict=True))
    assert any("website" in t.lower() for t in texts)
    assert any("email address" in t.lower() for t in texts)
    assert any("postcode" in t.lower() for t in texts)

    # The email field's error state.
    email = page.get_by_label("Your email address")
    assert "govuk-input--error" in email.get_attribute("class").split()
    assert "govuk-input--error" in page.get_by_label("Website (optional)").get_attribute("class")
    assert "govuk-input--error" not in page.get_by_label("Your full name").get_attribute("class")
    assert email.input_value() == "nadia-at-example"  # nothing typed is lost

    # Each link in the summary moves the focus to its field.
    for index, target in enumerate(hrefs):
        page.locator(".govuk-error-summary a").nth(index).click()
        focused = page.evaluate("() => document.activeElement && document.activeElement.id")
        assert focused == target, (texts[index], focused)


def test_send_the_link_again_sends_it_and_says_so(page, seeded):
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
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"
    assert "nadia@girlington-gardens.example" in page.locator("main").inner_text()
    assert len(mail.outbox) == 1
    assert page.get_by_role("alert").count() == 0

    # A few minutes later the link has not arrived: send it again.
    Notification.objects.filter(recipient__email="nadia@girlington-gardens.example").update(
        created_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    with page.expect_navigation():  # the same heading as before: wait for the new page
        page.get_by_role("button", name="Send the link again").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"
    assert "we have sent the link again" in page.get_by_role("alert").inner_text()
    assert len(mail.outbox) == 2
    assert mail.outbox[-1].to == ["nadia@girlington-gardens.example"]
    assert "/register/confirm/" in mail.outbox[-1].body
    # Reloading does not say it again.
    page.reload()
    assert page.get_by_role("alert").count() == 0
