"""The council's bid pages: two officers open the box, then the officers mark,
exclude, rank and award through the pages; auditors read; everyone else
gets 404."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal as D

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, InboxMessage, User
from tenders.models import Award, Bid, BidFile, BoxOpening, Contract, Opportunity, Score
from tenders.services import (
    DECLARATIONS,
    BidRefused,
    award_lot,
    bid_add_file,
    bid_save_draft,
    bid_start,
    bid_submit,
    box_open,
    invite,
    opportunity_publish,
    score_set,
)
from tests.tenders_helpers import approved_supplier, contract_dates, make_opportunity
from tests.two_factor_helpers import verified_force_login

ALL_DECLARED = dict.fromkeys(DECLARATIONS, True)
START, END = "1 1 2027", "31 12 2027"


# --- Fixtures and helpers --------------------------------------------------------------


@pytest.fixture
def clock(demo_data, settings, tmp_path):
    """Frozen now; bid files stored in a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def publish_with_bidders(officer: User, n: int, *lot_values: str) -> Opportunity:
    """A published opportunity (Price 40, Quality 60) with ``n`` invited local
    bidders, "Bidder 1" … "Bidder n"."""
    suppliers = [approved_supplier(f"Bidder {i}", f"BD{i % 24 + 1} 1AA") for i in range(1, n + 1)]
    opportunity = make_opportunity(officer, *(lot_values or ("4000.00", "4000.00")))
    invite(opportunity=opportunity, suppliers=suppliers, by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    opportunity.refresh_from_db()
    return opportunity


@pytest.fixture
def published(clock, officer, in_process_tasks) -> Opportunity:
    return publish_with_bidders(officer, 3)


def bidder(n: int) -> User:
    return User.objects.get(email=f"bids@bidder-{n}.example")


def submit(opportunity, n, price, lot_number=1, *, files=(("method.pdf", b"%PDF-1.4 method"),)):
    """Bidder ``n`` submits a version of its bid (a new version if it has one)."""
    person = bidder(n)
    bid = bid_start(lot=opportunity.lots.get(number=lot_number), by=person)
    bid_save_draft(bid=bid, by=person, price=D(price), declarations=ALL_DECLARED)
    for name, content in files:
        bid_add_file(bid=bid, by=person, upload=SimpleUploadedFile(name, content))
    return bid_submit(bid=bid, by=person)


def pass_deadline(clock, opportunity) -> None:
    clock.move_to(opportunity.submission_deadline + datetime.timedelta(minutes=1))


def open_box(clock, opportunity, first, second) -> None:
    pass_deadline(clock, opportunity)
    box_open(opportunity=opportunity, by=first)
    clock.shift(datetime.timedelta(minutes=2))
    box_open(opportunity=opportunity, by=second)
    opportunity.refresh_from_db()


@pytest.fixture
def opened(published, clock, officer, second_officer) -> Opportunity:
    submit(published, 1, "4000.00")  # dearer, better quality
    submit(published, 2, "2000.00")  # cheapest
    submit(published, 3, "3000.00")
    submit(published, 1, "2500.00", lot_number=2)
    submit(published, 2, "2600.00", lot_number=2)
    open_box(clock, published, officer, second_officer)
    return published


def signed_in(user: User) -> Client:
    """A client signed in now (sessions last a working day, so sign in after
    the clock has moved)."""
    client = verified_force_login(Client())
    client.force_login(user)
    return client


def main_text(response) -> str:
    page = response.content.decode()
    main = page[page.index("<main") : page.index("</main>")]
    text = re.sub(r"<[^>]+>", " ", main)
    for entity, char in [("&#x27;", "'"), ("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<")]:
        text = text.replace(entity, char)
    return re.sub(r"\s+", " ", text)


def bid_of(opportunity, n, lot_number=1) -> Bid:
    return Bid.objects.get(
        opportunity=opportunity, lot__number=lot_number, supplier__legal_name=f"Bidder {n}"
    )


def detail_url(opportunity) -> str:
    return reverse("tenders:opportunity_detail", args=[opportunity.pk])


def evaluation_url(opportunity, lot_number=1) -> str:
    return reverse(
        "tenders:lot_evaluation", args=[opportunity.pk, opportunity.lots.get(number=lot_number).pk]
    )


def award_url(opportunity, lot_number=1) -> str:
    return reverse(
        "tenders:lot_award", args=[opportunity.pk, opportunity.lots.get(number=lot_number).pk]
    )


def quality(opportunity):
    return opportunity.criteria.get(is_price=False)


def score_url(opportunity, bid) -> str:
    return reverse("tenders:bid_score", args=[opportunity.pk, bid.pk, quality(opportunity).pk])


def mark(client, opportunity, bid, value, comment="Clear method."):
    prefix = f"c{quality(opportunity).pk}"
    return client.post(
        score_url(opportunity, bid), {f"{prefix}-mark": value, f"{prefix}-comment": comment}
    )


def award_dates(opportunity) -> dict[str, str]:
    """``award_form``'s start and end: a contract from the day after the bids closed."""
    start, end = contract_dates(opportunity)
    return {"start": f"{start:%-d %-m %Y}", "end": f"{end:%-d %-m %Y}"}


def award_form(reasons="Best value for money.", start=START, end=END) -> dict[str, str]:
    data = {"reasons": reasons}
    for field, day in [("start_date", start), ("end_date", end)]:
        for n, part in enumerate(day.split()):
            data[f"{field}_{n}"] = part
    return data


def every_bid_url(opportunity, bid=None) -> list[tuple[str, str]]:
    """Every council bid URL of ``opportunity`` with real pks: (method, url)."""
    bid = bid or Bid.objects.filter(opportunity=opportunity).first()
    bid_file = bid.files.filter(revision__isnull=False).first()
    pk, lot_pk = opportunity.pk, bid.lot_id
    criterion = quality(opportunity).pk
    gets = [
        reverse("tenders:lot_evaluation", args=[pk, lot_pk]),
        reverse("tenders:lot_award", args=[pk, lot_pk]),
        reverse("tenders:bid_detail", args=[pk, bid.pk]),
        reverse("tenders:bid_file", args=[pk, bid.pk, bid_file.pk]),
    ]
    posts = [
        reverse("tenders:box_open", args=[pk]),
        reverse("tenders:lot_award", args=[pk, lot_pk]),
        reverse("tenders:bid_score", args=[pk, bid.pk, criterion]),
        reverse("tenders:bid_exclude", args=[pk, bid.pk]),
    ]
    return [("get", url) for url in gets] + [("post", url) for url in posts]


# --- Opening the box ------------------------------------------------------------------


def test_the_box_cannot_be_opened_before_the_deadline(published, officer):
    submit(published, 1, "3900.00")
    client = signed_in(officer)
    page = main_text(client.get(detail_url(published)))
    assert "Sealed until the deadline" in page
    assert "Open the bids" not in page
    response = client.post(reverse("tenders:box_open", args=[published.pk]))
    assert response.status_code == 200
    summary = main_text(response)
    assert "The bids were not opened" in summary
    assert "cannot be opened before the deadline" in summary
    assert not BoxOpening.objects.exists()


def test_one_officer_alone_cannot_open_the_box(published, clock, officer):
    submit(published, 1, "3900.00")
    pass_deadline(clock, published)
    client = signed_in(officer)
    page = main_text(client.get(detail_url(published)))
    assert "Closed: waiting for two officers to open the bids" in page
    response = client.post(reverse("tenders:box_open", args=[published.pk]), follow=True)
    at = timezone.localtime(BoxOpening.objects.get().first_at)
    page = main_text(response)
    assert (
        f"You confirmed the opening at {at:%-d %B %Y at %H:%M:%S}; a second officer must confirm"
        in page
    )
    assert f"Priya Shah confirmed at {at:%-d %B %Y at %H:%M:%S}; a second officer must confirm" in (
        page
    )
    assert "Confirm the opening as the second officer" not in page
    # The same officer again is refused, on the page, with the reason.
    again = client.post(reverse("tenders:box_open", args=[published.pk]))
    assert again.status_code == 200
    assert "A second, different officer must confirm the opening" in main_text(again)
    assert not BoxOpening.objects.get().opened
    for method, url in every_bid_url(published)[:4]:
        assert getattr(client, method)(url).status_code == 404, url


def test_two_officers_open_the_box_and_both_are_recorded_and_shown(
    published, clock, officer, second_officer
):
    submit(published, 1, "3900.00")
    pass_deadline(clock, published)
    first_at = timezone.now()
    signed_in(officer).post(reverse("tenders:box_open", args=[published.pk]))
    clock.shift(datetime.timedelta(minutes=3))
    second_at = timezone.now()
    second = signed_in(second_officer)
    page = main_text(second.get(detail_url(published)))
    assert "Confirm the opening as the second officer" in page
    response = second.post(reverse("tenders:box_open", args=[published.pk]), follow=True)
    page = main_text(response)
    assert "The bids are open." in page
    event = AuditEvent.objects.get(action="box.opened")
    assert event.context["first_officer"] == officer.email
    assert event.context["second_officer"] == second_officer.email
    assert event.context["first_at"].startswith(first_at.isoformat()[:19])
    assert event.context["second_at"].startswith(second_at.isoformat()[:19])
    first_local, second_local = timezone.localtime(first_at), timezone.localtime(second_at)
    assert (
        f"Opened by Priya Shah ({first_local:%-d %B %Y at %H:%M:%S}) and Tom Hughes "
        f"({second_local:%-d %B %Y at %H:%M:%S})"
    ) in page
    assert "Evaluation of lot 1" in page and "Award lot 2" in page
    assert Opportunity.objects.get(pk=published.pk).status == "evaluation"
    # The auditor's history names the two officers as people, not by their
    # email (as the trail, which cannot change, recorded them).
    from portal.models import User

    auditor = User.objects.get(email="auditor@demo-council.example")
    history = main_text(
        signed_in(auditor).get(reverse("transparency:opportunity_history", args=[published.pk]))
    )
    assert "First officer Priya Shah" in history and "Second officer Tom Hughes" in history
    assert "Second officer confirmed" in history and "Second at" not in history
    assert officer.email not in history


def test_an_auditor_and_the_councils_administrator_cannot_open_the_box(
    published, clock, auditor, admin_user
):
    pass_deadline(clock, published)
    for person in (auditor, admin_user):
        client = signed_in(person)
        assert "<form" not in main_text(client.get(detail_url(published)))
        assert client.post(reverse("tenders:box_open", args=[published.pk])).status_code == 403
    assert not BoxOpening.objects.exists()


# --- Evaluation ------------------------------------------------------------------------


def test_the_ranking_shows_weighted_points_totals_and_ranks(opened, officer):
    client = signed_in(officer)
    for n, value in [(1, "100"), (2, "50"), (3, "50")]:
        assert mark(client, opened, bid_of(opened, n), value).status_code == 302
    response = client.get(evaluation_url(opened))
    table = [
        (
            row.ranked.rank,
            row.ranked.bid.supplier.legal_name,
            row.ranked.price,
            [points for points, _ in row.points],
            row.ranked.total,
            row.local,
        )
        for row in response.context["rows"]
    ]
    assert table == [
        (1, "Bidder 1", D("4000.00"), [D("20.00"), D("60.00")], D("80.00"), True),
        (2, "Bidder 2", D("2000.00"), [D("40.00"), D("30.00")], D("70.00"), True),
        (3, "Bidder 3", D("3000.00"), [D("26.67"), D("30.00")], D("56.67"), True),
    ]
    page = main_text(response)
    assert "1 Bidder 1 Local £4,000.00 20.00 60.00 80.00" in page
    assert "3 Bidder 3 Local £3,000.00 26.67 30.00 56.67" in page
    html = response.content.decode()
    for n in (1, 2, 3):
        assert reverse("tenders:bid_detail", args=[opened.pk, bid_of(opened, n).pk]) in html


def test_a_criterion_not_marked_yet_counts_as_zero_and_says_so(opened, officer):
    page = main_text(signed_in(officer).get(evaluation_url(opened)))
    assert "3 Bidder 1 Local £4,000.00 20.00 0.00 (not marked) 20.00" in page


def test_the_price_is_that_of_the_latest_version(published, clock, officer, second_officer):
    submit(published, 1, "3900.00")
    submit(published, 1, "3100.00")
    open_box(clock, published, officer, second_officer)
    (row,) = signed_in(officer).get(evaluation_url(published)).context["rows"]
    assert row.ranked.price == D("3100.00")


def test_an_officer_marks_a_bid_on_its_page(opened, officer):
    client = signed_in(officer)
    bid = bid_of(opened, 2)
    response = mark(client, opened, bid, "75.5", "Good method, thin on staffing.")
    assert response.status_code == 302
    assert response["Location"] == reverse("tenders:bid_detail", args=[opened.pk, bid.pk])
    score = Score.objects.get(bid=bid)
    assert (score.mark, score.comment, score.scored_by) == (
        D("75.50"),
        "Good method, thin on staffing.",
        officer,
    )
    page = main_text(client.get(response["Location"]))
    assert "Marked 75.50% by Priya Shah" in page
    assert "Good method, thin on staffing." in page
    # A second mark replaces the first, and is audited.
    mark(client, opened, bid, "80")
    assert Score.objects.get(bid=bid).mark == D("80")
    assert AuditEvent.objects.filter(action="bid.scored").count() == 2


@pytest.mark.parametrize(
    ("value", "comment", "problem"),
    [
        ("101", "Too good.", "Enter a mark from 0 to 100"),
        ("-1", "Bad.", "Enter a mark from 0 to 100"),
        # One message, the portal's (Django's own said "no more than 3 digits" too).
        ("1000", "Too good.", "Enter a mark from 0 to 100"),
        # Not 70%: an exponent, infinity or "not a number" is not a mark.
        ("7e1", "Good.", "Enter the mark as a number from 0 to 100"),
        ("Infinity", "Good.", "Enter the mark as a number from 0 to 100"),
        ("nan", "Good.", "Enter the mark as a number from 0 to 100"),
        ("lots", "Bad.", "Enter the mark as a number from 0 to 100"),
        ("50", "", "Write a comment: the supplier will read it"),
    ],
)
def test_a_mark_is_checked_and_the_page_says_what_is_wrong(
    opened, officer, value, comment, problem
):
    response = mark(signed_in(officer), opened, bid_of(opened, 1), value, comment)
    assert response.status_code == 200
    assert problem in main_text(response)
    assert response.content.decode().count('class="govuk-error-summary"') == 1
    # One problem, one message: nothing of Django's own besides.
    page = response.content.decode()
    start = page.index('class="govuk-error-summary"')
    assert page[start : page.index("</ul>", start)].count("<li>") == 1
    assert "Ensure that" not in page
    assert not Score.objects.exists()


def test_the_price_cannot_be_marked_by_hand(opened, officer):
    price = opened.criteria.get(is_price=True)
    url = reverse("tenders:bid_score", args=[opened.pk, bid_of(opened, 1).pk, price.pk])
    assert signed_in(officer).post(url, {"mark": "100", "comment": "x"}).status_code == 404


def test_an_officer_excludes_a_bid_with_a_reason(opened, officer):
    client = signed_in(officer)
    bid = bid_of(opened, 2)
    url = reverse("tenders:bid_exclude", args=[opened.pk, bid.pk])
    refused = client.post(url, {"reason": "  "})
    assert "Give the reason for excluding the bid" in main_text(refused)
    response = client.post(url, {"reason": "Insurance certificate missing."}, follow=True)
    page = main_text(response)
    assert "The bid of Bidder 2 is excluded and left out of the ranking." in page
    names = [row.ranked.bid.supplier.legal_name for row in response.context["rows"]]
    assert names == ["Bidder 3", "Bidder 1"]  # by price alone, nothing marked
    excluded = main_text(response).split("Excluded bids", 1)[1]
    assert "Bidder 2 Local £2,000.00 Insurance certificate missing. By Priya Shah" in excluded
    # An excluded bid can no longer be marked.
    bid_page = main_text(client.get(reverse("tenders:bid_detail", args=[opened.pk, bid.pk])))
    assert "Excluded by Priya Shah: Insurance certificate missing." in bid_page
    assert "Save the mark" not in bid_page


def test_the_bid_page_opens_only_the_latest_version_and_lists_the_earlier_ones_sealed(
    published, clock, officer, second_officer
):
    """The supplier is told the council opens only its latest submitted version:
    an earlier version is listed (number, time, receipt) but its price and files
    stay sealed, on the page and at its file's address."""
    submit(published, 1, "3900.00", files=[("first.pdf", b"%PDF-1.4 first draft")])
    first_files = list(BidFile.objects.filter(bid=bid_of(published, 1), revision__isnull=False))
    submit(
        published,
        1,
        "3650.00",
        files=[("second.pdf", b"%PDF-1.4 second go"), ("prices.pdf", b"%PDF-1.4 rates")],
    )
    open_box(clock, published, officer, second_officer)
    client = signed_in(officer)
    bid = bid_of(published, 1)
    response = client.get(reverse("tenders:bid_detail", args=[published.pk, bid.pk]))
    page = main_text(response)
    versions = page.split("Submitted versions", 1)[1].split("Declarations", 1)[0]
    # The latest version keeps the files it was submitted with (the draft's files carry on).
    assert re.search(
        r"2 Latest LT-\S+ .* £3,650\.00 first\.pdf .* second\.pdf .* prices\.pdf", versions
    )
    assert re.search(r"1 LT-\S+ .* Not opened: replaced by version 2", versions)
    assert "£3,900.00" not in page
    for text in DECLARATIONS.values():
        assert f"Declared {text}" in page
    html = response.content.decode()
    links = re.findall(rf'href="(/opportunities/{published.pk}/bids/{bid.pk}/files/\d+/)"', html)
    assert len(links) == 3  # version 2: first, second, prices
    download = client.get(links[-1])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Cache-Control"] == "private, no-store"
    assert b"".join(download.streaming_content).startswith(b"%PDF-1.4")
    # Version 1's file, asked for by its address: not found.
    (earlier,) = first_files
    url = reverse("tenders:bid_file", args=[published.pk, bid.pk, earlier.pk])
    assert client.get(url).status_code == 404


def test_a_drafts_files_are_never_the_councils(published, clock, officer, second_officer):
    submit(published, 1, "3900.00")
    person = bidder(1)
    bid = bid_of(published, 1)
    draft_file = bid_add_file(
        bid=bid, by=person, upload=SimpleUploadedFile("unsent.pdf", b"%PDF-1.4 not sent")
    )
    open_box(clock, published, officer, second_officer)
    client = signed_in(officer)
    assert (
        "unsent.pdf"
        not in client.get(
            reverse("tenders:bid_detail", args=[published.pk, bid.pk])
        ).content.decode()
    )
    url = reverse("tenders:bid_file", args=[published.pk, bid.pk, draft_file.pk])
    assert client.get(url).status_code == 404


# --- Award -----------------------------------------------------------------------------


def test_award_through_the_page_with_the_cap_on_lots(
    opened, officer, django_capture_on_commit_callbacks
):
    Opportunity.objects.filter(pk=opened.pk).update(max_lots_per_supplier=1)
    client = signed_in(officer)
    for n, value in [(1, "100"), (2, "50"), (3, "50")]:
        mark(client, opened, bid_of(opened, n), value)
        if n < 3:
            mark(client, opened, bid_of(opened, n, lot_number=2), value)

    page = main_text(client.get(award_url(opened)))
    assert "The award would go to Bidder 1 (ranked 1), at £4,000.00." in page
    missing = client.post(award_url(opened), award_form(reasons=""))
    assert "Write the reasons for the award" in main_text(missing)
    dates = award_dates(opened)
    backwards = client.post(award_url(opened), award_form(start=dates["end"], end=dates["start"]))
    assert "The contract must end on or after its start date" in main_text(backwards)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(award_url(opened), award_form(**dates), follow=True)
    page = main_text(response)
    assert "Lot 1 is awarded to Bidder 1. Every bidder has been sent the outcome." in page
    assert "Awarded to Bidder 1 £4,000.00" in page
    assert "None: the best-ranked bid was awarded." in page

    # Bidder 1 ranks first on lot 2 too, but already holds the one lot allowed.
    page = main_text(client.get(award_url(opened, 2)))
    assert "The award would go to Bidder 2 (ranked 2), at £2,600.00." in page
    assert "Bidder 1 (ranked 1) would be passed over: it already holds 1 lot" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(award_url(opened, 2), award_form("Next best.", **dates), follow=True)
    page = main_text(response)
    assert "Lot 2 is awarded to Bidder 2." in page
    passed = page.split("Higher-ranked bids passed over", 1)[1]
    assert "1 Bidder 1 Already holds 1 lot, the most one supplier may win" in passed

    opened.refresh_from_db()
    assert opened.status == "awarded"
    second = Award.objects.get(lot__number=2, lot__opportunity=opened)
    assert second.passed_over[0]["supplier"] == "Bidder 1"
    contract = Contract.objects.get(award=second)
    start, end = contract_dates(opened)
    assert (contract.start_date, contract.end_date) == (start, end)
    detail = main_text(client.get(detail_url(opened)))
    assert "1. Lot 1 Awarded to Bidder 1 , £4,000.00" in detail
    assert f"Contract {start:%-d %B %Y} to {end:%-d %B %Y}" in detail
    assert "Award lot" not in detail  # both awarded
    # The outcome letters reached the bidders' inboxes.
    assert InboxMessage.objects.filter(
        recipient=bidder(1), subject__startswith="Your bid was successful"
    ).exists()
    lost = InboxMessage.objects.filter(
        recipient=bidder(3), subject__startswith="Your bid was not successful"
    )
    assert lost.count() == 1
    # Nothing more can be awarded.
    again = client.post(award_url(opened), award_form(), follow=True)
    assert "This lot cannot be awarded now." in main_text(again)
    assert Award.objects.filter(lot__opportunity=opened).count() == 2


def test_a_contract_in_two_figure_years_or_starting_before_the_bids_closed_is_refused(
    opened, officer
):
    client = signed_in(officer)
    for n in (1, 2, 3):
        mark(client, opened, bid_of(opened, n), "70")
    short = client.post(award_url(opened), award_form(start="1 1 27", end="1 1 29"))
    summary = main_text(short)
    next_year = timezone.localdate().year + 1
    assert (
        f"The year of the date the contract starts must have 4 numbers, like {next_year}" in summary
    )
    assert f"The year of the date the contract ends must have 4 numbers, like {next_year}" in (
        summary
    )
    closed = timezone.localtime(opened.submission_deadline).date()
    assert f"The day the bids closed, {closed:%-d %-m %Y}, or later" in summary  # the hint
    day_before = closed - datetime.timedelta(days=1)
    early = client.post(
        award_url(opened), award_form(start=f"{day_before:%-d %-m %Y}", end="31 12 2030")
    )
    assert early.status_code == 200
    assert (
        f"The contract cannot start before the bids closed on {closed:%-d %B %Y}: it is made "
        "on those bids. Enter a start date on or after that day"
    ) in main_text(early)
    assert 'href="#id_start_date_0">The contract cannot start' in early.content.decode()
    assert not Award.objects.exists()
    # The service refuses it too, whoever calls it.
    with pytest.raises(BidRefused, match="cannot start before the bids closed"):
        award_lot(
            lot=opened.lots.get(number=1),
            by=officer,
            reasons="Best value.",
            start_date=day_before,
            end_date=datetime.date(2030, 12, 31),
        )
    assert not Award.objects.exists()
    # The day the bids closed is a start allowed.
    on_the_day = client.post(
        award_url(opened), award_form(start=f"{closed:%-d %-m %Y}", end="31 12 2030")
    )
    assert on_the_day.status_code == 302
    assert Contract.objects.get().start_date == closed


def test_an_award_over_the_threshold_is_refused_with_every_reason(
    published, clock, officer, second_officer
):
    submit(published, 1, "180000.00")
    open_box(clock, published, officer, second_officer)
    client = signed_in(officer)
    mark(client, published, bid_of(published, 1), "70")
    response = client.post(award_url(published), award_form(**award_dates(published)))
    assert response.status_code == 200
    page = main_text(response)
    assert "There is a problem" in page
    assert "must go to full tender" in page
    # The whole contract: this lot at its price and the other at its estimate (£4,000).
    assert "£184,000.00 is at or above the local threshold of £180,000.00" in page
    assert not Award.objects.exists()
    assert AuditEvent.objects.filter(action="award.refused").exists()


# --- Who may see what ------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["other_officer", "bidder", "local_supplier_user", "admin_user"]
)
def test_everyone_but_the_buyers_officers_and_auditors_gets_404_on_every_bid_url(
    opened, request, persona
):
    person = bidder(1) if persona == "bidder" else request.getfixturevalue(persona)
    client = signed_in(person)
    urls = every_bid_url(opened, bid_of(opened, 1))
    if persona == "admin_user":
        urls = [(m, u) for m, u in urls if not u.endswith("/bids/open/")]  # 403, see below
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 404, (method, url)
    assert not Score.objects.exists() and not Award.objects.exists()


