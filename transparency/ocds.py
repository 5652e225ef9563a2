"""Open Contracting Data Standard 1.1: an awarded or cancelled opportunity as
a release, releases in a release package, and offline validation against the
official schemas shipped in ``transparency/schemas/ocds-1.1/`` (RULES.md §7).

The mapping, in short:

* ``ocid`` is ``ocds-<OCDS_PREFIX>-<opportunity id>``; one release per
  opportunity, tagged ``award`` + ``contract`` when awarded and
  ``tenderCancellation`` when cancelled, dated by the last award or the
  cancellation.
* ``parties``: the council (``buyer``, identified by its local authority code
  in its nation's register: ``GB-LAE``, ``GB-LAS``, ``GB-PLA`` or ``GB-LANI``)
  and every supplier (``tenderer`` and/or ``supplier``,
  identified by Companies House ``GB-COH`` or charity ``GB-CHC`` number).
* ``tender``: reference, title, description, status, ``selective`` for
  invited bidders with the band in ``procurementMethodDetails``, the main
  category, the CPV code on one item per lot (core OCDS classifies items,
  not tenders), the estimated value (lots plus options), the tender period,
  tenderers and lots.
* ``awards`` and ``contracts``: one per awarded lot. A contract's
  ``description`` says, in words, whether it needs a contract details notice
  and a Transparency Code entry (``transparency.marks``): the core schema has
  no field for either, and no extension is invented for them.

Lots use the official OCDS lots extension, listed in the package's
``extensions``. Amounts are as priced, on the opportunity's VAT basis; the
contract description gives the VAT-inclusive value.

Sealed bids stay sealed: tenderers and their number appear only once two
officers have opened the box (an opportunity cancelled before that shows
neither), and the bids of an unopened box are never read from the database.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry
from referencing.exceptions import NoSuchResource

from portal.models import BuyerOrganisation
from portal.ukdates import uk_stamp
from suppliers.models import SupplierOrganisation
from tenders.models import (
    Award,
    Bid,
    BidStatus,
    Contract,
    ContractKind,
    Lot,
    Opportunity,
    OpportunityStatus,
    Route,
    VatBasis,
)
from tenders.rules import money, percent
from transparency.marks import Figures, load_figures, marks_for, vat_rate_percent

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas" / "ocds-1.1"
VERSION = "1.1"
CURRENCY = "GBP"
LOTS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/"
    "ocds_lots_extension/v1.1.5/extension.json"
)

# Identifier schemes (org-id.guide codes) as RULES.md §7 names them.
# A council's scheme is its own (BuyerOrganisation.identifier_scheme, by nation).
COMPANY_SCHEME = "GB-COH"  # Companies House
CHARITY_SCHEME = "GB-CHC"  # Charity Commission

S = OpportunityStatus
# Only finished processes are published.
EXPORTED = (S.AWARDED, S.CANCELLED)
# By status: the choices are strings, as the model's field gives them.
TENDER_STATUS: dict[str, str] = {
    S.DRAFT: "planned",
    S.OPEN: "active",
    S.CLOSED: "active",
    S.EVALUATION: "active",
    S.AWARDED: "complete",
    S.CANCELLED: "cancelled",
}
CATEGORY: dict[str, str] = {
    ContractKind.GOODS: "goods",
    ContractKind.SERVICES: "services",
    ContractKind.WORKS: "works",
    ContractKind.LIGHT_TOUCH: "services",
}


class InvalidPackage(ValueError):
    """A package that does not validate: a bug in the mapping, never published."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("The OCDS package is not valid: " + "; ".join(problems[:5]))


# --- Reading ---------------------------------------------------------------------------


