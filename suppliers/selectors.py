"""Reads of supplier data for pages and commands."""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.core.paginator import Page
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Concat, Left, Length, RPad, Substr
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.loader import get_template

from cpv.models import CpvCode
from cpv.selectors import descendants_filter
from portal import homes, kept
from portal.links import url_for_pk
from portal.models import BuyerOrganisation, LocalityDistrict, Role, User
from portal.paging import PAGE_SIZE, page_with_total, read_page, rows_with_total
from portal.permissions import is_council_staff, works_for_council
from portal.postcodes import InvalidPostcode, is_district, normalise_postcode
from portal.rawsql import reader
from portal.ukdates import uk_day
from suppliers.models import (
    ChangeKind,
    ChangeStatus,
    SupplierApproval,
    SupplierChange,
    SupplierOrganisation,
    SupplierSite,
    SupplierStatus,
    before_is_verified,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class ForCouncil(TypedDict):
    """What the officers' pages read with a supplier, for the viewer's council
    (``directory``, ``supplier_for_officer``)."""

    is_local: bool
    status: str  # a SupplierStatus value: that council's own decision


class DirectoryFields(ForCouncil):
    """What a row of the officers' directory shows besides (``directory_rows``)."""

    based_at: str  # its sites, "Town POSTCODE; Town POSTCODE"
    category_list: list[list[str]]  # its categories, each [code, description]
    detail_url: str


class PendingFields(TypedDict):
    """What the officer's home shows of a supplier waiting for verification."""

    is_local: bool
    url: str  # its page
    places: str  # its sites, "town postcode; town postcode"
    tags: str  # includes/supplier_tags.html for it, rendered once for each kind of row
    registered: str  # "3 Mar 2026", UK time


if TYPE_CHECKING:
    SupplierForCouncil = WithAnnotations[SupplierOrganisation, ForCouncil]
    DirectoryRow = WithAnnotations[SupplierOrganisation, DirectoryFields]
    PendingSupplier = WithAnnotations[SupplierOrganisation, PendingFields]


def status_for(buyer: BuyerOrganisation | int | None) -> Coalesce:
    """An expression: the supplier's status for ``buyer`` (pending when that
    council has not decided; each council verifies for itself, ADR 12)."""
    if buyer is None:
        return Coalesce(Value(None), Value(SupplierStatus.PENDING.value))
    decided = SupplierApproval.objects.filter(supplier=OuterRef("pk"), buyer=buyer)
    return Coalesce(
        Subquery(decided.values("status")[:1]),
        Value(SupplierStatus.PENDING.value),
        output_field=CharField(),
    )


def approved_by(buyer: BuyerOrganisation | int) -> Exists:
    """An expression: ``buyer`` has approved the supplier (and not suspended it)."""
    return Exists(
        SupplierApproval.objects.filter(
            supplier=OuterRef("pk"), buyer=buyer, status=SupplierStatus.APPROVED
        )
    )


def status_of(supplier: SupplierOrganisation | int, buyer: BuyerOrganisation | int) -> str:
    """The supplier's status for ``buyer``, in one query."""
    found = SupplierApproval.objects.filter(supplier=supplier, buyer=buyer).values_list(
        "status", flat=True
    )
    return next(iter(found), SupplierStatus.PENDING)


@dataclass(frozen=True)
class CouncilStatus:
    """A supplier's status with one council, for the pages that list them all."""

    buyer: BuyerOrganisation
    status: str
    reason: str
    changed_at: datetime.datetime | None

    @property
    def label(self) -> str:
        return SupplierStatus(self.status).label


def statuses_by_council(supplier: SupplierOrganisation) -> list[CouncilStatus]:
    """Every council of the portal with its own decision on the supplier
    (waiting for verification where it has not decided), by name: one query."""
    decided = SupplierApproval.objects.filter(supplier=supplier, buyer=OuterRef("pk"))

    def of(name: str) -> Subquery:
        return Subquery(decided.values(name)[:1])

    buyers = BuyerOrganisation.objects.annotate(
        decided_status=of("status"), decided_reason=of("reason"), decided_at=of("changed_at")
    ).order_by("name")
    return [
        CouncilStatus(
            buyer,
            buyer.decided_status or SupplierStatus.PENDING,
            buyer.decided_reason or "",
            buyer.decided_at,
        )
        for buyer in buyers
    ]


def is_local_to(buyer: BuyerOrganisation) -> Exists:
    """An expression: the supplier has a site in one of ``buyer``'s districts."""
    districts = LocalityDistrict.objects.filter(buyer=buyer).values("district")
    return Exists(SupplierSite.objects.filter(supplier=OuterRef("pk"), district__in=districts))


def works_in(code: CpvCode, *, supplier: str = "pk") -> Exists:
    """An expression: the supplier (``supplier``, the outer query's field
    holding its id) works in ``code``: one of its verified categories covers
    it (a category covers the codes below it) or sits below it. The one rule
    for which suppliers fit an opportunity's category: the invite page's
    matches, and the invitees of a draft counted and published to."""
    ancestors = [code.digits[:n] for n in range(2, len(code.prefix) + 1)]
    covers = SupplierOrganisation.categories.through.objects.filter(
        Q(cpvcode__prefix__in=ancestors) | Q(cpvcode__prefix__startswith=code.prefix),
        supplierorganisation_id=OuterRef(supplier),
    )
    return Exists(covers)


def suppliers_for_buyer(buyer: BuyerOrganisation) -> QuerySet[SupplierOrganisation]:
    """Suppliers annotated with ``is_local`` to ``buyer``, local ones first."""
    return SupplierOrganisation.objects.annotate(is_local=is_local_to(buyer)).order_by(
        "-is_local", "legal_name"
    )


def buyers_local_to(supplier: SupplierOrganisation) -> QuerySet[BuyerOrganisation]:
    """The buyer organisations whose locality includes one of the supplier's
    sites: where it is based, whatever each council has decided on it (see
    ``local_standing`` for what the supplier counts as)."""
    districts = SupplierSite.objects.filter(supplier=supplier).values("district")
    return BuyerOrganisation.objects.filter(locality_districts__district__in=districts).distinct()


@dataclass(frozen=True)
class LocalStanding:
    """A council with one of the supplier's addresses in its area, and that
    council's decision on the supplier. Only an approval makes the supplier
    count as local to it: nothing a supplier declares counts until the
    council has verified it (ADR 12)."""

    buyer: BuyerOrganisation
    status: str

    @property
    def counts(self) -> bool:
        return self.status == SupplierStatus.APPROVED

    @property
    def sentence(self) -> str:
        """What it means for the supplier, in its own words ("you")."""
        name = self.buyer.name
        if self.counts:
            return f"You are local to {name}."
        if self.status == SupplierStatus.SUSPENDED:
            return (
                f"You have an address in {name}'s area, but you do not count as local to it "
                "while suspended."
            )
        return (
            f"You have an address in {name}'s area: you will count as local to it once it "
            "verifies you."
        )


def local_standing(supplier: SupplierOrganisation) -> list[LocalStanding]:
    """The councils whose area holds one of the supplier's (verified)
    addresses, by name, each with its own decision on the supplier: one query.
    Every page that tells a supplier where it is local reads this."""
    decided = SupplierApproval.objects.filter(supplier=supplier, buyer=OuterRef("pk"))
    buyers = (
        buyers_local_to(supplier)
        .annotate(decided_status=Subquery(decided.values("status")[:1]))
        .order_by("name")
    )
    return [LocalStanding(b, b.decided_status or SupplierStatus.PENDING) for b in buyers]


def local_sentences(standings: list[LocalStanding]) -> list[str]:
    """``local_standing`` as the sentences a supplier reads: the councils it
    counts as local to together, then each one it will count for (or does
    not while suspended)."""
    counted = [s.buyer.name for s in standings if s.counts]
    if not standings:
        return ["No council on this portal counts you as local."]
    said = [f"You are local to {', '.join(counted)}."] if counted else []
    return said + [s.sentence for s in standings if not s.counts]


# --- The officers' supplier directory and detail pages --------------------------

# Suppliers register once for the whole portal, so every council's staff may
# see every supplier; supplier users never see these pages.
# Longest search text worth running, and most words; longer text is cut.
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"[^\W_]+")