def test_an_unknown_lot_bid_or_file_is_404(opened, officer):
    client = signed_in(officer)
    bid = bid_of(opened, 1)
    other_bid = bid_of(opened, 2)
    other_file = other_bid.files.filter(revision__isnull=False).first()
    for url in [
        reverse("tenders:lot_evaluation", args=[opened.pk, 999999]),
        reverse("tenders:lot_award", args=[opened.pk, 999999]),
        reverse("tenders:bid_detail", args=[opened.pk, 999999]),
        reverse("tenders:bid_file", args=[opened.pk, bid.pk, other_file.pk]),
    ]:
        assert client.get(url).status_code == 404, url


def test_the_auditor_reads_every_page_but_changes_nothing(opened, auditor):
    client = signed_in(auditor)
    bid = bid_of(opened, 1)
    gets = [url for method, url in every_bid_url(opened, bid) if method == "get"]
    for url in gets:
        response = client.get(url)
        assert response.status_code == 200, url
        if "/files/" not in url:
            page = response.content.decode()
            assert "<form" not in page[page.index("<main") : page.index("</main>")], url
    assert "£4,000.00" in main_text(client.get(evaluation_url(opened)))
    for method, url in every_bid_url(opened, bid):
        if method == "post":
            assert client.post(url, award_form()).status_code == 403, url
    assert not Score.objects.exists() and not Award.objects.exists()
    assert not Bid.objects.exclude(excluded_reason="").exists()


