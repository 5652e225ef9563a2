"""Evaluation as councils run it, in a real browser (issue 17, ADR 14).

An officer builds a questionnaire (two weighted quality questions, one with a
word limit, a pass or fail question) and a pricing schedule of two lines,
invites and publishes. Two suppliers answer every question and price every
line on their own pages, see the server's totals, pass the check page and
submit. After the deadline two officers open the box; a panel of two
evaluators (one the moderator) declares, marks every answer on its own and
finishes; the moderator moderates (with a reason where the marks are too far
apart) and agrees. The report is read and downloaded as a PDF; with a
three-day standstill the letters of intention go out, the lot is awarded
after it ends, and the bidders read the moderated comments in their letters.

Each person has a browser window of their own, signed in afresh after each
jump of the clock (an authenticator code is used once). On the way it takes
the README's pictures of the supplier's answers and of moderation
(``supplier-answers.png``, ``moderation.png``: ``tests.browser.screenshot_path``).
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import expect

from portal.models import User
from tenders.models import (
    Award,
    IntentionToAward,
    Opportunity,
    OpportunityStatus,
    ProcurementPolicy,
)
from tenders.services import DECLARATIONS
from tests.browser import screenshot_path, sign_in
from tests.conftest import need
from tests.tenders_helpers import approved_supplier, make_opportunity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRIYA = "officer@demo-council.example"  # Priya Shah: evaluates and moderates
TOM = "officer2@demo-council.example"  # Tom Hughes: evaluates
MANNINGHAM = "bids@manningham-cleaners.example"
SALTAIRE = "bids@saltaire-shine.example"
SUPPLIER_PASSWORD = "a long test passphrase"  # tests.tenders_helpers.approved_supplier

Q1 = "Describe how you will clean the library each day."
Q2 = "How will you check the quality of the cleaning?"
Q3 = "Do you hold public liability insurance of at least £5 million?"

# Who answers what: (answer to 1, answer to 2, rate per visit, rate per hour).
# Manningham: 10 × £95.50 = £955.00; 12.5 × £20.15 = £251.875, so £251.88; £1,206.88.
# Saltaire: 10 × £89.99 = £899.90; 12.5 × £24.00 = £300.00; £1,199.90.
BIDS = {
    MANNINGHAM: (
        "A team of three cleans every room before opening, with a supervisor on site.",
        "The supervisor walks the building weekly with your caretaker and fixes what is found.",
        "95.50",
        "20.15",
    ),
    SALTAIRE: (
        "One cleaner works each evening after the library closes.",
        "We ask for feedback every quarter.",
        "89.99",
        "24.00",
    ),
}

# (supplier, evaluator): marks for questions 1 and 2 (0 to 5), and the pass or fail.
MARKS = {
    ("Manningham Cleaners", PRIYA): (4, 3),
    ("Manningham Cleaners", TOM): (4, 5),  # question 2: 3 and 5 are 2 apart
    ("Saltaire Shine", PRIYA): (3, 3),
    ("Saltaire Shine", TOM): (2, 3),
}
# The moderated marks: Manningham 4 and 4, so Quality (60×4 + 40×4)/5 = 80%, 48.00
# points; Saltaire 3 and 3, 60%, 36.00 points. Price 40: Saltaire, the lowest, 40.00;
# Manningham 1199.90/1206.88 × 40 = 39.77. Totals 87.77 and 76.00.
MODERATED = {
    "Manningham Cleaners": ((4, "A clear daily routine, well staffed."), (4, "Weekly checks.")),
    "Saltaire Shine": ((3, "One cleaner may not be enough."), (3, "Quarterly feedback only.")),
}


@pytest.fixture
def draft(transactional_db, in_process_tasks, settings, tmp_path) -> Opportunity:
    """A £8,000 single-quote draft for library cleaning (Price 40, Quality 60),
    two local cleaning firms that match it, and a standstill of 3 days."""
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    approved_supplier("Manningham Cleaners", "BD8 7AA")
    approved_supplier("Saltaire Shine", "BD18 3LA")
    officer = User.objects.get(email=PRIYA)
    ProcurementPolicy.objects.filter(buyer_id=officer.buyer_id).update(standstill_days=3)
    return make_opportunity(officer, "8000.00", title="Library cleaning")


@pytest.fixture
def window(browser, live_server):
    """``window(email)``: a browser window of its own, signed in as ``email``."""
    contexts = []

    def open_window(email: str):
        context = browser.new_context(base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        if email.startswith("bids@"):
            sign_in(page, email, SUPPLIER_PASSWORD)
        else:
            sign_in(page, email)
        assert "/sign-in/" not in page.url, page.locator("main").inner_text()
        return page

    yield open_window
    for context in contexts:
        context.close()


def main(page) -> str:
    return page.locator("main").inner_text()


def heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def screenshot(page, name: str) -> None:
    path = screenshot_path(name)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


# --- The officer builds the questionnaire ---------------------------------------------------


def add_question(page, *, place: str, text: str, weight: str = "", word_limit: str = ""):
    page.get_by_label(place).check()
    page.get_by_label("Question", exact=True).fill(text)
    if word_limit:
        page.get_by_label("Word limit (optional)").fill(word_limit)
    if weight:
        page.get_by_label("Weight within its criterion (quality questions only)").fill(weight)
    with page.expect_navigation():
        page.get_by_role("button", name="Add the question").click()


def add_line(page, description: str, unit: str, quantity: str):
    page.get_by_role("link", name="Add a pricing line").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a pricing line")
    page.get_by_label("What is priced").fill(description)
    page.get_by_label("Unit", exact=True).fill(unit)
    page.get_by_label("Quantity").fill(quantity)
    with page.expect_navigation():
        page.get_by_role("button", name="Add the pricing line").click()


def build_questionnaire(page, opportunity: Opportunity):
    page.goto(f"/opportunities/{opportunity.pk}/")
    page.get_by_role("link", name="Questionnaire and pricing schedule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Questionnaire and pricing schedule")
    quality = "Marked for quality, under Quality"
    page.get_by_role("link", name="Add a question to Quality").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a question")
    add_question(page, place=quality, text=Q1, weight="60", word_limit="20")
    assert "Question 1 added." in main(page)
    # One question's weight is not yet 100: publishing would be refused.
    assert "Fix these before publishing" in page.locator("#problems").inner_text()
    page.get_by_role("link", name="Add a question to Quality").click()
    add_question(page, place=quality, text=Q2, weight="40")
    page.get_by_role("link", name="Add a pass or fail question").click()
    add_question(page, place="Pass or fail: answered with the bid, judged after opening", text=Q3)
    add_line(page, "Cleaning visit", "visit", "10")
    add_line(page, "Deep clean", "hour", "12.5")
    assert page.locator("#problems").count() == 0
    quality_table = page.get_by_role("region", name="Questions of Quality").inner_text()
    assert Q1 in quality_table and Q2 in quality_table
    assert re.search(r"Total\s+100", quality_table)
    assert Q3 in page.locator("#pass-fail-questions").inner_text()
    lines = page.locator("#pricing-lines").inner_text()
    assert re.search(r"1\s+Cleaning visit\s+visit\s+10", lines)
    assert re.search(r"2\s+Deep clean\s+hour\s+12.5", lines)
    page.get_by_role("link", name=f"Back to {opportunity.reference}").click()
    assert "3 questions, 2 pricing lines" in page.locator("#questionnaire-link").inner_text()


# --- A supplier answers ---------------------------------------------------------------------


def answer(page, opportunity: Opportunity, email: str, *, screenshot_as: str = ""):
    first, second, visit_rate, hour_rate = BIDS[email]
    too_long = first + " We also dust the windows, doors, shelves and desks every week of the year."
    words = len(too_long.split())
    page.goto(f"/opportunities/{opportunity.pk}/")
    page.get_by_role("link", name="Prepare your bid for lot 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your bid for lot 1: Lot 1")
    page.get_by_label("Your answer to question 1", exact=True).fill(too_long)
    page.get_by_label("Your answer to question 2", exact=True).fill(second)
    page.get_by_role("group", name="Your answer to question 3").get_by_label("Yes").check()
    page.get_by_label("Evidence for question 3 (optional)").fill("Policy with Aviva, £10m.")
    page.get_by_label("Rate for line 1: Cleaning visit (£ per visit)").fill(visit_rate)
    for text in DECLARATIONS.values():
        page.get_by_label(text).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()

    # Over the word limit: saved as typed, and the server's count says so.
    question_1 = page.locator(f"#question-{_question_pk(opportunity, 1)}").inner_text()
    assert f"Question 1 has {words} words: the limit is 20." in question_1
    assert f"You have {words} words of 20" in question_1
    assert page.get_by_label("Your answer to question 1", exact=True).input_value() == too_long
    page.get_by_label("Your answer to question 1", exact=True).fill(first)

    # A line without a rate: the check page says so, and there is nothing to submit.
    with page.expect_navigation():
        page.get_by_role("button", name="Save and check your bid").click()
    assert heading(page) == "Check your bid for lot 1: Lot 1"
    problems = page.locator("#problems").inner_text()
    assert "Your bid is not complete" in problems
    assert "Enter a rate for line 2 (Deep clean)." in problems
    assert page.get_by_role("button", name="Submit bid").count() == 0
    page.get_by_role("link", name="Enter a rate for line 2 (Deep clean).").click()
    page.get_by_label("Rate for line 2: Deep clean (£ per hour)").fill(hour_rate)
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    assert page.get_by_label("Your answer to question 1", exact=True).input_value() == first

    # The server's totals, to the penny.
    lines = {
        line: page.locator(f"#pricing-schedule tbody tr:nth-child({n}) td:last-child").inner_text()
        for n, line in enumerate(["visit", "hour"], 1)
    }
    total = page.locator("#schedule-total").inner_text()
    if screenshot_as:
        screenshot(page, screenshot_as)
    page.get_by_role("button", name="Save and check your bid").click()
    assert page.locator("#complete").inner_text().startswith("Your bid is complete")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit bid").click()
    assert "Bid submitted" in main(page)
    return lines, total


def _question_pk(opportunity: Opportunity, number: int) -> str:
    return str(opportunity.questions.get(number=number).pk)


# --- The panel ------------------------------------------------------------------------------


def declare(page, opportunity: Opportunity):
    """Declare no conflict of interest with the bidders named."""
    page.goto(f"/opportunities/{opportunity.pk}/panel/")
    page.get_by_role("link", name="Make your declaration of interest").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Declaration of interest")
    bidders = page.locator("#bidders").inner_text()
    assert "Manningham Cleaners" in bidders and "Saltaire Shine" in bidders
    page.get_by_label("No, I have no conflict of interest").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Make the declaration").click()
    assert "You declared no conflict of interest." in main(page)
    assert heading(page) == "Your marking"


def mark_bids(page, opportunity: Opportunity, email: str):
    """Mark every answer of both bids, finish."""
    page.goto(f"/opportunities/{opportunity.pk}/marking/")
    for supplier in ["Manningham Cleaners", "Saltaire Shine"]:
        with page.expect_navigation():
            page.get_by_role("link", name=supplier).click()
        assert heading(page) == f"Marking the bid of {supplier}"
        assert BIDS[MANNINGHAM if supplier.startswith("M") else SALTAIRE][0] in main(page)
        for number, mark in enumerate(MARKS[(supplier, email)], 1):
            group = page.get_by_role("group", name=f"Question {number}: mark")
            group.get_by_label(re.compile(rf"^{mark}:")).check()
            page.get_by_label(f"Question {number}: comment").fill(f"Mark {mark}: see the answer.")
        page.get_by_role("group", name="Question 3: pass or fail").get_by_label("Pass").check()
        page.get_by_label("Question 3: comment").fill("Insurance confirmed.")
        with page.expect_navigation():
            page.get_by_role("button", name="Save your marks").click()
        assert f"Your marks for {supplier} are saved." in main(page)
    bids = page.locator("#bids").inner_text()
    assert re.search(r"Manningham Cleaners\s+3 of 3", bids)
    assert re.search(r"Saltaire Shine\s+3 of 3", bids)
    page.get_by_role("link", name="Finish marking").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Finish: my marks are final").click()
    assert "You have finished marking. Your marks are final." in main(page)


def moderate(page, opportunity: Opportunity, *, screenshot_as: str = ""):
    page.goto(f"/opportunities/{opportunity.pk}/moderation/")
    assert heading(page) == "Moderation"
    assert page.get_by_role("button", name="Agree the evaluation").count() == 0
    for supplier, moderated in MODERATED.items():
        page.get_by_role("link", name=supplier).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Moderating the bid of {supplier}"
        )
        # Both evaluators' marks and comments, side by side.
        first = page.get_by_role("region", name="Evaluators' marks for question 2").inner_text()
        priya, tom = MARKS[(supplier, PRIYA)][1], MARKS[(supplier, TOM)][1]
        assert re.search(rf"Priya Shah\s+{priya}\s+Mark {priya}: see the answer.", first)
        assert re.search(rf"Tom Hughes\s+{tom}\s+Mark {tom}: see the answer.", first)
        apart = abs(priya - tom) > 1
        assert ("More than 1 apart: reason needed" in first) == apart
        for number, (mark, comment) in enumerate(moderated, 1):
            group = page.get_by_role("group", name=f"Question {number}: mark")
            group.get_by_label(re.compile(rf"^{mark}:")).check()
            page.get_by_label(f"Question {number}: comment").fill(comment)
        page.get_by_role("group", name="Question 3: pass or fail").get_by_label("Pass").check()
        page.get_by_label("Question 3: comment").fill("Insurance confirmed.")
        if apart:
            reason = page.get_by_label("Question 2: reason for the moderated mark")
            reason.fill("The weekly walk-round is good; no written record, so 4 rather than 5.")
            if screenshot_as:
                page.evaluate("() => document.activeElement.blur()")
                screenshot(page, screenshot_as)
            # Without the reason the moderated marks are refused, nothing typed lost.
            reason.fill("")
            page.get_by_role("button", name="Save the moderated marks").click()
            summary = page.locator(".govuk-error-summary").inner_text()
            assert "differ by more than 1: give the reason" in summary, summary
            # The summary leads to the reason of question 2.
            link = page.locator(".govuk-error-summary a").get_attribute("href")
            assert link == f"#id_q{_question_pk(opportunity, 2)}_reason"
            assert page.get_by_label("Question 2: comment").input_value() == moderated[1][1]
            reason.fill("The weekly walk-round is good; no written record, so 4 rather than 5.")
        with page.expect_navigation():
            page.get_by_role("button", name="Save the moderated marks").click()
        assert f"The moderated marks for {supplier} are saved." in main(page)
    bids = page.locator("#bids").inner_text()
    assert re.search(r"Manningham Cleaners\s+3 of 3", bids)
    with page.expect_navigation():
        page.get_by_role("button", name="Agree the evaluation").click()
    assert "The evaluation is agreed" in main(page)


# --- The whole way --------------------------------------------------------------------------


def test_questionnaire_panel_moderation_standstill_and_award(window, draft):
    # On the embedded SQLite default the live server's threads and this test
    # share one in-memory connection, and the reminders the bid's submission
    # schedules in-process find their table locked ("database table is
    # locked: tenders_deadlinereminder"). CI runs it on PostgreSQL.
    need(
        connection.vendor == "postgresql",
        "this walk-through needs PostgreSQL (DATABASE_URL): SQLite's shared "
        "in-memory connection locks under the live server's threads",
    )
    opportunity = draft
    officer = window(PRIYA)
    build_questionnaire(officer, opportunity)
    officer.get_by_role("link", name="Invite suppliers").click()
    officer.get_by_role("button", name="Invite all local matches").click()
    officer.get_by_role("link", name=f"Back to {opportunity.reference}").click()
    with officer.expect_navigation():
        officer.get_by_role("button", name="Publish and invite").click()
    assert "is open for bids" in main(officer)

    # Each supplier answers, prices, checks and submits.
    lines, total = answer(
        window(MANNINGHAM), opportunity, MANNINGHAM, screenshot_as="supplier-answers.png"
    )
    assert lines == {"visit": "£955.00", "hour": "£251.88"}
    assert total == "£1,206.88"
    lines, total = answer(window(SALTAIRE), opportunity, SALTAIRE)
    assert lines == {"visit": "£899.90", "hour": "£300.00"}
    assert total == "£1,199.90"

    opportunity.refresh_from_db()
    after = opportunity.submission_deadline + datetime.timedelta(minutes=5)
    with time_machine.travel(after, tick=True):
        priya, tom = window(PRIYA), window(TOM)
        # Two officers open the box.
        priya.goto(f"/opportunities/{opportunity.pk}/")
        with priya.expect_navigation():  # confirmed before Tom's page loads
            priya.get_by_role("button", name="Open the bids").click()
        tom.goto(f"/opportunities/{opportunity.pk}/")
        with tom.expect_navigation():
            tom.get_by_role("button", name="Confirm the opening as the second officer").click()
        assert "The bids are open." in main(tom)

        # Tom names the panel: both evaluate, Priya moderates.
        tom.get_by_role("link", name="the evaluation panel").click()
        expect(tom.get_by_role("heading", level=1)).to_have_text("Evaluation panel")
        evaluators = tom.get_by_role("group", name="Evaluators")
        evaluators.get_by_label("Priya Shah").check()
        evaluators.get_by_label("Tom Hughes").check()
        tom.get_by_role("group", name="Moderator").get_by_label("Priya Shah").check()
        with tom.expect_navigation():
            tom.get_by_role("button", name="Save the panel").click()
        assert "The panel is saved. Each member now declares." in main(tom)
        members = tom.locator("#members").inner_text()
        assert re.search(r"Priya Shah\s+Evaluator, Moderator\s+Not yet", members)
        assert re.search(r"Tom Hughes\s+Evaluator\s+Not yet", members)

        declare(tom, opportunity)
        mark_bids(tom, opportunity, TOM)
        declare(priya, opportunity)
        # Until every evaluator has finished, the moderator sees nobody's marks.
        priya.goto(f"/opportunities/{opportunity.pk}/moderation/")
        assert "Tom Hughes: finished" in priya.locator("#evaluators").inner_text()
        assert priya.locator("#bids").count() == 0
        mark_bids(priya, opportunity, PRIYA)
        moderate(priya, opportunity, screenshot_as="moderation.png")

        # The ranking reads the moderated marks.
        priya.goto(f"/opportunities/{opportunity.pk}/")
        priya.get_by_role("link", name="Evaluation of lot 1").click()
        ranking = priya.locator("#ranking").inner_text()
        assert re.search(r"1\s+Manningham Cleaners.*£1,206.88\s+39.77\s+48.00\s+87.77", ranking)
        assert re.search(r"2\s+Saltaire Shine.*£1,199.90\s+40.00\s+36.00\s+76.00", ranking)

        # The evaluation report, on the page and as a PDF.
        priya.goto(f"/opportunities/{opportunity.pk}/")
        priya.get_by_role("link", name="Evaluation report", exact=True).click()
        expect(priya.get_by_role("heading", level=1)).to_have_text("Evaluation report")
        marks = priya.locator("#report-marks").inner_text()
        assert "Agreed by Priya Shah" in marks
        assert "The weekly walk-round is good; no written record" in marks
        report_ranking = priya.locator("#report-ranking").inner_text()
        assert re.search(
            r"1\s+Manningham Cleaners\s+£1,206.88\s+39.77\s+48.00\s+87.77", report_ranking
        )
        with priya.expect_download() as caught:
            priya.get_by_role("link", name="Evaluation report (PDF)").click()
        download = caught.value
        assert download.suggested_filename == f"{opportunity.reference}-evaluation-report.pdf"
        assert Path(download.path()).read_bytes().startswith(b"%PDF")

        # The letters of intention, with the standstill of 3 days.
        priya.goto(f"/opportunities/{opportunity.pk}/")
        with priya.expect_navigation():
            priya.get_by_role("link", name="Intention to award lot 1").click()
        assert heading(priya) == "Intention to award lot 1: Lot 1"
        assert "The council's policy has a standstill of 3 days." in main(priya)
        assert "Manningham Cleaners" in priya.locator("#chosen").inner_text()
        priya.get_by_label("Reasons for the intended award").fill(
            "The best quality for a fair price."
        )
        priya.get_by_role("button", name="Send the letters of intention").click()
        assert "Letters of intention sent" in priya.locator("#intention-sent").inner_text()
        intention = IntentionToAward.objects.get(lot__opportunity=opportunity)
        ends = intention.standstill_ends_at
        # Before the standstill ends, the award is refused.
        priya.goto(f"/opportunities/{opportunity.pk}/")
        with priya.expect_navigation():
            priya.get_by_role("link", name="Award lot 1", exact=True).click()
        assert "The lot can be awarded once the standstill has ended" in main(priya)
        assert priya.get_by_role("button", name="Award the lot").count() == 0

        for email, named in [(SALTAIRE, "Manningham Cleaners"), (MANNINGHAM, "you")]:
            supplier = window(email)
            supplier.goto("/inbox/")
            with supplier.expect_navigation():
                supplier.get_by_role(
                    "link", name=re.compile("Intention to award: Library cleaning")
                ).click()
            letter = main(supplier)
            reference = opportunity.reference
            assert (
                f"intends to award Lot 1: Lot 1 of Library cleaning ({reference}) to {named}."
                in (letter)
            )
            assert "standstill of 3 days, which ends on" in letter
            assert "The best quality for a fair price." in letter
        # Manningham's letter (the last read) has its moderated marks and comments.
        assert "Your total: 87.77 out of 100. Your bid ranked 1 of 2." in letter
        assert re.search(r"Question 2: .*\nMark: 4 out of 5\nComment: Weekly checks.", letter)

    with time_machine.travel(ends + datetime.timedelta(hours=9), tick=True):
        priya = window(PRIYA)
        priya.goto(f"/opportunities/{opportunity.pk}/")
        priya.get_by_role("link", name="Award lot 1", exact=True).click()
        assert "The standstill ended on" in priya.locator("#standstill-state").inner_text()
        assert "The award would go to Manningham Cleaners (ranked 1)" in main(priya)
        priya.get_by_label("Reasons for the award").fill("The best quality for a fair price.")
        for field, day in [("start_date", (1, 4, 2027)), ("end_date", (31, 3, 2028))]:
            for n, part in enumerate(day):
                priya.locator(f"#id_{field}_{n}").fill(str(part))
        with priya.expect_navigation():
            priya.get_by_role("button", name="Award the lot").click()
        assert "Lot 1 is awarded to Manningham Cleaners" in main(priya)
        assert "£1,206.88" in priya.locator("#award").inner_text()

        # The bidders read their outcome letters, with the moderated comments.
        saltaire = window(SALTAIRE)
        saltaire.goto("/inbox/")
        with saltaire.expect_navigation():
            saltaire.get_by_role("link", name=re.compile("Your bid was not successful")).click()
        letter = main(saltaire)
        assert "ranked 2 of 2" in letter
        assert "One cleaner may not be enough." in letter
        assert "Quarterly feedback only." in letter
        assert "The best quality for a fair price." in letter
        manningham = window(MANNINGHAM)
        manningham.goto("/inbox/")
        with manningham.expect_navigation():
            manningham.get_by_role("link", name=re.compile("Your bid was successful")).click()
        letter = main(manningham)
        assert "A clear daily routine, well staffed." in letter

    opportunity.refresh_from_db()
    assert opportunity.status == OpportunityStatus.AWARDED
    assert Award.objects.get(lot__opportunity=opportunity).bid.supplier.legal_name == (
        "Manningham Cleaners"
    )
