"""Links in emails die with their purpose: an invitation withdrawn, sent
again or used, a person removed, an account switched off. Each refusal says
what to do next. Every link is on SITE_URL, whatever Host a request claims."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, User

pytestmark = pytest.mark.usefixtures("in_process_tasks")

NEW_PASSWORD = "a brand new passphrase 9"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def link_in(message, settings) -> str:
    return re.search(re.escape(settings.SITE_URL) + r"(/\S+/)", message.body).group(1)


def row_of(email: str) -> dict:
    return User.objects.filter(email=email).values().get()


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def invite(client, local_supplier_user, django_capture_on_commit_callbacks, settings):
    """The organisation's administrator invites Sam; returns the link emailed."""

    def invite(email="sam@aire-valley.example", role="admin"):
        client.force_login(local_supplier_user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("person_invite"),
                {"full_name": "Sam Lee", "email": email, "supplier_role": role},
            )
        assert response.status_code == 302, response.content.decode()[:2000]
        client.post(reverse("logout"))
        return link_in(mail.outbox[-1], settings)

    return invite


@pytest.fixture
def ask_reset(client, django_capture_on_commit_callbacks):
    """Ask for a password reset link for ``email``; the outbox delivers it."""

    def ask_reset(email, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("password_reset"), {"email": email}, **extra)

    return ask_reset


def join(client, link):
    return client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})


def test_a_withdrawn_invitation_signs_nobody_in(client, local_supplier_user, invite):
    link = invite()
    sam = User.objects.get(email="sam@aire-valley.example")
    client.force_login(local_supplier_user)
    client.post(reverse("person_remove", args=[sam.pk]))
    client.post(reverse("logout"))
    before = row_of(sam.email)

    for response in (client.get(link), join(client, link)):
        page = response.content.decode()
        assert response.status_code == 410
        assert "This invitation has been withdrawn." in page
        assert "ask your organisation's administrator to invite you again" in page
    assert not signed_in(client)
    assert row_of(sam.email) == before
    assert not AuditEvent.objects.filter(action="user.joined").exists()


def test_inviting_again_sends_a_new_link_and_the_first_one_dies(
    client, local_supplier_user, invite
):
    first = invite()
    sam = User.objects.get(email="sam@aire-valley.example")
    client.force_login(local_supplier_user)
    client.post(reverse("person_remove", args=[sam.pk]))
    second = invite(email="SAM@aire-valley.example", role="member")
    assert second != first
    assert join(client, first).status_code == 410

    response = join(client, second)
    assert response["Location"] == reverse("home")
    sam.refresh_from_db()
    assert sam.is_active and sam.supplier_role == "member"
    assert AuditEvent.objects.filter(action="user.invited_again", object_id=str(sam.pk)).exists()


def test_an_invitation_sent_again_before_it_was_used_replaces_the_first(client, invite):
    first = invite()
    second = invite()
    before = row_of("sam@aire-valley.example")
    response = join(client, first)
    assert response.status_code == 410
    assert "Use the link in the newest invitation email" in response.content.decode()
    assert row_of("sam@aire-valley.example") == before
    assert join(client, second)["Location"] == reverse("home")


def test_a_used_invitation_says_sign_in_or_reset(client, invite):
    link = invite()
    assert join(client, link)["Location"] == reverse("home")
    client.post(reverse("logout"))
    before = row_of("sam@aire-valley.example")

    response = join(client, link)
    page = response.content.decode()
    assert response.status_code == 410
    assert "This link has already been used." in page
    assert reverse("login") in page and reverse("password_reset") in page
    assert row_of("sam@aire-valley.example") == before


def test_an_expired_invitation_says_ask_for_a_new_one(client, invite):
    link = invite()
    before = row_of("sam@aire-valley.example")
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = join(client, link)
    page = response.content.decode()
    assert response.status_code == 410
    assert "This invitation has expired." in page
    assert "Ask your organisation's administrator to send you a new one." in page
    assert "Send a new link" not in page  # that is for confirming an address
    assert row_of("sam@aire-valley.example") == before


