"""Trust that nobody can claim for themselves (ADR 12): once a council has
verified a supplier, what verification relied on changes only when an
officer accepts it; each council verifies and suspends for itself.

Each attack of issue 14 is reproduced here first; every refusal leaves the
rows as they were.
"""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal as D

import pytest
import time_machine
from django.apps import apps as django_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from cpv.models import CpvCode
from portal import audit
from portal.models import AuditEvent, BuyerOrganisation, Notification
from portal.services import user_create
from suppliers.models import (
    ChangeStatus,
    SupplierApproval,
    SupplierChange,
    SupplierOrganisation,
    SupplierStatus,
)
from suppliers.selectors import buyers_local_to, status_of
from suppliers.services import (
    ProfileRefused,
    SiteSpec,
    StatusChangeRefused,
    site_add,
    site_remove,
    site_update,
    supplier_change_decide,
    supplier_create,
    supplier_set_status,
    supplier_update,
)
from tenders.models import Contract, Invitation
from tenders.services import (
    DECLARATIONS,
    BidRefused,
    OpportunityRefused,
    award_lot,
    bid_save_draft,
    bid_start,
    bid_submit,
    bid_withdraw,
    box_open,
    invite,
    matching_suppliers,
    opportunity_publish,
    score_set,
)
from tests.tenders_helpers import approved_supplier, make_opportunity

pytestmark = pytest.mark.usefixtures("in_process_tasks")
ALL_DECLARED = dict.fromkeys(DECLARATIONS, True)
BD1 = SiteSpec("1 Ivegate", "Bradford", "BD1 1AA")


def rows(supplier: SupplierOrganisation) -> dict:
    """Everything about a supplier a change could touch."""
    supplier = SupplierOrganisation.objects.get(pk=supplier.pk)
    return {
        "supplier": model_to_dict(supplier, exclude=["categories"]),
        "categories": sorted(supplier.categories.values_list("code", flat=True)),
        "sites": list(supplier.sites.order_by("pk").values()),
        "approvals": list(supplier.approvals.order_by("pk").values()),
        "changes": list(supplier.changes.order_by("pk").values()),
    }


@pytest.fixture
def leeds(demo_data, distant_supplier_user) -> SupplierOrganisation:
    """An approved supplier based in Leeds (not local to the demo council)."""
    supplier = distant_supplier_user.supplier
    assert status_of(supplier, demo_data) == SupplierStatus.APPROVED
    assert demo_data not in buyers_local_to(supplier)
    return supplier


# --- 1. Changes that matter are verified ---------------------------------------------


def test_an_approved_supplier_adding_a_local_address_stays_not_local_until_reviewed(
    client, demo_data, leeds, distant_supplier_user, officer
):
    """The attack: a non-local approved supplier added a site at BD1 1AA and was
    local to two councils at once, with no re-check."""
    outcome = site_add(supplier=leeds, spec=BD1, by=distant_supplier_user)
    assert not outcome.applied and outcome.site is None
    (change,) = outcome.pending
    assert change.status == ChangeStatus.PENDING and change.after["postcode"] == "BD1 1AA"
    # Its verified facts stand: not local, not a site, invited only with a justification.
    assert demo_data not in buyers_local_to(leeds)
    assert not leeds.sites.filter(postcode="BD1 1AA").exists()
    opportunity = make_opportunity(officer, "5000.00", cpv="30190000-7")
    with pytest.raises(OpportunityRefused, match="is not local"):
        invite(opportunity=opportunity, suppliers=[leeds], by=officer)
    # The supplier sees it waiting; the officer sees it in the queue, before → after.
    client.force_login(distant_supplier_user)
    page = client.get(reverse("organisation")).content.decode()
    assert "Waiting for review" in page and "BD1 1AA" in page
    client.force_login(officer)
    queue = client.get(reverse("supplier_changes")).content.decode()
    assert "New address" in queue and "1 Ivegate, Bradford, BD1 1AA" in queue
    # Accepted: local from now, and the supplier's people are told.
    response = client.post(
        reverse("supplier_change_decide", args=[change.pk]),
        {f"change-{change.pk}-decision": "accept", f"change-{change.pk}-reason": "Lease seen."},
    )
    assert response.status_code == 302
    assert demo_data in buyers_local_to(leeds)
    change.refresh_from_db()
    assert (change.status, change.decided_by, change.reason) == (
        ChangeStatus.APPROVED,
        officer,
        "Lease seen.",
    )
    assert Notification.objects.filter(event="supplier.change_decided").exists()
    assert AuditEvent.objects.filter(action="supplier.change_accepted").count() == 1


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"legal_name": "Leeds Office Supplies Group Ltd"}, "Leeds Office Supplies Group Ltd"),
        ({"companies_house_number": "09999999"}, "09999999"),
        ({"is_sme": False}, "No"),
        ({"is_vcse": True}, "Yes"),
        ({"trading_name": "Aire Valley Cleaning"}, "Aire Valley Cleaning"),
    ],
)
def test_each_verified_detail_waits_for_review(leeds, distant_supplier_user, fields, shown):
    before = rows(leeds)
    outcome = supplier_update(supplier=leeds, by=distant_supplier_user, **fields)
    (change,) = outcome.pending
    _, verified, asked = change.shown_rows()[0]
    assert verified != asked
    assert asked == shown
    after = rows(leeds)
    assert after["supplier"] == before["supplier"]  # the verified facts stand
    assert len(after["changes"]) == 1


