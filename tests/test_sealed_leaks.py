"""Sealed bids leak nowhere (issue 8), extending ``test_sealed_bids``: that
file reads the council's bid pages and Django admin as the council's people;
this one reads EVERY URL pattern of the project (walked as in
``test_permission_matrix``), every download and export (CSV registers, the
OCDS JSON and ``manage.py export_ocds``, the supplier's JSON export), the
searches, every inbox message and every email, as everyone: anonymous, the
bidding supplier (who sees only its own bid), another invited supplier, a
supplier not invited, both officers of the council, its auditor, its
superuser, an administrator who is not a superuser and another council's
officer.

What must not show (``marker`` values found nowhere else): each bid's price
in every formatting (``73519.47``, ``73,519.47``), each file's name, content
and SHA-256, each receipt's reference, the audit and notification names
that say a bid exists, and any count of bids ("2 bids"). Django admin's
search counts must not count a sealed bid's events or messages either.

Two boxes: the main opportunity's (two lots, Bidder 1 in two versions on lot
1, Bidder 2 on lot 2) and one cancelled after its deadline without ever being
opened (Bidder 1), whose bids stay sealed for good. Once two officers open
the main box, the same scan finds its prices and files on the officers' and
the auditor's pages (the scan is not blind) and still nothing of the
cancelled one's.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from decimal import Decimal
from urllib.parse import quote, quote_plus

import pytest
import time_machine
from django.contrib import admin
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Q
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from portal.audit_labels import ACTION_LABELS
from portal.models import AuditEvent, InboxMessage, Notification, User
from portal.services import user_create
from suppliers.services import supplier_update
from tenders.models import Bid, BidFile, BidRevision, PricingLine, Question, QuestionKind
from tenders.services import (
    DECLARATIONS,
    answers_save,
    bid_add_file,
    bid_save_draft,
    bid_start,
    box_open,
    clarification_ask,
    document_add,
    invite,
    opportunity_cancel,
    opportunity_publish,
)
from tests.tenders_helpers import make_opportunity
from tests.test_officer_bids import (
    bidder,
    open_box,
    pass_deadline,
    publish_with_bidders,
    submit,
)
from tests.test_permission_matrix import (
    SIGNS_OUT,
    World,
    body,
    every_pattern,
    expectations,
    give_payee,
    url_for,
)
from tests.test_sealed_bids import COUNT
from tests.two_factor_helpers import verified_force_login
from transparency.flags import KINDS

PRICE = "73519.47"  # Bidder 1's latest version, lot 1
FIRST_PRICE = "72481.06"  # Bidder 1's first version
OTHER_PRICE = "68042.19"  # Bidder 2, lot 2
CANCELLED_PRICE = "71204.36"  # Bidder 1, the opportunity cancelled unopened
# issue 17: answers. The main opportunity has a questionnaire (a quality question, two
# pricing lines of one each): each bid's answer and first rate are markers of their own
# (the second rate makes up the price, so the price markers above stay as they are).
ANSWERS = {
    PRICE: ("SEALED-ANSWER-3b8f we clean with care", "4127.39"),
    FIRST_PRICE: ("SEALED-FIRSTANSWER-8c1e we clean daily", "3916.58"),
    OTHER_PRICE: ("SEALED-OTHERANSWER-6d4a we clean weekly", "2851.73"),
}
FILE_NAME = "sealed-marker-7f3a.pdf"
FILE_BYTES = b"%PDF-1.4 SEALED-MARKER-CONTENT-7f3a method statement"
FIRST_FILE = ("sealed-first-9e0b.pdf", b"%PDF-1.4 SEALED-FIRST-CONTENT-9e0b")
OTHER_FILE = ("sealed-other-2b9d.pdf", b"%PDF-1.4 SEALED-OTHER-CONTENT-2b9d")
CANCELLED_FILE = ("sealed-cancel-5d1c.pdf", b"%PDF-1.4 SEALED-CANCEL-CONTENT-5d1c")
# What says that there are bids at all (test_sealed_bids).
BID_WORDS = ["bid.submitted", "bid.started", "bid.receipt", "Receipt for your bid"]
# The same events as the audit pages word them (portal.audit_labels, issue 16).
BID_WORDS += [ACTION_LABELS["bid.submitted"], ACTION_LABELS["bid.started"]]

PERSONAS = [
    "anonymous",
    "bidder",  # Bidder 1: its own bids only
    "invited",  # Bidder 3: invited, did not bid
    "uninvited",  # Aire Valley Cleaning: not invited
    "officer",
    "second_officer",
    "auditor",
    "admin_user",  # a superuser
    "council_admin",  # an administrator, not a superuser
    "other_officer",  # another council
]


def price_forms(price: str) -> list[str]:
    value = Decimal(price)
    return [f"{value:.2f}", f"{value:,.2f}"]


def answer_markers(price: str) -> list[str]:
    """The answer's marker and its first rate, in every formatting (issue 17)."""
    text, rate = ANSWERS[price]
    return [text.split()[0], *price_forms(rate)]


def file_markers(name: str, content: bytes) -> list[str]:
    return [name, content.decode().split()[1], hashlib.sha256(content).hexdigest()[:16]]


