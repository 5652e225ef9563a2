"""The evaluation panel (issue 17, ADR 14): naming it, declarations of
interest, independent marking, moderation and the agreed evaluation, through
the services and the pages; and nobody sees an evaluator's marks before
every evaluator has finished, on any page."""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal as D

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, Notification, User
from portal.services import user_create
from suppliers.models import SupplierOrganisation
from tenders.models import (
    MARK_SCALE,
    Answer,
    Bid,
    BidFile,
    BidRevision,
    BidStatus,
    Declaration,
    EvaluatorMark,
    ModeratedMark,
    Moderation,
    Opportunity,
    PanelMember,
    Question,
    QuestionKind,
    Score,
)
from tenders.services import (
    BidRefused,
    OpportunityRefused,
    declaration_make,
    evaluation,
    mark_set,
    marking_finish,
    marks_visible_to,
    moderate_set,
    moderation_agree,
    moderation_open,
    panel_member_remove,
    panel_set,
    score_set,
)
from tenders.services.panel import (
    ReasonNeeded,
    ReasonsNeeded,
    bid_sheet,
    canonical_marks,
    criterion_mark,
    member_of,
    moderate_bid,
    panel_of,
    panel_opportunity,
    place_on_panel,
)
from tests.evaluation_helpers import add_questionnaire, answered_bid
from tests.tenders_helpers import loaded_columns, make_opportunity
from tests.test_officer_bids import (
    bidder,
    main_text,
    open_box,
    publish_with_bidders,
    signed_in,
)

