"""Repeated failed sign-ins lock the account out, from every address, for 15
minutes (django-axes), on a GOV.UK page that says when to try again; one
client address trying many accounts is locked out of all of them. The owner
is told, and can be let back in."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal import lockout
from portal.models import AuditEvent, InboxMessage, Role, User
from portal.services import user_create
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


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def failures_of(user: User) -> list[tuple]:
    """The account's failure records, as they stand."""
    return list(
        AccessAttempt.objects.filter(username=lockout.account_key(user))
        .order_by("pk")
        .values_list("pk", "ip_address", "failures_since_start", "attempt_time")
    )


def row_of(user: User) -> dict:
    return User.objects.filter(pk=user.pk).values().get()


def test_five_wrong_passwords_lock_the_account_out_with_a_govuk_page(client, officer, clock):
    clock.move_to(datetime.datetime(2026, 7, 6, 9, 40, tzinfo=datetime.UTC))  # 10:40 BST
    responses = fail(client, officer.email, 5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    page = responses[-1].content.decode()
    assert "You cannot sign in at the moment" in page
    assert "for this account, so we have stopped anyone signing in to it, from anywhere" in page
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
    assert locked.context == {
        "email": officer.email,
        "ip": "127.0.0.1",
        "failures": 5,
        "until": "2026-07-06T09:55:00+00:00",
    }


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


# --- The lock is on the account, whatever is typed and wherever from -------------------


def test_failures_from_five_addresses_lock_the_account_everywhere(
    client, local_supplier_user, clock
):
    for ip in ("192.0.2.1", "192.0.2.2", "198.51.100.3", "198.51.100.4", "203.0.113.5"):
        fail(client, local_supplier_user.email, 1, REMOTE_ADDR=ip)
    before = failures_of(local_supplier_user)

    response = password_step(client, local_supplier_user.email, REMOTE_ADDR="203.0.113.200")
    assert response.status_code == 429
    assert not signed_in(client)
    assert failures_of(local_supplier_user) == before


def test_a_correct_sign_in_from_another_address_is_refused_while_locked(
    client, officer, auditor, clock
):
    fail(client, officer.email, 5)
    before, person = failures_of(officer), row_of(officer)

    response = password_step(client, officer.email, **ELSEWHERE)
    assert response.status_code == 429
    assert not signed_in(client)
    assert failures_of(officer) == before and row_of(officer) == person
    # Someone else at the locked account's address still signs in.
    assert password_step(client, auditor.email)["Location"] == VERIFY


SPELLINGS = {
    "upper case": "ADMIN@DEMO-COUNCIL.EXAMPLE",
    "fullwidth letters": "ａｄｍｉｎ@demo-council.example",
    "fullwidth and upper case": "ＡＤＭＩＮ@ＤＥＭＯ-council.example",
}


@pytest.mark.parametrize("typed", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_spellings_of_one_address_count_against_one_account(client, admin_user, typed, clock):
    fail(client, typed, 3)
    fail(client, admin_user.email, 1)
    assert fail(client, typed, 1)[0].status_code == 429
    assert password_step(client, admin_user.email).status_code == 429
    assert not signed_in(client)
    assert AuditEvent.objects.get(action="user.locked_out").object_id == str(admin_user.pk)


LOOK_ALIKES = [
    ("admin_user", "admın@demo-council.example"),  # dotless ı: PostgreSQL's UPPER gives I
    ("admin_user", "ａｄｍｉｎ@demo-council.example"),
    ("admin_user", "ADMIN@DEMO-COUNCIL.EXAMPLE"),
    ("local_supplier_user", "supplıer@aire-valley.example"),
    ("local_supplier_user", "ｓｕｐｐｌｉｅｒ@aire-valley.example"),
]


@pytest.mark.parametrize(("persona", "typed"), LOOK_ALIKES)
def test_a_look_alike_address_after_five_failures_never_signs_in_or_clears_the_lock(
    client, request, persona, typed, clock
):
    person = request.getfixturevalue(persona)
    fail(client, person.email, 5)
    before, row = failures_of(person), row_of(person)

    response = password_step(client, typed)  # the right password
    assert response.status_code in (200, 429)
    assert not signed_in(client)
    assert failures_of(person) == before and row_of(person) == row
    assert password_step(client, person.email, **ELSEWHERE).status_code == 429
    assert not AuditEvent.objects.filter(action="user.signed_in", actor=person).exists()


def test_a_dotless_i_names_no_account(db, admin_user):
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("admın@demo-council.example")
    assert User.objects.get_by_natural_key("ａｄｍｉｎ@demo-council.example") == admin_user


def test_an_address_without_an_account_is_locked_like_one(client, demo_data, clock):
    assert [r.status_code for r in fail(client, "nobody@demo-council.example", 5)][-1] == 429
    assert password_step(client, "NOBODY@demo-council.example").status_code == 429
    (attempt,) = AccessAttempt.objects.all()
    assert attempt.username == "email:nobody@demo-council.example"


# --- The client's address: from a trusted proxy only ----------------------------------


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_clients(
    client, local_supplier_user, settings, clock
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client sent a made-up first entry; the outer proxy (10.0.0.7) added
    # the client's address, the inner one (10.0.0.2, REMOTE_ADDR) the outer's.
    via_proxy = {
        "REMOTE_ADDR": "10.0.0.2",
        "HTTP_X_FORWARDED_FOR": "198.51.100.66, 203.0.113.9, 10.0.0.7",
    }
    fail(client, local_supplier_user.email, 1, **via_proxy)
    (attempt,) = AccessAttempt.objects.all()
    assert attempt.ip_address == "203.0.113.9"
    failed = AuditEvent.objects.get(action="user.sign_in_failed")
    assert failed.context["ip"] == "203.0.113.9"


def test_from_an_address_that_is_not_a_trusted_proxy_the_header_is_ignored(
    client, local_supplier_user, settings, clock
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    fail(
        client,
        local_supplier_user.email,
        1,
        REMOTE_ADDR="192.0.2.50",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    settings.TRUSTED_PROXIES = []
    fail(
        client, local_supplier_user.email, 1, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4"
    )
    assert sorted(AccessAttempt.objects.values_list("ip_address", flat=True)) == [
        "10.0.0.2",
        "192.0.2.50",
    ]


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "10.0.0.9, 10.0.0.7"])
def test_a_proxy_header_with_no_client_in_it_counts_as_the_proxy(
    client, local_supplier_user, settings, clock, forwarded
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    fail(
        client, local_supplier_user.email, 1, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["10.0.0.2"]


def test_one_address_trying_many_accounts_is_locked_out_of_all_of_them(
    client, auditor, local_supplier_user, officer, second_officer, settings, clock
):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    settings.AXES_ADDRESS_FAILURE_LIMIT = 12

    def via_proxy(client_ip):
        return {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": client_ip}

    sprayer = via_proxy("203.0.113.66")
    targets = [
        officer.email,
        second_officer.email,
        local_supplier_user.email,
        "someone@demo-council.example",
        "else@demo-council.example",
        "more@aire-valley.example",
    ]
    responses = [r for email in targets for r in fail(client, email, 2, **sprayer)]
    assert [r.status_code for r in responses] == [200] * 11 + [429]
    page = responses[-1].content.decode()
    assert "from your network, for several accounts" in page
    assert "You can try again at" in try_again_at(page)
    before = list(AccessAttempt.objects.order_by("pk").values_list())

    # Every account, even with its right password, from that address.
    assert password_step(client, auditor.email, **sprayer).status_code == 429
    assert not signed_in(client)
    assert list(AccessAttempt.objects.order_by("pk").values_list()) == before
    # No account was locked by it: people elsewhere, behind the same proxy too, sign in.
    response = password_step(client, local_supplier_user.email, **via_proxy("192.0.2.8"))
    assert response["Location"] == reverse("home")
    client.post(reverse("logout"))
    assert password_step(client, officer.email, **via_proxy("192.0.2.9"))["Location"] == VERIFY

    locked = AuditEvent.objects.get(action="address.locked_out")
    assert (locked.context["ip"], locked.context["failures"]) == ("203.0.113.66", 12)
    assert not AuditEvent.objects.filter(action="user.locked_out").exists()


# --- Two-factor codes count too -----------------------------------------------------


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
    assert password_step(client, officer.email, **ELSEWHERE).status_code == 429

    assert AuditEvent.objects.filter(action="user.two_factor_failed", actor=officer).count() == 5
    assert AuditEvent.objects.get(action="user.locked_out").context["failures"] == 5


def test_a_correct_password_alone_does_not_clear_the_count_for_staff(client, officer, clock):
    fail(client, officer.email, 4)
    assert password_step(client, officer.email)["Location"] == VERIFY
    wrong = f"{(int(code_for(officer)) + 1) % 1_000_000:06d}"
    assert client.post(VERIFY, {"code": wrong}).status_code == 429


def test_a_completed_sign_in_clears_the_count(client, officer, local_supplier_user, clock):
    fail(client, officer.email, 4, **ELSEWHERE)
    password_step(client, officer.email)
    assert client.post(VERIFY, {"code": code_for(officer)})["Location"] == reverse("home")
    client.post(reverse("logout"))
    assert [r.status_code for r in fail(client, officer.email, 4)] == [200] * 4

    fail(client, local_supplier_user.email, 4)
    assert password_step(client, local_supplier_user.email)["Location"] == reverse("home")
    client.post(reverse("logout"))
    assert [r.status_code for r in fail(client, local_supplier_user.email, 4)] == [200] * 4


# --- Telling the owner, and letting them back in -----------------------------------------


def lock_out(client, person, capture, **extra):
    with capture(execute=True):
        fail(client, person.email, 5, **extra)


def lockout_email(person):
    (message,) = [m for m in mail.outbox if m.to == [person.email] and "locked" in m.subject]
    return message


def unlock_link_in(message, settings) -> str:
    return re.search(re.escape(settings.SITE_URL) + r"(/sign-in/unlock/\S+/)", message.body).group(
        1
    )


@pytest.mark.usefixtures("in_process_tasks")
def test_a_locked_out_supplier_is_emailed_a_link_that_unlocks_once(
    client, local_supplier_user, settings, clock, django_capture_on_commit_callbacks
):
    clock.move_to(datetime.datetime(2026, 7, 6, 9, 40, tzinfo=datetime.UTC))  # 10:40 BST
    lock_out(client, local_supplier_user, django_capture_on_commit_callbacks, **ELSEWHERE)
    message = lockout_email(local_supplier_user)
    assert "locked until 10:55 on 6 July 2026" in message.subject
    assert "nobody can sign in to your account until 10:55 on 6 July 2026" in message.body
    link = unlock_link_in(message, settings)
    # The inbox's copy says so too, without the link.
    inbox = InboxMessage.objects.get(recipient=local_supplier_user, event="security.locked_out")
    assert "10:55" in inbox.body and "/sign-in/unlock/" not in inbox.body

    before = failures_of(local_supplier_user)
    page = client.get(link)  # a mail scanner following the link changes nothing
    assert "Unlock your account" in page.content.decode()
    assert failures_of(local_supplier_user) == before

    response = client.post(link, follow=True)
    assert "Your account is unlocked. You can sign in now." in response.content.decode()
    assert failures_of(local_supplier_user) == []
    unlocked = AuditEvent.objects.get(action="user.unlocked")
    assert unlocked.actor == local_supplier_user
    assert unlocked.context == {"how": "the link emailed to the account", "failures_cleared": 5}
    assert password_step(client, local_supplier_user.email)["Location"] == reverse("home")
    client.post(reverse("logout"))

    # Used once, it is dead, even when the account is locked again.
    with django_capture_on_commit_callbacks(execute=True):
        fail(client, local_supplier_user.email, 5)
    before = failures_of(local_supplier_user)
    for method in (client.get, client.post):
        response = method(link)
        assert response.status_code == 410
        assert "This link has already been used" in response.content.decode()
    assert failures_of(local_supplier_user) == before
    assert AuditEvent.objects.filter(action="user.unlocked").count() == 1


@pytest.mark.usefixtures("in_process_tasks")
def test_the_unlock_link_dies_when_the_password_changes(
    client, local_supplier_user, settings, clock, django_capture_on_commit_callbacks
):
    lock_out(client, local_supplier_user, django_capture_on_commit_callbacks)
    link = unlock_link_in(lockout_email(local_supplier_user), settings)
    local_supplier_user.set_password("an entirely new passphrase 7")
    local_supplier_user.save()
    before = failures_of(local_supplier_user)

    response = client.post(link)
    assert response.status_code == 410
    assert "This link no longer works" in response.content.decode()
    assert failures_of(local_supplier_user) == before
    assert not AuditEvent.objects.filter(action="user.unlocked").exists()


def test_a_tampered_unlock_link_changes_nothing(client, local_supplier_user, clock):
    fail(client, local_supplier_user.email, 5)
    before = failures_of(local_supplier_user)
    link = lockout.unlock_link(local_supplier_user)
    response = client.post(link[:-6] + "xxxxx/")
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
    assert failures_of(local_supplier_user) == before


@pytest.mark.usefixtures("in_process_tasks")
def test_council_staff_are_emailed_without_an_unlock_link(
    client, officer, clock, django_capture_on_commit_callbacks
):
    lock_out(client, officer, django_capture_on_commit_callbacks)
    message = lockout_email(officer)
    assert "/sign-in/unlock/" not in message.body
    assert "ask an administrator to unlock your account" in message.body
    # Nor does a link made for someone who is not a supplier's person work.
    before = failures_of(officer)
    response = client.post(lockout.unlock_link(officer))
    assert response.status_code == 410
    assert failures_of(officer) == before


@pytest.fixture
def colleague(local_supplier_user) -> User:
    return user_create(
        email="sam@aire-valley.example",
        full_name="Sam Lee",
        role=Role.SUPPLIER,
        supplier=local_supplier_user.supplier,
        supplier_role="member",
        password=PASSWORD,
        email_verified=True,
        by=None,
    )


def test_an_organisation_administrator_unlocks_a_locked_colleague(
    client, local_supplier_user, colleague, clock
):
    fail(client, colleague.email, 5)
    client.force_login(local_supplier_user)
    page = client.get(reverse("people")).content.decode()
    assert "Locked out until" in page
    assert reverse("person_unlock", args=[colleague.pk]) in page

    response = client.post(reverse("person_unlock", args=[colleague.pk]), follow=True)
    assert "Sam Lee can sign in again." in response.content.decode()
    assert failures_of(colleague) == []
    unlocked = AuditEvent.objects.get(action="user.unlocked")
    assert (unlocked.actor, unlocked.object_id) == (local_supplier_user, str(colleague.pk))
    assert unlocked.context["how"] == "their organisation's administrator"
    client.post(reverse("logout"))
    assert password_step(client, colleague.email)["Location"] == reverse("home")


def test_only_the_colleagues_own_administrator_may_unlock_them(
    client, local_supplier_user, distant_supplier_user, colleague, officer, clock
):
    fail(client, local_supplier_user.email, 5)
    before = failures_of(local_supplier_user)
    url = reverse("person_unlock", args=[local_supplier_user.pk])
    for person, status in ((colleague, 403), (distant_supplier_user, 404), (officer, 404)):
        client.force_login(person)
        assert client.post(url).status_code == status
        assert client.get(url).status_code == 405
    assert failures_of(local_supplier_user) == before
    assert not AuditEvent.objects.filter(action="user.unlocked").exists()


def test_an_administrator_unlocks_council_staff_in_django_admin(client, officer, admin_user, clock):
    fail(client, officer.email, 5)
    client.force_login(admin_user)
    home = client.get(reverse("home")).content.decode()
    assert "Locked out now" in home and officer.full_name in home
    changelist = reverse("admin:axes_accessattempt_changelist") + f"?username=user:{officer.pk}"
    assert changelist in home
    assert client.get(changelist).status_code == 200
    (attempt,) = AccessAttempt.objects.filter(username=lockout.account_key(officer))
    client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    client.post(reverse("logout"))
    assert password_step(client, officer.email)["Location"] == VERIFY


def test_the_admin_home_lists_wrong_codes_and_lockouts(client, officer, admin_user, clock):
    fail(client, officer.email, 5)
    client.force_login(admin_user)
    page = client.get(reverse("home")).content.decode()
    assert page.count("Wrong email address or password") == 5
    assert "Locked out for a while" in page
    assert "1 account is locked out after failed sign-ins." in page
