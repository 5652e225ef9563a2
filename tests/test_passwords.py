"""A new password, however it is set (the portal's own page, an emailed reset
link, Django admin), is audited, tells its owner, and deletes any
authenticator still being set up, whose secret whoever had the old password
may have seen."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import two_factor
from portal.identity import password_reset_tokens
from portal.models import AuditEvent, Channel, Notification, User
from portal.services import RESET_ADDRESS_LIMIT, RESET_WINDOW
from tests.conftest import make_people
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


# --- Asking for a reset link --------------------------------------------------------------


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    """Ask for a reset link for ``email`` (from ``address``); the outbox delivers it."""

    def ask(email, address="203.0.113.7"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)

    return ask


def links_to(person) -> list:
    return [m for m in mail.outbox if m.to == [person.email]]


def test_one_reset_email_an_account_in_15_minutes_however_often_it_is_asked_for(
    client, ask, local_supplier_user
):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(40):
            response = ask(local_supplier_user.email)
            assert response.status_code == 302
            assert response["Location"] == reverse("password_reset_done")
        assert len(links_to(local_supplier_user)) == 1
        (sent,) = AuditEvent.objects.filter(action="user.password_reset_requested")
        assert sent.actor is None and sent.object_id == str(local_supplier_user.pk)
        assert sent.context == {"ip": "203.0.113.7"}

        clock.move_to(start + timedelta(minutes=14, seconds=59))
        ask(local_supplier_user.email, address="198.51.100.1")  # from elsewhere too
        assert len(links_to(local_supplier_user)) == 1

        clock.move_to(start + timedelta(minutes=15, seconds=1))
        ask(local_supplier_user.email)
        assert len(links_to(local_supplier_user)) == 2
        assert AuditEvent.objects.filter(action="user.password_reset_requested").count() == 2
    first, second = links_to(local_supplier_user)
    assert "/password-reset/" in second.body and second.body != first.body  # a new link
    assert first.subject == "Reset your Local Tenders password"


def test_an_unknown_address_gets_the_same_page_and_nothing_is_sent(client, ask, officer):
    known = ask(officer.email)
    again = ask(officer.email)  # within 15 minutes: nothing sent
    unknown = ask("nobody@demo-council.example")
    for response in (known, again, unknown):
        assert response.status_code == 302
        assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="user.password_reset_requested").count() == 1
    page = client.get(reverse("password_reset_done")).content.decode()
    assert "If an account uses that address" in page and "every 15 minutes" in page


def test_one_client_address_asks_for_at_most_ten_links_in_15_minutes(client, ask, db):
    people = make_people(RESET_ADDRESS_LIMIT + 1, prefix="reset")
    User.objects.filter(pk__in=[p.pk for p in people]).update(password=make_password(PASSWORD))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for person in people:
            ask(person.email)
        assert len(mail.outbox) == RESET_ADDRESS_LIMIT
        assert not links_to(people[-1])
        ask(people[-1].email, address="198.51.100.1")  # another address may
        assert len(links_to(people[-1])) == 1
        clock.shift(RESET_WINDOW + timedelta(seconds=1))
        ask(people[0].email)
        assert len(links_to(people[0])) == 2


def test_no_reset_link_for_an_account_switched_off_or_without_a_password(
    client, ask, local_supplier_user, officer
):
    local_supplier_user.is_active = False
    local_supplier_user.save(update_fields=["is_active"])
    officer.set_unusable_password()
    officer.save(update_fields=["password"])
    for person in (local_supplier_user, officer):
        assert ask(person.email)["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action="user.password_reset_requested").exists()


def test_no_one_use_link_is_shown_in_django_admin(client, ask, local_supplier_user, admin_user):
    """A reset link waits in the outbox's context until it is sent: Django
    admin never shows a message's context, to a superuser either, or the
    superuser could reset the person's password as them."""
    from portal.models import Notification
    from portal.row_keys import key_for

    ask(local_supplier_user.email)
    (message,) = links_to(local_supplier_user)
    link = next(word for word in message.body.split() if "/password-reset/" in word)
    notification = Notification.objects.get(event="security.password_reset")
    client.force_login(admin_user)
    page = client.get(
        reverse("admin:portal_notification_change", args=[key_for(Notification, notification.pk)])
    ).content.decode()
    assert notification.event in page
    assert link.rsplit("/", 2)[-2] not in page
