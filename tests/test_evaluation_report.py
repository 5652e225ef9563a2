"""The evaluation report (issue 17): a page and a PDF with everything an
auditor or a challenge asks for, for the council's officers and auditors
once the box is opened; 404 for anyone else. Evaluators' and moderated
comments appear only once the moderator has agreed the evaluation.
"""

from __future__ import annotations

import datetime
import hashlib
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from devdata import demo
from portal.models import AuditEvent, Role
from portal.services import user_create
from tenders.models import BidRevision, Opportunity
from tenders.services import award_lot, challenge_record
from tenders.views.officer import award_steps
from tests.evaluation_report_helpers import questionnaire_opportunity
from tests.test_officer_bids import main_text, publish_with_bidders, signed_in

UK = ZoneInfo("Europe/London")
PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture
def clock(demo_data, settings, tmp_path, in_process_tasks):
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(datetime.datetime(2026, 10, 1, 9, 0, tzinfo=UK), tick=False) as t:
        yield t


@pytest.fixture
def third_officer(council):
    return user_create(
        email="officer3@demo-council.example",
        full_name="Ada Conflicted",
        role=Role.OFFICER,
        password=demo.PASSWORD,
        buyer=council,
        by=None,
    )


@pytest.fixture
def awarded(clock, officer, second_officer, third_officer) -> Opportunity:
    opportunity = questionnaire_opportunity(
        officer, second_officer, clock, conflicted=third_officer
    )
    # Until bid_submit records each version's content SHA-256 (issue 17, item 2, in
    # parallel): a stand-in per version, so that the report is seen to show it.
    for revision in BidRevision.objects.filter(bid__opportunity=opportunity, content_sha256=""):
        revision.content_sha256 = hashlib.sha256(revision.receipt_reference.encode()).hexdigest()
        revision.save(update_fields=["content_sha256"])
    challenge_record(opportunity=opportunity, details="CHALLENGENOTE: price misread.", by=officer)
    opportunity.challenges.update(
        resolution="Resolved: read right.", resolved_by=officer, resolved_at=timezone.now()
    )
    award_lot(
        lot=opportunity.lots.get(number=1),
        by=officer,
        reasons="AWARDNOTE: best quality for the price.",
        start_date=datetime.date(2027, 1, 1),
        end_date=datetime.date(2027, 12, 31),
    )
    return opportunity


def report_url(opportunity) -> str:
    return reverse("tenders:evaluation_report", args=[opportunity.pk])


def pdf_url(opportunity) -> str:
    return reverse("tenders:evaluation_report_pdf", args=[opportunity.pk])


def must_contain(text: str, opportunity: Opportunity) -> None:
    """What the report must show of ``opportunity`` (marked, moderated, awarded)."""
    assert "Priya Shah" in text and "Tom Hughes" in text  # the panel, and the opening officers
    assert "Ada Conflicted" in text and "CONFLICTNOTE" in text  # a declared conflict, removed
    assert "Declared a conflict of interest." in text
    for revision in BidRevision.objects.filter(bid__opportunity=opportunity):
        assert revision.receipt_reference in text
        assert revision.content_sha256 and revision.content_sha256 in text
    assert "MODNOTE-Bidder2-Q1" in text  # a moderated comment
    assert "EVALNOTE-" in text  # the evaluators' own comments, side by side
    assert "AWARDNOTE" in text and "CHALLENGENOTE" in text
    assert "Bidder 1" in text and "Bidder 3" in text  # the ranking


def test_the_report_page_holds_what_an_auditor_asks_for(awarded, officer, auditor):
    for person in (officer, auditor):
        response = signed_in(person).get(report_url(awarded))
        assert response.status_code == 200
        text = main_text(response)
        must_contain(text, awarded)
        assert "opened by Priya Shah" in text or "opened by Tom Hughes" in text
        assert "Evaluation report (PDF)" in text
    page = main_text(signed_in(auditor).get(report_url(awarded)))
    assert page.index("Rank") < page.index("AWARDNOTE")


def test_the_pdf_is_a_pdf_of_the_same_report_and_its_download_is_audited(
    awarded, auditor, monkeypatch
):
    rendered: list[str] = []
    real = award_steps.report_pdf_html

    def keep(context):
        html = real(context)
        rendered.append(html)
        return html

    monkeypatch.setattr(award_steps, "report_pdf_html", keep)
    response = signed_in(auditor).get(pdf_url(awarded))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == (
        f'attachment; filename="{awarded.reference}-evaluation-report.pdf"'
    )
    assert AuditEvent.objects.filter(action="report.downloaded", actor=auditor).count() == 1
    (html,) = rendered
    assert "<link" not in html and "http" not in html.split("<body>")[0]  # nothing fetched
    must_contain(html, awarded)
    if PDFTOTEXT:
        text = subprocess.run(
            [PDFTOTEXT, "-", "-"], input=response.content, capture_output=True, check=True
        ).stdout.decode()
        assert "MODNOTE-Bidder2-Q1" in text