# The directory's query is written partly in SQL: the ORM took longer to
# build and compile its nested subqueries (a dozen querysets for one search
# word) than PostgreSQL took to run them. Parameters are always passed apart.

# Is the row's supplier local to the council given (PostgreSQL): a site in one
# of its districts, as ``is_local_to``, but one set read once (the districts as
# an array, so through the index on district) and hashed.
_IS_LOCAL_SQL = (
    '"suppliers_supplierorganisation"."id" IN (SELECT s.supplier_id FROM suppliers_suppliersite s '
    "WHERE s.district = ANY(ARRAY("
    "SELECT d.district FROM portal_localitydistrict d WHERE d.buyer_id = %s)))"
)

# The council's own decision on the row's supplier (PostgreSQL), as
# ``status_for``: its one decision (a constraint), else waiting.
_STATUS_SQL = (
    "COALESCE((SELECT a.status FROM suppliers_supplierapproval a "
    'WHERE a.supplier_id = "suppliers_supplierorganisation"."id" AND a.buyer_id = %s), %s)'
)

# Whether the row's supplier has a decision of the council given that is the
# status given, or (for waiting) has none that is another (PostgreSQL):
# ``_has_status``, formatted with ("", "=") or ("NOT", "<>").
_DECIDED_SQL = (
    "{} EXISTS (SELECT 1 FROM suppliers_supplierapproval a "
    'WHERE a.supplier_id = "suppliers_supplierorganisation"."id" '
    "AND a.buyer_id = %s AND a.status {} %s)"
)

