"""A new password, however it is set (the portal's own page, an emailed reset
link, Django admin), is audited, tells its owner, and deletes any
authenticator still being set up, whose secret whoever had the old password
may have seen."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import two_factor
from portal.identity import password_reset_tokens
from portal.models import AuditEvent, Channel, Notification
from tests.two_factor_helpers import PASSWORD

pytestmark = pytest.mark.usefixtures("in_process_tasks")

NEW_PASSWORD = "a long fresh passphrase 42"


def start_set_up(person) -> Client:
    """Someone with ``person``'s password opens the authenticator set-up."""
    session = Client()
    session.post(reverse("login"), {"username": person.email, "password": PASSWORD})
    assert session.get(reverse("two_factor_setup")).status_code == 200
    return session


def pending(person) -> int:
    return TOTPDevice.objects.filter(user=person, confirmed=False).count()


def told(person) -> list[Notification]:
    return list(
        Notification.objects.filter(
            recipient=person, event="security.password_changed", channel=Channel.EMAIL
        )
    )


def test_changing_ones_password_deletes_set_ups_started_with_the_old_one(client, officer):
    # A set-up left over (begun before an administrator reset the officer's app, say).
    TOTPDevice.objects.create(user=officer, name="Authenticator app", confirmed=False)
    confirmed = two_factor.authenticator(officer)
    client.force_login(officer)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert pending(officer) == 0
    assert two_factor.authenticator(officer) == confirmed  # the owner's own app stays
    event = AuditEvent.objects.get(action="user.password_changed")
    assert event.actor == officer and event.object_id == str(officer.pk)
    assert event.context == {"pending_authenticators_deleted": 1}
    assert len(told(officer)) == 1


def test_a_password_reset_deletes_set_ups_started_with_the_old_password(client, other_officer):
    start_set_up(other_officer)
    start_set_up(other_officer)
    assert pending(other_officer) == 2
    other_officer.refresh_from_db()  # signed in since: the link is made as of now
    uid = urlsafe_base64_encode(force_bytes(other_officer.pk))
    token = password_reset_tokens.make_token(other_officer)

    form = client.get(reverse("password_reset_confirm", args=[uid, token]))["Location"]
    response = client.post(form, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert pending(other_officer) == 0
    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.actor == other_officer
    assert event.context == {"pending_authenticators_deleted": 2}
    assert len(told(other_officer)) == 1


# --- In Django admin ---------------------------------------------------------------------


def leftover_set_up(person) -> TOTPDevice:
    """An authenticator set-up never finished (begun before an app was reset, say)."""
    return TOTPDevice.objects.create(user=person, name="Authenticator app", confirmed=False)


def test_an_administrator_setting_someones_password_is_audited_and_the_person_told(
    client, admin_user, officer, django_capture_on_commit_callbacks
):
    leftover_set_up(officer)
    client.force_login(admin_user)
    url = reverse("admin:auth_user_password_change", args=[officer.pk])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
        )
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password(NEW_PASSWORD)

    event = AuditEvent.objects.get(action="user.password_changed")
    assert event.actor == admin_user
    assert (event.object_type, event.object_id) == ("portal.user", str(officer.pk))
    assert event.context == {"via": "admin", "pending_authenticators_deleted": 1}
    assert pending(officer) == 0
    assert two_factor.authenticator(officer) is not None  # their own app stays
    (notice,) = told(officer)
    assert notice.context["by_administrator"] is True
    (email,) = [m for m in mail.outbox if m.to == [officer.email]]
    assert email.subject == "Your Local Tenders password was changed"
    assert "An administrator changed the password for" in email.body
    assert not told(admin_user)


def test_an_administrator_switching_off_someones_password_is_audited_too(
    client, admin_user, local_supplier_user
):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[local_supplier_user.pk]),
        {"usable_password": "false", "unset-password": "1"},
    )
    assert response.status_code == 302
    local_supplier_user.refresh_from_db()
    assert not local_supplier_user.has_usable_password()
    event = AuditEvent.objects.get(action="user.password_changed")
    assert event.actor == admin_user and event.object_id == str(local_supplier_user.pk)
    assert event.context == {"via": "admin", "password_usable": False}
    assert len(told(local_supplier_user)) == 1


def test_an_administrator_changing_their_own_password_in_admin_is_audited(client, admin_user):
    leftover_set_up(admin_user)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:password_change_done")
    event = AuditEvent.objects.get(action="user.password_changed")
    assert event.actor == admin_user and event.object_id == str(admin_user.pk)
    assert event.context == {"via": "admin", "pending_authenticators_deleted": 1}
    assert pending(admin_user) == 0
    (notice,) = told(admin_user)
    assert notice.context["by_administrator"] is False
    assert client.get(reverse("admin:index")).status_code == 200  # still signed in


def test_a_refused_password_change_in_admin_records_nothing(client, admin_user, officer):
    leftover_set_up(officer)
    client.force_login(admin_user)
    url = reverse("admin:auth_user_password_change", args=[officer.pk])
    assert client.post(url, {"password1": "short", "password2": "other"}).status_code == 200
    assert (
        client.post(reverse("admin:password_change"), {"old_password": "wrong"}).status_code == 200
    )
    assert not AuditEvent.objects.filter(action="user.password_changed").exists()
    assert pending(officer) == 1 and not told(officer) and not told(admin_user)
