"""What the payee pages read (issue 18): a council's payees with their spend."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from ledger.models import AMOUNT, Payee, Payment
from ledger.names import normalise
from ledger.selectors import postcode_district
from portal.models import BuyerOrganisation, LocalityDistrict, User
from portal.permissions import council_of

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class SpendFields(TypedDict):
    spend: object  # Decimal
    payments_count: int
    last_paid: object  # date | None


class PageFields(SpendFields):
    postcode_local: bool  # the payee's postcode is in its council's area


if TYPE_CHECKING:
    PayeeWithSpend = WithAnnotations[Payee, SpendFields]
    PayeeForPage = WithAnnotations[Payee, PageFields]


def _with_spend(payees: QuerySet[Payee]) -> QuerySet[Payee]:
    return payees.annotate(
        spend=Coalesce(
            Sum("payments__amount"),
            Value(0),
            output_field=DecimalField(**AMOUNT),
        ),
        payments_count=Count("payments"),
        last_paid=Max("payments__transaction_date"),
    )


def _search(payees: QuerySet[Payee], query: str) -> QuerySet[Payee]:
    query = (query or "").strip()
    if not query:
        return payees
    words = normalise(query)
    found = Q(name__icontains=query)
    if words:
        found |= Q(normalised__contains=words)
    return payees.filter(found)


def unmatched_by_spend(buyer: BuyerOrganisation, query: str = "") -> QuerySet[Payee]:
    """``buyer``'s unmatched payees (never a redacted or blank one) with their
    total net spend, number of payments and last payment date, the largest
    spend first; ``query`` searches their names. One query (page it)."""
    payees = Payee.objects.filter(buyer=buyer, supplier__isnull=True).exclude(normalised="")
    return _with_spend(_search(payees, query)).order_by("-spend", "normalised", "pk")


def matched_by_spend(buyer: BuyerOrganisation, query: str = "") -> QuerySet[Payee]:
    """``buyer``'s matched payees, with their supplier and spend, largest first."""
    payees = Payee.objects.filter(buyer=buyer, supplier__isnull=False).select_related("supplier")
    return _with_spend(_search(payees, query)).order_by("-spend", "normalised", "pk")


def payee_for_staff(user: User, pk: int) -> PayeeForPage:
    """The payee ``pk`` of ``user``'s council with its spend and whether the
    postcode the files gave it is in the council's area (``postcode_local``:
    how its payments are placed when it is not matched to a verified
    supplier, ADR 15); 404 for anyone else's (other councils, suppliers).
    One query."""
    buyer = council_of(user)
    in_area = LocalityDistrict.objects.filter(
        buyer=OuterRef("buyer"), district=OuterRef("postcode_district")
    )
    found = (
        _with_spend(Payee.objects.filter(buyer=buyer, pk=pk))
        .annotate(postcode_district=postcode_district(F("postcode")))
        .annotate(postcode_local=Exists(in_area))
        .select_related("supplier", "matched_by", "buyer")
        .first()
    )
    if found is None:
        raise Http404("No such payee.")
    return found  # type: ignore[return-value]


def recent_payments(payee: Payee, limit: int = 10) -> list[Payment]:
    """The payee's latest payments, newest first."""
    return list(
        Payment.objects.filter(buyer_id=payee.buyer_id, payee=payee).order_by(
            "-transaction_date", "-id"
        )[:limit]
    )