# The suppliers one word finds by PostgreSQL full-text search, the word as a
# prefix so the box works as people type ("clean" finds Cleaning): in the
# legal or trading name, the description of one of its categories or the
# town of one of its sites. Each expression must stay the one of its GIN
# index (suppliers migrations 0004 and 0005, cpv 0002) so the index is used.
# Names and towns are searched ``simple``, not ``english``: they are proper
# nouns, and English stop words would make "IT" or "The" unsearchable. As one
# UNION the suppliers found are hashed once and joined, where "in this OR in
# that OR in that" tested every supplier against the three sets. The codes
# found are an array so the categories are read through their index on the
# code rather than all hashed.
_WORD_SQL = (
    "SELECT o.id FROM suppliers_supplierorganisation o "
    "WHERE to_tsvector('simple'::regconfig, "
    "COALESCE(o.legal_name, '') || ' ' || COALESCE(o.trading_name, '')) "
    "@@ to_tsquery('simple'::regconfig, %s) "
    "UNION SELECT c.supplierorganisation_id FROM suppliers_supplierorganisation_categories c "
    "WHERE c.cpvcode_id = ANY(ARRAY(SELECT p.code FROM cpv_cpvcode p "
    "WHERE to_tsvector('english'::regconfig, COALESCE(p.description, '')) "
    "@@ to_tsquery('english'::regconfig, %s))) "
    "UNION SELECT s.supplier_id FROM suppliers_suppliersite s "
    "WHERE to_tsvector('simple'::regconfig, COALESCE(s.town, '')) "
    "@@ to_tsquery('simple'::regconfig, %s)"
)

# Where a supplier is based, its sites as "Town POSTCODE; Town POSTCODE" by
# id, and its categories as ``[code, description]`` by code: read with the row.
_BASED_AT_SQL = (
    "array_to_string(ARRAY(SELECT s.town || ' ' || s.postcode FROM suppliers_suppliersite s "
    'WHERE s.supplier_id = "suppliers_supplierorganisation"."id" ORDER BY s.id), '
    "'; ')"
)
_CATEGORY_LIST_SQL = (
    "ARRAY(SELECT ARRAY[p.code, p.description] "
    "FROM suppliers_supplierorganisation_categories c "
    "JOIN cpv_cpvcode p ON p.code = c.cpvcode_id "
    'WHERE c.supplierorganisation_id = "suppliers_supplierorganisation"."id" '
    "ORDER BY p.digits)"
)


# A supplier's first postcode district in natural order (``_first_district_key``),
# for PostgreSQL: the same key, worked out once for each site (``n`` is the
# length of the area), with no expressions for the ORM to build and compile.
_FIRST_DISTRICT_KEY_SQL = (
    "SELECT rpad(left(k.d, k.n), 2, ' ') "
    "|| (length(k.d) - k.n - CASE WHEN k.d ~ '[A-Z]$' THEN 1 ELSE 0 END)::text "
    "|| substr(k.d, k.n + 1) "
    "FROM (SELECT s.district AS d, CASE WHEN s.district ~ '^[A-Z][0-9]' THEN 1 ELSE 2 END AS n "
    "FROM suppliers_suppliersite s "
    'WHERE s.supplier_id = "suppliers_supplierorganisation"."id") k '
    "ORDER BY 1 LIMIT 1"
)


def _sites_for(buyer: BuyerOrganisation | None) -> Prefetch[str, QuerySet[SupplierSite], str]:
    """A supplier's sites, each annotated with ``is_local`` to ``buyer``."""
    in_locality = LocalityDistrict.objects.filter(buyer=buyer, district=OuterRef("district"))
    sites = SupplierSite.objects.annotate(is_local=Exists(in_locality)).order_by("id")
    return Prefetch("sites", queryset=sites)


def _word_filter_postgresql(word: str) -> Q:
    # Words are letters and digits only (``search_words``), so safe in
    # to_tsquery's syntax; the SQL is constant and the word a parameter.
    prefix = f"{word}:*"
    return Q(pk__in=RawSQL(_WORD_SQL, [prefix, prefix, prefix]))  # noqa: S611


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