# --- Query counts ------------------------------------------------------------------------

# session, user, two-factor device, council, unread count; opportunity (and is it
# opened?), lot; criteria, bids, their versions, their marks; excluded bids, their
# versions; which are local; the award; does a panel mark it (issue 17)?
EVALUATION_QUERIES = 16
# session, user, two-factor device, council, unread count; opportunity (and is it
# opened?), opened? (the service's), the bid, its versions, their files, its marks with
# who marked; criteria; the questionnaire's questions, the latest version's answers and
# rates (issue 17).
BID_QUERIES = 15
# The officer's opportunity page: the 15 of tests/test_opportunity_pages.py while open
# for bids, less the questions, documents and amendments (these have none: no query);
# plus the opening once closed; plus the awards once opened, and the lots' value (an
# awarded lot counts at its awarded value, so it is read rather than summed from the lots).
CLOSED_DETAIL_QUERIES = 13
OPENED_DETAIL_QUERIES = 16  # and does a panel mark it (issue 17)?
# Once awarded the route no longer changes: the decision last recorded, read with the
# opportunity, so none of today's facts are read.
AWARDED_DETAIL_QUERIES = 11  # and does a panel mark it (issue 17)?


def test_the_evaluation_page_makes_a_fixed_number_of_queries(
    clock, officer, second_officer, in_process_tasks, django_assert_num_queries
):
    opportunity = publish_with_bidders(officer, 9, "20000.00")
    for n in range(1, 10):
        submit(opportunity, n, f"{1000 + n * 100}.00")
        submit(opportunity, n, f"{1000 + n * 90}.00")
    open_box(clock, opportunity, officer, second_officer)
    for n in range(1, 10):
        score_set(
            bid=bid_of(opportunity, n),
            criterion=quality(opportunity),
            mark=D(n * 10),
            comment="Fine.",
            by=officer,
        )
    from tenders.services import bid_exclude

    bid_exclude(bid=bid_of(opportunity, 9), reason="Late insurance.", by=officer)
    bid_exclude(bid=bid_of(opportunity, 8), reason="No method.", by=officer)
    client = signed_in(officer)
    url = evaluation_url(opportunity)
    client.get(url)  # warm-up
    with django_assert_num_queries(EVALUATION_QUERIES):
        response = client.get(url)
    assert len(response.context["rows"]) == 7
    assert len(response.context["excluded"]) == 2


