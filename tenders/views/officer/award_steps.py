"""The award steps after evaluation (issue 17): letters of intention to award
a lot and the standstill, challenges, and the evaluation report (a page and
a PDF).

Like the other bid pages: 404 for anyone but the council's officers and
auditors, and for everyone until two officers have opened the box; auditors
read, and get 403 from the actions. Every change goes through
``tenders.services``; refusals become GOV.UK error messages.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from portal import once
from portal.http import SignedInRequest
from tenders.forms.award_steps import ChallengeForm, IntentionForm, ResolveForm
from tenders.models import Award, Challenge, IntentionToAward
from tenders.report import evaluation_report, report_context
from tenders.services import (
    BidRefused,
    challenge_record,
    challenge_resolve,
    intention_send,
    lifecycle,
)
from tenders.services.awards import lot_outcome_letters, unmarked
from tenders.services.reports import report_downloaded
from tenders.services.standstill import SENDING_LETTERS, intention_preview, standstill_ends
from tenders.views.officer.bids import _lot_of, _officer_acting, opened_opportunity
from tenders.views.officer.common import refusal_messages

# --- The outcome letters sent -----------------------------------------------------------------


@require_GET
def lot_letters(request: SignedInRequest, pk: int, lot_pk: int) -> HttpResponse:
    """The council's copy of every outcome letter sent for an awarded lot,
    each as its bidder reads it (officers answer feedback requests from it;
    auditors check every bidder was told). 404 until the lot is awarded."""
    opportunity = opened_opportunity(request, pk)
    lot = _lot_of(opportunity, lot_pk)
    award = Award.objects.filter(lot=lot).select_related("bid__supplier").first()
    if award is None:
        raise Http404("No such page.")
    return render(
        request,
        "tenders/officer/bids/letters.html",
        {
            "opportunity": opportunity,
            "lot": lot,
            "letters": [letter for _bid, letter in lot_outcome_letters(lot, award)],
        },
    )


# --- Letters of intention ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def lot_intention(request: SignedInRequest, pk: int, lot_pk: int) -> HttpResponse:
    """Preview whom the lot would go to and why, when the standstill would
    end, and send the letters of intention to every bidder."""
    opportunity = opened_opportunity(request, pk)
    if request.method == "POST":
        _officer_acting(request)
    lot = _lot_of(opportunity, lot_pk)
    intention = (
        IntentionToAward.objects.filter(lot=lot).select_related("bid__supplier", "sent_by").first()
    )
    awarded = Award.objects.filter(lot=lot).exists()
    may_send = (
        request.user.is_officer
        and intention is None
        and not awarded
        and lifecycle.allowed(opportunity, "evaluate")
    )
    form = IntentionForm(request.POST or None) if may_send else None
    if request.method == "POST":
        if form is None:
            messages.info(request, "The letters of intention cannot be sent now.")
            return redirect("tenders:lot_intention", pk=opportunity.pk, lot_pk=lot.pk)
        if form.is_valid():
            try:
                intention = intention_send(
                    lot=lot, by=request.user, reasons=form.cleaned_data["reasons"]
                )
            except BidRefused as exc:
                for problem in refusal_messages(exc):
                    form.add_error(None, problem)
            else:
                messages.success(
                    request,
                    "The letters of intention have been sent to every bidder. The standstill "
                    f"ends on {lifecycle.london_end_time(intention.standstill_ends_at)} (UK time).",
                )
                return redirect("tenders:lot_intention", pk=opportunity.pk, lot_pk=lot.pk)
    chosen, ranking, excluded, days = intention_preview(lot)
    return render(
        request,
        "tenders/officer/bids/intention.html",
        {
            "opportunity": opportunity,
            "lot": lot,
            "intention": intention,
            "awarded": awarded,
            "chosen": chosen,
            "ranking": ranking,
            "excluded": excluded,
            "unmarked": unmarked(lot, ranking, before=SENDING_LETTERS) if not intention else [],
            "days": days,
            "would_end": standstill_ends(timezone.now(), days) if days else None,
            "form": form,
        },
    )


# --- Challenges ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def challenges(request: SignedInRequest, pk: int) -> HttpResponse:
    """The challenges recorded for an opportunity, and the form to record one."""
    opportunity = opened_opportunity(request, pk)
    if request.method == "POST":
        _officer_acting(request)
    lots = list(opportunity.lots.order_by("number"))
    form = ChallengeForm(request.POST or None, lots=lots) if request.user.is_officer else None
    if request.method == "POST" and form is not None and form.is_valid():
        key = once.key_of(form)
        try:
            with once.remembering(request.user, key) as made:
                challenge = challenge_record(
                    opportunity=opportunity,
                    lot=form.chosen_lot(),
                    details=form.cleaned_data["details"],
                    by=request.user,
                )
                here = reverse("tenders:challenges", args=[opportunity.pk])
                made(f"{here}#challenge-{challenge.pk}")
        except once.AlreadyDone as done:
            messages.info(
                request,
                "This challenge was already recorded: the form was sent twice, so it is "
                "recorded once.",
            )
            return redirect(done.url)
        except BidRefused as exc:
            for problem in refusal_messages(exc):
                form.add_error(None, problem)
        else:
            messages.success(request, "The challenge is recorded: the award it concerns waits.")
            return redirect("tenders:challenges", pk=opportunity.pk)
    return render(
        request,
        "tenders/officer/bids/challenges.html",
        {
            "opportunity": opportunity,
            "challenges": list(
                Challenge.objects.filter(opportunity=opportunity)
                .select_related("lot", "recorded_by", "resolved_by")
                .order_by("recorded_at", "pk")
            ),
            "form": form,
        },
    )


@require_http_methods(["GET", "POST"])
def challenge_resolve_view(request: SignedInRequest, pk: int, challenge_pk: int) -> HttpResponse:
    opportunity = opened_opportunity(request, pk)
    challenge = get_object_or_404(
        Challenge.objects.select_related("lot", "recorded_by"),
        pk=challenge_pk,
        opportunity=opportunity,
    )
    _officer_acting(request)
    form = ResolveForm(request.POST or None)
    if challenge.resolved_at is not None:
        messages.info(request, "This challenge is already resolved.")
        return redirect("tenders:challenges", pk=opportunity.pk)
    if request.method == "POST" and form.is_valid():
        try:
            challenge_resolve(
                challenge=challenge, resolution=form.cleaned_data["resolution"], by=request.user
            )
        except BidRefused as exc:
            for problem in refusal_messages(exc):
                form.add_error(None, problem)
        else:
            messages.success(request, "The challenge is resolved.")
            return redirect("tenders:challenges", pk=opportunity.pk)
    return render(
        request,
        "tenders/officer/bids/challenge_resolve.html",
        {"opportunity": opportunity, "challenge": challenge, "form": form},
    )


# --- The evaluation report -----------------------------------------------------------------


@require_GET
def report_page(request: SignedInRequest, pk: int) -> HttpResponse:
    opportunity = opened_opportunity(request, pk)
    return render(
        request,
        "tenders/officer/report/page.html",
        report_context(evaluation_report(opportunity)),
    )


def report_pdf_html(context: dict[str, object]) -> str:
    """The PDF's HTML: a dedicated template, nothing fetched (its CSS is ``PDF_CSS``)."""
    return render_to_string("tenders/officer/report/pdf.html", context)


# The PDF's own CSS, kept in a file of its own beside the template (no <style> in
# a template: the pages' policy forbids it, tests/test_security_headers.py).
PDF_CSS = "tenders/officer/report/pdf.css"


@require_GET
def report_pdf(request: SignedInRequest, pk: int) -> HttpResponse:
    import weasyprint  # type: ignore[import-untyped]  # heavy: loaded only for a PDF

    opportunity = opened_opportunity(request, pk)
    context = report_context(evaluation_report(opportunity))
    context["generated_at"] = lifecycle.london_time(timezone.now())
    context["generated_by"] = request.user
    css = weasyprint.CSS(string=render_to_string(PDF_CSS))
    pdf = weasyprint.HTML(string=report_pdf_html(context), base_url=None).write_pdf(
        stylesheets=[css]
    )
    report_downloaded(opportunity=opportunity, by=request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{opportunity.reference}-evaluation-report.pdf"'
    )
    return response