REFUSED = (BidRefused, OpportunityRefused)


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture
def clock(demo_data, settings, tmp_path):
    """Frozen now; bid files stored in a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def third_officer(demo_data, officer) -> User:
    return user_create(
        email="officer3@demo-council.example",
        full_name="Thea Third",
        role="officer",
        password="a long test passphrase",
        buyer=officer.buyer,
        by=None,
    )


@pytest.fixture
def opp(clock, officer, second_officer, in_process_tasks):
    """Two lots; Quality has two questions (weights 70 and 30) and there is a
    pass/fail question; Bidders 1 and 2 bid on lot 1, Bidder 3 on lot 2; opened."""
    opportunity = publish_with_bidders(officer, 3)
    add_questionnaire(opportunity)
    q1, q2 = Question.objects.filter(opportunity=opportunity, kind=QuestionKind.QUALITY)
    Question.objects.filter(pk=q1.pk).update(weight=70)
    Question.objects.filter(pk=q2.pk).update(weight=30)
    answered_bid(opportunity, bidder(1), rates=("100.00", "20.00"))
    answered_bid(opportunity, bidder(2), rates=("90.00", "20.00"))
    answered_bid(opportunity, bidder(3), lot_number=2)
    open_box(clock, opportunity, officer, second_officer)
    return opportunity


def questions(opportunity) -> list[Question]:
    return list(Question.objects.filter(opportunity=opportunity))


def bids(opportunity) -> list[Bid]:
    return list(
        Bid.objects.filter(opportunity=opportunity, status=BidStatus.SUBMITTED).order_by(
            "lot__number", "supplier__legal_name"
        )
    )


@pytest.fixture
def panel(opp, officer, second_officer):
    """Both officers evaluate; the first also moderates; spread 1."""
    panel_set(opportunity=opp, by=officer, evaluators=[officer, second_officer], moderator=officer)
    return opp


def declare(opportunity, *people) -> None:
    for person in people:
        declaration_make(opportunity=opportunity, by=person, conflict=False, details="")


def mark_all(opportunity, person, mark=3, passed=True, comment="Fine.") -> None:
    """``person`` marks every answer: ``mark`` may be a function of (bid, question)."""
    for bid in bids(opportunity):
        for q in questions(opportunity):
            value = mark(bid, q) if callable(mark) else mark
            ok = passed(bid, q) if callable(passed) else passed
            mark_set(
                bid=bid,
                question=q,
                by=person,
                mark=value if q.kind == QuestionKind.QUALITY else None,
                passed=ok if q.kind == QuestionKind.PASS_FAIL else None,
                comment=comment,
            )


def refused(call, **kwargs) -> str:
    with pytest.raises(REFUSED) as caught:
        call(**kwargs)
    return str(caught.value)


# --- Naming the panel ---------------------------------------------------------------------


def test_the_panel_is_officers_of_this_council_two_evaluators_one_moderator_after_opening(
    clock, opp, officer, second_officer, third_officer, auditor, other_officer
):
    # Before the opening: refused.
    sealed = make_opportunity(officer, "4000.00")
    assert "opened" in refused(
        panel_set,
        opportunity=sealed,
        by=officer,
        evaluators=[officer, second_officer],
        moderator=officer,
    )
    # Only the council's officers name it, and only they sit on it.
    assert "officers" in refused(
        panel_set,
        opportunity=opp,
        by=auditor,
        evaluators=[officer, second_officer],
        moderator=officer,
    )
    assert "not an officer of" in refused(
        panel_set,
        opportunity=opp,
        by=officer,
        evaluators=[officer, other_officer],
        moderator=officer,
    )
    assert "not an officer of" in refused(
        panel_set, opportunity=opp, by=officer, evaluators=[officer, auditor], moderator=officer
    )
    assert "at least two evaluators" in refused(
        panel_set, opportunity=opp, by=officer, evaluators=[officer], moderator=second_officer
    )
    assert "spread" in refused(
        panel_set,
        opportunity=opp,
        by=officer,
        evaluators=[officer, second_officer],
        moderator=officer,
        spread=6,
    )
    assert not PanelMember.objects.filter(opportunity=opp).exists()

    members = panel_set(
        opportunity=opp,
        by=officer,
        evaluators=[officer, second_officer],
        moderator=third_officer,
        spread=2,
    )
    assert {(m.officer_id, m.evaluates, m.moderates) for m in members} == {
        (officer.pk, True, False),
        (second_officer.pk, True, False),
        (third_officer.pk, False, True),
    }
    assert Moderation.objects.get(opportunity=opp).spread == 2
    # Each member named is told to declare first.
    named = Notification.objects.filter(event="panel.named", channel="email")
    assert set(named.values_list("recipient_id", flat=True)) == {
        officer.pk,
        second_officer.pk,
        third_officer.pk,
    }
    event = AuditEvent.objects.filter(action="panel.set").latest("pk")
    assert event.context["moderator"] == third_officer.full_name

    # Called again: the moderator changes (one moderator still), Thea evaluates.
    panel_set(
        opportunity=opp,
        by=officer,
        evaluators=[officer, second_officer, third_officer],
        moderator=officer,
    )
    active = PanelMember.objects.filter(opportunity=opp, removed_at__isnull=True)
    assert list(active.filter(moderates=True).values_list("officer_id", flat=True)) == [officer.pk]
    assert active.filter(evaluates=True).count() == 3


def test_a_member_who_has_marked_is_not_dropped_silently(
    opp, officer, second_officer, third_officer
):
    panel_set(
        opportunity=opp,
        by=officer,
        evaluators=[officer, second_officer, third_officer],
        moderator=officer,
    )
    declare(opp, third_officer)
    bid, q = bids(opp)[0], questions(opp)[0]
    mark_set(bid=bid, question=q, by=third_officer, mark=2, passed=None, comment="Thin.")
    assert "remove them and give the reason" in refused(
        panel_set,
        opportunity=opp,
        by=officer,
        evaluators=[officer, second_officer],
        moderator=officer,
    )
    member = PanelMember.objects.get(opportunity=opp, officer=third_officer)
    assert "reason" in refused(panel_member_remove, member=member, by=officer, reason=" ")
    panel_member_remove(member=member, by=officer, reason="Off sick for a month.")
    member.refresh_from_db()
    assert member.removed_at and member.removed_reason == "Off sick for a month."
    event = AuditEvent.objects.filter(action="panel.member_removed").latest("pk")
    assert event.context["reason"] == "Off sick for a month."
    assert "removed from the panel" in refused(
        mark_set, bid=bid, question=q, by=third_officer, mark=3, passed=None, comment="x"
    )


# --- Declarations -------------------------------------------------------------------------


def test_a_member_who_declared_a_conflict_cannot_mark_by_service_or_page(
    panel, officer, second_officer
):
    assert "with whom" in refused(
        declaration_make, opportunity=panel, by=second_officer, conflict=True, details=""
    )
    declaration_make(
        opportunity=panel, by=second_officer, conflict=True, details="My brother runs Bidder 2."
    )
    member = PanelMember.objects.get(opportunity=panel, officer=second_officer)
    assert member.declaration == Declaration.CONFLICT
    assert member.removed_at is not None
    assert "My brother runs Bidder 2." in member.removed_reason
    event = AuditEvent.objects.filter(action="panel.conflict_declared").latest("pk")
    assert event.actor == second_officer
    bid, q = bids(panel)[0], questions(panel)[0]
    assert (
        refused(mark_set, bid=bid, question=q, by=second_officer, mark=3, passed=None, comment="x")
        == "You declared a conflict of interest, so you cannot mark."
    )
    client = signed_in(second_officer)
    for url in (
        reverse("tenders:marking", args=[panel.pk]),
        reverse("tenders:marking_bid", args=[panel.pk, bid.pk]),
    ):
        assert client.get(url).status_code == 403
    response = client.post(
        reverse("tenders:marking_bid", args=[panel.pk, bid.pk]),
        {f"q{q.pk}_mark": "3", f"q{q.pk}_comment": "Sneaky."},
    )
    assert response.status_code == 403
    assert not EvaluatorMark.objects.exists()
    assert "declared a conflict of interest and cannot be named again" in refused(
        panel_set,
        opportunity=panel,
        by=officer,
        evaluators=[officer, second_officer],
        moderator=officer,
    )
    # One evaluator is left: the pages say another must be added.
    text = main_text(signed_in(officer).get(reverse("tenders:panel", args=[panel.pk])))
    assert "Fewer than two evaluators are left on the panel: an officer must add another." in text


def test_nobody_marks_before_declaring(panel, officer):
    bid, q = bids(panel)[0], questions(panel)[0]
    assert "Declare any conflict of interest before you mark" in refused(
        mark_set, bid=bid, question=q, by=officer, mark=3, passed=None, comment="x"
    )
    client = signed_in(officer)
    response = client.get(reverse("tenders:marking_bid", args=[panel.pk, bid.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("tenders:panel_declaration", args=[panel.pk])
    page = main_text(client.get(response["Location"]))
    for n in (1, 2, 3):
        assert f"Bidder {n}" in page
    response = client.post(response["Location"], {"conflict": "no"})
    assert response.status_code == 302
    assert PanelMember.objects.get(officer=officer, opportunity=panel).declaration == "none"
    assert client.get(reverse("tenders:marking_bid", args=[panel.pk, bid.pk])).status_code == 200


def test_saving_no_marks_says_so_rather_than_saved(panel, officer):
    """ "Save your marks" with nothing chosen said "Your marks for Bidder 1
    are saved." over a bid showing 0 of 3 marked."""
    from tenders.services import declaration_make

    declaration_make(opportunity=panel, by=officer, conflict=False, details="")
    bid = bids(panel)[0]
    response = signed_in(officer).post(reverse("tenders:marking_bid", args=[panel.pk, bid.pk]), {})
    assert response.status_code == 200
    page = main_text(response)
    assert "Choose a mark and write a comment for at least one question before you save" in page
    assert "are saved" not in page


def test_the_pages_of_the_panel_are_its_members_only(panel, officer, third_officer, auditor):
    bid = bids(panel)[0]
    for person in (third_officer, auditor):
        client = signed_in(person)
        for name, args in (
            ("panel_declaration", [panel.pk]),
            ("marking", [panel.pk]),
            ("marking_bid", [panel.pk, bid.pk]),
            ("marking_finish", [panel.pk]),
            ("moderation", [panel.pk]),
            ("moderation_bid", [panel.pk, bid.pk]),
        ):
            assert client.get(reverse(f"tenders:{name}", args=args)).status_code == 403, name
    # The auditor reads the panel page; only an officer names the panel.
    assert signed_in(auditor).get(reverse("tenders:panel", args=[panel.pk])).status_code == 200
    assert signed_in(auditor).post(reverse("tenders:panel", args=[panel.pk])).status_code == 403


# --- Marking ------------------------------------------------------------------------------


