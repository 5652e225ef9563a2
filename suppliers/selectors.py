"""Reads of supplier data for pages and commands."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from cpv.models import CpvCode
from cpv.selectors import descendants_filter
from portal.models import BuyerOrganisation, LocalityDistrict, Role, User
from suppliers.models import SupplierOrganisation, SupplierSite

if TYPE_CHECKING:
    from django.contrib.postgres.search import SearchVector


def is_local_to(buyer: BuyerOrganisation) -> Exists:
    """An expression: the supplier has a site in one of ``buyer``'s districts."""
    districts = LocalityDistrict.objects.filter(buyer=buyer).values("district")
    return Exists(SupplierSite.objects.filter(supplier=OuterRef("pk"), district__in=districts))


def local_supplier_ids(buyer: BuyerOrganisation) -> QuerySet[SupplierSite]:
    """The ids of the suppliers local to ``buyer`` (a site in one of its
    districts), as a subquery: the same suppliers as ``is_local_to``, read once
    and hashed rather than checked supplier by supplier."""
    districts = LocalityDistrict.objects.filter(buyer=buyer).values("district")
    return SupplierSite.objects.filter(district__in=districts).values("supplier_id")


def suppliers_for_buyer(buyer: BuyerOrganisation) -> QuerySet[SupplierOrganisation]:
    """Suppliers annotated with ``is_local`` to ``buyer``, local ones first."""
    return SupplierOrganisation.objects.annotate(is_local=is_local_to(buyer)).order_by(
        "-is_local", "legal_name"
    )


def buyers_local_to(supplier: SupplierOrganisation) -> QuerySet[BuyerOrganisation]:
    """The buyer organisations whose locality includes one of the supplier's sites."""
    districts = SupplierSite.objects.filter(supplier=supplier).values("district")
    return BuyerOrganisation.objects.filter(locality_districts__district__in=districts).distinct()


# --- The officers' supplier directory and detail pages --------------------------

# Suppliers register once for the whole portal, so every council's staff may
# see every supplier; supplier users never see these pages.
COUNCIL_ROLES = frozenset({Role.OFFICER, Role.AUDITOR, Role.ADMIN})
# Longest search text worth running, and most words; longer text is cut.
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"[^\W_]+")
# Must stay the expression of the GIN index in migration 0004, so it is used.
NAME_SEARCH_CONFIG = "simple"


def name_search_vector() -> SearchVector:
    """Legal and trading name as one ``simple`` text-search vector (PostgreSQL).

    ``simple`` rather than ``english``: names are proper nouns, and English
    stop words would make "IT" or "The" unsearchable.
    """
    from django.contrib.postgres.search import SearchVector

    return SearchVector("legal_name", "trading_name", config=NAME_SEARCH_CONFIG)


def _sites_for(buyer: BuyerOrganisation | None) -> Prefetch:
    """A supplier's sites, each annotated with ``is_local`` to ``buyer``."""
    in_locality = LocalityDistrict.objects.filter(buyer=buyer, district=OuterRef("district"))
    sites = SupplierSite.objects.annotate(is_local=Exists(in_locality)).order_by("id")
    return Prefetch("sites", queryset=sites)


def _word_filter_postgresql(word: str) -> Q:
    from django.contrib.postgres.search import SearchQuery, SearchVector

    # Words are letters and digits only, so safe in to_tsquery's syntax; each
    # is a prefix, so the box works as people type ("clean" finds Cleaning).
    names = SearchQuery(f"{word}:*", search_type="raw", config=NAME_SEARCH_CONFIG)
    described = SearchQuery(f"{word}:*", search_type="raw", config="english")
    # Uncorrelated subqueries: PostgreSQL runs each once (through the GIN
    # indexes on names and on CPV descriptions) and hashes the result.
    by_name = (
        SupplierOrganisation.objects.annotate(found=name_search_vector())
        .filter(found=names)
        .values("pk")
    )
    # The same expression as the CPV description index (cpv migration 0002).
    codes = (
        CpvCode.objects.annotate(found=SearchVector("description", config="english"))
        .filter(found=described)
        .values("pk")
    )
    by_category = SupplierOrganisation.categories.through.objects.filter(cpvcode__in=codes).values(
        "supplierorganisation_id"
    )
    by_town = (
        SupplierSite.objects.annotate(found=SearchVector("town", config=NAME_SEARCH_CONFIG))
        .filter(found=names)
        .values("supplier_id")
    )
    return Q(pk__in=by_name) | Q(pk__in=by_category) | Q(pk__in=by_town)


def _word_filter(word: str) -> Q:
    by_category = SupplierOrganisation.categories.through.objects.filter(
        cpvcode__description__icontains=word
    ).values("supplierorganisation_id")
    by_town = SupplierSite.objects.filter(town__icontains=word).values("supplier_id")
    return (
        Q(legal_name__icontains=word)
        | Q(trading_name__icontains=word)
        | Q(pk__in=by_category)
        | Q(pk__in=by_town)
    )


def search_words(query: str) -> list[str]:
    """The words of a search box worth looking for (letters and digits)."""
    text = " ".join((query or "").split())[:MAX_QUERY_LENGTH]
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:MAX_QUERY_WORDS]


def directory(
    *,
    buyer: BuyerOrganisation | None,
    query: str = "",
    category: CpvCode | None = None,
    local_only: bool = False,
    sme: bool | None = None,
    vcse: bool | None = None,
    status: str | None = None,
) -> QuerySet[SupplierOrganisation]:
    """Suppliers for the officers' directory, local to ``buyer`` first, then by name.

    Each word of ``query`` must be found in the supplier's name, the
    description of one of its categories or the town of one of its sites:
    by PostgreSQL full-text search (words as prefixes), or elsewhere as
    text anywhere. ``category`` matches the code and every code below it.
    ``sme``, ``vcse`` and ``status`` filter when given. Rows carry
    ``is_local`` (so do their prefetched sites); sites and categories are
    prefetched, so a page costs the same few queries however many match.
    """
    suppliers = SupplierOrganisation.objects.annotate(is_local=is_local_to(buyer))
    word_filter = _word_filter_postgresql if connection.vendor == "postgresql" else _word_filter
    for word in search_words(query):
        suppliers = suppliers.filter(word_filter(word))
    if category is not None:
        in_category = SupplierOrganisation.categories.through.objects.filter(
            descendants_filter(category, field="cpvcode__prefix")
        ).values("supplierorganisation_id")
        suppliers = suppliers.filter(pk__in=in_category)
    if local_only:
        suppliers = suppliers.filter(is_local=True)
    if sme is not None:
        suppliers = suppliers.filter(is_sme=sme)
    if vcse is not None:
        suppliers = suppliers.filter(is_vcse=vcse)
    if status:
        suppliers = suppliers.filter(status=status)
    return suppliers.order_by("-is_local", "legal_name", "pk").prefetch_related(
        _sites_for(buyer), "categories"
    )


def supplier_for_officer(user: User, pk: int) -> SupplierOrganisation:
    """The supplier ``pk`` for a council's officer, auditor or administrator,
    with ``is_local`` to their council and its sites and categories; 404 for
    anyone else (a supplier user sees only their own organisation, elsewhere).
    """
    if user.role not in COUNCIL_ROLES:
        raise Http404("No such supplier.")
    suppliers = SupplierOrganisation.objects.annotate(is_local=is_local_to(user.buyer))
    return get_object_or_404(
        suppliers.prefetch_related(_sites_for(user.buyer), "categories"), pk=pk
    )
