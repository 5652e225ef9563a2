"""Sealed bids (RULES.md §4, issue 6): before the deadline has passed and two
officers have opened the box, no one — officer, auditor, administrator,
superuser, Django admin — sees any bid's price or files, or even how many
bids there are. Afterwards the buyer's officers and auditors do.

Each test submits real bids through the services with a price and file bytes
found nowhere else, then reads every page a council person could reach.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib import admin
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, InboxMessage, Notification, User
from tenders.models import Bid, BidFile, BidRevision, BoxOpening, Score
from tenders.services import box_open
from tests.test_officer_bids import (
    bidder,
    every_bid_url,
    open_box,
    pass_deadline,
    publish_with_bidders,
    signed_in,
    submit,
)

PRICE = "3917.43"
OTHER_PRICE = "2804.19"
FILE_NAME = "sealed-proposal-qx7.pdf"
FILE_BYTES = b"%PDF-1.4 SEALED-CONTENT-8F3A2 method statement"
SHA256 = hashlib.sha256(FILE_BYTES).hexdigest()
PERSONAS = ["officer", "second_officer", "auditor", "admin_user", "other_officer"]


def secrets(opportunity) -> list[str]:
    """What must never be shown while the box is sealed."""
    receipts = list(BidRevision.objects.values_list("receipt_reference", flat=True))
    return [
        PRICE,
        "3,917.43",
        OTHER_PRICE,
        "2,804.19",
        FILE_NAME,
        FILE_BYTES.decode(),
        "SEALED-CONTENT",
        SHA256[:12],
        *receipts,
        # What would say that there are bids, or how many.
        "bid.submitted",
        "bid.started",
        "bid.receipt",
        "Receipt for your bid",
    ]


# "2 bids", "three bidders"… (not "Bidder 1 bids", a supplier user's name, nor
# an e-mail address such as bids@bidder-1.example after a number).
COUNT = re.compile(r"(?<!Bidder )\b(\d+|one|two|three) (bid|bidder|tender)s?\b(?!@)", re.IGNORECASE)


@pytest.fixture
def clock(demo_data, settings, tmp_path):
    """Frozen now; bid files stored in a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def sealed(clock, officer, in_process_tasks, django_capture_on_commit_callbacks):
    """Two bids in the box (one on each lot, one in two versions), deadline not passed."""
    opportunity = publish_with_bidders(officer, 3)
    mail.outbox.clear()
    # Audit events and notifications written from here on are the bids' own.
    opportunity.since = (
        AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first(),
        Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    )
    with django_capture_on_commit_callbacks(execute=True):
        submit(opportunity, 1, "3500.00", files=[(FILE_NAME, FILE_BYTES)])
        submit(opportunity, 1, PRICE, files=[])
        submit(opportunity, 2, OTHER_PRICE, lot_number=2, files=[("b.pdf", b"%PDF-1.4 b")])
    assert Bid.objects.filter(status="submitted").count() == 2
    return opportunity


def council_urls(opportunity, person: User) -> list[tuple[str, str]]:
    """Every page of the portal that could show bids, with real pks."""
    bid = Bid.objects.get(supplier__legal_name="Bidder 1")
    urls = [
        ("get", "/"),
        ("get", reverse("tenders:opportunity_list")),
        ("get", reverse("tenders:opportunity_detail", args=[opportunity.pk])),
        ("get", reverse("inbox")),
    ]
    urls += [
        ("get", reverse("inbox_message", args=[pk]))
        for pk in InboxMessage.objects.filter(recipient=person).values_list("pk", flat=True)
    ]
    urls += every_bid_url(opportunity, bid)
    # The supplier's own bid pages (tenders.views.supplier.bids) are its alone.
    bid_file = bid.files.filter(revision__isnull=False).first()
    urls += [
        ("get", reverse("tenders:supplier_bid", args=[opportunity.pk, bid.lot_id])),
        ("get", reverse("tenders:supplier_bid_receipt", args=[opportunity.pk, bid.pk, 1])),
        ("get", reverse("tenders:supplier_bid_receipt_text", args=[opportunity.pk, bid.pk, 1])),
        (
            "get",
            reverse("tenders:supplier_bid_file", args=[opportunity.pk, bid.lot_id, bid_file.pk]),
        ),
    ]
    return [(m, u) for m, u in urls if not u.endswith("/bids/open/")]


