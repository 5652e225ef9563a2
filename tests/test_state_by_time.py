"""State that cannot go stale (ADR 11): the deadline decides at the moment of
the request on every path, with no worker and no beat; every status change
passes one gate; the rule's answer is today's; the statutory ceiling and the
band apply at the moment of the decision.

Every refusal here is checked to change nothing: ``rows`` reads every table an
action could write, before and after.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Callable
from decimal import Decimal as D
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, connections
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, Notification
from suppliers.models import SupplierOrganisation
from tenders import rules
from tenders.models import (
    Amendment,
    Award,
    Bid,
    BidRevision,
    BoxOpening,
    Clarification,
    Contract,
    Invitation,
    Lot,
    Opportunity,
    OpportunityDocument,
    OpportunityStatus,
    RelatedWorkCache,
    RouteCheck,
    RouteFactsVersion,
    StatutoryFigure,
    VatBasis,
    status_at,
    status_is,
    status_now,
)
from tenders.services import (
    BandNotMet,
    BidRefused,
    ChangedMeanwhile,
    LateBid,
    LotSpec,
    OpportunityRefused,
    RouteRefused,
    aggregation_override_record,
    award_lot,
    bid_save_draft,
    bid_start,
    bid_submit,
    bid_withdraw,
    box_open,
    clarification_answer,
    clarification_ask,
    close_due,
    current_route,
    document_add,
    intention_set,
    invite,
    lifecycle,
    opportunity_cancel,
    opportunity_change_value,
    opportunity_correct_details,
    opportunity_extend_deadline,
    opportunity_publish,
    route_for,
    routes,
    score_set,
)
from tenders.services.lifecycle import london_time
from tests.conftest import need
from tests.tenders_helpers import approved_supplier, make_opportunity
from tests.test_officer_bids import (
    ALL_DECLARED,
    bidder,
    main_text,
    publish_with_bidders,
    signed_in,
    submit,
)
from tests.test_opportunity_pages import when

S = OpportunityStatus
SECOND = datetime.timedelta(seconds=1)
# When the box may be opened: after the bids received in time have landed (ADR 17).
IN_FLIGHT = datetime.timedelta(seconds=settings.BIDS_IN_FLIGHT_SECONDS)


# --- Helpers --------------------------------------------------------------------------


def rows(opportunity: Opportunity) -> dict[str, Any]:
    """Everything an action on ``opportunity`` could have written."""
    o = Opportunity.objects.get(pk=opportunity.pk)

    def listed(model, **lookup):
        return list(model.objects.filter(**lookup).order_by("pk").values())

    return {
        "opportunity": model_to_dict(o),
        "status": o.status,
        "lots": listed(Lot, opportunity=o),
        "invitations": listed(Invitation, opportunity=o),
        "documents": listed(OpportunityDocument, opportunity=o),
        "amendments": listed(Amendment, opportunity=o),
        "clarifications": listed(Clarification, opportunity=o),
        "bids": listed(Bid, opportunity=o),
        "revisions": listed(BidRevision, bid__opportunity=o),
        "openings": listed(BoxOpening, opportunity=o),
        "awards": listed(Award, lot__opportunity=o),
        "contracts": Contract.objects.count(),
        "route_checks": RouteCheck.objects.filter(opportunity=o).count(),
        "audit": AuditEvent.objects.count(),
        "notifications": Notification.objects.count(),
    }


def names_both_times(message: str, deadline: datetime.datetime, now: datetime.datetime) -> bool:
    return london_time(deadline) in message and london_time(now) in message


@pytest.fixture
def clock(demo_data, settings, tmp_path):
    """Frozen now; uploads in a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def open_opportunity(clock, officer, in_process_tasks, settings, tmp_path) -> Opportunity:
    """Published with three local bidders; bidder 1 has a draft bid, bidder 2 a
    submitted one; a question was asked before the deadline for questions."""
    opportunity = publish_with_bidders(officer, 3)
    person = bidder(1)
    bid = bid_start(lot=opportunity.lots.get(number=1), by=person)
    bid_save_draft(bid=bid, by=person, price=D("3000.00"), declarations=ALL_DECLARED)
    submit(opportunity, 2, "2000.00")
    clarification_ask(opportunity=opportunity, by=bidder(3), question="Which floors?")
    for n in (1, 2):  # not invited yet
        approved_supplier(f"Newcomer {n}", f"BD{n} 9ZZ")
    return opportunity


# --- 1. The deadline decides every path, to the second --------------------------------

# A way to act on an open opportunity: ``act(opportunity, officer, n)``, where
# ``n`` (1 before the deadline, 2 after) keeps the second call's input distinct.
Act = Callable[[Opportunity, Any, int], object]


def _extend(opportunity, officer, n):
    return opportunity_extend_deadline(
        opportunity=opportunity,
        by=officer,
        submission_deadline=opportunity.submission_deadline + datetime.timedelta(days=7 * n),
        reason="More time.",
    )


def _correct(opportunity, officer, n):
    return opportunity_correct_details(
        opportunity=opportunity, by=officer, summary="Typo.", title=f"Office cleaning {n}"
    )


def _change_value(opportunity, officer, n):
    return opportunity_change_value(
        opportunity=opportunity,
        by=officer,
        lots=[LotSpec("Lot 1", D("4000.00") + n), LotSpec("Lot 2", D("4000.00"))],
        summary="More hours.",
    )


def _invite(opportunity, officer, n):
    newcomer = SupplierOrganisation.objects.get(legal_name=f"Newcomer {n}")
    return invite(opportunity=opportunity, suppliers=[newcomer], by=officer)


def _document(opportunity, officer, n):
    upload = SimpleUploadedFile(f"addendum-{n}.pdf", b"%PDF-1.4 addendum " + bytes([48 + n]))
    return document_add(opportunity=opportunity, upload=upload, by=officer)


def _intention(opportunity, officer, n):
    invitation = Invitation.objects.get(opportunity=opportunity, supplier=bidder(3).supplier)
    return intention_set(invitation=invitation, intention="yes" if n == 1 else "no", by=bidder(3))


def _start_bid(opportunity, officer, n):
    return bid_start(lot=opportunity.lots.get(number=n), by=bidder(3))