# What the directory shows of a supplier (and filters on), read for each row.
DIRECTORY_FIELDS = ("legal_name", "trading_name", "is_sme", "is_vcse")


# The directory's sorts: ``{name: (words, order)}``; "" is the default.
DIRECTORY_SORTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "": ("Local first, then by name", ("-is_local", "legal_name", "pk")),
    "name": ("Name, A to Z", ("legal_name", "pk")),
    "newest": ("Newest registration first", ("-created_at", "-pk")),
    "district": (
        "Postcode district (BD1, BD2 … BD10)",
        (F("district_key").asc(nulls_last=True), "legal_name", "pk"),
    ),
}

_COMPANY_NUMBER = re.compile(r"^(?:[0-9]{1,8}|[A-Z]{2}[0-9]{6})$")


def _identifier_filter(query: str) -> Q | None:
    """The suppliers a search that is one identifier names: a Companies
    House number, a postcode or a postcode district; None for other text."""
    compact = re.sub(r"\s+", "", query or "").upper()
    if not compact:
        return None
    try:
        postcode = normalise_postcode(compact)
    except InvalidPostcode:
        postcode = ""
    if postcode:
        return Q(pk__in=SupplierSite.objects.filter(postcode=postcode).values("supplier_id"))
    found = None
    if is_district(compact):
        found = Q(pk__in=SupplierSite.objects.filter(district=compact).values("supplier_id"))
    if _COMPANY_NUMBER.match(compact):
        number = compact.zfill(8) if compact.isdigit() else compact
        by_number = Q(companies_house_number=number)
        found = by_number if found is None else found | by_number
    return found


def _first_district_key() -> Subquery | RawSQL:
    """The supplier's first postcode district in natural order, as text that
    sorts as ``portal.postcodes.district_sort_key`` does: the area padded to
    two letters, how many digits its number has, then the number and any
    letter (BD2 → "BD12", BD10 → "BD210", SW1A → "SW11A", B1 → "B 11")."""
    if connection.vendor == "postgresql":
        return RawSQL(f"({_FIRST_DISTRICT_KEY_SQL})", [], output_field=CharField())  # noqa: S611
    district = "district"
    one_letter_area = Q(district__regex=r"^[A-Z][0-9]")
    area = Case(When(one_letter_area, then=Left(district, 1)), default=Left(district, 2))
    area_length = Case(When(one_letter_area, then=Value(1)), default=Value(2))
    letter = Case(When(district__regex=r"[A-Z]$", then=Value(1)), default=Value(0))
    digits = Length(district) - area_length - letter
    key = Concat(
        RPad(area, 2, Value(" ")),
        Cast(digits, CharField()),
        Substr(district, area_length + 1),
        output_field=CharField(),
    )
    sites = (
        SupplierSite.objects.filter(supplier=OuterRef("pk"))
        .annotate(key=key)
        .order_by("key")
        .values("key")[:1]
    )
    return Subquery(sites, output_field=CharField())


def _has_status(buyer: BuyerOrganisation | None, status: str) -> Any:
    """A filter: the supplier's status for ``buyer`` (``status_for``) is
    ``status``. Asked as whether that council has decided so (or, for
    waiting, decided otherwise), which the database answers for all suppliers
    at once (a semi- or anti-join), not by working out each supplier's status
    in turn."""
    if buyer is None:  # nobody has decided: every supplier is waiting
        return Value(status == SupplierStatus.PENDING, output_field=BooleanField())
    pending = status == SupplierStatus.PENDING
    if connection.vendor == "postgresql":
        return RawSQL(  # noqa: S611 (constant SQL, parameters apart)
            _DECIDED_SQL.format(*(("NOT", "<>") if pending else ("", "="))),
            [buyer.pk, status],
            output_field=BooleanField(),
        )
    decisions = SupplierApproval.objects.filter(supplier=OuterRef("pk"), buyer=buyer)
    if pending:
        return ~Exists(decisions.exclude(status=status))
    return Exists(decisions.filter(status=status))


# What busy pages read of a council's suppliers is kept under the version of
# the facts behind them (``portal.kept``, ADR 10; PostgreSQL only): who the
# suppliers are, their sites, categories and each council's decisions, and
# the councils' localities (migration suppliers 0010 lists the tables).
SUPPLIER_FACTS = "suppliers_supplierfacts"