def test_marks_are_checked(panel, officer, second_officer, third_officer):
    declare(panel, officer)
    quality, _, pass_fail = questions(panel)
    bid = bids(panel)[0]
    cases = [
        (quality, None, None, "Good.", "a mark from 0 to 5"),
        (quality, 6, None, "Good.", "a mark from 0 to 5"),
        (quality, 3, None, "  ", "Write a comment"),
        (pass_fail, None, None, "Good.", "passes"),
    ]
    for question, mark, passed, comment, message in cases:
        assert message in refused(
            mark_set,
            bid=bid,
            question=question,
            by=officer,
            mark=mark,
            passed=passed,
            comment=comment,
        )
    other = make_opportunity(officer, "4000.00")
    alien = Question.objects.create(opportunity=other, kind=QuestionKind.PASS_FAIL, text="Alien?")
    assert "not one of this opportunity's" in refused(
        mark_set, bid=bid, question=alien, by=officer, mark=None, passed=True, comment="x"
    )
    Bid.objects.filter(pk=bid.pk).update(excluded_reason="Late insurance.", excluded_by=officer)
    assert "excluded" in refused(
        mark_set, bid=bid, question=quality, by=officer, mark=3, passed=None, comment="x"
    )
    assert "Only the members" in refused(
        mark_set,
        bid=bids(panel)[1],
        question=quality,
        by=third_officer,
        mark=3,
        passed=None,
        comment="x",
    )
    saved = mark_set(
        bid=bids(panel)[1], question=quality, by=officer, mark=0, passed=True, comment=" Blank. "
    )
    assert (saved.mark, saved.passed, saved.comment) == (0, None, "Blank.")


def test_marking_is_audited_without_the_mark(panel, officer):
    declare(panel, officer)
    bid, q = bids(panel)[0], questions(panel)[0]
    mark_set(bid=bid, question=q, by=officer, mark=4, passed=None, comment="AUDITSECRET-9q")
    event = AuditEvent.objects.filter(action="evaluation.marked").latest("pk")
    assert event.actor == officer
    assert event.context == {"bid": bid.pk, "supplier": bid.supplier_id, "question": q.number}
    dumped = json.dumps([[*e.context.values(), e.changes] for e in AuditEvent.objects.all()])
    assert "AUDITSECRET-9q" not in dumped


def test_finishing_needs_every_answer_and_freezes_the_marks_with_their_hash(
    panel, officer, second_officer
):
    declare(panel, officer)
    first = bids(panel)[0]
    mark_set(bid=first, question=questions(panel)[0], by=officer, mark=3, passed=None, comment="x")
    assert "8 answers left to mark" in refused(marking_finish, opportunity=panel, by=officer)
    mark_all(panel, officer)
    member = marking_finish(opportunity=panel, by=officer)
    marks = list(EvaluatorMark.objects.filter(member=member))
    assert len(marks) == 9  # three bids × three questions
    expected = hashlib.sha256(canonical_marks(marks).encode()).hexdigest()
    assert member.marks_sha256 == expected and member.finished_at
    event = AuditEvent.objects.filter(action="evaluation.finished").latest("pk")
    assert event.context["marks_sha256"] == expected
    assert "finished marking" in refused(
        mark_set,
        bid=first,
        question=questions(panel)[0],
        by=officer,
        mark=5,
        passed=None,
        comment="y",
    )
    assert not moderation_open(panel)


# --- Nobody sees another's marks before every evaluator has finished ----------------------


def panel_urls(opportunity) -> list[str]:
    urls = [
        reverse("tenders:opportunity_detail", args=[opportunity.pk]),
        reverse("tenders:panel", args=[opportunity.pk]),
        reverse("tenders:panel_declaration", args=[opportunity.pk]),
        reverse("tenders:marking", args=[opportunity.pk]),
        reverse("tenders:marking_finish", args=[opportunity.pk]),
        reverse("tenders:moderation", args=[opportunity.pk]),
        reverse("transparency:opportunity_history", args=[opportunity.pk]),
        reverse("transparency:index"),
        reverse("transparency:register"),
        reverse("transparency:register_csv"),
        reverse("transparency:flags_csv"),
        reverse("transparency:dashboard_csv"),
        reverse("tenders:full_tender_register_csv"),
        "/admin/",
        "/admin/portal/auditevent/",
        "/admin/tenders/opportunity/",
        f"/admin/tenders/opportunity/{opportunity.pk}/change/",
    ]
    for lot in opportunity.lots.all():
        urls.append(reverse("tenders:lot_evaluation", args=[opportunity.pk, lot.pk]))
        urls.append(reverse("tenders:lot_award", args=[opportunity.pk, lot.pk]))
    for bid in bids(opportunity):
        urls += [
            reverse("tenders:bid_detail", args=[opportunity.pk, bid.pk]),
            reverse("tenders:marking_bid", args=[opportunity.pk, bid.pk]),
            reverse("tenders:moderation_bid", args=[opportunity.pk, bid.pk]),
        ]
    event_ids = AuditEvent.objects.values_list("pk", flat=True).order_by("-pk")[:20]
    urls += [f"/admin/portal/auditevent/{pk}/change/" for pk in event_ids]
    return urls


def read_all(client, urls) -> str:
    pages = []
    for url in urls:
        response = client.get(url, follow=True)
        content = (
            b"".join(response.streaming_content)
            if getattr(response, "streaming", False)
            else response.content
        )
        pages.append(content.decode("utf-8", errors="replace"))
    return "\n".join(pages)


