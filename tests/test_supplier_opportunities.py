"""The invited supplier's side of opportunities: its invitations, an
opportunity's page, questions and answers (never another supplier's private
ones), saying whether it will bid, deadlines in UK time, and 404 for anyone
not invited."""

from __future__ import annotations

import datetime
import functools
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cpv.models import CpvCode
from portal.models import AuditEvent, InboxMessage, User
from suppliers.export import organisation_data
from suppliers.models import SupplierOrganisation
from tenders.models import Clarification, Intention, Invitation, OpportunityStatus
from tenders.services import (
    CriterionSpec,
    LotSpec,
    NamesTheAsker,
    clarification_answer,
    clarification_ask,
    close_due,
    document_add,
    invite,
    opportunity_cancel,
    opportunity_create,
    opportunity_extend_deadline,
    opportunity_publish,
)
from tests.tenders_helpers import care_provider_that_also_cleans

LONDON = ZoneInfo("Europe/London")
# Summer time: 09:00 in London is 08:00 UTC.
START = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=LONDON)
QUESTIONS_CLOSE = datetime.datetime(2026, 6, 5, 17, 0, tzinfo=LONDON)
BIDS_CLOSE = datetime.datetime(2026, 6, 10, 12, 0, tzinfo=LONDON)
CLEANING = "90910000-9"


def london(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=LONDON)