def test_the_evaluation_page_with_one_bid_makes_as_many_queries(
    published, clock, officer, second_officer, django_assert_num_queries
):
    submit(published, 1, "3900.00")
    open_box(clock, published, officer, second_officer)
    client = signed_in(officer)
    client.get(evaluation_url(published))
    with django_assert_num_queries(EVALUATION_QUERIES):
        client.get(evaluation_url(published))


def test_the_bid_page_makes_a_fixed_number_of_queries(
    published, clock, officer, second_officer, django_assert_num_queries
):
    submit(published, 1, "3900.00")
    for version in range(4):
        submit(
            published,
            2,
            f"{3000 + version}.00",
            files=[(f"part-{version}-{k}.pdf", b"%PDF-1.4 part") for k in range(3)],
        )
    open_box(clock, published, officer, second_officer)
    score_set(
        bid=bid_of(published, 2),
        criterion=quality(published),
        mark=D("60"),
        comment="Fine.",
        by=second_officer,
    )
    client = signed_in(officer)
    for n in (1, 2):
        url = reverse("tenders:bid_detail", args=[published.pk, bid_of(published, n).pk])
        client.get(url)  # warm-up
        with django_assert_num_queries(BID_QUERIES):
            response = client.get(url)
    assert len(response.context["revisions"]) == 4