def export_queryset(opportunities: QuerySet[Opportunity] | None = None) -> QuerySet[Opportunity]:
    """The exportable opportunities of ``opportunities`` with everything a release
    reads, in a fixed number of queries however many there are."""
    if opportunities is None:
        opportunities = Opportunity.objects.all()
    opened_bids = Bid.objects.filter(
        status=BidStatus.SUBMITTED, opportunity__box_opening__second_at__isnull=False
    ).select_related("supplier")
    return (
        opportunities.filter(status__in=EXPORTED)
        .select_related("buyer", "cpv", "policy", "box_opening")
        .prefetch_related(
            Prefetch(
                "lots",
                queryset=Lot.objects.select_related("award__contract__supplier").order_by("number"),
            ),
            Prefetch("bids", queryset=opened_bids, to_attr="ocds_opened_bids"),
        )
    )


def exported_between(
    buyer: BuyerOrganisation, first: datetime.date, last: datetime.date
) -> QuerySet[Opportunity]:
    """The buyer's opportunities awarded (the last contract's award day) or
    cancelled (the day in UK time) from ``first`` to ``last`` inclusive, ready
    for ``release_for``, oldest first."""
    last_award = (
        Contract.objects.filter(award__lot__opportunity=OuterRef("pk"))
        .order_by("-awarded_on")
        .values("awarded_on")[:1]
    )
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min)
    )
    chosen = (
        Opportunity.objects.filter(buyer=buyer)
        .annotate(last_award=Subquery(last_award))
        .filter(
            Q(status=S.AWARDED, last_award__gte=first, last_award__lte=last)
            | Q(status=S.CANCELLED, cancelled_at__gte=start, cancelled_at__lt=end)
        )
        .order_by("pk")
    )
    return export_queryset(chosen)


def box_opened(opportunity: Opportunity) -> bool:
    try:
        return opportunity.box_opening.opened
    except ObjectDoesNotExist:
        return False


def _award_of(lot: Lot) -> Award | None:
    try:
        return lot.award
    except ObjectDoesNotExist:
        return None


def _contract_of(award: Award) -> Contract | None:
    try:
        return award.contract
    except ObjectDoesNotExist:
        return None


def _submitted_bids(opportunity: Opportunity) -> list[Bid]:
    """The submitted bids, only ever read once the box is opened."""
    if not box_opened(opportunity):
        return []
    bids = getattr(opportunity, "ocds_opened_bids", None)
    if bids is None:
        bids = Bid.objects.filter(
            opportunity=opportunity, status=BidStatus.SUBMITTED
        ).select_related("supplier")
    return list(bids)


# --- Small values ----------------------------------------------------------------------


