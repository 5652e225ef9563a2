"""Intention to award, the voluntary standstill and challenges (issue 17, ADR 14).

The standstill of N days ends at midnight, UK time, at the end of the Nth
calendar day after the day the letters went: a clock change inside it
neither shortens nor lengthens it. Every bidder gets a letter with its own
moderated marks and comments and the intended winner's scores, never
another loser's. A challenge pauses the award; resolving it releases it.
Marks are final once the letters are sent. With no standstill (the default)
nothing changes: the lot is awarded directly, with no letters of intention.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from portal.models import AuditEvent, InboxMessage
from tenders.models import Award, Bid, IntentionToAward, Opportunity, Score
from tenders.services import (
    BidRefused,
    StandstillRunning,
    award_lot,
    bid_exclude,
    challenge_record,
    challenge_resolve,
    intention_send,
    marks_final,
    score_set,
    standstill_ends,
)
from tests.evaluation_report_helpers import (
    moderated_marker,
    questionnaire_opportunity,
    set_standstill,
)
from tests.tenders_helpers import contract_period
from tests.test_officer_bids import bidder, main_text, signed_in

UK = ZoneInfo("Europe/London")


def uk(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UK)


# --- The rule on the calendar ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "days", "ends"),
    [
        # Autumn: the clocks go back on 25 October 2026, inside the standstill.
        (uk(2026, 10, 24, 10, 0), 8, uk(2026, 11, 2, 0, 0)),
        # Spring: the clocks go forward on 28 March 2027, inside it.
        (uk(2027, 3, 20, 10, 0), 8, uk(2027, 3, 29, 0, 0)),
        # Sent a minute before midnight: that day is the day of sending.
        (uk(2026, 6, 1, 23, 59), 1, uk(2026, 6, 3, 0, 0)),
        # Sent at 00:30 BST, which is still the day before in UTC.
        (uk(2026, 6, 2, 0, 30), 1, uk(2026, 6, 4, 0, 0)),
    ],
)
def test_the_standstill_ends_at_uk_midnight_on_the_calendar(sent, days, ends):
    got = standstill_ends(sent.astimezone(datetime.UTC), days)
    assert got == ends
    assert got.astimezone(UK).time() == datetime.time(0, 0)


def test_a_clock_change_neither_shortens_nor_lengthens_it():
    autumn = standstill_ends(uk(2026, 10, 24, 10, 0), 8)
    assert autumn.utcoffset() == datetime.timedelta(0)  # GMT at the end
    assert autumn.astimezone(datetime.UTC) == datetime.datetime(
        2026, 11, 2, 0, 0, tzinfo=datetime.UTC
    )
    spring = standstill_ends(uk(2027, 3, 20, 10, 0), 8)
    assert spring.utcoffset() == datetime.timedelta(hours=1)  # BST at the end
    assert spring.astimezone(datetime.UTC) == datetime.datetime(
        2027, 3, 28, 23, 0, tzinfo=datetime.UTC
    )


# --- An opportunity with a questionnaire, marked and moderated -----------------------------


def start_clock(when: datetime.datetime):
    return time_machine.travel(when, tick=False)


@pytest.fixture
def clock(demo_data, settings, tmp_path, in_process_tasks):
    settings.MEDIA_ROOT = tmp_path / "media"
    with start_clock(uk(2026, 10, 1, 9, 0)) as traveller:
        yield traveller


@pytest.fixture
def evaluated(clock, officer, second_officer) -> Opportunity:
    return questionnaire_opportunity(officer, second_officer, clock)


def lot_of(opportunity: Opportunity):
    return opportunity.lots.get(number=1)


def award(opportunity, officer):
    return award_lot(
        lot=lot_of(opportunity), by=officer, reasons="Best value.", **contract_period(opportunity)
    )


# --- No standstill: as before ------------------------------------------------------------


def test_with_no_standstill_the_award_is_direct_and_no_letter_of_intention_goes(
    evaluated, officer, django_capture_on_commit_callbacks
):
    with pytest.raises(BidRefused, match="no standstill: award the lot directly"):
        intention_send(lot=lot_of(evaluated), by=officer, reasons="Best value.")
    with django_capture_on_commit_callbacks(execute=True):
        made = award(evaluated, officer)
    assert made.bid.supplier.legal_name == "Bidder 1"
    assert not IntentionToAward.objects.filter(lot__opportunity=evaluated).exists()
    assert not InboxMessage.objects.filter(event="bid.intention_to_award").exists()
    # The outcome letters gain each bidder's own moderated marks and comments.
    loser = InboxMessage.objects.get(recipient=bidder(2), event="bid.unsuccessful")
    bid2 = Bid.objects.get(opportunity=evaluated, supplier__legal_name="Bidder 2")
    bid3 = Bid.objects.get(opportunity=evaluated, supplier__legal_name="Bidder 3")
    assert moderated_marker(bid2, 1) in loser.body
    assert "3 out of 5" in loser.body
    assert moderated_marker(bid3, 1) not in loser.body


# --- Across the autumn clock change --------------------------------------------------------


def test_autumn_the_award_waits_for_uk_midnight_after_the_last_day(evaluated, clock, officer):
    set_standstill(evaluated, 8)
    with pytest.raises(BidRefused, match="send the letters of intention"):
        award(evaluated, officer)
    clock.move_to(uk(2026, 10, 24, 10, 0))  # BST
    intention = intention_send(lot=lot_of(evaluated), by=officer, reasons="Best quality.")
    assert intention.standstill_ends_at == uk(2026, 11, 2, 0, 0)
    assert intention.bid.supplier.legal_name == "Bidder 1"
    assert AuditEvent.objects.filter(action="lot.intention_sent").exists()

    clock.move_to(uk(2026, 11, 1, 23, 59, 59))  # GMT: one second before the end
    with pytest.raises(StandstillRunning) as refused:
        award(evaluated, officer)
    assert "1 November 2026 at 24:00:00" in str(refused.value)
    assert "1 November 2026 at 23:59:59" in str(refused.value)
    assert not Award.objects.filter(lot__opportunity=evaluated).exists()

    clock.move_to(uk(2026, 11, 2, 0, 0, 0))
    made = award(evaluated, officer)
    assert made.bid_id == intention.bid_id


def test_spring_the_award_waits_for_uk_midnight_after_the_last_day(
    demo_data, settings, tmp_path, in_process_tasks, officer, second_officer
):
    settings.MEDIA_ROOT = tmp_path / "media"
    with start_clock(uk(2027, 3, 1, 9, 0)) as clock:
        opportunity = questionnaire_opportunity(officer, second_officer, clock)
        set_standstill(opportunity, 8)
        clock.move_to(uk(2027, 3, 20, 10, 0))  # GMT
        intention = intention_send(lot=lot_of(opportunity), by=officer, reasons="Best quality.")
        assert intention.standstill_ends_at == uk(2027, 3, 29, 0, 0)  # BST
        clock.move_to(uk(2027, 3, 28, 23, 59, 59))
        with pytest.raises(StandstillRunning) as refused:
            award(opportunity, officer)
        assert "28 March 2027 at 24:00:00" in str(refused.value)
        assert "28 March 2027 at 23:59:59" in str(refused.value)
        clock.move_to(uk(2027, 3, 29, 0, 0, 0))
        assert award(opportunity, officer).bid_id == intention.bid_id


# --- The letters ----------------------------------------------------------------------------


def test_every_bidder_gets_a_letter_with_its_own_comments_and_the_winners_scores(
    evaluated, clock, officer, django_capture_on_commit_callbacks
):
    set_standstill(evaluated, 10)
    bids = {b.supplier.legal_name: b for b in Bid.objects.filter(opportunity=evaluated)}
    bid_exclude(bid=bids["Bidder 3"], reason="EXCLUDEDNOTE: no insurance.", by=officer)
    mail.outbox.clear()
    clock.move_to(uk(2026, 10, 24, 10, 0))
    with django_capture_on_commit_callbacks(execute=True):
        intention_send(lot=lot_of(evaluated), by=officer, reasons="REASONNOTE: best quality.")
    letters = {
        name: InboxMessage.objects.get(recipient=bidder(n), event="bid.intention_to_award")
        for n, name in ((1, "Bidder 1"), (2, "Bidder 2"), (3, "Bidder 3"))
    }
    for name, letter in letters.items():
        assert letter.subject.startswith("Intention to award: Office cleaning (")
        assert "REASONNOTE" in letter.body
        assert "3 November 2026 at 24:00:00" in letter.body  # the standstill's end, UK time
        others = [b for n, b in bids.items() if n != name]
        for other in others:  # never another bidder's moderated comments
            assert moderated_marker(other, 1) not in letter.body
    # Own moderated marks and comments, question by question.
    assert moderated_marker(bids["Bidder 2"], 1) in letters["Bidder 2"].body
    assert moderated_marker(bids["Bidder 1"], 2) in letters["Bidder 1"].body
    # The loser reads the intended winner's name, total and price.
    loser = letters["Bidder 2"].body
    assert "Supplier: Bidder 1" in loser
    assert "£2,500.00" in loser  # Bidder 1's price: 10 × 200 + 12.5 × 40
    assert "EXCLUDEDNOTE" in letters["Bidder 3"].body
    assert "EXCLUDEDNOTE" not in loser
    assert "Bidder 3" not in loser  # an excluded loser is never named to another
    assert len([m for m in mail.outbox if m.subject.startswith("Intention to award")]) == 3


def test_during_the_standstill_the_outcome_page_shows_the_letter_of_intention(
    evaluated, clock, officer
):
    set_standstill(evaluated, 10)
    clock.move_to(uk(2026, 10, 24, 10, 0))
    intention_send(lot=lot_of(evaluated), by=officer, reasons="REASONNOTE: best quality.")
    url = reverse("tenders:supplier_outcome", args=[evaluated.pk])
    page = main_text(signed_in(bidder(2)).get(url))
    assert "the council intends to award it to another bidder" in page
    assert "ends at 3 November 2026 at 24:00:00 (UK time)" in page
    assert "The intended successful bid" in page and "REASONNOTE" in page
    assert "has not decided the outcome yet" not in page
    winner = main_text(signed_in(bidder(1)).get(url))
    assert "the council intends to award it to you" in winner
    # The opportunity's page leads each bidder to its letter (it said only "Being evaluated").
    detail = reverse("tenders:opportunity_detail", args=[evaluated.pk])
    page = main_text(signed_in(bidder(2)).get(detail))
    assert "The council intends to award this lot to another bidder" in page
    assert "Read your letter of intention" in page
    page = main_text(signed_in(bidder(1)).get(detail))
    assert "The council intends to award this lot to you" in page
    clock.move_to(uk(2026, 11, 4, 0, 0))
    award(evaluated, officer)
    page = main_text(signed_in(bidder(2)).get(url))
    assert "your bid was not successful" in page and "intends" not in page


def test_letters_wait_for_the_moderation_to_be_agreed(clock, officer, second_officer):
    opportunity = questionnaire_opportunity(officer, second_officer, clock, agree=False)
    set_standstill(opportunity, 8)
    with pytest.raises(BidRefused, match="moderator has not agreed"):
        intention_send(lot=lot_of(opportunity), by=officer, reasons="Best.")


def test_marks_are_final_once_the_letters_are_sent(evaluated, clock, officer):
    set_standstill(evaluated, 8)
    lot = lot_of(evaluated)
    assert not marks_final(lot)
    intention_send(lot=lot, by=officer, reasons="Best quality.")
    assert marks_final(lot)
    bid = Bid.objects.get(opportunity=evaluated, supplier__legal_name="Bidder 2")
    quality = evaluated.criteria.get(is_price=False)
    with pytest.raises(BidRefused, match="marks are final"):
        score_set(bid=bid, criterion=quality, mark=D("99"), comment="Better.", by=officer)
    with pytest.raises(BidRefused, match="marks are final"):
        bid_exclude(bid=bid, reason="Late change.", by=officer)
    with pytest.raises(BidRefused, match="already been sent"):
        intention_send(lot=lot, by=officer, reasons="Again.")


def test_the_award_goes_only_to_the_bid_the_letters_named(evaluated, clock, officer):
    set_standstill(evaluated, 8)
    clock.move_to(uk(2026, 10, 24, 10, 0))
    intention_send(lot=lot_of(evaluated), by=officer, reasons="Best quality.")
    # Were the marks changed behind the service's back, the award would not follow.
    Score.objects.filter(bid__supplier__legal_name="Bidder 2").update(mark=D("100"))
    Score.objects.filter(bid__supplier__legal_name="Bidder 1").update(mark=D("0"))
    clock.move_to(uk(2026, 11, 3, 9, 0))
    with pytest.raises(BidRefused, match="letters of intention named Bidder 1"):
        award(evaluated, officer)


# --- Challenges -----------------------------------------------------------------------------


def test_a_challenge_pauses_the_award_and_resolving_it_releases_it(evaluated, clock, officer):
    set_standstill(evaluated, 8)
    clock.move_to(uk(2026, 10, 24, 10, 0))
    intention_send(lot=lot_of(evaluated), by=officer, reasons="Best quality.")
    challenge = challenge_record(
        opportunity=evaluated, details="Bidder 2 says its price was misread.", by=officer
    )
    clock.move_to(uk(2026, 11, 3, 9, 0))  # the standstill is over
    with pytest.raises(BidRefused, match="challenge to the award is open"):
        award(evaluated, officer)
    challenge_resolve(challenge=challenge, resolution="Checked: price read right.", by=officer)
    assert award(evaluated, officer).bid.supplier.legal_name == "Bidder 1"
    assert set(
        AuditEvent.objects.filter(action__startswith="challenge.").values_list("action", flat=True)
    ) == {"challenge.recorded", "challenge.resolved"}


def test_a_challenge_to_one_lot_pauses_that_lot_only_and_needs_an_officer(
    evaluated, clock, officer, auditor
):
    lot = lot_of(evaluated)
    with pytest.raises(BidRefused, match="Only the council's officers"):
        challenge_record(opportunity=evaluated, lot=lot, details="x", by=auditor)
    challenge = challenge_record(opportunity=evaluated, lot=lot, details="About lot 1.", by=officer)
    with pytest.raises(BidRefused, match="challenge"):
        award(evaluated, officer)  # no standstill, but a challenge still pauses it
    with pytest.raises(BidRefused, match="Write how"):
        challenge_resolve(challenge=challenge, resolution=" ", by=officer)


# --- The pages ------------------------------------------------------------------------------


def test_the_intention_page_previews_and_sends(evaluated, clock, officer, auditor):
    set_standstill(evaluated, 8)
    lot = lot_of(evaluated)
    url = reverse("tenders:lot_intention", args=[evaluated.pk, lot.pk])
    clock.move_to(uk(2026, 10, 24, 10, 0))
    client = signed_in(officer)
    page = main_text(client.get(url))
    assert "would name Bidder 1" in page
    assert "1 November 2026 at 24:00 (UK time)" in page
    assert signed_in(auditor).post(url, {"reasons": "x"}).status_code == 403
    response = client.post(url, {"reasons": ""})
    assert "Write the reasons for the intended award" in main_text(response)
    response = client.post(url, {"reasons": "Best quality."}, follow=True)
    assert "Letters of intention sent" in main_text(response)
    award_page = main_text(client.get(reverse("tenders:lot_award", args=[evaluated.pk, lot.pk])))
    assert "The standstill ends on 1 November 2026 at 24:00 (UK time)" in award_page
    assert "Award the lot" not in award_page


def test_the_challenge_pages_record_and_resolve(evaluated, clock, officer, auditor):
    url = reverse("tenders:challenges", args=[evaluated.pk])
    client = signed_in(officer)
    response = client.post(url, {"lot": "", "details": ""})
    assert "Write who challenged" in main_text(response)
    client.post(url, {"lot": "", "details": "CHALLENGENOTE from Bidder 2."})
    challenge = evaluated.challenges.get()
    assert "CHALLENGENOTE" in main_text(signed_in(auditor).get(url))
    lot = lot_of(evaluated)
    award_page = main_text(client.get(reverse("tenders:lot_award", args=[evaluated.pk, lot.pk])))
    assert "A challenge is open" in award_page
    resolve = reverse("tenders:challenge_resolve", args=[evaluated.pk, challenge.pk])
    assert signed_in(auditor).post(resolve, {"resolution": "x"}).status_code == 403
    client.post(resolve, {"resolution": "Withdrawn by Bidder 2."})
    challenge.refresh_from_db()
    assert challenge.resolved_at is not None
    assert "A challenge is open" not in main_text(
        client.get(reverse("tenders:lot_award", args=[evaluated.pk, lot.pk]))
    )


def test_a_challenge_sent_twice_is_recorded_once(evaluated, clock, officer):
    """The browser's Back and "Record the challenge" again recorded the same
    challenge twice: two open challenges to resolve, both in the report. The
    form's key is kept when it is refused, and spent when it records."""
    url = reverse("tenders:challenges", args=[evaluated.pk])
    client = signed_in(officer)
    page = client.get(url).content.decode()
    key = re.search(r'name="submission" value="([0-9a-f-]{36})"', page).group(1)
    assert key not in client.get(url).content.decode()  # a new key each time it is drawn
    refused = client.post(url, {"lot": "", "details": "", "submission": key})
    assert f'value="{key}"' in refused.content.decode()  # kept for the corrected form
    form = {"lot": "", "details": "CHALLENGENOTE from Bidder 2.", "submission": key}
    first = client.post(url, form)
    challenge = evaluated.challenges.get()
    assert first["Location"] == url
    again = client.post(url, form, follow=True)
    assert evaluated.challenges.count() == 1
    assert again.redirect_chain == [(f"{url}#challenge-{challenge.pk}", 302)]
    assert "This challenge was already recorded: the form was sent twice" in main_text(again)
    assert AuditEvent.objects.filter(action="challenge.recorded").count() == 1
    # A new page draws a new key: a second challenge is a second challenge.
    page = client.get(url).content.decode()
    other = re.search(r'name="submission" value="([0-9a-f-]{36})"', page).group(1)
    client.post(url, {**form, "submission": other})
    assert evaluated.challenges.count() == 2


def test_a_periods_end_at_midnight_is_the_end_of_the_day_before():
    """ "3 April 2027 at 00:00" read as if all of 3 April were left to challenge."""
    from portal.ukdates import uk_end_minute
    from tenders.services.lifecycle import london_end_time

    midnight = uk(2027, 4, 3, 0, 0)
    assert london_end_time(midnight) == "2 April 2027 at 24:00:00"
    assert uk_end_minute(midnight) == "2 April 2027 at 24:00"
    # Any other time is written as it is.
    assert london_end_time(uk(2027, 4, 3, 0, 1)) == "3 April 2027 at 00:01:00"
    assert uk_end_minute(uk(2027, 4, 3, 17, 30)) == "3 April 2027 at 17:30"