def test_removing_a_colleague_ends_their_sessions_and_their_password_reset_link(
    client, local_supplier_user, invite, settings, ask_reset
):
    assert join(client, invite())["Location"] == reverse("home")
    sam = User.objects.get(email="sam@aire-valley.example")
    other = Client()  # Sam, signed in on another device
    other.force_login(sam)
    client.post(reverse("logout"))
    ask_reset(sam.email)
    reset = link_in(mail.outbox[-1], settings)
    client.force_login(local_supplier_user)
    client.post(reverse("person_remove", args=[sam.pk]))
    client.post(reverse("logout"))
    before = row_of(sam.email)

    page = client.get(reset, follow=True).content.decode()
    assert "This link has expired or has already been used" in page
    assert other.get(reverse("home")).status_code == 302  # signed out
    assert row_of(sam.email) == before


def test_a_password_reset_link_dies_when_the_account_is_switched_off(
    client, local_supplier_user, settings, ask_reset
):
    ask_reset(local_supplier_user.email)
    link = link_in(mail.outbox[-1], settings)
    local_supplier_user.is_active = False
    local_supplier_user.save(update_fields=["is_active"])
    before = row_of(local_supplier_user.email)

    page = client.get(link, follow=True)
    assert "This link has expired or has already been used" in page.content.decode()
    set_password = link.replace(link.rstrip("/").rsplit("/", 1)[1], "set-password")
    client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert row_of(local_supplier_user.email) == before


def test_a_verification_link_dies_when_the_address_changes(
    client, demo_data, django_capture_on_commit_callbacks, settings
):
    from tests.test_supplier_registration import VALID

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("register"), VALID)
    link = link_in(mail.outbox[-1], settings)
    person = User.objects.get(email="farah@manningham-mech.example")
    person.email = "farah@elsewhere.example"
    person.save(update_fields=["email"])
    before = row_of(person.email)

    response = client.post(link)
    assert response.status_code == 410
    assert "This link does not work any more." in response.content.decode()
    assert row_of(person.email) == before
    # A new one can be sent, to the address the account has now.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link.rstrip("/") + "/resend/")
    assert mail.outbox[-1].to == ["farah@elsewhere.example"]
    assert client.post(link_in(mail.outbox[-1], settings)).status_code == 302


# --- Links are on SITE_URL ----------------------------------------------------------------


def test_the_password_reset_link_is_on_site_url_whatever_host_the_request_claims(
    client, officer, settings, ask_reset
):
    settings.ALLOWED_HOSTS = ["*"]  # as a careless proxy set-up would pass any Host
    response = ask_reset(officer.email, HTTP_HOST="attacker.example")
    assert response.status_code == 302
    (message,) = mail.outbox
    assert "attacker.example" not in message.body
    assert f"{settings.SITE_URL}/password-reset/" in message.body


def test_every_link_in_a_notification_email_starts_with_site_url():
    for template in sorted(p for p in (TEMPLATES / "notifications").rglob("*") if p.is_file()):
        text = template.read_text()
        for href in re.findall(r'href="([^"]*)"', text):
            assert href.startswith("{{ site_url }}"), f"{template}: {href}"
        for url in re.findall(r"\S*://\S*|\S*{% url[^%]*%}", text):
            assert url.startswith(("{{ site_url }}", 'href="{{ site_url }}')), f"{template}: {url}"
    # The reset link is one of them (security.password_reset), made by reverse().
    assert not (TEMPLATES / "registration" / "password_reset_email.txt").exists()


def test_a_password_reset_for_a_look_alike_address_goes_to_the_accounts_own_address(
    client, officer, auditor, ask_reset
):
    ask_reset("OFFICER@ｄｅｍｏ-council.example")
    (message,) = mail.outbox
    assert message.to == [officer.email]
    ask_reset("audıtor@demo-council.example")  # an account with no link sent yet
    assert len(mail.outbox) == 1  # the dotless ı names nobody