def test_a_new_category_does_not_make_a_supplier_invitable_until_reviewed(
    demo_data, officer, leeds, distant_supplier_user
):
    cleaning = CpvCode.objects.get(code="90910000-9")
    opportunity = make_opportunity(officer, "5000.00", cpv="90910000-9")
    assert leeds not in matching_suppliers(opportunity)
    current = list(leeds.categories.all())
    outcome = supplier_update(
        supplier=leeds, by=distant_supplier_user, categories=[*current, cleaning]
    )
    assert outcome.pending and not outcome.applied
    assert leeds not in matching_suppliers(opportunity)
    supplier_change_decide(
        change=outcome.pending[0], accept=True, reason="Cleaning contracts seen.", by=officer
    )
    assert leeds in matching_suppliers(opportunity)


def test_contact_details_are_harmless_and_change_at_once(leeds, distant_supplier_user):
    outcome = supplier_update(
        supplier=leeds, by=distant_supplier_user, phone="0113 496 0000", website=""
    )
    assert outcome.applied and not outcome.pending
    leeds.refresh_from_db()
    assert leeds.phone == "0113 496 0000"
    assert not SupplierChange.objects.exists()


def test_a_refused_change_leaves_the_verified_facts(leeds, distant_supplier_user, officer):
    (change,) = site_add(supplier=leeds, spec=BD1, by=distant_supplier_user).pending
    before = rows(leeds)
    supplier_change_decide(change=change, accept=False, reason="No lease shown.", by=officer)
    after = rows(leeds)
    assert after["sites"] == before["sites"] and after["supplier"] == before["supplier"]
    change.refresh_from_db()
    assert change.status == ChangeStatus.REFUSED and change.reason == "No lease shown."


def test_a_later_request_replaces_one_still_waiting(leeds, distant_supplier_user):
    first = supplier_update(supplier=leeds, by=distant_supplier_user, legal_name="A Ltd").pending
    second = supplier_update(supplier=leeds, by=distant_supplier_user, legal_name="B Ltd").pending
    first[0].refresh_from_db()
    assert first[0].status == ChangeStatus.REPLACED
    assert second[0].before["legal_name"] == "Leeds Office Supplies Ltd"  # the verified name
    # Asking for the verified name again asks for nothing.
    again = supplier_update(
        supplier=leeds, by=distant_supplier_user, legal_name="Leeds Office Supplies Ltd"
    )
    assert not again.pending
    assert not SupplierChange.objects.filter(status=ChangeStatus.PENDING).exists()


