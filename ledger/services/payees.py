"""Payees matched to suppliers once, and remembered (issue 18; ADR 15).

* ``match_payees``: after every import, each unmatched payee whose Companies
  House number a supplier has is matched to it (a number beats a name).
* ``candidates``: the ranked suppliers an officer may confirm for an
  unmatched payee (rapidfuzz on the normalised names, score ≥ 80, the
  council's approved suppliers first among equal scores), never one
  rejected for that payee.
* ``payee_confirm`` / ``payee_reject`` / ``payee_unmatch``: an officer's
  decisions, audited. Payments point at their payee, so a match applies to
  every payment of the payee, past and future.
* ``payee_invite``: "invite them to register", an email to an address.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from rapidfuzz import fuzz, process

from ledger import rollup
from ledger.invitations import invitation_key, send_invitation
from ledger.models import MatchMethod, Payee, PayeeRejection
from ledger.names import is_redacted, normalise
from portal import audit
from portal.models import BuyerOrganisation, User
from portal.permissions import officer_of_council
from suppliers.identifiers import normalise_company_number
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.selectors import approved_by, status_for

# The lowest rapidfuzz score (0–100) at which a supplier is proposed.
CUTOFF = 80


class PayeeRefused(ValueError):
    """A decision about a payee that may not be made: the message says why."""


# --- Matching by Companies House number -------------------------------------------------


def _company_number(value: str) -> str:
    """A Companies House number as suppliers' are stored ("1234567" is
    "01234567"); blank when it is not one."""
    try:
        return normalise_company_number(value)
    except ValidationError:
        return ""


def match_payees(buyer: BuyerOrganisation) -> int:
    """Match every unmatched payee of ``buyer`` with a Companies House number
    to the supplier that has that number, whatever the names say; a supplier
    an officer rejected for the payee is never matched to it. Payees already
    matched are left as they are. Returns how many were matched (audited,
    one event each, by the system). A few queries, whatever the number of payees."""
    with transaction.atomic():
        rollup.changing()
        unmatched = list(
            Payee.objects.select_for_update(of=("self",))
            .filter(buyer=buyer, supplier__isnull=True)
            .exclude(companies_house_number="")
            .order_by("pk")
        )
        numbers = {payee.pk: _company_number(payee.companies_house_number) for payee in unmatched}
        wanted = {number for number in numbers.values() if number}
        if not wanted:
            return 0
        # Only a supplier this council has verified: a number anyone may type at
        # registration is not proof of who is paid (an officer may still confirm).
        supplier_of = dict(
            SupplierOrganisation.objects.filter(
                approved_by(buyer), companies_house_number__in=wanted
            ).values_list("companies_house_number", "pk")
        )
        rejected = set(
            PayeeRejection.objects.filter(
                payee__buyer=buyer, payee__supplier__isnull=True
            ).values_list("payee_id", "supplier_id")
        )
        now = timezone.now()
        found = []
        for payee in unmatched:
            supplier_id = supplier_of.get(numbers[payee.pk])
            if supplier_id is None or (payee.pk, supplier_id) in rejected:
                continue
            payee.supplier_id = supplier_id
            payee.match_method = MatchMethod.NUMBER
            payee.matched_by = None
            payee.matched_at = now
            found.append(payee)
        Payee.objects.bulk_update(
            found, ["supplier", "match_method", "matched_by", "matched_at"], batch_size=1000
        )
        for payee in found:
            audit.record(
                actor=None,
                action="payee.matched_by_number",
                obj=payee,
                changes={"supplier": [None, payee.supplier_id]},
                context={
                    "council": buyer.pk,
                    "companies_house_number": payee.companies_house_number,
                },
            )
        return len(found)


# --- Candidates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A supplier the payee may be, with how alike their names are (0–100)."""

    supplier_id: int
    name: str  # as the portal shows the supplier (trading name, or legal name)
    legal_name: str
    companies_house_number: str
    status: str  # its status with the payee's council (``SupplierStatus``)
    score: int
    matched_on: str  # the supplier's name that scored best

    @property
    def approved(self) -> bool:
        """Approved by the payee's council (and not suspended)."""
        return self.status == SupplierStatus.APPROVED

    @property
    def status_label(self) -> str:
        """ "Approved", "Waiting for verification" or "Suspended"."""
        return SupplierStatus(self.status).label


@dataclass(frozen=True)
class SupplierChoices:
    """Every supplier's normalised names, read once (one query) for a request."""

    # (key, normalised name) for rapidfuzz; key = (supplier id, "legal"|"trading")
    names: dict[tuple[int, str], str]
    suppliers: dict[int, tuple[str, str, str, str]]  # id → (shown, legal, number, status)
    raw: dict[tuple[int, str], str]  # the name as written, for "matched on"