def test_evaluators_cannot_see_each_others_marks_before_every_evaluator_has_finished(
    panel, officer, second_officer, third_officer, auditor, admin_user
):
    declare(panel, officer, second_officer)
    mine, theirs = "MARKER-OFFICER-ONE-7f3a", "MARKER-OFFICER-TWO-2b9c"
    mark_all(panel, officer, mark=5, comment=mine)
    mark_all(panel, second_officer, mark=1, comment=theirs)
    marking_finish(opportunity=panel, by=officer)  # one finished: still sealed
    urls = panel_urls(panel)
    readers = {
        "officer (evaluator and moderator)": (officer, [theirs], [mine]),
        "second officer (evaluator)": (second_officer, [mine], [theirs]),
        "officer not on the panel": (third_officer, [mine, theirs], []),
        "auditor": (auditor, [mine, theirs], []),
        "superuser": (admin_user, [mine, theirs], []),
    }
    for who, (person, hidden, shown) in readers.items():
        text = read_all(signed_in(person), urls)
        for marker in hidden:
            assert marker not in text, f"{who} sees {marker}"
        for marker in shown:  # the scan is not blind: their own marks show
            assert marker in text, f"{who} does not see their own {marker}"
    assert not marks_visible_to(officer, panel).exclude(member__officer=officer).exists()
    assert not marks_visible_to(auditor, panel).exists()

    # Every evaluator has finished: the moderator is told, and sees both, side by side.
    assert not Notification.objects.filter(event="panel.moderation_ready").exists()
    marking_finish(opportunity=panel, by=second_officer)
    assert moderation_open(panel)
    ready = Notification.objects.filter(event="panel.moderation_ready", channel="email")
    assert list(ready.values_list("recipient_id", flat=True)) == [officer.pk]
    bid = bids(panel)[0]
    page = main_text(
        signed_in(officer).get(reverse("tenders:moderation_bid", args=[panel.pk, bid.pk]))
    )
    assert mine in page and theirs in page
    assert second_officer.full_name in page and "More than 1 apart" in page
    # Still nobody else.
    for person, hidden in ((second_officer, mine), (third_officer, theirs), (auditor, theirs)):
        assert hidden not in read_all(signed_in(person), urls)


# --- Moderation ---------------------------------------------------------------------------


@pytest.fixture
def finished(panel, officer, second_officer):
    """Both have marked and finished: Quality marks 1 and 4 on question 1 of
    every bid (beyond the spread), 3 and 4 on question 2; both pass every bid."""
    declare(panel, officer, second_officer)
    q1 = questions(panel)[0]
    mark_all(panel, officer, mark=lambda b, q: 1 if q == q1 else 3, comment="One's view.")
    mark_all(panel, second_officer, mark=lambda b, q: 4, comment="Two's view.")
    marking_finish(opportunity=panel, by=officer)
    marking_finish(opportunity=panel, by=second_officer)
    return panel


def test_moderation_needs_a_reason_beyond_the_spread(finished, officer, second_officer):
    q1, q2, pass_fail = questions(finished)
    bid = bids(finished)[0]
    assert "Only the panel's moderator" in refused(
        moderate_set,
        bid=bid,
        question=q2,
        by=second_officer,
        mark=4,
        passed=None,
        comment="x",
        reason="",
    )
    with pytest.raises(ReasonNeeded) as caught:
        moderate_set(
            bid=bid, question=q1, by=officer, mark=3, passed=None, comment="Agreed.", reason=""
        )
    assert "differ by more than 1" in str(caught.value)
    assert caught.value.question == q1  # the page shows it by this question's reason
    saved = moderate_set(
        bid=bid,
        question=q1,
        by=officer,
        mark=3,
        passed=None,
        comment="Agreed.",
        reason="Evidence in appendix B.",
    )
    one = PanelMember.objects.get(opportunity=finished, officer=officer)
    two = PanelMember.objects.get(opportunity=finished, officer=second_officer)
    assert saved.evaluator_marks == {str(one.pk): 1, str(two.pk): 4}
    assert saved.reason == "Evidence in appendix B."
    # 3 and 4 are within the spread: no reason needed.
    moderate_set(bid=bid, question=q2, by=officer, mark=4, passed=None, comment="Good.", reason="")
    # Pass/fail: a disagreement needs a reason.
    EvaluatorMark.objects.filter(member=two, bid=bid, question=pass_fail).update(passed=False)
    assert "differ" in refused(
        moderate_set,
        bid=bid,
        question=pass_fail,
        by=officer,
        mark=None,
        passed=True,
        comment="Ok.",
        reason="",
    )


