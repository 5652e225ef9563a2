"""A new password, however it is set (the portal's own page, an emailed reset
link, Django admin), is audited, tells its owner, and deletes any
authenticator still being set up, whose secret whoever had the old password
may have seen."""

from __future__ import annotations

import pytest
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