def directory(
    *,
    buyer: BuyerOrganisation | None,
    query: str = "",
    category: CpvCode | None = None,
    local_only: bool = False,
    sme: bool | None = None,
    vcse: bool | None = None,
    status: str | None = None,
    sort: str = "",
) -> QuerySet[SupplierForCouncil]:
    """Suppliers for the officers' directory, local to ``buyer`` first, then by
    name; or in the order ``sort`` names (one of ``DIRECTORY_SORTS``: another
    value is ignored), every order ending with the id so pages never repeat
    or skip a row.

    A search that is a Companies House number (``01234567``, ``SC123456``,
    leading zeros optional), a postcode or a postcode district also finds
    the suppliers with that number, or a site there.

    Each word of ``query`` must be found in the supplier's name, the
    description of one of its categories or the town of one of its sites:
    by PostgreSQL full-text search (words as prefixes), or elsewhere as
    text anywhere. ``category`` matches the code and every code below it.
    ``sme``, ``vcse`` and ``status`` (``buyer``'s own decision) filter when
    given. Rows carry ``is_local`` and ``status`` (for ``buyer``) and only the
    fields the list shows (``DIRECTORY_FIELDS``);
    pass a page of them through ``directory_rows`` for their sites and
    categories, so a page costs the same few queries however many match.
    """
    postgresql = connection.vendor == "postgresql"
    suppliers = _with_standing(SupplierOrganisation.objects.all(), buyer)
    word_filter = _word_filter_postgresql if postgresql else _word_filter
    words = search_words(query)
    if words:
        found = Q()
        for word in words:
            found &= word_filter(word)
        # A Companies House number, a postcode or a district finds its
        # suppliers as well as any whose words match.
        if (by_identifier := _identifier_filter(query)) is not None:
            found = by_identifier | found
        suppliers = suppliers.filter(found)
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
        suppliers = suppliers.filter(_has_status(buyer, status))
    suppliers = suppliers.only(*DIRECTORY_FIELDS)
    if sort == "district":
        suppliers = suppliers.annotate(district_key=_first_district_key())
    suppliers = suppliers.order_by(*DIRECTORY_SORTS.get(sort, DIRECTORY_SORTS[""])[1])
    return _with_places(suppliers)


def _with_standing(
    suppliers: QuerySet[SupplierOrganisation], buyer: BuyerOrganisation | None
) -> QuerySet[SupplierForCouncil]:
    """``suppliers`` with ``is_local`` and ``status`` for ``buyer``."""
    postgresql = connection.vendor == "postgresql"
    if buyer is None:  # a portal-wide administrator: no council, nobody local
        is_local: Any = Value(False)
    elif postgresql:
        is_local = RawSQL(_IS_LOCAL_SQL, [buyer.pk], output_field=BooleanField())  # noqa: S611
    else:
        is_local = is_local_to(buyer)
    if postgresql and buyer is not None:
        status_of_row: Any = RawSQL(  # noqa: S611 (constant SQL, parameters apart)
            _STATUS_SQL, [buyer.pk, SupplierStatus.PENDING.value], output_field=CharField()
        )
    else:
        status_of_row = status_for(buyer)
    return suppliers.annotate(is_local=is_local, status=status_of_row)


def _with_places(suppliers: QuerySet[Any]) -> QuerySet[Any]:
    """On PostgreSQL, each row's sites and categories (``directory_rows``),
    worked out after the sort and the limit, so for the page's rows only,
    with no query of their own."""
    if connection.vendor != "postgresql":
        return suppliers
    with_places: QuerySet[Any] = suppliers.annotate(
        based_at=RawSQL(_BASED_AT_SQL, []),  # noqa: S611 (constant SQL)
        category_list=RawSQL(_CATEGORY_LIST_SQL, []),  # noqa: S611 (constant SQL)
    )
    return with_places