def test_the_opportunity_page_once_opened_makes_a_fixed_number_of_queries(
    opened, officer, django_assert_num_queries
):
    client = signed_in(officer)
    url = detail_url(opened)
    client.get(url)
    with django_assert_num_queries(OPENED_DETAIL_QUERIES):
        client.get(url)
    marks = [(1, 1, "90"), (2, 1, "50"), (3, 1, "50"), (1, 2, "60"), (2, 2, "60")]
    for n, lot_number, value in marks:
        mark(client, opened, bid_of(opened, n, lot_number), value)
    client.post(award_url(opened), award_form(**award_dates(opened)))
    client.post(award_url(opened, 2), award_form(**award_dates(opened)))
    assert Award.objects.count() == 2
    with django_assert_num_queries(AWARDED_DETAIL_QUERIES):
        response = client.get(url)
    assert "Awarded to Bidder 1" in main_text(response)


def test_the_opportunity_page_while_closed_makes_a_fixed_number_of_queries(
    published, clock, officer, second_officer, django_assert_num_queries
):
    for n in (1, 2, 3):
        submit(published, n, f"{3000 + n}.00")
    pass_deadline(clock, published)
    box_open(opportunity=published, by=officer)
    client = signed_in(second_officer)
    url = detail_url(published)
    client.get(url)
    with django_assert_num_queries(CLOSED_DETAIL_QUERIES):
        response = client.get(url)
    assert response.context["bids"]["state"] == "first_confirmed"
    assert response.context["bids"]["can_open"]


