"""Outcome letters that help the loser win next time, and emails people can
read (issue 16, items 3 and 9).

Each bidder's letter gives its own marks per criterion with the evaluators'
comments, its total and rank, the winner's name, total and price, the
reasons and whom to ask; the same in the inbox, the email (text and HTML) and
a printable page that only the bidder's own organisation reaches. No letter
names another unsuccessful bidder or gives its scores or price.

Every registered event renders a subject and text body without HTML escaping,
an HTML body escaped once, a subject saying what happened to which
opportunity with no prefix twice, and a contact.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal as D
from html import unescape

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal import events
from portal.models import BuyerOrganisation, Channel, InboxMessage, Notification, User
from portal.notifications import notify, render
from tenders.models import Bid, Opportunity
from tenders.services import (
    DECLARATIONS,
    BidRefused,
    award_lot,
    bid_add_file,
    bid_exclude,
    bid_save_draft,
    bid_start,
    bid_submit,
    box_open,
    invite,
    opportunity_extend_deadline,
    opportunity_publish,
    score_set,
)
from tests.tenders_helpers import approved_supplier, contract_period, make_opportunity
from tests.two_factor_helpers import verified_force_login

# Every character HTML escapes, in the title people see everywhere.
TITLE = "Roads & Paths <north> \"verges\" 'Lister Park'"
ALL_DECLARED = dict.fromkeys(DECLARATIONS, True)
COMMENTS = {
    1: "Clear method & a named supervisor <site lead>.",
    2: "SECRET-COMMENT-2b7f: thin on staffing.",
    3: 'Good plan; the "winter" rota was vague.',
    4: "SECRET-COMMENT-4c1e: never seen.",
}
MARKS = {1: "100", 2: "30", 3: "50", 4: "90"}
PRICES = {1: "4000.00", 2: "2000.00", 3: "3000.00", 4: "2222.22"}


@pytest.fixture
def clock(demo_data, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def bidder(n: int) -> User:
    return User.objects.get(email=f"bids@bidder-{n}.example")


def signed_in(user: User) -> Client:
    client = verified_force_login(Client())
    client.force_login(user)
    return client


def text_of(response) -> str:
    page = response.content.decode()
    main = page[page.index("<main") : page.index("</main>")]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


@pytest.fixture
def awarded(clock, officer, second_officer, in_process_tasks, django_capture_on_commit_callbacks):
    """Five invited bidders on one lot: 1 wins (dearer, best quality), 2 and 3
    lose, 4 is excluded, 5 never bids. Officers mark with comments and award."""
    suppliers = [approved_supplier(f"Bidder {n}", f"BD{n} 1AA") for n in range(1, 6)]
    opportunity = make_opportunity(officer, "4000.00", title=TITLE)
    invite(opportunity=opportunity, suppliers=suppliers, by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    lot = opportunity.lots.get()
    for n in range(1, 5):
        person = bidder(n)
        bid = bid_start(lot=lot, by=person)
        bid_save_draft(bid=bid, by=person, price=D(PRICES[n]), declarations=ALL_DECLARED)
        bid_add_file(bid=bid, by=person, upload=SimpleUploadedFile("m.pdf", b"%PDF-1.4 m"))
        bid_submit(bid=bid, by=person)
    opportunity.refresh_from_db()
    clock.move_to(opportunity.submission_deadline + datetime.timedelta(minutes=1))
    box_open(opportunity=opportunity, by=officer)
    clock.shift(datetime.timedelta(minutes=2))
    box_open(opportunity=opportunity, by=second_officer)
    quality = opportunity.criteria.get(is_price=False)
    for n in range(1, 5):
        bid = Bid.objects.get(lot=lot, supplier__legal_name=f"Bidder {n}")
        score_set(bid=bid, criterion=quality, mark=D(MARKS[n]), comment=COMMENTS[n], by=officer)
    bid_exclude(
        bid=Bid.objects.get(lot=lot, supplier__legal_name="Bidder 4"),
        reason="The insurance certificate had expired.",
        by=officer,
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        award_lot(
            lot=lot,
            by=officer,
            reasons="Best quality & value for money.",
            **contract_period(opportunity),
        )
    return Opportunity.objects.get(pk=opportunity.pk)


def email_to(n: int):
    (message,) = [m for m in mail.outbox if m.to == [f"bids@bidder-{n}.example"]]
    return message


# Other bidders' details: bidder 2's and 4's names, prices, scores and comments.
def others_of(n: int) -> list[str]:
    secrets = []
    for other in (2, 3, 4):
        if other == n:
            continue
        secrets += [
            f"Bidder {other}",
            f"bidder-{other}",
            PRICES[other],
            f"£{D(PRICES[other]):,.2f}",
            COMMENTS[other].split(":")[0],
        ]
    return secrets


def test_a_losing_bidder_reads_its_marks_comments_rank_and_the_winners_score_and_price(
    awarded, officer
):
    message = email_to(3)
    assert message.subject == f"Your bid was not successful: {TITLE} ({awarded.reference})"
    text = message.body
    # Its own marks, weights, weighted scores and the evaluators' comments.
    assert "Quality (weight 60%): mark 50%, weighted score 30.00" in text
    assert f"Evaluators' comments: {COMMENTS[3]}" in text
    assert "Price (weight 40%): scored by formula, weighted score 26.67" in text
    assert "Your total: 56.67 out of 100. Your bid ranked 3 of 3." in text
    assert "Your price: £3,000.00" in text
    # The winner's name, total and price; the reasons; whom to ask.
    assert "Supplier: Bidder 1\nTotal score: 80.00 out of 100\nPrice: £4,000.00" in text
    assert "Best quality & value for money." in text
    assert f"ask {officer.full_name}, {officer.buyer.name}: {officer.email}" in text
    # ...or the council's procurement team, as on the printable page.
    team = officer.buyer.contact_email or settings.SUPPORT_EMAIL
    assert f"(or the procurement team: {team})" in text
    assert f"/opportunities/{awarded.pk}/outcome/" in text
    # Nothing escaped in text; the HTML escapes once.
    assert "&amp;" not in text and "&lt;" not in text and "&#x27;" not in text
    html = message.alternatives[0][0]
    assert "Good plan; the &quot;winter&quot; rota was vague." in html
    assert "Best quality &amp; value for money." in html
    assert "&amp;amp;" not in html and "&amp;lt;" not in html
    assert "Bidder 1" in html and "£4,000.00" in html and "56.67" in html
    # Nobody else's name, price, score or comment.
    for secret in [*others_of(3), "58.00"]:
        assert secret not in text, secret
        assert secret not in html, secret
    # The inbox copy is the same letter.
    inbox = InboxMessage.objects.get(recipient=bidder(3))
    assert inbox.subject == message.subject
    assert f"Evaluators' comments: {COMMENTS[3]}" in inbox.body
    assert "Price: £4,000.00" in inbox.body
    assert inbox.url == f"/opportunities/{awarded.pk}/outcome/"


def test_the_winner_reads_its_own_marks_and_comments_without_a_winners_section(awarded):
    message = email_to(1)
    assert message.subject == f"Your bid was successful: {TITLE} ({awarded.reference})"
    assert "was successful" in message.body
    assert f"Evaluators' comments: {COMMENTS[1]}" in message.body
    assert "Your total: 80.00 out of 100. Your bid ranked 1 of 3." in message.body
    assert "THE SUCCESSFUL BID" not in message.body
    assert "The council will contact you about the contract." in message.body
    for secret in others_of(1):
        assert secret not in message.body, secret


def test_an_excluded_bidder_reads_why_and_the_winners_score_and_price(awarded):
    message = email_to(4)
    assert "Your bid was excluded from the evaluation: The insurance certificate had expired." in (
        message.body
    )
    assert "Supplier: Bidder 1\nTotal score: 80.00 out of 100\nPrice: £4,000.00" in message.body
    assert COMMENTS[4] not in message.body  # never scored in a letter
    for secret in others_of(4):
        assert secret not in message.body, secret
    # A bidder who never bid gets nothing.
    assert not [m for m in mail.outbox if m.to == ["bids@bidder-5.example"]]


def test_the_printable_letter_shows_the_same_to_its_bidder_only(
    awarded, officer, other_officer, auditor, local_supplier_user
):
    url = reverse("tenders:supplier_outcome", args=[awarded.pk])
    response = signed_in(bidder(3)).get(url)
    assert response.status_code == 200
    page = text_of(response)
    assert f"{awarded.reference} {TITLE}" in page
    assert "Quality 60% 50% 30.00 " + COMMENTS[3] in page
    assert "Your total 56.67 out of 100" in page and "Your rank 3 of 3" in page
    assert "Supplier Bidder 1 Total score 80.00 out of 100 Price £4,000.00" in page
    assert f"ask {officer.full_name}, {officer.buyer.name}: {officer.email}" in page
    assert "Print this letter" in page
    html = response.content.decode()
    assert "data-print-button" in html and "&amp;amp;" not in html
    for secret in [*others_of(3), "58.00"]:
        assert secret not in page, secret
    # Another bidder reads its own letter, never bidder 3's.
    other = text_of(signed_in(bidder(2)).get(url))
    assert COMMENTS[2] in other and COMMENTS[3] not in other and "£3,000.00" not in other
    # The supplier's page of the opportunity links to it.
    detail = signed_in(bidder(3)).get(reverse("tenders:opportunity_detail", args=[awarded.pk]))
    assert f'href="{url}"' in detail.content.decode()
    # Everyone else: 404 (an invited supplier that did not bid, the council's
    # people, another council's officer, a supplier not invited).
    for person in (bidder(5), officer, auditor, other_officer, local_supplier_user):
        assert signed_in(person).get(url).status_code == 404, person.email


def test_the_council_reads_a_copy_of_every_letter_sent_and_nobody_else_does(
    awarded, officer, other_officer, auditor, local_supplier_user
):
    """The award page said "Outcome letters: sent to every bidder" and the
    officer, who must answer feedback requests, could read none of them (the
    printable page is the bidder's own). The council's officers and auditors
    read each letter as its bidder does; each bidder's letter on it is the
    one the bidder reads."""
    lot = awarded.lots.get()
    url = reverse("tenders:lot_letters", args=[awarded.pk, lot.pk])
    award_page = signed_in(officer).get(reverse("tenders:lot_award", args=[awarded.pk, lot.pk]))
    assert f'href="{url}"' in award_page.content.decode()
    for person in (officer, auditor):
        response = signed_in(person).get(url)
        assert response.status_code == 200, person.email
        page = text_of(response)
        assert "To Bidder 1: successful" in page
        assert "To Bidder 2: not successful" in page and "To Bidder 3: not successful" in page
        assert "To Bidder 4: excluded" in page
        assert "The insurance certificate had expired." in page
    # Bidder 3's letter on it is the letter bidder 3 reads, word for word.
    own = text_of(signed_in(bidder(3)).get(reverse("tenders:supplier_outcome", args=[awarded.pk])))
    mine = own[own.index("Bidder: Bidder 3.") : own.index("For feedback on your bid")]
    assert mine in page and "Your total 56.67 out of 100" in mine
    # Another council's officer, a supplier, a bidder: 404.
    for person in (other_officer, local_supplier_user, bidder(1)):
        assert signed_in(person).get(url).status_code == 404, person.email


def test_the_council_has_no_letters_to_read_before_the_award(clock, officer, second_officer):
    supplier = approved_supplier("Bidder 1", "BD1 1AA")
    opportunity = make_opportunity(officer, "4000.00")
    invite(opportunity=opportunity, suppliers=[supplier], by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    lot = opportunity.lots.get()
    bid = bid_start(lot=lot, by=bidder(1))
    bid_save_draft(bid=bid, by=bidder(1), price=D("3000"), declarations=ALL_DECLARED)
    bid_add_file(bid=bid, by=bidder(1), upload=SimpleUploadedFile("m.pdf", b"%PDF-1.4 m"))
    bid_submit(bid=bid, by=bidder(1))
    url = reverse("tenders:lot_letters", args=[opportunity.pk, lot.pk])
    opportunity.refresh_from_db()
    clock.move_to(opportunity.submission_deadline + datetime.timedelta(minutes=1))
    box_open(opportunity=opportunity, by=officer)
    clock.shift(datetime.timedelta(minutes=2))
    box_open(opportunity=opportunity, by=second_officer)
    # Opened and being evaluated: no letter has been sent.
    assert signed_in(officer).get(url).status_code == 404


def test_marks_are_final_once_the_lot_is_awarded(
    clock, officer, second_officer, in_process_tasks, django_capture_on_commit_callbacks
):
    """The letters quote the marks: a lot's are final once it is awarded,
    while another lot is still marked."""
    supplier = approved_supplier("Bidder 1", "BD1 1AA")
    opportunity = make_opportunity(officer, "4000.00", "4000.00")
    invite(opportunity=opportunity, suppliers=[supplier], by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    person = bidder(1)
    bids = {}
    for lot in opportunity.lots.all():
        bid = bid_start(lot=lot, by=person)
        bid_save_draft(bid=bid, by=person, price=D("3000"), declarations=ALL_DECLARED)
        bid_add_file(bid=bid, by=person, upload=SimpleUploadedFile("m.pdf", b"%PDF-1.4 m"))
        bid_submit(bid=bid, by=person)
        bids[lot.number] = bid
    opportunity.refresh_from_db()
    clock.move_to(opportunity.submission_deadline + datetime.timedelta(minutes=1))
    box_open(opportunity=opportunity, by=officer)
    clock.shift(datetime.timedelta(minutes=2))
    box_open(opportunity=opportunity, by=second_officer)
    quality = opportunity.criteria.get(is_price=False)
    for bid in bids.values():
        score_set(bid=bid, criterion=quality, mark=D("70"), comment="Fine.", by=officer)
    with django_capture_on_commit_callbacks(execute=True):
        award_lot(
            lot=bids[1].lot,
            by=officer,
            reasons="Only bid.",
            **contract_period(opportunity),
        )
    with pytest.raises(BidRefused, match="marks are final"):
        score_set(bid=bids[1], criterion=quality, mark=D("99"), comment="Later.", by=officer)
    with pytest.raises(BidRefused, match="marks are final"):
        bid_exclude(bid=bids[1], reason="Later.", by=officer)
    score_set(bid=bids[2], criterion=quality, mark=D("80"), comment="Still open.", by=officer)
    # With two lots, each letter's subject names its lot; the page shows the
    # awarded lot's letter and says the other is not decided yet.
    (message,) = [m for m in mail.outbox if m.subject.startswith("Your bid was successful")]
    assert message.subject.endswith(f"({opportunity.reference}), Lot 1: Lot 1")
    page = text_of(
        signed_in(person).get(reverse("tenders:supplier_outcome", args=[opportunity.pk]))
    )
    assert "Lot 1: Lot 1: your bid was successful" in page
    assert "Lot 2: Lot 2: the council has not decided the outcome yet." in page


# --- Every event's email --------------------------------------------------------------------

REFERENCE = "LT-2026-0012"
SAMPLE = {
    "reference": REFERENCE,
    "title": TITLE,
    "buyer": "Bradford & District <Council>",
    "lot": "Lot 1: Verges & paths",
    "deadline": "12 June 2026 at 12:00",
    "url": "/opportunities/1/",
    "summary": "From 5 June to 12 June. Site visit & survey moved.",
    "kind": "Deadline extended",
    "reason": 'Budget <withdrawn> & "re-scoped"',
    "question": "May we visit the 'site' & the depot?",
    "answer": "Yes <on Monday>.",
    "first": "Olive O'Brien",
    "second": "Sam & Co",
    "supplier_name": "Aire & Wharfe <Ltd>",
    "council": "Bradford & District",
    "status_label": "Approved",
    "message": "Please read & reply.",
    "inviter": "Ann O'Neil",
    "what": "Name",
    "problem": "Hash <mismatch>",
    "receipt": "LT-RCPT-1",
    "submitted_at": "5 June 2026 at 10:00",
    "files": [{"name": "method & plan.pdf", "sha256": "ab" * 32}],
    "items": [{"subject": f"Question answered: {TITLE} ({REFERENCE})", "url": "/inbox/1/"}],
    "count": 1,
    "hours": 24,
    "day_label": "Friday 5 June",
    "outcome": "lost",
    "criteria": [
        {
            "name": "Quality & method",
            "weight": 60,
            "is_price": False,
            "mark": "50%",
            "points": "30.00",
            "comment": 'Good <plan> & "rota"',
        }
    ],
    "winner": {"name": "Winner & Sons", "total": "80.00", "price": "£4,000.00", "scores": []},
    "reasons": "Best & cheapest",
    "contact": {
        "name": "Olive O'Brien",
        "email": "olive@bradford.example",
        "council": "Bradford & District",
        "team": "procurement@bradford.example",
    },
}
ESCAPES = ("&amp;", "&lt;", "&gt;", "&quot;", "&#x27;", "&#39;")


def subject_template(name: str) -> str:
    return get_template(events.get(name).template("subject.txt")).template.source


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.INBOX])
def test_every_event_reads_plainly_escapes_once_and_names_a_contact(demo_data, officer, channel):
    names = set(events.EVENTS)
    # The tenders and suppliers apps registered theirs (at start-up).
    assert {"bid.won", "bid.unsuccessful", "opportunity.amended", "bid.receipt"} <= names
    for name in sorted(names):
        row = Notification(event=name, recipient=officer, channel=channel, context=SAMPLE)
        rendered = render(row)
        subject, text, html = rendered.subject, rendered.text, rendered.html
        # (a) Subjects and text bodies are plain text; the HTML escapes once.
        for escaped in ESCAPES:
            assert escaped not in subject, (name, subject)
            assert escaped not in text, (name, escaped)
        assert "&amp;amp;" not in html and "&amp;lt;" not in html and "&amp;#x27;" not in html
        if "reference" in subject_template(name):
            # (c) what happened, to which opportunity: "…: Title (REF)".
            assert f"{TITLE} ({REFERENCE})" in subject, (name, subject)
            assert re.match(r"^[A-Z][^:]*: ", subject) or " invites you " in subject, subject
        # (b) no prefix twice.
        head = subject.split(":")[0]
        assert subject.count(f"{head}:") <= 1, (name, subject)
        assert not re.search(r"(\b[\w ]{6,}): \1", text), (name, text)
        # (d) whom to ask, in the text (the inbox's copy) and in the HTML.
        assert "Questions about this message? Contact Olive O'Brien, Bradford & District: " in (
            text
        ), name
        assert "olive@bradford.example" in html and "Bradford &amp; District" in html, name


def test_a_message_without_a_named_contact_gives_the_council_or_the_portal(
    demo_data, officer, local_supplier_user, settings
):
    settings.SUPPORT_EMAIL = "help@portal.example"
    context = {"title": "Hello", "message": "Hi."}
    supplier_row = Notification(
        event="portal.message", recipient=local_supplier_user, channel="email", context=context
    )
    assert "Contact The Local Tenders team: help@portal.example" in render(supplier_row).text
    # A council without a contact address of its own gives the portal's.
    BuyerOrganisation.objects.filter(pk=officer.buyer_id).update(contact_email="")
    officer_row = Notification(
        event="portal.message",
        recipient=User.objects.select_related("buyer").get(pk=officer.pk),
        channel="email",
        context=context,
    )
    council = officer.buyer.name
    assert f"Contact Procurement team, {council}: help@portal.example" in render(officer_row).text
    BuyerOrganisation.objects.filter(pk=officer.buyer_id).update(
        contact_email="buying@council.example"
    )
    officer_row.recipient = User.objects.select_related("buyer").get(pk=officer.pk)
    assert f"Contact Procurement team, {council}: buying@council.example" in (
        render(officer_row).text
    )


def test_the_inbox_shows_a_title_with_ampersands_escaped_once(
    demo_data, local_supplier_user, in_process_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            "portal.message", [local_supplier_user], {"title": TITLE, "message": "Roads & Paths"}
        )
    message = InboxMessage.objects.get(recipient=local_supplier_user)
    assert message.subject == TITLE and "Roads & Paths" in message.body
    client = signed_in(local_supplier_user)
    listing = client.get(reverse("inbox")).content.decode()
    assert "Roads &amp; Paths &lt;north&gt;" in listing and "&amp;amp;" not in listing
    page = client.get(reverse("inbox_message", args=[message.pk])).content.decode()
    assert "Roads &amp; Paths &lt;north&gt;" in page and "&amp;amp;" not in page
    assert "Questions about this message? Contact" in page


def test_an_extended_deadline_says_so_once(
    clock, officer, in_process_tasks, django_capture_on_commit_callbacks
):
    supplier = approved_supplier("Bidder 1", "BD1 1AA")
    opportunity = make_opportunity(officer, "4000.00", title=TITLE)
    invite(opportunity=opportunity, suppliers=[supplier], by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    opportunity.refresh_from_db()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        opportunity_extend_deadline(
            opportunity=opportunity,
            by=officer,
            submission_deadline=opportunity.submission_deadline + datetime.timedelta(days=7),
            reason="The site visit & survey moved.",
        )
    (message,) = mail.outbox
    assert message.subject == f"Deadline extended: {TITLE} ({opportunity.reference})"
    assert "Deadline extended: From " in message.body
    assert "Deadline extended: Deadline extended" not in message.body
    assert "The site visit & survey moved." in message.body
    assert f"Contact {officer.full_name}, {officer.buyer.name}: {officer.email}" in message.body
    inbox = InboxMessage.objects.get(recipient=bidder(1))
    assert inbox.subject == message.subject