def _save_draft(opportunity, officer, n):
    bid = Bid.objects.get(opportunity=opportunity, supplier=bidder(1).supplier)
    return bid_save_draft(bid=bid, by=bidder(1), price=D("3000.00") + n, declarations=ALL_DECLARED)


def _submit(opportunity, officer, n):
    bid = Bid.objects.get(opportunity=opportunity, supplier=bidder(1).supplier)
    return bid_submit(bid=bid, by=bidder(1))


def _withdraw(opportunity, officer, n):
    bid = Bid.objects.get(opportunity=opportunity, supplier=bidder(2).supplier)
    if n == 1:  # withdrawn, then submitted again, so that it can be withdrawn once more
        bid_withdraw(bid=bid, by=bidder(2))
        bid_save_draft(bid=bid, by=bidder(2), price=D("2100.00"), declarations=ALL_DECLARED)
        return bid_submit(bid=bid, by=bidder(2))
    return bid_withdraw(bid=bid, by=bidder(2))


def _answer(opportunity, officer, n):
    if n == 1:
        asked = clarification_ask(opportunity=opportunity, by=bidder(2), question=f"Q{n}?")
        # Asked before the deadline for questions, answered before the deadline for bids.
        return clarification_answer(
            clarification=asked, by=officer, answer="Floors 1 to 3.", visibility="all"
        )
    waiting = Clarification.objects.get(opportunity=opportunity, question="Which floors?")
    return clarification_answer(
        clarification=waiting, by=officer, answer="Floors 1 to 3.", visibility="all"
    )


