"""Payees matched to suppliers once and remembered (issue 18, item 3; ADR 15):
names normalised, a Companies House number beats a name, ranked fuzzy
candidates for an officer to confirm or reject (a rejected one never comes
back), a confirmed match for every payment past and future, redacted rows
never anyone's, the invitation to register, and who may do what."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.models import MatchMethod, Payee, PayeeRejection, Payment
from ledger.names import normalise
from ledger.payee_selectors import matched_by_spend, unmatched_by_spend
from ledger.services.payees import (
    PayeeRefused,
    candidates,
    match_payees,
    payee_confirm,
    payee_invite,
    payee_reject,
    payee_unmatch,
)
from portal.models import AuditEvent
from suppliers.models import SupplierApproval, SupplierOrganisation, SupplierStatus
from tests.ledger_helpers import make_import, pay

D = Decimal
DAY = datetime.date(2026, 5, 14)


def supplier(legal: str, *, trading: str = "", number: str = "") -> SupplierOrganisation:
    return SupplierOrganisation.objects.create(
        legal_name=legal, trading_name=trading, companies_house_number=number
    )


def approve(org: SupplierOrganisation, buyer) -> None:
    SupplierApproval.objects.create(supplier=org, buyer=buyer, status=SupplierStatus.APPROVED)


def events_for(payee: Payee, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type="ledger.payee", object_id=str(payee.pk), action=action
        ).order_by("pk")
    )


# --- Names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("Acme Cleaning Ltd", "ACME CLEANING"),
        ("ACME CLEANING LIMITED", "ACME CLEANING"),
        ("acme cleaning ltd.", "ACME CLEANING"),
        ("The Acme Cleaning Co", "ACME CLEANING"),
        ("  Acme   Cleaning,  Ltd ", "ACME CLEANING"),
        ("Smith & Sons Ltd", "SMITH AND SONS"),
        ("Smith and Sons Limited", "SMITH AND SONS"),
        ("O'Brien's (Bradford) Ltd", "OBRIENS BRADFORD"),
        ("Café Ñandú PLC", "CAFE NANDU"),
        ("The", "THE"),  # a name that is only THE keeps it
        ("Limited", ""),  # only a legal form: no name (a row with it is refused)
        ("Bradford Community Care CIC", "BRADFORD COMMUNITY CARE"),
        ("BRADFORD COMMUNITY CARE C.I.C.", "BRADFORD COMMUNITY CARE"),
        ("Bradford Community Care C.I.C", "BRADFORD COMMUNITY CARE"),
        ("Bradford Community Care C. I. C.", "BRADFORD COMMUNITY CARE"),
        ("Acme P.L.C.", "ACME"),
        ("Acme L.L.P", "ACME"),
        ("Acme Holdings Co. L.T.D.", "ACME HOLDINGS"),
        ("J C B Plant Hire", "J C B PLANT HIRE"),  # initials are not a suffix
        ("Smith A B C", "SMITH A B C"),
        ("Redacted Personal Data", "REDACTED PERSONAL DATA"),
    ],
)
def test_names_are_normalised_for_matching(written, normalised):
    assert normalise(written) == normalised


def test_spellings_of_one_name_are_one_payee(demo_data, officer):
    buyer = officer.buyer
    first = make_import(buyer, officer)
    for name in ("Acme Cleaning Ltd", "ACME CLEANING LIMITED", "The Acme Cleaning Co."):
        pay(buyer, first, name, "100.00", DAY)
    (payee,) = Payee.objects.filter(buyer=buyer, normalised="ACME CLEANING")
    assert payee.name == "Acme Cleaning Ltd"  # as first seen
    assert payee.payments.count() == 3


# --- A number beats a name ----------------------------------------------------------------


def test_a_companies_house_number_beats_a_differently_named_supplier(demo_data, officer):
    buyer = officer.buyer
    same_name = supplier("Brimstone Gully Cleaning Ltd")
    by_number = supplier("Zephyrine Facilities Ltd", number="09876543")
    approve(by_number, buyer)  # verified by this council: its number counts
    spend = make_import(buyer, officer)
    payment = pay(
        buyer, spend, "Brimstone Gully Cleaning", "420.00", DAY, companies_house_number="09876543"
    )
    unnumbered = pay(buyer, spend, "Kestrelmoor Logistics", "90.00", DAY)
    assert match_payees(buyer) == 1
    payee = Payee.objects.get(pk=payment.payee_id)
    assert payee.supplier == by_number and payee.supplier != same_name
    assert payee.match_method == MatchMethod.NUMBER and payee.matched_at is not None
    assert Payee.objects.get(pk=unnumbered.payee_id).supplier is None
    (event,) = events_for(payee, "payee.matched_by_number")
    assert event.actor is None and event.changes == {"supplier": [None, by_number.pk]}
    # Matched once: a second run (the next import) matches nothing more.
    assert match_payees(buyer) == 0


def test_a_confirmed_payee_is_left_as_it_is_by_the_number(demo_data, officer):
    buyer = officer.buyer
    chosen = supplier("Marshwell Ground Care Ltd")
    supplier("Other Numbered Firm Ltd", number="05550555")
    spend = make_import(buyer, officer)
    payment = pay(buyer, spend, "Marshwell Ground Care", "300.00", DAY)
    payee_confirm(payee=payment.payee, supplier=chosen, by=officer)
    # A later file gives the payee a number that another supplier has.
    Payee.objects.filter(pk=payment.payee_id).update(companies_house_number="05550555")
    assert match_payees(buyer) == 0
    payee = Payee.objects.get(pk=payment.payee_id)
    assert payee.supplier == chosen and payee.match_method == MatchMethod.CONFIRMED


def test_matching_by_number_is_per_council(demo_data, officer, other_officer):
    numbered = supplier("Harrowgate Signs Ltd", number="07770777")
    approve(numbered, officer.buyer)
    approve(numbered, other_officer.buyer)
    ours = pay(
        officer.buyer,
        make_import(officer.buyer, officer),
        "Harrowgate Signs",
        "50",
        DAY,
        companies_house_number="07770777",
    )
    theirs = pay(
        other_officer.buyer,
        make_import(other_officer.buyer, other_officer),
        "Harrowgate Signs",
        "60",
        DAY,
        companies_house_number="07770777",
    )
    # Written without its leading zero in the file: the same number.
    short = supplier("Fennick Haulage Ltd", number="01234567")
    approve(short, officer.buyer)
    written = pay(
        officer.buyer,
        make_import(officer.buyer, officer),
        "F. Haulage",
        "70",
        DAY,
        companies_house_number="1234567",
    )
    assert match_payees(officer.buyer) == 2
    assert Payee.objects.get(pk=ours.payee_id).supplier == numbered
    assert Payee.objects.get(pk=written.payee_id).supplier == short
    assert Payee.objects.get(pk=theirs.payee_id).supplier is None


# --- Candidates ----------------------------------------------------------------------------


@pytest.fixture
def quillbrook(demo_data, officer):
    """Suppliers like "Quillbrook Drainage Services", one approved by the council."""
    buyer = officer.buyer
    plain = supplier("Quillbrook Drainage Services")  # created first, not approved
    approved = supplier("Quillbrook Drainage Services Limited")
    approve(approved, buyer)
    shorter = supplier("Quillbrook Drainage")
    trading = supplier("Heronsgate Holdings Ltd", trading="Quillbrook Drainage Services")
    supplier("Sablewood Catering Ltd")  # nothing alike
    spend = make_import(buyer, officer)
    payment = pay(buyer, spend, "QUILLBROOK DRAINAGE SERVICES LTD", "1250.00", DAY)
    return {
        "buyer": buyer,
        "payee": payment.payee,
        "plain": plain,
        "approved": approved,
        "shorter": shorter,
        "trading": trading,
    }


def test_candidates_are_ranked_by_score_approved_first(quillbrook, django_assert_num_queries):
    payee = quillbrook["payee"]
    with django_assert_num_queries(1):  # every supplier's names, read once
        found = candidates(payee)
    ids = [c.supplier_id for c in found]
    # Three names are the same once normalised (100): the approved one first,
    # then the others by name; the shorter name scores less, above the cut-off.
    assert ids[0] == quillbrook["approved"].pk and found[0].approved
    assert set(ids[1:3]) == {quillbrook["plain"].pk, quillbrook["trading"].pk}
    assert [c.score for c in found[:3]] == [100, 100, 100]
    shorter = next(c for c in found if c.supplier_id == quillbrook["shorter"].pk)
    assert 80 <= shorter.score < 100 and found.index(shorter) == 3
    # The trading name counted, and is what it matched on.
    trading = next(c for c in found if c.supplier_id == quillbrook["trading"].pk)
    assert trading.matched_on == "Quillbrook Drainage Services"
    assert trading.legal_name == "Heronsgate Holdings Ltd"
    # Nothing under 80 (a caterer), and at most ``limit``.
    assert all(c.score >= 80 for c in found) and len(found) <= 5
    assert [c.supplier_id for c in candidates(payee, limit=2)] == ids[:2]


def test_each_candidate_shows_its_status_with_the_council(client, quillbrook, officer):
    """Before Confirm the officer sees whether the council has approved each
    supplier, is still to verify it, or has suspended it (what a supplier
    says of itself counts in the figures only once the council approves it)."""
    SupplierApproval.objects.create(
        supplier=quillbrook["shorter"], buyer=officer.buyer, status=SupplierStatus.SUSPENDED
    )
    found = {c.supplier_id: c for c in candidates(quillbrook["payee"])}
    assert found[quillbrook["approved"].pk].status_label == "Approved"
    assert found[quillbrook["plain"].pk].status_label == "Waiting for verification"
    assert found[quillbrook["shorter"].pk].status_label == "Suspended"
    assert not found[quillbrook["shorter"].pk].approved
    client.force_login(officer)
    shown = client.get(reverse("ledger:payee", args=[quillbrook["payee"].pk])).text
    rows = shown.split('<tbody class="govuk-table__body">')[1].split("</tbody>")[0]
    by_row = {}
    for row in rows.split('<tr class="govuk-table__row">')[1:]:
        for key in ("approved", "plain", "shorter", "trading"):
            if f'value="{quillbrook[key].pk}"' in row:
                by_row[key] = row
    assert "Approved</strong>" in by_row["approved"]
    assert "Waiting for verification</strong>" in by_row["plain"]
    assert "Waiting for verification</strong>" in by_row["trading"]
    assert "Suspended</strong>" in by_row["shorter"]
    # The status comes before the buttons.
    assert by_row["shorter"].index("Suspended") < by_row["shorter"].index("Confirm")


def test_a_rejected_candidate_is_never_proposed_again(quillbrook, officer):
    buyer, payee, approved = quillbrook["buyer"], quillbrook["payee"], quillbrook["approved"]
    payee_reject(payee=payee, supplier=approved, by=officer)
    assert PayeeRejection.objects.filter(payee=payee, supplier=approved).exists()
    assert approved.pk not in [c.supplier_id for c in candidates(payee)]
    (event,) = events_for(payee, "payee.candidate_rejected")
    assert event.actor == officer and event.context["supplier"] == approved.pk
    # Another import of the same payee (spelled differently): still not proposed.
    again = pay(
        buyer,
        make_import(buyer, officer),
        "Quillbrook Drainage Services Limited.",
        "80.00",
        DAY + datetime.timedelta(days=31),
    )
    assert again.payee_id == payee.pk
    assert approved.pk not in [c.supplier_id for c in candidates(again.payee)]
    # Nor matched by number, nor confirmed by mistake.
    SupplierOrganisation.objects.filter(pk=approved.pk).update(companies_house_number="01231231")
    Payee.objects.filter(pk=payee.pk).update(companies_house_number="01231231")
    assert match_payees(buyer) == 0
    with pytest.raises(PayeeRefused, match="is not"):
        payee_confirm(payee=payee, supplier=approved, by=officer)
    with pytest.raises(PayeeRefused, match="already said"):
        payee_reject(payee=payee, supplier=approved, by=officer)


def test_a_confirmed_match_applies_to_every_payment_past_and_future(quillbrook, officer):
    buyer, payee, chosen = quillbrook["buyer"], quillbrook["payee"], quillbrook["plain"]
    payee_confirm(payee=payee, supplier=chosen, by=officer)
    later = pay(
        buyer,
        make_import(buyer, officer),
        "Quillbrook Drainage Services",
        "-250.00",
        DAY + datetime.timedelta(days=40),
    )
    paid = Payment.objects.filter(payee__supplier=chosen, buyer=buyer)
    assert paid.count() == 2 and later in paid
    assert sum(p.amount for p in paid) == D("1000.00")
    payee.refresh_from_db()
    assert payee.match_method == MatchMethod.CONFIRMED and payee.matched_by == officer
    (event,) = events_for(payee, "payee.matched")
    assert event.changes == {"supplier": [None, chosen.pk]}
    assert payee not in unmatched_by_spend(buyer) and payee in matched_by_spend(buyer)
    with pytest.raises(PayeeRefused, match="already matched"):
        payee_confirm(payee=payee, supplier=quillbrook["approved"], by=officer)


def test_unmatching_needs_a_reason_and_rejects_the_supplier(quillbrook, officer):
    payee, chosen = quillbrook["payee"], quillbrook["plain"]
    payee_confirm(payee=payee, supplier=chosen, by=officer)
    with pytest.raises(PayeeRefused, match="Say why"):
        payee_unmatch(payee=payee, by=officer, reason="  ")
    payee_unmatch(payee=payee, by=officer, reason="Different firm in Leeds.")
    payee.refresh_from_db()
    assert payee.supplier is None and payee.match_method == MatchMethod.NONE
    assert chosen.pk not in [c.supplier_id for c in candidates(payee)]
    (event,) = events_for(payee, "payee.unmatched")
    assert event.context["reason"] == "Different firm in Leeds."
    with pytest.raises(PayeeRefused, match="not matched"):
        payee_unmatch(payee=payee, by=officer, reason="Again.")


# --- Redacted rows ---------------------------------------------------------------------------


def test_redacted_rows_are_never_payees_nor_candidates(demo_data, officer):
    buyer = officer.buyer
    supplier("Redacted Personal Data Ltd")  # a supplier whose name looks like a redaction
    spend = make_import(buyer, officer)
    rows = [
        pay(buyer, spend, name, "600.00", DAY)
        for name in ("Redacted Personal Data", "REDACTED", "*****", "")
    ]
    assert all(p.payee is None and p.redacted for p in rows)
    assert not Payee.objects.filter(buyer=buyer, normalised__contains="REDACTED").exists()
    # Even were one made, it is never proposed anything nor matched.
    odd = Payee.objects.create(buyer=buyer, normalised="REDACTED", name="REDACTED")
    assert candidates(odd) == []
    blank = Payee(buyer=buyer, normalised="", name="")
    assert candidates(blank) == []
    with pytest.raises(PayeeRefused, match="redacted"):
        payee_confirm(payee=odd, supplier=SupplierOrganisation.objects.first(), by=officer)
    with pytest.raises(PayeeRefused, match="redacted"):
        payee_invite(payee=odd, email="someone@example.com", by=officer)


# --- The list by spend -----------------------------------------------------------------------


def test_unmatched_payees_are_listed_by_spend_and_searchable(demo_data, officer, other_officer):
    buyer = officer.buyer
    spend = make_import(buyer, officer)
    pay(buyer, spend, "Small Firm", "100.00", DAY)
    pay(buyer, spend, "Big Firm", "900.00", DAY)
    pay(buyer, spend, "Big Firm Ltd", "-100.00", DAY + datetime.timedelta(days=3))  # a credit
    pay(buyer, spend, "Middle Firm", "500.00", DAY)
    pay(buyer, spend, "Redacted", "5000.00", DAY)
    theirs = make_import(other_officer.buyer, other_officer)
    pay(other_officer.buyer, theirs, "Enormous Firm", "99999.00", DAY)
    rows = list(unmatched_by_spend(buyer))
    assert [(p.name, p.spend, p.payments_count) for p in rows] == [
        ("Big Firm", D("800.00"), 2),
        ("Middle Firm", D("500.00"), 1),
        ("Small Firm", D("100.00"), 1),
    ]
    assert rows[0].last_paid == DAY + datetime.timedelta(days=3)
    assert [p.name for p in unmatched_by_spend(buyer, "middle")] == ["Middle Firm"]
    assert [p.name for p in unmatched_by_spend(buyer, "big firm ltd")] == ["Big Firm"]


# --- Inviting to register ----------------------------------------------------------------


def test_invite_sends_one_email_with_the_registration_link_and_is_audited(
    demo_data, officer, settings, in_process_tasks, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://tenders.example"
    buyer = officer.buyer
    payment = pay(buyer, make_import(buyer, officer), "Wrenfield Joinery", "700.00", DAY)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        payee_invite(payee=payment.payee, email="office@wrenfield.example", by=officer)
    (message,) = mail.outbox
    assert message.to == ["office@wrenfield.example"]
    assert message.subject == f"Invitation to register: {buyer.name}"
    assert "https://tenders.example/register/" in message.body
    assert f"{buyer.name} pays Wrenfield Joinery" in message.body
    assert "invite you to quote or tender" in message.body
    html = message.alternatives[0][0]
    assert 'href="https://tenders.example/register/"' in html
    payee = Payee.objects.get(pk=payment.payee_id)
    assert payee.invited_at is not None
    (event,) = events_for(payee, "payee.invited_to_register")
    assert event.actor == officer and event.context["email"] == "office@wrenfield.example"


def test_invite_is_refused_for_a_matched_payee_or_a_bad_address(demo_data, officer):
    buyer = officer.buyer
    chosen = supplier("Thistledown Printing Ltd")
    payment = pay(buyer, make_import(buyer, officer), "Thistledown Printing", "70.00", DAY)
    with pytest.raises(PayeeRefused, match="correct format"):
        payee_invite(payee=payment.payee, email="not an address", by=officer)
    payee_confirm(payee=payment.payee, supplier=chosen, by=officer)
    with pytest.raises(PayeeRefused, match="registered already"):
        payee_invite(payee=payment.payee, email="a@thistledown.example", by=officer)
    assert Payee.objects.get(pk=payment.payee_id).invited_at is None


# --- Who may do what -----------------------------------------------------------------------


def test_only_the_councils_officers_decide(quillbrook, auditor, other_officer, admin_user):
    payee, approved = quillbrook["payee"], quillbrook["approved"]
    for person in (auditor, other_officer, admin_user):
        with pytest.raises(PayeeRefused, match="procurement officers"):
            payee_confirm(payee=payee, supplier=approved, by=person)
        with pytest.raises(PayeeRefused, match="procurement officers"):
            payee_reject(payee=payee, supplier=approved, by=person)
        with pytest.raises(PayeeRefused, match="procurement officers"):
            payee_invite(payee=payee, email="x@example.com", by=person)
    assert not PayeeRejection.objects.filter(payee=payee).exists()
    assert Payee.objects.get(pk=payee.pk).supplier is None


def test_the_pages_officers_act_auditors_read_others_not_found(
    client, quillbrook, officer, auditor, other_officer, local_supplier_user
):
    payee, approved = quillbrook["payee"], quillbrook["approved"]
    page = reverse("ledger:payee", args=[payee.pk])
    confirm = reverse("ledger:payee_confirm", args=[payee.pk])
    client.force_login(auditor)
    assert client.get(reverse("ledger:payees")).status_code == 200
    read = client.get(page)
    assert read.status_code == 200 and "Quillbrook Drainage Services Limited" in read.text
    assert confirm not in read.text  # no buttons for a reader
    assert client.post(confirm, {"supplier": approved.pk}).status_code == 403
    for person in (other_officer, local_supplier_user):
        client.force_login(person)
        assert client.get(page).status_code == 404
        assert client.post(confirm, {"supplier": approved.pk}).status_code == 404
    assert client.get(reverse("ledger:payees")).status_code == 404  # the supplier
    client.logout()
    assert client.get(page).status_code == 302
    assert Payee.objects.get(pk=payee.pk).supplier is None


def test_an_officer_confirms_rejects_unmatches_and_invites_on_the_page(
    client, quillbrook, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    payee = quillbrook["payee"]
    page = reverse("ledger:payee", args=[payee.pk])
    client.force_login(officer)
    shown = client.get(page).text
    assert (
        "Confirm" in shown and "Not this supplier" in shown and "Invite them to register" in shown
    )
    assert ">100<" in shown  # the score
    response = client.post(
        reverse("ledger:payee_reject", args=[payee.pk]), {"supplier": quillbrook["plain"].pk}
    )
    assert response.status_code == 302 and response["Location"] == page
    # An empty address is explained on the page; nothing is sent.
    mail.outbox.clear()
    bad = client.post(reverse("ledger:payee_invite", args=[payee.pk]), {"email": ""})
    assert bad.status_code == 200 and "Enter an email address" in bad.text
    assert "govuk-error-summary" in bad.text and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            reverse("ledger:payee_invite", args=[payee.pk]), {"email": "hello@quillbrook.example"}
        )
    assert sent.status_code == 302 and len(mail.outbox) == 1
    # Confirming a supplier rejected already is refused and explained.
    again = client.post(
        reverse("ledger:payee_confirm", args=[payee.pk]), {"supplier": quillbrook["plain"].pk}
    )
    assert again.status_code == 200 and "is not" in again.text
    done = client.post(
        reverse("ledger:payee_confirm", args=[payee.pk]), {"supplier": quillbrook["approved"].pk}
    )
    assert done.status_code == 302
    assert Payee.objects.get(pk=payee.pk).supplier == quillbrook["approved"]
    # Unmatching asks why.
    unmatch = reverse("ledger:payee_unmatch", args=[payee.pk])
    assert "Why is the match wrong?" in client.post(unmatch, {"reason": ""}).text
    assert client.post(unmatch, {"reason": "Wrong firm."}).status_code == 302
    assert Payee.objects.get(pk=payee.pk).supplier is None
    listed = client.get(reverse("ledger:payees")).text
    assert "QUILLBROOK DRAINAGE SERVICES LTD" in listed and "£1,250.00" in listed


def test_the_unmatch_warning_says_how_the_payments_will_be_placed(client, quillbrook, officer):
    """Once unmatched, a payee's payments are placed by the postcode in the
    file (ADR 15): the page says local or not local by that postcode, and
    unknown only where the files give none."""
    buyer = officer.buyer
    spend = make_import(buyer, officer)
    places = {
        "local": pay(buyer, spend, "Quillbrook Wibsey", "10", DAY, postcode="BD6 1JY"),
        "not local": pay(buyer, spend, "Quillbrook Leeds", "20", DAY, postcode="LS1 4AP"),
        "unknown": pay(buyer, spend, "Quillbrook Nowhere", "30", DAY),
    }
    client.force_login(officer)
    said = {}
    for place, payment in places.items():
        payee_confirm(payee=payment.payee, supplier=quillbrook["approved"], by=officer)
        page = client.get(reverse("ledger:payee", args=[payment.payee_id])).text
        said[place] = page.split('id="unmatch-effect">')[1].split("</p>")[0]
    assert "BD6 1JY is in Demo" in said["local"] and "<strong>local</strong>" in said["local"]
    assert "LS1 4AP is outside" in said["not local"]
    assert "<strong>not local</strong>" in said["not local"]
    assert "<strong>unknown</strong>" in said["unknown"]
    assert all("unknown" not in said[p] for p in ("local", "not local"))
    assert all("will not be proposed for it again" in text for text in said.values())


# --- Fixed query counts ------------------------------------------------------------------


def _fill(buyer, officer, payees: int, suppliers: int, start: int = 0) -> Payee:
    SupplierOrganisation.objects.bulk_create(
        SupplierOrganisation(legal_name=f"Gorsefield Trades {i:04d} Ltd")
        for i in range(start, start + suppliers)
    )
    spend = make_import(buyer, officer)
    first = None
    for i in range(start, start + payees):
        payment = pay(buyer, spend, f"Gorsefield Trades {i:04d}", f"{600 + i}.00", DAY)
        first = first or payment.payee
    assert first is not None
    payee_confirm(
        payee=Payee.objects.filter(buyer=buyer).order_by("pk").last(),
        supplier=SupplierOrganisation.objects.order_by("pk").last(),
        by=officer,
    )
    return first


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["officer", "auditor"])
def test_the_pages_take_the_same_queries_for_few_and_many(client, demo_data, request, persona):
    officer = request.getfixturevalue("officer")
    buyer = officer.buyer
    client.force_login(request.getfixturevalue(persona))
    few = _fill(buyer, officer, 5, 5)
    counts_few = [
        _queries(client, reverse("ledger:payees")),
        _queries(client, f"{reverse('ledger:payees')}?show=matched&q=gorsefield"),
        _queries(client, reverse("ledger:payee", args=[few.pk])),
    ]
    _fill(buyer, officer, 195, 495, start=5)
    counts_many = [
        _queries(client, reverse("ledger:payees")),
        _queries(client, f"{reverse('ledger:payees')}?show=matched&q=gorsefield"),
        _queries(client, reverse("ledger:payee", args=[few.pk])),
    ]
    assert counts_few == counts_many
    assert counts_many == [6, 6, 8], counts_many


@pytest.mark.parametrize(
    "name",
    [
        "Redacted – Personal Data",
        "Personal Data Redacted",
        "REDACTED PERSONAL DATA",
        "Withheld (personal information)",
        "*****",
        "Name withheld",
        "Private Individual",
        "Private individual",
        "Individual",
        "Redacted due to personal data",
        "Personal Data - Redacted under GDPR",
        "Personal data redacted",
        "Withheld under the Data Protection Act 2018",
    ],
)
def test_every_way_a_council_writes_a_redaction_is_a_redaction(name):
    from ledger.names import is_redacted

    assert is_redacted(name)


@pytest.mark.parametrize(
    "name",
    [
        "Personal Care Services Ltd",
        "Data Cleaning Ltd",
        "Redwood Ltd",
        "Withheld Tax Advisers Ltd",
        "Individual Solutions Ltd",
        "Private Healthcare Ltd",
        "Data Protection Services",
        "Name Badges Direct",
        "Individual Care",
    ],
)
def test_a_name_with_one_of_those_words_is_still_a_name(name):
    from ledger.names import is_redacted

    assert not is_redacted(name)


def test_a_number_claimed_by_a_supplier_the_council_never_verified_matches_nothing(
    demo_data, officer
):
    """Anyone may type a company number at registration: it is not proof of who is paid."""
    buyer = officer.buyer
    rogue = supplier("Rogue Claims Ltd", number="07654321")
    payment = pay(
        buyer,
        make_import(buyer, officer),
        "Northern Facilities Group PLC",
        "100000.00",
        DAY,
        companies_house_number="07654321",
    )
    assert match_payees(buyer) == 0
    assert Payee.objects.get(pk=payment.payee_id).supplier is None
    approve(rogue, buyer)  # once the council verifies it, the number counts
    assert match_payees(buyer) == 1


def test_a_payee_is_invited_once_a_month_at_most(
    demo_data, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    buyer = officer.buyer
    payment = pay(buyer, make_import(buyer, officer), "Wrenfield Joinery", "700.00", DAY)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        payee_invite(payee=payment.payee, email="office@wrenfield.example", by=officer)
        with pytest.raises(PayeeRefused, match="can be invited again from"):
            payee_invite(payee=payment.payee, email="other@wrenfield.example", by=officer)
    assert len(mail.outbox) == 1
