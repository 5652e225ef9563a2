"""Django admin is for administrators only, and keeps the audit trail read-only."""

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from suppliers.models import SupplierOrganisation, SupplierStatus


def test_an_administrator_can_use_django_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:portal_user_changelist")).status_code == 200


@pytest.mark.parametrize("persona", ["officer", "auditor", "local_supplier_user"])
def test_other_roles_are_kept_out_of_django_admin(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_audit_events_cannot_be_edited_or_deleted_in_admin(client, admin_user):
    assert admin_user.is_superuser
    client.force_login(admin_user)
    event = AuditEvent.objects.first()
    change_url = reverse("admin:portal_auditevent_change", args=[event.pk])
    page = client.get(change_url).content.decode()
    assert 'name="_save"' not in page
    delete = client.post(
        reverse("admin:portal_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_approving_in_admin_goes_through_the_service_and_is_audited(client, admin_user):
    client.force_login(admin_user)
    pending = SupplierOrganisation.objects.filter(status=SupplierStatus.PENDING).first()
    client.post(
        reverse("admin:suppliers_supplierorganisation_changelist"),
        {"action": "approve", "_selected_action": [pending.pk]},
    )
    pending.refresh_from_db()
    assert pending.status == SupplierStatus.APPROVED
    event = AuditEvent.objects.filter(action="supplier.status_changed", object_id=str(pending.pk))
    assert event.get().actor == admin_user


def test_admin_cannot_change_an_opportunity_around_the_rule(client, admin_user, officer):
    from tests.tenders_helpers import make_opportunity

    opportunity = make_opportunity(officer, "180000.00")
    client.force_login(admin_user)
    page = client.get(reverse("admin:tenders_opportunity_change", args=[opportunity.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    response = client.post(
        reverse("admin:tenders_opportunity_change", args=[opportunity.pk]),
        {"status": "open", "route": "invitation"},
    )
    assert response.status_code == 403
    opportunity.refresh_from_db()
    assert (opportunity.status, opportunity.route) == ("draft", "full_tender")