ACTIONS: dict[str, Act] = {
    "extend the deadline": _extend,
    "correct the details": _correct,
    "change the value": _change_value,
    "invite a supplier": _invite,
    "add a document": _document,
    "change the intention": _intention,
    "start a bid": _start_bid,
    "save a draft bid": _save_draft,
    "submit a bid": _submit,
    "withdraw a bid": _withdraw,
    "answer a question": _answer,
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_works_one_second_before_the_deadline_and_is_refused_one_second_after(
    action, open_opportunity, clock, officer
):
    """No worker and no beat: nothing records the closing. The deadline alone
    refuses every change a second after it, with both times, and nothing changes."""
    act = ACTIONS[action]
    if action == "answer a question":
        clock.move_to(open_opportunity.clarification_deadline - SECOND)
        act(open_opportunity, officer, 1)
    clock.move_to(open_opportunity.submission_deadline - SECOND)
    if action != "answer a question":
        act(Opportunity.objects.get(pk=open_opportunity.pk), officer, 1)  # allowed

    # The deadline as it is now (extending moved it).
    deadline = Opportunity.objects.get(pk=open_opportunity.pk).submission_deadline
    clock.move_to(deadline + SECOND)
    opportunity = Opportunity.objects.get(pk=open_opportunity.pk)
    assert opportunity.status == S.OPEN  # as stored: nothing has recorded the closing
    before = rows(opportunity)
    with pytest.raises((OpportunityRefused, BidRefused)) as refused:
        act(opportunity, officer, 2)
    assert names_both_times(str(refused.value), deadline, deadline + SECOND), str(refused.value)
    assert rows(opportunity) == before


def test_a_bid_at_the_deadline_itself_is_on_time(open_opportunity, clock):
    clock.move_to(open_opportunity.submission_deadline)
    bid = Bid.objects.get(opportunity=open_opportunity, supplier=bidder(1).supplier)
    revision = bid_submit(bid=bid, by=bidder(1))
    assert revision.submitted_at == open_opportunity.submission_deadline
    assert Opportunity.objects.get(pk=open_opportunity.pk).status_at(timezone.now()) == S.OPEN


def test_a_late_bid_is_refused_with_both_times_and_the_draft_is_kept(open_opportunity, clock):
    deadline = open_opportunity.submission_deadline
    clock.move_to(deadline + SECOND)
    bid = Bid.objects.get(opportunity=open_opportunity, supplier=bidder(1).supplier)
    with pytest.raises(LateBid) as late:
        bid_submit(bid=bid, by=bidder(1))
    assert names_both_times(str(late.value), deadline, deadline + SECOND)
    bid.refresh_from_db()
    assert bid.draft_price == D("3000.00") and not bid.revisions.exists()


def test_questions_stop_at_the_deadline_for_questions(open_opportunity, clock):
    questions_until = open_opportunity.clarification_deadline
    clock.move_to(questions_until - SECOND)
    clarification_ask(opportunity=open_opportunity, by=bidder(1), question="In time?")
    clock.move_to(questions_until + SECOND)
    before = rows(open_opportunity)
    with pytest.raises(OpportunityRefused) as refused:
        clarification_ask(opportunity=open_opportunity, by=bidder(1), question="Too late?")
    assert names_both_times(str(refused.value), questions_until, questions_until + SECOND)
    assert rows(open_opportunity) == before


def test_the_override_is_refused_after_the_deadline(clock, officer, second_officer):
    """An approver records a justification only while draft or open, in the service."""
    work = related_pair(officer)
    clock.move_to(work.submission_deadline + SECOND)
    before = rows(work)
    with pytest.raises(OpportunityRefused) as refused:
        aggregation_override_record(
            opportunity=work, by=second_officer, justification="A separate building entirely."
        )
    assert names_both_times(str(refused.value), work.submission_deadline, timezone.now())
    assert rows(work) == before


def test_the_pages_say_closed_and_offer_the_opening_the_moment_the_deadline_passes(
    open_opportunity, clock, officer, local_supplier_user
):
    detail = reverse("tenders:opportunity_detail", args=[open_opportunity.pk])
    clock.move_to(open_opportunity.submission_deadline - SECOND)
    page = main_text(signed_in(officer).get(detail))
    assert "Open for bids" in page and "Extend the deadline" in page
    assert "Open the bids" not in page

    clock.move_to(open_opportunity.submission_deadline + SECOND)
    client = signed_in(officer)
    page = main_text(client.get(detail))
    assert "Closed for bids" in page and "Open for bids" not in page
    for gone in ["Extend the deadline", "Correct the details", "Change the value", "Invite supp"]:
        assert gone not in page, gone
    assert "Cancel the opportunity" in page
    # The box waits for bids received before the deadline to land (ADR 17).
    assert "Open the bids" not in page
    opens = london_time(open_opportunity.submission_deadline + IN_FLIGHT).split(" at ")[1]
    assert "may still be being recorded" in page and opens in page
    clock.move_to(open_opportunity.submission_deadline + IN_FLIGHT + SECOND)
    client = signed_in(officer)
    page = main_text(client.get(detail))
    assert "Open the bids" in page
    listed = client.get(reverse("tenders:opportunity_list")).content.decode()
    row = listed[listed.index(open_opportunity.reference) :]
    row = row[: row.index("</tr>")]
    assert "Closed for bids" in row and "Open for bids" not in row
    # The supplier's pages say so too, and offer no bid form.
    supplier = signed_in(bidder(1))
    page = main_text(supplier.get(detail))
    assert "The deadline for bids has passed" in page
    assert "Closes " not in main_text(supplier.get(reverse("tenders:opportunity_list")))
    # A form posted after the deadline is refused with both times, nothing changed.
    before = rows(open_opportunity)
    later = open_opportunity.submission_deadline.date() + datetime.timedelta(days=30)
    response = client.post(
        reverse("tenders:opportunity_extend", args=[open_opportunity.pk]),
        {**when("submission", later, "12:00"), "reason": "More time."},
    )
    assert response.status_code == 200
    assert london_time(open_opportunity.submission_deadline) in main_text(response)
    assert rows(open_opportunity) == before


def test_the_box_opens_after_the_deadline_without_the_scheduled_task(
    open_opportunity, clock, officer, second_officer
):
    """Nothing waits for ``close_due``: the first confirmation records the closing
    (officers are told the bids are ready), the second opens the box."""
    clock.move_to(open_opportunity.submission_deadline - SECOND)
    with pytest.raises(BidRefused) as early:
        box_open(opportunity=open_opportunity, by=officer)
    assert "cannot be opened before the deadline" in str(early.value)
    clock.move_to(open_opportunity.submission_deadline + SECOND)
    with pytest.raises(BidRefused, match="may still be being recorded"):
        box_open(opportunity=open_opportunity, by=officer)
    clock.move_to(open_opportunity.submission_deadline + IN_FLIGHT + SECOND)
    box_open(opportunity=open_opportunity, by=officer)
    clock.shift(datetime.timedelta(minutes=1))
    box_open(opportunity=open_opportunity, by=second_officer)
    open_opportunity.refresh_from_db()
    assert open_opportunity.status == S.EVALUATION
    changes = [
        e.changes["status"]
        for e in AuditEvent.objects.filter(
            object_type="tenders.opportunity", object_id=str(open_opportunity.pk)
        ).order_by("pk")
        if "status" in (e.changes or {})
    ]
    assert changes == [["draft", "open"], ["open", "closed"], ["closed", "evaluation"]]
    # The scheduled task finds nothing left to record.
    assert close_due() == 0


def test_with_the_scheduled_task_having_run_the_answers_are_the_same(
    open_opportunity, clock, officer
):
    clock.move_to(open_opportunity.submission_deadline + IN_FLIGHT + SECOND)
    assert close_due() == 1
    assert close_due() == 0  # safe to run twice
    opportunity = Opportunity.objects.get(pk=open_opportunity.pk)
    assert opportunity.status == S.CLOSED
    before = rows(opportunity)
    for action in ACTIONS.values():
        with pytest.raises((OpportunityRefused, BidRefused)):
            action(opportunity, officer, 2)
    assert rows(opportunity) == before


@pytest.mark.services
def test_with_a_real_worker_closing_the_refusals_are_the_same(
    celery_worker, officer, second_officer, in_process_tasks
):
    """The beat's task, run by a real worker through Redis, records the closing;
    before and after it every change is refused the same and the box opens."""
    from portal.celery import app
    from tests.worker import wait_for

    app.conf.task_always_eager = False
    opportunity = publish_with_bidders(officer, 3)
    # Its deadline passed a minute ago (set directly: the clock is real here).
    passed = timezone.now() - datetime.timedelta(minutes=1)
    Opportunity.objects.filter(pk=opportunity.pk).update(
        submission_deadline=passed, clarification_deadline=passed - datetime.timedelta(days=1)
    )
    opportunity.refresh_from_db()
    with pytest.raises(OpportunityRefused) as refused:
        _extend(opportunity, officer, 2)
    assert london_time(passed) in str(refused.value)

    app.send_task("tenders.tasks.close_due_opportunities", queue=celery_worker.queue)
    closed = wait_for(
        lambda: Opportunity.objects.filter(pk=opportunity.pk, status=S.CLOSED).exists()
    )
    assert closed, celery_worker.output()
    opportunity.refresh_from_db()
    with pytest.raises(OpportunityRefused) as again:
        _extend(opportunity, officer, 2)
    assert str(again.value).startswith("The deadline for bids was")
    assert AuditEvent.objects.filter(action="opportunity.closed").count() == 1
    box_open(opportunity=opportunity, by=officer)
    box_open(opportunity=opportunity, by=second_officer)
    assert Opportunity.objects.get(pk=opportunity.pk).status == S.EVALUATION


# --- 2. One gate for every status change ----------------------------------------------


def test_the_status_at_a_moment_agrees_in_python_and_in_the_database(clock, officer):
    """``status_at``, the ``status_now`` annotation and the ``status_is`` filter
    give the same answer for every stored status, either side of the deadline."""
    opportunity = make_opportunity(officer, "1000.00")
    deadline = opportunity.submission_deadline
    for stored in S.values:
        Opportunity.objects.filter(pk=opportunity.pk).update(status=stored)
        for now in [deadline - SECOND, deadline, deadline + SECOND]:
            expected = status_at(stored, deadline, now)
            annotated = Opportunity.objects.annotate(at=status_now(now)).get(pk=opportunity.pk)
            assert annotated.at == expected == annotated.status_at(now), (stored, now)
            for status in S.values:
                found = Opportunity.objects.filter(status_is(status, now), pk=opportunity.pk)
                assert found.exists() is (status == expected), (stored, now, status)


def test_every_status_change_is_in_the_one_table():
    assert {
        "publish": (frozenset({S.DRAFT}), S.OPEN),
        "close": (frozenset({S.CLOSED}), S.CLOSED),
        "open_box": (frozenset({S.CLOSED}), S.EVALUATION),
        "award": (frozenset({S.EVALUATION}), S.AWARDED),
        "cancel": (frozenset({S.DRAFT, S.OPEN, S.CLOSED, S.EVALUATION}), S.CANCELLED),
    } == lifecycle.TRANSITIONS


def test_a_stale_read_cannot_move_the_opportunity(clock, officer):
    """Two requests read the same draft; the first cancels it; the second,
    publishing from what it read, is refused by the conditional update and
    changes nothing."""
    first = make_opportunity(officer, "1000.00")
    second = Opportunity.objects.get(pk=first.pk)
    opportunity_cancel(opportunity=first, by=officer, reason="Not needed.")
    before = rows(first)
    with pytest.raises(ChangedMeanwhile):
        lifecycle.move(second, "publish", by=officer, fields={"published_at": timezone.now()})
    assert rows(first) == before
    assert Opportunity.objects.get(pk=first.pk).published_at is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pair", [("cancel", "cancel"), ("publish", "publish")])
def test_two_concurrent_transitions_exactly_one_wins(pair, demo_data, officer, second_officer):
    need(connection.vendor == "postgresql", "concurrent writers need PostgreSQL")
    suppliers = [approved_supplier(f"Racer {n}", f"BD{n} 1AA") for n in range(1, 4)]
    opportunity = make_opportunity(officer, "4000.00")
    invite(opportunity=opportunity, suppliers=suppliers, by=officer)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(kind: str, who) -> None:
        try:
            barrier.wait(timeout=10)
            if kind == "cancel":
                opportunity_cancel(opportunity=opportunity, by=who, reason="Race.")
            else:
                opportunity_publish(opportunity=opportunity, by=who)
            outcomes.append("won")
        except OpportunityRefused:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(kind, who))
        for kind, who in zip(pair, [officer, second_officer], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "won"]
    status_changes = AuditEvent.objects.filter(
        object_id=str(opportunity.pk),
        action__in=["opportunity.cancelled", "opportunity.published"],
    )
    assert status_changes.count() == 1


