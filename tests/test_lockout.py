"""Repeated failed sign-ins lock out one email address from one IP address for
15 minutes (django-axes), on a GOV.UK page that says when to try again."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from tests.two_factor_helpers import PASSWORD, code_for

VERIFY = reverse("two_factor_verify")
ELSEWHERE = {"REMOTE_ADDR": "192.0.2.77"}  # another device (a documentation address)


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def password_step(client, email, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def fail(client, email, times, **extra):
    return [password_step(client, email, "wrong password", **extra) for _ in range(times)]


def try_again_at(page: str) -> str:
    return page.split('id="try-again">', 1)[1].split("</p>", 1)[0]


def test_five_wrong_passwords_lock_the_account_out_with_a_govuk_page(client, officer, clock):
    clock.move_to(datetime.datetime(2026, 7, 6, 9, 40, tzinfo=datetime.UTC))  # 10:40 BST
    responses = fail(client, officer.email, 5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    page = responses[-1].content.decode()
    assert "You cannot sign in at the moment" in page
    assert "govuk-header" in page  # the portal's page, not a bare error
    assert try_again_at(page) == "You can try again at 10:55."

    # The right password is refused too while the lock lasts, and the time stays.
    clock.shift(datetime.timedelta(minutes=5))
    response = password_step(client, officer.email)
    assert response.status_code == 429
    assert try_again_at(response.content.decode()) == "You can try again at 10:55."
    assert client.get(reverse("home")).status_code == 302  # not signed in

    failed = AuditEvent.objects.filter(action="user.sign_in_failed").order_by("id")
    assert failed.count() == 6
    assert failed.last().context == {
        "email": officer.email,
        "ip": "127.0.0.1",
        "refused": "locked out",
    }
    locked = AuditEvent.objects.get(action="user.locked_out")
    assert locked.object_id == str(officer.pk)
    assert locked.context == {"email": officer.email, "ip": "127.0.0.1", "failures": 5}


def test_a_lock_that_ends_tomorrow_says_so(client, officer, clock):
    clock.move_to(datetime.datetime(2026, 12, 31, 23, 50, tzinfo=datetime.UTC))
    page = fail(client, officer.email, 5)[-1].content.decode()
    assert try_again_at(page) == "You can try again at 00:05 on 1 January 2027."


def test_the_lock_ends_after_fifteen_minutes(client, local_supplier_user, clock):
    fail(client, local_supplier_user.email, 5)
    clock.shift(datetime.timedelta(minutes=14, seconds=59))
    assert password_step(client, local_supplier_user.email).status_code == 429
    clock.shift(datetime.timedelta(seconds=2))
    response = password_step(client, local_supplier_user.email)
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_the_lock_is_for_one_address_from_one_ip_address(client, officer, auditor, clock):
    fail(client, officer.email.upper(), 3)  # email addresses are matched without case
    fail(client, officer.email, 2)
    assert password_step(client, officer.email).status_code == 429
    # Someone else at the same address, and the same person elsewhere, may sign in.
    assert password_step(client, auditor.email)["Location"] == VERIFY
    client.post(reverse("logout"))
    assert password_step(client, officer.email, **ELSEWHERE)["Location"] == VERIFY


def test_wrong_two_factor_codes_count_and_sign_the_session_out(client, officer, clock):
    assert password_step(client, officer.email)["Location"] == VERIFY
    wrong = f"{(int(code_for(officer)) + 1) % 1_000_000:06d}"
    for n in range(4):
        response = client.post(VERIFY, {"code": wrong})
        assert response.status_code == 200
        assert "The code is not correct" in response.content.decode()
        clock.shift(datetime.timedelta(seconds=2**n))  # django-otp's growing wait
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 429
    assert "You cannot sign in at the moment" in response.content.decode()
    assert client.get(VERIFY)["Location"].startswith(reverse("login"))  # signed out
    assert password_step(client, officer.email).status_code == 429

    assert AuditEvent.objects.filter(action="user.two_factor_failed", actor=officer).count() == 5
    assert AuditEvent.objects.get(action="user.locked_out").context["failures"] == 5


def test_a_correct_password_alone_does_not_clear_the_count_for_staff(client, officer, clock):
    fail(client, officer.email, 4)
    assert password_step(client, officer.email)["Location"] == VERIFY
    wrong = f"{(int(code_for(officer)) + 1) % 1_000_000:06d}"
    assert client.post(VERIFY, {"code": wrong}).status_code == 429


def test_a_completed_sign_in_clears_the_count(client, officer, local_supplier_user, clock):
    fail(client, officer.email, 4)
    password_step(client, officer.email)
    assert client.post(VERIFY, {"code": code_for(officer)})["Location"] == reverse("home")
    client.post(reverse("logout"))
    assert [r.status_code for r in fail(client, officer.email, 4)] == [200] * 4

    fail(client, local_supplier_user.email, 4)
    assert password_step(client, local_supplier_user.email)["Location"] == reverse("home")
    client.post(reverse("logout"))
    assert [r.status_code for r in fail(client, local_supplier_user.email, 4)] == [200] * 4


def test_the_admin_home_lists_wrong_codes_and_lockouts(client, officer, admin_user, clock):
    fail(client, officer.email, 5)
    client.force_login(admin_user)
    page = client.get(reverse("home")).content.decode()
    assert page.count("Wrong email address or password") == 5
    assert "Locked out for a while" in page
