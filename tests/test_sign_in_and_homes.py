import re

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from portal.models import AuditEvent
from suppliers.models import SupplierOrganisation, SupplierSite
from suppliers.services import SiteSpec, supplier_create
from tests.two_factor_helpers import sign_in


@pytest.mark.parametrize(
    ("email", "heading", "next_step"),
    [
        ("officer@demo-council.example", "Procurement officer home", "waiting for verification"),
        ("auditor@demo-council.example", "Auditor home", "Latest audit events"),
        ("admin@demo-council.example", "Administrator home", "Manage people, councils"),
        ("supplier@aire-valley.example", "Your organisation", "You have no invitations"),
    ],
)
def test_each_demo_role_signs_in_to_its_own_home(client, demo_data, email, heading, next_step):
    response = sign_in(client, email)
    page = response.content.decode()
    assert response.request["PATH_INFO"] == reverse("home")
    assert heading in page
    assert next_step in page
    assert AuditEvent.objects.filter(action="user.signed_in", actor__email=email).exists()


def test_officer_home_shows_the_policy_in_force_and_pending_suppliers(client, officer):
    client.force_login(officer)
    page = client.get(reverse("home")).content.decode()
    assert "£180,000.00 and above" in page
    assert "£10,000.00 to £49,999.99" in page
    assert "Allerton Electrical Contractors Ltd" in page  # pending, local
    assert "3 suppliers are waiting for verification" in page


def test_officer_home_counts_approved_suppliers_and_those_local_to_the_council(client, officer):
    """Local: a site in one of the council's districts (counted in SQL on the
    page, by hand here)."""
    from html import escape

    from portal.models import LocalityDistrict
    from suppliers.models import SupplierStatus

    districts = set(
        LocalityDistrict.objects.filter(buyer=officer.buyer).values_list("district", flat=True)
    )
    approved = SupplierOrganisation.objects.filter(
        approvals__buyer=officer.buyer, approvals__status=SupplierStatus.APPROVED
    )
    local = [s for s in approved if any(site.district in districts for site in s.sites.all())]
    assert 0 < len(local) < approved.count()  # the demo has both kinds
    client.force_login(officer)
    page = client.get(reverse("home")).content.decode()
    assert (
        f"{approved.count()} suppliers approved by {escape(officer.buyer.name)} can be "
        f"invited, {len(local)} of them local to it."
    ) in page


def test_supplier_home_shows_the_councils_it_is_local_to(client, local_supplier_user):
    client.force_login(local_supplier_user)
    page = client.get(reverse("home")).content.decode()
    assert "Aire Valley Cleaning Ltd" in page
    assert "Demo Council" in page.split("Local to", 1)[1]


