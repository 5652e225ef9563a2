"""A council's procurement policy pages, under ``/council/policy/``: its
versions and the statutory figures in force; a new version (council
administrators only); and the register of "full tender required" outcomes,
on screen and as CSV.

Officers, auditors and administrators of a council see their own council's;
everyone else gets 404. There is no council in any URL, so another council's
people can only ever reach their own.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from portal import csvfile
from portal.http import SignedInRequest
from portal.models import BuyerOrganisation
from portal.permissions import administrator_of_council, council_of
from portal.ukdates import uk_stamp
from tenders.forms.policy import BandFormSet, PolicyForm, band_initial
from tenders.models import Opportunity, ProcurementPolicy, Route, RouteCheck, StatutoryFigure
from tenders.services import CurrentRoute, policy_create
from tenders.services.routes import full_tender_today
from tenders.statutory import thresholds_below_during

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PAGE_SIZE = 50
FIGURE_LABELS = {
    "threshold.goods": "Statutory threshold: goods",
    "threshold.services": "Statutory threshold: services",
    "threshold.works": "Statutory threshold: works",
    "threshold.light_touch": "Statutory threshold: light-touch services",
    "contract_details_notice": "Contract details notice after award, from",
    "transparency_publication": "Published under the Transparency Code, over",
}


# --- Versions and statutory figures ----------------------------------------------


class VersionFields(TypedDict):
    """A version as the policy page lists it (``policy_versions``)."""

    state: str  # "in_force", "future" or "superseded"
    warnings: list[str]


if TYPE_CHECKING:
    PolicyVersion = WithAnnotations[ProcurementPolicy, VersionFields]


def policy_versions(
    buyer: BuyerOrganisation, figures: list[StatutoryFigure]
) -> list[PolicyVersion]:
    """Every version, newest first, each marked in force, future or superseded;
    those in force or to come with a warning for each statutory threshold
    (among ``figures``) in force during it below its local threshold."""
    policies = list(
        ProcurementPolicy.objects.filter(buyer=buyer)
        .select_related("created_by")
        .prefetch_related("bands")
        .order_by("-effective_from", "-version")
    )
    versions = cast("list[PolicyVersion]", policies)  # ``state`` and ``warnings`` are set below
    today = timezone.localdate()
    in_force = next((p for p in versions if p.effective_from <= today), None)
    ends = [None, *(v.effective_from for v in versions)]  # newest first: the one before ends it
    for version, end in zip(versions, ends, strict=False):
        version.warnings = []
        if version is in_force:
            version.state = "in_force"
        elif version.effective_from > today:
            version.state = "future"
        else:
            version.state = "superseded"
            continue
        version.warnings = thresholds_below_during(
            threshold=version.local_threshold,
            vat_basis=version.vat_basis,
            vat_rate_percent=version.vat_rate_percent,
            start=version.effective_from,
            end=end,
            figures=figures,
        )
    return versions


@dataclass(frozen=True)
class FigureRow:
    label: str
    figure: StatutoryFigure
    upcoming: bool


def statutory_figures(on: datetime.date, figures: list[StatutoryFigure]) -> list[FigureRow]:
    """Each figure in force on ``on``, followed by any that comes into force later."""
    rows: list[FigureRow] = []
    by_name: dict[str, list[StatutoryFigure]] = {}
    for figure in figures:
        by_name.setdefault(figure.name, []).append(figure)
    order = list(FIGURE_LABELS) + sorted(set(by_name) - set(FIGURE_LABELS))
    for name in order:
        history = by_name.get(name, [])
        current = [f for f in history if f.effective_from <= on]
        label = FIGURE_LABELS.get(name, name)
        if current:
            rows.append(FigureRow(label, current[-1], upcoming=False))
        rows.extend(FigureRow(label, f, upcoming=True) for f in history if f.effective_from > on)
    return rows


@require_GET
def policy(request: SignedInRequest) -> HttpResponse:
    buyer = council_of(request.user)
    today = timezone.localdate()
    figures = list(StatutoryFigure.objects.order_by("name", "effective_from"))
    return render(
        request,
        "tenders/policy/policy.html",
        {
            "buyer": buyer,
            "versions": policy_versions(buyer, figures),
            "figures": statutory_figures(today, figures),
            "today": today,
            "can_edit": administrator_of_council(request.user, buyer),
        },
    )


# --- A new version ----------------------------------------------------------------


def _anchor(form: Any, name: str) -> str:
    """The id of the input an error in the summary links to."""
    if name == NON_FIELD_ERRORS:
        name = next(iter(form.fields))
    bound = form[name]
    widget = bound.field.widget
    if hasattr(widget, "widgets"):  # day, month and year
        return f"{bound.auto_id}_0"
    if getattr(widget, "input_type", "") == "radio":
        return f"id_{bound.html_name}_1"
    return bound.auto_id


def _error_list(form: PolicyForm, formset: Any, service_errors: list[str]) -> list[tuple]:
    errors = [
        (_anchor(form, name), message)
        for name, messages_ in form.errors.items()
        for message in messages_
    ]
    errors += [("bands", message) for message in formset.non_form_errors()]
    for band in formset.forms:
        errors += [
            (_anchor(band, name), message)
            for name, messages_ in band.errors.items()
            for message in messages_
        ]
    errors += [("bands", message) for message in service_errors]
    return errors


def _apply_service_error(form: PolicyForm, error: ValidationError) -> list[str]:
    """Put a refusal from ``policy_create`` beside the field it is about;
    return what belongs to no field (the bands)."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    others = []
    for name, errors in error.error_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
        elif name == NON_FIELD_ERRORS:
            form.add_error(None, errors)
        else:
            others += [message for e in errors for message in e.messages]
    return others