def offered(html: str) -> list[str]:
    """The words of the buttons under "What you can do"."""
    import re

    if "What you can do" not in html:
        return []
    group = html.split("What you can do", 1)[1].split("</div>", 1)[0]
    return [re.sub(r"\s+", " ", b).strip() for b in re.findall(r">([^<>]+)</(?:a|button)>", group)]


def test_the_page_offers_what_the_table_allows_in_every_status(clock, officer):
    """The officer's buttons are the lifecycle's answer, never written per status."""
    from tenders.views.officer.opportunities import OFFERS

    opportunity = make_opportunity(officer, "1000.00")
    detail = reverse("tenders:opportunity_detail", args=[opportunity.pk])
    client = signed_in(officer)
    deadline = opportunity.submission_deadline
    for stored in S.values:
        for now in [deadline - SECOND, deadline + SECOND]:
            clock.move_to(now)
            Opportunity.objects.filter(pk=opportunity.pk).update(status=stored)
            fresh = Opportunity.objects.get(pk=opportunity.pk)
            client = signed_in(officer)
            shown = offered(client.get(detail).content.decode())
            expected = [
                label for step, label, _, _ in OFFERS if lifecycle.allowed(fresh, step, now)
            ]
            assert shown == expected, (stored, now)


# --- 4. A route that is never stale ------------------------------------------------------


def related_pair(officer) -> Opportunity:
    """An open £100,000 opportunity (invited tender, four local invitees) whose
    category already holds £90,000 of published work: refused for aggregation
    alone on today's facts, though it was published before the other work."""
    suppliers = [approved_supplier(f"Local {n}", f"BD{n} 2BB") for n in range(1, 5)]
    work = make_opportunity(officer, "100000.00", title="Library cleaning")
    invite(opportunity=work, suppliers=suppliers, by=officer)
    opportunity_publish(opportunity=work, by=officer)
    other = make_opportunity(officer, "70000.00", title="Depot cleaning")
    invite(opportunity=other, suppliers=suppliers, by=officer)
    # Published before the library's value grew: then only £170,000 in all.
    Opportunity.objects.filter(pk=other.pk).update(status=S.OPEN, published_at=timezone.now())
    Lot.objects.filter(opportunity=other).update(estimated_value=D("90000.00"))
    return Opportunity.objects.get(pk=work.pk)


def test_the_lists_route_tags_are_kept_only_while_the_facts_and_the_day_are(clock, officer):
    """The officer's list keeps each category's related work under the
    version the database's triggers raise (PostgreSQL): a change made
    anywhere, even straight in the database, shows on the next request."""
    need(connection.vendor == "postgresql", "the related work is kept on PostgreSQL only")
    RouteFactsVersion.objects.get_or_create(pk=1)  # a flushed database has no count
    client = signed_in(officer)
    make_opportunity(officer, "100000.00", title="Town hall cleaning")
    depot = make_opportunity(officer, "70000.00", title="Depot cleaning")
    Opportunity.objects.filter(pk=depot.pk).update(status=S.OPEN, published_at=timezone.now())

    def tag() -> str:
        listed = client.get(reverse("tenders:opportunity_list")).content.decode()
        row = listed[listed.index("Town hall cleaning") :]
        return row[: row.index("</tr>")]

    def version() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {routes._VERSION_SQL}")
            return cursor.fetchone()[0]

    assert "Invited tender" in tag()  # £170,000 in all
    kept = RelatedWorkCache.objects.get(buyer=officer.buyer)
    assert kept.version == version()
    # Pruning the list of changes leaves the version, and what is kept, as they were.
    routes.prune_fact_changes()
    assert kept.version == version()
    assert "Invited tender" in tag()  # read as kept
    assert RelatedWorkCache.objects.get(buyer=officer.buyer).data == kept.data
    Lot.objects.filter(opportunity=depot).update(estimated_value=D("90000.00"))
    assert version() == kept.version + 1
    assert 'govuk-tag--red">Full tender required' in tag()  # £190,000: at once
    Opportunity.objects.filter(pk=depot.pk).update(status=S.CANCELLED)
    assert "Invited tender" in tag()
    Opportunity.objects.filter(pk=depot.pk).update(status=S.OPEN)
    assert 'govuk-tag--red">Full tender required' in tag()
    # A year and a day on, the depot's work has left the window.
    clock.move_to(timezone.now() + datetime.timedelta(days=367))
    client = signed_in(officer)  # the session has long ended
    assert "Invited tender" in tag()