@pytest.fixture
def clock(demo_data, settings, tmp_path):
    """Frozen in summer time; documents stored in a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def care_user(demo_data) -> User:
    """A second local supplier (Bradford Community Care CIC, which cleans too)."""
    return care_provider_that_also_cleans()


def make_open(
    officer: User,
    suppliers: list[SupplierOrganisation],
    *,
    title: str = "Office cleaning",
    lots: list[LotSpec] | None = None,
    questions_close: datetime.datetime = QUESTIONS_CLOSE,
    bids_close: datetime.datetime = BIDS_CLOSE,
    publish: bool = True,
):
    """A single-quote opportunity (under £10,000) published to ``suppliers``."""
    opportunity = opportunity_create(
        buyer=officer.buyer,
        by=officer,
        title=title,
        description="Cleaning of the town hall.\nTwice a week.",
        cpv=CpvCode.objects.get(code=CLEANING),
        contract_kind="services",
        lots=lots or [LotSpec("Town hall", Decimal("5000.00"), area="BD1")],
        criteria=[CriterionSpec("Price", 40, is_price=True), CriterionSpec("Quality", 60)],
        clarification_deadline=questions_close,
        submission_deadline=bids_close,
    )
    invite(opportunity=opportunity, suppliers=suppliers, by=officer)
    if publish:
        opportunity = opportunity_publish(opportunity=opportunity, by=officer)
    return opportunity


@pytest.fixture
def opportunity(clock, officer, local_supplier_user, care_user):
    return make_open(officer, [local_supplier_user.supplier, care_user.supplier])


def detail_url(opportunity) -> str:
    return reverse("tenders:opportunity_detail", args=[opportunity.pk])


def ask_url(opportunity) -> str:
    return reverse("tenders:opportunity_ask", args=[opportunity.pk])


def intention_url(opportunity) -> str:
    return reverse("tenders:opportunity_intention", args=[opportunity.pk])


# --- The list of invitations ------------------------------------------------------


def test_the_list_shows_its_invitations_open_first_with_deadlines_in_uk_time(
    client, clock, officer, local_supplier_user, care_user
):
    aire = local_supplier_user.supplier
    later = make_open(officer, [aire], title="Library cleaning", bids_close=london(2026, 6, 20, 12))
    # In winter (GMT) as well: 2 November 12:00 in London is 12:00 UTC.
    winter = make_open(
        officer,
        [aire],
        title="Depot cleaning",
        questions_close=london(2026, 10, 30, 17),
        bids_close=london(2026, 11, 2, 12),
    )
    sooner = make_open(officer, [aire], title="Town hall cleaning")
    closing = make_open(
        officer,
        [aire],
        title="Museum cleaning",
        questions_close=london(2026, 6, 1, 10),
        bids_close=london(2026, 6, 1, 12),
    )
    cancelled = make_open(officer, [aire], title="Pool cleaning")
    opportunity_cancel(opportunity=cancelled, by=officer, reason="The pool is closing.")
    draft = make_open(officer, [aire], title="Draft cleaning", publish=False)
    never_published = make_open(officer, [aire], title="Withdrawn cleaning", publish=False)
    opportunity_cancel(opportunity=never_published, by=officer, reason="Not needed.")
    make_open(officer, [care_user.supplier], title="Someone else's cleaning")
    clock.move_to(london(2026, 6, 1, 13))
    assert close_due() == 1

    client.force_login(local_supplier_user)
    response = client.get(reverse("tenders:opportunity_list"))
    page = response.content.decode()
    titles = [i.opportunity.title for i in response.context["invitations"]]
    # Open ones by nearest deadline, then the rest by latest deadline.
    assert titles == [
        "Town hall cleaning",
        "Library cleaning",
        "Depot cleaning",
        "Pool cleaning",
        "Museum cleaning",
    ]
    assert "Closes 10 June 2026 at 12:00" in page
    assert "Closes 2 November 2026 at 12:00" in page
    assert "Closed 1 June 2026 at 12:00" in page
    assert "Cancelled 1 June 2026" in page
    assert "5 invitations" in page
    for hidden in ["Draft cleaning", "Withdrawn cleaning", "Someone else"]:
        assert hidden not in page
    assert {later.pk, winter.pk, sooner.pk, closing.pk} <= {
        i.opportunity_id for i in response.context["invitations"]
    }
    assert draft.status == OpportunityStatus.DRAFT


def test_a_supplier_with_no_invitations_is_told_so(client, clock, local_supplier_user):
    client.force_login(local_supplier_user)
    page = client.get(reverse("tenders:opportunity_list")).content.decode()
    assert "You have no invitations to bid yet" in page
    # The caption names the supplier (read apart when there is no invitation).
    name = local_supplier_user.supplier.legal_name
    assert f'<span class="govuk-caption-l">{name}</span>' in page
    assert client.get(reverse("tenders:opportunity_list"), {"page": "7"}).status_code == 200


def test_the_lists_tags_deadlines_and_intentions_are_those_of_the_other_pages(
    client, clock, officer, local_supplier_user
):
    """The list works out each row's status tag and deadline in Python
    (``list_rows``): they are the markup of the includes the opportunity page
    and the home page show, for every status a supplier sees."""
    from django.template.loader import render_to_string

    from tenders.models import Opportunity

    tagged = make_open(officer, [local_supplier_user.supplier], title="Tagged cleaning")
    client.force_login(local_supplier_user)
    intentions = {Intention.YES: "Yes", Intention.NO: "No", Intention.UNKNOWN: "Not said yet"}
    shown = [status for status in OpportunityStatus.values if status != OpportunityStatus.DRAFT]
    for status, (intention, words) in zip(shown, [*intentions.items()] * 2, strict=False):
        Opportunity.objects.filter(pk=tagged.pk).update(
            status=status,
            cancelled_at=timezone.now() if status == OpportunityStatus.CANCELLED else None,
        )
        Invitation.objects.filter(opportunity=tagged).update(intention=intention)
        tagged.refresh_from_db()
        page = client.get(reverse("tenders:opportunity_list")).content.decode()
        start = page.index("Tagged cleaning")
        row = page[start : page.index("</tr>", start)]
        for include, context in [
            ("tenders/supplier/status_tag.html", {"status": status}),
            ("tenders/supplier/deadline.html", {"opportunity": tagged}),
        ]:
            assert render_to_string(include, context).strip() in row, status
        assert f'<td class="govuk-table__cell">{words}</td>' in row


LIST_QUERIES = 4  # session, user, the page with its count and the supplier's name, unread count


def test_the_list_makes_a_fixed_number_of_queries(
    client, clock, officer, local_supplier_user, django_assert_num_queries
):
    aire = local_supplier_user.supplier
    make_open(officer, [aire])
    client.force_login(local_supplier_user)
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(reverse("tenders:opportunity_list")).status_code == 200
    for n in range(30):
        make_open(officer, [aire], title=f"Cleaning {n}")
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(reverse("tenders:opportunity_list"))
    assert len(response.context["invitations"]) == 20
    assert response.context["page"].has_next()
    assert f'<span class="govuk-caption-l">{aire.legal_name}</span>' in response.content.decode()
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(reverse("tenders:opportunity_list"), {"page": 2})
    assert len(response.context["invitations"]) == 11


# --- One opportunity ------------------------------------------------------------------


def test_the_page_shows_what_an_invited_supplier_needs(client, clock, officer, local_supplier_user):
    opportunity = make_open(
        officer,
        [local_supplier_user.supplier],
        lots=[
            LotSpec("North", Decimal("2500.00"), area="BD10"),
            LotSpec("South", Decimal("2400.50"), area="BD4"),
        ],
    )
    document_add(
        opportunity=opportunity,
        upload=SimpleUploadedFile("specification.txt", b"Clean the town hall.", "text/plain"),
        by=officer,
    )
    clock.move_to(london(2026, 6, 2, 10, 30))
    opportunity_extend_deadline(
        opportunity=opportunity,
        by=officer,
        submission_deadline=london(2026, 6, 12, 12),
        reason="More time to visit.",
    )
    client.force_login(local_supplier_user)
    response = client.get(detail_url(opportunity))
    page = response.content.decode()
    assert response.status_code == 200
    for text in [
        "Demo Council",
        opportunity.reference,
        "Office cleaning",
        "Cleaning of the town hall.<br>Twice a week.",
        "90910000-9",
        "BD10",
        "£2,500.00",
        "BD4",
        "£2,400.50",
        "Price",
        "40%",
        "Quality",
        "60%",
        "5 June 2026 at 17:00",
        "12 June 2026 at 12:00",
        "specification.txt",
        "Document added: specification.txt.",
        "2 June 2026 at 10:30",
        "Deadline extended",
    ]:
        assert text in page, text
    document = opportunity.documents.get()
    assert reverse("tenders:opportunity_document", args=[opportunity.pk, document.pk]) in page
    download = client.get(
        reverse("tenders:opportunity_document", args=[opportunity.pk, document.pk])
    )
    assert b"".join(download.streaming_content) == b"Clean the town hall."
    assert "Send your question" in page and "Do you intend to bid?" in page


def test_a_supplier_that_was_not_invited_gets_404_everywhere(
    client, opportunity, distant_supplier_user
):
    client.force_login(distant_supplier_user)
    assert client.get(detail_url(opportunity)).status_code == 404
    assert client.post(ask_url(opportunity), {"question": "Hello?"}).status_code == 404
    assert client.post(intention_url(opportunity), {"intention": "yes"}).status_code == 404
    assert not Clarification.objects.exists()


def test_a_draft_is_404_even_to_the_suppliers_invited_to_it(
    client, clock, officer, local_supplier_user
):
    draft = make_open(officer, [local_supplier_user.supplier], publish=False)
    client.force_login(local_supplier_user)
    assert client.get(detail_url(draft)).status_code == 404
    opportunity_cancel(opportunity=draft, by=officer, reason="Not needed after all.")
    assert client.get(detail_url(draft)).status_code == 404
    assert client.post(ask_url(draft), {"question": "Why?"}).status_code == 404


def test_council_users_cannot_ask_or_answer_for_a_supplier(
    client, opportunity, officer, other_officer
):
    client.force_login(officer)
    assert client.post(ask_url(opportunity), {"question": "Hi"}).status_code == 403
    assert client.post(intention_url(opportunity), {"intention": "yes"}).status_code == 403
    client.force_login(other_officer)
    assert client.post(ask_url(opportunity), {"question": "Hi"}).status_code == 404
    assert client.post(intention_url(opportunity), {"intention": "yes"}).status_code == 404


def test_the_actions_take_post_only(client, opportunity, local_supplier_user):
    client.force_login(local_supplier_user)
    assert client.get(ask_url(opportunity)).status_code == 405
    assert client.get(intention_url(opportunity)).status_code == 405
    assert client.post(detail_url(opportunity)).status_code == 405


# --- Questions and answers ---------------------------------------------------------------


def test_a_question_is_sent_to_the_council_and_shown_as_waiting(
    client, opportunity, local_supplier_user
):
    client.force_login(local_supplier_user)
    response = client.post(ask_url(opportunity), {"question": "  Are the windows included?  "})
    assert response.status_code == 302 and response["Location"] == detail_url(opportunity)
    question = Clarification.objects.get()
    assert question.question == "Are the windows included?"
    assert question.supplier == local_supplier_user.supplier
    assert question.asked_by == local_supplier_user
    assert AuditEvent.objects.filter(action="clarification.asked").exists()
    page = client.get(detail_url(opportunity)).content.decode()
    assert "Your question has been sent to the council" in page
    waiting = page.split("Your questions waiting for an answer", 1)[1]
    assert "Are the windows included?" in waiting


def test_an_empty_question_is_refused_and_nothing_is_sent(client, opportunity, local_supplier_user):
    client.force_login(local_supplier_user)
    response = client.post(ask_url(opportunity), {"question": "   "})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error:" in page and "Enter your question" in page
    assert not Clarification.objects.exists()


def test_answers_show_to_everyone_without_the_asker_and_private_ones_only_to_the_asker(
    client, opportunity, officer, local_supplier_user, care_user
):
    public = clarification_ask(
        opportunity=opportunity, by=care_user, question="Is parking available?"
    )
    private = clarification_ask(
        opportunity=opportunity, by=care_user, question="Can our CIC staff badge be used?"
    )
    clarification_ask(opportunity=opportunity, by=care_user, question="Our unanswered question")
    mine = clarification_ask(
        opportunity=opportunity, by=local_supplier_user, question="Which floors?"
    )
    clarification_answer(
        clarification=public, by=officer, answer="Yes, two spaces.", visibility="all"
    )
    clarification_answer(
        clarification=private, by=officer, answer="Yes, your badge is fine.", visibility="private"
    )
    clarification_answer(
        clarification=mine, by=officer, answer="Floors 1 to 3.", visibility="private"
    )

    client.force_login(local_supplier_user)
    page = client.get(detail_url(opportunity)).content.decode()
    assert "Is parking available?" in page and "Yes, two spaces." in page
    assert "Which floors?" in page and "Floors 1 to 3." in page
    for secret in [
        "Bradford Community Care",
        care_user.full_name,
        care_user.email,
        "Can our CIC staff badge be used?",
        "Yes, your badge is fine.",
        "Our unanswered question",
    ]:
        assert secret not in page, secret
    published = page.split('id="published-answers"', 1)[1].split("</dl>", 1)[0]
    assert "You asked this" not in published

    client.force_login(care_user)
    page = client.get(detail_url(opportunity)).content.decode()
    published = page.split('id="published-answers"', 1)[1].split("</dl>", 1)[0]
    assert "Is parking available?" in published and "You asked this" in published
    private_answers = page.split('id="private-answers"', 1)[1].split("</dl>", 1)[0]
    assert "Yes, your badge is fine." in private_answers
    assert "Our unanswered question" in page.split('id="waiting-questions"', 1)[1]
    assert "Which floors?" not in page and "Floors 1 to 3." not in page


NAMED = "Jo Pickles at Aire Valley Cleaning Ltd (BD1 4PB): can we visit the site first?"


def answer_url(clarification) -> str:
    return reverse(
        "tenders:clarification_answer", args=[clarification.opportunity_id, clarification.pk]
    )


@pytest.mark.parametrize(
    ("published", "answer", "found"),
    [
        # as asked: the pre-filled text, unchanged
        (NAMED, "Yes, on Monday.", "Aire Valley Cleaning Ltd, Jo Pickles, BD1 4PB"),
        # however the name is written: case, punctuation, spacing, "Limited" or none
        ("Can AIRE-VALLEY cleaning limited visit?", "Yes.", "Aire Valley Cleaning Ltd"),
        ("Can aire valley cleaning visit?", "Yes.", "Aire Valley Cleaning Ltd"),
        ("Can jo  pickles visit?", "Yes.", "Jo Pickles"),
        ("Can the team at bd14pb visit?", "Yes.", "BD1 4PB"),
    ],
)
def test_an_answer_to_everyone_that_names_the_asker_is_refused_naming_what_was_found(
    opportunity, officer, local_supplier_user, published, answer, found
):
    question = clarification_ask(opportunity=opportunity, by=local_supplier_user, question=NAMED)
    with pytest.raises(NamesTheAsker) as refused:
        clarification_answer(
            clarification=question,
            by=officer,
            answer=answer,
            visibility="all",
            published_question=published,
        )
    assert refused.value.by_field == {
        "published_question": f"The question as published names the supplier who asked "
        f"({found}): edit it out, or answer only the supplier who asked."
    }
    question.refresh_from_db()
    assert question.answered_at is None


def test_a_one_word_company_name_is_found_with_its_legal_form_not_as_a_word(
    opportunity, officer, local_supplier_user
):
    """A company called "Cleaning Ltd" would have blocked every public answer
    about cleaning: its one word is found only with its legal form."""
    from tenders.services.clarifications import asker_named_in

    supplier = local_supplier_user.supplier
    supplier.legal_name, supplier.trading_name = "Cleaning Ltd", ""
    found = functools.partial(
        asker_named_in, supplier=supplier, asker=local_supplier_user, postcodes=[]
    )
    assert found("Will the cleaning include the windows?") == []
    assert found("Cleaning Ltd asks: will the windows be included?") == ["Cleaning Ltd"]
    assert found("Cleaning Limited asks about the windows.") == ["Cleaning Ltd"]
    # A name of several words is found without its legal form, as before.
    supplier.legal_name = "Aire Valley Cleaning Ltd"
    assert found("Aire Valley Cleaning asks about the windows.") == ["Aire Valley Cleaning Ltd"]


def test_the_answer_itself_is_checked_and_a_private_answer_is_not(
    opportunity, officer, local_supplier_user
):
    question = clarification_ask(opportunity=opportunity, by=local_supplier_user, question=NAMED)
    with pytest.raises(NamesTheAsker) as refused:
        clarification_answer(
            clarification=question,
            by=officer,
            answer="Yes: Jo, park at 12 Manor Row, BD1 4PB.",
            visibility="all",
            published_question="Can suppliers visit the site first?",
        )
    assert list(refused.value.by_field) == ["answer"]
    assert "(BD1 4PB)" in refused.value.by_field["answer"]
    # The asker alone reads it: its own name is no secret to it.
    clarification_answer(
        clarification=question,
        by=officer,
        answer="Yes: Jo, park at 12 Manor Row, BD1 4PB.",
        visibility="private",
    )
    question.refresh_from_db()
    assert question.answered_at is not None


def test_an_anonymised_question_is_published_to_everyone(
    client, opportunity, officer, local_supplier_user, care_user
):
    question = clarification_ask(opportunity=opportunity, by=local_supplier_user, question=NAMED)
    clarification_answer(
        clarification=question,
        by=officer,
        answer="Yes, on Monday at 10:00.",
        visibility="all",
        published_question="Can suppliers visit the site first?",
    )
    client.force_login(care_user)
    page = client.get(detail_url(opportunity)).content.decode()
    assert "Can suppliers visit the site first?" in page and "Yes, on Monday at 10:00." in page
    assert "Pickles" not in page and "Aire Valley" not in page and "BD1 4PB" not in page


def test_the_officer_is_told_by_the_box_that_names_the_asker_and_keeps_what_was_typed(
    client, opportunity, officer, local_supplier_user, care_user
):
    question = clarification_ask(opportunity=opportunity, by=local_supplier_user, question=NAMED)
    client.force_login(officer)
    page = client.get(detail_url(opportunity)).content.decode()
    assert "This starts as the supplier&#x27;s own words: check it before you send." in page
    prefix = f"q{question.pk}"
    response = client.post(
        answer_url(question),
        {
            f"{prefix}-answer": "Yes, on Monday at 10:00 TYPED-KEPT.",
            f"{prefix}-visibility": "all",
            f"{prefix}-published_question": NAMED,
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        f'<a href="#id_{prefix}-published_question">The question as published names the '
        "supplier who asked (Aire Valley Cleaning Ltd, Jo Pickles, BD1 4PB)"
    ) in page
    assert "Yes, on Monday at 10:00 TYPED-KEPT." in page
    question.refresh_from_db()
    assert question.answered_at is None
    assert not InboxMessage.objects.filter(recipient=care_user).exists()


def test_a_question_one_second_after_the_deadline_is_refused_with_the_exact_time(
    client, clock, opportunity, local_supplier_user
):
    clock.move_to(QUESTIONS_CLOSE)
    client.force_login(local_supplier_user)
    response = client.post(ask_url(opportunity), {"question": "Just in time?"})
    assert response.status_code == 302
    clock.move_to(QUESTIONS_CLOSE + datetime.timedelta(seconds=1))
    client.force_login(local_supplier_user)
    response = client.post(ask_url(opportunity), {"question": "Too late?"})
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        "The deadline for questions was 5 June 2026 at 17:00:00 (UK time) and it is now "
        "5 June 2026 at 17:00:01 (UK time): questions are closed." in page
    )
    assert list(Clarification.objects.values_list("question", flat=True)) == ["Just in time?"]
    page = client.get(detail_url(opportunity)).content.decode()
    assert "The deadline for questions was 5 June 2026 at 17:00 (UK time)." in page
    assert "Send your question" not in page


# --- Whether it will bid -----------------------------------------------------------------


def test_a_supplier_says_it_intends_to_bid_and_may_change_its_mind(
    client, clock, opportunity, local_supplier_user
):
    invitation = Invitation.objects.get(
        opportunity=opportunity, supplier=local_supplier_user.supplier
    )
    assert invitation.intention == Intention.UNKNOWN
    client.force_login(local_supplier_user)
    response = client.post(intention_url(opportunity), {"intention": "yes"})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.intention == Intention.YES and invitation.intention_at == START
    page = client.get(detail_url(opportunity)).content.decode()
    assert "You have told the council that you intend to bid." in page
    assert "You told the council 1 June 2026 at 09:00 that you intend to bid." in page

    client.post(intention_url(opportunity), {"intention": "no"})
    invitation.refresh_from_db()
    assert invitation.intention == Intention.NO
    events = AuditEvent.objects.filter(action="invitation.intention").order_by("id")
    assert [e.changes["intention"] for e in events] == [["unknown", "yes"], ["yes", "no"]]


def test_an_intention_must_be_chosen(client, opportunity, local_supplier_user):
    client.force_login(local_supplier_user)
    response = client.post(intention_url(opportunity), {"intention": "maybe"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = client.post(intention_url(opportunity), {})
    assert "Select whether you intend to bid" in response.content.decode()


def test_the_two_forms_are_one_html_form_each_button_posting_to_its_own_view(
    client, opportunity, local_supplier_user
):
    client.force_login(local_supplier_user)
    page = client.get(detail_url(opportunity)).content.decode()
    form = page[page.index('<form method="post" action="' + ask_url(opportunity)) :]
    form = form[: form.index("</form>")]
    assert 'name="question"' in form and 'name="intention"' in form
    assert f'formaction="{ask_url(opportunity)}"' in form
    assert f'formaction="{intention_url(opportunity)}"' in form


def test_a_typed_question_is_kept_when_the_intention_is_refused(
    client, opportunity, local_supplier_user
):
    client.force_login(local_supplier_user)
    typed = "Does the contract include the car park?"
    response = client.post(
        intention_url(opportunity), {"question": typed, "save_intention": "Save your answer"}
    )
    page = response.content.decode()
    assert "Select whether you intend to bid" in page
    assert f"{typed}</textarea>" in page
    assert "Enter your question" not in page  # not sent, so not judged
    assert not Clarification.objects.exists()


def test_a_chosen_intention_is_kept_when_the_question_is_refused(
    client, opportunity, local_supplier_user
):
    client.force_login(local_supplier_user)
    response = client.post(ask_url(opportunity), {"question": " ", "intention": "no"})
    page = response.content.decode()
    assert "Enter your question" in page
    assert re.search(r'<input[^>]*value="no"[^>]*checked', page)
    assert (
        Invitation.objects.get(
            opportunity=opportunity, supplier=local_supplier_user.supplier
        ).intention_at
        is None
    )


def test_the_intention_cannot_change_once_the_opportunity_has_closed(
    client, clock, opportunity, local_supplier_user
):
    clock.move_to(BIDS_CLOSE + datetime.timedelta(seconds=1))
    close_due()
    client.force_login(local_supplier_user)
    page = client.get(detail_url(opportunity)).content.decode()
    assert "The deadline for bids has passed" in page
    assert "Save your answer" not in page
    response = client.post(intention_url(opportunity), {"intention": "yes"})
    assert (
        "The deadline for bids was 10 June 2026 at 12:00:00 (UK time) and it is now 10 June "
        "2026 at 12:00:01 (UK time): this opportunity is closed for bids, so you can no longer "
        "change your answer." in response.content.decode()
    )
    assert Invitation.objects.filter(intention=Intention.YES).count() == 0


def test_a_cancelled_opportunity_shows_the_reason(client, opportunity, officer, care_user):
    opportunity_cancel(opportunity=opportunity, by=officer, reason="Budget withdrawn.")
    client.force_login(care_user)
    page = client.get(detail_url(opportunity)).content.decode()
    assert "Cancelled" in page and "Budget withdrawn." in page
    assert "Send your question" not in page


DETAIL_QUERIES = 12  # with the supplier's bids for the lots


def test_the_page_makes_a_fixed_number_of_queries(
    client, clock, officer, local_supplier_user, care_user, django_assert_num_queries
):
    opportunity = make_open(officer, [local_supplier_user.supplier, care_user.supplier])
    client.force_login(local_supplier_user)
    with django_assert_num_queries(DETAIL_QUERIES):
        assert client.get(detail_url(opportunity)).status_code == 200

    many = make_open(
        officer,
        [local_supplier_user.supplier, care_user.supplier],
        lots=[LotSpec(f"Lot {n}", Decimal("400.00"), area=f"BD{n + 1}") for n in range(20)],
    )
    for n in range(5):
        document_add(
            opportunity=many,
            upload=SimpleUploadedFile(f"part-{n}.txt", b"Part of the specification.", "text/plain"),
            by=officer,
        )
    for n in range(10):
        question = clarification_ask(opportunity=many, by=care_user, question=f"Question {n}?")
        clarification_answer(
            clarification=question,
            by=officer,
            answer=f"Answer {n}.",
            visibility="all" if n % 2 else "private",
        )
        clarification_ask(opportunity=many, by=local_supplier_user, question=f"Ours {n}?")
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(detail_url(many))
    questions = response.context["questions"]
    assert len(response.context["lots"]) == 20 and len(response.context["documents"]) == 5
    assert (len(questions["published"]), len(questions["private"])) == (5, 0)
    assert len(questions["waiting"]) == 10


# --- Home page and the data export --------------------------------------------------------


def test_the_home_page_lists_invitations_open_first_with_a_link_to_all(
    client, clock, officer, local_supplier_user
):
    aire = local_supplier_user.supplier
    cancelled = make_open(officer, [aire], title="Pool cleaning")
    opportunity_cancel(opportunity=cancelled, by=officer, reason="Closing.")
    make_open(officer, [aire], title="Library cleaning", bids_close=london(2026, 6, 20, 12))
    make_open(officer, [aire], title="Town hall cleaning")
    client.force_login(local_supplier_user)
    page = client.get(reverse("home")).content.decode()
    listed = page.split('id="home-invitations"', 1)[1].split("</ul>", 1)[0]
    assert (
        listed.index("Town hall cleaning")
        < listed.index("Library cleaning")
        < listed.index("Pool cleaning")
    )
    assert "Closes 10 June 2026 at 12:00" in listed
    assert "You have no invitations" not in page
    assert reverse("tenders:opportunity_list") in page


def test_the_home_page_query_count_does_not_grow_with_invitations(
    client, clock, officer, local_supplier_user, django_assert_num_queries
):
    from tests.test_sign_in_and_homes import HOME_QUERIES

    client.force_login(local_supplier_user)
    with django_assert_num_queries(HOME_QUERIES["local_supplier_user"]):
        client.get(reverse("home"))
    for n in range(15):
        make_open(officer, [local_supplier_user.supplier], title=f"Cleaning {n}")
    with django_assert_num_queries(HOME_QUERIES["local_supplier_user"]):
        response = client.get(reverse("home"))
    assert len(response.context["invitations"]) == 10


def test_download_everything_includes_invitations_and_questions(
    opportunity, officer, local_supplier_user, care_user
):
    question = clarification_ask(
        opportunity=opportunity, by=local_supplier_user, question="Which floors?"
    )
    clarification_answer(clarification=question, by=officer, answer="All.", visibility="all")
    clarification_ask(opportunity=opportunity, by=care_user, question="Not ours")
    make_open(officer, [local_supplier_user.supplier], title="Draft cleaning", publish=False)
    data = organisation_data(local_supplier_user.supplier)
    assert [i["opportunity_reference"] for i in data["invitations"]] == [opportunity.reference]
    assert data["invitations"][0]["council"] == "Demo Council"
    assert data["invitations"][0]["intends_to_bid"] == "unknown"
    assert data["questions"] == [
        {
            "opportunity_reference": opportunity.reference,
            "asked_by": local_supplier_user.full_name,
            "asked_by_email": local_supplier_user.email,
            "asked_at": timezone.now(),
            "question": "Which floors?",
            "answer": "All.",
            "answer_published_to": "all",
            "answered_at": timezone.now(),
        }
    ]


def test_the_list_says_where_the_suppliers_own_bid_stands(
    client, clock, officer, local_supplier_user
):
    """A small supplier sees from its list which bids are still drafts: a
    draft not submitted by the deadline is no bid."""
    from tenders.services import DECLARATIONS, bid_save_draft, bid_start, bid_submit

    aire = local_supplier_user.supplier
    submitted = make_open(officer, [aire], title="Submitted cleaning")
    drafted = make_open(officer, [aire], title="Drafted cleaning")
    make_open(officer, [aire], title="Untouched cleaning")
    for opportunity, submit in ((submitted, True), (drafted, False)):
        bid = bid_start(lot=opportunity.lots.get(), by=local_supplier_user)
        bid_save_draft(
            bid=bid,
            by=local_supplier_user,
            price=Decimal("3900"),
            declarations=dict.fromkeys(DECLARATIONS, True),
        )
        if submit:
            bid_submit(bid=bid, by=local_supplier_user)
    client.force_login(local_supplier_user)
    response = client.get(reverse("tenders:opportunity_list"))
    states = {i.opportunity.title: i.your_bid for i in response.context["invitations"]}
    assert states == {
        "Submitted cleaning": "Submitted",
        "Drafted cleaning": "Draft, not submitted",
        "Untouched cleaning": "Not started",
    }
    assert "Your bid" in response.content.decode()
    # A submitted bid answers "Will you bid?": the list says so, and the
    # opportunity's page does not ask again.
    intends = {i.opportunity.title: i.intends for i in response.context["invitations"]}
    assert intends["Submitted cleaning"] == "Bid submitted"
    assert intends["Drafted cleaning"] == "Not said yet"
    page = client.get(reverse("tenders:opportunity_detail", args=[submitted.pk])).content.decode()
    assert "You have submitted a bid, so the council knows you are bidding." in page
    assert "You have not told the council yet" not in page and 'name="intention"' not in page
    page = client.get(reverse("tenders:opportunity_detail", args=[drafted.pk])).content.decode()
    assert "You have not told the council yet" in page and 'name="intention"' in page
    # The same words and colour for a draft here as in the list.
    assert 'govuk-tag--yellow">Draft, not submitted</strong>' in page