def test_changing_and_removing_an_address_wait_for_review(demo_data, local_supplier_user, officer):
    aire = local_supplier_user.supplier
    home = aire.sites.get()
    site_add_outcome = site_add(
        supplier=aire, spec=SiteSpec("2 Wellington St", "Leeds", "LS1 4LT"), by=local_supplier_user
    )
    supplier_change_decide(
        change=site_add_outcome.pending[0], accept=True, reason="Seen.", by=officer
    )
    moved = site_update(
        site=home, spec=SiteSpec("9 Far Away", "York", "YO1 7HH"), by=local_supplier_user
    )
    assert moved.pending and demo_data in buyers_local_to(aire)  # still local until reviewed
    removed = site_remove(site=home, by=local_supplier_user)
    assert removed.pending and aire.sites.filter(pk=home.pk).exists()
    # The removal replaced the change of the same address.
    moved.pending[0].refresh_from_db()
    assert moved.pending[0].status == ChangeStatus.REPLACED
    supplier_change_decide(change=removed.pending[0], accept=True, reason="Moved.", by=officer)
    assert demo_data not in buyers_local_to(aire)


def test_a_supplier_no_council_has_verified_changes_at_once(demo_data):
    pending = SupplierOrganisation.objects.get(legal_name="Allerton Electrical Contractors Ltd")
    assert not pending.approvals.exists()
    person = approved_supplier("Helper Ltd", "BD2 1AA").users.get()  # any user to act
    outcome = site_add(supplier=pending, spec=BD1, by=person)
    assert outcome.applied and pending.sites.filter(postcode="BD1 1AA").exists()


def test_local_at_award_comes_from_verified_addresses(
    demo_data, officer, second_officer, settings, tmp_path
):
    """A supplier whose local address waits for review is recorded as not local."""
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(timezone.now(), tick=False) as clock:
        far = approved_supplier("Far Cleaners Ltd", "LS1 4LT")
        person = far.users.get()
        site_add(supplier=far, spec=BD1, by=person)  # waiting for review
        near = approved_supplier("Near Cleaners Ltd", "BD3 1AA")
        opportunity = make_opportunity(officer, "4000.00")
        invite(opportunity=opportunity, suppliers=[near], by=officer)
        invite(
            opportunity=opportunity,
            suppliers=[far],
            by=officer,
            non_local_justification="A specialist.",
        )
        opportunity_publish(opportunity=opportunity, by=officer)
        bid = bid_start(lot=opportunity.lots.get(), by=person)
        bid_save_draft(bid=bid, by=person, price=D("3000.00"), declarations=ALL_DECLARED)
        bid_submit(bid=bid, by=person)
        # After the deadline and the time bids received before it may take (ADR 17).
        clock.move_to(opportunity.submission_deadline + datetime.timedelta(seconds=31))
        box_open(opportunity=opportunity, by=officer)
        box_open(opportunity=opportunity, by=second_officer)
        quality = opportunity.criteria.get(is_price=False)
        score_set(bid=bid, criterion=quality, mark=D("70"), comment="Fine.", by=officer)
        today = timezone.localdate()
        award_lot(
            lot=opportunity.lots.get(),
            by=officer,
            reasons="Only bid.",
            start_date=today,
            end_date=today + datetime.timedelta(days=30),
        )
    assert Contract.objects.get(supplier=far).supplier_was_local is False


def test_only_officers_of_a_council_that_verified_the_supplier_review_its_changes(
    client, demo_data, leeds, distant_supplier_user, other_officer, auditor
):
    (change,) = site_add(supplier=leeds, spec=BD1, by=distant_supplier_user).pending
    url = reverse("supplier_change_decide", args=[change.pk])
    data = {f"change-{change.pk}-decision": "accept", f"change-{change.pk}-reason": "Fine."}
    before = rows(leeds)
    # Other Borough has not decided on Leeds: the change is not its business.
    client.force_login(other_officer)
    assert client.post(url, data).status_code == 404
    assert "1 Ivegate" not in client.get(reverse("supplier_changes")).content.decode()
    client.force_login(auditor)
    assert client.post(url, data).status_code == 403
    client.force_login(distant_supplier_user)
    assert client.post(url, data).status_code == 404
    with pytest.raises(ProfileRefused):
        supplier_change_decide(change=change, accept=True, reason="Self.", by=distant_supplier_user)
    assert rows(leeds) == before


# --- 2. Verification per council ---------------------------------------------------------