def as_read(data: str, own: set[int] | None = None) -> routes._Category:
    """``routes._Category`` as ``_CACHED_READ`` gives what ``kept`` wrote: every
    piece, or only those of ``own``."""
    kept = json.loads(data)
    work = {pk: v for pk, v in kept["work"].items() if own is None or int(pk) in own}
    return routes._Category.read(kept["rate"], json.dumps(kept["totals"]), json.dumps(work))


def test_a_category_is_kept_with_its_totals_and_read_as_added_up_now():
    """What the list keeps of a category (``routes._Category``): its pieces
    and their totals on both VAT bases at the policy's rate, read as
    ``rules.add_up`` gives them; at another rate they are added up when read."""
    pieces = {
        7: (D("1000.00"), rules.INCLUSIVE),
        9: (D("2500.01"), rules.EXCLUSIVE),
        12: (D("0.99"), rules.EXCLUSIVE),
    }
    rate = D("20.00")
    kept = as_read(routes._Category.kept(pieces, rate))
    for basis in (rules.INCLUSIVE, rules.EXCLUSIVE):
        for at in (rate, D("17.50")):
            expected = rules.add_up(list(pieces.values()), basis=basis, vat_rate_percent=at)
            assert kept.total(basis, at) == expected
    assert kept.totals  # the policy's rate is read as kept, not added up again
    assert kept.piece(9) == (D("2500.01"), rules.EXCLUSIVE)
    assert kept.piece(8) is None
    # Read for one row: its own piece, and the totals as kept.
    one = as_read(routes._Category.kept(pieces, rate), own={12})
    assert one.piece(12) == (D("0.99"), rules.EXCLUSIVE) and one.piece(9) is None
    assert one.total(rules.INCLUSIVE, rate) == kept.total(rules.INCLUSIVE, rate)


def test_a_list_reads_only_its_rows_pieces_of_a_kept_category_unless_the_rate_changed(
    officer, django_assert_num_queries
):
    """``_related_values`` on PostgreSQL: of a kept category, the totals as
    kept and only the pieces of the opportunities asking; kept at another VAT
    rate than the policy's, every piece, added up again. The figures are those
    of the work read afresh either way."""
    need(connection.vendor == "postgresql", "the related work is kept on PostgreSQL only")
    RouteFactsVersion.objects.get_or_create(pk=1)  # a flushed database has no count
    published = []
    for n, value in enumerate(["70000.00", "20000.00", "5000.00"]):
        work = make_opportunity(officer, value, title=f"Depot cleaning {n}")
        Opportunity.objects.filter(pk=work.pk).update(status=S.OPEN, published_at=timezone.now())
        published.append(work.pk)
    policy = routes.policy_on(officer.buyer_id, timezone.localdate())
    key = rules.category_key("90910000", policy.aggregation_cpv_digits)
    on = timezone.localdate()
    fresh = routes._related_values_by_key(
        buyer_id=officer.buyer_id, keys=[key], policy=policy, on=on
    )
    assert set(fresh[key]) == set(published)
    rate = policy.vat_rate_percent
    expected = {
        basis: rules.add_up(list(fresh[key].values()), basis=basis, vat_rate_percent=rate)
        for basis in (rules.INCLUSIVE, rules.EXCLUSIVE)
    }

    def read(own: list[int]) -> routes._Category:
        return routes._related_values(
            buyer_id=officer.buyer_id, keys=[key], policy=policy, on=on, own=own
        )[key]

    read([])  # kept now
    with django_assert_num_queries(1):
        asked = read([published[1], 999_999])
    assert set(asked.pieces) == {str(published[1])}
    assert asked.piece(published[1]) == fresh[key][published[1]]
    assert asked.piece(published[0]) is None
    for basis, total in expected.items():
        assert asked.total(basis, rate) == total
    # The policy's VAT rate is no longer the one the totals were kept at.
    policy.vat_rate_percent = D("17.50")
    with django_assert_num_queries(1):
        again = read([published[1]])
    assert set(again.pieces) == {str(pk) for pk in published}
    for basis in (rules.INCLUSIVE, rules.EXCLUSIVE):
        assert again.total(basis, D("17.50")) == rules.add_up(
            list(fresh[key].values()), basis=basis, vat_rate_percent=D("17.50")
        )