def admin_urls(opportunity) -> list[str]:
    """Django admin's index, every changelist, and the change page of the
    opportunity and of every audit event and notification written since the
    bids began."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    urls.append(reverse("admin:tenders_opportunity_change", args=[opportunity.pk]))
    events, notifications = opportunity.since
    # Named as Django admin names them: by row key, not id (portal.admin.UncountedAdmin).
    for model, since in ((AuditEvent, events), (Notification, notifications)):
        change = f"admin:{model._meta.app_label}_{model._meta.model_name}_change"
        row_key = admin.site._registry[model].row_key
        urls += [reverse(change, args=[row_key(row)]) for row in model.objects.filter(pk__gt=since)]
    return urls


def leaks(response, opportunity, where: str) -> list[tuple[str, str]]:
    """What ``response`` gives away of the sealed bids: (where, what)."""
    if response.status_code in {302, 403, 404}:
        return []
    assert response.status_code == 200, (where, response.status_code)
    if hasattr(response, "streaming_content"):
        return [(where, "the file")]
    page = response.content.decode()
    found = [(where, secret) for secret in secrets(opportunity) if secret in page]
    if count := COUNT.search(re.sub(r"<[^>]+>", " ", page)):
        found.append((where, count.group(0)))
    return found


def read_everything(person: User, opportunity) -> list[tuple[str, str]]:
    client = signed_in(person)
    found = []
    for method, url in council_urls(opportunity, person):
        found += leaks(getattr(client, method)(url), opportunity, f"{method} {url}")
    for url in admin_urls(opportunity):
        found += leaks(client.get(url), opportunity, url)
    return found


def test_the_bid_models_are_not_in_django_admin():
    for model in (Bid, BidRevision, BidFile, Score, BoxOpening):
        assert not admin.site.is_registered(model), model


@pytest.mark.parametrize("persona", PERSONAS)
def test_before_the_deadline_nobody_sees_a_price_a_file_or_how_many_bids(sealed, request, persona):
    person = request.getfixturevalue(persona)
    assert read_everything(person, sealed) == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_after_the_deadline_before_the_opening_nobody_sees_them_either(
    sealed,
    clock,
    officer,
    request,
    persona,
):
    pass_deadline(clock, sealed)
    box_open(opportunity=sealed, by=officer)  # one officer alone opens nothing
    person = request.getfixturevalue(persona)
    assert read_everything(person, sealed) == []


def test_the_auditors_home_gives_nothing_away(sealed, auditor):
    assert [f for f in read_everything(auditor, sealed) if f[0] == "get /"] == []


def test_django_admin_gives_nothing_away_to_a_superuser(sealed, admin_user):
    assert admin_user.is_superuser
    found = read_everything(admin_user, sealed)
    assert [f for f in found if f[0].startswith("/admin/")] == []


def test_the_opportunity_page_says_only_the_state_of_the_box(sealed, clock, officer):
    client = signed_in(officer)
    response = client.get(reverse("tenders:opportunity_detail", args=[sealed.pk]))
    assert response.context["bids"]["state"] == "sealed"
    assert set(response.context["bids"]) == {"state", "opening", "can_open", "opens_at", "lots"}
    assert response.context["bids"]["lots"] == []
    pass_deadline(clock, sealed)
    client = signed_in(officer)
    response = client.get(reverse("tenders:opportunity_detail", args=[sealed.pk]))
    assert response.context["bids"]["state"] == "waiting"
    assert response.context["bids"]["lots"] == []


def test_every_bid_url_is_404_until_the_box_is_opened(sealed, clock, officer, auditor):
    pass_deadline(clock, sealed)
    box_open(opportunity=sealed, by=officer)
    for person in (officer, auditor):
        client = signed_in(person)
        for method, url in every_bid_url(sealed, Bid.objects.get(supplier__legal_name="Bidder 1")):
            if url.endswith("/bids/open/"):
                continue
            assert getattr(client, method)(url).status_code == 404, (person, method, url)
    assert not Score.objects.exists()


def test_no_message_to_the_council_carries_a_price_or_a_file(sealed):
    council = User.objects.filter(buyer__isnull=False)
    for message in InboxMessage.objects.filter(recipient__in=council):
        text = f"{message.subject} {message.body}"
        for secret in (PRICE, "3,917.43", FILE_NAME, SHA256[:12]):
            assert secret not in text
    emails = {user.email for user in council}
    for email in mail.outbox:
        if set(email.to) & emails:
            body = email.body + "".join(str(a[0]) for a in getattr(email, "alternatives", []))
            for secret in (PRICE, "3,917.43", FILE_NAME, SHA256[:12]):
                assert secret not in body
    # The suppliers did get their receipts (so the check above had something to miss).
    assert InboxMessage.objects.filter(recipient=bidder(1)).exists()


def test_once_opened_the_officer_and_the_auditor_see_the_price_and_the_file(
    sealed,
    clock,
    officer,
    second_officer,
    auditor,
):
    open_box(clock, sealed, officer, second_officer)
    bid = Bid.objects.get(supplier__legal_name="Bidder 1")
    latest = bid.revisions.order_by("-number").first()
    bid_file = BidFile.objects.get(bid=bid, original_name=FILE_NAME, revision=latest)
    earlier = BidFile.objects.get(bid=bid, original_name=FILE_NAME, revision__number=1)
    for person in (officer, auditor):
        client = signed_in(person)
        lot_pk = bid.lot_id
        evaluation = client.get(reverse("tenders:lot_evaluation", args=[sealed.pk, lot_pk]))
        assert "£3,917.43" in evaluation.content.decode()
        page = client.get(reverse("tenders:bid_detail", args=[sealed.pk, bid.pk])).content.decode()
        assert "£3,917.43" in page and FILE_NAME in page
        # Only the latest version is opened, as the supplier was told.
        assert "£3,500.00" not in page and "Not opened: replaced by version 2" in page
        download = client.get(reverse("tenders:bid_file", args=[sealed.pk, bid.pk, bid_file.pk]))
        assert b"".join(download.streaming_content) == FILE_BYTES
        url = reverse("tenders:bid_file", args=[sealed.pk, bid.pk, earlier.pk])
        assert client.get(url).status_code == 404


# --- The receipt reference (issue 14) ----------------------------------------------------------


def the_old_receipt_digest(bid_pk: int, number: int, price: str, file_hashes: list[str]) -> str:
    """What the receipt reference used to end with: an unkeyed hash of the price."""
    text = f"{bid_pk}:{number}:{price}:{file_hashes}"
    return hashlib.sha256(text.encode()).hexdigest()[:10].upper()


def test_a_receipt_reference_is_random_so_no_price_can_be_tried_against_it(sealed):
    """Whoever holds the database or a backup has each receipt and its sealed
    audit row (bid, version, file hashes); a reference derived from the price
    would let them try prices until one matched. It is random instead."""
    revisions = list(BidRevision.objects.order_by("pk"))
    assert len(revisions) == 3
    for revision in revisions:
        reference = revision.receipt_reference
        event = AuditEvent.objects.get(action="bid.submitted", context__receipt=reference)
        bid, number = event.context["bid"], event.context["version"]
        hashes = list(event.context["files"].values())
        price = Decimal(revision.price)
        # Every price within £100 of the real one, in pence: none gives the reference.
        tried = {
            the_old_receipt_digest(bid, number, f"{price + Decimal(p) / 100:.2f}", hashes)
            for p in range(-10_000, 10_001)
        }
        assert revision.price in {Decimal(PRICE), Decimal(OTHER_PRICE), Decimal("3500.00")}
        assert not [digest for digest in tried if digest in reference]
        # Nor does it say which opportunity, bid or version it is: 80 random bits.
        assert re.fullmatch(r"LT(-[A-Z2-7]{4}){4}", reference), reference


def test_two_submissions_of_the_same_price_and_files_have_different_references(sealed):
    """The same bid submitted again unchanged: a new version with a new reference."""
    bid = Bid.objects.get(supplier__legal_name="Bidder 1")
    submit(sealed, 1, PRICE, files=[])
    last_two = list(bid.revisions.order_by("-number")[:2])
    assert [r.price for r in last_two] == [Decimal(PRICE)] * 2
    assert last_two[0].receipt_reference != last_two[1].receipt_reference
