"""The invited supplier's bid pages: draft, submit, revise, withdraw, the
receipt (page and text file) with the SHA-256 of every file, a late bid
refused to the second without losing what was typed, and 404 for anyone who
is not one of the bid's own supplier's people (council users included)."""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cpv.models import CpvCode
from portal.models import User
from portal.services import user_create
from portal.uploads import ALLOWED_WORDS
from suppliers.export import organisation_data
from tenders.models import Bid, BidFile, BidRevision, BidStatus
from tenders.services import (
    DECLARATIONS,
    CriterionSpec,
    LotSpec,
    bid_add_file,
    bid_save_draft,
    bid_start,
    bid_submit,
    close_due,
    invite,
    opportunity_cancel,
    opportunity_create,
    opportunity_publish,
)
from tests.tenders_helpers import care_provider_that_also_cleans, loaded_columns

LONDON = ZoneInfo("Europe/London")
# Summer time: 12:00 in London is 11:00 UTC.
START = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=LONDON)
BIDS_CLOSE = datetime.datetime(2026, 7, 1, 12, 0, tzinfo=LONDON)
ALL = list(DECLARATIONS)
METHOD = b"%PDF-1.4 our method statement"
PRICES = b"Item,Price\nCleaning,3900.00\n"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def clock(demo_data):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def care_user(demo_data) -> User:
    """A second invited local supplier (Bradford Community Care CIC, which cleans too)."""
    return care_provider_that_also_cleans()


@pytest.fixture
def opportunity(clock, officer, local_supplier_user, care_user, in_process_tasks):
    """Open, two lots, both local suppliers invited (not Leeds Office Supplies)."""
    opportunity = opportunity_create(
        buyer=officer.buyer,
        by=officer,
        title="Office cleaning",
        description="Cleaning of the town hall.",
        cpv=CpvCode.objects.get(code="90910000-9"),
        contract_kind="services",
        lots=[
            LotSpec("Town hall", Decimal("4000.00"), area="BD1"),
            LotSpec("Library", Decimal("4000.00"), area="BD2"),
        ],
        criteria=[CriterionSpec("Price", 40, is_price=True), CriterionSpec("Quality", 60)],
        clarification_deadline=datetime.datetime(2026, 6, 20, 17, 0, tzinfo=LONDON),
        submission_deadline=BIDS_CLOSE,
    )
    invite(
        opportunity=opportunity,
        suppliers=[local_supplier_user.supplier, care_user.supplier],
        by=officer,
    )
    return opportunity_publish(opportunity=opportunity, by=officer)


@pytest.fixture
def lot(opportunity):
    return opportunity.lots.get(number=1)


def bid_url(lot) -> str:
    return reverse("tenders:supplier_bid", args=[lot.opportunity_id, lot.pk])


def receipt_url(revision: BidRevision, *, text: bool = False) -> str:
    bid = revision.bid
    name = "tenders:supplier_bid_receipt_text" if text else "tenders:supplier_bid_receipt"
    return reverse(name, args=[bid.opportunity_id, bid.pk, revision.number])


def file_url(bid_file: BidFile) -> str:
    bid = bid_file.bid
    return reverse("tenders:supplier_bid_file", args=[bid.opportunity_id, bid.lot_id, bid_file.pk])