def directory_page(
    *, buyer: BuyerOrganisation | None, number: Any, filters: dict[str, Any]
) -> Page[Any]:
    """Page ``number`` of ``directory(buyer=buyer, **filters)`` with the
    number of suppliers in all, in one query (``page_with_total``).

    On PostgreSQL a council's page is kept (``kept.read``: its
    suppliers' ids, whether each is local and its status for the council, and
    the total) under the version of its facts: who the
    suppliers are, where they are based, their categories and each council's
    decisions (``portal.kept``; migration suppliers 0010). While nothing has
    changed the page reads what is kept and its rows by id (two short
    queries), not the whole search, sort and count again: the verification
    queue and a search were a single statement of 4 to 6 ms at council scale
    (issue 19)."""

    @functools.cache
    def searched() -> QuerySet[SupplierForCouncil]:
        # Built only when read: a kept page does not build the search at all.
        return directory(buyer=buyer, **filters)

    if buyer is None:
        return page_with_total(searched(), number, PAGE_SIZE)
    described = {k: getattr(v, "pk", v) for k, v in filters.items()}

    def read(offset: int, limit: int) -> tuple[list[SupplierForCouncil], int]:
        asked = json.dumps([described, offset, limit], sort_keys=True, default=str)
        # "v1": what is kept, in this shape; a new shape or meaning is a new key.
        key = "directory v1 " + hashlib.blake2b(asked.encode(), digest_size=14).hexdigest()
        version, data, _ = kept.read(SUPPLIER_FACTS, buyer.pk, key)
        if data is not None:
            # Each row's id with its standing for the council, as kept; its
            # fields, sites and categories read by id (unless one was deleted
            # in between: then the page is read again).
            standing, total = data
            found = SupplierOrganisation.objects.filter(pk__in=[pk for pk, _, _ in standing])
            by_pk = {row.pk: row for row in _with_places(found.only(*DIRECTORY_FIELDS).order_by())}
            if len(by_pk) == len(standing):
                rows = []
                for pk, is_local, status in standing:
                    row = cast("SupplierForCouncil", by_pk[pk])
                    row.is_local, row.status = is_local, status
                    rows.append(row)
                return rows, total
        rows, total = rows_with_total(searched(), offset, limit)
        if version is not None:
            standing = [[row.pk, row.is_local, row.status] for row in rows]
            kept.write(SUPPLIER_FACTS, buyer.pk, key, version, [standing, total])
        return rows, total

    return read_page(number, PAGE_SIZE, read, lambda: searched().count())


def directory_rows(suppliers: list[SupplierForCouncil]) -> list[DirectoryRow]:
    """A page of ``directory``, ready to show: each row with ``detail_url``,
    ``based_at``, its sites as "Town POSTCODE; Town POSTCODE" by id, and
    ``category_list``, its categories as ``[code, description]`` by code. The
    sites and categories are read with the rows on PostgreSQL, elsewhere here
    with two queries for the page, however long it is.
    """
    # ``based_at`` and ``category_list`` came with the rows (PostgreSQL) or are
    # read just below; ``detail_url`` is set below.
    rows = cast("list[DirectoryRow]", suppliers)
    if connection.vendor != "postgresql" and rows:
        _read_sites_and_categories(rows)
    detail_url = url_for_pk("supplier_detail")
    for supplier in rows:
        supplier.detail_url = detail_url(supplier.pk)
    return rows


def _read_sites_and_categories(suppliers: list[DirectoryRow]) -> None:
    """``based_at`` and ``category_list`` where the rows came without them."""
    places: dict[int, list[str]] = defaultdict(list)
    sites = SupplierSite.objects.filter(supplier__in=suppliers).order_by("id")
    for supplier_id, town, postcode in sites.values_list("supplier_id", "town", "postcode"):
        places[supplier_id].append(f"{town} {postcode}")
    categories: dict[int, list[list[str]]] = defaultdict(list)
    chosen = SupplierOrganisation.categories.through.objects.filter(
        supplierorganisation__in=suppliers
    ).order_by("cpvcode__digits")
    for supplier_id, code, description in chosen.values_list(
        "supplierorganisation_id", "cpvcode__code", "cpvcode__description"
    ):
        categories[supplier_id].append([code, description])
    for supplier in suppliers:
        supplier.based_at = "; ".join(places[supplier.pk])
        supplier.category_list = categories[supplier.pk]


def supplier_for_officer(user: User, pk: int) -> SupplierForCouncil:
    """The supplier ``pk`` for a council's officer, auditor or administrator,
    with ``is_local`` to their council and ``status`` for it, its sites and
    categories; 404 for anyone else (a supplier user sees only their own
    organisation, elsewhere).
    """
    if not is_council_staff(user):
        raise Http404("No such supplier.")
    buyer = user.buyer
    # An administrator of the whole portal has no council: nobody is local to it.
    is_local = Value(False) if buyer is None else is_local_to(buyer)
    suppliers = SupplierOrganisation.objects.annotate(
        is_local=is_local, status=status_for(user.buyer_id)
    )
    return get_object_or_404(suppliers.prefetch_related(_sites_for(buyer), "categories"), pk=pk)


def changes_for_review(user: User) -> QuerySet[SupplierChange]:
    """Changes waiting for review that ``user``'s council relies on: of
    suppliers it has decided on (approved or suspended), oldest first. Its
    officers review them; its auditors and administrators read them."""
    if not works_for_council(user):
        return SupplierChange.objects.none()
    return (
        SupplierChange.objects.filter(
            status=ChangeStatus.PENDING, supplier__approvals__buyer_id=user.buyer_id
        )
        .annotate(before_verified=before_is_verified())
        .select_related("supplier", "site", "requested_by")
        .order_by("requested_at", "pk")
    )