def test_a_drafts_route_flips_when_related_work_is_awarded_and_every_page_says_so(
    clock, officer, second_officer, in_process_tasks
):
    local = [approved_supplier(f"Cleaner {n}", f"BD{n} 3DD") for n in range(1, 5)]
    draft = make_opportunity(officer, "100000.00", title="Town hall cleaning")
    assert current_route(draft).band_name == "Invited tender"
    depot = make_opportunity(officer, "70000.00", title="Depot cleaning")
    invite(opportunity=depot, suppliers=local, by=officer)
    opportunity_publish(opportunity=depot, by=officer)
    person = local[0].users.get()
    bid = bid_start(lot=depot.lots.get(), by=person)
    bid_save_draft(bid=bid, by=person, price=D("90000.00"), declarations=ALL_DECLARED)
    bid_submit(bid=bid, by=person)
    clock.move_to(depot.submission_deadline + IN_FLIGHT + SECOND)
    box_open(opportunity=depot, by=officer)
    box_open(opportunity=depot, by=second_officer)
    quality = depot.criteria.get(is_price=False)
    score_set(bid=bid, criterion=quality, mark=D("80"), comment="Good.", by=officer)
    today = timezone.localdate()
    award_lot(
        lot=depot.lots.get(),
        by=officer,
        reasons="Best value.",
        start_date=today,
        end_date=today + datetime.timedelta(days=365),
    )
    # £100,000 + the depot's award of £90,000 reaches £180,000: full tender, today.
    draft.refresh_from_db()
    assert draft.route == rules.INVITATION  # as last recorded
    route = current_route(draft)
    assert route.route == rules.FULL_TENDER and route.changed
    assert any("£190,000.00" in reason for reason in route.reasons)
    client = signed_in(officer)
    page = main_text(client.get(reverse("tenders:opportunity_detail", args=[draft.pk])))
    assert "The route has changed since it was last checked" in page
    assert "Full tender required" in page and "Depot cleaning" in page
    assert "See the 1 piece of work added up" in page
    added_up = reverse("tenders:opportunity_work_added_up", args=[draft.pk])
    assert "Depot cleaning" in main_text(client.get(added_up))
    listed = client.get(reverse("tenders:opportunity_list")).content.decode()
    row = listed[listed.index("Town hall cleaning") :]
    assert 'govuk-tag--red">Full tender required' in row[: row.index("</tr>")]
    out = StringIO()
    call_command("route_to_market", opportunity=draft.pk, json=True, stdout=out)
    assert json.loads(out.getvalue())["route"] == rules.FULL_TENDER
    # The register of "full tender required" decisions lists it first, page and CSV.
    register = main_text(client.get(reverse("tenders:full_tender_register")))
    assert "Full tender required on today's facts: 1 not yet recorded" in register
    assert "Town hall cleaning" in register
    csv = b"".join(
        client.get(reverse("tenders:full_tender_register_csv")).streaming_content
    ).decode()
    (today_row,) = [line for line in csv.splitlines() if "Town hall cleaning" in line]
    assert "Today's facts (not yet recorded)" in today_row and "190000.00" in today_row
    # Publishing asks the same rule: refused, with the reasons, and recorded.
    with pytest.raises(RouteRefused):
        opportunity_publish(opportunity=draft, by=officer)
    assert Opportunity.objects.get(pk=draft.pk).route == rules.FULL_TENDER
    register = main_text(client.get(reverse("tenders:full_tender_register")))
    assert "not yet recorded" not in register and "Publishing, by" in register


def test_the_full_tender_decision_is_the_same_on_the_page_in_the_command_and_at_publish(
    clock, officer
):
    work = related_pair(officer)
    route = current_route(work)
    assert route.route == rules.FULL_TENDER and route.refused_for_aggregation
    out = StringIO()
    call_command("route_to_market", opportunity=work.pk, json=True, stdout=out)
    shown = json.loads(out.getvalue())
    assert (shown["route"], shown["reasons"]) == (route.route, route.reasons)


# --- 5. The statutory ceiling on the date of the decision -------------------------------


@pytest.fixture
def high_policy_council(demo_data, other_council):
    """A council whose local threshold, £210,000 from 1 April 2025, was legal
    then (the statutory threshold was £214,904) and is above the £207,720 in
    force for goods and services from 1 January 2026."""
    from tenders.services import BandSpec, policy_create

    policy_create(
        buyer=other_council,
        effective_from=datetime.date(2025, 4, 1),
        local_threshold=D("210000.00"),
        bands=[BandSpec("Single quote", D("0.00"), 1, 1), BandSpec("Tender", D("50000"), 4, 3)],
        by=None,
    )
    return other_council


def test_a_local_threshold_above_a_later_statutory_figure_gives_way_on_that_date(
    high_policy_council,
):
    from cpv.models import CpvCode

    cleaning = CpvCode.objects.get(code="90910000-9")

    def route(on: datetime.date, value: str = "208000.00", kind: str = "services"):
        return route_for(
            buyer=high_policy_council,
            value=D(value),
            entered_basis="inclusive",
            cpv=cleaning,
            on=on,
            kind=kind,
        ).decision

    before = route(datetime.date(2025, 12, 31))
    assert before.route == rules.INVITATION and before.threshold_source == rules.LOCAL
    after = route(datetime.date(2026, 1, 1))
    assert after.route == rules.FULL_TENDER and after.threshold_source == rules.STATUTORY
    assert after.threshold == D("207720.00")
    assert "statutory threshold applies" in after.reasons[0]
    assert "£207,720.00" in after.reasons[-1]
    # One penny below the statutory figure may still go to invited bidders.
    assert route(datetime.date(2026, 1, 1), "207719.99").route == rules.INVITATION
    # Works have their own, much higher, statutory threshold: the local one decides.
    works = route(datetime.date(2026, 1, 1), kind="works")
    assert works.route == rules.INVITATION and works.threshold_source == rules.LOCAL


def test_the_policy_page_warns_of_a_statutory_figure_below_a_versions_threshold(
    high_policy_council, client
):
    from devdata import demo
    from portal.models import Role
    from portal.services import user_create

    auditor = user_create(
        email="auditor@other-borough.example",
        full_name="Ada Other",
        role=Role.AUDITOR,
        password=demo.PASSWORD,
        buyer=high_policy_council,
        by=None,
    )
    client.force_login(auditor)
    page = main_text(client.get(reverse("tenders:policy")))
    assert (
        "From 1 January 2026 the statutory threshold for goods and services contracts, "
        "£207,720.00 including VAT, is below this version's local threshold of £210,000.00 "
        "including VAT: from that date the statutory threshold decides for those contracts." in page
    )


@pytest.mark.parametrize(
    ("figures", "start", "end", "expected"),
    [
        # A figure taking effect on the version's first day is warned of.
        ([("threshold.services", "2027-01-01", "170000")], "2027-01-01", None, ["1 January 2027"]),
        # ...and one in force already when the version began.
        ([("threshold.services", "2026-01-01", "170000")], "2027-01-01", None, ["1 January 2027"]),
        # Not one replaced (by a higher figure) before the version began.
        (
            [
                ("threshold.services", "2026-01-01", "170000"),
                ("threshold.services", "2026-06-01", "214904"),
            ],
            "2027-01-01",
            None,
            [],
        ),
        # Nor one taking effect after the version ended, or one above the local threshold.
        ([("threshold.services", "2028-01-01", "170000")], "2027-01-01", "2028-01-01", []),
        ([("threshold.services", "2027-01-01", "180000")], "2027-01-01", None, []),
        # A later figure below it: warned of from its own date.
        ([("threshold.goods", "2027-03-02", "170000")], "2027-01-01", None, ["2 March 2027"]),
    ],
)
def test_the_policy_warns_of_each_statutory_threshold_in_force_during_a_version_below_it(
    figures, start, end, expected
):
    from tenders.statutory import thresholds_below_during

    def day(text):
        return datetime.date.fromisoformat(text) if text else None

    warnings = thresholds_below_during(
        threshold=D("180000"),
        vat_basis=VatBasis.INCLUSIVE,
        vat_rate_percent=D("20"),
        start=day(start),
        end=day(end),
        figures=[
            StatutoryFigure(name=name, effective_from=day(on), amount=D(amount))
            for name, on, amount in figures
        ],
    )
    assert [w.split(" the statutory")[0].removeprefix("From ") for w in warnings] == expected