class Box:
    """The sealed world: the opportunities, the bids, and what is secret from whom."""

    def __init__(self, officer, second_officer, clock, capture):
        self.main = publish_with_bidders(officer, 3)
        # issue 17: answers (the questionnaire of the main opportunity)
        self.answer_question = Question.objects.create(
            opportunity=self.main,
            kind=QuestionKind.QUALITY,
            criterion=self.main.criteria.get(is_price=False),
            number=1,
            text="How will you clean the offices?",
            word_limit=300,
            weight=100,
        )
        self.pricing_lines = [
            PricingLine.objects.create(
                opportunity=self.main, number=n, description=f"Part {n}", unit="job", quantity=1
            )
            for n in (1, 2)
        ]
        self.document = document_add(
            opportunity=self.main,
            upload=SimpleUploadedFile("brief-4c1a.pdf", b"%PDF-1.4 brief"),
            by=officer,
        )
        self.question = clarification_ask(
            opportunity=self.main, by=bidder(3), question="May we visit the site first?"
        )
        self.cancelled = make_opportunity(officer, "4000.00", title="Gutters", deadline_days=7)
        invite(
            opportunity=self.cancelled,
            suppliers=[bidder(1).supplier, bidder(3).supplier],
            by=officer,
        )
        opportunity_publish(opportunity=self.cancelled, by=officer)
        self.colleague = user_create(
            email="colleague@bidder-1.example",
            full_name="Bidder 1 colleague",
            role="supplier",
            supplier=bidder(1).supplier,
            supplier_role="member",
            password="a long test passphrase",
            email_verified=True,
            by=None,
        )
        self.last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
        self.last_notification = (
            Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        )
        mail.outbox.clear()
        with capture(execute=True):
            self.answer(1, FIRST_PRICE)
            submit(self.main, 1, FIRST_PRICE, files=[FIRST_FILE])
            self.answer(1, PRICE)
            submit(self.main, 1, PRICE, files=[(FILE_NAME, FILE_BYTES)])
            self.answer(2, OTHER_PRICE, lot_number=2)
            submit(self.main, 2, OTHER_PRICE, lot_number=2, files=[OTHER_FILE])
            submit(self.cancelled, 1, CANCELLED_PRICE, files=[CANCELLED_FILE])
        # The cancelled one: its deadline passes, then the council cancels it unopened.
        pass_deadline(clock, self.cancelled)
        with capture(execute=True):
            opportunity_cancel(opportunity=self.cancelled, by=officer, reason="Not needed now.")
        self.bid = Bid.objects.get(opportunity=self.main, supplier__legal_name="Bidder 1")
        self.other_bid = Bid.objects.get(opportunity=self.main, supplier__legal_name="Bidder 2")
        self.cancelled_bid = Bid.objects.get(opportunity=self.cancelled)
        self.world = World(
            "S",
            officer.buyer,
            (officer, second_officer),
            bidder(1),
            supplier=bidder(1).supplier,
            colleague=self.colleague,
            site=bidder(1).supplier.sites.first(),
            # A change waiting for review (ADR 12), for its admin pages.
            change=supplier_update(
                supplier=bidder(1).supplier, by=bidder(1), trading_name="Bidder One Trading"
            ).pending[0],
            opportunity=self.main,
            document=self.document,
            clarification=self.question,
            bid=self.bid,
            bid_file=BidFile.objects.get(
                bid=self.bid, original_name=FILE_NAME, revision__isnull=False
            ),
            draft_file=BidFile.objects.get(
                bid=self.bid, original_name=FILE_NAME, revision__isnull=True
            ),
            receipt=InboxMessage.objects.filter(recipient=bidder(1)).latest("pk"),
            past=self.cancelled,
            question=self.answer_question,
            pricing_line=self.pricing_lines[0],
        )
        give_payee(self.world)  # issue 18: the ledger's pages have a payee to show
        receipts = dict(BidRevision.objects.values_list("bid_id", "receipt_reference"))
        own_receipts = list(
            BidRevision.objects.filter(bid__supplier=self.bid.supplier).values_list(
                "receipt_reference", flat=True
            )
        )
        self.main_markers = [
            *answer_markers(PRICE),
            *answer_markers(FIRST_PRICE),
            *price_forms(PRICE),
            *price_forms(FIRST_PRICE),
            *file_markers(FILE_NAME, FILE_BYTES),
            *file_markers(*FIRST_FILE),
        ]
        self.other_markers = [
            *answer_markers(OTHER_PRICE),
            *price_forms(OTHER_PRICE),
            *file_markers(*OTHER_FILE),
            receipts[self.other_bid.pk],
        ]
        self.cancelled_markers = [
            *price_forms(CANCELLED_PRICE),
            *file_markers(*CANCELLED_FILE),
        ]
        # Bidder 1's own, which only Bidder 1 may see.
        self.own_markers = self.main_markers + self.cancelled_markers + own_receipts

    def answer(self, n: int, price: str, lot_number: int = 1) -> None:
        """Bidder ``n``'s draft answer and rates for the version priced ``price``."""
        person = bidder(n)
        bid = bid_start(lot=self.main.lots.get(number=lot_number), by=person)
        text, rate = ANSWERS[price]
        answers_save(
            bid=bid,
            by=person,
            answers={self.answer_question.pk: (text, None)},
            rates={
                self.pricing_lines[0].pk: Decimal(rate),
                self.pricing_lines[1].pk: Decimal(price) - Decimal(rate),
            },
        )

    def secrets_for(self, persona: str) -> list[str]:
        if persona == "bidder":
            return self.other_markers
        return self.own_markers + self.other_markers + BID_WORDS

    def files(self) -> list[BidFile]:
        return list(BidFile.objects.filter(bid__in=[self.bid, self.other_bid, self.cancelled_bid]))


