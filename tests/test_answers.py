"""Suppliers answer the questionnaire in the portal, per lot, sealed like
bids (issue 17, item 2; ADR 14): word limits judged by the server (nothing
typed is lost), the pricing schedule's arithmetic to the penny, the check
before submitting, files per question, the fingerprint of a version's
content, and the council reading the answers once the box is opened."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse

from cpv.models import CpvCode
from portal.models import AuditEvent, InboxMessage, User
from tenders.models import (
    Answer,
    Bid,
    BidFile,
    BidRevision,
    PriceRate,
    PricingLine,
    Question,
    QuestionKind,
)
from tenders.services import (
    DECLARATIONS,
    BidIncomplete,
    BidRefused,
    CriterionSpec,
    LateBid,
    LotSpec,
    answers_save,
    bid_add_file,
    bid_check,
    bid_save_draft,
    bid_start,
    bid_submit,
    content_sha256,
    count_words,
    invite,
    line_total,
    opportunity_create,
    opportunity_publish,
)
from tests.evaluation_helpers import add_questionnaire
from tests.tenders_helpers import care_provider_that_also_cleans
from tests.test_officer_bids import open_box, signed_in

LONDON = ZoneInfo("Europe/London")
START = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=LONDON)
BIDS_CLOSE = datetime.datetime(2026, 7, 1, 12, 0, tzinfo=LONDON)
ALL = dict.fromkeys(DECLARATIONS, True)
D = Decimal


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def clock(demo_data):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def care_user(demo_data) -> User:
    return care_provider_that_also_cleans()


def _opportunity(officer, suppliers, *, questionnaire: bool = True):
    opportunity = opportunity_create(
        buyer=officer.buyer,
        by=officer,
        title="Office cleaning",
        description="Cleaning of the town hall.",
        cpv=CpvCode.objects.get(code="90910000-9"),
        contract_kind="services",
        lots=[
            LotSpec("Town hall", D("4000.00"), area="BD1"),
            LotSpec("Library", D("4000.00"), area="BD2"),
        ],
        criteria=[CriterionSpec("Price", 40, is_price=True), CriterionSpec("Quality", 60)],
        clarification_deadline=datetime.datetime(2026, 6, 20, 17, 0, tzinfo=LONDON),
        submission_deadline=BIDS_CLOSE,
    )
    if questionnaire:
        add_questionnaire(opportunity)
    invite(opportunity=opportunity, suppliers=suppliers, by=officer)
    return opportunity_publish(opportunity=opportunity, by=officer)


@pytest.fixture
def opportunity(clock, officer, local_supplier_user, care_user, in_process_tasks):
    """Open, two lots; two quality questions (300 words), a pass/fail question
    asking for an insurance certificate; two pricing lines (10 visits, 12.50 hours)."""
    return _opportunity(officer, [local_supplier_user.supplier, care_user.supplier])


@pytest.fixture
def lot(opportunity):
    return opportunity.lots.get(number=1)


def questions(opportunity) -> tuple[Question, Question, Question]:
    q1, q2, pass_fail = opportunity.questions.order_by("number")
    return q1, q2, pass_fail


def lines(opportunity) -> tuple[PricingLine, PricingLine]:
    visits, hours = opportunity.pricing_lines.filter(lot=None).order_by("number")
    return visits, hours


def bid_url(lot) -> str:
    return reverse("tenders:supplier_bid", args=[lot.opportunity_id, lot.pk])


def check_url(lot) -> str:
    return reverse("tenders:supplier_bid_check", args=[lot.opportunity_id, lot.pk])


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def pdf(name: str = "insurance.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 certificate " + name.encode(), "application/pdf")


def posted(opportunity, *, text="We clean daily.", rates=("100.00", "20.00"), **extra):
    """The bid page's form, every question answered and every line priced."""
    q1, q2, pass_fail = questions(opportunity)
    visits, hours = lines(opportunity)
    data = {
        f"answer_{q1.pk}": text,
        f"answer_{q2.pk}": text,
        f"confirm_{pass_fail.pk}": "yes",
        f"answer_{pass_fail.pk}": "Policy 123 with Acme Insurance.",
        f"rate_{visits.pk}": rates[0],
        f"rate_{hours.pk}": rates[1],
        "declarations": list(DECLARATIONS),
        "save": "",
    }
    data.update(extra)
    return data


def complete_draft(lot, person, *, text="We clean daily.", rates=("100.00", "20.00")) -> Bid:
    """A draft ready to submit, saved through the services."""
    opportunity = lot.opportunity
    q1, q2, pass_fail = questions(opportunity)
    visits, hours = lines(opportunity)
    bid = bid_start(lot=lot, by=person)
    bid_save_draft(bid=bid, by=person, price=None, declarations=ALL)
    problems = answers_save(
        bid=bid,
        by=person,
        answers={q1.pk: (text, None), q2.pk: (text, None), pass_fail.pk: ("", True)},
        rates={visits.pk: D(rates[0]), hours.pk: D(rates[1])},
    )
    assert problems == []
    bid_add_file(bid=bid, by=person, upload=pdf(), question=pass_fail)
    return Bid.objects.get(pk=bid.pk)


