"""Officers verify suppliers: pending → approved → suspended and back, each
with a reason, audited and told to the supplier's people."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from portal.models import AuditEvent, InboxMessage, Role
from portal.services import user_create
from suppliers import officer_views
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.selectors import status_of
from suppliers.services import supplier_set_status

pytestmark = pytest.mark.usefixtures("in_process_tasks")


def supplier(name: str) -> SupplierOrganisation:
    return SupplierOrganisation.objects.get(legal_name=name)


@pytest.fixture
def allerton(demo_data) -> SupplierOrganisation:
    """A pending local supplier, with one person who can sign in."""
    found = supplier("Allerton Electrical Contractors Ltd")
    user_create(
        email="office@allerton.example",
        full_name="Ada Allerton",
        role=Role.SUPPLIER,
        supplier=found,
        supplier_role="admin",
        password=None,
        email_verified=True,
        by=None,
    )
    return found


def decide(client, target: SupplierOrganisation, action: str, reason: str = "", **extra):
    return client.post(
        reverse("supplier_status", args=[target.pk]), {"action": action, "reason": reason}, **extra
    )


def status_events(target: SupplierOrganisation):
    return AuditEvent.objects.filter(
        action="supplier.status_changed",
        object_type="suppliers.supplierorganisation",
        object_id=str(target.pk),
    )


def test_an_officer_approves_a_pending_supplier_with_a_reason(
    client, officer, allerton, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, allerton, "approve", "Insurance and references checked.")
    assert response.status_code == 302
    assert response["Location"] == reverse("supplier_detail", args=[allerton.pk])

    assert status_of(allerton, officer.buyer) == SupplierStatus.APPROVED
    assert allerton.approvals.get(buyer=officer.buyer).reason == "Insurance and references checked."
    event = status_events(allerton).get()
    assert event.actor == officer
    assert event.changes == {"status": ["pending", "approved"]}
    assert event.context == {
        "reason": "Insurance and references checked.",
        "council": officer.buyer_id,
        "council_name": "Demo Council",
    }
    # The supplier's people are told, by email and in their inbox.
    assert [m.to for m in mail.outbox] == [["office@allerton.example"]]
    assert "is now approved" in mail.outbox[0].subject
    assert "Insurance and references checked." in mail.outbox[0].body
    assert InboxMessage.objects.filter(recipient__email="office@allerton.example").count() == 1

    page = client.get(response["Location"]).content.decode()
    assert "Allerton Electrical Contractors Ltd is now approved for Demo Council" in page
    history = page.split(">History<", 1)[1]
    assert "Status changed from waiting for verification to approved" in history
    assert "Priya Shah" in history and "Insurance and references checked." in history


def test_the_form_offers_only_the_changes_allowed_from_the_current_status(client, officer):
    client.force_login(officer)
    offered = {
        "Allerton Electrical Contractors Ltd": ["approve", "suspend"],  # pending
        "Aire Valley Cleaning Ltd": ["suspend"],  # approved
        "Calder Valley Cleaning Ltd": ["reinstate"],  # suspended
    }
    for name, actions in offered.items():
        response = client.get(reverse("supplier_detail", args=[supplier(name).pk]))
        form = response.context["form"]
        assert [value for value, _ in form.fields["action"].choices] == actions
        page = response.content.decode()
        for action in actions:
            assert f'value="{action}"' in page


def test_a_decision_without_a_reason_is_refused(client, officer, allerton):
    client.force_login(officer)
    for reason in ["", "   "]:
        response = decide(client, allerton, "approve", reason)
        page = response.content.decode()
        assert response.status_code == 200
        assert "govuk-error-summary" in page and "Give a reason: the supplier will see it" in page
    assert status_of(allerton, officer.buyer) == SupplierStatus.PENDING
    assert not status_events(allerton).exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("name", "action", "message"),
    [
        ("Aire Valley Cleaning Ltd", "approve", "Aire Valley Cleaning Ltd is approved"),
        ("Allerton Electrical Contractors Ltd", "reinstate", "is waiting for verification"),
        ("Calder Valley Cleaning Ltd", "suspend", "Calder Valley Cleaning Ltd is suspended"),
        ("Allerton Electrical Contractors Ltd", "delete", "choose one of the actions offered"),
    ],
)
def test_a_change_the_rules_do_not_allow_is_refused(
    client, officer, demo_data, name, action, message
):
    target = supplier(name)
    before = status_of(target, demo_data)
    client.force_login(officer)
    response = decide(client, target, action, "Because.")
    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page and message in page
    assert "Because." in page  # the reason typed is kept
    assert status_of(target, demo_data) == before
    assert status_events(target).count() == (0 if before == SupplierStatus.PENDING else 1)


def test_an_officer_suspends_and_then_reinstates_a_supplier(
    client, officer, local_supplier_user, django_capture_on_commit_callbacks
):
    aire = local_supplier_user.supplier
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        decide(client, aire, "suspend", "Insurance lapsed.")
    assert status_of(aire, officer.buyer) == SupplierStatus.SUSPENDED

    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, aire, "reinstate", "New insurance certificate received.")
    assert response.status_code == 302
    assert status_of(aire, officer.buyer) == SupplierStatus.APPROVED
    assert aire.approvals.get(buyer=officer.buyer).reason == "New insurance certificate received."
    changes = [e.changes["status"] for e in status_events(aire).order_by("at", "id")]
    assert changes == [
        ["pending", "approved"],
        ["approved", "suspended"],
        ["suspended", "approved"],
    ]
    subjects = [m.subject for m in mail.outbox if m.to == [local_supplier_user.email]]
    assert len(subjects) == 2
    assert "is now suspended" in subjects[0] and "is now approved" in subjects[1]


def test_a_change_made_meanwhile_by_another_officer_is_reported_not_overwritten(
    client, officer, second_officer, allerton, monkeypatch
):
    def another_officer_got_there_first(**kwargs):
        supplier_set_status(
            supplier=allerton,
            buyer=second_officer.buyer,
            status=SupplierStatus.APPROVED,
            reason="Checked.",
            by=second_officer,
        )
        return supplier_set_status(**kwargs)

    monkeypatch.setattr(officer_views, "supplier_set_status", another_officer_got_there_first)
    client.force_login(officer)
    response = decide(client, allerton, "approve", "References fine.")
    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page
    assert (
        "Allerton Electrical Contractors Ltd is approved for your council: choose one of the "
        "actions" in page
    )
    assert "References fine." in page
    # The page now shows the supplier as it is, with what may be done now.
    assert [v for v, _ in response.context["form"].fields["action"].choices] == ["suspend"]
    assert [e.actor for e in status_events(allerton)] == [second_officer]


@pytest.mark.parametrize("persona", ["auditor", "admin_user"])
def test_auditors_and_administrators_see_the_page_without_the_decision_form(
    client, request, persona, allerton
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("supplier_detail", args=[allerton.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["status_form"] is None
    assert "Your decision" not in page and "Save decision" not in page
    assert "Allerton Electrical Contractors Ltd" in page


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("auditor", 403),
        ("admin_user", 403),
        ("local_supplier_user", 404),
        ("distant_supplier_user", 404),
    ],
)
def test_only_officers_may_decide(client, request, allerton, persona, status):
    client.force_login(request.getfixturevalue(persona))
    assert decide(client, allerton, "approve", "Looks fine.").status_code == status
    assert not allerton.approvals.exists()
    assert not status_events(allerton).exists()


def test_a_supplier_user_cannot_approve_their_own_organisation(client, demo_data):
    baildon = supplier("Baildon Landscapes Ltd")
    own = user_create(
        email="boss@baildon.example",
        full_name="Bea Baildon",
        role=Role.SUPPLIER,
        supplier=baildon,
        supplier_role="admin",
        password=None,
        by=None,
    )
    client.force_login(own)
    assert decide(client, baildon, "approve", "Trust me.").status_code == 404
    assert client.get(reverse("supplier_detail", args=[baildon.pk])).status_code == 404
    assert not baildon.approvals.exists()


def test_another_councils_officer_verifies_for_their_own_council_only(
    client, other_officer, officer, allerton
):
    # Suppliers register once for the whole portal; each council verifies for itself.
    client.force_login(other_officer)
    assert decide(client, allerton, "approve", "Checked by Other Borough.").status_code == 302
    assert status_of(allerton, other_officer.buyer) == SupplierStatus.APPROVED
    assert status_of(allerton, officer.buyer) == SupplierStatus.PENDING
    # Demo Council's officers see it as information, and still decide for themselves.
    client.force_login(officer)
    page = client.get(reverse("supplier_detail", args=[allerton.pk])).content.decode()
    assert "Other councils' decisions" in page and "Other Borough Council: approved" in page
    assert 'value="approve"' in page


def test_the_decision_is_a_post(client, officer, allerton):
    client.force_login(officer)
    assert client.get(reverse("supplier_status", args=[allerton.pk])).status_code == 405


def test_a_decision_reaches_the_person_who_registered_before_they_confirm_their_address(
    demo_data, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    """DESIGN: "supplier approved" is sent, and no notification is lost. Whoever
    registered the supplier may not have followed their link yet: the decision
    waits in their inbox and is emailed, rather than going to nobody."""
    from cpv.models import CpvCode
    from suppliers.services import SiteSpec
    from suppliers.services.people import supplier_register

    registration = supplier_register(
        legal_name="Frizinghall Joinery Ltd",
        site=SiteSpec("2 Mill Lane", "Bradford", "BD9 4AA"),
        categories=list(CpvCode.objects.filter(code="90910000-9")),
        full_name="Pat Joiner",
        email="pat@frizinghall-joinery.example",
        password="a-long-enough-password-2026",
    )
    person = registration.user
    assert not person.is_active and person.email_verified_at is None
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        supplier_set_status(
            supplier=registration.supplier,
            buyer=officer.buyer,
            status=SupplierStatus.APPROVED,
            reason="Checked.",
            by=officer,
        )
    assert [m.to for m in mail.outbox] == [["pat@frizinghall-joinery.example"]]
    assert InboxMessage.objects.filter(recipient=person).exists()