@pytest.fixture
def clock(demo_data, settings, tmp_path):
    """Frozen now; bid files stored in a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def box(clock, officer, second_officer, in_process_tasks, django_capture_on_commit_callbacks):
    return Box(officer, second_officer, clock, django_capture_on_commit_callbacks)


@pytest.fixture
def people(
    box, officer, second_officer, auditor, admin_user, other_officer, local_supplier_user
) -> dict[str, User | None]:
    council_admin = user_create(
        email="admin2@demo-council.example",
        full_name="Cal Admin",
        role="admin",
        password="a long test passphrase",
        buyer=officer.buyer,
        by=None,
    )
    assert admin_user.is_superuser and not council_admin.is_superuser
    return {
        "anonymous": None,
        "bidder": bidder(1),
        "invited": bidder(3),
        "uninvited": local_supplier_user,
        "officer": officer,
        "second_officer": second_officer,
        "auditor": auditor,
        "admin_user": admin_user,
        "council_admin": council_admin,
        "other_officer": other_officer,
    }


# --- Where to look ---------------------------------------------------------------------------


def every_get_url(box: Box) -> list[str]:
    """Every URL pattern, filled with the sealed world's objects, buttons'
    addresses too (a GET finds the page that says it belongs to a button:
    ``portal.post_only``); not signing out, which would end the session."""
    routes = every_pattern()
    skip = SIGNS_OUT
    return [
        url_for(key, routes[key], box.world, box.world)
        for key in sorted(expectations())
        if key not in skip
    ]


def bid_urls(box: Box) -> list[str]:
    """Every bid, receipt and file URL of every bid, the supplier's and the council's."""
    urls = []
    for bid in (box.bid, box.other_bid, box.cancelled_bid):
        o, lot = bid.opportunity_id, bid.lot_id
        criterion = bid.opportunity.criteria.get(is_price=False).pk
        urls += [
            reverse("tenders:supplier_bid", args=[o, lot]),
            reverse("tenders:supplier_bid_withdraw", args=[o, lot]),
            reverse("tenders:lot_evaluation", args=[o, lot]),
            reverse("tenders:lot_award", args=[o, lot]),
            reverse("tenders:lot_letters", args=[o, lot]),
            reverse("tenders:bid_detail", args=[o, bid.pk]),
            reverse("tenders:opportunity_detail", args=[o]),
            reverse("tenders:opportunity_work_added_up", args=[o]),
            reverse("transparency:opportunity_history", args=[o]),
            reverse("transparency:opportunity_ocds", args=[o]),
            # the council's package of every day there is (export_ocds's uri)
            reverse(
                "transparency:council_ocds",
                args=[bid.opportunity.buyer.slug, "2000-01-01", "2099-12-31"],
            ),
            reverse("transparency:supplier_history", args=[bid.supplier_id]),
            reverse("supplier_detail", args=[bid.supplier_id]),
            reverse("tenders:bid_score", args=[o, bid.pk, criterion]),
            reverse("tenders:bid_exclude", args=[o, bid.pk]),
            reverse("tenders:supplier_outcome", args=[o]),
        ]
        for number in bid.revisions.values_list("number", flat=True):
            urls += [
                reverse("tenders:supplier_bid_receipt", args=[o, bid.pk, number]),
                reverse("tenders:supplier_bid_receipt_text", args=[o, bid.pk, number]),
            ]
    for bid_file in box.files():
        bid = bid_file.bid
        urls += [
            reverse(
                "tenders:supplier_bid_file", args=[bid.opportunity_id, bid.lot_id, bid_file.pk]
            ),
            reverse("tenders:bid_file", args=[bid.opportunity_id, bid.pk, bid_file.pk]),
            # asking before a draft's file is removed (a submitted version's: 404)
            reverse(
                "tenders:supplier_bid_file_remove",
                args=[bid.opportunity_id, bid.lot_id, bid_file.pk],
            ),
        ]
    return urls


# Searches and filters by what is not secret (the secret values are in SECRET_SEARCHES).
SEARCHES = ["Bidder 1", "bidder-1", "sealed", "Gutters"]


def search_urls(box: Box) -> list[str]:
    """The portal's searches and filters, and Django admin's on every model."""
    urls = [f"{reverse('supplier_directory')}?q={q}" for q in SEARCHES]
    urls += [f"{reverse('tenders:opportunity_list')}?status={s}" for s in ("", "open", "cancelled")]
    urls += [f"{reverse('transparency:register')}?supplier=Bidder", reverse("cpv:find") + "?q=73"]
    # the invitations to tender and their CSV (the Transparency Code's quarterly list)
    urls += [reverse("transparency:invitations"), reverse("transparency:invitations_csv")]
    # the audit overview's searches and every flag's CSV (issue 16)
    urls += [f"{reverse('transparency:index')}?q={q}&supplier={q}" for q in SEARCHES]
    urls += [f"{reverse('transparency:flags_csv')}?flag={kind.key}" for kind in KINDS]
    for model in admin.site._registry:
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        urls += [f"{changelist}?q={q}" for q in SEARCHES]
    urls += [f"{reverse('admin:portal_auditevent_changelist')}?object_type__exact=tenders.bid"]
    return urls


def admin_object_urls(box: Box) -> list[str]:
    """Django admin's pages of everything written since the bids began, and
    of the models the bids would be (never registered: 404)."""
    urls = [
        reverse("admin:tenders_opportunity_change", args=[o.pk]) for o in (box.main, box.cancelled)
    ]
    # By the key Django admin names them by (admin_key), sealed ones too.
    urls += [
        admin_url(event, "change") for event in AuditEvent.objects.filter(pk__gt=box.last_event)
    ]
    urls += [
        admin_url(row, "change")
        for row in Notification.objects.filter(pk__gt=box.last_notification)
    ]
    for model in ("bid", "bidrevision", "bidfile", "boxopening", "score", "award"):
        urls += [f"/admin/tenders/{model}/", f"/admin/tenders/{model}/{box.bid.pk}/change/"]
    return urls


def own_message_urls(person: User | None) -> list[str]:
    if person is None:
        return []
    return [
        reverse("inbox_message", args=[pk])
        for pk in InboxMessage.objects.filter(recipient=person).values_list("pk", flat=True)
    ]


def signed_in(person: User | None) -> Client:
    client = verified_force_login(Client())
    if person is not None:
        client.force_login(person)
    return client


# What the flags page says of every flag, whatever the records ("Only one bid was
# submitted for the lot that was awarded..."): words, not a count of anything.
FLAG_WORDS = [escape(text) for kind in KINDS for text in (kind.name, kind.why, kind.check)]


def found_in(text: str, secrets: list[str], where: str) -> list[tuple[str, str]]:
    found = [(where, secret) for secret in secrets if secret in text]
    for words in FLAG_WORDS:
        text = text.replace(words, "")
    if count := COUNT.search(re.sub(r"<[^>]+>", " ", text)):
        found.append((where, count.group(0)))
    return found


def read_everything(box: Box, persona: str, person: User | None) -> list[tuple[str, str]]:
    """Every page, download, export, search and inbox message ``person`` can
    ask for: (where, what) of each secret shown."""
    client = signed_in(person)
    secrets = box.secrets_for(persona)
    urls = every_get_url(box) + bid_urls(box) + search_urls(box) + admin_object_urls(box)
    urls += own_message_urls(person)
    found = []
    for url in dict.fromkeys(urls):
        response = client.get(url)
        assert response.status_code < 500, (persona, url, response.status_code)
        found += found_in(body(response), secrets, f"GET {url} ({response.status_code})")
    return found


def emails_to(person: User | None) -> list[str]:
    if person is None:
        return []
    texts = []
    for email in mail.outbox:
        if person.email in [*email.to, *email.cc, *email.bcc]:
            alternatives = "".join(str(content) for content, _type in email.alternatives)
            texts.append(f"{email.subject}\n{email.body}\n{alternatives}")
    return texts


def read_mail(box: Box, persona: str, person: User | None) -> list[tuple[str, str]]:
    found = []
    for n, text in enumerate(emails_to(person)):
        found += found_in(text, box.secrets_for(persona), f"email {n} to {persona}")
    return found


def leaks(box: Box, people: dict) -> list[tuple[str, str, str]]:
    found = []
    for persona in PERSONAS:
        person = people[persona]
        for where, what in read_everything(box, persona, person) + read_mail(box, persona, person):
            found.append((persona, where, what))
    return found


# --- Before the deadline, and after it before the opening --------------------------------------


def test_before_the_deadline_nothing_anywhere_shows_a_bid_to_anyone(box, people):
    # The bidder's receipts were emailed (so the other people's mail had some to miss).
    receipts = BidRevision.objects.filter(bid=box.bid).values_list("receipt_reference", flat=True)
    assert all(any(r in text for text in emails_to(people["bidder"])) for r in receipts)
    found = leaks(box, people)
    assert found == [], "\n".join(map(str, found))


def test_after_the_deadline_with_one_officer_confirmed_nothing_shows_either(
    box, people, clock, officer
):
    pass_deadline(clock, box.main)
    box_open(opportunity=box.main, by=officer)  # one officer alone opens nothing
    assert leaks(box, people) == []


def test_the_bidder_sees_its_own_bid_and_nothing_of_the_others(box, people):
    client = signed_in(people["bidder"])
    receipt = client.get(reverse("tenders:supplier_bid_receipt", args=[box.main.pk, box.bid.pk, 2]))
    assert "73,519.47" in body(receipt) and FILE_NAME in body(receipt)
    export = body(client.get(reverse("organisation_export")))
    assert PRICE in export and hashlib.sha256(FILE_BYTES).hexdigest() in export
    assert not [m for m in box.other_markers if m in export]
    # Asked before removing a file of its draft (so the scan reads that page), and
    # never of another bidder's draft.
    own, other = box.world.draft_file, box.other_bid.files.get(revision__isnull=True)
    args = [box.main.pk, box.bid.lot_id, own.pk]
    asked = client.get(reverse("tenders:supplier_bid_file_remove", args=args))
    assert asked.status_code == 200 and f"remove {FILE_NAME}?" in body(asked)
    args = [box.main.pk, box.other_bid.lot_id, other.pk]
    assert client.get(reverse("tenders:supplier_bid_file_remove", args=args)).status_code == 404


# --- Exports -------------------------------------------------------------------------------------


def test_the_ocds_exports_of_the_cancelled_opportunity_name_no_bidder(box, auditor):
    """Cancelled after its deadline, never opened: it is open data, its bids are not."""
    client = signed_in(auditor)
    response = client.get(reverse("transparency:opportunity_ocds", args=[box.cancelled.pk]))
    assert response.status_code == 200
    downloaded = body(response)
    out = io.StringIO()
    today = timezone.localdate().isoformat()
    call_command(
        "export_ocds", "--buyer", "demo-council", "--from", today, "--to", today, "--output", "-",
        stdout=out,
    )  # fmt: skip
    for text in (downloaded, out.getvalue()):
        assert found_in(text, box.secrets_for("auditor"), "ocds") == []
        release = next(
            r for r in json.loads(text)["releases"] if r["ocid"].endswith(f"-{box.cancelled.pk}")
        )
        assert release["tender"]["status"] == "cancelled"
        assert "numberOfTenderers" not in release["tender"]
        assert "tenderers" not in release["tender"]
        assert "Bidder 1" not in json.dumps(release)
    # The open, sealed one is not open data at all.
    assert (
        client.get(reverse("transparency:opportunity_ocds", args=[box.main.pk])).status_code == 404
    )


# --- Counts in Django admin ----------------------------------------------------------------------


def result_count(page: str) -> int:
    match = re.search(r"(\d+) results?", page)
    assert match, "no result count on the page"
    return int(match.group(1))


def test_django_admin_searches_do_not_count_a_sealed_bids_events_or_messages(box, admin_user):
    """Django admin's own search of every event (or message), less the sealed
    bids' ones, is what its page counts: not one more."""
    request = RequestFactory().get("/")
    request.user = admin_user
    sealed_bids = [str(pk) for pk in Bid.objects.values_list("pk", flat=True)]
    client = signed_in(admin_user)
    checks = [
        (AuditEvent, "Bidder", Q(sealed_until_opened__in=[box.main.pk, box.cancelled.pk])),
        (AuditEvent, "bidder-1", Q(sealed_until_opened__in=[box.main.pk, box.cancelled.pk])),
        (Notification, "bidder-1", Q(object_type="tenders.bid", object_id__in=sealed_bids)),
        (Notification, "bid.receipt", Q(object_type="tenders.bid", object_id__in=sealed_bids)),
    ]
    for model, q, is_sealed in checks:
        model_admin = admin.site._registry[model]
        every, _ = model_admin.get_search_results(request, model.objects.all(), q)
        sealed = every.filter(is_sealed).count()
        assert sealed > 0, (model, q)  # there was something to count
        changelist = reverse(f"admin:portal_{model._meta.model_name}_changelist")
        page = body(client.get(f"{changelist}?q={q}"))
        assert result_count(page) == every.count() - sealed, (model, q)