@require_http_methods(["GET", "POST"])
def policy_new(request: SignedInRequest) -> HttpResponse:
    user = request.user
    buyer = council_of(user)
    if not administrator_of_council(user, buyer):
        raise PermissionDenied("Only your council’s administrators add policy versions.")
    latest = (
        ProcurementPolicy.objects.filter(buyer=buyer)
        .prefetch_related("bands")
        .order_by("-effective_from", "-version")
        .first()
    )
    today = timezone.localdate()
    data = request.POST if request.method == "POST" else None
    form = PolicyForm(data, latest=latest, today=today)
    formset = BandFormSet(data, prefix="bands", initial=None if data else band_initial(latest))
    service_errors: list[str] = []
    if data is not None:
        form_valid = form.is_valid()
        formset.threshold = form.cleaned_data.get("local_threshold")
        if formset.is_valid() and form_valid:
            try:
                created = policy_create(
                    buyer=buyer, by=user, bands=formset.band_specs(), **form.policy_arguments()
                )
            except ValidationError as refused:
                service_errors = _apply_service_error(form, refused)
            else:
                messages.success(
                    request,
                    f"Version {created.version} saved. It is in force from "
                    f"{created.effective_from:%-d %B %Y}.",
                )
                return redirect("tenders:policy")
    errors = _error_list(form, formset, service_errors) if data is not None else []
    return render(
        request,
        "tenders/policy/policy_new.html",
        {
            "buyer": buyer,
            "latest": latest,
            "form": form,
            "formset": formset,
            "errors": errors,
            "service_errors": service_errors,
        },
    )


# --- The "full tender required" register -------------------------------------------


def full_tender_checks(buyer: BuyerOrganisation) -> QuerySet[RouteCheck]:
    """Every time the rule decided "full tender required" for ``buyer``, newest first."""
    return (
        RouteCheck.objects.filter(buyer=buyer, route=Route.FULL_TENDER)
        .select_related("opportunity", "policy", "checked_by")
        .order_by("-checked_at", "-id")
    )


def occasion_label(occasion: str) -> str:
    return occasion.replace("_", " ").capitalize()


def checked_by_label(check: RouteCheck) -> str:
    return check.checked_by.full_name if check.checked_by else "The portal"


TODAY = "Today's facts (not yet recorded)"


@require_GET
def full_tender_register(request: SignedInRequest) -> HttpResponse:
    buyer = council_of(request.user)
    page = Paginator(full_tender_checks(buyer), PAGE_SIZE).get_page(request.GET.get("page"))
    checks = list(page.object_list)
    for check in checks:
        check.occasion_label = occasion_label(check.occasion)
        check.checked_by_label = checked_by_label(check)
    return render(
        request,
        "tenders/policy/full_tender_register.html",
        {
            "buyer": buyer,
            "page": page,
            "checks": checks,
            # Work whose last recorded decision let it go to invited bidders,
            # but which the rule sends to full tender on today's facts.
            "today": [{"opportunity": o, "route": route} for o, route in full_tender_today(buyer)],
        },
    )


CSV_COLUMNS = [
    "Checked at (UK time)",
    "Occasion",
    "Opportunity reference",
    "Opportunity title",
    "CPV code",
    "Value compared (£)",
    "Aggregated value (£)",
    "Threshold (£)",
    "Policy version",
    "Policy in force from",
    "Checked by",
    "Reasons",
]


def csv_row(check: RouteCheck) -> list[str]:
    opportunity = check.opportunity
    return [
        uk_stamp(check.checked_at),
        occasion_label(check.occasion),
        csvfile.cell(opportunity.reference if opportunity else ""),
        csvfile.cell(opportunity.title if opportunity else ""),
        check.cpv_code,
        f"{check.value_compared:.2f}",
        f"{check.aggregated_value:.2f}",
        f"{check.threshold:.2f}",
        str(check.policy.version),
        check.policy.effective_from.isoformat(),
        csvfile.cell(checked_by_label(check)),
        csvfile.cell(" ".join(check.reasons)),
    ]


def today_csv_row(opportunity: Opportunity, route: CurrentRoute) -> list[str]:
    """A row for work the rule sends to full tender on today's facts."""
    return [
        uk_stamp(timezone.now()),
        TODAY,
        csvfile.cell(opportunity.reference),
        csvfile.cell(opportunity.title),
        opportunity.cpv_id,
        f"{route.value_compared:.2f}",
        f"{route.aggregated_value:.2f}",
        f"{route.threshold:.2f}",
        str(route.policy_version),
        route.policy_from.isoformat() if route.policy_from else "",
        "The portal",
        csvfile.cell(" ".join(route.reasons)),
    ]


@require_GET
def full_tender_register_csv(request: SignedInRequest) -> StreamingHttpResponse:
    buyer = council_of(request.user)
    today = [today_csv_row(o, route) for o, route in full_tender_today(buyer)]
    recorded = (csv_row(check) for check in full_tender_checks(buyer).iterator(chunk_size=2000))
    return csvfile.download(
        CSV_COLUMNS,
        itertools.chain(today, recorded),
        f"full-tender-required-{buyer.slug}-{timezone.localdate():%Y-%m-%d}.csv",
    )