def test_another_councils_suspension_never_blocks_bids_here(
    demo_data, officer, other_officer, local_supplier_user, settings, tmp_path
):
    """The attack: another council's officer suspended a supplier, which then could
    neither submit nor withdraw on Demo Council's open opportunity."""
    settings.MEDIA_ROOT = tmp_path
    aire = local_supplier_user.supplier
    supplier_set_status(
        supplier=aire,
        buyer=other_officer.buyer,
        status=SupplierStatus.APPROVED,
        reason="Checked.",
        by=other_officer,
    )
    others = [approved_supplier(f"Cleaner {n}", f"BD{n} 1AA") for n in (2, 3)]
    opportunity = make_opportunity(officer, "20000.00")
    invite(opportunity=opportunity, suppliers=[aire, *others], by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    bid = bid_start(lot=opportunity.lots.get(), by=local_supplier_user)
    bid_save_draft(bid=bid, by=local_supplier_user, price=D("9000.00"), declarations=ALL_DECLARED)

    supplier_set_status(
        supplier=aire,
        buyer=other_officer.buyer,
        status=SupplierStatus.SUSPENDED,
        reason="Insurance lapsed with us.",
        by=other_officer,
    )
    assert status_of(aire, demo_data) == SupplierStatus.APPROVED
    bid_submit(bid=bid, by=local_supplier_user)
    bid_withdraw(bid=bid, by=local_supplier_user)
    bid_save_draft(bid=bid, by=local_supplier_user, price=D("8900.00"), declarations=ALL_DECLARED)
    bid_submit(bid=bid, by=local_supplier_user)
    assert Invitation.objects.filter(opportunity=opportunity, supplier=aire).exists()
    # At Other Borough it is suspended: its own opportunities refuse it.
    from devdata import demo
    from tenders.services import policy_create

    policy_create(
        buyer=other_officer.buyer,
        effective_from=datetime.date(2025, 4, 1),
        local_threshold=D("180000.00"),
        bands=demo.BANDS,
        by=None,
    )
    theirs = make_opportunity(other_officer, "20000.00")
    with pytest.raises(OpportunityRefused, match="not approved by Other Borough Council"):
        invite(opportunity=theirs, suppliers=[aire], by=other_officer)


def test_this_councils_own_suspension_still_stops_bids(
    demo_data, officer, local_supplier_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    aire = local_supplier_user.supplier
    others = [approved_supplier(f"Cleaner {n}", f"BD{n} 1AA") for n in (2, 3)]
    opportunity = make_opportunity(officer, "20000.00")
    invite(opportunity=opportunity, suppliers=[aire, *others], by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    bid = bid_start(lot=opportunity.lots.get(), by=local_supplier_user)
    bid_save_draft(bid=bid, by=local_supplier_user, price=D("9000.00"), declarations=ALL_DECLARED)
    supplier_set_status(
        supplier=aire, buyer=demo_data, status=SupplierStatus.SUSPENDED, reason="No.", by=officer
    )
    with pytest.raises(BidRefused, match="not approved by Demo Council"):
        bid_submit(bid=bid, by=local_supplier_user)


def test_an_officer_cannot_decide_for_another_council(demo_data, officer, other_officer):
    target = SupplierOrganisation.objects.get(legal_name="Allerton Electrical Contractors Ltd")
    before = rows(target)
    with pytest.raises(StatusChangeRefused, match="Only Demo Council's officers"):
        supplier_set_status(
            supplier=target,
            buyer=demo_data,
            status=SupplierStatus.APPROVED,
            reason="Not mine.",
            by=other_officer,
        )
    assert rows(target) == before


def test_the_supplier_sees_each_councils_decision(
    client, demo_data, other_officer, local_supplier_user
):
    supplier_set_status(
        supplier=local_supplier_user.supplier,
        buyer=other_officer.buyer,
        status=SupplierStatus.SUSPENDED,
        reason="Insurance lapsed with us.",
        by=other_officer,
    )
    client.force_login(local_supplier_user)
    page = client.get(reverse("home")).content.decode()
    assert "Approved</strong> by Demo Council" in page
    assert "Suspended</strong> by Other Borough Council: Insurance lapsed with us." in page


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_each_old_status_as_every_councils_decision(demo_data, request):
    """Before: one status for the whole portal. After: the same decision for
    every council, with its reason and time."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = [("suppliers", "0006_site_ordering_by_supplier_id")]
    after = [("suppliers", "0008_status_per_council_only")]
    # Going back unapplies every later migration that depends on suppliers (the
    # ledger's among them): the test ends by migrating everything forward again.
    request.addfinalizer(lambda: MigrationExecutor(connection).migrate(latest))
    executor.migrate(before)
    old = MigrationExecutor(connection).loader.project_state(before).apps
    Supplier = old.get_model("suppliers", "SupplierOrganisation")
    made = Supplier.objects.create(
        legal_name="Old Portal Ltd", status="suspended", status_reason="Fraud."
    )
    waiting = Supplier.objects.create(legal_name="Still Waiting Ltd", status="pending")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    # As the models were then (later migrations add columns).
    Approval = executor.loader.project_state(after).apps.get_model("suppliers", "SupplierApproval")
    approvals = Approval.objects.filter(supplier_id=made.pk)
    assert approvals.count() == BuyerOrganisation.objects.count()
    assert {(a.status, a.reason) for a in approvals} == {("suspended", "Fraud.")}
    assert not Approval.objects.filter(supplier_id=waiting.pk).exists()


# session, user, two-factor device, council (header), unread count; count, the page.
QUEUE_QUERIES = 7


def test_the_review_queue_makes_a_fixed_number_of_queries(
    client, officer, leeds, distant_supplier_user, django_assert_num_queries
):
    site_add(supplier=leeds, spec=BD1, by=distant_supplier_user)
    client.force_login(officer)
    url = reverse("supplier_changes")
    client.get(url)  # warm-up
    with django_assert_num_queries(QUEUE_QUERIES):
        client.get(url)
    for n in range(5):
        other = approved_supplier(f"Queue Cleaner {n}", f"BD{n + 2} 1AA")
        supplier_update(supplier=other, by=other.users.get(), legal_name=f"Renamed {n} Ltd")
    with django_assert_num_queries(QUEUE_QUERIES):
        response = client.get(url)
    assert len(response.context["changes"]) == 6
    page = response.content.decode()
    assert "Renamed 4 Ltd" in page and page.count('name="change-') >= 12


def test_the_edit_form_starts_from_what_waits_so_saving_again_keeps_it(
    client, leeds, distant_supplier_user
):
    supplier_update(supplier=leeds, by=distant_supplier_user, legal_name="Leeds Office Group Ltd")
    client.force_login(distant_supplier_user)
    form = client.get(reverse("organisation_edit")).context["form"]
    assert form["legal_name"].value() == "Leeds Office Group Ltd"
    data = {
        name: ("" if value is None else value)
        for name, value in ((n, form[n].value()) for n in form.fields if n != "categories")
    }
    data["categories"] = " ".join(c.code for c in leeds.categories.all())
    data["phone"] = "0113 496 0001"
    client.post(reverse("organisation_edit"), data)
    (waiting,) = SupplierChange.objects.filter(status=ChangeStatus.PENDING)
    assert waiting.after == {"legal_name": "Leeds Office Group Ltd"}
    leeds.refresh_from_db()
    assert leeds.phone == "0113 496 0001" and leeds.legal_name == "Leeds Office Supplies Ltd"


# --- 3. Only an approval verifies --------------------------------------------------------


def test_a_supplier_suspended_before_any_approval_changes_at_once(demo_data, officer):
    """A suspension of a supplier no council approved checked nothing that
    counts: its changes apply at once (nothing verified is changed), and the
    approval that reinstates it checks them; once approved, then suspended,
    its changes wait for review again."""
    waiting = SupplierOrganisation.objects.get(legal_name="Allerton Electrical Contractors Ltd")
    person = approved_supplier("Helper Ltd", "BD2 1AA").users.get()  # any user to act
    supplier_set_status(
        supplier=waiting,
        buyer=demo_data,
        status=SupplierStatus.SUSPENDED,
        reason="Your address does not match Companies House. Please correct it.",
        by=officer,
    )
    assert site_add(supplier=waiting, spec=BD1, by=person).applied
    old = waiting.sites.exclude(postcode="BD1 1AA").get()
    assert site_remove(site=old, by=person).applied
    assert list(waiting.sites.values_list("postcode", flat=True)) == ["BD1 1AA"]
    assert not supplier_update(supplier=waiting, by=person, legal_name="Allerton Ltd").pending
    assert not SupplierChange.objects.filter(supplier=waiting).exists()

    supplier_set_status(
        supplier=waiting, buyer=demo_data, status=SupplierStatus.APPROVED, reason="Ok.", by=officer
    )
    supplier_set_status(
        supplier=waiting, buyer=demo_data, status=SupplierStatus.SUSPENDED, reason="No.", by=officer
    )
    outcome = site_add(
        supplier=waiting, spec=SiteSpec("2 Ivegate", "Bradford", "BD1 1AB"), by=person
    )
    assert not outcome.applied and outcome.pending


def test_facts_no_council_verified_are_never_called_verified(
    client, demo_data, officer, leeds, distant_supplier_user
):
    """A change waiting from a supplier suspended before any approval (asked
    for before such changes applied at once) shows what it replaces as what
    it was, not as verified; a verified supplier's change says "Verified"."""
    waiting = SupplierOrganisation.objects.get(legal_name="Allerton Electrical Contractors Ltd")
    supplier_set_status(
        supplier=waiting, buyer=demo_data, status=SupplierStatus.SUSPENDED, reason="No.", by=officer
    )
    site = waiting.sites.first()
    SupplierChange.objects.create(
        supplier=waiting,
        kind="site_remove",
        site=site,
        before={
            "address_line_1": site.address_line_1,
            "town": site.town,
            "postcode": site.postcode,
        },
        after={},
        requested_by=distant_supplier_user,
    )
    site_add(supplier=leeds, spec=BD1, by=distant_supplier_user)
    client.force_login(officer)
    queue = client.get(reverse("supplier_changes")).content.decode()
    never, verified = (
        queue.split(f'id="change-{c.pk}"', 1)[1].split("</table>", 1)[0]
        for c in SupplierChange.objects.filter(supplier__in=[waiting, leeds]).order_by("pk")
    )
    assert "Before the change" in never and ">Verified<" not in never
    assert ">Verified<" in verified and "Before the change" not in verified
    assert "Suppliers your council has verified" not in queue

    for supplier, verified_words in [(waiting, False), (leeds, True)]:
        user = distant_supplier_user
        if supplier == waiting:
            user = user_create(
                email="bids@allerton.example",
                full_name="Allerton bids",
                role="supplier",
                supplier=waiting,
                supplier_role="admin",
                password="a long test passphrase",
                email_verified=True,
                by=None,
            )
        client.force_login(user)
        page = client.get(reverse("organisation")).content.decode()
        assert "Waiting for review" in page
        assert ("as they were verified" in page) is verified_words
        assert (">Verified<" in page) is verified_words


def test_the_migration_keeps_first_approvals_and_knows_a_suspension_while_waiting(
    demo_data, officer
):
    migration = importlib.import_module(
        "suppliers.migrations.0009_first_approval_kept_through_suspension"
    )
    was_approved = approved_supplier("Migrated Ltd", "BD2 1AA").approvals.get(buyer=demo_data)
    was_approved.status, was_approved.first_approved_at = SupplierStatus.SUSPENDED, None
    was_approved.save()
    # Suspensions whose time the migration cannot see in the trail of its own.
    never, unknown = (
        SupplierApproval.objects.create(
            supplier=supplier_create(legal_name=name, sites=[BD1], by=None),
            buyer=demo_data,
            status=SupplierStatus.SUSPENDED,
        )
        for name in ["Never Approved Ltd", "Old Portal Ltd"]
    )
    audit.record(
        actor=officer,
        action="supplier.status_changed",
        obj=never.supplier,
        changes={"status": ["pending", "suspended"]},
        context={"council": demo_data.pk},
    )
    migration.first_approvals(django_apps, None)
    for approval in (was_approved, never, unknown):
        approval.refresh_from_db()
    assert was_approved.first_approved_at is not None  # its audit trail shows the approval
    assert never.first_approved_at is None  # suspended while waiting
    assert unknown.first_approved_at == unknown.changed_at  # no trail: as before, verified
