import pytest
from django.db import transaction

from portal import audit
from portal.models import AuditEvent, BuyerOrganisation


@pytest.fixture
def buyer(db):
    return BuyerOrganisation.objects.create(name="Audit Borough", slug="audit-borough")


def test_record_keeps_who_what_when_and_the_changed_fields(buyer, officer):
    before = audit.snapshot(buyer, ["name", "identifier"])
    buyer.name = "Audit Borough Council"
    after = audit.snapshot(buyer, ["name", "identifier"])

    event = audit.record(
        actor=officer,
        action="buyer.renamed",
        obj=buyer,
        changes=audit.diff(before, after),
        context={"reason": "Legal name"},
    )

    event.refresh_from_db()
    assert event.actor == officer
    assert event.actor_label == "officer@demo-council.example"
    assert event.action == "buyer.renamed"
    assert (event.object_type, event.object_id) == ("portal.buyerorganisation", str(buyer.pk))
    assert event.changes == {"name": ["Audit Borough", "Audit Borough Council"]}
    assert event.context == {"reason": "Legal name"}
    assert list(audit.history_for(buyer)) == [event]


def test_a_system_action_has_no_actor(buyer):
    event = audit.record(actor=None, action="buyer.checked", obj=buyer)
    assert event.actor is None
    assert event.actor_label == "system"


def test_audit_rows_cannot_be_changed_or_deleted_through_the_orm(buyer):
    event = audit.record(actor=None, action="buyer.checked", obj=buyer)
    event.action = "something.else"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "buyer.checked"


def test_an_event_rolls_back_with_the_change_it_records(buyer):
    count = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(actor=None, action="buyer.checked", obj=buyer)
        raise RuntimeError("the change failed")
    assert AuditEvent.objects.count() == count


def test_seeding_records_every_change(demo_data):
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "buyer.created",
        "buyer.locality_changed",
        "policy.created",
        "user.created",
        "supplier.registered",
        "supplier.status_changed",
    } <= actions
