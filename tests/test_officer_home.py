"""The officer's home is "my work" (issue 16): drafts (the officer's own and
the council's), opportunities closing soon, questions waiting for an answer,
bids waiting to be opened (and who has confirmed the opening), evaluations to
finish and suppliers waiting for verification, each with its count and a link
to act; statuses as they are at the moment of the request; the same number of
queries whatever the council's size; never another council's work."""

from __future__ import annotations

import datetime
import itertools
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cpv.models import CpvCode
from portal.models import Role, User
from portal.services import user_create
from tenders.models import BoxOpening, Clarification, Opportunity, OpportunityStatus

S = OpportunityStatus
LONDON = ZoneInfo("Europe/London")
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=LONDON)
_numbers = itertools.count(1)


@pytest.fixture
def clock(demo_data):
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def colleague(other_officer) -> User:
    return user_create(
        email="officer2@other-borough.example",
        full_name="Cat Colleague",
        role=Role.OFFICER,
        password="a long test passphrase",
        buyer=other_officer.buyer,
        by=None,
    )


def make(by: User, status: str, title: str, *, deadline_in: datetime.timedelta) -> Opportunity:
    """An opportunity stored in ``status`` (the home only reads them)."""
    return Opportunity.objects.create(
        buyer=by.buyer,
        reference=f"HOME-{next(_numbers):05d}",
        title=title,
        description="Work.",
        cpv=CpvCode.objects.get(code="90910000-9"),
        contract_kind="services",
        status=status,
        created_by=by,
        submission_deadline=NOW + deadline_in,
        published_at=None if status == S.DRAFT else NOW - datetime.timedelta(days=20),
    )


def question(opportunity: Opportunity, asker: User, *, answered: bool = False) -> Clarification:
    return Clarification.objects.create(
        opportunity=opportunity,
        supplier=asker.supplier,
        asked_by=asker,
        question="When may we visit?",
        asked_at=NOW - datetime.timedelta(hours=5),
        answer="Monday." if answered else "",
        answered_at=NOW if answered else None,
    )


DAY = datetime.timedelta(days=1)


def council_work(me: User, colleague: User, asker: User, prefix: str = "") -> None:
    """One of every kind of work, and some that is not work."""
    make(me, S.DRAFT, f"{prefix}My draft", deadline_in=30 * DAY)
    make(colleague, S.DRAFT, f"{prefix}Colleague's draft", deadline_in=30 * DAY)
    soon = make(me, S.OPEN, f"{prefix}Closing in three days", deadline_in=3 * DAY)
    make(me, S.OPEN, f"{prefix}Closing in a month", deadline_in=30 * DAY)
    question(soon, asker)
    question(soon, asker, answered=True)
    # Stored as open, but its deadline passed an hour ago: closed now, with
    # its question no longer answerable and its box waiting.
    passed = make(me, S.OPEN, f"{prefix}Deadline passed unrecorded", deadline_in=-DAY / 24)
    question(passed, asker)
    half = make(me, S.CLOSED, f"{prefix}Half opened", deadline_in=-2 * DAY)
    BoxOpening.objects.create(opportunity=half, first_officer=colleague, first_at=NOW - DAY)
    make(me, S.EVALUATION, f"{prefix}Being evaluated", deadline_in=-10 * DAY)
    make(me, S.AWARDED, f"{prefix}Awarded", deadline_in=-40 * DAY)
    make(me, S.CANCELLED, f"{prefix}Cancelled", deadline_in=2 * DAY)


def card(page: str, anchor: str) -> str:
    return page.split(f'id="{anchor}"', 1)[1].split('<div class="govuk-summary-card"', 1)[0]