def supplier_choices(
    buyer: BuyerOrganisation, *, excluding: Payee | None = None
) -> SupplierChoices:
    """Every supplier's names, normalised, with its status with ``buyer``
    (approved, waiting for verification or suspended); without the suppliers
    rejected for ``excluding``. One query."""
    rows = SupplierOrganisation.objects.annotate(status=status_for(buyer))
    if excluding is not None:
        rows = rows.exclude(
            Exists(PayeeRejection.objects.filter(payee=excluding, supplier=OuterRef("pk")))
        )
    names: dict[tuple[int, str], str] = {}
    raw: dict[tuple[int, str], str] = {}
    suppliers: dict[int, tuple[str, str, str, str]] = {}
    for pk, legal, trading, number, status in rows.values_list(
        "pk", "legal_name", "trading_name", "companies_house_number", "status"
    ).order_by():
        suppliers[pk] = (trading or legal, legal, number, status)
        for kind, name in (("legal", legal), ("trading", trading)):
            normalised = normalise(name) if name else ""
            if normalised:
                names[(pk, kind)] = normalised
                raw[(pk, kind)] = name
    return SupplierChoices(names=names, suppliers=suppliers, raw=raw)


def candidates(
    payee: Payee, limit: int = 5, *, choices: SupplierChoices | None = None
) -> list[Candidate]:
    """The suppliers ``payee`` may be, best first: rapidfuzz's
    ``token_sort_ratio`` of the normalised names (legal and trading), score
    ≥ 80; among equal scores the council's approved suppliers first. Never a
    supplier rejected for this payee; nothing for a redacted or blank payee.
    ``choices`` (``supplier_choices``) may be shared by several payees of one
    request, but must then leave out each payee's rejected suppliers itself:
    they are left out here too."""
    query = payee.normalised or normalise(payee.name)
    if not query or is_redacted(payee.name):
        return []
    if choices is None:
        choices = supplier_choices(payee.buyer, excluding=payee)
        rejected: set[int] = set()
    else:
        rejected = set(payee.rejections.values_list("supplier_id", flat=True))
    found = process.extract(
        query, choices.names, scorer=fuzz.token_sort_ratio, score_cutoff=CUTOFF, limit=None
    )
    best: dict[int, tuple[float, tuple[int, str]]] = {}
    for _name, score, key in found:
        supplier_id = key[0]
        if supplier_id in rejected:
            continue
        if supplier_id not in best or score > best[supplier_id][0]:
            best[supplier_id] = (score, key)
    ranked = []
    for supplier_id, (score, key) in best.items():
        shown, legal, number, status = choices.suppliers[supplier_id]
        ranked.append(
            Candidate(
                supplier_id=supplier_id,
                name=shown,
                legal_name=legal,
                companies_house_number=number,
                status=status,
                score=round(score),
                matched_on=choices.raw[key],
            )
        )
    ranked.sort(key=lambda c: (-c.score, not c.approved, c.name.casefold(), c.supplier_id))
    return ranked[:limit]


# --- An officer's decisions ----------------------------------------------------------------


def _may_decide(payee: Payee, by: User) -> None:
    if not officer_of_council(by, payee.buyer_id):
        raise PayeeRefused(f"Only the council's procurement officers decide who {payee} is.")


def _locked(payee: Payee) -> Payee:
    rollup.changing()
    return Payee.objects.select_for_update(of=("self",)).select_related("supplier").get(pk=payee.pk)


@transaction.atomic
def payee_confirm(*, payee: Payee, supplier: SupplierOrganisation, by: User) -> Payee:
    """``by`` confirms that ``payee`` is ``supplier``: every payment of the
    payee, past and future, is then the supplier's. Audited."""
    _may_decide(payee, by)
    payee = _locked(payee)
    if is_redacted(payee.name) or not payee.normalised:
        raise PayeeRefused("A redacted payee is never matched to anyone.")
    if payee.supplier_id == supplier.pk:
        raise PayeeRefused(f"{payee} is already matched to {supplier}.")
    if payee.supplier_id is not None:
        raise PayeeRefused(
            f"{payee} is already matched to {payee.supplier}: unmatch it first if that is wrong."
        )
    if PayeeRejection.objects.filter(payee=payee, supplier=supplier).exists():
        raise PayeeRefused(f"An officer said {payee} is not {supplier}.")
    payee.supplier = supplier
    payee.match_method = MatchMethod.CONFIRMED
    payee.matched_by = by
    payee.matched_at = timezone.now()
    payee.save(update_fields=["supplier", "match_method", "matched_by", "matched_at"])
    audit.record(
        actor=by,
        action="payee.matched",
        obj=payee,
        changes={"supplier": [None, supplier.pk]},
        context={"council": payee.buyer_id, "supplier_name": str(supplier)},
    )
    return payee


