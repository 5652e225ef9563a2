"""Answering suppliers' questions from the officer's page: to every invitee
without the asker's name, or privately to the asker's people."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from portal.models import InboxMessage
from tenders.models import Clarification
from tenders.services import clarification_ask, invite
from tests.tenders_helpers import approved_supplier
from tests.test_opportunity_pages import errors, main_text, open_opportunity

QUESTION = "Does the contract include the car park at Manor Row?"


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def question(officer, local_supplier_user):
    """An open opportunity with two invited suppliers; Aire Valley asks."""
    opportunity = open_opportunity(officer)
    other = approved_supplier("Bowling Cleaners Ltd", "BD4 7AA")
    invite(opportunity=opportunity, suppliers=[other], by=officer)
    return clarification_ask(opportunity=opportunity, by=local_supplier_user, question=QUESTION)


def answer_url(clarification: Clarification) -> str:
    return reverse(
        "tenders:clarification_answer", args=[clarification.opportunity_id, clarification.pk]
    )


def answer(client, clarification, text: str, visibility: str):
    prefix = f"q{clarification.pk}"
    return client.post(
        answer_url(clarification),
        {f"{prefix}-answer": text, f"{prefix}-visibility": visibility},
        follow=True,
    )


def test_the_officer_sees_who_asked_and_an_answer_form(officer_client, question):
    response = officer_client.get(
        reverse("tenders:opportunity_detail", args=[question.opportunity_id])
    )
    page = main_text(response)
    assert "Question from Aire Valley Cleaning Ltd" in page
    assert "Asked by Jo Pickles" in page
    assert QUESTION in page
    html = response.content.decode()
    assert answer_url(question) in html
    assert f'name="q{question.pk}-visibility"' in html


def test_an_answer_to_all_reaches_every_invitee_without_the_askers_name(
    officer_client, question, in_process_tasks, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = answer(officer_client, question, "Yes, the car park is included.", "all")
    assert "Every invited supplier has been sent it, without the asker's name." in main_text(
        response
    )
    answered = [m for m in mail.outbox if m.subject.startswith("Question answered")]
    assert sorted(m.to[0] for m in answered) == [
        "bids@bowling-cleaners-ltd.example",
        "supplier@aire-valley.example",
    ]
    for message in answered:
        body = message.body + "".join(str(a[0]) for a in message.alternatives)
        assert QUESTION in body and "Yes, the car park is included." in body
    # The other supplier learns the question and answer, not who asked.
    (theirs,) = [m for m in answered if m.to == ["bids@bowling-cleaners-ltd.example"]]
    body = theirs.body + "".join(str(a[0]) for a in theirs.alternatives)
    assert "Aire Valley" not in body and "Jo Pickles" not in body
    assert InboxMessage.objects.filter(event="clarification.answered").count() == 2
    question.refresh_from_db()
    assert (question.visibility, question.answered_by.email) == (
        "all",
        "officer@demo-council.example",
    )
    page = main_text(response)
    assert "sent to every invited supplier, without the asker's name" in page


def test_the_officer_takes_out_what_tells_who_asked_before_answering_everyone(
    officer_client,
    officer,
    local_supplier_user,
    in_process_tasks,
    django_capture_on_commit_callbacks,
):
    """RULES §4: answered to all invitees, anonymised. A question that names
    its asker is published in the officer's words: every email, inbox message
    and page shows those; the council's page keeps what was asked."""
    from tests.test_opportunity_pages import open_opportunity

    opportunity = open_opportunity(officer)
    other = approved_supplier("Bowling Cleaners Ltd", "BD4 7AA")
    invite(opportunity=opportunity, suppliers=[other], by=officer)
    asked = "Aire Valley Cleaning (our Shipley depot) asks: is the car park included?"
    clarification = clarification_ask(
        opportunity=opportunity, by=local_supplier_user, question=asked
    )
    # The form starts from the question as asked.
    page = officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    assert "The question as every invited supplier will read it" in page.content.decode()
    prefix = f"q{clarification.pk}"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(
            answer_url(clarification),
            {
                f"{prefix}-answer": "Yes, it is.",
                f"{prefix}-visibility": "all",
                f"{prefix}-published_question": "Is the car park included?",
            },
        )
    answered = [m for m in mail.outbox if m.subject.startswith("Question answered")]
    assert len(answered) == 2
    for message in answered:
        body = message.body + "".join(str(a[0]) for a in message.alternatives)
        assert "Is the car park included?" in body
        assert "Aire Valley" not in body and "Shipley depot" not in body
    clarification.refresh_from_db()
    assert clarification.shown_question == "Is the car park included?"
    assert clarification.question == asked  # the council keeps what was asked
    other_user = other.users.get()
    officer_client.force_login(other_user)
    theirs = main_text(
        officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    )
    assert "Is the car park included?" in theirs and "Shipley depot" not in theirs


def test_a_private_answer_reaches_only_the_askers_people(
    officer_client, question, in_process_tasks, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer(officer_client, question, "Only your site needs it.", "private")
    answered = [m for m in mail.outbox if m.subject.startswith("Question answered")]
    assert [m.to for m in answered] == [["supplier@aire-valley.example"]]


def test_an_answer_needs_text_and_a_choice_and_keeps_what_was_typed(officer_client, question):
    response = answer(officer_client, question, "", "")
    summary = errors(response)
    assert "Enter the answer" in summary and "Choose who sees the answer" in summary
    response = answer(officer_client, question, "Half an answer", "")
    assert "Half an answer" in response.content.decode()
    question.refresh_from_db()
    assert question.answered_at is None


def test_a_question_is_answered_once(officer_client, question):
    answer(officer_client, question, "Yes.", "all")
    response = answer(officer_client, question, "Yes again.", "all")
    assert "This question has already been answered." in errors(response)
    question.refresh_from_db()
    assert question.answer == "Yes."


def test_a_question_of_another_opportunity_is_404(officer_client, officer, question):
    other = open_opportunity(officer, title="Other work", cpv="90911200-8")
    url = reverse("tenders:clarification_answer", args=[other.pk, question.pk])
    prefix = f"q{question.pk}"
    response = officer_client.post(url, {f"{prefix}-answer": "Yes", f"{prefix}-visibility": "all"})
    assert response.status_code == 404