def pdf(content: bytes = METHOD, name: str = "method.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "application/pdf")


def submitted(lot, person, price: str, *files: tuple[str, bytes]) -> BidRevision:
    """A bid submitted through the services, with ``files`` added to its draft first."""
    bid = bid_start(lot=lot, by=person)
    bid_save_draft(bid=bid, by=person, price=Decimal(price), declarations=dict.fromkeys(ALL, True))
    for name, content in files:
        bid_add_file(bid=bid, upload=SimpleUploadedFile(name, content), by=person)
    return bid_submit(bid=bid, by=person)


def page_of(response) -> str:
    return response.content.decode()


# --- The bid page ------------------------------------------------------------------------


def test_the_bid_page_shows_the_deadline_in_uk_time_the_declarations_and_the_file_rules(
    client, lot, local_supplier_user
):
    client.force_login(local_supplier_user)
    response = client.get(bid_url(lot))
    page = page_of(response)
    assert response.status_code == 200
    assert "Bids close 1 July 2026 at 12:00:00 (UK time)" in page
    for text in DECLARATIONS.values():
        assert text in page
    assert 'class="govuk-checkboxes__input"' in page
    assert ALLOWED_WORDS in page and "smaller than 25 MB" in page
    assert "Save draft" in page and "Submit bid" in page
    assert 'enctype="multipart/form-data"' in page
    # Looking is not bidding: no bid is started by a GET.
    assert not Bid.objects.exists()


def test_saving_a_draft_keeps_the_price_the_ticks_and_the_file(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    response = client.post(
        bid_url(lot),
        {"price": "£12,500.50", "declarations": ALL[:2], "file": pdf(), "save": ""},
    )
    assert response.status_code == 302 and response.url == bid_url(lot)
    bid = Bid.objects.get()
    assert bid.status == BidStatus.DRAFT
    assert bid.draft_price == Decimal("12500.50")
    assert bid.draft_declarations == {ALL[0]: True, ALL[1]: True, ALL[2]: False}
    assert [f.original_name for f in bid.files.all()] == ["method.pdf"]
    assert not BidRevision.objects.exists()

    page = page_of(client.get(bid_url(lot)))
    assert "method.pdf is added to your draft and your draft is saved" in page
    assert 'value="12500.50"' in page
    assert page.count('checked="checked"') == 2
    assert "method.pdf" in page and hashlib.sha256(METHOD).hexdigest() in page
    assert "Draft" in page and "None yet." in page


def test_submitting_creates_a_version_and_shows_the_receipt_with_the_sha256_of_each_file(
    client, lot, local_supplier_user
):
    client.force_login(local_supplier_user)
    client.post(bid_url(lot), {"price": "3900", "file": pdf(), "save": ""})
    with CaptureQueriesContext(connection) as sent:
        response = client.post(
            bid_url(lot),
            {
                "price": "3,900.00",
                "declarations": ALL,
                "file": SimpleUploadedFile("prices.csv", PRICES, "text/csv"),
                "submit": "",
            },
        )
    revision = BidRevision.objects.get()
    assert response.status_code == 302 and response.url == receipt_url(revision)
    # The receipt is told to show its panel by a message (a cookie), not by
    # writing the session at the deadline's busiest moment.
    assert not [q for q in sent.captured_queries if "django_session" in q["sql"]][1:]
    assert revision.number == 1 and revision.price == Decimal("3900.00")
    assert revision.bid.status == BidStatus.SUBMITTED

    with CaptureQueriesContext(connection) as shown:
        page = page_of(client.get(response.url))
    assert "Bid submitted" in page and 'id="submitted-panel"' in page
    assert "Bid submitted: receipt" not in page  # the panel says it, not a banner too
    assert [q["sql"].split()[0] for q in shown if "django_session" in q["sql"]] == ["SELECT"]
    assert revision.receipt_reference in page
    assert "1 June 2026 at 09:00:00 (UK time)" in page
    assert "£3,900.00" in page
    for name, content in [("method.pdf", METHOD), ("prices.csv", PRICES)]:
        assert name in page
        assert hashlib.sha256(content).hexdigest() in page
        assert f"{len(content)} bytes" in page
    for text in DECLARATIONS.values():
        assert text in page
    # The panel is shown once, right after submitting.
    assert "Bid submitted" not in page_of(client.get(receipt_url(revision)))


def test_a_revised_bid_is_version_2_and_both_versions_are_kept(
    client, clock, lot, local_supplier_user
):
    client.force_login(local_supplier_user)
    data = {"declarations": ALL, "submit": ""}
    client.post(bid_url(lot), {**data, "price": "3900", "file": pdf()})
    clock.move_to(datetime.datetime(2026, 6, 1, 14, 30, 5, tzinfo=LONDON))
    response = client.post(bid_url(lot), {**data, "price": "3750.25"})
    first, second = BidRevision.objects.order_by("number")
    assert (first.number, second.number) == (1, 2)
    assert (first.price, second.price) == (Decimal("3900.00"), Decimal("3750.25"))
    assert response.url == receipt_url(second)
    # The draft's file goes into every version until it is removed.
    assert [f.original_name for f in second.files.all()] == ["method.pdf"]

    page = page_of(client.get(bid_url(lot)))
    assert first.receipt_reference in page and second.receipt_reference in page
    assert "1 June 2026 at 09:00:00" in page and "1 June 2026 at 14:30:05" in page
    assert "The council will open version 2" in page
    earlier = page_of(client.get(receipt_url(first)))
    assert "You submitted a later version of this bid (version 2)" in earlier
    assert "£3,900.00" in earlier


CHANGED = (
    "Submitted (version 2). You have saved changes that you have not submitted: "
    "the council will open version 2 unless you submit them."
)


def test_changes_saved_after_submitting_are_said_not_submitted(client, lot, local_supplier_user):
    client.force_login(local_supplier_user)
    submitted(lot, local_supplier_user, "3900", ("method.pdf", METHOD))
    submitted(lot, local_supplier_user, "3800", ("method.pdf", METHOD))
    page = page_of(client.get(bid_url(lot)))
    assert "Changes not submitted" not in page and "The council will open version 2" in page
    # Saved again as it is: nothing to submit.
    client.post(bid_url(lot), {"price": "3800.00", "declarations": ALL, "save": ""})
    assert "Changes not submitted" not in page_of(client.get(bid_url(lot)))
    client.post(bid_url(lot), {"price": "3700", "declarations": ALL, "save": ""})
    page = page_of(client.get(bid_url(lot)))
    assert CHANGED in page and "Changes not submitted" in page
    # A file added is a change too; taken out again, the draft is version 2 once more.
    client.post(bid_url(lot), {"price": "3800", "declarations": ALL, "file": pdf(PRICES, "p.csv")})
    assert CHANGED in page_of(client.get(bid_url(lot)))
    added = BidFile.objects.get(revision=None, original_name="p.csv")
    client.post(
        reverse("tenders:supplier_bid_file_remove", args=[lot.opportunity_id, lot.pk, added.pk]),
        CONFIRM,
    )
    assert "Changes not submitted" not in page_of(client.get(bid_url(lot)))


def test_a_file_removed_from_the_draft_stays_in_the_version_already_submitted(
    client, clock, lot, local_supplier_user
):
    revision = submitted(lot, local_supplier_user, "3900.00", ("method.pdf", METHOD))
    draft_file = BidFile.objects.get(revision__isnull=True)
    client.force_login(local_supplier_user)
    response = client.post(
        reverse(
            "tenders:supplier_bid_file_remove", args=[lot.opportunity_id, lot.pk, draft_file.pk]
        ),
        CONFIRM,
    )
    assert response.status_code == 302
    assert not BidFile.objects.filter(revision__isnull=True).exists()
    assert "method.pdf is removed from your draft" in page_of(client.get(bid_url(lot)))
    kept = revision.files.get()
    download = client.get(file_url(kept))
    assert download.status_code == 200 and b"".join(download.streaming_content) == METHOD


# What the page that asks before removing a file posts.
CONFIRM = {"confirm": "remove"}


def remove_url(bid_file: BidFile) -> str:
    bid = bid_file.bid
    return reverse(
        "tenders:supplier_bid_file_remove", args=[bid.opportunity_id, bid.lot_id, bid_file.pk]
    )


def test_removing_a_file_keeps_the_price_typed_in_the_form(client, clock, lot, local_supplier_user):
    """A file's Remove button posts the bid form with it: a price edited and
    not yet saved is kept as the draft (it went back to the saved one), then
    the removal is asked for."""
    submitted(lot, local_supplier_user, "7900.00", ("method.pdf", METHOD))
    draft_file = BidFile.objects.get(revision__isnull=True)
    client.force_login(local_supplier_user)
    page = page_of(client.get(bid_url(lot)))
    remove = remove_url(draft_file)
    assert f'form="bid-form" formaction="{remove}"' in page and 'id="bid-form"' in page
    # A price that cannot be read is said, and the file is not removed.
    page = page_of(client.post(remove, {"price": "lots"}))
    # Its example is the hint's, of a price's size (it said "like 150000" below "like 12500").
    assert "Enter your price as an amount in pounds, like 12500 or 12,500.00" in page
    assert BidFile.objects.filter(pk=draft_file.pk).exists()
    response = client.post(remove, {"price": "8123.45", "declarations": ALL[:1]})
    assert response.status_code == 302 and response["Location"] == remove
    bid = Bid.objects.get()
    assert bid.draft_price == Decimal("8123.45")
    assert [k for k, ticked in bid.draft_declarations.items() if ticked] == ALL[:1]
    assert BidFile.objects.filter(pk=draft_file.pk).exists()  # asked first
    assert client.post(remove, CONFIRM).status_code == 302
    assert not BidFile.objects.filter(revision__isnull=True).exists()


def test_removing_a_file_asks_first_and_only_its_confirmation_removes_it(
    client, lot, local_supplier_user
):
    """One tap on Remove deleted the file: now a page asks, the GOV.UK way
    without JavaScript, and only its "Yes, remove it" (a POST) removes."""
    bid = bid_start(lot=lot, by=local_supplier_user)
    draft_file = bid_add_file(bid=bid, upload=pdf(), by=local_supplier_user)
    kept = bid_add_file(bid=bid, upload=pdf(PRICES, "prices.csv"), by=local_supplier_user)
    client.force_login(local_supplier_user)
    remove = remove_url(draft_file)
    response = client.get(remove)
    page = page_of(response)
    assert response.status_code == 200
    assert '<h1 class="govuk-heading-l">Are you sure you want to remove method.pdf?</h1>' in page
    assert (
        '<button type="submit" class="govuk-button govuk-button--warning" '
        'data-module="govuk-button">Yes, remove it</button>'
    ) in page
    assert f'<a class="govuk-link" href="{bid_url(lot)}#files">Cancel</a>' in page
    main = page[page.index("<main") :]
    assert '<form method="post" novalidate>' in main  # posts to itself
    assert client.head(remove).status_code == 200
    assert BidFile.objects.filter(pk=draft_file.pk).exists()  # asking removes nothing

    # Posted without the page's confirmation (a Remove button of a bid page
    # served before removal asked first): asked now, nothing removed.
    response = client.post(remove)
    assert response.status_code == 302 and response["Location"] == remove
    assert BidFile.objects.filter(pk=draft_file.pk).exists()
    assert 'name="confirm" value="remove"' in page_of(client.get(remove))

    response = client.post(remove, CONFIRM)
    assert response.status_code == 302 and response["Location"] == bid_url(lot)
    assert "method.pdf is removed from your draft" in page_of(client.get(bid_url(lot)))
    assert list(BidFile.objects.all()) == [kept]
    # The same POST again (a double tap, a reload): not found, nothing else removed.
    assert client.post(remove, CONFIRM).status_code == 404
    assert client.get(remove).status_code == 404
    assert list(BidFile.objects.all()) == [kept]


def test_after_the_deadline_removing_a_file_is_not_asked_for(
    client, clock, lot, local_supplier_user
):
    submitted(lot, local_supplier_user, "3900.00", ("method.pdf", METHOD))
    draft_file = BidFile.objects.get(revision__isnull=True)
    clock.move_to(BIDS_CLOSE + datetime.timedelta(seconds=1))
    client.force_login(local_supplier_user)
    response = client.get(remove_url(draft_file))
    assert response.status_code == 302 and response["Location"] == bid_url(lot)
    page = page_of(client.get(bid_url(lot)))
    assert "Bids closed" in page and remove_url(draft_file) not in page
    # A submitted version's file is never the draft's to remove.
    assert client.get(remove_url(BidFile.objects.get(revision__isnull=False))).status_code == 404


def test_withdrawing_asks_first_then_withdraws(client, lot, local_supplier_user):
    revision = submitted(lot, local_supplier_user, "3900.00")
    withdraw_url = reverse("tenders:supplier_bid_withdraw", args=[lot.opportunity_id, lot.pk])
    client.force_login(local_supplier_user)
    assert withdraw_url in page_of(client.get(bid_url(lot)))

    page = page_of(client.get(withdraw_url))
    assert "Withdraw your bid for lot 1: Town hall?" in page
    assert "You can submit it again until 1 July 2026 at 12:00:00 (UK time)" in page
    assert Bid.objects.get().status == BidStatus.SUBMITTED

    response = client.post(withdraw_url)
    assert response.status_code == 302 and response.url == bid_url(lot)
    bid = Bid.objects.get()
    assert bid.status == BidStatus.WITHDRAWN and bid.revisions.count() == 1
    page = page_of(client.get(bid_url(lot)))
    assert "You have withdrawn your bid for Lot 1: Town hall" in page
    assert "Withdrawn" in page and revision.receipt_reference in page
    assert "You withdrew this bid 1 June 2026 at 09:00:00" in page_of(
        client.get(receipt_url(revision))
    )
    # Nothing left to withdraw: the confirmation page sends it back to the bid.
    assert client.get(withdraw_url).url == bid_url(lot)


def test_a_bid_one_second_after_the_deadline_is_refused_with_both_times_and_the_file_kept(
    client, clock, lot, local_supplier_user
):
    client.force_login(local_supplier_user)
    client.post(bid_url(lot), {"price": "3900", "declarations": ALL[:1], "file": pdf()})
    clock.move_to(BIDS_CLOSE + datetime.timedelta(seconds=1))
    client.force_login(local_supplier_user)  # a new session: the first has expired
    response = client.post(bid_url(lot), {"price": "4,100.00", "declarations": ALL, "submit": ""})
    page = page_of(response)
    assert response.status_code == 200
    assert "govuk-error-summary" in page
    assert (
        "The deadline was 1 July 2026 at 12:00:00 (UK time). Your bid reached us at "
        "1 July 2026 at 12:00:01, after the deadline, so it was not submitted."
    ) in page
    # The read-only page a reload shows: no form, no buttons; the draft's file is kept.
    assert "You submitted no version before the deadline" in page
    assert "Save draft" not in page and "Submit bid" not in page and 'name="price"' not in page
    assert not BidRevision.objects.exists()
    assert Bid.objects.get().files.count() == 1


def test_a_late_revision_shows_the_read_only_page_and_the_version_that_stands(
    client, clock, lot, local_supplier_user
):
    """The page was open at the deadline; the new version is refused, and the
    page says which version the council will open."""
    submitted(lot, local_supplier_user, "3900")
    clock.move_to(BIDS_CLOSE + datetime.timedelta(seconds=1))
    client.force_login(local_supplier_user)
    response = client.post(bid_url(lot), {"price": "3800", "declarations": ALL, "submit": ""})
    page = page_of(response)
    assert response.status_code == 200
    assert "after the deadline, so it was not submitted." in page
    assert (
        "Your version 1, submitted on 1 June 2026 at 09:00:00 (UK time), stands and will be opened."
    ) in page
    assert "Save draft" not in page and "Submit bid" not in page
    assert page.index('id="refusal"') < page.index('id="closed"')  # "Bids closed ..."
    assert BidRevision.objects.count() == 1


def test_a_late_bid_after_the_opportunity_was_closed_still_gets_both_times(
    client, clock, lot, local_supplier_user
):
    clock.move_to(BIDS_CLOSE + datetime.timedelta(seconds=31))
    assert close_due() == 1
    client.force_login(local_supplier_user)
    response = client.post(bid_url(lot), {"price": "4100", "declarations": ALL, "submit": ""})
    page = page_of(response)
    assert "Your bid reached us at 1 July 2026 at 12:00:31, after the deadline" in page
    assert "You submitted no version before the deadline" in page and 'name="price"' not in page
    assert not Bid.objects.exists()


def test_after_the_deadline_a_file_cannot_be_removed_nor_the_bid_withdrawn(
    client, clock, lot, local_supplier_user
):
    submitted(lot, local_supplier_user, "3900.00", ("method.pdf", METHOD))
    draft_file = BidFile.objects.get(revision__isnull=True)
    args = [lot.opportunity_id, lot.pk]
    clock.move_to(BIDS_CLOSE + datetime.timedelta(seconds=1))
    client.force_login(local_supplier_user)
    late = "Your bid reached us at 1 July 2026 at 12:00:01, after the deadline"
    response = client.post(
        reverse("tenders:supplier_bid_file_remove", args=[*args, draft_file.pk]), CONFIRM
    )
    page = page_of(response)
    assert response.status_code == 200 and "govuk-error-summary" in page and late in page
    assert BidFile.objects.filter(pk=draft_file.pk).exists()
    response = client.post(reverse("tenders:supplier_bid_withdraw", args=args))
    page = page_of(response)
    assert "govuk-error-summary" in page
    assert (
        "Your withdrawal reached us at 1 July 2026 at 12:00:01, after the deadline, so your "
        "bid stands as submitted." in page
    )
    assert Bid.objects.get().status == BidStatus.SUBMITTED


def test_a_fake_pdf_is_refused_with_the_upload_message_and_the_price_is_kept(
    client, lot, local_supplier_user
):
    client.force_login(local_supplier_user)
    response = client.post(
        bid_url(lot),
        {
            "price": "3900",
            "declarations": ALL,
            "file": pdf(b"MZ\x90\x00 not a pdf", name="fake.pdf"),
            "submit": "",
        },
    )
    page = page_of(response)
    assert response.status_code == 200 and "govuk-error-summary" in page
    assert "The selected file fake.pdf is not a real PDF file" in page
    assert 'value="3900"' in page
    bid = Bid.objects.get()
    assert bid.draft_price == Decimal("3900.00") and not bid.files.exists()
    # A refused file stops the submission.
    assert not BidRevision.objects.exists()


def test_submitting_without_every_declaration_says_so_and_saves_the_draft(
    client, lot, local_supplier_user
):
    client.force_login(local_supplier_user)
    response = client.post(bid_url(lot), {"price": "3900", "declarations": ALL[:2], "submit": ""})
    page = page_of(response)
    # In the error summary and at the declarations.
    assert page.count("Confirm every declaration before you submit") == 2
    assert 'id="id_declarations_1_error"' in page
    assert Bid.objects.get().draft_price == Decimal("3900.00")
    response = client.post(bid_url(lot), {"price": "", "declarations": ALL, "submit": ""})
    assert 'href="#id_price">Enter your price before you submit<' in page_of(response)
    # Both missing: both said at once, not one a round.
    both = page_of(client.post(bid_url(lot), {"price": "", "submit": ""}))
    assert 'href="#id_price">Enter your price before you submit<' in both
    assert "Confirm every declaration before you submit" in both
    response = client.post(bid_url(lot), {"price": "lots", "submit": ""})
    assert "Enter your price as an amount in pounds" in page_of(response)
    assert not BidRevision.objects.exists()


def test_after_the_deadline_the_page_says_bids_have_closed_and_keeps_the_receipts(
    client, clock, lot, local_supplier_user
):
    revision = submitted(lot, local_supplier_user, "3900.00")
    clock.move_to(BIDS_CLOSE + datetime.timedelta(minutes=1))
    close_due()
    client.force_login(local_supplier_user)
    page = page_of(client.get(bid_url(lot)))
    assert "Bids closed 1 July 2026 at 12:00:00 (UK time)" in page
    assert "Save draft" not in page and "Withdraw your bid" not in page
    assert revision.receipt_reference in page
    assert client.get(receipt_url(revision)).status_code == 200
    other_lot = lot.opportunity.lots.get(number=2)
    assert "You did not bid for this lot." in page_of(client.get(bid_url(other_lot)))


def test_a_cancelled_opportunity_says_so(client, lot, officer, local_supplier_user):
    opportunity_cancel(opportunity=lot.opportunity, by=officer, reason="Budget withdrawn.")
    client.force_login(local_supplier_user)
    page = page_of(client.get(bid_url(lot)))
    assert "The council cancelled this opportunity on 1 June 2026" in page
    assert "Save draft" not in page


# --- Receipts and files ------------------------------------------------------------------


def test_the_receipt_downloads_as_a_text_file_to_keep(client, lot, local_supplier_user):
    revision = submitted(
        lot, local_supplier_user, "3900.00", ("method.pdf", METHOD), ("prices.csv", PRICES)
    )
    client.force_login(local_supplier_user)
    response = client.get(receipt_url(revision, text=True))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="receipt-{revision.receipt_reference}.txt"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert f"Receipt reference: {revision.receipt_reference}" in text
    assert "Received:          1 June 2026 at 09:00:00 (UK time)" in text
    assert "Council:           Demo Council" in text
    assert "Lot:               1. Town hall" in text
    assert "Bidder:            Aire Valley Cleaning Ltd" in text
    assert "Price:             £3,900.00" in text
    for name, content in [("method.pdf", METHOD), ("prices.csv", PRICES)]:
        assert f"  {name}\n    Size:    {len(content)} bytes\n" in text
        assert f"SHA-256: {hashlib.sha256(content).hexdigest()}" in text
    for declaration in DECLARATIONS.values():
        assert f"  - {declaration}" in text
    assert "&" not in text.replace("&amp;", "")  # plain text, not HTML-escaped


def test_the_suppliers_people_download_their_files_never_from_a_public_url(
    client, lot, local_supplier_user, settings
):
    revision = submitted(lot, local_supplier_user, "3900.00", ("method.pdf", METHOD))
    colleague = user_create(
        email="colleague@aire-valley.example",
        full_name="Colleague",
        role="supplier",
        supplier=local_supplier_user.supplier,
        supplier_role="member",
        password="a long test passphrase",
        email_verified=True,
        by=None,
    )
    bid_file = revision.files.get()
    client.force_login(colleague)
    response = client.get(file_url(bid_file))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == METHOD
    assert response["Content-Disposition"] == 'attachment; filename="method.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    page = page_of(client.get(receipt_url(revision)))
    assert file_url(bid_file) in page
    assert settings.MEDIA_URL not in page and bid_file.file.name not in page


# --- Who may see what --------------------------------------------------------------------


@pytest.fixture
def urls_of_a_bid(lot, local_supplier_user):
    """Every supplier bid URL for Aire Valley's bid, with real pks."""
    revision = submitted(lot, local_supplier_user, "3900.00", ("method.pdf", METHOD))
    bid = revision.bid
    draft_file = bid.files.get(revision__isnull=True)
    args = [lot.opportunity_id, lot.pk]
    return {
        "bid page": ("get", bid_url(lot)),
        "bid post": ("post", bid_url(lot)),
        "withdraw": ("get", reverse("tenders:supplier_bid_withdraw", args=args)),
        "withdraw post": ("post", reverse("tenders:supplier_bid_withdraw", args=args)),
        "receipt": ("get", receipt_url(revision)),
        "receipt.txt": ("get", receipt_url(revision, text=True)),
        "submitted file": ("get", file_url(revision.files.get())),
        "draft file": ("get", file_url(draft_file)),
        "remove file": (
            "post",
            reverse("tenders:supplier_bid_file_remove", args=[*args, draft_file.pk]),
        ),
        "remove file page": (
            "get",
            reverse("tenders:supplier_bid_file_remove", args=[*args, draft_file.pk]),
        ),
    }


@pytest.mark.parametrize(
    "persona",
    [
        "care_user",  # another supplier invited to the same opportunity
        "distant_supplier_user",  # a supplier not invited
        "officer",  # the buyer's own officer: bids are read on the officer's pages
        "auditor",
        "admin_user",
        "other_officer",  # another council's officer
    ],
)
def test_everyone_but_the_bids_own_supplier_gets_404(
    client, request, urls_of_a_bid, persona, local_supplier_user
):
    client.force_login(request.getfixturevalue(persona))
    for name, (method, url) in urls_of_a_bid.items():
        if persona == "care_user" and name.startswith("bid "):
            continue  # invited too: the lot's bid page is its own (see the next test)
        data = {"price": "1", "declarations": ALL, "submit": ""} if name == "bid post" else {}
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (persona, name)
    bid = Bid.objects.get()
    assert bid.status == BidStatus.SUBMITTED and bid.draft_price == Decimal("3900.00")
    assert bid.files.count() == 2 and Bid.objects.count() == 1


def test_another_invited_supplier_sees_only_its_own_bid_for_the_lot(
    client, lot, local_supplier_user, care_user
):
    revision = submitted(lot, local_supplier_user, "3917.43", ("method.pdf", METHOD))
    client.force_login(care_user)
    page = page_of(client.get(bid_url(lot)))
    assert "Not started" in page
    for secret in [revision.receipt_reference, "3917", "method.pdf"]:
        assert secret not in page
    client.post(bid_url(lot), {"price": "100", "declarations": ALL, "submit": ""})
    theirs = Bid.objects.get(supplier=care_user.supplier)
    assert theirs.pk != revision.bid_id and theirs.revisions.get().price == Decimal("100.00")
    assert revision.bid.revisions.get().price == Decimal("3917.43")


def test_the_owner_reaches_every_page(client, urls_of_a_bid, local_supplier_user):
    client.force_login(local_supplier_user)
    for name, (method, url) in urls_of_a_bid.items():
        if method == "get":
            assert client.get(url).status_code == 200, name


def test_anonymous_people_are_sent_to_sign_in(client, urls_of_a_bid):
    for name, (method, url) in urls_of_a_bid.items():
        response = getattr(client, method)(url)
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("login")), name


def test_a_lot_of_another_opportunity_is_404(client, opportunity, officer, local_supplier_user):
    from tests.tenders_helpers import make_opportunity

    elsewhere = make_opportunity(officer, "4000.00")  # a draft, nobody invited
    client.force_login(local_supplier_user)
    assert client.get(bid_url(elsewhere.lots.get())).status_code == 404
    mixed = reverse("tenders:supplier_bid", args=[opportunity.pk, elsewhere.lots.get().pk])
    assert client.get(mixed).status_code == 404


# --- The opportunity's page and the data export ------------------------------------------


def test_the_opportunity_page_shows_the_bid_of_each_lot(
    client, lot, local_supplier_user, django_assert_num_queries
):
    from tests.test_supplier_opportunities import DETAIL_QUERIES

    revision = submitted(lot, local_supplier_user, "3900.00")
    client.force_login(local_supplier_user)
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(reverse("tenders:opportunity_detail", args=[lot.opportunity_id]))
    section = page_of(response).split('id="your-bids"', 1)[1].split("</dl>", 1)[0]
    town_hall, library = section.split("Lot 2. Library")
    assert "Submitted" in town_hall and revision.receipt_reference in town_hall
    assert receipt_url(revision) in town_hall and bid_url(lot) in town_hall
    assert "1 June 2026 at 09:00:00" in town_hall
    assert "Not started" in library and "Prepare" in library


def test_download_everything_includes_the_bids_with_receipts_and_file_hashes(
    lot, local_supplier_user, care_user
):
    first = submitted(lot, local_supplier_user, "3900.00", ("method.pdf", METHOD))
    second = submitted(lot, local_supplier_user, "3800.00")
    submitted(lot.opportunity.lots.get(number=2), care_user, "100.00")  # not theirs
    (bid,) = organisation_data(local_supplier_user.supplier)["bids"]
    assert bid["lot"] == "Lot 1: Town hall" and bid["status"] == "submitted"
    assert bid["opportunity_reference"] == lot.opportunity.reference
    assert [v["receipt_reference"] for v in bid["versions"]] == [
        first.receipt_reference,
        second.receipt_reference,
    ]
    assert bid["versions"][0]["price"] == Decimal("3900.00")
    assert bid["versions"][0]["submitted_at"] == first.submitted_at
    assert bid["versions"][0]["files"] == [
        {"name": "method.pdf", "size": len(METHOD), "sha256": hashlib.sha256(METHOD).hexdigest()}
    ]
    assert bid["versions"][1]["files"] == bid["versions"][0]["files"]


# --- Query counts ------------------------------------------------------------------------

# session, user, opportunity with its lot (and has it a questionnaire? issue 17;
# ``supplier_lot``, one statement), bid, draft files, versions, unread count
BID_PAGE_QUERIES = 7
# session, user, the version with its bid, opportunity, lot and supplier, files, unread count
RECEIPT_QUERIES = 5


def test_the_bid_page_and_the_receipt_make_a_fixed_number_of_queries(
    client, clock, lot, local_supplier_user, django_assert_num_queries
):
    client.force_login(local_supplier_user)
    with django_assert_num_queries(BID_PAGE_QUERIES - 2):  # no bid: no files or versions
        assert client.get(bid_url(lot)).status_code == 200
    first = submitted(lot, local_supplier_user, "3900.00", ("method.pdf", METHOD))
    with django_assert_num_queries(BID_PAGE_QUERIES):
        client.get(bid_url(lot))
    with django_assert_num_queries(RECEIPT_QUERIES):
        client.get(receipt_url(first))

    for n in range(4):
        clock.shift(datetime.timedelta(minutes=5))
        last = submitted(
            lot, local_supplier_user, f"38{n}0.00", (f"part-{n}.txt", f"Part {n}".encode())
        )
    with django_assert_num_queries(BID_PAGE_QUERIES):
        response = client.get(bid_url(lot))
    assert len(response.context["revisions"]) == 5
    assert len(response.context["draft_files"]) == 5
    with django_assert_num_queries(RECEIPT_QUERIES):
        response = client.get(receipt_url(last))
    assert len(response.context["files"]) == 5


# --- The bid pages' one read of the lot (plain SQL, ADR 10) ------------------------------


def _orm_lot(user, pk: int, lot_pk: int):
    """What the bid pages read before: only for a supplier's people
    (``_supplier_user``), ``get_opportunity_for`` (the visibility rule) with
    ``questionnaire_annotations``, then the lot; None where they answer 404."""
    from django.http import Http404

    from tenders.models import Lot
    from tenders.selectors import get_opportunity_for
    from tenders.services.answers import questionnaire_annotations

    if not (user.is_supplier_user and user.supplier_id):
        return None
    try:
        opportunity = get_opportunity_for(user, pk, **questionnaire_annotations())
    except Http404:
        return None
    lot = Lot.objects.filter(pk=lot_pk, opportunity=opportunity).first()
    return None if lot is None else (opportunity, lot)


def test_a_bid_pages_lot_is_read_as_the_orm_reads_it_and_only_where_the_rule_shows_it(
    opportunity, lot, officer, local_supplier_user, distant_supplier_user, in_process_tasks
):
    """``supplier_lot`` (one plain statement) gives what the visibility rule and
    the ORM give, every column of the opportunity, its council, category,
    department and lot, with whether it has a questionnaire, on both databases;
    None wherever the ORM's pages answer 404."""
    from portal.services import department_create
    from tenders.models import Opportunity, Question
    from tenders.selectors import supplier_lot

    other = opportunity.lots.get(number=2)
    draft = opportunity_create(
        buyer=officer.buyer,
        by=officer,
        title="Window cleaning",
        description="Windows of the town hall.",
        cpv=CpvCode.objects.get(code="90910000-9"),
        contract_kind="services",
        lots=[LotSpec("Town hall", Decimal("2000.00"))],
        criteria=[CriterionSpec("Price", 100, is_price=True)],
        clarification_deadline=datetime.datetime(2026, 6, 20, 17, 0, tzinfo=LONDON),
        submission_deadline=BIDS_CLOSE,
    )
    invite(opportunity=draft, suppliers=[local_supplier_user.supplier], by=officer)
    draft_lot = draft.lots.get()

    def same(user, pk, lot_pk) -> bool:
        read, orm = supplier_lot(user, pk, lot_pk), _orm_lot(user, pk, lot_pk)
        if orm is None:
            return read is None
        assert read is not None
        (o, its_lot), (oo, orm_lot) = read, orm
        for ours, theirs in ((o, oo), (o.buyer, oo.buyer), (o.cpv, oo.cpv), (its_lot, orm_lot)):
            assert loaded_columns(ours) == loaded_columns(theirs)
            assert ours.get_deferred_fields() == set()
        assert loaded_columns(o.department) == loaded_columns(oo.department)
        assert (o.has_questions, o.has_pricing_lines) == (oo.has_questions, oo.has_pricing_lines)
        assert its_lot.opportunity is o
        return True

    supplier = local_supplier_user
    assert same(supplier, opportunity.pk, lot.pk) and supplier_lot(supplier, opportunity.pk, lot.pk)
    assert same(supplier, opportunity.pk, other.pk)
    # With a department and a question: read with it.
    department = department_create(buyer=officer.buyer, name="Facilities", by=officer)
    Opportunity.objects.filter(pk=opportunity.pk).update(department=department)
    Question.objects.create(opportunity=opportunity, kind="pass_fail", number=1, text="Insured?")
    assert same(supplier, opportunity.pk, lot.pk)
    assert supplier_lot(supplier, opportunity.pk, lot.pk)[0].has_questions is True
    # None where the pages answer 404: another opportunity's lot, a draft, a
    # supplier not invited, a council's officer, no such opportunity.
    for user, pk, lot_pk in (
        (supplier, opportunity.pk, draft_lot.pk),
        (supplier, draft.pk, draft_lot.pk),
        (distant_supplier_user, opportunity.pk, lot.pk),
        (officer, opportunity.pk, lot.pk),
        (supplier, 10**9, lot.pk),
    ):
        assert supplier_lot(user, pk, lot_pk) is None
        assert same(user, pk, lot_pk)
    # Cancelled after it was published: still shown, as the ORM shows it.
    opportunity_cancel(opportunity=opportunity, by=officer, reason="No longer needed.")
    assert same(supplier, opportunity.pk, lot.pk) and supplier_lot(supplier, opportunity.pk, lot.pk)