def test_the_officer_home_shows_each_kind_of_work_with_counts_and_links(
    client, clock, other_officer, colleague, officer, local_supplier_user
):
    council_work(other_officer, colleague, local_supplier_user)
    # Another council's work, every kind of it: never shown.
    council_work(
        officer,
        User.objects.get(email="officer2@demo-council.example"),
        local_supplier_user,
        prefix="DEMO ",
    )
    client.force_login(other_officer)
    page = client.get(reverse("home")).content.decode()

    assert "DEMO " not in page
    drafts = card(page, "work-drafts")
    assert "Drafts (2, 1 yours)" in drafts
    assert "My draft" in drafts and "Colleague&#x27;s draft" in drafts
    assert "?status=draft" in drafts

    closing = card(page, "work-closing")
    assert "Closing in the next 7 days (1)" in closing
    assert "Closing in three days" in closing
    assert "Closes in 3 days" in closing
    assert "Closing in a month" not in closing
    assert "Cancelled" not in closing

    questions = card(page, "work-questions")
    assert "Questions waiting for an answer (1)" in questions
    soon = Opportunity.objects.get(title="Closing in three days")
    assert reverse("tenders:opportunity_detail", args=[soon.pk]) + "#questions" in questions

    boxes = card(page, "work-boxes")
    assert "Bids waiting to be opened (2)" in boxes
    assert "Deadline passed unrecorded" in boxes
    assert "Needs two officers" in boxes
    assert "Cat Colleague confirmed: waiting for a second officer" in boxes

    evaluations = card(page, "work-evaluations")
    assert "Evaluations to finish (1)" in evaluations
    assert "Being evaluated" in evaluations
    assert "Awarded" not in page.split('id="work-suppliers"')[0].split('id="my-work"')[1]

    assert "Suppliers waiting for verification (" in page


def test_the_colleague_who_confirmed_the_opening_is_told_a_second_officer_must(
    client, clock, other_officer, colleague, local_supplier_user
):
    council_work(other_officer, colleague, local_supplier_user)
    client.force_login(colleague)
    boxes = card(client.get(reverse("home")).content.decode(), "work-boxes")
    assert "You confirmed: a second officer must confirm" in boxes
    drafts = card(client.get(reverse("home")).content.decode(), "work-drafts")
    assert "Drafts (2, 1 yours)" in drafts


def test_a_deadline_passing_moves_the_work_without_any_task(
    client, clock, other_officer, colleague, local_supplier_user
):
    council_work(other_officer, colleague, local_supplier_user)
    clock.shift(3 * DAY + datetime.timedelta(seconds=1))
    client.force_login(other_officer)
    page = client.get(reverse("home")).content.decode()
    assert "Bids waiting to be opened (3)" in page
    assert "Questions waiting for an answer (0)" in page
    assert "Closing in three days" in card(page, "work-boxes")


def home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(queries)


def test_the_officer_home_costs_the_same_queries_with_little_and_much_work(
    client, clock, other_officer, colleague, local_supplier_user
):
    client.force_login(other_officer)
    home_queries(client)  # the first request may fill caches
    empty = home_queries(client)
    council_work(other_officer, colleague, local_supplier_user)
    small = home_queries(client)
    for n in range(15):
        council_work(other_officer, colleague, local_supplier_user, prefix=f"{n} ")
    larger = home_queries(client)
    assert Opportunity.objects.filter(buyer=other_officer.buyer).count() == 16 * 9
    assert empty == small == larger