def test_a_missing_reason_is_shown_by_the_questions_reason_field(finished, officer):
    """The summary links to the reason of the question whose marks differ (not the
    page's first field), the message is by that field, and what was typed stays."""
    q1, _q2, _pass_fail = questions(finished)
    bid = bids(finished)[0]
    response = signed_in(officer).post(
        reverse("tenders:moderation_bid", args=[finished.pk, bid.pk]),
        {f"q{q1.pk}_mark": "3", f"q{q1.pk}_comment": "TYPED-KEPT-57"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<a href="#id_q{q1.pk}_reason">The evaluators&#x27; marks for question 1' in page
    reason_field = page[page.index(f'for="id_q{q1.pk}_reason"') :]
    assert "govuk-error-message" in reason_field[: reason_field.index("</textarea>")]
    assert "TYPED-KEPT-57" in page
    assert not ModeratedMark.objects.filter(bid=bid).exists()


def test_every_missing_reason_is_reported_at_once_each_by_its_reason_field(
    finished, officer, second_officer
):
    """Two answers whose marks differ, neither with a reason: both are reported
    (not only the first), each linked to its own reason box; nothing is saved and
    what was typed stays, the third answer's reason included."""
    q1, q2, pass_fail = questions(finished)
    bid = bids(finished)[0]
    two = PanelMember.objects.get(opportunity=finished, officer=second_officer)
    EvaluatorMark.objects.filter(member=two, bid=bid, question=pass_fail).update(passed=False)
    response = signed_in(officer).post(
        reverse("tenders:moderation_bid", args=[finished.pk, bid.pk]),
        {
            f"q{q1.pk}_mark": "3",
            f"q{q1.pk}_comment": "TYPED-KEPT-58",
            f"q{q2.pk}_mark": "4",
            f"q{q2.pk}_comment": "Within the spread.",
            f"q{q2.pk}_reason": "TYPED-REASON-59",
            f"q{pass_fail.pk}_passed": "pass",
            f"q{pass_fail.pk}_comment": "TYPED-KEPT-60",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    summary = page[
        page.index("govuk-error-summary") : page.index("</ul>", page.index("govuk-error-summary"))
    ]
    for question in (q1, pass_fail):
        link = f'<a href="#id_q{question.pk}_reason">The evaluators&#x27; marks for question'
        assert f"{link} {question.number} differ" in summary
        reason_field = page[page.index(f'for="id_q{question.pk}_reason"') :]
        assert "govuk-error-message" in reason_field[: reason_field.index("</textarea>")]
    assert summary.count("<li") == 2
    assert all(typed in page for typed in ["TYPED-KEPT-58", "TYPED-REASON-59", "TYPED-KEPT-60"])
    assert not ModeratedMark.objects.filter(bid=bid).exists()


def test_moderating_a_bid_reports_every_missing_reason_and_saves_nothing(
    finished, officer, second_officer
):
    q1, q2, pass_fail = questions(finished)
    bid = bids(finished)[0]
    two = PanelMember.objects.get(opportunity=finished, officer=second_officer)
    EvaluatorMark.objects.filter(member=two, bid=bid, question=pass_fail).update(passed=False)
    entries = [
        (q1, 3, None, "Agreed.", ""),
        (q2, 4, None, "Good.", ""),
        (pass_fail, None, True, "Ok.", ""),
    ]
    with pytest.raises(ReasonsNeeded) as caught:
        moderate_bid(bid=bid, by=officer, entries=entries)
    assert [n.question for n in caught.value.needed] == [q1, pass_fail]
    assert not ModeratedMark.objects.filter(bid=bid).exists()
    entries[0] = (q1, 3, None, "Agreed.", "Evidence in appendix B.")
    entries[2] = (pass_fail, None, True, "Ok.", "The method statement meets it.")
    assert len(moderate_bid(bid=bid, by=officer, entries=entries)) == 3


def test_agreement_writes_the_weighted_scores_and_excludes_a_failed_bid(
    finished, officer, second_officer
):
    q1, q2, pass_fail = questions(finished)
    first, second, third = bids(finished)
    marks = {first.pk: (4, 3), second.pk: (5, 2), third.pk: (2, 2)}
    assert "still to moderate" in refused(moderation_agree, opportunity=finished, by=officer)
    for bid in (first, second, third):
        m1, m2 = marks[bid.pk]
        moderate_set(
            bid=bid,
            question=q1,
            by=officer,
            mark=m1,
            passed=None,
            comment=f"Q1 for {bid.pk}.",
            reason="Discussed.",
        )
        moderate_set(
            bid=bid,
            question=q2,
            by=officer,
            mark=m2,
            passed=None,
            comment=f"Q2 for {bid.pk}.",
            reason="",
        )
        moderate_set(
            bid=bid,
            question=pass_fail,
            by=officer,
            mark=None,
            passed=bid != second,
            comment="No certificate." if bid == second else "Certificate seen.",
            reason="",
        )
    assert "moderator" in refused(moderation_agree, opportunity=finished, by=second_officer)
    moderation = moderation_agree(opportunity=finished, by=officer)
    assert moderation.agreed_by == officer and moderation.agreed_at
    quality = finished.criteria.get(is_price=False)
    # Σ(weight × mark / 5) / Σ weights × 100: 70×4/5 + 30×3/5 = 74; 70 + 12 = 82; 28 + 12 = 40.
    expected = {first.pk: D("74.00"), second.pk: D("82.00"), third.pk: D("40.00")}
    for bid in (first, second, third):
        score = Score.objects.get(bid=bid, criterion=quality)
        assert score.mark == expected[bid.pk]
        assert score.scored_by == officer
        assert score.comment == (
            f"Question {q1.number}: Q1 for {bid.pk}.\nQuestion {q2.number}: Q2 for {bid.pk}."
        )
    second.refresh_from_db()
    assert second.excluded_reason == f"Failed: {pass_fail.text}: No certificate."
    assert second.excluded_by == officer
    assert AuditEvent.objects.filter(action="bid.excluded", context__bid=second.pk).exists()
    assert AuditEvent.objects.filter(action="evaluation.moderated").latest("pk").actor == officer
    # The ranking reads the agreed scores, without the excluded bid.
    lot1 = finished.lots.get(number=1)
    ranking = evaluation(lot1)
    assert [row.bid.pk for row in ranking] == [first.pk]
    assert ranking[0].scores["Quality"] == D("44.40")  # 74% of 60
    # Final: no more moderation, no officer's mark.
    assert "final" in refused(
        moderate_set,
        bid=first,
        question=q1,
        by=officer,
        mark=1,
        passed=None,
        comment="x",
        reason="y",
    )
    assert "marked by its evaluation panel" in refused(
        score_set, bid=first, criterion=quality, mark=D(50), comment="x", by=officer
    )
    page = main_text(
        signed_in(officer).get(reverse("tenders:lot_evaluation", args=[finished.pk, lot1.pk]))
    )
    assert "Ranking" in page and "74" not in page.split("Ranking")[0]


def test_criterion_mark_rounds_half_up_to_two_places():
    assert criterion_mark([(70, 4), (30, 3)]) == D("74.00")
    assert criterion_mark([(1, 1), (2, 0)]) == D("6.67")  # 0.2 / 3 × 100 = 6.666…
    assert criterion_mark([(8, 1), (192, 0)]) == D("0.80")
    assert criterion_mark([(3, 1), (5, 0)]) == D("7.50")  # 0.6 / 8 × 100 = 7.5
    assert criterion_mark([]) == D(0)


def test_score_set_refuses_an_opportunity_marked_by_its_panel(opp, officer):
    quality = opp.criteria.get(is_price=False)
    assert (
        refused(score_set, bid=bids(opp)[0], criterion=quality, mark=D(50), comment="x", by=officer)
        == "This opportunity is marked by its evaluation panel."
    )


# --- The pages, end to end ----------------------------------------------------------------


def test_the_whole_evaluation_through_the_pages(panel, officer, second_officer):
    one, two = signed_in(officer), signed_in(second_officer)
    detail = one.get(reverse("tenders:opportunity_detail", args=[panel.pk])).content.decode()
    assert f'href="{reverse("tenders:panel", args=[panel.pk])}"' in detail
    lot1 = panel.lots.get(number=1)
    progress = main_text(one.get(reverse("tenders:lot_evaluation", args=[panel.pk, lot1.pk])))
    assert "Panel progress" in progress and "Ranking" not in progress
    assert f"{second_officer.full_name} Not yet Not yet" in progress
    for client in (one, two):
        client.post(reverse("tenders:panel_declaration", args=[panel.pk]), {"conflict": "no"})
    q1, q2, pass_fail = questions(panel)
    url = reverse("tenders:marking_bid", args=[panel.pk, bids(panel)[0].pk])
    # A mark without a comment: refused, and what was typed stays.
    response = one.post(url, {f"q{q1.pk}_mark": "4", f"q{q2.pk}_comment": "TYPED-KEPT-31"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "TYPED-KEPT-31" in page and "Write a comment on question" in page
    assert f"3: {MARK_SCALE[3]}" in page and "Pass" in page and "Fail" in page
    assert "We clean every room daily" in page  # the bid's answer beside the marks
    # The file the pass/fail question asked for, linked under its answer.
    document = BidFile.objects.get(revision__bid=bids(panel)[0], question=pass_fail)
    link = reverse("tenders:bid_file", args=[panel.pk, bids(panel)[0].pk, document.pk])
    assert f'href="{link}">{document.original_name}</a>' in page
    assert "Choose a mark from 0 to 5 for question" in page
    assert not EvaluatorMark.objects.exists()
    for client in (one, two):
        for bid in bids(panel):
            response = client.post(
                reverse("tenders:marking_bid", args=[panel.pk, bid.pk]),
                {
                    f"q{q1.pk}_mark": "4",
                    f"q{q1.pk}_comment": "Clear method.",
                    f"q{q2.pk}_mark": "3",
                    f"q{q2.pk}_comment": "Adequate.",
                    f"q{pass_fail.pk}_passed": "pass",
                    f"q{pass_fail.pk}_comment": "Certificate attached.",
                },
            )
            assert response.status_code == 302
        listing = main_text(client.get(reverse("tenders:marking", args=[panel.pk])))
        assert "3 of 3" in listing
        assert client.post(reverse("tenders:marking_finish", args=[panel.pk])).status_code == 302
    assert moderation_open(panel)
    for bid in bids(panel):
        response = one.post(
            reverse("tenders:moderation_bid", args=[panel.pk, bid.pk]),
            {
                f"q{q1.pk}_mark": "4",
                f"q{q1.pk}_comment": "Agreed: clear method.",
                f"q{q2.pk}_mark": "3",
                f"q{q2.pk}_comment": "Agreed: adequate.",
                f"q{pass_fail.pk}_passed": "pass",
                f"q{pass_fail.pk}_comment": "Agreed: certificate attached.",
            },
        )
        assert response.status_code == 302
    assert ModeratedMark.objects.filter(bid__opportunity=panel).count() == 9
    page = main_text(one.get(reverse("tenders:moderation", args=[panel.pk])))
    assert "Agree the evaluation" in page
    assert one.post(reverse("tenders:moderation", args=[panel.pk])).status_code == 302
    assert Moderation.objects.get(opportunity=panel).agreed_at is not None
    # 70×4/5 + 30×3/5 = 74%.
    assert set(Score.objects.filter(bid__opportunity=panel).values_list("mark", flat=True)) == {
        D("74.00")
    }
    page = main_text(one.get(reverse("tenders:lot_evaluation", args=[panel.pk, lot1.pk])))
    assert "Ranking" in page and "Bidder 1" in page and "44.40" in page


# --- Query counts -------------------------------------------------------------------------


def grow(opportunity, n_bidders: int, n_questions: int, members: list[PanelMember]) -> None:
    """Bring ``opportunity`` to ``n_bidders`` bids on lot 1 and ``n_questions``
    questions, each answered and marked by every member, with bulk inserts."""
    quality = opportunity.criteria.get(is_price=False)
    have = Question.objects.filter(opportunity=opportunity).count()
    Question.objects.bulk_create(
        Question(
            opportunity=opportunity,
            kind=QuestionKind.QUALITY,
            criterion=quality,
            number=100 + i,
            text=f"Extra question {i}",
            weight=0,
        )
        for i in range(n_questions - have)
    )
    lot = opportunity.lots.get(number=1)
    have_bids = Bid.objects.filter(opportunity=opportunity, status=BidStatus.SUBMITTED).count()
    suppliers = SupplierOrganisation.objects.bulk_create(
        SupplierOrganisation(legal_name=f"Bulk bidder {uuid.uuid4().hex[:8]}")
        for _ in range(n_bidders - have_bids)
    )
    now = timezone.now()
    new_bids = Bid.objects.bulk_create(
        Bid(
            opportunity=opportunity,
            lot=lot,
            supplier=s,
            status=BidStatus.SUBMITTED,
            submitted_at=now,
        )
        for s in suppliers
    )
    officer = members[0].officer
    BidRevision.objects.bulk_create(
        BidRevision(
            bid=bid,
            number=1,
            price=D("1000.00"),
            submitted_by=officer,
            submitted_at=now,
            receipt_reference=f"R-{uuid.uuid4().hex}",
        )
        for bid in new_bids
    )
    all_bids = list(Bid.objects.filter(opportunity=opportunity, status=BidStatus.SUBMITTED))
    all_questions = list(Question.objects.filter(opportunity=opportunity))
    latest = {r.bid_id: r for r in BidRevision.objects.filter(bid__in=all_bids).order_by("number")}
    answered = set(
        Answer.objects.filter(revision__in=latest.values()).values_list("bid_id", "question_id")
    )
    Answer.objects.bulk_create(
        Answer(bid=b, question=q, revision=latest[b.pk], text="An answer.")
        for b in all_bids
        for q in all_questions
        if (b.pk, q.pk) not in answered
    )
    for member in members:
        marked = set(
            EvaluatorMark.objects.filter(member=member).values_list("bid_id", "question_id")
        )
        EvaluatorMark.objects.bulk_create(
            EvaluatorMark(
                member=member,
                bid=b,
                question=q,
                mark=3 if q.kind == QuestionKind.QUALITY else None,
                passed=True if q.kind == QuestionKind.PASS_FAIL else None,
                comment="A comment.",
            )
            for b in all_bids
            for q in all_questions
            if (b.pk, q.pk) not in marked
        )


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_the_panel_pages_cost_the_same_queries_at_50_bidders_and_20_questions(
    clock, officer, second_officer, third_officer, in_process_tasks, django_assert_num_queries
):
    opportunity = publish_with_bidders(officer, 2, "4000.00")
    quality = opportunity.criteria.get(is_price=False)
    for n in (1, 2):
        Question.objects.create(
            opportunity=opportunity,
            kind=QuestionKind.QUALITY if n == 1 else QuestionKind.PASS_FAIL,
            criterion=quality if n == 1 else None,
            number=n,
            text=f"Question {n}",
            weight=100 if n == 1 else 0,
        )
    answered_bid(opportunity, bidder(1))
    answered_bid(opportunity, bidder(2))
    open_box(clock, opportunity, officer, second_officer)
    panel_set(
        opportunity=opportunity,
        by=officer,
        evaluators=[officer, second_officer, third_officer],
        moderator=officer,
    )
    declare(opportunity, officer, second_officer, third_officer)
    members = list(PanelMember.objects.filter(opportunity=opportunity).order_by("pk"))
    grow(opportunity, 2, 2, members)
    evaluator, moderator = signed_in(second_officer), signed_in(officer)
    first_bid = bids(opportunity)[0]

    def urls() -> dict[str, str]:
        return {
            "marking": reverse("tenders:marking", args=[opportunity.pk]),
            "marking_bid": reverse("tenders:marking_bid", args=[opportunity.pk, first_bid.pk]),
            "moderation": reverse("tenders:moderation", args=[opportunity.pk]),
            "moderation_bid": reverse(
                "tenders:moderation_bid", args=[opportunity.pk, first_bid.pk]
            ),
        }

    def measure() -> dict[str, int]:
        PanelMember.objects.filter(opportunity=opportunity).update(finished_at=None)
        found = {
            name: count(evaluator, url)
            for name, url in urls().items()
            if name.startswith("marking")
        }
        PanelMember.objects.filter(opportunity=opportunity).update(finished_at=timezone.now())
        found |= {
            name: count(moderator, url)
            for name, url in urls().items()
            if name.startswith("moderation")
        }
        return found

    measure()  # caches filled
    small = measure()
    grow(opportunity, 50, 20, members)
    assert Bid.objects.filter(opportunity=opportunity, status=BidStatus.SUBMITTED).count() == 50
    assert EvaluatorMark.objects.filter(member__opportunity=opportunity).count() == 50 * 20 * 3
    PanelMember.objects.filter(opportunity=opportunity).update(finished_at=None)
    for name in ("marking", "marking_bid"):
        with django_assert_num_queries(small[name]):
            assert evaluator.get(urls()[name]).status_code == 200
    PanelMember.objects.filter(opportunity=opportunity).update(finished_at=timezone.now())
    for name in ("moderation", "moderation_bid"):
        with django_assert_num_queries(small[name]):
            response = moderator.get(urls()[name])
            assert response.status_code == 200
    # The moderator's page of a bid shows every evaluator's marks for all 20 questions.
    page = main_text(moderator.get(urls()["moderation_bid"]))
    assert page.count("A comment.") == 20 * 3


columns = loaded_columns


def test_a_bid_sheet_reads_what_the_orm_reads(panel, officer, second_officer, opp):
    """``bid_sheet`` (plain SQL) against the ORM, on both databases: the bid's
    supplier, lot and latest revision, the questions with their criteria in
    their order, that revision's answers, and the evaluator's own marks (those
    ``marks_visible_to`` gives them); None for a bid the panel does not mark."""
    declare(panel, officer, second_officer)
    mark_all(panel, second_officer, mark=4, passed=False, comment="Theirs.")
    first, second, third = bids(panel)
    member = PanelMember.objects.get(opportunity=panel, officer=officer)
    for q in questions(panel)[:2]:
        mark_set(bid=first, question=q, by=officer, mark=2, passed=None, comment="Mine.")
    pass_fail = Question.objects.get(opportunity=panel, kind=QuestionKind.PASS_FAIL)
    latest = BidRevision.objects.filter(bid=second).order_by("-number").first()
    Answer.objects.filter(revision=latest, question=pass_fail).update(confirmed=False)
    Answer.objects.filter(revision__bid=third, question=pass_fail).delete()
    BidFile.objects.filter(bid=third).delete()
    for bid in (first, second, third):
        sheet = bid_sheet(panel, bid.pk, marked_by=member)
        assert sheet is not None
        orm = Bid.objects.select_related("supplier", "lot").get(pk=bid.pk)
        revision = BidRevision.objects.filter(bid=bid).order_by("-number").first()
        assert sheet.bid.pk == bid.pk and sheet.bid.opportunity is panel
        assert sheet.bid.supplier.legal_name == orm.supplier.legal_name
        assert (sheet.bid.lot.number, sheet.bid.lot.title) == (orm.lot.number, orm.lot.title)
        assert sheet.bid.latest_revision == revision.pk
        has_files = BidFile.objects.filter(revision=revision).exists()
        assert sheet.bid.latest_revision_files is has_files
        assert has_files is (bid != third)
        expected = list(Question.objects.filter(opportunity=panel).select_related("criterion"))
        assert [columns(q) for q in sheet.questions] == [columns(q) for q in expected]
        assert [q.criterion and q.criterion.name for q in sheet.questions] == [
            q.criterion and q.criterion.name for q in expected
        ]
        answers = {a.question_id: columns(a) for a in Answer.objects.filter(revision=revision)}
        assert {pk: columns(a) for pk, a in sheet.answers.items()} == answers
        visible = marks_visible_to(officer, panel, member=member).filter(member=member, bid=bid)
        by_question = sorted(columns(m) for m in visible)
        assert sorted(columns(m) for m in sheet.own_marks) == by_question
        assert len(by_question) == (2 if bid == first else 0)
        unmarked = bid_sheet(panel, bid.pk)
        assert unmarked is not None and unmarked.own_marks == []
    assert sheet.answers.keys() == {q.pk for q in questions(panel)} - {pass_fail.pk}
    confirmed = bid_sheet(panel, second.pk).answers[pass_fail.pk].confirmed
    assert confirmed is False
    # Not a bid the panel marks: excluded, of another opportunity, or none at all.
    Bid.objects.filter(pk=first.pk).update(excluded_reason="Failed.")
    other = make_opportunity(officer, "1000.00")
    assert bid_sheet(panel, first.pk) is None
    assert bid_sheet(other, second.pk) is None
    assert bid_sheet(panel, 10**9) is None


def test_a_place_on_the_panel_reads_what_the_orm_reads(
    panel, officer, second_officer, third_officer
):
    """``place_on_panel`` (plain SQL) is ``member_of``, every column, on both databases."""
    declare(panel, officer, second_officer)
    mark_all(panel, second_officer)
    marking_finish(opportunity=panel, by=second_officer)
    panel_member_remove(
        member=PanelMember.objects.get(opportunity=panel, officer=officer),
        by=second_officer,
        reason="Moved.",
    )
    for person in (officer, second_officer):
        assert columns(place_on_panel(panel, person)) == columns(member_of(panel, person))
    assert place_on_panel(panel, third_officer) is None


def test_a_panel_opportunity_reads_what_the_orm_reads(finished, officer):
    """``panel_opportunity`` (plain SQL) is the opportunity as the ORM reads
    it, every column, on both databases, with whether its box is opened, its
    number of questions and when the evaluation was agreed; None for another
    council's (or no) opportunity."""
    sealed = make_opportunity(officer, "1000.00")
    for opportunity, agreed in ((finished, False), (sealed, False), (finished, True)):
        if agreed:
            for bid in bids(finished):
                for q in questions(finished):
                    quality = q.kind == QuestionKind.QUALITY
                    moderate_set(
                        bid=bid,
                        question=q,
                        by=officer,
                        mark=3 if quality else None,
                        passed=None if quality else True,
                        comment="Agreed.",
                        reason="Agreed.",
                    )
            moderation_agree(opportunity=finished, by=officer)
        read = panel_opportunity(officer.buyer_id, opportunity.pk)
        assert read is not None and read.get_deferred_fields() == set()
        assert columns(read) == columns(Opportunity.objects.get(pk=opportunity.pk))
        assert read.box_opened is (opportunity == finished)
        assert read.question_count == Question.objects.filter(opportunity=opportunity).count()
        moderation = Moderation.objects.filter(opportunity=opportunity).first()
        assert read.moderation_agreed_at == (moderation and moderation.agreed_at)
        assert (read.moderation_agreed_at is not None) is agreed
    assert panel_opportunity(officer.buyer_id + 1000, finished.pk) is None  # another council's
    assert panel_opportunity(officer.buyer_id, 10**9) is None


def test_a_panel_read_in_plain_sql_is_the_orms(panel, officer, second_officer, third_officer):
    """``panel_of`` (plain SQL) is the panel as the ORM reads it, in its order,
    every column and each officer's name, on both databases; removed members too."""
    panel_set(
        opportunity=panel,
        by=officer,
        evaluators=[officer, second_officer, third_officer],
        moderator=officer,
    )
    declare(panel, officer, second_officer)
    panel_member_remove(
        member=PanelMember.objects.get(opportunity=panel, officer=third_officer),
        by=officer,
        reason="Moved.",
    )
    expected = list(PanelMember.objects.filter(opportunity=panel).select_related("officer"))
    read = panel_of(panel)
    assert [columns(m) for m in read] == [columns(m) for m in expected]
    assert [m.officer.full_name for m in read] == [m.officer.full_name for m in expected]
    assert len(read) == 3 and read[-1].removed_at is not None
    assert panel_of(make_opportunity(officer, "1000.00")) == []


def test_an_officer_takes_a_member_off_the_panel_on_its_page_with_a_reason(
    panel, officer, second_officer
):
    member = PanelMember.objects.get(opportunity=panel, officer=second_officer)
    client = signed_in(officer)
    url = reverse("tenders:panel", args=[panel.pk])
    response = client.post(url, {f"m{member.pk}-member": member.pk, f"m{member.pk}-reason": ""})
    assert response.status_code == 200
    assert "Give the reason for taking them off the panel" in main_text(response)
    member.refresh_from_db()
    assert member.removed_at is None
    response = client.post(
        url, {f"m{member.pk}-member": member.pk, f"m{member.pk}-reason": "Moved to another team."}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.removed_reason == "Moved to another team."
    page = main_text(client.get(url))
    assert "Moved to another team." in page
    assert "Fewer than two evaluators are left on the panel" in page
    # Named again, they are back on the panel.
    response = client.post(
        url,
        {"evaluators": [officer.pk, second_officer.pk], "moderator": officer.pk, "spread": "2"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.removed_at is None
    assert Moderation.objects.get(opportunity=panel).spread == 2


# --- The panel settles as marking ends (the independent review's findings) ---------------


def test_nobody_who_may_have_read_the_marks_joins_as_an_evaluator(
    opp, officer, second_officer, third_officer
):
    """An evaluator who has not marked names themselves moderator once the
    others have finished (they read the marks), then tries to mark as well."""
    panel_set(
        opportunity=opp,
        by=officer,
        evaluators=[officer, second_officer, third_officer],
        moderator=officer,
    )
    declare(opp, officer, second_officer, third_officer)
    mark_all(opp, officer, mark=5, comment="Officer one thinks excellent")
    mark_all(opp, second_officer, mark=1, comment="Officer two thinks poor")
    marking_finish(opportunity=opp, by=officer)
    marking_finish(opportunity=opp, by=second_officer)
    panel_set(
        opportunity=opp,
        by=third_officer,
        evaluators=[officer, second_officer],
        moderator=third_officer,
    )
    assert moderation_open(opp)
    message = refused(
        panel_set,
        opportunity=opp,
        by=third_officer,
        evaluators=[officer, second_officer, third_officer],
        moderator=officer,
    )
    assert "nobody can join as an evaluator now" in message
    assert third_officer.full_name in message
    member = PanelMember.objects.get(opportunity=opp, officer=third_officer)
    assert (member.evaluates, member.moderates) == (False, True)


def test_the_spread_is_fixed_once_an_evaluator_has_finished(opp, officer, second_officer):
    panel_set(opportunity=opp, by=officer, evaluators=[officer, second_officer], moderator=officer)
    declare(opp, officer, second_officer)
    mark_all(opp, officer, mark=5)
    marking_finish(opportunity=opp, by=officer)
    message = refused(
        panel_set,
        opportunity=opp,
        by=officer,
        evaluators=[officer, second_officer],
        moderator=officer,
        spread=5,
    )
    assert "The spread is fixed once an evaluator has finished marking: it stays 1." in message
    assert Moderation.objects.get(opportunity=opp).spread == 1