# Searching for a sealed bid's price, file or receipt must answer exactly as
# searching for one that nobody bid: same rows, same counts.
SECRET_SEARCHES = [
    (PRICE, "73519.48"),
    ("73,519.47", "73,519.48"),
    (FILE_NAME, "sealed-marker-0000.pdf"),
    (hashlib.sha256(FILE_BYTES).hexdigest()[:16], "0" * 16),
]


def normalised(page: str, value: str) -> str:
    # As typed, in a URL, in HTML, and in Django admin's preserved filters (twice encoded).
    for form in (value, quote(value), quote_plus(value), escape(value), quote(quote(value))):
        page = page.replace(form, "<Q>")
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return re.sub(r'nonce="[^"]+"', "", page)


def test_searching_for_a_sealed_bids_values_finds_nothing_more_than_for_made_up_ones(box, people):
    receipt = BidRevision.objects.filter(bid=box.bid).latest("number").receipt_reference
    pairs = [*SECRET_SEARCHES, (receipt, "LT-9-9-9-0000000000")]
    searches = [(reverse("supplier_directory"), "q")]
    searches += [
        (reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist"), "q")
        for m in admin.site._registry
    ]
    searches += [
        (reverse("admin:portal_auditevent_changelist"), "action__exact"),
        (reverse("admin:portal_notification_changelist"), "event__exact"),
    ]
    pairs_by_field = {
        "q": pairs,
        "action__exact": [("bid.submitted", "bid.nothing"), ("bid.started", "bid.nothing")],
        "event__exact": [("bid.receipt", "bid.nothing")],
    }
    differences = []
    for persona in ("officer", "other_officer", "admin_user"):
        client = signed_in(people[persona])
        for url, field in searches:
            for secret, made_up in pairs_by_field[field]:
                with_secret = client.get(url, {field: secret})
                without = client.get(url, {field: made_up})
                if with_secret.status_code != without.status_code or normalised(
                    body(with_secret), secret
                ) != normalised(body(without), made_up):
                    differences.append((persona, url, field, secret))
    assert differences == [], "\n".join(map(str, differences))


# --- Once two officers open the box --------------------------------------------------------------


def test_once_opened_the_same_scan_finds_the_bids_on_the_councils_pages(
    box, people, clock, officer, second_officer
):
    open_box(clock, box.main, officer, second_officer)
    for persona in ("officer", "auditor"):
        shown = {what for _where, what in read_everything(box, persona, people[persona])}
        # The scan is not blind: the opened box's prices and files are found...
        markers = ["73,519.47", "68,042.19", FILE_NAME, OTHER_FILE[0]]
        # issue 17: the latest versions' answers and rates, on the officers' bid pages
        markers += ["SEALED-ANSWER-3b8f", "4,127.39", "SEALED-OTHERANSWER-6d4a", "2,851.73"]
        for marker in markers:
            assert marker in shown, (persona, marker)
        assert "SEALED-MARKER-CONTENT-7f3a" in shown  # the file itself, downloaded
        # ...and the cancelled box, never opened, stays sealed.
        assert not [m for m in box.cancelled_markers if m in shown], persona
        # ...and so does Bidder 1's first version: the council opens only the
        # latest, as the supplier was told (its price and its answers).
        replaced = [*price_forms(FIRST_PRICE), *answer_markers(FIRST_PRICE)]
        assert not [m for m in replaced if m in shown], persona
    # Nobody else is shown anything of the opened box either (the council's
    # administrators read the opened bids' events on the audit pages, as its
    # auditors do: transparency.access).
    for persona in ("anonymous", "invited", "uninvited", "other_officer"):
        person = people[persona]
        found = read_everything(box, persona, person) + read_mail(box, persona, person)
        assert found == [], (persona, found)


# --- Django admin, page by page (issue 14) -------------------------------------------------------
#
# A superuser's every Django admin page: every changelist page by page (?p=N,
# with a few rows a page so that there are pages), with facets, every list
# filter and date link it offers, every row it links to with its history, the
# delete confirmation of a real object of every model (and of the bidding
# supplier, its people, the officers, the council and both opportunities),
# and Django admin's "delete selected" action on them. Bidder 1 also has a
# draft on lot 2 (a draft is sealed too).

DRAFT_PRICE = "70333.91"
DRAFT_FILE = ("sealed-draft-6a2e.pdf", b"%PDF-1.4 SEALED-DRAFT-CONTENT-6a2e")
# What says a bid exists, in Django admin's words (delete confirmations list
# "Bid revision: …", "Bids: 2"), whatever the case.
ADMIN_BID_WORDS = re.compile(
    r"\bbid (revision|file|opening)s?\b|\bbids?\s*:\s*\d|\btenders[._/]bid", re.IGNORECASE
)
# The names of the permissions a group or person may be given ("tenders | bid
# file | Can view bid file") name kinds of things, not any bid.
PERMISSION_NAMES = re.compile(r"\w+ \| [\w ]+ \| Can (add|change|delete|view) [\w ]+")
ROWS_A_PAGE = 7


def admin_key(obj) -> str:
    """How Django admin names ``obj`` in its addresses (its own key, where it has one)."""
    model_admin = admin.site._registry[type(obj)]
    return str(getattr(model_admin, "row_key", lambda row: row.pk)(obj))


def admin_url(obj, kind: str) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{kind}", args=[admin_key(obj)])


@pytest.fixture
def draft(box):
    """Bidder 1's draft on lot 2 of the main box: a price and a file, not submitted."""
    person = bidder(1)
    bid = bid_start(lot=box.main.lots.get(number=2), by=person)
    bid_save_draft(
        bid=bid,
        by=person,
        price=Decimal(DRAFT_PRICE),
        declarations=dict.fromkeys(DECLARATIONS, True),
    )
    bid_add_file(bid=bid, by=person, upload=SimpleUploadedFile(*DRAFT_FILE))
    return bid


@pytest.fixture
def few_rows_a_page(monkeypatch):
    for model_admin in admin.site._registry.values():
        monkeypatch.setattr(model_admin, "list_per_page", ROWS_A_PAGE)


def admin_secrets(box: Box) -> list[str]:
    return [
        *box.secrets_for("admin_user"),
        *price_forms(DRAFT_PRICE),
        *file_markers(*DRAFT_FILE),
        *(str(bid) for bid in Bid.objects.all()),  # "Bid 7 for lot 3"
    ]


def objects_to_delete(box: Box, officer, second_officer) -> list:
    """A real object of every model in Django admin, and the ones bids hang from."""
    from tests.test_permission_matrix import ADMIN_MODELS, admin_object

    objects = [admin_object(key, box.world) for key in ADMIN_MODELS if key in registered()]
    objects += [bidder(1).supplier, bidder(2).supplier, bidder(1), box.colleague, bidder(2)]
    objects += [officer, second_officer, officer.buyer, box.main, box.cancelled]
    return objects


def registered() -> set[str]:
    return {f"{m._meta.app_label}_{m._meta.model_name}" for m in admin.site._registry}


QUERY_LINK = re.compile(r'href="(\?[^"]*)"')
# An address naming an audit event or notification by its id.
# A row's id, not its key: a key is 16 hex digits, now and then all decimal ones by chance.
ID_LINK = re.compile(r"/admin/portal/(auditevent|notification)/(?![0-9a-f]{16}/)\d+/")
ROW_LINK = re.compile(r'href="(/admin/[a-z_]+/[a-z_]+/[^/"?]+/change/)[^"]*"')


def admin_pages(client: Client, box: Box, officer, second_officer) -> dict[str, object]:
    """Every Django admin page a superuser can reach, by address (GET) or by
    action (POST): address → response."""
    seen: dict[str, object] = {}

    def get(url: str):
        if url not in seen:
            seen[url] = client.get(url)
        return seen[url]

    start = [u for u in every_get_url(box) + admin_object_urls(box) if u.startswith("/admin/")]
    for url in start:
        get(url)
    rows: set[str] = set()
    for model in admin.site._registry:
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        first = body(get(changelist))
        # Every page of the list, the page past the end, facets, filters and dates.
        links = {f"{changelist}?p={n}" for n in range(1, page_count(first) + 2)}
        links |= {f"{changelist}?_facets=1", f"{changelist}?e=1"}
        links |= {
            changelist + unescape(link)
            for link in QUERY_LINK.findall(first)
            if not re.search(r"(^|[?&;])o=", unescape(link))  # sorting shows the same rows
        }
        for link in sorted(links):
            rows |= set(ROW_LINK.findall(body(get(link))))
    for row in sorted(rows):
        get(row)
        get(row.replace("/change/", "/history/"))
        get(row.replace("/change/", "/delete/"))
    for obj in objects_to_delete(box, officer, second_officer):
        get(admin_url(obj, "delete"))
        meta = obj._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        action = {"action": "delete_selected", "_selected_action": [admin_key(obj)]}
        seen[f"POST {changelist} delete_selected {admin_key(obj)}"] = client.post(
            changelist, action
        )
    for lot in box.main.lots.all():  # lots have no admin of their own
        get(f"/admin/tenders/lot/{lot.pk}/delete/")
    return seen


def page_count(changelist_page: str) -> int:
    """The number of the last page a changelist links to (1 when it has one page)."""
    numbers = [int(n) for n in re.findall(r'href="\?(?:[^"]*&amp;)?p=(\d+)', changelist_page)]
    return max(numbers, default=1)


def unescape(link: str) -> str:
    return link.replace("&amp;", "&")


def test_no_django_admin_page_shows_a_superuser_anything_of_a_sealed_bid(
    box, people, draft, few_rows_a_page, officer, second_officer
):
    client = signed_in(people["admin_user"])
    secrets = admin_secrets(box)
    pages = admin_pages(client, box, officer, second_officer)
    found, errors = [], []
    for where, response in pages.items():
        if response.status_code >= 500:
            errors.append(f"{where}: {response.status_code}")
        text = body(response)
        found += found_in(text, secrets, where)
        words = ADMIN_BID_WORDS.finditer(PERMISSION_NAMES.sub("", text))
        found += [(where, m.group(0)) for m in words]
        found += [(where, m.group(0)) for m in ID_LINK.finditer(text)]
    assert errors == [], "\n".join(errors)
    assert found == [], "\n".join(map(str, found))
    # The walk was not blind: every model's list, its pages and its rows were read.
    for model in admin.site._registry:
        meta = model._meta
        assert reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist") in pages
    assert any("/admin/portal/auditevent/" in w and "/change/" in w for w in pages)
    assert any("?p=3" in w for w in pages if "/admin/portal/auditevent/" in w)
    assert any("?action=" in w for w in pages if "/admin/portal/auditevent/" in w)


def test_django_admin_deletes_no_supplier_person_or_council_and_says_what_to_do(
    box, draft, people, officer
):
    """Deleting a supplier, a person or a council would show (on the
    confirmation page) the bids that hang from it; people are switched off
    instead, and councils and suppliers are kept with their records."""
    client = signed_in(people["admin_user"])
    for obj in [bidder(1).supplier, bidder(1), box.colleague, officer, officer.buyer, box.main]:
        counts = (type(obj).objects.count(), Bid.objects.count(), BidRevision.objects.count())
        assert client.get(admin_url(obj, "delete")).status_code == 403, obj
        assert client.post(admin_url(obj, "delete"), {"post": "yes"}).status_code == 403, obj
        meta = obj._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        client.post(
            changelist,
            {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
        )
        assert type(obj).objects.filter(pk=obj.pk).exists(), obj
        after = (type(obj).objects.count(), Bid.objects.count(), BidRevision.objects.count())
        assert after == counts, obj
    page = body(client.get(admin_url(bidder(1), "change")))
    assert "untick" in page and "Active" in page
    # The change pages offer no way to delete either.
    for obj in [bidder(1), officer.buyer]:
        assert "deletelink" not in body(client.get(admin_url(obj, "change"))), obj


SEALED_ROW_MODELS = [AuditEvent, Notification]


def model_admin_of(model):
    return admin.site._registry[model]


def test_django_admin_names_no_row_by_its_id_where_sealed_rows_are_hidden(
    box, people, few_rows_a_page
):
    """Audit events and notifications of sealed bids are hidden; the ids of
    the rows around them would show the gaps they leave (and so that there
    are bids), so no page, link, key, count, filter or lookup counts them."""
    from portal import audit, notifications

    client = signed_in(people["admin_user"])
    visible = {
        AuditEvent: audit.visible(AuditEvent.objects.all()),
        Notification: notifications.visible(Notification.objects.all()),
    }
    for model in SEALED_ROW_MODELS:
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        shown = visible[model]
        sealed = model.objects.exclude(pk__in=shown.values("pk"))
        assert sealed.exists() and shown.exists(), model
        # The list counts only what it shows.
        first = body(client.get(changelist))
        assert f"{shown.count()} {meta.verbose_name_plural}" in first, model
        assert page_count(first) == -(-shown.count() // ROWS_A_PAGE), model
        # So do the facets of its filters: each filter's counts add up to what it shows.
        faceted = body(client.get(changelist, {"_facets": "1"}))
        for name in model_admin_of(model).list_filter:
            title = meta.get_field(name).verbose_name
            section = re.search(rf'data-filter-title="{title}".*?</details>', faceted, re.S)
            counts = [int(n) for n in re.findall(r"\((\d+)\)</a>", section.group(0))]
            assert sum(counts) == shown.count(), (model, name, counts)
        # No row is linked, selected or named by its id.
        keys = set()
        for n in range(1, page_count(first) + 1):
            page = body(client.get(f"{changelist}?p={n}"))
            keys |= {link.split("/")[-3] for link in ROW_LINK.findall(page)}
            keys |= set(re.findall(r'name="_selected_action" value="([^"]+)"', page))
            assert "data-popup-opener" not in page
        # A key is 16 hex digits (sometimes all decimal ones, by chance): never a row's id.
        ids = {str(pk) for pk in model.objects.values_list("pk", flat=True)}
        assert keys and all(len(k) == 16 for k in keys), (model, sorted(keys)[:5])
        assert not keys & ids, (model, sorted(keys & ids)[:5])
        ids = {str(pk) for pk in model.objects.values_list("pk", flat=True)}
        assert not keys & ids, model
        # A visible row's id, a sealed row's id, a sealed row's key and a made-up
        # key all answer the same: nothing there.
        a_visible, a_sealed = shown.order_by("pk").first(), sealed.order_by("pk").first()
        answers = set()
        for key in [
            a_visible.pk,
            a_sealed.pk,
            admin_key(a_sealed),
            "0" * 16,
            "not-a-key",
        ]:
            for kind in ("change", "history"):
                url = reverse(f"admin:{meta.app_label}_{meta.model_name}_{kind}", args=[key])
                response = client.get(url)
                answers.add((kind, response.status_code, response.get("Location")))
        assert len(answers) == 2, (model, answers)  # one answer for each kind of page
        # The visible row's own page, by its key, shows it; no chain position or hash.
        own = body(client.get(admin_url(a_visible, "change")))
        assert "change-form" in own or "readonly" in own, model
        for word in ("Seq", "Chain hash", "Prev hash", "Content hash"):
            assert f">{word}:<" not in own, (model, word)
        # Lookups that would count rows by id, chain position or hash are refused.
        for lookup in ("id__lte", "pk__in", "id__gt", "seq__lte", "prev_hash", "chain_hash"):
            for value in (str(a_visible.pk), str(a_sealed.pk)):
                response = client.get(changelist, {lookup: value})
                assert response.status_code == 400, (model, lookup, response.status_code)
        for extra in ({"_popup": "1"}, {"_to_field": "id"}, {"_to_field": "id", "_popup": "1"}):
            assert client.get(changelist, extra).status_code == 400, (model, extra)


def test_once_the_box_is_opened_django_admin_still_answers_every_page(
    box, people, draft, few_rows_a_page, clock, officer, second_officer
):
    open_box(clock, box.main, officer, second_officer)
    client = signed_in(people["admin_user"])
    pages = admin_pages(client, box, officer, second_officer)
    errors = [f"{w}: {r.status_code}" for w, r in pages.items() if r.status_code >= 500]
    assert errors == [], "\n".join(errors)
    # Now the opened box's events are there, named by their keys.
    changelist = reverse("admin:portal_auditevent_changelist")
    events = body(client.get(changelist, {"action__exact": "bid.submitted"}))
    assert f"{AuditEvent.objects.filter(action='bid.submitted').count() - 1} audit events" in events