def test_before_moderation_is_agreed_no_comment_is_in_the_report(
    clock, officer, second_officer, monkeypatch
):
    opportunity = questionnaire_opportunity(officer, second_officer, clock, agree=False)
    page = main_text(signed_in(officer).get(report_url(opportunity)))
    assert "Moderation is not complete" in page
    rendered: list[str] = []
    real = award_steps.report_pdf_html
    monkeypatch.setattr(
        award_steps, "report_pdf_html", lambda c: rendered.append(real(c)) or rendered[-1]
    )
    response = signed_in(officer).get(pdf_url(opportunity))
    assert response.content.startswith(b"%PDF")
    for text in (page, rendered[0], response.content.decode("latin-1")):
        assert "EVALNOTE" not in text
        assert "MODNOTE" not in text
    assert "Moderation is not complete" in rendered[0]
    # What is decided is there: the receipts and the opening.
    for revision in BidRevision.objects.filter(bid__opportunity=opportunity):
        assert revision.receipt_reference in page


def test_nobody_else_reaches_the_report(awarded, other_officer, local_supplier_user, client):
    for person in (other_officer, local_supplier_user):
        c = signed_in(person)
        assert c.get(report_url(awarded)).status_code == 404
        assert c.get(pdf_url(awarded)).status_code == 404
    assert client.get(pdf_url(awarded)).status_code == 302  # to sign in
    assert not AuditEvent.objects.filter(action="report.downloaded").exists()


def test_a_sealed_box_has_no_report(clock, officer):
    opportunity = publish_with_bidders(officer, 2)
    assert signed_in(officer).get(report_url(opportunity)).status_code == 404
    assert signed_in(officer).get(pdf_url(opportunity)).status_code == 404


def test_the_report_opens_only_each_bids_latest_version_and_no_withdrawn_bid(
    clock, officer, second_officer, auditor
):
    """A supplier is told the council opens only its latest submitted version,
    and will not see a bid it withdrew: the report keeps to both (it lists an
    earlier version's receipt, not its price, and counts withdrawn bids)."""
    from tenders.services import bid_withdraw
    from tests.test_officer_bids import bid_of, bidder, open_box, submit

    opportunity = publish_with_bidders(officer, 3)
    submit(opportunity, 1, "3911.11")
    submit(opportunity, 1, "3822.22")
    submit(opportunity, 2, "3733.33")
    bid_withdraw(bid=bid_of(opportunity, 2), by=bidder(2))
    submit(opportunity, 3, "3644.44")
    open_box(clock, opportunity, officer, second_officer)
    first = BidRevision.objects.get(bid=bid_of(opportunity, 1), number=1)
    for person in (officer, auditor):
        text = main_text(signed_in(person).get(report_url(opportunity)))
        assert "£3,822.22" in text and "£3,644.44" in text
        assert "£3,911.11" not in text and first.receipt_reference in text
        assert "£3,733.33" not in text
        assert "1 bid was withdrawn by its supplier before the deadline and not opened." in text


def test_auditors_read_and_cannot_act(awarded, auditor):
    c = signed_in(auditor)
    lot = awarded.lots.get(number=1)
    intention = reverse("tenders:lot_intention", args=[awarded.pk, lot.pk])
    challenges = reverse("tenders:challenges", args=[awarded.pk])
    assert c.get(intention).status_code == 200
    assert c.get(challenges).status_code == 200
    assert c.post(intention, {"reasons": "x"}).status_code == 403
    assert c.post(challenges, {"details": "x"}).status_code == 403
    history = main_text(c.get(reverse("transparency:opportunity_history", args=[awarded.pk])))
    assert "Evaluation report (PDF)" in history


def test_the_report_page_reads_a_fixed_number_of_queries(
    awarded, officer, django_assert_num_queries
):
    """Three bids, two evaluators, six questions' marks: no query per bid, per
    mark or per panel member (one lot's ranking is four of them)."""
    c = signed_in(officer)
    c.get(report_url(awarded))
    with django_assert_num_queries(25):
        assert c.get(report_url(awarded)).status_code == 200