# --- 6. An award checks the band its value falls in ----------------------------------------


def one_marked_bid(clock, opportunity, price, officer, second_officer) -> None:
    """Bidder 1 bids ``price``; after the deadline two officers open the box and
    the bid is marked."""
    submit(opportunity, 1, price)
    clock.move_to(opportunity.submission_deadline + IN_FLIGHT + SECOND)
    box_open(opportunity=opportunity, by=officer)
    box_open(opportunity=opportunity, by=second_officer)
    score_set(
        bid=opportunity.bids.get(),
        criterion=opportunity.criteria.get(is_price=False),
        mark=D("70"),
        comment="Sound.",
        by=officer,
    )


def test_an_award_in_a_band_whose_minimums_were_not_met_is_refused(
    clock, officer, second_officer, in_process_tasks
):
    """A £9,000 single-quote opportunity with one invitee cannot be awarded at
    £100,000: that value's band needs four invited, three of them local."""
    opportunity = publish_with_bidders(officer, 1, "9000.00")
    one_marked_bid(clock, opportunity, "100000.00", officer, second_officer)
    before = rows(opportunity)
    today = timezone.localdate()
    with pytest.raises(BandNotMet) as refused:
        award_lot(
            lot=opportunity.lots.get(),
            by=officer,
            reasons="Only bid.",
            start_date=today,
            end_date=today + datetime.timedelta(days=30),
        )
    reasons = " ".join(refused.value.reasons)
    assert "falls in the band Invited tender" in reasons
    assert "needs at least 4 invited suppliers; 1 was invited" in reasons
    assert "needs at least 3 local suppliers among them; 1 was local" in reasons
    after = rows(opportunity)
    # Nothing awarded; only the refusal is recorded (its route check and audit event).
    assert after["awards"] == [] and after["contracts"] == before["contracts"]
    assert after["status"] == S.EVALUATION
    assert after["route_checks"] > before["route_checks"]
    refusal = AuditEvent.objects.filter(action="award.refused").get()
    assert "needs at least 4 invited" in " ".join(refusal.context["reasons"])
    # The band recorded on the opportunity is still the estimate's.
    opportunity.refresh_from_db()
    assert opportunity.band_name == "Single quote"


def test_an_awarded_opportunity_shows_the_band_it_was_awarded_in_everywhere(
    clock, client, officer, second_officer, auditor, in_process_tasks
):
    """Estimated at £45,000 (three quotes), awarded at £55,000 (an invited
    tender, whose minimums the four local invitees meet): the page, the
    register and OCDS all give the band the award was checked against."""
    from transparency.ocds import export_queryset, release_for

    opportunity = publish_with_bidders(officer, 4, "45000.00")
    assert opportunity.band_name == "Three quotes"
    one_marked_bid(clock, opportunity, "55000.00", officer, second_officer)
    today = timezone.localdate()
    award_lot(
        lot=opportunity.lots.get(),
        by=officer,
        reasons="Only bid.",
        start_date=today,
        end_date=today + datetime.timedelta(days=30),
    )
    opportunity.refresh_from_db()
    assert opportunity.band_name == "Invited tender"
    client.force_login(officer)
    route = client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk])).context[
        "route"
    ]
    assert route.band_name == "Invited tender"
    assert "Three quotes" not in " ".join(route.reasons)
    assert "The value at the price chosen of £55,000.00 is below" in " ".join(route.reasons)
    client.force_login(auditor)
    register = client.get(reverse("transparency:register")).content.decode()
    assert "Invited tender" in register and "Three quotes" not in register
    release = release_for(export_queryset().get(pk=opportunity.pk))
    assert release["tender"]["procurementMethodDetails"].endswith(": Invited tender")
    # An opportunity awarded before the award's band was stored takes it from
    # its award's route check (migration tenders 0019).
    import importlib

    from django.apps import apps

    Opportunity.objects.filter(pk=opportunity.pk).update(band_name="Three quotes")
    backfill = importlib.import_module("tenders.migrations.0019_awarded_band_as_recorded")
    backfill.forwards(apps, None)
    opportunity.refresh_from_db()
    assert opportunity.band_name == "Invited tender"


# --- Every demo opportunity: the page and the command agree -------------------------------


def test_route_to_market_gives_the_page_answer_for_every_demo_opportunity(client, officer):
    call_command("seed_demo", opportunities=True, stdout=StringIO())
    client.force_login(officer)
    opportunities = list(Opportunity.objects.filter(buyer=officer.buyer).order_by("pk"))
    assert len(opportunities) > 10
    for opportunity in opportunities:
        shown = client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk])).context[
            "route"
        ]
        out = StringIO()
        call_command("route_to_market", opportunity=opportunity.pk, json=True, stdout=out)
        told = json.loads(out.getvalue())
        assert (told["route"], told["band"] or "", told["reasons"]) == (
            shown.route,
            shown.band_name,
            shown.reasons,
        ), opportunity.reference