def test_a_wrong_password_shows_the_error_summary_and_keeps_the_email(client, demo_data):
    response = client.post(
        reverse("login"), {"username": "officer@demo-council.example", "password": "nope"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Sign in" in page
    assert "govuk-error-summary" in page and "There is a problem" in page
    assert 'value="officer@demo-council.example"' in page
    event = AuditEvent.objects.get(action="user.sign_in_failed")
    assert event.context["email"] == "officer@demo-council.example"
    assert "nope" not in str(event.context)


def test_an_empty_sign_in_names_each_missing_field(client, db):
    page = client.post(reverse("login"), {"username": "", "password": ""}).content.decode()
    assert "Enter your email address" in page
    assert "Enter your password" in page


def test_email_is_matched_without_regard_to_case(client, demo_data):
    response = sign_in(client, "Officer@Demo-Council.EXAMPLE")
    assert "Procurement officer home" in response.content.decode()


def test_pages_need_sign_in_except_the_public_ones(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("password_reset")).status_code == 200
    assert client.get(reverse("healthz")).status_code == 200


def test_sign_out_is_a_post_and_is_audited(client, officer):
    client.force_login(officer)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.filter(action="user.signed_out", actor=officer).exists()


def test_password_reset_by_email_end_to_end(
    client, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the outbox delivers it
        response = client.post(reverse("password_reset"), {"email": "officer@demo-council.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["officer@demo-council.example"]
    # On SITE_URL, never on the Host the request came with (tests/test_emailed_links.py).
    link = re.search(r"http://127\.0\.0\.1:8000(/password-reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    new_password = "a long fresh passphrase 42"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
        follow=True,
    )
    assert "Password changed" in done.content.decode()
    assert AuditEvent.objects.filter(action="user.password_reset", actor=officer).exists()
    # The link works once.
    assert "expired or has already been used" in client.get(link, follow=True).content.decode()
    assert (
        "Procurement officer home" in sign_in(client, officer.email, new_password).content.decode()
    )


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(
    client, db, in_process_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("password_reset"), {"email": "nobody@example.com"}, follow=True
        )
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_a_mistyped_url_gets_the_govuk_404_page(client, officer):
    client.force_login(officer)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "govuk-header" in response.content.decode()


# Council staff's sessions also load the two-factor device that verified them. A
# supplier's home also reads each council's decision on it (ADR 12).
# The administrator's home also asks which accounts are locked out now.
# The officer's home reads its work too: its five lists with their counts in
# one query (tests/test_officer_home.py). The policy in force is read with its
# bands in one query (``policy_in_force``).
HOME_QUERIES = {"officer": 8, "auditor": 7, "admin_user": 9, "local_supplier_user": 9}
# On PostgreSQL the officer's supplier section is kept until who waits for
# verification changes (``portal.kept``): the first read after a change reads
# it again and keeps it, two statements more, whatever the council's size.
READ_AGAIN = {"officer": 2}


@pytest.mark.parametrize("persona", sorted(HOME_QUERIES))
def test_home_pages_make_a_fixed_number_of_queries(
    client, django_assert_num_queries, request, persona
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    client.get(reverse("home"))  # warm-up (content types)
    with django_assert_num_queries(HOME_QUERIES[persona]):
        client.get(reverse("home"))
    for n in range(60):
        supplier = supplier_create(
            legal_name=f"Extra Supplier {n}",
            sites=[SiteSpec("1 Road", "Bradford", f"BD{n % 24 + 1} 1AA")],
            by=None,
        )
        SupplierSite.objects.create(
            supplier=supplier, address_line_1="2 Road", town="Leeds", postcode="LS1 1AA"
        )
    assert SupplierOrganisation.objects.count() > 80
    again = READ_AGAIN.get(persona, 0) if connection.vendor == "postgresql" else 0
    with django_assert_num_queries(HOME_QUERIES[persona] + again):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    with django_assert_num_queries(HOME_QUERIES[persona]):
        response = client.get(reverse("home"))
    assert response.status_code == 200


def test_an_auditor_sees_only_their_own_councils_events(client, auditor, other_officer):
    from portal import audit as audit_trail

    audit_trail.record(actor=other_officer, action="buyer.secret_plan", obj=other_officer.buyer)
    client.force_login(auditor)
    page = client.get(reverse("home")).content.decode()
    assert "buyer.secret_plan" not in page
    assert "Secret plan" not in page  # nor its label (the home shows labels, not codes)
    assert "Other Borough Council" not in page


def test_the_auditors_home_words_its_latest_events(client, auditor, officer):
    from portal import audit as audit_trail

    audit_trail.record(actor=officer, action="user.password_changed", obj=officer)
    audit_trail.record(actor=None, action="opportunity.closed", obj=officer.buyer)
    client.force_login(auditor)
    page = client.get(reverse("home")).content.decode()
    assert "Password changed" in page
    assert "user.password_changed" not in page
    # Who, by name as the other audit pages say it (it gave the email, and "system").
    rows = page.split("Latest audit events", 1)[1]
    assert f'<td class="govuk-table__cell">{officer.full_name}</td>' in rows
    assert '<td class="govuk-table__cell">The portal</td>' in rows
    assert officer.email not in rows and ">system<" not in rows
