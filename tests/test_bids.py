"""Bids: the deadline at commit, receipts, the sealed box, scores, award, outcome letters."""

import datetime
from decimal import Decimal as D

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from portal.models import AuditEvent, User
from tenders.models import Award, Bid, BidRevision, Contract, Opportunity, RouteCheck
from tenders.services import (
    DECLARATIONS,
    BidRefused,
    LateBid,
    RouteRefused,
    award_lot,
    bid_add_file,
    bid_exclude,
    bid_save_draft,
    bid_start,
    bid_submit,
    bid_withdraw,
    box_open,
    evaluation,
    invite,
    opened_bids,
    opportunity_publish,
    score_set,
)
from tests.conftest import need
from tests.tenders_helpers import (
    approved_supplier,
    contract_dates,
    contract_period,
    make_opportunity,
)

ALL_DECLARED = dict.fromkeys(DECLARATIONS, True)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def published(officer, in_process_tasks):
    suppliers = [approved_supplier(f"Bidder {n}", f"BD{n} 1AA") for n in (1, 2, 3)]
    opportunity = make_opportunity(officer, "4000.00", "4000.00")  # £8,000: single quote
    invite(opportunity=opportunity, suppliers=suppliers, by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    opportunity.refresh_from_db()
    return opportunity


def bidder(n: int) -> User:
    return User.objects.get(email=f"bids@bidder-{n}.example")


def submit(opportunity, n, price, lot_number=1, *, pdf=True):
    person = bidder(n)
    lot = opportunity.lots.get(number=lot_number)
    bid = bid_start(lot=lot, by=person)
    bid_save_draft(bid=bid, by=person, price=D(price), declarations=ALL_DECLARED)
    if pdf:
        bid_add_file(
            bid=bid,
            by=person,
            upload=SimpleUploadedFile("method.pdf", b"%PDF-1.4 method statement " + price.encode()),
        )
    return bid_submit(bid=bid, by=person)


def test_a_bid_one_second_before_the_deadline_counts(published):
    with time_machine.travel(
        published.submission_deadline - datetime.timedelta(seconds=1), tick=False
    ):
        revision = submit(published, 1, "3900.00")
    assert revision.submitted_at == published.submission_deadline - datetime.timedelta(seconds=1)
    assert Bid.objects.get(pk=revision.bid_id).status == "submitted"


def test_a_bid_one_second_after_the_deadline_is_refused_with_the_exact_time(published):
    person = bidder(1)
    lot = published.lots.get(number=1)
    with time_machine.travel(
        published.submission_deadline - datetime.timedelta(minutes=5), tick=False
    ):
        bid = bid_start(lot=lot, by=person)
        bid_save_draft(bid=bid, by=person, price=D("3900.00"), declarations=ALL_DECLARED)
    with (
        time_machine.travel(
            published.submission_deadline + datetime.timedelta(seconds=1), tick=False
        ),
        pytest.raises(LateBid) as late,
    ):
        bid_submit(bid=bid, by=person)
    message = str(late.value)
    deadline = published.submission_deadline.astimezone(datetime.UTC)
    assert "after the deadline" in message
    assert late.value.at - late.value.deadline == datetime.timedelta(seconds=1)
    assert deadline.strftime("%Y") in message
    assert not BidRevision.objects.exists()


def test_every_submitted_version_is_kept_and_a_bid_can_be_withdrawn(published):
    first = submit(published, 1, "3900.00")
    second = submit(published, 1, "3700.00")
    bid = Bid.objects.get(pk=first.bid_id)
    assert [r.number for r in bid.revisions.all()] == [1, 2]
    assert second.receipt_reference != first.receipt_reference
    bid_withdraw(bid=bid, by=bidder(1))
    bid.refresh_from_db()
    assert bid.status == "withdrawn"
    assert bid.revisions.count() == 2


def test_the_receipt_has_the_time_and_the_sha256_of_every_file(
    published, django_capture_on_commit_callbacks
):
    import hashlib

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        revision = submit(published, 1, "3900.00")
    (email,) = [m for m in mail.outbox if m.to == ["bids@bidder-1.example"]]
    assert revision.receipt_reference in email.body
    assert hashlib.sha256(b"%PDF-1.4 method statement 3900.00").hexdigest() in email.body
    assert "sealed" in email.body


def test_nothing_is_submitted_without_a_price_and_every_declaration(published):
    person = bidder(1)
    bid = bid_start(lot=published.lots.first(), by=person)
    with pytest.raises(BidRefused, match="Enter your price"):
        bid_submit(bid=bid, by=person)
    bid_save_draft(bid=bid, by=person, price=D("1.00"), declarations={"accurate": True})
    with pytest.raises(BidRefused, match="Confirm every declaration"):
        bid_submit(bid=bid, by=person)


def test_an_uninvited_supplier_cannot_bid(published, distant_supplier_user):
    with pytest.raises(BidRefused, match="Only invited suppliers"):
        bid_start(lot=published.lots.first(), by=distant_supplier_user)


def test_a_fake_pdf_is_refused(published):
    person = bidder(1)
    bid = bid_start(lot=published.lots.first(), by=person)
    with pytest.raises(BidRefused, match="is not a real PDF file"):
        bid_add_file(
            bid=bid, by=person, upload=SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf")
        )


def past_deadline(opportunity):
    return time_machine.travel(opportunity.submission_deadline + datetime.timedelta(minutes=1))


def test_the_box_is_sealed_until_two_different_officers_open_it_after_the_deadline(
    published, officer, second_officer
):
    submit(published, 1, "3900.00")
    submit(published, 2, "3500.00")
    assert not opened_bids(published, officer).exists()
    with pytest.raises(BidRefused, match="cannot be opened before the deadline"):
        box_open(opportunity=published, by=officer)
    with past_deadline(published):
        first = box_open(opportunity=published, by=officer)
        assert not first.opened and not opened_bids(published, officer).exists()
        with pytest.raises(BidRefused, match="second, different officer"):
            box_open(opportunity=published, by=officer)
        opening = box_open(opportunity=published, by=second_officer)
    assert opening.opened
    published.refresh_from_db()
    assert published.status == "evaluation"
    assert opened_bids(published, officer).count() == 2
    event = AuditEvent.objects.get(action="box.opened")
    assert event.context["first_officer"] == officer.email
    assert event.context["second_officer"] == second_officer.email


def test_no_audit_event_or_council_email_reveals_a_price_before_opening(published, officer):
    mail.outbox.clear()
    submit(published, 1, "3917.43")
    for event in AuditEvent.objects.all():
        assert "3917" not in str(event.context) + str(event.changes)
    council = [m for m in mail.outbox if m.to[0].endswith("demo-council.example")]
    assert all("3917" not in m.body for m in council)


def test_another_councils_officer_sees_no_bids_even_after_opening(
    published, officer, second_officer, other_officer
):
    submit(published, 1, "3900.00")
    with past_deadline(published):
        box_open(opportunity=published, by=officer)
        box_open(opportunity=published, by=second_officer)
        with pytest.raises(BidRefused):
            box_open(opportunity=published, by=other_officer)
    assert not opened_bids(published, other_officer).exists()


@pytest.fixture
def opened(published, officer, second_officer):
    submit(published, 1, "4000.00")  # dearer, better quality
    submit(published, 2, "2000.00")  # cheapest
    submit(published, 3, "3000.00")
    submit(published, 1, "2500.00", lot_number=2)
    submit(published, 2, "2600.00", lot_number=2)
    with past_deadline(published):
        box_open(opportunity=published, by=officer)
        box_open(opportunity=published, by=second_officer)
    published.refresh_from_db()
    return published


def mark_all(opportunity, officer, marks):
    quality = opportunity.criteria.get(is_price=False)
    for bid in Bid.objects.filter(opportunity=opportunity):
        n = int(bid.supplier.legal_name.split()[-1])
        score_set(bid=bid, criterion=quality, mark=D(marks[n]), comment="Clear method.", by=officer)


def test_price_by_formula_quality_by_marks_totals_and_ranking(opened, officer):
    mark_all(opened, officer, {1: "100", 2: "50", 3: "50"})
    ranking = evaluation(opened.lots.get(number=1))
    # Price weight 40: lowest 2000 / price x 40. Quality weight 60: mark% x 60.
    table = {
        r.bid.supplier.legal_name: (r.scores["Price"], r.scores["Quality"], r.total)
        for r in ranking
    }
    assert table["Bidder 1"] == (D("20.00"), D("60.00"), D("80.00"))
    assert table["Bidder 2"] == (D("40.00"), D("30.00"), D("70.00"))
    assert table["Bidder 3"] == (D("26.67"), D("30.00"), D("56.67"))
    assert [r.rank for r in ranking] == [1, 2, 3]
    assert ranking[0].bid.supplier.legal_name == "Bidder 1"


def test_an_excluded_bid_is_left_out_of_the_ranking(opened, officer):
    bid = Bid.objects.get(lot__number=1, supplier__legal_name="Bidder 2")
    with pytest.raises(BidRefused, match="Give the reason"):
        bid_exclude(bid=bid, reason=" ", by=officer)
    bid_exclude(bid=bid, reason="Insurance certificate missing.", by=officer)
    names = [r.bid.supplier.legal_name for r in evaluation(opened.lots.get(number=1))]
    assert "Bidder 2" not in names


def test_award_respects_the_cap_on_lots_and_writes_the_contract_and_letters(
    opened, officer, django_capture_on_commit_callbacks
):
    Opportunity.objects.filter(pk=opened.pk).update(max_lots_per_supplier=1)
    mark_all(opened, officer, {1: "100", 2: "50", 3: "50"})
    start, end = contract_dates(opened)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = award_lot(
            lot=opened.lots.get(number=1),
            by=officer,
            reasons="Best value.",
            start_date=start,
            end_date=end,
        )
    assert first.bid.supplier.legal_name == "Bidder 1"
    # Bidder 1 ranks first on lot 2 too, but already holds the one lot allowed.
    with django_capture_on_commit_callbacks(execute=True):
        second = award_lot(
            lot=opened.lots.get(number=2),
            by=officer,
            reasons="Next best value.",
            start_date=start,
            end_date=end,
        )
    assert second.bid.supplier.legal_name == "Bidder 2"
    assert second.passed_over[0]["supplier"] == "Bidder 1"
    assert "the most one supplier may win" in second.passed_over[0]["reason"]
    opened.refresh_from_db()
    assert opened.status == "awarded"
    contract = Contract.objects.get(award=first)
    assert (contract.value, contract.supplier_was_local) == (D("4000.00"), True)
    won = [m for m in mail.outbox if m.subject.startswith("Your bid was successful")]
    lost = [m for m in mail.outbox if m.subject.startswith("Your bid was not successful")]
    assert {m.to[0] for m in won} == {"bids@bidder-1.example", "bids@bidder-2.example"}
    letter = next(m for m in lost if m.to == ["bids@bidder-3.example"])
    assert "Your bid ranked 3 of 3." in letter.body
    assert "Supplier: Bidder 1\nTotal score: 80.00 out of 100\nPrice: £4,000.00" in letter.body
    assert "Best value." in letter.body


def mark_quality(opportunity, officer, lot_number: int = 1) -> None:
    """Every submitted bid of the lot marked for quality (a lot is awarded on
    every bid's marks)."""
    from tenders.models import BidStatus

    criterion = opportunity.criteria.get(is_price=False)
    for bid in Bid.objects.filter(
        opportunity=opportunity, lot__number=lot_number, status=BidStatus.SUBMITTED
    ):
        score_set(bid=bid, criterion=criterion, mark=D("60"), comment="Sound.", by=officer)


def test_an_award_at_or_above_the_threshold_cannot_be_made(published, officer, second_officer):
    submit(published, 1, "180000.00")
    with past_deadline(published):
        box_open(opportunity=published, by=officer)
        box_open(opportunity=published, by=second_officer)
    mark_quality(published, officer)
    with pytest.raises(RouteRefused) as refused:
        award_lot(
            lot=published.lots.get(number=1),
            by=officer,
            reasons="Only bid.",
            **contract_period(published),
        )
    assert "must go to full tender" in refused.value.decision.reasons[0]
    assert not Award.objects.exists()
    assert RouteCheck.objects.filter(
        opportunity=published, occasion="award_refused", route="full_tender"
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_500_suppliers_racing_the_deadline_lose_nothing(officer, in_process_tasks):
    """500 invited suppliers submit in the final moments, from 16 threads with
    their own database connections; the deadline falls in the middle."""
    need(connection.vendor == "postgresql", "concurrent submissions need PostgreSQL")
    from concurrent.futures import ThreadPoolExecutor

    from django.utils import timezone

    from tests.test_invite_at_scale import bulk_local_suppliers

    suppliers = bulk_local_suppliers(500)
    User.objects.filter(supplier__in=suppliers).update(is_active=True)
    opportunity = make_opportunity(officer, "5000.00")
    invite(opportunity=opportunity, suppliers=suppliers, by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    lot = opportunity.lots.get()
    drafts = []
    for person in User.objects.filter(supplier__in=suppliers).select_related("supplier"):
        bid = bid_start(lot=lot, by=person)
        bid_save_draft(bid=bid, by=person, price=D("100.00"), declarations=ALL_DECLARED)
        drafts.append((bid, person))

    def submit_one(item):
        bid, person = item
        try:
            # The deadline is checked against when it was received (ADR 17).
            return ("accepted", bid_submit(bid=bid, by=person).received_at)
        except LateBid as late:
            return ("late", late.at)
        except Exception as exc:  # anything else fails the test below
            return ("error", repr(exc))
        finally:
            connections.close_all()

    # Time the deadline to fall about half way through the rush.
    started = timezone.now()
    with ThreadPoolExecutor(max_workers=16) as pool:
        probe = list(pool.map(submit_one, drafts[:16]))
    per_bid = (timezone.now() - started) / 16
    deadline = timezone.now() + per_bid * (len(drafts) - 16) / 16 / 2
    Opportunity.objects.filter(pk=opportunity.pk).update(submission_deadline=deadline)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = probe + list(pool.map(submit_one, drafts[16:]))

    errors = [r for r in results if r[0] == "error"]
    accepted = [at for kind, at in results if kind == "accepted"]
    late = [at for kind, at in results if kind == "late"]
    assert errors == []
    assert len(accepted) + len(late) == 500
    assert late, "the deadline should fall inside the rush"
    assert all(at <= deadline for at in accepted[16:])
    assert all(at > deadline for at in late)
    # Nothing lost: every accepted bid is in the database, and nothing else is.
    assert BidRevision.objects.filter(bid__lot=lot).count() == len(accepted)
    assert Bid.objects.filter(lot=lot, status="submitted").count() == len(accepted)


def test_the_award_check_counts_options_and_extensions(published, officer, second_officer):
    submit(published, 1, "90000.00")
    with past_deadline(published):
        box_open(opportunity=published, by=officer)
        box_open(opportunity=published, by=second_officer)
    # The whole contract: the £90,000 award and £100,000 of options reach £180,000.
    Opportunity.objects.filter(pk=published.pk).update(options_value=D("100000.00"))
    mark_quality(published, officer)
    with pytest.raises(RouteRefused):
        award_lot(
            lot=published.lots.get(number=1),
            by=officer,
            reasons="Only bid.",
            **contract_period(published),
        )
    assert not Award.objects.exists()


def test_each_bidder_sees_the_outcome_on_the_opportunity(opened, officer, client):
    from django.urls import reverse

    mark_all(opened, officer, {1: "100", 2: "50", 3: "50"})
    award_lot(
        lot=opened.lots.get(number=1),
        by=officer,
        reasons="Best value.",
        **contract_period(opened),
    )
    url = reverse("tenders:opportunity_detail", args=[opened.pk])
    client.force_login(bidder(1))
    assert "Your bid was successful." in client.get(url).content.decode()
    client.force_login(bidder(3))
    assert "Your bid was not successful." in client.get(url).content.decode()


def _award(opportunity, officer, lot_number=1):
    return award_lot(
        lot=opportunity.lots.get(number=lot_number),
        by=officer,
        reasons="Best value.",
        **contract_period(opportunity),
    )


def test_a_lot_is_awarded_on_every_bids_marks_never_on_a_missing_one(opened, officer):
    """A bid without its quality mark would count 0 and could lose on it: the
    award waits until every bid is marked (or excluded, with the reason)."""
    quality = opened.criteria.get(is_price=False)
    score_set(
        bid=Bid.objects.get(lot__number=1, supplier__legal_name="Bidder 2"),
        criterion=quality,
        mark=D("60"),
        comment="Sound.",
        by=officer,
    )
    with pytest.raises(BidRefused) as refused:
        _award(opened, officer)
    assert "Bidder 1's bid has no mark for Quality" in str(refused.value)
    assert "Bidder 3's bid has no mark for Quality" in str(refused.value)
    assert not Award.objects.exists()
    bid_exclude(
        bid=Bid.objects.get(lot__number=1, supplier__legal_name="Bidder 3"),
        reason="Late insurance certificate.",
        by=officer,
    )
    score_set(
        bid=Bid.objects.get(lot__number=1, supplier__legal_name="Bidder 1"),
        criterion=quality,
        mark=D("100"),
        comment="Clear.",
        by=officer,
    )
    # Bidder 1: 2,000 / 4,000 x 40 + 100% x 60 = 80; Bidder 2: 40 + 36 = 76.
    assert _award(opened, officer).bid.supplier.legal_name == "Bidder 1"


def test_a_supplier_the_council_suspended_is_not_awarded_and_may_still_withdraw(
    published, opened, officer
):
    from suppliers.models import SupplierOrganisation
    from suppliers.services import supplier_set_status

    mark_all(opened, officer, {1: "100", 2: "50", 3: "50"})
    first = SupplierOrganisation.objects.get(legal_name="Bidder 1")
    supplier_set_status(
        supplier=first, buyer=officer.buyer, status="suspended", reason="Fraud found.", by=officer
    )
    with pytest.raises(BidRefused, match="Bidder 1 is suspended by Demo Council"):
        _award(opened, officer)
    assert not Award.objects.exists()


def test_a_suspended_supplier_withdraws_its_bid_before_the_deadline(published, officer):
    from suppliers.models import SupplierOrganisation
    from suppliers.services import supplier_set_status

    bid = submit(published, 1, "3000.00").bid
    supplier_set_status(
        supplier=SupplierOrganisation.objects.get(legal_name="Bidder 1"),
        buyer=officer.buyer,
        status="suspended",
        reason="Insurance lapsed.",
        by=officer,
    )
    bid_withdraw(bid=bid, by=bidder(1))
    bid.refresh_from_db()
    assert bid.status == "withdrawn"


def test_an_officer_who_declared_a_conflict_neither_excludes_nor_awards(
    opened, officer, second_officer
):
    from tenders.models import Declaration, PanelMember

    mark_all(opened, officer, {1: "100", 2: "50", 3: "50"})
    PanelMember.objects.create(
        opportunity=opened,
        officer=second_officer,
        added_by=officer,
        declaration=Declaration.CONFLICT,
    )
    bid = Bid.objects.get(lot__number=1, supplier__legal_name="Bidder 2")
    with pytest.raises(BidRefused, match="declared a conflict of interest"):
        bid_exclude(bid=bid, reason="Looks weak.", by=second_officer)
    with pytest.raises(BidRefused, match="declared a conflict of interest"):
        _award(opened, second_officer)
    assert _award(opened, officer).bid.supplier.legal_name == "Bidder 1"
