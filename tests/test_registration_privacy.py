"""Registering never tells whether an address has an account: the answer is
the same as for a new address, nothing is made, and the address's owner is
emailed that someone tried."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent, Notification, User
from suppliers.models import SupplierOrganisation, SupplierSite
from tests.test_supplier_registration import VALID

pytestmark = pytest.mark.usefixtures("in_process_tasks")


def register(client, capture, email):
    with capture(execute=True):
        response = client.post(reverse("register"), {**VALID, "email": email})
    return response, client.get(response["Location"]) if response.status_code == 302 else None


def masked(html: str) -> str:
    """The page without its CSRF token (new for every session)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)


def what_exists() -> dict:
    return {
        "users": list(User.objects.order_by("pk").values()),
        "suppliers": SupplierOrganisation.objects.count(),
        "sites": SupplierSite.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


TAKEN = {
    "an officer's address": ("officer@demo-council.example", "officer@demo-council.example"),
    "a supplier's address": ("supplier@aire-valley.example", "supplier@aire-valley.example"),
    "a supplier's, in capitals": (
        "SUPPLIER@AIRE-VALLEY.EXAMPLE",
        "supplier@aire-valley.example",
    ),
    "a supplier's, in fullwidth letters": (
        "supplier@ａｉｒｅ-valley.example",
        "supplier@aire-valley.example",
    ),
}


@pytest.mark.parametrize(("typed", "owner"), TAKEN.values(), ids=TAKEN.keys())
def test_registering_with_a_taken_address_looks_like_a_new_registration(
    client, demo_data, django_capture_on_commit_callbacks, typed, owner
):
    before = what_exists()
    taken, taken_page = register(client, django_capture_on_commit_callbacks, typed)
    assert what_exists() == before  # nothing made, nothing changed
    (told,) = mail.outbox
    assert told.to == [owner]
    assert "Someone tried to register" in told.subject
    assert "/sign-in/" in told.body and "/password-reset/" in told.body
    assert Notification.objects.get(
        event="account.registration_attempted", channel="email"
    ).recipient == User.objects.get(email=owner)

    mail.outbox.clear()
    client.cookies.clear()
    fresh, fresh_page = register(client, django_capture_on_commit_callbacks, "new@person.example")
    assert (taken.status_code, taken["Location"]) == (fresh.status_code, fresh["Location"])
    assert taken_page.status_code == fresh_page.status_code == 200
    shown = masked(taken_page.content.decode()).replace(typed.lower(), "ADDRESS")
    assert shown == masked(fresh_page.content.decode()).replace("new@person.example", "ADDRESS")
    (confirm,) = mail.outbox
    assert confirm.to == ["new@person.example"] and "Confirm your email" in confirm.subject


def test_the_owner_is_told_at_most_once_an_hour(
    client, local_supplier_user, django_capture_on_commit_callbacks
):
    for _ in range(3):
        register(client, django_capture_on_commit_callbacks, local_supplier_user.email)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "taken",
    ["officer@demo-council.example", "sales@leeds-office.example", "SALES@LEEDS-OFFICE.EXAMPLE"],
)
def test_inviting_an_address_with_an_account_elsewhere_looks_like_any_invitation(
    client, local_supplier_user, django_capture_on_commit_callbacks, taken
):
    """An organisation's administrator cannot learn whether an address has an
    account (a council's, another supplier's): the same answer as for a new
    colleague, nothing made, and the address's owner is told instead."""

    def invite(email):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("person_invite"),
                {"full_name": "New Person", "email": email, "supplier_role": "member"},
                follow=True,
            )

    client.force_login(local_supplier_user)
    before = what_exists()
    response = invite(taken)
    assert f"We have emailed an invitation to {taken.lower()}." in response.content.decode()
    assert what_exists() == before
    (told,) = mail.outbox
    assert told.to == [User.objects.with_email(taken).get().email]
    assert "Someone tried to invite you" in told.subject and "Aire Valley" in told.body
    mail.outbox.clear()
    fresh = invite("brand.new@aire-valley.example")
    assert "We have emailed an invitation to brand.new@aire-valley.example." in (
        fresh.content.decode()
    )
    assert User.objects.filter(email="brand.new@aire-valley.example").exists()