def test_a_supplier_winning_two_lots_has_both_contracts_in_its_history(
    published, clock, officer, second_officer, auditor
):
    """The auditor's supplier history listed one contract per opportunity:
    a supplier that won two lots showed one."""
    from tenders.services import award_lot, score_set

    for lot_number in (1, 2):
        submit(published, 1, f"{3900 + lot_number}.00", lot_number)
    open_box(clock, published, officer, second_officer)
    today = timezone.localdate()
    for bid in Bid.objects.filter(opportunity=published):
        for criterion in published.criteria.filter(is_price=False):
            score_set(bid=bid, criterion=criterion, mark=D("70"), comment="Sound.", by=officer)
        award_lot(
            lot=bid.lot,
            by=officer,
            reasons="Only bid.",
            start_date=today,
            end_date=today + datetime.timedelta(days=30),
        )
    supplier = bid.supplier
    page = main_text(
        signed_in(auditor).get(reverse("transparency:supplier_history", args=[supplier.pk]))
    )
    assert "£3,901.00" in page and "£3,902.00" in page
    assert page.count(published.reference) >= 3  # two contracts and the invitation
    # The opportunity's history names every bidder written to, lot by lot.
    history = main_text(
        signed_in(auditor).get(reverse("transparency:opportunity_history", args=[published.pk]))
    )
    assert history.count("Outcome letters sent to every bidder") == 2
    assert f"Letters sent to {supplier.legal_name} (successful)" in history
    # Each bid's events name its lot: the supplier bid for both.
    for lot in published.lots.all():
        assert f"The bid from {supplier.legal_name} for lot {lot.number}: {lot.title}" in history


