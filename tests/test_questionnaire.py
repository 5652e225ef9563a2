"""The officer builds an opportunity's questionnaire and pricing schedule
(issue 17, item 1; ADR 14): the pages, the rules, publishing, copying, the
amendments once open, and who may see and change it."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, Notification
from tenders.models import (
    Amendment,
    AmendmentKind,
    Bid,
    BidStatus,
    Opportunity,
    OpportunityStatus,
    PriceRate,
    PricingLine,
    Question,
    QuestionKind,
)
from tenders.services import (
    CriterionSpec,
    OpportunityRefused,
    QuestionnaireInvalid,
    bid_submit,
    invite,
    line_total,
    opportunity_publish,
    opportunity_update_draft,
    pricing_line_add,
    pricing_line_remove,
    pricing_line_update,
    question_add,
    question_move,
    question_remove,
    question_update,
    questionnaire_copy,
    questionnaire_problems,
)
from tenders.services import questionnaire as q
from tests.evaluation_helpers import add_questionnaire, answered_bid
from tests.history_helpers import council_with_policy
from tests.tenders_helpers import approved_supplier, make_opportunity
from tests.test_officer_bids import bidder, main_text, signed_in

S = OpportunityStatus


@pytest.fixture
def clock(demo_data, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def bidders(clock):
    """Three approved local suppliers, "Bidder 1" … "Bidder 3"."""
    return [approved_supplier(f"Bidder {i}", f"BD{i} 1AA") for i in (1, 2, 3)]


@pytest.fixture
def draft(clock, officer, bidders) -> Opportunity:
    """A draft (Price 40, Quality 60; two lots) with three invited bidders, ready to publish."""
    opportunity = make_opportunity(officer, "4000.00", "4000.00")
    invite(opportunity=opportunity, suppliers=bidders, by=officer)
    return opportunity


@pytest.fixture
def published(draft, officer, in_process_tasks) -> Opportunity:
    add_questionnaire(draft, per_criterion=2)
    opportunity_publish(opportunity=draft, by=officer)
    draft.refresh_from_db()
    return draft


def quality(opportunity):
    return opportunity.criteria.get(is_price=False)


def url(name: str, opportunity: Opportunity, *more: int) -> str:
    return reverse(f"tenders:{name}", args=[opportunity.pk, *more])


def errors_of(response) -> str:
    text = main_text(response)
    start = text.find("There is a problem")
    assert start >= 0, text[:500]
    return text[start : start + 1500]


def question_form(opportunity, **overrides) -> dict[str, str]:
    data = {
        "place": f"c{quality(opportunity).pk}",
        "text": "How will you keep the offices clean?",
        "guidance": "Say who does what.",
        "word_limit": "300",
        "weight": "100",
        "documents": "Method statement",
    }
    data.update(overrides)
    return data


def codes(opportunity) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            object_type="tenders.opportunity", object_id=str(opportunity.pk)
        ).values_list("action", flat=True)
    )


# --- Building it through the pages -------------------------------------------------------


def test_an_officer_builds_the_questionnaire_through_the_pages(draft, officer):
    client = signed_in(officer)
    detail = main_text(client.get(url("opportunity_detail", draft)))
    assert "Questionnaire and pricing schedule (0 questions, 0 pricing lines)" in detail
    page = main_text(client.get(url("questionnaire", draft)))
    assert "Quality (60% of the evaluation)" in page
    assert "not a pre-qualification stage" in page
    assert "Fix these before publishing" not in page  # nothing built, nothing to fix

    add = url("questionnaire_question_add", draft)
    response = client.post(add, question_form(draft, weight="60"), follow=True)
    assert "Question 1 added." in main_text(response)
    page = main_text(response)
    assert "1. How will you keep the offices clean?" in page
    assert (
        "The weights of the questions of the criterion Quality add up to 60; they must add up "
        "to 100." in page
    )
    client.post(add, question_form(draft, text="Who supervises the cleaners?", weight="40"))
    client.post(
        add,
        question_form(
            draft, place="pass_fail", text="Do you hold public liability insurance?", weight=""
        ),
    )
    response = client.post(
        url("questionnaire_line_add", draft),
        {"description": "Deep clean", "unit": "hour", "quantity": "12.5", "lot": ""},
        follow=True,
    )
    assert "Pricing line added." in main_text(response)
    page = main_text(client.get(url("questionnaire", draft)))
    assert "Fix these before publishing" not in page
    assert "Total 100" in page
    assert "Deep clean hour 12.5 Every lot" in page
    questions = list(draft.questions.order_by("number"))
    assert [(x.number, x.kind, x.weight) for x in questions] == [
        (1, QuestionKind.QUALITY, 60),
        (2, QuestionKind.QUALITY, 40),
        (3, QuestionKind.PASS_FAIL, 0),
    ]
    assert questions[0].document_names == ["Method statement"]

    # Change one, move one, remove one.
    first, second, pass_fail = questions
    edit = url("questionnaire_question_edit", draft, second.pk)
    assert client.get(edit).context["form"]["text"].value() == "Who supervises the cleaners?"
    client.post(
        edit, question_form(draft, text="Who supervises the cleaners, and how?", weight="40")
    )
    client.post(url("questionnaire_question_move", draft, second.pk), {"direction": "up"})
    assert list(draft.questions.order_by("number").values_list("pk", flat=True)) == [
        second.pk,
        first.pk,
        pass_fail.pk,
    ]
    remove = url("questionnaire_question_remove", draft, pass_fail.pk)
    assert "Remove question 3?" in main_text(client.get(remove))
    assert draft.questions.count() == 3  # a GET only asks
    response = client.post(remove, follow=True)
    assert "Question 3 removed." in main_text(response)
    assert draft.questions.count() == 2
    line = draft.pricing_lines.get()
    client.post(
        url("questionnaire_line_edit", draft, line.pk),
        {"description": "Deep clean", "unit": "hour", "quantity": "14", "lot": ""},
    )
    assert PricingLine.objects.get(pk=line.pk).quantity == D("14.00")
    detail = main_text(client.get(url("opportunity_detail", draft)))
    assert "Questionnaire and pricing schedule (2 questions, 1 pricing line)" in detail
    # A draft's changes are audited, not amendments.
    assert {
        "questionnaire.question_added",
        "questionnaire.question_changed",
        "questionnaire.question_moved",
        "questionnaire.question_removed",
        "questionnaire.line_added",
        "questionnaire.line_changed",
    } <= set(codes(draft))
    assert not Amendment.objects.filter(opportunity=draft).exists()


def test_the_add_page_offers_the_quality_criteria_and_pass_or_fail_never_price(draft, officer):
    client = signed_in(officer)
    form = client.get(url("questionnaire_question_add", draft)).context["form"]
    labels = [label for _value, label in form.fields["place"].choices]
    assert labels == [
        "Marked for quality, under Quality",
        "Pass or fail: answered with the bid, judged after opening",
    ]
    price = draft.criteria.get(is_price=True)
    response = client.post(
        url("questionnaire_question_add", draft), question_form(draft, place=f"c{price.pk}")
    )
    assert q.CHOOSE_KIND in errors_of(response)
    assert not draft.questions.exists()


# --- Every validation message --------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"place": ""}, q.CHOOSE_KIND),
        ({"text": "   "}, q.ENTER_TEXT),
        ({"text": "x" * 1001}, q.TEXT_TOO_LONG),
        ({"word_limit": "0"}, q.WORD_LIMIT),
        ({"word_limit": "many"}, q.WORD_LIMIT),
        ({"weight": ""}, q.WEIGHT_QUALITY),
        ({"weight": "0"}, q.WEIGHT_QUALITY),
        ({"weight": "101"}, q.WEIGHT_QUALITY),
        ({"weight": "half"}, q.WEIGHT_QUALITY),
        ({"place": "pass_fail", "weight": "5"}, q.NO_WEIGHT),
    ],
)
def test_a_question_is_checked_and_what_was_typed_is_kept(draft, officer, overrides, message):
    client = signed_in(officer)
    data = question_form(draft, **{"text": "Describe your method.", **overrides})
    response = client.post(url("questionnaire_question_add", draft), data)
    assert response.status_code == 200
    assert message in errors_of(response)
    assert response.content.decode().count(message) >= 2  # the summary and the field
    assert "<title>Error:" in response.content.decode()
    form = response.context["form"]
    assert form["guidance"].value() == "Say who does what."
    assert form["text"].value() == data["text"]
    assert not draft.questions.exists()


def test_the_service_refuses_a_criterion_that_is_not_a_quality_one_of_the_opportunity(
    draft, officer, clock
):
    other = make_opportunity(officer, "3000.00", title="Window cleaning")
    price = draft.criteria.get(is_price=True)
    for criterion in (price, quality(other), None):
        with pytest.raises(QuestionnaireInvalid) as refused:
            question_add(
                opportunity=draft,
                by=officer,
                kind=QuestionKind.QUALITY,
                text="Method?",
                weight=50,
                criterion=criterion,
            )
        assert refused.value.by_field == {"criterion": [q.CHOOSE_CRITERION]}
    with pytest.raises(QuestionnaireInvalid) as refused:
        question_add(
            opportunity=draft,
            by=officer,
            kind=QuestionKind.PASS_FAIL,
            text="Insured?",
            criterion=quality(draft),
            weight=10,
        )
    assert refused.value.by_field == {"criterion": [q.NO_CRITERION], "weight": [q.NO_WEIGHT]}
    with pytest.raises(QuestionnaireInvalid) as refused:
        question_add(opportunity=draft, by=officer, kind="essay", text="")
    assert refused.value.by_field == {"kind": [q.CHOOSE_KIND], "text": [q.ENTER_TEXT]}
    assert not draft.questions.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"description": " "}, q.ENTER_DESCRIPTION),
        ({"unit": ""}, q.ENTER_UNIT),
        ({"quantity": ""}, q.QUANTITY),
        ({"quantity": "0"}, q.QUANTITY),
        ({"quantity": "-3"}, q.QUANTITY),
        ({"quantity": "1.234"}, q.QUANTITY),
        ({"quantity": "lots"}, q.QUANTITY),
        ({"lot": "999999"}, q.CHOOSE_LOT),
    ],
)
def test_a_pricing_line_is_checked_and_what_was_typed_is_kept(draft, officer, overrides, message):
    client = signed_in(officer)
    data = {"description": "Deep clean", "unit": "hour", "quantity": "12.5", "lot": ""}
    data.update(overrides)
    response = client.post(url("questionnaire_line_add", draft), data)
    assert message in errors_of(response)
    assert response.context["form"]["description"].value() == data["description"]
    assert not draft.pricing_lines.exists()


def test_the_service_refuses_another_opportunitys_lot_and_a_bad_quantity(draft, officer, clock):
    other = make_opportunity(officer, "3000.00", title="Window cleaning")
    with pytest.raises(QuestionnaireInvalid) as refused:
        pricing_line_add(
            opportunity=draft,
            by=officer,
            description="Visit",
            unit="visit",
            quantity=D("0.001"),
            lot=other.lots.get(),
        )
    assert refused.value.by_field == {"quantity": [q.QUANTITY], "lot": [q.CHOOSE_LOT]}


# --- Publishing -----------------------------------------------------------------------------


def test_publishing_is_refused_until_the_questionnaire_is_complete(draft, officer):
    opportunity_update_draft(
        opportunity=draft,
        by=officer,
        criteria=[
            CriterionSpec("Price", 40, is_price=True),
            CriterionSpec("Quality", 40),
            CriterionSpec("Social value", 20),
        ],
    )
    question = question_add(
        opportunity=draft,
        by=officer,
        kind=QuestionKind.QUALITY,
        text="Method?",
        weight=70,
        criterion=draft.criteria.get(name="Quality"),
    )
    client = signed_in(officer)
    response = client.post(url("opportunity_publish", draft))
    page = main_text(response)
    assert "This opportunity cannot be published yet" in page
    assert (
        "The weights of the questions of the criterion Quality add up to 70; they must add up "
        "to 100." in page
    )
    assert "Add at least one question to the criterion Social value." in page
    assert Opportunity.objects.get(pk=draft.pk).status == S.DRAFT
    question_update(question=question, by=officer, weight=100)
    question_add(
        opportunity=draft,
        by=officer,
        kind=QuestionKind.QUALITY,
        text="What do you add locally?",
        weight=100,
        criterion=draft.criteria.get(name="Social value"),
    )
    assert questionnaire_problems(draft) == []
    client.post(url("opportunity_publish", draft))
    assert Opportunity.objects.get(pk=draft.pk).status == S.OPEN


def test_a_pricing_schedule_must_price_every_lot(draft, officer):
    pricing_line_add(
        opportunity=draft,
        by=officer,
        description="Visit",
        unit="visit",
        quantity=D(10),
        lot=draft.lots.get(number=1),
    )
    assert "Lot 2 has no pricing line: add one for it or for every lot." in questionnaire_problems(
        draft
    )
    with pytest.raises(OpportunityRefused) as refused:
        opportunity_publish(opportunity=draft, by=officer)
    assert "Add at least one question to the criterion Quality." in refused.value.problems


def test_an_opportunity_without_a_questionnaire_publishes_as_before(draft, officer):
    assert questionnaire_problems(draft) == []
    opportunity_publish(opportunity=draft, by=officer)
    assert Opportunity.objects.get(pk=draft.pk).status == S.OPEN


def test_editing_the_draft_keeps_the_questions_and_a_criterion_with_questions_stays(draft, officer):
    question = question_add(
        opportunity=draft,
        by=officer,
        kind=QuestionKind.QUALITY,
        text="Method?",
        weight=100,
        criterion=quality(draft),
    )
    opportunity_update_draft(
        opportunity=draft,
        by=officer,
        criteria=[CriterionSpec("Price", 30, is_price=True), CriterionSpec("quality", 70)],
    )
    question.refresh_from_db()
    assert question.criterion.weight == 70
    with pytest.raises(OpportunityRefused) as refused:
        opportunity_update_draft(
            opportunity=draft, by=officer, criteria=[CriterionSpec("Price", 100, is_price=True)]
        )
    assert refused.value.problems == [
        "The criterion quality has questions: move them to another criterion or remove them first."
    ]
    assert Question.objects.filter(pk=question.pk).exists()


# --- Copying from an earlier opportunity -------------------------------------------------


def test_copying_maps_criteria_by_name_and_lots_by_number_and_lists_what_it_could_not(
    draft, officer, clock
):
    source = make_opportunity(officer, "1000.00", "1000.00", "1000.00", title="Old cleaning")
    opportunity_update_draft(
        opportunity=source,
        by=officer,
        criteria=[
            CriterionSpec("Price", 40, is_price=True),
            CriterionSpec("QUALITY", 40),
            CriterionSpec("Social value", 20),
        ],
    )
    for text, name, weight in [
        ("Method?", "QUALITY", 100),
        ("Local jobs?", "Social value", 100),
    ]:
        question_add(
            opportunity=source,
            by=officer,
            kind=QuestionKind.QUALITY,
            text=text,
            weight=weight,
            criterion=source.criteria.get(name=name),
        )
    question_add(opportunity=source, by=officer, kind=QuestionKind.PASS_FAIL, text="Insured?")
    for number in (2, 3):
        pricing_line_add(
            opportunity=source,
            by=officer,
            description=f"Lot {number} visit",
            unit="visit",
            quantity=D(number),
            lot=source.lots.get(number=number),
        )
    client = signed_in(officer)
    overview = client.get(url("questionnaire", draft))
    assert [o.pk for o in overview.context["copy_form"].sources.values()] == [source.pk]
    response = client.post(url("questionnaire_copy", draft), {"source": source.pk}, follow=True)
    page = main_text(response)
    assert "Copied 2 questions and 2 pricing lines." in page
    assert (
        "Not copied, as this opportunity has no quality criterion of the same name: “Local jobs?”"
        in (page)
    )
    copied = list(draft.questions.order_by("number"))
    assert [(x.text, x.criterion_id, x.weight) for x in copied] == [
        ("Method?", quality(draft).pk, 100),
        ("Insured?", None, 0),
    ]
    lines = {line.description: line.lot for line in draft.pricing_lines.all()}
    assert lines["Lot 2 visit"] == draft.lots.get(number=2)
    assert lines["Lot 3 visit"] is None  # the target has no lot 3: every lot
    assert "questionnaire.copied" in codes(draft)


def test_another_councils_opportunity_cannot_be_copied(
    draft, officer, other_council, other_officer, clock
):
    council_with_policy(other_council)
    theirs = make_opportunity(other_officer, "3000.00", title="Their cleaning")
    question_add(opportunity=theirs, by=other_officer, kind=QuestionKind.PASS_FAIL, text="Ok?")
    with pytest.raises(OpportunityRefused):
        questionnaire_copy(source=theirs, target=draft, by=officer)
    client = signed_in(officer)
    response = client.post(url("questionnaire_copy", draft), {"source": theirs.pk})
    assert response.status_code == 404
    assert not draft.questions.exists()


def test_copying_into_a_closed_opportunity_is_refused(published, officer, clock, bidders):
    source = make_opportunity(officer, "1000.00", title="Old cleaning")
    question_add(opportunity=source, by=officer, kind=QuestionKind.PASS_FAIL, text="Insured?")
    clock.move_to(published.submission_deadline + datetime.timedelta(minutes=1))
    with pytest.raises(OpportunityRefused) as refused:
        questionnaire_copy(source=source, target=published, by=officer)
    assert "you can no longer change its questionnaire" in str(refused.value)


# --- Once published: amendments; after the deadline: nothing -----------------------------


def test_a_change_while_open_is_an_amendment_told_to_every_invitee(
    published, officer, bidders, django_capture_on_commit_callbacks
):
    line = published.pricing_lines.get(description="Deep clean")
    client = signed_in(officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("questionnaire_line_edit", published, line.pk),
            {"description": "Deep clean", "unit": "hour", "quantity": "12", "lot": ""},
            follow=True,
        )
    assert "This is an amendment: every invited supplier has been told." in main_text(response)
    amendment = Amendment.objects.get(opportunity=published)
    assert amendment.kind == AmendmentKind.QUESTIONNAIRE_CHANGED
    assert amendment.summary == (
        f"Pricing line 'Deep clean' quantity changed from 12.5 to 12. {q.RESUBMIT}"
    )
    told = Notification.objects.filter(event="opportunity.amended", object_id=str(published.pk))
    people = {n.recipient.supplier.legal_name for n in told}
    assert people == {"Bidder 1", "Bidder 2", "Bidder 3"}
    assert all(n.context["summary"] == amendment.summary for n in told)
    with django_capture_on_commit_callbacks(execute=True):
        question = question_add(
            opportunity=published,
            by=officer,
            kind=QuestionKind.PASS_FAIL,
            text="Do you pay the real living wage?",
        )
    latest = Amendment.objects.filter(opportunity=published).latest("pk")
    assert latest.summary == (
        f"Question {question.number} added (pass or fail): Do you pay the real living wage?. "
        f"{q.RESUBMIT}"
    )
    assert "opportunity.amended.questionnaire_changed" in codes(published)
    page = main_text(client.get(url("opportunity_detail", published)))
    assert "Questionnaire changed" in page and latest.summary in page


def test_after_the_deadline_the_questionnaire_cannot_change(published, officer, clock):
    question = published.questions.first()
    clock.move_to(published.submission_deadline + datetime.timedelta(minutes=1))
    with pytest.raises(OpportunityRefused) as refused:
        question_update(question=question, by=officer, text="Something else?")
    assert "this opportunity is closed for bids, so you can no longer change its questionnaire" in (
        str(refused.value)
    )
    client = signed_in(officer)
    response = client.get(url("questionnaire_question_edit", published, question.pk), follow=True)
    assert "you can no longer change its questionnaire" in main_text(response)
    assert response.redirect_chain[-1][0] == url("questionnaire", published)
    page = main_text(client.get(url("questionnaire", published)))
    assert "Add a question" not in page and "Copy from an earlier opportunity" not in page


@pytest.mark.parametrize("answered", [True, False])
def test_once_published_nothing_is_removed_and_the_refusal_says_nothing_of_the_bids(
    published, officer, clock, answered
):
    """The same refusal whether or not any bid answered (no count of sealed bids)."""
    if answered:
        answered_bid(published, bidder(1))
        answered_bid(published, bidder(2))
    question = published.questions.get(number=1)
    client = signed_in(officer)
    response = client.post(url("questionnaire_question_remove", published, question.pk))
    assert q.REMOVE_PUBLISHED in main_text(response)
    assert "bid" not in main_text(response).split(q.REMOVE_PUBLISHED)[0].split("Error")[-1]
    assert Question.objects.filter(pk=question.pk).exists()
    with pytest.raises(OpportunityRefused) as refused:
        question_remove(question=question, by=officer)
    assert refused.value.problems == [q.REMOVE_PUBLISHED]
    line = published.pricing_lines.first()
    with pytest.raises(OpportunityRefused) as refused:
        pricing_line_remove(line=line, by=officer)
    assert refused.value.problems == [q.REMOVE_PUBLISHED]
    # Its wording may change (a correction: the bids stand).
    question_update(question=question, by=officer, text="Describe your method, step by step.")
    if answered:
        assert Bid.objects.filter(opportunity=published, status=BidStatus.SUBMITTED).count() == 2
    overview = main_text(client.get(url("questionnaire", published)))
    assert "Remove" not in overview and "Copy from an earlier opportunity" not in overview


def test_a_draft_loses_a_question_and_a_line_and_numbers_the_rest_again(draft, officer):
    add_questionnaire(draft)
    question = draft.questions.get(number=1)
    line = draft.pricing_lines.first()
    question_remove(question=question, by=officer)
    pricing_line_remove(line=line, by=officer)
    assert not Question.objects.filter(pk=question.pk).exists()
    assert list(draft.questions.values_list("number", flat=True)) == [1, 2]
    assert list(draft.pricing_lines.values_list("number", flat=True)) == [1]


def test_a_new_quantity_returns_submitted_bids_to_their_drafts_with_totals_to_the_penny(
    published, officer, django_capture_on_commit_callbacks
):
    submitted = answered_bid(published, bidder(1), rates=("7.77", "7.77"))
    line = published.pricing_lines.get(description="Cleaning visit")  # 10 visits
    bid = submitted.bid
    draft_rate = PriceRate.objects.get(bid=bid, line=line, revision=None)
    assert draft_rate.total == D("77.70")
    with django_capture_on_commit_callbacks(execute=True):
        pricing_line_update(line=line, by=officer, quantity=D("12.5"))
    draft_rate.refresh_from_db()
    assert draft_rate.total == D("97.13")  # 12.5 × 7.77 = 97.125, half up
    # What was submitted stays as it was, but the bid must be submitted again: its
    # price was for 10 visits. The notice tells every invitee, bidders or not.
    assert PriceRate.objects.get(bid=bid, line=line, revision=submitted).total == D("77.70")
    bid.refresh_from_db()
    assert bid.status == BidStatus.DRAFT
    told = Notification.objects.filter(event="opportunity.amended", object_id=str(published.pk))
    assert {n.recipient.supplier.legal_name for n in told} == {"Bidder 1", "Bidder 2", "Bidder 3"}
    assert all(q.RESUBMIT in n.context["summary"] for n in told)
    again = bid_submit(bid=bid, by=bidder(1))
    assert again.number == 2 and again.price == D("97.13") + D("97.13")


def test_a_new_wording_leaves_the_submitted_bids_alone(published, officer):
    submitted = answered_bid(published, bidder(1))
    question_update(question=published.questions.get(number=1), by=officer, guidance="Be brief.")
    submitted.bid.refresh_from_db()
    assert submitted.bid.status == BidStatus.SUBMITTED


def test_line_total_rounds_half_up_to_the_penny():
    assert line_total(D("12.5"), D("7.77")) == D("97.13")
    assert line_total(D("3"), D("0.125")) == D("0.38")
    assert line_total(D("0.01"), D("0.49")) == D("0.00")


def test_a_question_moves_only_within_its_group(draft, officer):
    make = lambda text, **kw: question_add(  # noqa: E731
        opportunity=draft, by=officer, text=text, **kw
    )
    first = make("A?", kind=QuestionKind.QUALITY, criterion=quality(draft), weight=50)
    pass_fail = make("B?", kind=QuestionKind.PASS_FAIL)
    second = make("C?", kind=QuestionKind.QUALITY, criterion=quality(draft), weight=50)
    # Numbered as shown: the criterion's questions, then the pass/fail ones.
    assert [(x.pk) for x in draft.questions.order_by("number")] == [
        first.pk,
        second.pk,
        pass_fail.pk,
    ]
    with pytest.raises(OpportunityRefused) as refused:
        question_move(question=pass_fail, by=officer, up=True)
    assert refused.value.problems == ["Question 3 is already first in its group."]
    question_move(question=first, by=officer, up=False)
    assert list(draft.questions.order_by("number").values_list("text", flat=True)) == [
        "C?",
        "A?",
        "B?",
    ]


# --- Who may see and change it ---------------------------------------------------------------


def every_url(opportunity) -> tuple[list[str], list[str]]:
    question = opportunity.questions.first()
    line = opportunity.pricing_lines.first()
    reads = [url("questionnaire", opportunity)]
    edits = [
        url("questionnaire_question_add", opportunity),
        url("questionnaire_question_edit", opportunity, question.pk),
        url("questionnaire_question_remove", opportunity, question.pk),
        url("questionnaire_line_add", opportunity),
        url("questionnaire_line_edit", opportunity, line.pk),
        url("questionnaire_line_remove", opportunity, line.pk),
    ]
    posts_only = [
        url("questionnaire_question_move", opportunity, question.pk),
        url("questionnaire_copy", opportunity),
    ]
    return reads + edits, edits + posts_only


@pytest.mark.parametrize("persona", ["other_officer", "local_supplier_user", "anonymous"])
def test_everyone_but_the_councils_staff_gets_404(request, draft, officer, persona):
    add_questionnaire(draft)
    invite(
        opportunity=draft,
        suppliers=[request.getfixturevalue("local_supplier_user").supplier],
        by=officer,
    )
    opportunity_publish(opportunity=draft, by=officer)  # the supplier is invited
    anonymous = persona == "anonymous"
    client = Client() if anonymous else signed_in(request.getfixturevalue(persona))
    gets, posts = every_url(draft)
    for address in gets:
        response = client.get(address)
        expected = 302 if persona == "anonymous" else 404
        assert response.status_code == expected, address
    for address in posts:
        response = client.post(address, {"direction": "up", "source": draft.pk})
        expected = 302 if persona == "anonymous" else 404
        assert response.status_code == expected, address
        if persona == "anonymous":
            assert "sign-in" in response["Location"] or "login" in response["Location"]
    assert Amendment.objects.filter(opportunity=draft).count() == 0


def test_the_auditor_reads_the_overview_and_changes_nothing(draft, auditor):
    add_questionnaire(draft)
    client = signed_in(auditor)
    page = main_text(client.get(url("questionnaire", draft)))
    assert "only the council's procurement officers can change it" in page
    assert "Quality question 1: describe your approach." in page
    gets, posts = every_url(draft)
    for address in gets[1:]:
        assert client.get(address).status_code == 403, address
    for address in posts:
        assert client.post(address, {"direction": "up"}).status_code == 403, address
    assert draft.questions.count() == 3


def test_the_overview_makes_as_many_queries_for_20_questions_as_for_2(
    draft, officer, django_assert_num_queries
):
    client = signed_in(officer)
    add_questionnaire(draft, per_criterion=2)
    client.get(url("questionnaire", draft))  # sessions and caches settle
    with CaptureQueriesContext(connection) as two:
        assert client.get(url("questionnaire", draft)).status_code == 200
    draft.questions.all().delete()
    draft.pricing_lines.all().delete()
    add_questionnaire(draft, per_criterion=20)
    for n in range(2, 8):
        PricingLine.objects.create(
            opportunity=draft,
            number=n + 2,
            description=f"Line {n}",
            unit="job",
            quantity=n,
            lot=draft.lots.get(number=1 + n % 2),
        )
    with django_assert_num_queries(len(two.captured_queries)):
        response = client.get(url("questionnaire", draft))
    assert "Quality question 20: describe your approach." in main_text(response)


def test_a_lots_own_pricing_line_says_its_lot(draft, officer):
    """A line for lot 2 shows which lot it prices on the overview."""
    pricing_line_add(
        opportunity=draft,
        by=officer,
        description="Visit",
        unit="visit",
        quantity=D(2),
        lot=draft.lots.get(number=2),
    )
    page = main_text(signed_in(officer).get(url("questionnaire", draft)))
    assert "Visit visit 2 Lot 2" in page