def test_changing_the_value_keeps_each_bid_with_its_lot(open_opportunity, officer):
    """Found on the way: changing the lots of an open opportunity with bids was a
    500 (the lots were deleted and made again). A lot that stays keeps its row and
    its bids; no lot of a published opportunity can be removed, with or without
    bids (the refusal must not say which lots have bids: RULES §4), and the
    refusal changes nothing."""
    first = open_opportunity.lots.get(number=1)
    bid_start(lot=open_opportunity.lots.get(number=2), by=bidder(3))
    three = [
        LotSpec("Lot 1", D("4500.00")),
        LotSpec("Lot 2", D("4000.00")),
        LotSpec("Lot 3", D("1000.00")),
    ]
    opportunity_change_value(opportunity=open_opportunity, by=officer, lots=three, summary="More.")
    assert open_opportunity.lots.get(number=1).pk == first.pk
    assert open_opportunity.lots.get(number=1).estimated_value == D("4500.00")
    assert Bid.objects.filter(lot=first).count() == 2
    before = rows(open_opportunity)
    refusals = []
    # Lot 2 has a (draft) bid, lot 3 none: the same refusal for both.
    for kept in (three[:1], three[:2]):
        with pytest.raises(OpportunityRefused) as refused:
            opportunity_change_value(
                opportunity=open_opportunity, by=officer, lots=kept, summary="Fewer lots."
            )
        refusals.append(str(refused.value))
    assert refusals[0] == refusals[1]
    assert "lots cannot be removed: suppliers may have sealed bids in them" in refusals[0]
    assert "Lot 2" not in refusals[0]
    assert rows(open_opportunity) == before


def test_the_lists_count_is_kept_only_while_what_it_counts_is_unchanged(clock, officer):
    """The officer's list's count of a search (PostgreSQL) is kept under the
    version the triggers on opportunities raise: a title changed, a status
    changed, an opportunity added, even straight in the database, counts on
    the next page read; the open and closed filters, which time decides, are
    counted every time (a deadline passing moves an opportunity between them)."""
    from django.test.utils import CaptureQueriesContext

    from portal.models import KeptRead
    from tenders.models import OpportunityListVersion
    from tenders.selectors import (
        OPPORTUNITY_LIST,
        council_opportunities,
        council_opportunity_page,
    )

    need(connection.vendor == "postgresql", "the list's count is kept on PostgreSQL only")
    OpportunityListVersion.objects.get_or_create(pk=1)  # a flushed database has no count
    kept = KeptRead.objects.filter(facts=OPPORTUNITY_LIST, buyer=officer.buyer)
    HOUR = datetime.timedelta(hours=1)
    works = [make_opportunity(officer, "1000.00", title=f"Zither tuning {n}") for n in range(3)]

    def count(**filters) -> int:
        page = council_opportunity_page(officer, **filters)
        fresh = council_opportunities(officer, **filters).count()
        assert page.paginator.count == fresh
        return fresh

    assert count(query="zither") == 3
    assert kept.count() == 1
    with CaptureQueriesContext(connection) as queries:
        assert council_opportunity_page(officer, query="zither").paginator.count == 3
    assert len(queries) == 1  # the count as kept, in the page's one statement
    Opportunity.objects.filter(pk=works[0].pk).update(title="Harp tuning")
    assert count(query="zither") == 2
    make_opportunity(officer, "1000.00", title="Zither tuning again")
    assert count(query="zither") == 3
    assert count(query="zither", status=S.DRAFT) == 3
    Opportunity.objects.filter(pk=works[1].pk).update(status=S.CANCELLED)
    assert count(query="zither", status=S.DRAFT) == 2
    assert count(query="zither", status=S.CANCELLED) == 1

    # Open until the deadline passes, then closed: counted at the moment of asking.
    before = kept.count()
    Opportunity.objects.filter(pk=works[2].pk).update(
        status=S.OPEN, published_at=timezone.now(), submission_deadline=timezone.now() + HOUR
    )
    assert count(query="zither", status=S.OPEN) == 1
    assert count(query="zither", status=S.CLOSED) == 0
    clock.shift(2 * HOUR)
    assert count(query="zither", status=S.OPEN) == 0
    assert count(query="zither", status=S.CLOSED) == 1
    assert kept.count() == before  # neither kept


def test_the_periodic_prunes_leave_every_version_as_it_was(officer):
    """The beat's prune tasks empty each list of changes into its count: every
    facts' version stays what it was, and what was kept under an older
    version is removed (PostgreSQL)."""
    from portal import kept
    from portal.models import KeptRead
    from suppliers.models import SupplierFactsVersion, SupplierOrganisation
    from suppliers.selectors import SUPPLIER_FACTS
    from suppliers.tasks import prune_supplier_fact_changes
    from tenders.models import OpportunityListVersion
    from tenders.selectors import OPPORTUNITY_LIST
    from tenders.tasks import prune_route_fact_changes

    need(connection.vendor == "postgresql", "the facts' versions are PostgreSQL's")
    for model in (SupplierFactsVersion, OpportunityListVersion, RouteFactsVersion):
        model.objects.get_or_create(pk=1)  # a flushed database has no count
    names = ["tenders_routefacts", OPPORTUNITY_LIST, SUPPLIER_FACTS]
    make_opportunity(officer, "1000.00", title="Something changed")
    SupplierOrganisation.objects.create(legal_name="Something Changed Ltd")
    KeptRead.objects.create(
        facts=SUPPLIER_FACTS, buyer=officer.buyer, key="old", version=-1, data=[]
    )

    def versions() -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(kept.version_sql(name) for name in names))
            return list(cursor.fetchone())

    def listed() -> list[int]:
        with connection.cursor() as cursor:
            counts = [f"(SELECT COUNT(*) FROM {name}change)" for name in names]  # noqa: S608
            cursor.execute("SELECT " + ", ".join(counts))
            return list(cursor.fetchone())

    before = versions()
    assert all(listed())
    prune_route_fact_changes()
    prune_supplier_fact_changes()
    assert versions() == before
    assert listed() == [0, 0, 0]
    assert not KeptRead.objects.filter(key="old").exists()


def test_what_is_kept_is_overwritten_only_by_a_newer_version(officer):
    """A slow request that read an older version does not replace what a
    later one kept (``portal.kept.write``)."""
    from portal import kept
    from portal.models import KeptRead

    need(connection.vendor == "postgresql", "kept reads are PostgreSQL's")
    kept.write("test_facts", officer.buyer_id, "k", 10, ["ten"])
    kept.write("test_facts", officer.buyer_id, "k", 9, ["nine"])
    row = KeptRead.objects.get(facts="test_facts", buyer=officer.buyer, key="k")
    assert (row.version, row.data) == (10, ["ten"])
    kept.write("test_facts", officer.buyer_id, "k", 11, ["eleven"])
    row.refresh_from_db()
    assert (row.version, row.data) == (11, ["eleven"])
