"""Django admin is for administrators only, and keeps the audit trail read-only."""

import pytest
from django.contrib import admin
from django.urls import reverse

from portal import row_keys
from portal.models import AuditEvent, Notification
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.selectors import status_of


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
    key = admin.site._registry[AuditEvent].row_key(event)  # not its id (UncountedAdmin)
    change_url = reverse("admin:portal_auditevent_change", args=[key])
    page = client.get(change_url).content.decode()
    assert event.action in page and 'name="_save"' not in page
    delete = client.post(reverse("admin:portal_auditevent_delete", args=[key]), {"post": "yes"})
    assert delete.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_approving_in_admin_goes_through_the_service_and_is_audited(client, admin_user):
    client.force_login(admin_user)
    pending = SupplierOrganisation.objects.exclude(approvals__buyer=admin_user.buyer).first()
    client.post(
        reverse("admin:suppliers_supplierorganisation_changelist"),
        {"action": "approve", "_selected_action": [pending.pk]},
    )
    # Approved for the administrator's own council (each council decides for itself).
    assert status_of(pending, admin_user.buyer) == SupplierStatus.APPROVED
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


def test_row_keys_name_each_row_once_in_no_order_and_turn_back_into_its_id():
    """Django admin names audit events and notifications by row key (some rows
    are hidden, and ids beside them would show the gaps): one key per id, for
    one model, read back only with the secret."""
    ids = [*range(1, 2001), 2**31, 2**63 - 1]
    keys = [row_keys.key_for(AuditEvent, pk) for pk in ids]
    assert len(set(keys)) == len(ids)
    assert [row_keys.pk_for(AuditEvent, key) for key in keys] == ids
    assert sorted(keys[:2000]) != keys[:2000]  # no order to read
    assert row_keys.key_for(Notification, 1) != row_keys.key_for(AuditEvent, 1)
    for junk in ["1", "", "0x10", "G" * 16, keys[0].upper(), keys[0] + "0", None]:
        assert row_keys.pk_for(AuditEvent, junk) is None, junk


def test_admin_names_the_stored_route_as_the_one_last_recorded(client, admin_user, officer):
    """Django admin shows the route and band stored with an opportunity, which
    today's facts may have changed since; it says so rather than calling them
    the route (the portal's pages decide a live one on today's facts)."""
    from tests.tenders_helpers import make_opportunity

    make_opportunity(officer, "4000.00")
    client.force_login(admin_user)
    page = client.get(reverse("admin:tenders_opportunity_changelist")).content.decode()
    assert "Route last recorded" in page and "Band last recorded" in page
    assert "By route last recorded" in page


def test_a_statutory_figure_in_exponent_notation_is_refused(client, admin_user):
    from tenders.models import StatutoryFigure

    client.force_login(admin_user)
    before = StatutoryFigure.objects.count()
    data = {"name": "threshold.goods", "effective_from": "2030-01-01", "source": "Test"}
    response = client.post(reverse("admin:tenders_statutoryfigure_add"), data | {"amount": "2e5"})
    assert response.status_code == 200
    assert "Enter a number." in response.content.decode()
    assert StatutoryFigure.objects.count() == before
    response = client.post(
        reverse("admin:tenders_statutoryfigure_add"), data | {"amount": "200000"}
    )
    assert response.status_code == 302
    assert StatutoryFigure.objects.count() == before + 1