def test_letters_of_intention_wait_for_every_bids_marks(opened, officer):
    """A bid nobody marked for quality got a letter of intention saying
    "Quality 0%, Not marked" and lost on it: the letters quote each bidder's
    marks, so they wait for them, as the award does."""
    from tenders.models import IntentionToAward
    from tenders.services import BidRefused, intention_send
    from tests.evaluation_report_helpers import set_standstill

    set_standstill(opened, 10)
    client = signed_in(officer)
    mark(client, opened, bid_of(opened, 1), "90")
    mark(client, opened, bid_of(opened, 2), "50")  # Bidder 3 is not marked
    url = reverse("tenders:lot_intention", args=[opened.pk, opened.lots.get(number=1).pk])
    page = main_text(client.get(url))
    assert "The letters cannot be sent yet" in page
    assert (
        "bid has no mark for Quality: mark it, or exclude it with the reason, "
        "before sending the letters of intention." in page
    )
    assert page.count("has no mark for") == 1
    lot = opened.lots.get(number=1)
    with pytest.raises(BidRefused, match="Bidder 3's bid has no mark for Quality"):
        intention_send(lot=lot, by=officer, reasons="Best value.")
    assert not IntentionToAward.objects.exists()
    mark(client, opened, bid_of(opened, 3), "50")
    assert "The letters cannot be sent yet" not in main_text(client.get(url))
    intention_send(lot=lot, by=officer, reasons="Best value.")
    assert IntentionToAward.objects.count() == 1