def _amount(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _value(amount: Decimal) -> dict[str, Any]:
    return {"amount": _amount(amount), "currency": CURRENCY}


def _datetime(moment: datetime.datetime) -> str:
    """RFC 3339 in UK time, to the second."""
    return uk_stamp(moment, sep="T")


def _day_start(day: datetime.date) -> str:
    moment = datetime.datetime.combine(day, datetime.time.min)
    return _datetime(timezone.make_aware(moment))


def _day_end(day: datetime.date) -> str:
    moment = datetime.datetime.combine(day, datetime.time(23, 59, 59))
    return _datetime(timezone.make_aware(moment))


def lot_id(lot: Lot) -> str:
    return f"lot-{lot.number}"


# --- Parties ---------------------------------------------------------------------------


def buyer_party(buyer: BuyerOrganisation) -> dict[str, Any]:
    party: dict[str, Any] = {"name": buyer.name}
    if buyer.identifier:
        party["id"] = f"{buyer.identifier_scheme}-{buyer.identifier}"
        party["identifier"] = {
            "scheme": buyer.identifier_scheme,
            "id": buyer.identifier,
            "legalName": buyer.name,
        }
    else:
        party["id"] = f"buyer-{buyer.slug}"
    return party


def supplier_party(supplier: SupplierOrganisation) -> dict[str, Any]:
    """Identified by Companies House number, else charity number (both when both)."""
    identifiers = []
    if supplier.companies_house_number:
        identifiers.append((COMPANY_SCHEME, supplier.companies_house_number))
    if supplier.charity_number:
        identifiers.append((CHARITY_SCHEME, supplier.charity_number))
    party: dict[str, Any] = {"name": supplier.legal_name}
    if identifiers:
        scheme, number = identifiers[0]
        party["id"] = f"{scheme}-{number}"
        party["identifier"] = {"scheme": scheme, "id": number, "legalName": supplier.legal_name}
        if len(identifiers) > 1:
            party["additionalIdentifiers"] = [
                {"scheme": scheme, "id": number, "legalName": supplier.legal_name}
                for scheme, number in identifiers[1:]
            ]
    else:
        party["id"] = f"supplier-{supplier.pk}"
    return party


class _Parties:
    """The release's parties, each once, with every role it plays."""

    def __init__(self) -> None:
        self._by_id: dict[str, dict[str, Any]] = {}

    def add(self, party: dict[str, Any], role: str) -> dict[str, str]:
        held = self._by_id.setdefault(party["id"], {**party, "roles": []})
        if role not in held["roles"]:
            held["roles"].append(role)
        return {"id": party["id"], "name": party["name"]}

    def as_list(self) -> list[dict[str, Any]]:
        return list(self._by_id.values())


# --- The release -----------------------------------------------------------------------


def release_for(
    opportunity: Opportunity,
    *,
    prefix: str | None = None,
    figures: Figures | None = None,
    today: datetime.date | None = None,
) -> dict[str, Any]:
    """The OCDS release of an awarded or cancelled opportunity.

    ``prefix`` defaults to ``settings.OCDS_PREFIX``; ``figures`` (the statutory
    figures for the contract marks) are read when not given; ``today`` (UK)
    decides whether a contract is still active. Load the opportunity through
    ``export_queryset`` to build many releases with no query each.
    """
    if opportunity.status not in EXPORTED:
        raise ValueError("Only awarded or cancelled opportunities are published as OCDS.")
    prefix = prefix or settings.OCDS_PREFIX
    figures = figures if figures is not None else load_figures()
    today = today or timezone.localdate()
    ocid = f"ocds-{prefix}-{opportunity.pk}"

    lots = sorted(opportunity.lots.all(), key=lambda lot: lot.number)
    awarded = [(lot, award) for lot in lots if (award := _award_of(lot)) is not None]
    opened = box_opened(opportunity)
    bids = _submitted_bids(opportunity)

    parties = _Parties()
    buyer = parties.add(buyer_party(opportunity.buyer), "buyer")
    tenderers: dict[int, dict[str, str]] = {}
    for bid in sorted(bids, key=lambda b: (b.supplier.legal_name, b.supplier_id)):
        if bid.supplier_id not in tenderers:
            tenderers[bid.supplier_id] = parties.add(supplier_party(bid.supplier), "tenderer")

    tags: list[str] = []
    moments: list[datetime.datetime] = []
    if opportunity.status == S.CANCELLED:
        tags.append("tenderCancellation")
        moments.append(opportunity.cancelled_at or opportunity.created_at)
    if awarded:
        tags += ["award", "contract"]
        moments += [award.decided_at for _, award in awarded]
    date = max(moments) if moments else opportunity.created_at

    awards, contracts = [], []
    for lot, award in awarded:
        contract = _contract_of(award)
        supplier = contract.supplier if contract is not None else award.bid.supplier
        reference = parties.add(supplier_party(supplier), "supplier")
        award_id = f"award-{award.pk}"
        awards.append(
            {
                "id": award_id,
                "title": lot.title,
                "description": f"Price {VatBasis(opportunity.value_vat_basis).label}.",
                "status": "active",
                "date": _datetime(award.decided_at),
                "value": _value(award.value),
                "suppliers": [reference],
                "relatedLots": [lot_id(lot)],
            }
        )
        if contract is not None:
            contracts.append(_contract(contract, award_id, figures, today))

    release: dict[str, Any] = {
        "ocid": ocid,
        "id": f"{ocid}-{tags[0]}-{timezone.localtime(date).date().isoformat()}",
        "date": _datetime(date),
        "tag": tags,
        "initiationType": "tender",
        "language": "en",
        "parties": parties.as_list(),
        "buyer": buyer,
        "tender": _tender(opportunity, lots, opened, list(tenderers.values())),
    }
    if awards:
        release["awards"] = awards
    if contracts:
        release["contracts"] = contracts
    return release


def _tender(
    opportunity: Opportunity, lots: list[Lot], opened: bool, tenderers: list[dict[str, str]]
) -> dict[str, Any]:
    estimate = opportunity.value_estimated(lots)
    tender: dict[str, Any] = {
        "id": opportunity.reference,
        "title": opportunity.title,
        "description": opportunity.description,
        "status": TENDER_STATUS[opportunity.status],
    }
    if opportunity.route == Route.INVITATION:
        tender["procurementMethod"] = "selective"
        details = Route.INVITATION.label
        if opportunity.band_name:
            details += f": {opportunity.band_name}"
        tender["procurementMethodDetails"] = details
    tender["mainProcurementCategory"] = CATEGORY[opportunity.contract_kind]
    classification = {
        "scheme": "CPV",
        "id": opportunity.cpv.digits,
        "description": opportunity.cpv.description,
    }
    tender["items"] = [
        {
            "id": f"item-{lot.number}",
            "description": lot.title,
            "classification": classification,
            "relatedLot": lot_id(lot),
        }
        for lot in lots
    ]
    tender["value"] = _value(estimate)
    period = {}
    if opportunity.published_at:
        period["startDate"] = _datetime(opportunity.published_at)
    if opportunity.submission_deadline:
        period["endDate"] = _datetime(opportunity.submission_deadline)
    if period:
        tender["tenderPeriod"] = period
    if opened:
        tender["numberOfTenderers"] = len(tenderers)
        tender["tenderers"] = tenderers
    tender["lots"] = [_lot(lot, opportunity) for lot in lots]
    if opportunity.max_lots_per_supplier:
        tender["lotDetails"] = {"maximumLotsAwardedPerSupplier": opportunity.max_lots_per_supplier}
    return tender


def _lot(lot: Lot, opportunity: Opportunity) -> dict[str, Any]:
    data: dict[str, Any] = {"id": lot_id(lot), "title": lot.title}
    if lot.description:
        data["description"] = lot.description
    awarded = _award_of(lot) is not None
    data["status"] = "complete" if awarded else TENDER_STATUS[opportunity.status]
    data["value"] = _value(lot.estimated_value)
    return data


def _contract(
    contract: Contract, award_id: str, figures: Figures, today: datetime.date
) -> dict[str, Any]:
    lot = contract.award.lot
    return {
        "id": f"contract-{contract.pk}",
        "awardID": award_id,
        "title": f"{lot.opportunity.title}: {lot.title}",
        "description": contract_note(contract, figures),
        "status": "terminated" if contract.end_date < today else "active",
        "period": {
            "startDate": _day_start(contract.start_date),
            "endDate": _day_end(contract.end_date),
        },
        "value": _value(contract.value),
    }


def contract_note(contract: Contract, figures: Figures) -> str:
    """The contract's VAT-inclusive value and its two publication duties, in words."""
    marks = marks_for(contract, figures)
    opportunity = contract.award.lot.opportunity
    # The marks judge the whole value: the price and the opportunity's options.
    price, whole, options = (
        money(contract.value),
        money(marks.value_including_vat),
        opportunity.options_value,
    )
    if opportunity.value_vat_basis == VatBasis.EXCLUSIVE:
        rate = percent(vat_rate_percent(contract))
        first = (
            f"Value {price} excluding VAT with {money(options)} of options and extensions; "
            f"{whole} in all including VAT at {rate}."
            if options
            else f"Value {price} excluding VAT; {whole} including VAT at {rate}."
        )
    elif options:
        first = (
            f"Value {price} including VAT with {money(options)} of options and extensions: "
            f"{whole} in all."
        )
    else:
        first = f"Value {price} including VAT."
    words = [first]
    if marks.notice_figure is None:
        words.append("Contract details notice: no figure recorded for the award date.")
    elif marks.contract_details_notice:
        words.append(
            f"Contract details notice required (≥ {money(marks.notice_figure)} incl. VAT)."
        )
    else:
        words.append(
            f"Contract details notice not required (under {money(marks.notice_figure)} incl. VAT)."
        )
    if marks.transparency_figure is None:
        words.append("Transparency Code: no figure recorded for the award date.")
    elif marks.transparency_code:
        words.append(
            f"Transparency Code: publish (over {money(marks.transparency_figure)} incl. VAT)."
        )
    else:
        words.append(
            f"Transparency Code: not required ({money(marks.transparency_figure)} or less "
            "incl. VAT)."
        )
    return " ".join(words)


# --- The package -----------------------------------------------------------------------


def council_package(
    buyer: BuyerOrganisation, first: datetime.date, last: datetime.date, *, uri: str
) -> dict[str, Any] | None:
    """The release package of ``buyer``'s opportunities awarded or cancelled
    from ``first`` to ``last`` (``exported_between``), published now at
    ``uri``; None when there are none (a package needs a release). The same
    for ``manage.py export_ocds`` and the auditor's download."""
    figures = load_figures()
    today = timezone.localdate()
    releases = [
        release_for(opportunity, figures=figures, today=today)
        for opportunity in exported_between(buyer, first, last)
    ]
    if not releases:
        return None
    return package(releases, published=timezone.now(), uri=uri, publisher=buyer.name)


def council_package_path(
    buyer: BuyerOrganisation, first: datetime.date, last: datetime.date
) -> str:
    """Where the auditor's download of ``council_package`` is served."""
    return reverse(
        "transparency:council_ocds",
        kwargs={"buyer": buyer.slug, "first": first.isoformat(), "last": last.isoformat()},
    )


def package(
    releases: Iterable[dict[str, Any]],
    *,
    published: datetime.datetime,
    uri: str,
    publisher: str | None = None,
) -> dict[str, Any]:
    """A release package of ``releases``, published by ``publisher`` (the
    council; the service's name by default)."""
    return {
        "uri": uri,
        "version": VERSION,
        "extensions": [LOTS_EXTENSION],
        "publishedDate": _datetime(published),
        "publisher": {"name": publisher or settings.SERVICE_NAME},
        "releases": list(releases),
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# --- Validation, offline -----------------------------------------------------------------


def _load(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return schema


def _refuse(uri: str) -> NoReturn:
    # Every schema the package needs is on disk; nothing is ever fetched.
    # referencing's classes are attrs classes its stubs mark with a home-made
    # ``__dataclass_transform__`` that mypy does not read, so it sees no fields.
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # stub gap (see above)


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    def is_datetime(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        if not _RFC3339.match(instance):
            return False
        datetime.datetime.fromisoformat(instance.upper().replace(" ", "T"))
        return True

    def is_uri(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        parts = urlparse(instance)
        return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in instance

    # Registered by calling ``checks`` (its decorator, untyped: jsonschema has no types).
    checker.checks("date-time", raises=ValueError)(is_datetime)
    checker.checks("uri", raises=ValueError)(is_uri)
    return checker


@functools.cache
def _validator() -> Draft4Validator:
    schema = _load("release-package-schema.json")
    release = _load("dereferenced-release-schema.json")
    release.pop("id", None)
    release.pop("$schema", None)
    schema["properties"]["releases"]["items"] = release
    # ``retrieve`` is an attrs field mypy cannot see (the stub gap of ``_refuse``).
    registry: Registry[Any] = Registry(retrieve=_refuse)  # type: ignore[call-arg]  # stub gap
    return Draft4Validator(schema, registry=registry, format_checker=_format_checker())


def _where(path: Iterable[Any]) -> str:
    text = "package"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def validate(data: dict[str, Any]) -> list[str]:
    """What is wrong with a release package, one line each; empty when valid."""
    problems = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.path))):
        message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
        problems.append(f"{_where(error.absolute_path)}: {message}")
    return problems


def check(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` if it is a valid release package; else ``InvalidPackage``."""
    problems = validate(data)
    if problems:
        raise InvalidPackage(problems)
    return data