# --- "Send the link again" on the check-your-email page -------------------------------


def send_again(client, capture):
    with capture(execute=True):
        response = client.post(reverse("register_resend"))
    assert response.status_code == 302 and response["Location"] == reverse("register_check_email")
    return client.get(response["Location"]).content.decode()


SENT_AGAIN = "If your email address is waiting to be confirmed, we have sent the link again."


def test_the_link_is_sent_again_at_most_once_a_minute_and_five_times_a_day(
    client, demo_data, django_capture_on_commit_callbacks
):
    import datetime

    import time_machine
    from django.utils import timezone

    from suppliers.services import verification_resend
    from tests.test_supplier_registration import link_in

    with time_machine.travel(timezone.now(), tick=False) as clock:
        register(client, django_capture_on_commit_callbacks, "new@person.example")
        page = client.get(reverse("register_check_email")).content.decode()
        assert "Send the link again" in page and SENT_AGAIN not in page
        assert len(mail.outbox) == 1
        # Within the minute: the same answer, nothing sent.
        assert SENT_AGAIN in send_again(client, django_capture_on_commit_callbacks)
        assert len(mail.outbox) == 1
        for sent in range(2, 6):
            clock.shift(datetime.timedelta(minutes=2))
            assert SENT_AGAIN in send_again(client, django_capture_on_commit_callbacks)
            assert len(mail.outbox) == sent
        assert mail.outbox[-1].to == ["new@person.example"]
        # Five links in a day: no more, whatever is asked.
        clock.shift(datetime.timedelta(minutes=2))
        assert SENT_AGAIN in send_again(client, django_capture_on_commit_callbacks)
        assert len(mail.outbox) == 5
        # The link sent again works.
        assert client.get(link_in(mail.outbox[-1])).status_code == 200
        # The next day (the session is over by then), one more may be sent.
        clock.shift(datetime.timedelta(hours=24))
        assert verification_resend(user_id=User.objects.with_email("New@Person.example").get().pk)


def test_sending_again_for_a_taken_address_sends_nothing_and_looks_the_same(
    client, demo_data, django_capture_on_commit_callbacks, local_supplier_user
):
    register(client, django_capture_on_commit_callbacks, local_supplier_user.email)
    assert len(mail.outbox) == 1  # its owner is told someone tried, once
    taken = send_again(client, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    client.cookies.clear()
    register(client, django_capture_on_commit_callbacks, "new@person.example")
    fresh = send_again(client, django_capture_on_commit_callbacks)
    assert masked(taken).replace(local_supplier_user.email, "ADDRESS") == masked(fresh).replace(
        "new@person.example", "ADDRESS"
    )


def test_sending_again_without_registering_in_this_browser_goes_back_to_registering(
    client, demo_data
):
    response = client.post(reverse("register_resend"))
    assert response.status_code == 302 and response["Location"] == reverse("register")
    assert "Send the link again" not in client.get(reverse("register_check_email")).content.decode()
    assert client.get(reverse("register_resend")).status_code == 405


def test_sending_again_never_confirms_an_account_someone_else_registered_first(
    client, demo_data, django_capture_on_commit_callbacks
):
    """An attacker registers the victim's address first (unconfirmed, their own
    password). When the victim registers and asks for the link again, the
    attacker's account must not be the one confirmed."""
    attacker = Client()
    with django_capture_on_commit_callbacks(execute=True):
        attacker.post(
            reverse("register"),
            {
                **VALID,
                "legal_name": "Attacker Ltd",
                "companies_house_number": "7654321",
                "email": "victim@person.example",
            },
        )
    assert User.objects.with_email("victim@person.example").exists()
    mail.outbox.clear()
    response, _ = register(client, django_capture_on_commit_callbacks, "victim@person.example")
    assert response["Location"] == reverse("register_check_email")
    assert not any(m.subject.startswith("Confirm your") for m in mail.outbox)
    mail.outbox.clear()
    import datetime

    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        page = send_again(client, django_capture_on_commit_callbacks)
    assert SENT_AGAIN in page  # the same answer as ever
    assert mail.outbox == []  # but no confirmation link for the attacker's account
    assert User.objects.with_email("victim@person.example").get().email_verified_at is None