def profile_as_asked(supplier: SupplierOrganisation, fields: list[str]) -> dict[str, Any]:
    """The supplier's ``fields`` and categories as its edit form starts: the
    verified values, with what it asked for and is waiting for review in their
    place, so that saving the form again keeps asking for it."""
    values: dict[str, Any] = {name: getattr(supplier, name) for name in fields}
    categories: list[Any] = list(supplier.categories.all())
    waiting = SupplierChange.objects.filter(
        supplier=supplier,
        status=ChangeStatus.PENDING,
        kind__in=[ChangeKind.DETAILS, ChangeKind.CATEGORIES],
    )
    for change in waiting:
        if change.kind == ChangeKind.CATEGORIES:
            categories = list(CpvCode.objects.filter(code__in=change.after["categories"]))
        else:
            values.update({k: v for k, v in change.after.items() if k in values})
    return {**values, "categories": categories}


# --- The home pages' sections (portal.homes) -----------------------------------------

# The officer's home in one query: the supplier counts for the officer's
# council, the first suppliers waiting for its verification (local ones
# first) with the town and postcode of each site, one row per site, and the
# officer's department's name. The suppliers local to the council are found
# once (a CTE read by the count and the list alike). The counts read the
# council's own decisions (its rows of the approvals table) and the number of
# suppliers, not every supplier joined to its decision: waiting is every
# supplier less those the council has decided on (ADR 12). The counts come
# with every row, and with the one row of NULLs when nobody is waiting.
# Portable SQL (PostgreSQL and SQLite); parameters are always passed apart.
_OFFICER_HOME_SQL = """
WITH local AS (
  SELECT s.supplier_id FROM suppliers_suppliersite s
  WHERE s.district IN (SELECT d.district FROM portal_localitydistrict d WHERE d.buyer_id = %s)
), counts AS (
  SELECT COUNT(*) FILTER (WHERE a.status <> %s) AS decided,
    COUNT(*) FILTER (WHERE a.status = %s) AS approved,
    COUNT(*) FILTER (WHERE a.status = %s AND a.supplier_id IN (SELECT supplier_id FROM local))
      AS approved_local
  FROM suppliers_supplierapproval a WHERE a.buyer_id = %s
), pending AS (
  SELECT o.id, o.legal_name, o.is_sme, o.is_vcse, o.created_at,
    o.id IN (SELECT supplier_id FROM local) AS is_local
  FROM suppliers_supplierorganisation o
  WHERE NOT EXISTS (
    SELECT 1 FROM suppliers_supplierapproval a
    WHERE a.supplier_id = o.id AND a.buyer_id = %s AND a.status <> %s
  )
  ORDER BY 6 DESC, o.legal_name, o.id LIMIT %s
)
SELECT (SELECT COUNT(*) FROM suppliers_supplierorganisation) - c.decided, c.approved,
  c.approved_local, (SELECT dep.name FROM portal_department dep WHERE dep.id = %s),
  p.id, p.legal_name, p.is_sme, p.is_vcse, p.created_at, p.is_local, s.town, s.postcode
FROM counts c LEFT JOIN pending p ON 1 = 1
LEFT JOIN suppliers_suppliersite s ON s.supplier_id = p.id
ORDER BY p.is_local DESC, p.legal_name, p.id, s.id
"""


# On PostgreSQL the section is kept under the version of who waits and where
# they are based (``kept.read``, ``SUPPLIER_FACTS``): one
# statement reads the version, what is kept under it and the department's
# name; the section is read again (and kept) only after a change. It was a
# third of the officer's home at council scale (issue 19).
# "v1": what is kept, in this shape; a new shape or meaning is a new key.
_OFFICER_HOME_KEY = f"officer_home v1 {homes.HOME_LIST_SIZE}"