@transaction.atomic
def payee_reject(*, payee: Payee, supplier: SupplierOrganisation, by: User) -> PayeeRejection:
    """``by`` says ``payee`` is not ``supplier``: it is never proposed (nor
    matched by number) for this payee again. Audited."""
    _may_decide(payee, by)
    payee = _locked(payee)
    if payee.supplier_id == supplier.pk:
        raise PayeeRefused(f"{payee} is matched to {supplier}: unmatch it instead.")
    rejection, created = PayeeRejection.objects.get_or_create(
        payee=payee, supplier=supplier, defaults={"rejected_by": by}
    )
    if not created:
        raise PayeeRefused(f"An officer already said {payee} is not {supplier}.")
    audit.record(
        actor=by,
        action="payee.candidate_rejected",
        obj=payee,
        context={
            "council": payee.buyer_id,
            "supplier": supplier.pk,
            "supplier_name": str(supplier),
        },
    )
    return rejection


@transaction.atomic
def payee_unmatch(*, payee: Payee, by: User, reason: str) -> Payee:
    """``by`` undoes a wrong match, with a reason; the supplier it was matched
    to is recorded as rejected, so that neither the candidates nor the match
    by number bring it back. Audited."""
    _may_decide(payee, by)
    reason = (reason or "").strip()
    if not reason:
        raise PayeeRefused("Say why the match is wrong.")
    payee = _locked(payee)
    if payee.supplier_id is None:
        raise PayeeRefused(f"{payee} is not matched to a supplier.")
    before, method = payee.supplier_id, payee.match_method
    PayeeRejection.objects.get_or_create(
        payee=payee, supplier_id=before, defaults={"rejected_by": by}
    )
    payee.supplier = None
    payee.match_method = MatchMethod.NONE
    payee.matched_by = None
    payee.matched_at = None
    payee.save(update_fields=["supplier", "match_method", "matched_by", "matched_at"])
    audit.record(
        actor=by,
        action="payee.unmatched",
        obj=payee,
        changes={"supplier": [before, None]},
        context={"council": payee.buyer_id, "reason": reason, "match_method": method},
    )
    return payee


# How long after an invitation a payee may be invited again.
INVITE_AGAIN_AFTER = datetime.timedelta(days=30)


@transaction.atomic
def payee_invite(*, payee: Payee, email: str, by: User) -> Payee:
    """Email ``email`` an invitation to register, from the payee's council,
    and note when (``invited_at``). Refused for a redacted payee and for one
    already matched to a supplier (it is registered). Audited."""
    _may_decide(payee, by)
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise PayeeRefused(
            "Enter an email address in the correct format, like name@example.com"
        ) from None
    payee = _locked(payee)
    if is_redacted(payee.name) or not payee.normalised:
        raise PayeeRefused("A redacted payee cannot be invited: nobody knows who it is.")
    if payee.supplier_id is not None:
        raise PayeeRefused(f"{payee} is matched to {payee.supplier}, which is registered already.")
    buyer = BuyerOrganisation.objects.get(pk=payee.buyer_id)
    now = timezone.now()
    before = payee.invited_at
    if before is not None and now - before < INVITE_AGAIN_AFTER:
        # One invitation a month at most: a replayed form, or a busy button,
        # never sends the same organisation a stream of emails.
        again = timezone.localtime(before + INVITE_AGAIN_AFTER)
        raise PayeeRefused(
            f"{payee} was invited on {timezone.localtime(before):%-d %B %Y}: it can be "
            f"invited again from {again:%-d %B %Y}."
        )
    payee.invited_at = now
    payee.save(update_fields=["invited_at"])
    audit.record(
        actor=by,
        action="payee.invited_to_register",
        obj=payee,
        changes={"invited_at": [before.isoformat() if before else None, now.isoformat()]},
        context={"council": buyer.pk, "email": email},
    )
    context = {
        "council": buyer.name,
        "supplier_name": payee.name,
        "register": reverse("register"),
        "contact": {
            "name": "Procurement team",
            "email": buyer.contact_email or settings.SUPPORT_EMAIL,
            "council": buyer.name,
            "team": "",
        },
    }
    key = invitation_key(payee.pk, email, now.isoformat())
    transaction.on_commit(lambda: send_invitation.delay(email, context, key), robust=True)
    return payee