def test_the_supplier_counts_are_the_councils_own_decisions(demo_data, officer, other_officer):
    """Waiting is every supplier this council has not decided on (no row, or a
    row still pending), whatever another council decided; approved and
    approved-and-local count this council's approvals only (the counts read
    the approvals table, not every supplier joined to its decision)."""
    from suppliers.models import SupplierApproval, SupplierOrganisation, SupplierStatus
    from suppliers.selectors import is_local_to, officer_home
    from suppliers.services import supplier_set_status

    mine = SupplierApproval.objects.filter(buyer=officer.buyer)
    approved = mine.filter(status=SupplierStatus.APPROVED)
    # One of this council's approved suppliers suspended (through the service);
    # another council approves a supplier this one has not decided on.
    suspended, back_to_pending = approved.order_by("pk")[:2]
    supplier_set_status(
        supplier=suspended.supplier,
        buyer=officer.buyer,
        status=SupplierStatus.SUSPENDED,
        reason="Insurance lapsed.",
        by=officer,
    )
    undecided = SupplierOrganisation.objects.exclude(approvals__buyer=officer.buyer).first()
    assert undecided is not None
    supplier_set_status(
        supplier=undecided,
        buyer=other_officer.buyer,
        status=SupplierStatus.APPROVED,
        reason="Checked.",
        by=other_officer,
    )
    # A row still saying "pending" (no service writes one, but the counts must
    # read it as waiting, as the statement they replaced did): written directly.
    SupplierApproval.objects.filter(pk=back_to_pending.pk).update(status=SupplierStatus.PENDING)

    home = officer_home(officer)

    decided = mine.exclude(status=SupplierStatus.PENDING).count()
    assert home["pending_count"] == SupplierOrganisation.objects.count() - decided
    assert home["supplier_counts"]["approved"] == approved.count()
    local = SupplierOrganisation.objects.filter(is_local_to(officer.buyer)).values("pk")
    assert home["supplier_counts"]["approved_local"] == approved.filter(supplier__in=local).count()
    waiting = {s.pk for s in home["pending_suppliers"]}
    assert undecided.pk in waiting or home["pending_count"] > len(waiting)
    assert suspended.supplier_id not in waiting


def test_the_supplier_section_is_kept_only_while_who_waits_is_unchanged(demo_data, officer):
    """On PostgreSQL the home's supplier section is kept under the version the
    database's triggers raise (``portal.kept``): one statement while nothing
    changed, and a change made anywhere, even straight in the database, shows
    on the next read, as a fresh read gives it."""
    from portal import kept
    from portal.models import KeptRead, LocalityDistrict
    from suppliers.models import (
        SupplierApproval,
        SupplierFactsVersion,
        SupplierOrganisation,
        SupplierSite,
        SupplierStatus,
    )
    from suppliers.selectors import SUPPLIER_FACTS, officer_home
    from tests.conftest import need

    need(connection.vendor == "postgresql", "the supplier section is kept on PostgreSQL only")
    SupplierFactsVersion.objects.get_or_create(pk=1)  # a flushed database has no count

    def version() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {kept.version_sql(SUPPLIER_FACTS)}")
            return cursor.fetchone()[0]

    def section() -> tuple:
        home = officer_home(officer)
        return (
            home["pending_count"],
            home["supplier_counts"],
            home["department_name"],
            [
                (s.pk, s.legal_name, s.is_local, s.places, s.registered)
                for s in home["pending_suppliers"]
            ],
        )

    def fresh() -> tuple:
        KeptRead.objects.all().delete()
        return section()

    first = fresh()
    assert first[0] > 0 and first[3], "the demo has suppliers waiting"
    assert KeptRead.objects.get(facts=SUPPLIER_FACTS, buyer=officer.buyer).version == version()
    with CaptureQueriesContext(connection) as queries:
        assert section() == first  # as kept
    assert len(queries) == 1
    # Pruning the list of changes leaves the version, and what is kept, as they were.
    before = version()
    kept.prune(SUPPLIER_FACTS)
    assert version() == before
    with CaptureQueriesContext(connection) as queries:
        assert section() == first
    assert len(queries) == 1

    waiting = SupplierOrganisation.objects.get(pk=first[3][0][0])
    changes = [
        # A waiting supplier renamed, moved, decided on; a council's locality changed;
        # a supplier registered: each straight in the database, as a bulk update would.
        lambda: SupplierOrganisation.objects.filter(pk=waiting.pk).update(legal_name="AAA Renamed"),
        lambda: SupplierSite.objects.filter(supplier=waiting).update(
            district="ZZ9", town="Elsewhere"
        ),
        lambda: LocalityDistrict.objects.create(buyer=officer.buyer, district="ZZ9"),
        lambda: SupplierApproval.objects.create(
            supplier=waiting, buyer=officer.buyer, status=SupplierStatus.APPROVED
        ),
        lambda: SupplierOrganisation.objects.create(legal_name="AAA New Registration Ltd"),
    ]
    seen = first
    for change in changes:
        was = version()
        change()
        assert version() == was + 1
        after = section()
        assert after != seen  # at once
        assert after == fresh()  # and as a fresh read gives it
        seen = after