def _officer_home_rows(user: User) -> tuple[list[Any], list[tuple[Any, ...]], str | None]:
    """The section's counts, its rows (a pending supplier's columns and one
    site's town and postcode) and the department's name: as kept, or read."""
    version = None
    if user.buyer_id is not None:
        version, data, department_name = kept.read(
            SUPPLIER_FACTS, user.buyer_id, _OFFICER_HOME_KEY, department_id=user.department_id
        )
        if data is not None:
            counts, rows = data
            created = datetime.datetime.fromisoformat
            return counts, [(*r[:4], created(r[4]), *r[5:]) for r in rows], department_name
    pending_status, approved = SupplierStatus.PENDING.value, SupplierStatus.APPROVED.value
    # Each council's own decisions (ADR 12): waiting means this council has not decided.
    params = [user.buyer_id, pending_status, approved, approved, user.buyer_id]
    params += [user.buyer_id, pending_status, homes.HOME_LIST_SIZE, user.department_id]
    with connection.cursor() as cursor:
        cursor.execute(_OFFICER_HOME_SQL, params)
        found = cursor.fetchall()
        counts, department_name = list(found[0][:3]), found[0][3]
        rows = [row[4:] for row in found if row[4] is not None]
    if version is not None and user.buyer_id is not None:
        data = [counts, [(*r[:4], r[4].isoformat(), *r[5:]) for r in rows]]
        kept.write(SUPPLIER_FACTS, user.buyer_id, _OFFICER_HOME_KEY, version, data)
    return counts, rows, department_name


def officer_home(user: User) -> dict[str, Any]:
    """The officer's home: this council's verification queue and counts, and
    the officer's department's name (one query for the page's supplier
    section when kept, three when read again: ``_officer_home_rows``)."""
    (pending_count, approved_count, approved_local), rows, department_name = _officer_home_rows(
        user
    )
    created = reader(SupplierOrganisation, "created_at")
    url = url_for_pk("supplier_detail")
    # The first pending suppliers, each with ``url`` (its page), ``is_local``
    # and ``places`` ("town postcode" of each site, "; " between).
    suppliers: dict[int, PendingSupplier] = {}
    places: dict[int, list[str]] = {}
    for pk, legal_name, is_sme, is_vcse, created_at, is_local, town, postcode in rows:
        if pk not in suppliers:
            # ``is_local``, ``url`` and (once every row is read) ``places`` are set below.
            supplier = cast(
                "PendingSupplier",
                SupplierOrganisation(
                    pk=pk,
                    legal_name=legal_name,
                    is_sme=bool(is_sme),
                    is_vcse=bool(is_vcse),
                    created_at=created(created_at),
                ),
            )
            supplier.is_local = bool(is_local)
            supplier.url = url(pk)
            suppliers[pk] = supplier
            places[pk] = []
        if town is not None:
            places[pk].append(f"{town} {postcode}")
    # The tags include rendered once for each kind of row, not once a row.
    tags = get_template("includes/supplier_tags.html")
    kinds: dict[tuple[bool, bool, bool], str] = {}
    for pk, supplier in suppliers.items():
        supplier.places = "; ".join(places[pk])
        kind = (supplier.is_local, supplier.is_sme, supplier.is_vcse)
        if kind not in kinds:
            kinds[kind] = tags.render({"supplier": supplier})
        supplier.tags = kinds[kind]
        supplier.registered = uk_day(supplier.created_at)
    return {
        "department_name": department_name,
        "pending_suppliers": list(suppliers.values()),
        "pending_count": pending_count,
        "supplier_counts": {"approved": approved_count, "approved_local": approved_local},
    }


def supplier_home(user: User) -> dict[str, Any]:
    """A supplier's own organisation: where it is based, each council's decision on it."""
    supplier = user.supplier
    if supplier is None:  # never: a supplier user belongs to one (a constraint on User)
        raise ValueError(f"Supplier user {user.pk} has no supplier organisation.")
    return {
        "supplier": supplier,
        "sites": list(supplier.sites.all()),
        "local_to": local_sentences(local_standing(supplier)),
        "councils": statuses_by_council(supplier),
        "colleagues": list(supplier.users.filter(is_active=True).order_by("full_name")),
    }


def admin_home(user: User) -> dict[str, Any]:
    """Suppliers waiting for this council's verification; for the whole
    portal's administrators, waiting for any council's."""
    waiting = (
        SupplierOrganisation.objects.exclude(approvals__buyer_id=user.buyer_id)
        if user.buyer_id
        else SupplierOrganisation.objects.filter(approvals__isnull=True)
    )
    return {"pending_count": waiting.count()}


def register_home_sections() -> None:
    homes.register(Role.OFFICER, officer_home)
    homes.register(Role.SUPPLIER, supplier_home)
    homes.register(Role.ADMIN, admin_home)


def council_supplier_events(buyer: BuyerOrganisation) -> Q:
    """Supplier changes a council's audit view shows: suppliers are shared, so
    those made by a supplier or the portal; never another council's people's
    decisions (each council verifies for itself, ADR 12)."""
    return Q(object_type="suppliers.supplierorganisation") & (
        Q(actor__isnull=True) | Q(actor__buyer__isnull=True)
    )