# --- Words -----------------------------------------------------------------------------------


def test_words_are_counted_as_whitespace_separated_runs():
    assert count_words("") == 0
    assert count_words("   \n\t ") == 0
    assert count_words("one") == 1
    assert count_words("  two\nwords  ") == 2
    assert count_words("well-known £5,000 e.g. ok") == 4


def test_exactly_the_word_limit_is_accepted_and_submitted(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    q1, _, _ = questions(lot.opportunity)
    bid = complete_draft(lot, local_supplier_user)
    response = client.post(bid_url(lot), {**posted(lot.opportunity), f"answer_{q1.pk}": words(300)})
    assert response.status_code == 302
    bid.refresh_from_db()
    assert bid_check(bid) == []
    revision = bid_submit(bid=bid, by=local_supplier_user)
    assert count_words(revision.answers.get(question=q1).text) == 300


def test_one_word_over_is_saved_shown_and_refused_at_submit(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    q1, _, _ = questions(lot.opportunity)
    complete_draft(lot, local_supplier_user)
    over = words(301)
    response = client.post(bid_url(lot), {**posted(lot.opportunity), f"answer_{q1.pk}": over})
    page = response.content.decode()
    # Saved as typed (nothing lost), and the page says what is wrong, with the text still there.
    assert response.status_code == 200
    assert Answer.objects.get(question=q1, revision=None).text == over
    assert "Question 1 has 301 words: the limit is 300." in page
    assert "govuk-error-summary" in page
    assert over in page
    assert "You have 301 words of 300" in page
    # Shown again on a later visit.
    page = client.get(bid_url(lot)).content.decode()
    assert "Question 1 has 301 words: the limit is 300." in page and over in page
    # Refused at submit, through the check page, with the message; nothing submitted.
    response = client.post(check_url(lot), {"submit": ""})
    assert "Question 1 has 301 words: the limit is 300." in response.content.decode()
    assert not BidRevision.objects.exists()
    with pytest.raises(BidIncomplete, match=r"Question 1 has 301 words: the limit is 300\."):
        bid_submit(bid=Bid.objects.get(), by=local_supplier_user)


# --- Pricing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "rate", "total"),
    [
        ("12.50", "7.77", "97.13"),  # 97.125 rounds half up
        ("3", "33.33", "99.99"),
        ("0.5", "0.01", "0.01"),  # 0.005 rounds half up
        ("1", "0", "0.00"),
        ("10", "100.00", "1000.00"),
    ],
)
def test_a_line_total_is_quantity_times_rate_half_up_to_the_penny(quantity, rate, total):
    assert line_total(D(quantity), D(rate)) == D(total)


def test_the_price_is_the_schedules_total_computed_by_the_server(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    visits, hours = lines(lot.opportunity)
    visits.quantity = D("3")
    visits.save()
    # A forged total and price in the post are ignored.
    data = posted(
        lot.opportunity,
        rates=("33.33", "7.77"),
        **{f"total_{visits.pk}": "1.00", "total": "1.00", "price": "1.00"},
    )
    client.post(bid_url(lot), data)
    bid = Bid.objects.get()
    assert PriceRate.objects.get(line=visits, revision=None).total == D("99.99")
    assert PriceRate.objects.get(line=hours, revision=None).total == D("97.13")
    assert bid.draft_price == D("197.12")
    page = client.get(bid_url(lot)).content.decode()
    assert "£99.99" in page and "£97.13" in page and "£197.12" in page
    bid_add_file(
        bid=bid, by=local_supplier_user, upload=pdf(), question=questions(lot.opportunity)[2]
    )
    # A total forged in the database's draft is not trusted either: recomputed at submit.
    PriceRate.objects.filter(line=visits, revision=None).update(total=D("1.00"))
    Bid.objects.filter(pk=bid.pk).update(draft_price=D("1.00"))
    revision = bid_submit(bid=bid, by=local_supplier_user)
    assert revision.price == D("197.12")
    assert revision.rates.get(line=visits).total == D("99.99")


def test_a_negative_rate_is_refused_naming_the_line_and_nothing_typed_is_lost(
    client, lot, local_supplier_user
):
    client.force_login(local_supplier_user)
    response = client.post(bid_url(lot), posted(lot.opportunity, rates=("-5", "20.00")))
    page = response.content.decode()
    assert response.status_code == 200
    assert "The rate for line 1 (Cleaning visit) cannot be negative." in page
    assert 'value="-5"' in page and "We clean daily." in page
    assert not PriceRate.objects.exists()
    response = client.post(bid_url(lot), posted(lot.opportunity, rates=("ten", "20.00")))
    assert "Enter the rate for line 1 as an amount in pounds" in response.content.decode()


def test_a_rate_that_cannot_be_read_is_explained_with_an_example_of_a_rate(
    client, lot, local_supplier_user
):
    """An hourly rate of £35 typed as words: the example is a rate, not a
    contract's "like 150000 or 150,000.00", on the page and to the autosave."""
    client.force_login(local_supplier_user)
    said = "Enter the rate for line 2 as an amount in pounds, like 35.50"
    data = posted(lot.opportunity, rates=("100.00", "thirty five"))
    page = client.post(bid_url(lot), data).content.decode()
    assert said in page
    assert "150,000" not in page and "150000" not in page
    response = client.post(bid_url(lot), data, headers={"X-Requested-With": "fetch"})
    assert response.json()["errors"] == [said]


def test_a_negative_rate_is_said_at_the_rate_on_the_first_save_with_the_other_errors(
    client, lot, local_supplier_user
):
    client.force_login(local_supplier_user)
    visits, hours = lines(lot.opportunity)
    response = client.post(bid_url(lot), posted(lot.opportunity, rates=("thirty five", "-5")))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'<a href="#id_rate_{visits.pk}">Enter the rate for line 1 as an amount' in page
    negative = "The rate for line 2 (Deep clean) cannot be negative."
    assert f'<a href="#id_rate_{hours.pk}">{negative}</a>' in page
    row = page[page.index(f'id="line-{hours.pk}"') :]
    assert negative in row[: row.index("</tr>")]  # beside the rate
    assert "id_declarations_1" not in page.split("govuk-error-summary__list")[1].split("</ul>")[0]
    assert not PriceRate.objects.exists()


def test_a_rate_whose_total_no_sum_here_can_hold_is_refused_and_the_answers_are_saved(
    client, lot, local_supplier_user
):
    """£999,999,999,999.99 an hour for 12.5 hours: more than a sum of money here
    holds. The answers typed with it are saved; that rate is not, and the page
    says why at the rate (no server error)."""
    client.force_login(local_supplier_user)
    data = posted(
        lot.opportunity,
        text="A long answer typed for an hour.",
        rates=("100.00", "999999999999.99"),
    )
    response = client.post(bid_url(lot), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "The total for line 2 (Deep clean) would be more than £999,999,999,999.99" in page
    assert (
        Answer.objects.filter(revision=None, text="A long answer typed for an hour.").count() == 2
    )
    visits, _hours = lines(lot.opportunity)
    assert set(PriceRate.objects.values_list("line_id", "total")) == {(visits.pk, D("1000.00"))}
    assert Bid.objects.get(lot=lot).draft_price is None


def test_the_copy_on_the_device_is_kept_under_the_persons_own_key(
    client, lot, local_supplier_user, care_user
):
    """Two people of two suppliers on one computer never share a kept copy; signing
    out forgets them (assets/js/answers.mjs, ``data-sign-out``)."""
    keys = []
    for person in (local_supplier_user, care_user):
        client.force_login(person)
        page = client.get(bid_url(lot)).content.decode()
        start = page.index('data-storage-key="') + len('data-storage-key="')
        keys.append(page[start : page.index('"', start)])
        assert "data-sign-out" in page
    assert keys == [
        f"lt-bid-{person.pk}-{lot.opportunity_id}-{lot.pk}"
        for person in (local_supplier_user, care_user)
    ]


def test_a_lots_own_pricing_line_applies_to_that_lot_only(lot, opportunity, local_supplier_user):
    other = opportunity.lots.get(number=2)
    PricingLine.objects.create(
        opportunity=opportunity, lot=other, number=3, description="Library", unit="job", quantity=1
    )
    bid = complete_draft(lot, local_supplier_user)
    assert bid_check(bid) == []
    with pytest.raises(BidRefused, match="line this lot's pricing schedule does not have"):
        answers_save(
            bid=bid,
            by=local_supplier_user,
            answers={},
            rates={opportunity.pricing_lines.get(number=3).pk: D("1")},
        )


# --- Check before submitting ----------------------------------------------------------------


def test_the_check_lists_every_kind_of_problem_with_a_link_to_its_field(
    client, lot, local_supplier_user
):
    client.force_login(local_supplier_user)
    q1, q2, pass_fail = questions(lot.opportunity)
    _, hours = lines(lot.opportunity)
    data = posted(lot.opportunity, **{f"answer_{q1.pk}": words(301), f"answer_{q2.pk}": "  "})
    data.pop(f"confirm_{pass_fail.pk}")
    data[f"rate_{hours.pk}"] = ""
    data["declarations"] = list(DECLARATIONS)[:1]
    client.post(bid_url(lot), data)
    response = client.get(check_url(lot))
    page = response.content.decode()
    base = bid_url(lot)
    expected = [
        (f"{base}#question-{q1.pk}", "Question 1 has 301 words: the limit is 300."),
        (f"{base}#question-{q2.pk}", "Answer question 2."),
        (f"{base}#question-{pass_fail.pk}", "Answer yes or no to question 3."),
        (
            f"{base}#question-{pass_fail.pk}-files",
            "Attach the documents question 3 asks for (Insurance certificate): "
            "1 needed, 0 attached.",
        ),
        (f"{base}#line-{hours.pk}", "Enter a rate for line 2 (Deep clean)."),
        (f"{base}#id_declarations_1", "Confirm every declaration."),
    ]
    for href, text in expected:
        assert f'<a href="{href}">{text}</a>' in page
    assert "Submit bid" not in page
    # The anchors exist on the bid page.
    bid_page = client.get(base).content.decode()
    for href, _ in expected:
        assert f'id="{href.split("#")[1]}"' in bid_page


def test_save_and_check_shows_the_problems_without_a_saved_banner(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    data = {**posted(lot.opportunity), "declarations": list(DECLARATIONS)[:1], "check": ""}
    data.pop("save")
    response = client.post(bid_url(lot), data, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == check_url(lot)
    assert f'<a href="{bid_url(lot)}#id_declarations_1">Confirm every declaration.</a>' in page
    assert "Your draft is saved" not in page and "govuk-notification-banner--success" not in page
    assert 'id="id_declarations_1"' in client.get(bid_url(lot)).content.decode()


def test_without_a_schedule_the_check_asks_for_the_price(lot, opportunity, local_supplier_user):
    opportunity.pricing_lines.all().delete()
    bid = bid_start(lot=lot, by=local_supplier_user)
    texts = [p.text for p in bid_check(bid)]
    assert "Enter your price." in texts
    assert not any("rate" in t for t in texts)


def test_a_complete_bid_is_submitted_from_the_check_page(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    complete_draft(lot, local_supplier_user)
    page = client.get(check_url(lot)).content.decode()
    assert "Your bid is complete" in page and "Submit bid" in page
    response = client.post(check_url(lot), {"submit": ""})
    revision = BidRevision.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "tenders:supplier_bid_receipt", args=[lot.opportunity_id, revision.bid_id, 1]
    )
    # With a questionnaire the submit button is on the check page only.
    page = client.get(bid_url(lot)).content.decode()
    assert "Save and check your bid" in page and 'name="submit"' not in page


def summary_rows(page: str, list_id: str) -> list[tuple[str, str, str, str]]:
    """The rows of the summary list ``list_id``: (key, value, the Change link's
    href, the link's text with its visually hidden part), as plain text."""
    start = page.index(f'<dl class="govuk-summary-list" id="{list_id}">')
    found = page[start : page.index("</dl>", start)]

    def text(html: str) -> str:
        return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()

    rows = []
    for row in found.split('<div class="govuk-summary-list__row">')[1:]:
        key = re.search(r'<dt class="govuk-summary-list__key">(.*?)</dt>', row, re.S)
        value = re.search(r'<dd class="govuk-summary-list__value[^"]*">(.*?)</dd>', row, re.S)
        link = re.search(r'<a class="govuk-link" href="([^"]+)">(.*?)</a>', row, re.S)
        assert key and value and link, row
        rows.append((text(key[1]), text(value[1]), link[1], text(link[2])))
    return rows


def test_the_check_page_lists_what_will_be_submitted_each_with_a_change_link(
    client, lot, local_supplier_user, care_user
):
    """Check your answers: every rate and the total, every answer (or "Not
    answered"), every file with its size and the declarations, each linking
    to where it is changed on the bid page; nothing of another supplier's."""
    q1, q2, pass_fail = questions(lot.opportunity)
    visits, hours = lines(lot.opportunity)
    bid = complete_draft(lot, local_supplier_user, text="We clean daily.\nTwice on Fridays.")
    answers_save(bid=bid, by=local_supplier_user, answers={q2.pk: ("  ", None)}, rates={})
    bid_add_file(bid=bid, by=local_supplier_user, upload=pdf("method.pdf"))
    # Another supplier invited to the same opportunity, its draft for the same lot.
    complete_draft(lot, care_user, text="CARE-ANSWER-51c2 we clean weekly", rates=("77.77", "6"))
    client.force_login(local_supplier_user)
    page = client.get(check_url(lot)).content.decode()
    base = bid_url(lot)

    assert summary_rows(page, "summary-price") == [
        (
            "Line 1: Cleaning visit",
            "£100.00 per visit × 10 = £1,000.00",
            f"{base}#line-{visits.pk}",
            "Change the rate for line 1",
        ),
        (
            "Line 2: Deep clean",
            "£20.00 per hour × 12.50 = £250.00",
            f"{base}#line-{hours.pk}",
            "Change the rate for line 2",
        ),
        (
            f"Your price, {lot.opportunity.get_value_vat_basis_display()}",
            "£1,250.00",
            f"{base}#pricing-schedule",
            "Change your pricing schedule",
        ),
    ]
    assert summary_rows(page, "summary-answers") == [
        (
            f"Question 1: {q1.text}",
            "We clean daily. Twice on Fridays.",
            f"{base}#question-{q1.pk}",
            "Change your answer to question 1",
        ),
        (
            f"Question 2: {q2.text}",
            "Not answered",
            f"{base}#question-{q2.pk}",
            "Change your answer to question 2",
        ),
        (
            f"Question 3: {pass_fail.text}",
            "Yes",
            f"{base}#question-{pass_fail.pk}",
            "Change your answer to question 3",
        ),
    ]
    assert "We clean daily.<br>Twice on Fridays." in page  # line breaks kept, text escaped
    sizes = {f.original_name: filesizeformat(f.size).replace("\xa0", " ") for f in bid.files.all()}
    assert summary_rows(page, "summary-files") == [
        (
            "For question 3",
            f"insurance.pdf ({sizes['insurance.pdf']})",
            f"{base}#question-{pass_fail.pk}-files",
            "Change insurance.pdf, for question 3",
        ),
        (
            "For your bid",
            f"method.pdf ({sizes['method.pdf']})",
            f"{base}#files",
            "Change method.pdf",
        ),
    ]
    assert summary_rows(page, "summary-declarations") == [
        ("Declarations", "All confirmed", f"{base}#id_declarations_1", "Change your declarations"),
    ]
    # Each Change link leads to a place that exists on the bid page.
    bid_page = client.get(base).content.decode()
    for list_id in ("summary-price", "summary-answers", "summary-files", "summary-declarations"):
        for _key, _value, href, _link in summary_rows(page, list_id):
            assert f'id="{href.split("#")[1]}"' in bid_page, href
    # Sealed: the other supplier's draft shows on neither page; its own check shows its own.
    for text in ("CARE-ANSWER-51c2", "77.77", "£777.70"):
        assert text not in page and text not in bid_page
    other = Client()
    other.force_login(care_user)
    theirs = other.get(check_url(lot)).content.decode()
    assert "CARE-ANSWER-51c2" in theirs and "£777.70" in theirs
    assert "Twice on Fridays" not in theirs and "method.pdf" not in theirs


def test_the_check_page_without_a_schedule_shows_the_price_and_no_files(
    client, lot, opportunity, local_supplier_user
):
    opportunity.pricing_lines.all().delete()
    bid = bid_start(lot=lot, by=local_supplier_user)
    bid_save_draft(bid=bid, by=local_supplier_user, price=D("3900"), declarations={})
    client.force_login(local_supplier_user)
    page = client.get(check_url(lot)).content.decode()
    base = bid_url(lot)
    assert summary_rows(page, "summary-price") == [
        (
            f"Lot 1, {opportunity.get_value_vat_basis_display()}",
            "£3,900.00",
            f"{base}#id_price",
            "Change your price",
        )
    ]
    assert [row[1] for row in summary_rows(page, "summary-answers")] == ["Not answered"] * 3
    assert summary_rows(page, "summary-files") == [
        ("Files", "None", f"{base}#files", "Change the files of your bid")
    ]
    assert summary_rows(page, "summary-declarations")[0][1] == "Not all confirmed"
    assert 'id="id_price"' in client.get(base).content.decode()


# session, user, opportunity with its lot (``supplier_lot``), bid, the draft:
# questions, pricing lines, answers, rates, a question's files, the bid's other
# files; unread count
CHECK_PAGE_QUERIES = 11


def test_the_check_page_reads_the_draft_in_a_fixed_number_of_queries(
    client, lot, local_supplier_user, django_assert_num_queries
):
    bid = complete_draft(lot, local_supplier_user)
    client.force_login(local_supplier_user)
    with django_assert_num_queries(CHECK_PAGE_QUERIES):
        first = client.get(check_url(lot))
    # More questions answered, more lines priced, more files: the same queries.
    opportunity = lot.opportunity
    for n in range(4, 9):
        question = Question.objects.create(
            opportunity=opportunity,
            kind=QuestionKind.PASS_FAIL,
            number=n,
            text=f"Extra question {n}?",
            documents="A certificate",
        )
        Answer.objects.create(bid=bid, question=question, text=f"Extra answer {n}", confirmed=True)
        bid_add_file(
            bid=bid, by=local_supplier_user, upload=pdf(f"extra-{n}.pdf"), question=question
        )
        bid_add_file(bid=bid, by=local_supplier_user, upload=pdf(f"whole-{n}.pdf"))
        line = PricingLine.objects.create(
            opportunity=opportunity, number=n, description=f"Extra {n}", unit="job", quantity=1
        )
        PriceRate.objects.create(bid=bid, line=line, rate=D("5.00"), total=D("5.00"))
    with django_assert_num_queries(CHECK_PAGE_QUERIES):
        response = client.get(check_url(lot))
    page = response.content.decode()
    assert len(summary_rows(page, "summary-answers")) == 8
    assert len(summary_rows(page, "summary-files")) == 11
    assert len(summary_rows(page, "summary-price")) == 8
    assert len(summary_rows(first.content.decode(), "summary-answers")) == 3


def test_answers_changed_after_submitting_are_said_not_submitted(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    bid = complete_draft(lot, local_supplier_user)
    bid_submit(bid=bid, by=local_supplier_user)
    _, _, pass_fail = questions(lot.opportunity)
    as_submitted = {f"answer_{pass_fail.pk}": ""}  # the draft's evidence box was empty
    client.post(bid_url(lot), posted(lot.opportunity, **as_submitted))
    page = client.get(bid_url(lot)).content.decode()
    assert "Changes not submitted" not in page and "The council will open version 1" in page
    client.post(bid_url(lot), posted(lot.opportunity, text="We clean twice a day.", **as_submitted))
    page = client.get(bid_url(lot)).content.decode()
    assert (
        "Submitted (version 1). You have saved changes that you have not submitted: "
        "the council will open version 1 unless you submit them."
    ) in page
    client.post(bid_url(lot), posted(lot.opportunity, rates=("100.00", "20.01"), **as_submitted))
    assert "Changes not submitted" in client.get(bid_url(lot)).content.decode()
    client.post(bid_url(lot), posted(lot.opportunity, **as_submitted))
    assert "Changes not submitted" not in client.get(bid_url(lot)).content.decode()


# --- Files per question ----------------------------------------------------------------------


def test_a_file_is_attached_to_a_question_and_copied_with_it(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    _, _, pass_fail = questions(lot.opportunity)
    client.post(bid_url(lot), {**posted(lot.opportunity), f"file_{pass_fail.pk}": pdf()})
    bid_file = BidFile.objects.get()
    assert bid_file.question == pass_fail
    page = client.get(bid_url(lot)).content.decode()
    section = page[page.index(f'id="question-{pass_fail.pk}-files"') :]
    assert "insurance.pdf" in section[: section.index("</div>")]
    bid = Bid.objects.get()
    assert bid_check(bid) == []
    revision = bid_submit(bid=bid, by=local_supplier_user)
    assert revision.files.get().question == pass_fail


def test_a_questions_file_is_removed_after_a_page_asks(client, lot, local_supplier_user):
    """The bid page's Remove is a link to a page that asks (a GET removes
    nothing); that page's POST removes the file and the question needs it again."""
    bid = complete_draft(lot, local_supplier_user)
    bid_file = BidFile.objects.get(bid=bid)
    remove = reverse(
        "tenders:supplier_bid_file_remove", args=[lot.opportunity_id, lot.pk, bid_file.pk]
    )
    client.force_login(local_supplier_user)
    page = client.get(bid_url(lot)).content.decode()
    assert f'data-module="govuk-button" href="{remove}">Remove<span' in page
    assert f'action="{remove}"' not in page
    asked = client.get(remove).content.decode()
    assert "Are you sure you want to remove insurance.pdf?" in asked
    assert "insurance.pdf (" in asked and "for question 3," in asked
    assert BidFile.objects.filter(pk=bid_file.pk).exists()
    assert client.post(remove, {"confirm": "remove"}).status_code == 302
    assert not BidFile.objects.filter(pk=bid_file.pk).exists()
    assert [p.anchor for p in bid_check(bid)] == [f"#question-{bid_file.question_id}-files"]


def test_a_file_cannot_be_attached_to_another_opportunitys_question(
    lot, officer, local_supplier_user
):
    other = _opportunity(officer, [local_supplier_user.supplier])
    bid = bid_start(lot=lot, by=local_supplier_user)
    with pytest.raises(BidRefused, match="not part of this opportunity"):
        bid_add_file(bid=bid, by=local_supplier_user, upload=pdf(), question=questions(other)[2])


def test_two_named_documents_need_two_files(lot, opportunity, local_supplier_user):
    _, _, pass_fail = questions(opportunity)
    Question.objects.filter(pk=pass_fail.pk).update(
        documents="Insurance certificate\n\nSafety policy\n"
    )
    bid = complete_draft(lot, local_supplier_user)
    (problem,) = bid_check(bid)
    assert problem.text == (
        "Attach the documents question 3 asks for (Insurance certificate, Safety policy): "
        "2 needed, 1 attached."
    )
    # A file of the bid as a whole does not count for the question.
    bid_add_file(bid=bid, by=local_supplier_user, upload=pdf("general.pdf"))
    assert len(bid_check(bid)) == 1
    bid_add_file(bid=bid, by=local_supplier_user, upload=pdf("safety.pdf"), question=pass_fail)
    assert bid_check(bid) == []


# --- Versions and the fingerprint ------------------------------------------------------------


def test_answers_are_copied_per_version_and_the_earlier_version_is_kept(lot, local_supplier_user):
    q1, _, _ = questions(lot.opportunity)
    bid = complete_draft(lot, local_supplier_user, text="First answer here.")
    first = bid_submit(bid=bid, by=local_supplier_user)
    bid = complete_draft(lot, local_supplier_user, text="Second answer here.", rates=("90", "20"))
    second = bid_submit(bid=bid, by=local_supplier_user)
    assert first.answers.get(question=q1).text == "First answer here."
    assert second.answers.get(question=q1).text == "Second answer here."
    assert first.answers.count() == second.answers.count() == 3
    assert first.price == D("1250.00") and second.price == D("1150.00")
    assert Answer.objects.filter(revision=None).count() == 3  # the draft stays
    # The first version keeps its one file; the second has the one added since too.
    assert first.files.count() == 1 and second.files.count() == 2


def test_the_content_hash_covers_the_answers_and_can_be_recomputed(
    lot, care_user, local_supplier_user, in_process_tasks, django_capture_on_commit_callbacks
):
    other_lot = lot.opportunity.lots.get(number=2)
    draft = complete_draft(lot, local_supplier_user, text="We clean every room.")
    with django_capture_on_commit_callbacks(execute=True):
        one = bid_submit(bid=draft, by=local_supplier_user)
    # Another supplier, the same but for one word.
    two = bid_submit(bid=complete_draft(lot, care_user, text="We clean every desk."), by=care_user)
    three = bid_submit(
        bid=complete_draft(other_lot, care_user, text="We clean every room."), by=care_user
    )
    for revision in (one, two, three):
        stored = BidRevision.objects.get(pk=revision.pk)
        assert len(stored.content_sha256) == 64
        assert content_sha256(stored) == stored.content_sha256
    assert one.content_sha256 != two.content_sha256
    # The canonical document: sorted keys, no whitespace, answers by question id.
    document = {
        "answers": {
            str(a.question_id): {"confirmed": a.confirmed, "text": a.text}
            for a in one.answers.all()
        },
        "declarations": ALL,
        "files": [
            {"question": f.question_id, "sha256": f.sha256} for f in one.files.order_by("sha256")
        ],
        "price": "1250.00",
        "rates": {
            str(r.line_id): {"rate": f"{r.rate:.2f}", "total": f"{r.total:.2f}"}
            for r in one.rates.all()
        },
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(text.encode()).hexdigest() == one.content_sha256
    # Recorded, sealed, in the audit trail and in the receipt.
    event = AuditEvent.objects.filter(action="bid.submitted").order_by("pk").first()
    assert event.context["content_sha256"] == one.content_sha256
    assert event.sealed_until_opened == lot.opportunity_id
    message = InboxMessage.objects.filter(recipient=local_supplier_user).latest("pk")
    assert one.content_sha256 in message.body


def test_the_receipt_page_and_text_show_the_fingerprint(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    revision = bid_submit(bid=complete_draft(lot, local_supplier_user), by=local_supplier_user)
    args = [lot.opportunity_id, revision.bid_id, 1]
    page = client.get(reverse("tenders:supplier_bid_receipt", args=args)).content.decode()
    assert "Fingerprint of everything you submitted (SHA-256)" in page
    assert revision.content_sha256 in page
    text = client.get(reverse("tenders:supplier_bid_receipt_text", args=args)).content.decode()
    assert revision.content_sha256 in text


# --- Who may see what ------------------------------------------------------------------------


def test_others_get_404_on_the_check_page(
    client, lot, care_user, local_supplier_user, distant_supplier_user, officer, other_officer
):
    complete_draft(lot, local_supplier_user)
    url = check_url(lot)
    response = client.get(url)
    assert response.status_code == 302 and "sign-in" in response["Location"]
    for person in (officer, other_officer):
        assert signed_in(person).get(url).status_code == 404
    # Another supplier reaches only its own (empty) check: never this bid.
    other = Client()
    other.force_login(care_user)
    page = other.get(url).content.decode()
    assert "You have not saved a draft" in page and "We clean daily." not in page
    # A supplier not invited: 404.
    outsider = Client()
    outsider.force_login(distant_supplier_user)
    assert outsider.get(url).status_code == 404


# --- Late ------------------------------------------------------------------------------------


def test_a_late_save_or_submit_is_refused_with_both_times(client, clock, lot, local_supplier_user):
    bid = complete_draft(lot, local_supplier_user)
    clock.move_to(BIDS_CLOSE + datetime.timedelta(seconds=1))
    client.force_login(local_supplier_user)
    both = (
        "The deadline was 1 July 2026 at 12:00:00 (UK time). Your bid reached us at "
        "1 July 2026 at 12:00:01"
    )
    response = client.post(bid_url(lot), posted(lot.opportunity, text="Late words."))
    assert both in response.content.decode()
    assert "Late words." in response.content.decode()  # nothing typed is lost
    assert not Answer.objects.filter(text="Late words.").exists()
    response = client.post(check_url(lot), {"submit": ""})
    assert both in response.content.decode()
    with pytest.raises(LateBid):
        answers_save(bid=bid, by=local_supplier_user, answers={}, rates={})
    assert not BidRevision.objects.exists()


def test_autosave_answers_json_with_the_time(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    response = client.post(
        bid_url(lot), posted(lot.opportunity), headers={"X-Requested-With": "fetch"}
    )
    assert response.status_code == 200
    assert response.json()["saved"] is True
    assert response.json()["saved_at"] == "1 June 2026 at 09:00:00"
    assert Answer.objects.filter(revision=None).count() == 3


# --- Old-style bids and the council's page ---------------------------------------------------


def test_an_opportunity_without_a_questionnaire_works_as_before(
    client, clock, officer, local_supplier_user, in_process_tasks
):
    opportunity = _opportunity(officer, [local_supplier_user.supplier], questionnaire=False)
    lot = opportunity.lots.get(number=1)
    client.force_login(local_supplier_user)
    page = client.get(bid_url(lot)).content.decode()
    # The price is asked for on the opportunity's VAT basis, by name.
    basis = opportunity.get_value_vat_basis_display()
    assert f"Your price (£, {basis})" in page
    assert 'name="submit"' in page and "Questions" not in page
    response = client.post(
        bid_url(lot), {"price": "3,900.00", "declarations": list(DECLARATIONS), "submit": ""}
    )
    assert response.status_code == 302
    revision = BidRevision.objects.get()
    assert revision.price == D("3900.00")
    assert not revision.answers.exists() and not revision.rates.exists()
    assert content_sha256(revision) == revision.content_sha256
    receipt = client.get(response["Location"], follow=True).content.decode()
    assert f"£3,900.00 {basis}" in receipt
    assert "<title>Bid submitted – " in receipt and "What happens next" in receipt


def test_the_council_reads_the_answers_schedule_and_files_after_the_opening(
    clock, lot, officer, second_officer, local_supplier_user, django_assert_max_num_queries
):
    q1, _, pass_fail = questions(lot.opportunity)
    revision = bid_submit(
        bid=complete_draft(lot, local_supplier_user, text="We clean with care."),
        by=local_supplier_user,
    )
    client = signed_in(officer)
    url = reverse("tenders:bid_detail", args=[lot.opportunity_id, revision.bid_id])
    assert client.get(url).status_code == 404  # sealed
    open_box(clock, lot.opportunity, officer, second_officer)
    client = signed_in(officer)
    page = client.get(url).content.decode()
    assert "We clean with care." in page
    assert q1.text in page and pass_fail.text in page
    assert "Cleaning visit" in page and "£1,000.00" in page and "£250.00" in page
    assert "£1,250.00" in page
    assert "insurance.pdf" in page
    # A fixed number of queries, however many answers.
    with django_assert_max_num_queries(40) as first:
        client.get(url)
    Question.objects.create(
        opportunity=lot.opportunity, kind=QuestionKind.PASS_FAIL, number=9, text="Extra?"
    )
    with django_assert_max_num_queries(40) as second:
        client.get(url)
    assert len(second.captured_queries) == len(first.captured_queries)


# --- Files chosen with something else wrong -------------------------------------------------


def test_a_valid_file_is_kept_when_the_rates_are_wrong(client, lot, local_supplier_user):
    """Bad rates are the form's errors; the certificate chosen with them is kept
    in the draft all the same, and the page says so (the browser cannot keep it)."""
    client.force_login(local_supplier_user)
    _, _, pass_fail = questions(lot.opportunity)
    data = posted(lot.opportunity, rates=("thirty five", "12.345"))
    response = client.post(bid_url(lot), {**data, f"file_{pass_fail.pk}": pdf()})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter the rate for line 1 as an amount in pounds" in page
    assert "Enter the rate for line 2 to the nearest penny" in page
    assert BidFile.objects.get(revision=None).question == pass_fail
    assert "insurance.pdf is added to your draft: you do not need to choose it again." in page


def test_every_refused_file_is_reported_at_its_own_input(client, lot, local_supplier_user):
    """A .doc for the bid and a .HEIC for a question: both are refused, each
    said at its own input and linked from the summary; nothing is dropped unsaid."""
    client.force_login(local_supplier_user)
    _, _, pass_fail = questions(lot.opportunity)
    data = {
        **posted(lot.opportunity),
        "file": SimpleUploadedFile("tender.doc", b"old word", "application/msword"),
        f"file_{pass_fail.pk}": SimpleUploadedFile("photo.HEIC", b"heic", "image/heic"),
    }
    response = client.post(bid_url(lot), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert not BidFile.objects.exists()
    for name, anchor in (("tender.doc", "id_file"), ("photo.HEIC", f"id_file_{pass_fail.pk}")):
        text = (
            f"{name} was not added to your draft. The selected file must be a PDF, Word (DOCX), "
            "Excel (XLSX), PowerPoint (PPTX), OpenDocument, PNG, JPEG, CSV or TXT. "
            "Choose a file again."
        )
        assert f'<a href="#{anchor}">{text}</a>' in page
        assert page.count(text) == 2  # in the summary and at the input
    # What was typed with them is saved.
    assert Answer.objects.filter(revision=None, text="We clean daily.").count() == 2


def test_a_valid_file_is_kept_beside_a_refused_one(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    _, _, pass_fail = questions(lot.opportunity)
    data = {
        **posted(lot.opportunity),
        "file": SimpleUploadedFile("tender.doc", b"old word", "application/msword"),
        f"file_{pass_fail.pk}": pdf(),
    }
    page = client.post(bid_url(lot), data).content.decode()
    assert "tender.doc was not added to your draft." in page
    assert BidFile.objects.get().original_name == "insurance.pdf"
    assert "insurance.pdf is added to your draft" in page
