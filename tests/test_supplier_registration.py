"""A supplier registers once, confirms its email, manages colleagues and its profile."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from portal.models import AuditEvent, BuyerOrganisation, User
from suppliers.models import SupplierChange, SupplierOrganisation, SupplierStatus
from suppliers.selectors import status_of
from suppliers.services import supplier_change_decide, supplier_set_status

pytestmark = pytest.mark.usefixtures("in_process_tasks")

VALID = {
    "legal_name": "Manningham Mechanical Ltd",
    "trading_name": "Manningham Mech",
    "companies_house_number": "1234567",
    "charity_number": "",
    "is_sme": "True",
    "is_vcse": "False",
    "phone": "01274 000000",
    "website": "manningham-mech.example",
    "address_line_1": "10 Oak Lane",
    "address_line_2": "",
    "town": "Bradford",
    "postcode": "bd8 7pr",
    "categories": "45310000-3\n50700000-2",
    "full_name": "Farah Iqbal",
    "email": "Farah@Manningham-Mech.example",
    "password1": "correct horse battery staple",
    "password2": "correct horse battery staple",
}


def register(client, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("register"), {**VALID, **changes})


def link_in(message) -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/register/\S+/)", message.body).group(1)


@pytest.fixture
def registered(client, demo_data, django_capture_on_commit_callbacks):
    response = register(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302, response.content.decode()[:3000]
    return SupplierOrganisation.objects.get(legal_name="Manningham Mechanical Ltd")


def test_registration_creates_a_pending_supplier_and_emails_a_confirmation_link(client, registered):
    supplier = registered
    # Waiting for every council: none has decided.
    assert not supplier.approvals.exists()
    assert status_of(supplier, BuyerOrganisation.objects.get()) == SupplierStatus.PENDING
    assert supplier.companies_house_number == "01234567"  # leading zero restored
    assert supplier.website == "https://manningham-mech.example"
    site = supplier.sites.get()
    assert (site.postcode, site.district) == ("BD8 7PR", "BD8")
    assert sorted(supplier.categories.values_list("code", flat=True)) == [
        "45310000-3",
        "50700000-2",
    ]
    person = supplier.users.get()
    assert person.email == "farah@manningham-mech.example"
    assert (person.is_active, person.supplier_role, person.email_verified_at) == (
        False,
        "admin",
        None,
    )
    (message,) = mail.outbox
    assert message.to == [person.email]
    assert "Confirm your email address" in message.subject
    assert "/register/confirm/" in link_in(message)
    assert AuditEvent.objects.filter(action="supplier.registered", object_id=str(supplier.pk))
    assert "Check your email" in client.get(reverse("register_check_email")).content.decode()


def test_a_person_cannot_sign_in_before_confirming_their_email(client, registered):
    response = client.post(
        reverse("login"),
        {"username": VALID["email"], "password": VALID["password1"]},
    )
    assert "There is a problem" in response.content.decode()


def test_following_the_link_asks_first_then_confirms_and_signs_in(client, registered):
    link = link_in(mail.outbox[0])
    page = client.get(link)
    assert "Confirm email address" in page.content.decode()
    person = registered.users.get()
    person.refresh_from_db()
    assert person.email_verified_at is None  # a mail scanner's GET changes nothing

    response = client.post(link, follow=True)
    page = response.content.decode()
    assert "Your email address is confirmed" in page
    assert "waiting for verification" in page
    person.refresh_from_db()
    assert person.is_active and person.email_verified_at is not None
    assert AuditEvent.objects.filter(action="user.email_verified", actor=person).exists()


def test_a_used_link_says_so_and_points_to_sign_in(client, registered):
    link = link_in(mail.outbox[0])
    client.post(link)
    client.logout()
    response = client.get(link)
    assert response.status_code == 410
    assert "This link has already been used." in response.content.decode()


def test_an_expired_link_offers_a_new_one_that_works(
    client, registered, django_capture_on_commit_callbacks
):
    link = link_in(mail.outbox[0])
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        response = client.get(link)
        assert response.status_code == 410
        assert "This link has expired." in response.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(link.rstrip("/") + "/resend/")
        assert len(mail.outbox) == 2
        fresh = link_in(mail.outbox[1])
        assert fresh != link
        assert "Your email address is confirmed" in client.post(fresh, follow=True).content.decode()


def test_a_tampered_link_is_not_valid(client, registered):
    link = link_in(mail.outbox[0])
    response = client.get(link[:-5] + "xxxx/")
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"postcode": "BD99 ZZZ"}, "Enter a real UK postcode"),
        ({"postcode": "ZZ99 9ZZ"}, "ZZ is not a UK postcode area"),
        (
            {"companies_house_number": "12AB"},
            "Enter a Companies House number in the correct format",
        ),
        ({"charity_number": "12"}, "Enter a charity number in the correct format"),
        ({"categories": "45310000-9"}, "The check digit of 45310000 is 3, not 9"),
        ({"categories": "99999999-9"}, "99999999-9 is not a CPV 2008 code"),
        ({"categories": "cleaning"}, "is not a CPV code"),
        ({"companies_house_number": "09123456"}, "already registered"),  # Aire Valley Cleaning
        ({"password2": "something else entirely"}, "The passwords do not match"),
        ({"password1": "short", "password2": "short"}, "This password is too short"),
        ({"legal_name": ""}, "Enter your organisation&#x27;s legal name"),
        ({"is_sme": ""}, "Select yes if your organisation is an SME"),
    ],
)
def test_bad_input_gets_a_clear_error_and_keeps_what_was_typed(
    client, demo_data, django_capture_on_commit_callbacks, changes, message
):
    response = register(client, django_capture_on_commit_callbacks, **changes)
    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page and page.count(message) >= 2  # summary and field
    assert "<title>Error: " in page
    for field in ("trading_name", "address_line_1", "full_name"):
        assert f'value="{VALID[field]}"' in page
    assert "Manningham Mechanical Ltd" in page or changes.get("legal_name") == ""
    assert not SupplierOrganisation.objects.filter(legal_name="Manningham Mechanical Ltd").exists()
    assert mail.outbox == []


# --- Colleagues ---------------------------------------------------------------------


def invite(client, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("person_invite"), data, follow=True)


def test_an_administrator_invites_a_colleague_who_joins_and_signs_in(
    client, local_supplier_user, django_capture_on_commit_callbacks
):
    client.force_login(local_supplier_user)
    response = invite(
        client,
        django_capture_on_commit_callbacks,
        full_name="Sam Lee",
        email="sam@aire-valley.example",
        supplier_role="member",
    )
    assert "We have emailed an invitation to sam@aire-valley.example" in response.content.decode()
    (message,) = mail.outbox
    assert "Jo Pickles invited you to join Aire Valley Cleaning Ltd" in message.subject
    client.logout()
    link = link_in(message)
    password = "a brand new passphrase 9"
    response = client.post(link, {"password1": password, "password2": password}, follow=True)
    assert "Welcome to Aire Valley Cleaning Ltd" in response.content.decode()
    sam = User.objects.get(email="sam@aire-valley.example")
    assert sam.is_active and sam.supplier == local_supplier_user.supplier
    assert sam.supplier_role == "member"
    assert client.get(link).status_code == 410  # used


def test_a_member_cannot_manage_colleagues(
    client, local_supplier_user, django_capture_on_commit_callbacks
):
    client.force_login(local_supplier_user)
    invite(
        client,
        django_capture_on_commit_callbacks,
        full_name="Sam Lee",
        email="sam@aire-valley.example",
        supplier_role="member",
    )
    sam = User.objects.get(email="sam@aire-valley.example")
    sam.is_active = True
    sam.save()
    client.force_login(sam)
    assert client.get(reverse("person_invite")).status_code == 403
    assert client.post(reverse("person_remove", args=[local_supplier_user.pk])).status_code == 403
    assert client.get(reverse("people")).status_code == 200  # but can see who is there


def test_an_organisation_keeps_at_least_one_administrator(client, local_supplier_user):
    client.force_login(local_supplier_user)
    response = client.post(
        reverse("person_role", args=[local_supplier_user.pk]), {"supplier_role": "member"}
    )
    assert "needs at least one administrator" in response.content.decode()
    response = client.post(reverse("person_remove", args=[local_supplier_user.pk]))
    assert "needs at least one administrator" in response.content.decode()
    local_supplier_user.refresh_from_db()
    assert local_supplier_user.is_active and local_supplier_user.supplier_role == "admin"


def test_a_removed_colleague_can_no_longer_sign_in(
    client, local_supplier_user, django_capture_on_commit_callbacks
):
    client.force_login(local_supplier_user)
    invite(
        client,
        django_capture_on_commit_callbacks,
        full_name="Sam Lee",
        email="sam@aire-valley.example",
        supplier_role="admin",
    )
    sam = User.objects.get(email="sam@aire-valley.example")
    client.post(reverse("person_role", args=[sam.pk]), {"supplier_role": "member"})
    sam.refresh_from_db()
    assert sam.supplier_role == "member"
    client.post(reverse("person_remove", args=[sam.pk]))
    sam.refresh_from_db()
    assert not sam.is_active
    assert AuditEvent.objects.filter(action="user.removed_from_supplier", object_id=str(sam.pk))


def test_inviting_someone_who_already_has_an_account_makes_nobody_and_tells_the_owner(
    client, local_supplier_user, django_capture_on_commit_callbacks
):
    """A person belongs to one organisation only; whether an address has an
    account is never told to the inviter (tests/test_registration_privacy.py)."""
    client.force_login(local_supplier_user)
    before = User.objects.count()
    response = invite(
        client,
        django_capture_on_commit_callbacks,
        full_name="Chris",
        email="sales@leeds-office.example",
        supplier_role="member",
    )
    assert "We have emailed an invitation to sales@leeds-office.example." in (
        response.content.decode()
    )
    assert User.objects.count() == before
    assert [m.to for m in mail.outbox] == [["sales@leeds-office.example"]]
    assert "Someone tried to invite you" in mail.outbox[0].subject


# --- Profile ------------------------------------------------------------------------


def test_editing_verified_details_is_sent_for_review_and_audited(client, local_supplier_user):
    """Once a council has verified the supplier, names, numbers, SME and VCSE
    status and categories wait for an officer (ADR 12); contact details do not."""
    client.force_login(local_supplier_user)
    supplier = local_supplier_user.supplier
    form = client.get(reverse("organisation_edit")).content.decode()
    assert 'value="Aire Valley Cleaning Ltd"' in form and "90910000-9" in form
    data = {
        "legal_name": "Aire Valley Cleaning Ltd",
        "trading_name": "AV Clean",
        "companies_house_number": "09123456",
        "charity_number": "",
        "is_sme": "True",
        "is_vcse": "False",
        "phone": "01274 000000",
        "website": "",
        "categories": "90910000-9",
    }
    response = client.post(reverse("organisation_edit"), data, follow=True)
    page = response.content.decode()
    assert "Your contact details have been saved." in page
    assert "Sent for review." in page and "Waiting for review" in page
    supplier.refresh_from_db()
    assert (supplier.trading_name, supplier.phone) == ("", "01274 000000")
    assert sorted(supplier.categories.values_list("code", flat=True)) == [
        "90910000-9",
        "90911200-8",
    ]
    asked = AuditEvent.objects.filter(
        action="supplier.change_requested", object_id=str(supplier.pk)
    ).order_by("pk")
    assert [e.changes for e in asked] == [
        {"categories": [["90910000-9", "90911200-8"], ["90910000-9"]]},
        {"trading_name": ["", "AV Clean"]},
    ]
    assert all(e.actor == local_supplier_user for e in asked)
    changed = AuditEvent.objects.get(action="supplier.profile_changed", object_id=str(supplier.pk))
    assert changed.changes == {"phone": ["", "01274 000000"]}


def test_a_new_address_counts_for_locality_once_an_officer_accepts_it(
    client, distant_supplier_user, council, officer
):
    client.force_login(distant_supplier_user)
    response = client.post(
        reverse("site_add"),
        {"address_line_1": "1 Sunbridge Road", "town": "Bradford", "postcode": "BD1 2AA"},
        follow=True,
    )
    page = response.content.decode()
    assert "Sent for review." in page
    assert "No council on this portal counts you as local" in page
    change = SupplierChange.objects.get(supplier=distant_supplier_user.supplier)
    supplier_change_decide(change=change, accept=True, reason="Lease seen.", by=officer)
    assert "You are local to Demo Council" in client.get(reverse("organisation")).content.decode()


def test_the_last_address_cannot_be_removed(client, local_supplier_user):
    client.force_login(local_supplier_user)
    site = local_supplier_user.supplier.sites.get()
    response = client.post(reverse("site_remove", args=[site.pk]))
    assert "needs at least one address" in response.content.decode()
    assert local_supplier_user.supplier.sites.count() == 1


def test_download_everything_held_about_the_organisation(client, local_supplier_user):
    client.force_login(local_supplier_user)
    response = client.get(reverse("organisation_export"))
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["organisation"]["legal_name"] == "Aire Valley Cleaning Ltd"
    assert data["addresses"][0]["postcode"] == "BD1 4PB"
    assert {c["code"] for c in data["categories"]} == {"90910000-9", "90911200-8"}
    assert data["people"][0]["email"] == "supplier@aire-valley.example"
    assert any(event["action"] == "supplier.registered" for event in data["history"])


def test_another_organisations_people_and_addresses_are_not_found(
    client, local_supplier_user, distant_supplier_user
):
    client.force_login(distant_supplier_user)
    theirs = local_supplier_user.supplier
    site = theirs.sites.get()
    for url in (
        reverse("site_edit", args=[site.pk]),
        reverse("site_remove", args=[site.pk]),
        reverse("person_role", args=[local_supplier_user.pk]),
        reverse("person_remove", args=[local_supplier_user.pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url
    assert "Aire Valley" not in client.get(reverse("organisation_export")).content.decode()


@pytest.mark.parametrize("persona", ["officer", "auditor", "admin_user", "other_officer"])
def test_council_staff_have_no_organisation_pages(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    for name in ("organisation", "organisation_edit", "organisation_export", "people", "site_add"):
        assert client.get(reverse(name)).status_code == 404, name


def test_error_summary_links_land_on_a_real_field_for_radios(client, demo_data):
    import re as regex

    page = client.post(reverse("register"), {**VALID, "is_sme": ""}).content.decode()
    anchors = regex.findall(r"govuk-error-summary__list.*?</ul>", page, regex.S)[0]
    targets = regex.findall(r'href="#([^"]+)"', anchors)
    assert targets == ["id_is_sme_1"]
    assert 'id="id_is_sme_1"' in page


def test_a_supplier_counts_as_local_only_once_the_council_has_approved_it(
    client, registered, officer
):
    """Where its addresses are is the supplier's claim: it is local to a
    council only once that council has verified it (ADR 12); waiting, and
    suspended, it is told its address is in the area and what that means."""
    council = officer.buyer
    person = registered.users.get()
    person.is_active = True
    person.save(update_fields=["is_active"])
    client.force_login(person)
    in_area = f"You have an address in {council.name}'s area"

    def pages() -> list[str]:
        added = client.post(
            reverse("site_add"),
            {"address_line_1": "2 Kirkgate", "town": "Bradford", "postcode": "BD1 1QE"},
            follow=True,
        ).content.decode()
        home = client.get(reverse("home")).content.decode()
        local_to = home.split('id="local-to">', 1)[1].split("</dd>", 1)[0]
        return [local_to, client.get(reverse("organisation")).content.decode(), added]

    waiting = pages()
    assert "Address saved." in waiting[2]
    for page in waiting:
        assert escape(f"{in_area}: you will count as local to it once it verifies you.") in page
        assert f"You are local to {council.name}" not in page

    supplier_set_status(
        supplier=registered,
        buyer=council,
        status=SupplierStatus.SUSPENDED,
        reason="Your address does not match Companies House. Please correct it.",
        by=officer,
    )
    suspended = pages()
    for page in suspended:
        assert escape(f"{in_area}, but you do not count as local to it while suspended") in page
        assert f"You are local to {council.name}" not in page


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        ("Your address does not match Companies House. Please correct it.", "Please correct it."),
        ("Insurance lapsed", "Insurance lapsed."),
        ("Is this your company?", "Is this your company?"),
    ],
)
def test_a_suspension_reason_reads_as_one_sentence(
    client, local_supplier_user, officer, reason, shown
):
    supplier_set_status(
        supplier=local_supplier_user.supplier,
        buyer=officer.buyer,
        status=SupplierStatus.SUSPENDED,
        reason=reason,
        by=officer,
    )
    client.force_login(local_supplier_user)
    page = client.get(reverse("home")).content.decode()
    assert f"{escape(shown)} It cannot invite you" in page
    assert ".. It cannot" not in page and "?. It cannot" not in page
