"""Reads of tenders data for pages, commands and exports: the queries the pages
run and the facts they compute (the views only handle the request and render)."""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from django.core.paginator import Page
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Upper
from django.http import Http404, HttpRequest
from django.urls import ResolverMatch
from django.utils import timezone

from cpv.models import CpvCode
from portal import audit, homes, kept
from portal.links import url_for_pk
from portal.models import BuyerOrganisation, Department, Role, User
from portal.paging import PAGE_SIZE, read_page
from portal.permissions import works_for_council
from portal.rawsql import columns, converted, expression_reader, reader
from portal.ukdates import uk_day, uk_minute
from suppliers.models import SupplierOrganisation
from suppliers.selectors import works_in
from tenders.models import (
    Amendment,
    BidStatus,
    Clarification,
    ClarificationVisibility,
    Invitation,
    Lot,
    Opportunity,
    OpportunityDocument,
    OpportunityStatus,
    PolicyBand,
    ProcurementPolicy,
    Route,
    RouteCheck,
    status_is,
)
from tenders.models.opportunities import estimated_value_expression, known_value_expression

# The version of a council's policy in force on a day with its bands, lowest
# first: one constant statement (ADR 10), every column of both (a field added
# to either model is read too). The ORM's form (a subquery and a join) took
# longer to build than the database took to run it, on every home page and
# every list of route tags (issue 19). A version without bands is one row of
# NULL band columns.
_POLICY_MODELS: tuple[tuple[type[Any], str], ...] = ((ProcurementPolicy, "p"), (PolicyBand, "b"))
_POLICY_COLUMNS = [columns(model, alias) for model, alias in _POLICY_MODELS]
_POLICY_IN_FORCE_SQL = f"""
SELECT {", ".join(select for _, select in _POLICY_COLUMNS)}
FROM tenders_procurementpolicy p LEFT JOIN tenders_policyband b ON b.policy_id = p.id
WHERE p.id = (
  SELECT q.id FROM tenders_procurementpolicy q WHERE q.buyer_id = %s AND q.effective_from <= %s
  ORDER BY q.effective_from DESC LIMIT 1
)
ORDER BY b.lower_bound, b.id
"""  # noqa: S608 (the models' own column names)


@functools.cache
def _policy_readers() -> list[list[Callable[[Any], Any]]]:
    return _model_readers(_POLICY_MODELS, _POLICY_COLUMNS)


def policy_in_force(
    buyer: BuyerOrganisation | int, on: datetime.date | None = None
) -> ProcurementPolicy | None:
    """The buyer's policy version in force on ``on`` (today in Europe/London by
    default) with its bands (``band_list``, lowest first) in one query. None
    without one."""
    buyer_id = buyer if isinstance(buyer, int) else buyer.pk
    with connection.cursor() as cursor:
        cursor.execute(_POLICY_IN_FORCE_SQL, [buyer_id, on or timezone.localdate()])
        rows = cursor.fetchall()
    if not rows:
        return None
    readers = _policy_readers()
    made, at = _objects_from_row(rows[0], _POLICY_MODELS[:1], _POLICY_COLUMNS[:1], readers[:1])
    policy: ProcurementPolicy = made[0]
    bands = []
    for row in rows:
        (band,), _ = _objects_from_row(
            row[at:], _POLICY_MODELS[1:], _POLICY_COLUMNS[1:], readers[1:]
        )
        if band is not None:  # a version without bands: one row of NULLs
            band.policy = policy
            bands.append(band)
    policy.band_list = bands
    return policy


def opportunities_visible_to(user: User) -> QuerySet[Opportunity]:
    """A council's officers, auditors and administrators: their council's.
    Suppliers: published ones they were invited to. Everyone else: none."""
    qs = Opportunity.objects.select_related("buyer", "cpv", "department")
    if works_for_council(user):
        return qs.filter(buyer_id=user.buyer_id)
    if user.role == Role.SUPPLIER and user.supplier_id:
        # Never published (a draft, or a draft cancelled): the invitees were never told.
        return qs.filter(
            invitations__supplier_id=user.supplier_id, published_at__isnull=False
        ).exclude(status=OpportunityStatus.DRAFT)
    return qs.none()


def get_opportunity_for(user: User, pk: int, **annotations: Any) -> Opportunity:
    """The opportunity if ``user`` may see it, else 404 (never 403: another
    council's or an uninvited supplier's request learns nothing). A page may
    read more of it in the same query: ``annotations`` are added to it."""
    return _one_visible(opportunities_visible_to(user), pk, annotations)


# A lot of a published opportunity that a supplier was invited to, as the bid
# pages read it: the opportunity (what ``opportunities_visible_to`` gives a
# supplier: invited, published, never a draft) with its council, category and
# department, whether it has questions or pricing lines (``has_questionnaire``)
# and the lot. One constant statement (ADR 10): the ORM's took 2.7 ms to build
# for 0.3 ms of work, twice for every bid sent at a deadline (issue 19).
_LOT_MODELS: tuple[tuple[type[Any], str], ...] = (
    (Opportunity, "o"),
    (BuyerOrganisation, "b"),
    (CpvCode, "c"),
    (Department, "d"),
    (Lot, "l"),
)
_LOT_COLUMNS = [columns(model, alias) for model, alias in _LOT_MODELS]
_SUPPLIER_LOT_SQL = f"""
SELECT {", ".join(select for _, select in _LOT_COLUMNS)},
  EXISTS (SELECT 1 FROM tenders_question q WHERE q.opportunity_id = o.id),
  EXISTS (SELECT 1 FROM tenders_pricingline p WHERE p.opportunity_id = o.id)
FROM tenders_opportunity o
JOIN tenders_lot l ON l.opportunity_id = o.id AND l.id = %s
JOIN portal_buyerorganisation b ON b.id = o.buyer_id
JOIN cpv_cpvcode c ON c.code = o.cpv_id
LEFT JOIN portal_department d ON d.id = o.department_id
WHERE o.id = %s AND o.published_at IS NOT NULL AND o.status <> %s
  AND EXISTS (
    SELECT 1 FROM tenders_invitation i WHERE i.opportunity_id = o.id AND i.supplier_id = %s
  )
"""  # noqa: S608 (the models' own column names)


def _model_readers(
    models: Sequence[tuple[type[Any], str]], selected: Sequence[tuple[tuple[str, ...], str]]
) -> list[list[Callable[[Any], Any]]]:
    """``reader`` of each column ``columns`` selected of each of ``models``."""
    return [
        [reader(model, name) for name in names]
        for (model, _), (names, _) in zip(models, selected, strict=True)
    ]


@functools.cache
def _lot_readers() -> list[list[Callable[[Any], Any]]]:
    return _model_readers(_LOT_MODELS, _LOT_COLUMNS)


def _objects_from_row(
    row: Sequence[Any],
    models: Sequence[tuple[type[Any], str]],
    selected: Sequence[tuple[tuple[str, ...], str]],
    readers: Sequence[Sequence[Callable[[Any], Any]]],
) -> tuple[list[Any], int]:
    """The objects of ``models`` made from ``row`` (each model's columns in
    turn, as ``columns`` selected them, read as the ORM reads them), None for
    a row of NULLs (a left join that found nothing), and where the row goes on."""
    db, at = connection.alias, 0
    made: list[Any] = []
    for (model, _), (names, _), read in zip(models, selected, readers, strict=True):
        values = row[at : at + len(names)]
        at += len(names)
        if values[0] is None:  # nothing joined (a primary key is never NULL)
            made.append(None)
            continue
        made.append(model.from_db(db, names, [r(v) for r, v in zip(read, values, strict=True)]))
    return made, at


def supplier_lot(user: User, pk: int, lot_pk: int) -> tuple[Opportunity, Lot] | None:
    """Lot ``lot_pk`` of opportunity ``pk`` if supplier ``user`` may see it
    (``get_opportunity_for``'s rule for a supplier), else None: the opportunity
    as ``get_opportunity_for`` reads it (its council, category and department
    with it), with ``has_questions`` and ``has_pricing_lines`` as
    ``questionnaire_annotations`` gives them; the lot with its opportunity. One
    query; anyone but a supplier's person gets None."""
    if not (user.role == Role.SUPPLIER and user.supplier_id):
        return None
    draft: str = OpportunityStatus.DRAFT.value
    with connection.cursor() as cursor:
        cursor.execute(_SUPPLIER_LOT_SQL, [lot_pk, pk, draft, user.supplier_id])
        row = cursor.fetchone()
    if row is None:
        return None
    made, at = _objects_from_row(row, _LOT_MODELS, _LOT_COLUMNS, _lot_readers())
    opportunity, buyer, cpv, department, lot = made
    opportunity.buyer, opportunity.cpv, opportunity.department = buyer, cpv, department
    opportunity.has_questions, opportunity.has_pricing_lines = bool(row[at]), bool(row[at + 1])
    lot.opportunity = opportunity
    return opportunity, lot


def get_opportunity_row_for(user: User, pk: int, **annotations: Any) -> Opportunity:
    """``get_opportunity_for`` reading the opportunity's own columns only (not
    its buyer, category and department), for a page that shows none of them."""
    return _one_visible(opportunities_visible_to(user).select_related(None), pk, annotations)


def guard_opportunity_address(request: HttpRequest, match: ResolverMatch) -> None:
    """A GET to a button's address under ``/opportunities/<pk>/``
    (``portal.post_only``): 404, as from the opportunity's page, unless the
    user may see the opportunity."""
    if match.route.startswith("opportunities/<int:pk>/"):
        user = request.user
        if not isinstance(user, User):  # signed out: never here (LoginRequiredMiddleware)
            raise Http404("No such opportunity")
        get_opportunity_row_for(user, match.kwargs["pk"])


def _one_visible(
    visible: QuerySet[Opportunity], pk: int, annotations: dict[str, Any]
) -> Opportunity:
    opportunities = visible.filter(pk=pk)
    if annotations:
        # One row at most, so unordered: ordering is compiled against every annotation.
        found = list(opportunities.annotate(**annotations).order_by()[:1])
        opportunity = found[0] if found else None
    else:
        opportunity = opportunities.first()
    if opportunity is None:
        raise Http404("No such opportunity")
    return opportunity


def supplier_invitations(supplier: SupplierOrganisation, query: str = "") -> QuerySet[Invitation]:
    """The supplier's invitations to published opportunities: open ones first
    (open at the moment of asking: a passed deadline has closed it), the
    nearest deadline first; then the rest, the latest deadline first.

    A busy supplier has thousands over the years: pages slice the ids
    (``.values_list("pk", flat=True)``, sorted from two covering indexes
    without reading the rows) and read the rows with ``supplier_invitations_among``."""
    is_open = status_is(OpportunityStatus.OPEN, timezone.now(), prefix="opportunity__")
    invitations = Invitation.objects.filter(
        supplier=supplier, opportunity__published_at__isnull=False
    )
    if query := search_text(query):  # only among its own invitations
        invitations = invitations.filter(_opportunity_search(query, prefix="opportunity__"))
    return (
        invitations.exclude(opportunity__status=OpportunityStatus.DRAFT)
        .select_related("opportunity__buyer")
        .annotate(
            open_rank=Case(When(is_open, then=Value(0)), default=Value(1)),
            open_deadline=Case(When(is_open, then=F("opportunity__submission_deadline"))),
        )
        .order_by("open_rank", "open_deadline", "-opportunity__submission_deadline", "-pk")
    )


def supplier_invitations_among(
    supplier: SupplierOrganisation, ids: QuerySet[Invitation, int] | list[int]
) -> list[Invitation]:
    """The invitations whose ids are ``ids`` (a list, or a slice of
    ``supplier_invitations(...).values_list("pk", flat=True)``), in the same
    order, with their opportunities and buyers, in one query: PostgreSQL picks
    the ids from the covering indexes and then reads only those rows."""
    return list(
        supplier_invitations(supplier)
        .filter(pk__in=ids)
        # What the lists show, and no more (an opportunity has long texts).
        .only(
            "intention",
            "opportunity__reference",
            "opportunity__title",
            "opportunity__status",
            "opportunity__submission_deadline",
            "opportunity__cancelled_at",
            "opportunity__buyer__name",
        )
    )


# One page of a supplier's invitations (``supplier_invitations``'s filters
# and order, or another of ``SUPPLIER_SORTS``) and how many there are in all,
# in one query: the page's ids and the total from the covering indexes, then
# only those rows joined to their opportunities and buyers. (As two ORM
# queries, the second building and compiling ``supplier_invitations`` again,
# it was a fifth of the page.) Portable SQL; parameters are always passed
# apart, and ``{materialized}``, ``{invited_at}``, ``{search}`` and ``{order}``
# are only ever the constant strings below.
#
# ``mine`` is the supplier's invitations to published opportunities. A search
# reads it MATERIALIZED on PostgreSQL: the search is then
# tested on the supplier's own rows only. Left to the planner, the search is
# pushed down into a scan of every council's opportunities (it cannot use an
# index: the text is anywhere in the title), which tested a one-letter search
# on 20,000 titles for a supplier with 2,500 invitations: two thirds of the
# query. Without a search, ``mine`` is inlined and read from the covering
# indexes as before.
_INVITATION_PAGE_SQL = """
WITH mine AS {materialized}(
  SELECT i.id AS id,
    CASE WHEN o.status = %s AND o.submission_deadline >= %s THEN 0 ELSE 1 END AS open_rank,
    CASE WHEN o.status = %s AND o.submission_deadline >= %s THEN o.submission_deadline
    END AS open_deadline,
    o.submission_deadline AS deadline,
    CASE WHEN o.submission_deadline IS NULL THEN 1 ELSE 0 END AS no_deadline,
    o.title AS title, o.searchable AS searchable{invited_at}
  FROM tenders_invitation i JOIN tenders_opportunity o ON o.id = i.opportunity_id
  WHERE i.supplier_id = %s AND o.published_at IS NOT NULL AND NOT (o.status = %s)
)
SELECT page.rows_in_all, i.id, i.intention, o.id, o.reference, o.title, o.status,
  o.submission_deadline, o.cancelled_at, b.id, b.name,
  (SELECT MAX(CASE bd.status WHEN %s THEN 3 WHEN %s THEN 2 ELSE 1 END) FROM tenders_bid bd
    WHERE bd.opportunity_id = o.id AND bd.supplier_id = i.supplier_id) AS bid_state,
  s.legal_name
FROM (
  SELECT mine.*, COUNT(*) OVER () AS rows_in_all
  FROM mine{search}
  ORDER BY {inner_order}
  LIMIT %s OFFSET %s
) page
JOIN tenders_invitation i ON i.id = page.id
JOIN tenders_opportunity o ON o.id = i.opportunity_id
JOIN portal_buyerorganisation b ON b.id = o.buyer_id
JOIN suppliers_supplierorganisation s ON s.id = i.supplier_id
ORDER BY {outer_order}
"""
# The title, reference or CPV code holds the search, whatever its case
# (``_opportunity_search``).
_INVITATION_SEARCH_SQL = " WHERE mine.searchable LIKE UPPER(%s) ESCAPE '\\'"
# Only the "newest" sort reads the invitation's date: the other sorts (and
# searches) need not read the invitations' rows, only their covering index.
_INVITED_AT_SQL = ", i.invited_at AS invited_at"

# The supplier's list's sorts, the first the default: ``{name: (words, the
# columns of the page's subquery it sorts by)}``. Each ends with the id.
SUPPLIER_SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "open": (
        "Open first, soonest deadline first",
        ("open_rank", "open_deadline", "deadline DESC", "id DESC"),
    ),
    "deadline": ("Deadline, soonest first", ("no_deadline", "deadline", "id")),
    "newest": ("Newest invitation first", ("invited_at DESC", "id DESC")),
    "title": ("Title, A to Z", ("title", "id")),
}
DEFAULT_SUPPLIER_SORT = "open"


def _like_contains(text: str) -> str:
    """``text`` as a LIKE pattern that finds it anywhere, its wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# The fields of each row's objects ``supplier_invitation_page`` makes: in
# the order of the model's fields, as ``Model.from_db`` takes their values;
# the others are deferred, as ``.only()`` leaves them.
_PAGE_INVITATION_FIELDS = ("id", "opportunity_id", "supplier_id", "intention")
_PAGE_OPPORTUNITY_FIELDS = (
    "id",
    "buyer_id",
    "reference",
    "title",
    "status",
    "submission_deadline",
    "cancelled_at",
)
_PAGE_BUYER_FIELDS = ("id", "name")


def supplier_invitation_page(
    supplier_id: int, offset: int, limit: int, *, query: str = "", sort: str = ""
) -> tuple[list[Invitation], int, str | None]:
    """``supplier_invitations(supplier, query)[offset:offset + limit]`` (in the
    order ``sort`` names, one of ``SUPPLIER_SORTS``; another is ignored) with the
    opportunity's fields the lists show (``supplier_invitations_among``'s)
    and its buyer's name, the number of the supplier's invitations in all
    and the supplier's legal name (0 and None when the page is past the end),
    in one query. Only the supplier's own invitations are ever searched."""
    open_, draft = OpportunityStatus.OPEN.value, OpportunityStatus.DRAFT.value
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = SUPPLIER_SORTS.get(sort, SUPPLIER_SORTS[DEFAULT_SUPPLIER_SORT])[1]
    search, search_params = "", []
    if query := search_text(query):
        search, search_params = _INVITATION_SEARCH_SQL, [_like_contains(query)]
    sql = _INVITATION_PAGE_SQL.format(
        # PostgreSQL's planner needs telling (and SQLite before 3.35 has no such word).
        materialized="MATERIALIZED " if search and connection.vendor == "postgresql" else "",
        invited_at=_INVITED_AT_SQL if any(c.startswith("invited_at") for c in columns) else "",
        search=search,
        inner_order=", ".join(columns),
        outer_order=", ".join(f"page.{column}" for column in columns),
    )
    bid_states = [BidStatus.SUBMITTED.value, BidStatus.DRAFT.value]  # then withdrawn: 1
    params = [
        open_, now, open_, now, supplier_id, draft, *bid_states, *search_params, limit, offset
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    deadline = reader(Opportunity, "submission_deadline")
    cancelled = reader(Opportunity, "cancelled_at")
    # As the ORM makes the objects of a query (``Model.from_db``): setting only
    # the fields read is a third of the time of ``Model(**fields)``, which
    # works out every other field's default.
    db = connection.alias
    invitations = []
    for row in rows:
        (_, pk, intention, opp_pk, reference, title, status, due, cancelled_at, buyer_pk, name) = (
            row[:11]
        )
        opportunity = Opportunity.from_db(
            db,
            _PAGE_OPPORTUNITY_FIELDS,
            (opp_pk, buyer_pk, reference, title, status, deadline(due), cancelled(cancelled_at)),
        )
        opportunity.buyer = BuyerOrganisation.from_db(db, _PAGE_BUYER_FIELDS, (buyer_pk, name))
        invitation = Invitation.from_db(
            db, _PAGE_INVITATION_FIELDS, (pk, opp_pk, supplier_id, intention)
        )
        invitation.opportunity = opportunity
        # The supplier's own bid, its most advanced on any lot: 3 submitted,
        # 2 a draft, 1 withdrawn, None not started (``BID_STATES``).
        invitation.bid_state = row[11]  # type: ignore[attr-defined]
        invitations.append(invitation)
    return invitations, (rows[0][0] if rows else 0), (rows[0][-1] if rows else None)


# What the supplier's list says of its own bid, by ``bid_state``.
SUBMITTED_STATE = 3  # the bid_state of a submitted bid
BID_STATES = {
    SUBMITTED_STATE: "Submitted",
    2: "Draft, not submitted",
    1: "Withdrawn",
    None: "Not started",
}


def questions_for_supplier(
    opportunity: Opportunity, supplier: SupplierOrganisation
) -> dict[str, list[Clarification]]:
    """What this supplier may read: answers published to everyone (never who
    asked), private answers to its own questions, its own open questions.
    Another supplier's private or unanswered questions are never fetched."""
    rows = (
        Clarification.objects.filter(opportunity=opportunity)
        .filter(
            Q(answered_at__isnull=False, visibility=ClarificationVisibility.ALL)
            | Q(supplier=supplier)
        )
        .only(
            "question",
            "published_question",
            "asked_at",
            "answer",
            "visibility",
            "answered_at",
            "supplier",
        )
        .order_by("answered_at", "asked_at", "pk")
    )
    published: list[Clarification] = []
    private: list[Clarification] = []
    waiting: list[Clarification] = []
    for row in rows:
        # The page's own mark on each row (not a field): the stubs know only fields.
        row.mine = row.supplier_id == supplier.pk  # type: ignore[attr-defined]
        if row.answered_at is None:
            waiting.append(row)
        elif row.visibility == ClarificationVisibility.ALL:
            published.append(row)
        else:
            private.append(row)
    return {"published": published, "private": private, "waiting": waiting}


# --- The officer's list and page of one opportunity (tenders.views.officer) ----------


LIST_FIELDS = [
    "reference",
    "title",
    "options_value",
    "value_vat_basis",
    "route",
    "band_name",
    "policy",
    "route_checked_at",
    "status",
    "submission_deadline",
    "created_at",
    # What the rule reads to decide each row's route on today's facts.
    "buyer",
    "cpv",
    "contract_kind",
    "aggregation_override",
]


# The longest search the opportunity lists take (longer text is cut).
MAX_SEARCH_LENGTH = 100

# The sorts the opportunity lists offer: ``{name: words}``, the first the default.
# Each list turns the name into its own order, always ending with the id so
# that rows that tie keep one order and no page repeats or skips a row.
OPPORTUNITY_SORTS: dict[str, str] = {
    "newest": "Newest first",
    "deadline": "Deadline for bids, soonest first",
    "value": "Estimated value, highest first",
    "title": "Title, A to Z",
    "status": "Status",
}
DEFAULT_SORT = "newest"


def _status_order(now: datetime.datetime) -> Case:
    """The status at ``now`` (an open one whose deadline has passed is closed),
    as its place in the lifecycle, for the "status" sort."""
    return Case(
        *(When(status_is(s, now), then=Value(n)) for n, s in enumerate(OpportunityStatus.values)),
        default=Value(len(OpportunityStatus.values)),
        output_field=IntegerField(),
    )


def sort_or_default(sort: str | None) -> str:
    """``sort`` if it is one of ``OPPORTUNITY_SORTS``, else the default: a
    made-up value is ignored, never an error."""
    return sort if sort in OPPORTUNITY_SORTS else DEFAULT_SORT


def search_text(query: str | None) -> str:
    """What a search box asked for: spaces collapsed, at most ``MAX_SEARCH_LENGTH``."""
    return " ".join((query or "").split())[:MAX_SEARCH_LENGTH]


def _opportunity_search(query: str, prefix: str = "") -> Q:
    """Opportunities (or rows ``prefix`` leads to them) whose title, reference
    or CPV code holds ``query``, whatever its case (``Opportunity.searchable``,
    upper-cased by the database as the query is)."""
    return Q(**{f"{prefix}searchable__contains": Upper(Value(query))})


def _council_order(sort: str, now: datetime.datetime) -> list[Any]:
    if sort == "deadline":
        return [F("submission_deadline").asc(nulls_last=True), "id"]
    if sort == "value":
        return [F("estimated_value").desc(nulls_last=True), "-id"]
    if sort == "title":
        return ["title", "id"]
    if sort == "status":
        return [_status_order(now).asc(), "-created_at", "-id"]
    return ["-created_at", "-id"]


# One page of the council's opportunities (``council_opportunities``' filters,
# order and values) and how many there are in all, in one statement (ADR 10:
# built with the ORM, the annotated queryset and the status sort's union of
# seven parts took longer to build and compile than the database took to run
# them). Portable SQL; parameters are always passed apart, and ``{where}``,
# ``{order}``, ``{outer_order}`` and ``{rows}`` are only ever the constant
# strings below. The count is a one-row table the page is joined to, so a
# page past the end still says how many there are.
_COUNCIL_PAGE_SQL = """
SELECT n.rows_in_all, p.*, n.version, n.was_kept FROM (
  {count}
) n
LEFT JOIN (
  SELECT {columns},
    COALESCE((SELECT SUM(l.estimated_value) FROM tenders_lot l WHERE l.opportunity_id = o.id), 0)
      + o.options_value AS estimated_value,
    COALESCE((SELECT SUM(COALESCE(a.value, l.estimated_value)) FROM tenders_lot l
      LEFT JOIN tenders_award a ON a.lot_id = l.id WHERE l.opportunity_id = o.id), 0)
      + o.options_value AS known_value,
    {status_rank} AS status_rank
  {rows}
) p ON 1 = 1
ORDER BY {outer_order}
"""
# How many match: counted, or (PostgreSQL, when time does not decide which
# match) as kept under the version of what the list counts (``portal.kept``;
# migration tenders 0022): COALESCE reads the count only when nothing is kept.
# A one-letter search counted every opportunity of the council (3.5 of the
# searched list's 5 ms of PostgreSQL at council scale, issue 19).
_COUNCIL_COUNT_SQL = """SELECT COUNT(*) AS rows_in_all, NULL AS version, 0 AS was_kept
  FROM tenders_opportunity o WHERE {where}"""
OPPORTUNITY_LIST = "tenders_opportunitylist"
_COUNCIL_KEPT_COUNT_SQL = f"""SELECT
    COALESCE(CAST(k.data ->> 0 AS bigint),
      (SELECT COUNT(*) FROM tenders_opportunity o WHERE {{where}})) AS rows_in_all,
    v.version AS version, CASE WHEN k.data IS NULL THEN 0 ELSE 1 END AS was_kept
  {kept.kept_sql(OPPORTUNITY_LIST)}"""  # noqa: S608
# The filters whose matches time decides (an open one whose deadline has
# passed is closed): their count is never kept.
_COUNTED_BY_TIME = {OpportunityStatus.OPEN, OpportunityStatus.CLOSED}
# The page's rows, for every sort but the status: read in the list's order
# and cut to the page (an index on (buyer, column, id) stops at the page).
_COUNCIL_ROWS_SQL = """FROM tenders_opportunity o WHERE {where}
  ORDER BY {order} LIMIT %s OFFSET %s"""
# Sorted by status, which time decides: each status's part (``status_parts``)
# read newest first by ``opportunity_list`` (buyer, status, newest first) only
# to the end of the page, those few sorted and cut to the page, then only the
# page's rows read (16 -> 0.6 ms of PostgreSQL for a one-letter search).
_COUNCIL_STATUS_ROWS_SQL = """FROM (
    SELECT u.status_rank, u.created_at, u.id FROM ({parts}) u
    ORDER BY u.status_rank, u.created_at DESC, u.id DESC LIMIT %s OFFSET %s
  ) s JOIN tenders_opportunity o ON o.id = s.id"""
_COUNCIL_STATUS_PART_SQL = """SELECT * FROM (
      SELECT {rank} AS status_rank, o.created_at AS created_at, o.id AS id
      FROM tenders_opportunity o WHERE {where}
      ORDER BY o.created_at DESC, o.id DESC LIMIT %s
    ) p{rank}_{n}"""
# Each sort's order, of the page's rows and of the statement's (``p``).
_COUNCIL_ORDERS = {
    "newest": ("o.created_at DESC, o.id DESC", "p.created_at DESC, p.id DESC"),
    "deadline": (
        "o.submission_deadline ASC NULLS LAST, o.id",
        "p.submission_deadline ASC NULLS LAST, p.id",
    ),
    "value": ("estimated_value DESC, o.id DESC", "p.estimated_value DESC, p.id DESC"),
    "title": ("o.title, o.id", "p.title, p.id"),
    "status": ("", "p.status_rank, p.created_at DESC, p.id DESC"),
}


def _status_sql(status: str, now: Any) -> list[tuple[str, list[Any]]]:
    """``status_parts(status, now)`` in SQL (of ``o``), each with its parameters."""
    S = OpportunityStatus
    if status == S.OPEN:
        due = "o.status = %s AND (o.submission_deadline >= %s OR o.submission_deadline IS NULL)"
        return [(due, [S.OPEN.value, now])]
    if status == S.CLOSED:
        past = "o.status = %s AND o.submission_deadline < %s"
        return [("o.status = %s", [S.CLOSED.value]), (past, [S.OPEN.value, now])]
    return [("o.status = %s", [status])]


@functools.cache
def _council_page_columns() -> tuple[tuple[str, ...], str]:
    """The opportunity's columns the list reads (``LIST_FIELDS`` and its id),
    in the model's order (as ``Model.from_db`` takes them), and as SQL."""
    return columns(Opportunity, "o", ["id", *LIST_FIELDS])


def _council_page(
    buyer_id: int,
    status: str,
    query: str,
    sort: str,
    now: datetime.datetime,
    offset: int,
    limit: int,
) -> tuple[list[Opportunity], int]:
    """Rows ``offset`` to ``offset + limit`` of ``council_opportunities`` (the
    same filters, order and values) and how many it has, in one query."""
    at = connection.ops.adapt_datetimefield_value(now)
    where = "o.buyer_id = %s"
    where_params: list[Any] = [buyer_id]
    if status:
        parts = _status_sql(status, at)
        where += " AND (" + " OR ".join(f"({sql})" for sql, _ in parts) + ")"
        where_params += [p for _, params in parts for p in params]
    if query := search_text(query):
        where += " AND o.searchable LIKE UPPER(%s) ESCAPE '\\'"
        where_params.append(_like_contains(query))
    sort = sort_or_default(sort)
    order, outer_order = _COUNCIL_ORDERS[sort]
    attnames, columns = _council_page_columns()
    if sort == "status":
        union: list[str] = []
        parts_params: list[Any] = []
        for rank, status_ in enumerate(OpportunityStatus.values):
            for n, (sql, params) in enumerate(_status_sql(status_, at)):
                union.append(
                    _COUNCIL_STATUS_PART_SQL.format(rank=rank, n=n, where=f"{where} AND {sql}")
                )
                parts_params += [*where_params, *params, offset + limit]
        rows = _COUNCIL_STATUS_ROWS_SQL.format(parts="\n    UNION ALL ".join(union))
        rows_params = [*parts_params, limit, offset]
        status_rank = "s.status_rank"
    else:
        rows = _COUNCIL_ROWS_SQL.format(where=where, order=order)
        rows_params = [*where_params, limit, offset]
        status_rank = "0"
    key = None
    if connection.vendor == "postgresql" and status not in _COUNTED_BY_TIME:
        # "v1": what is kept, in this shape; a new shape or meaning is a new key.
        asked = f"{status}\n{query}".encode()
        key = "count v1 " + hashlib.blake2b(asked, digest_size=14).hexdigest()
        count = _COUNCIL_KEPT_COUNT_SQL.format(where=where)
        count_params = [*where_params, OPPORTUNITY_LIST, buyer_id, key]
    else:
        count, count_params = _COUNCIL_COUNT_SQL.format(where=where), where_params
    sql = _COUNCIL_PAGE_SQL.format(
        count=count, columns=columns, status_rank=status_rank, rows=rows, outer_order=outer_order
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*count_params, *rows_params])
        found = cursor.fetchall()
    total, version, was_kept = found[0][0], found[0][-2], found[0][-1]
    if key is not None and version is not None and not was_kept:
        kept.write(OPPORTUNITY_LIST, buyer_id, key, version, [total])
    # Only the columns the database gives as the ORM would not (SQLite's text
    # dates and numbers) are converted, as the ORM converts them.
    width = len(attnames)
    # The two values are money, as the options' value is.
    readers = converted(Opportunity, (*attnames, "options_value", "options_value"))
    db = connection.alias
    opportunities = []
    for row in found:
        if row[1] is None:  # past the end: only the count
            continue
        values = list(row[1 : width + 3])
        for i, read in readers:
            values[i] = read(values[i])
        opportunity = Opportunity.from_db(db, attnames, values[:width])
        opportunity.estimated_value, opportunity.known_value = values[width:]  # type: ignore[attr-defined]
        opportunities.append(opportunity)
    return opportunities, total


def council_opportunity_page(
    user: User,
    *,
    status: str = "",
    query: str = "",
    sort: str = DEFAULT_SORT,
    number: Any = 1,
    now: datetime.datetime | None = None,
) -> Page[Opportunity]:
    """Page ``number`` of ``council_opportunities`` (``PAGE_SIZE`` a page; the
    first when it is no number, the last when past the end), its rows and
    their total in one query whatever the sort (``_council_page``)."""
    now = now or timezone.now()
    if not works_for_council(user) or user.buyer_id is None:
        return read_page(number, PAGE_SIZE, lambda offset, limit: ([], 0), lambda: 0)
    buyer_id = user.buyer_id
    counted: list[int] = []  # the count read with the last page read

    def read(offset: int, limit: int) -> tuple[list[Opportunity], int]:
        rows, total = _council_page(buyer_id, status, query, sort, now, offset, limit)
        counted[:] = [total]
        return rows, total

    def count() -> int:  # asked for a page past the end: counted with it, unless too far to read
        return counted[-1] if counted else read(0, 0)[1]

    return read_page(number, PAGE_SIZE, read, count)


def council_opportunities(
    user: User,
    *,
    status: str = "",
    query: str = "",
    sort: str = DEFAULT_SORT,
    now: datetime.datetime | None = None,
) -> QuerySet[Opportunity]:
    """The council's opportunities, newest first (or by ``sort``, one of
    ``OPPORTUNITY_SORTS``; another value is ignored), each with its estimated
    value (every lot plus options) and its value as far as known (what the
    rule reads of one being evaluated) in one query; ``status`` as it is at ``now``
    (an open one whose deadline has passed is closed); ``query`` found in the
    title, the reference or the CPV code, whatever its case."""
    now = now or timezone.now()
    opportunities = opportunities_visible_to(user).annotate(
        estimated_value=estimated_value_expression(), known_value=known_value_expression()
    )
    if status:
        opportunities = opportunities.filter(status_is(status, now))
    if query := search_text(query):
        opportunities = opportunities.filter(_opportunity_search(query))
    # Only what the list shows: no buyer, category or department on each row.
    return (
        opportunities.select_related(None)
        .only(*LIST_FIELDS)
        .order_by(*_council_order(sort_or_default(sort), now))
    )


# The page's facts about an opportunity, as scalar subqueries of the
# opportunity's row ("tenders_opportunity"): constant SQL, the same on SQLite
# and PostgreSQL.
_COUNT_SQL = (
    'SELECT COUNT(*) FROM tenders_invitation i WHERE i.opportunity_id = "tenders_opportunity"."id"'
)
# The policy's band of the name the route gave, the lowest bound first.
_BAND_SQL = (
    "FROM tenders_policyband b"
    ' WHERE b.policy_id = "tenders_opportunity"."policy_id"'
    ' AND b.name = "tenders_opportunity"."band_name"'
    " ORDER BY b.lower_bound LIMIT 1"
)
# The latest check that decided the route the opportunity has now.
_CHECK_SQL = (
    "FROM tenders_routecheck c JOIN tenders_procurementpolicy p ON p.id = c.policy_id"
    ' WHERE c.opportunity_id = "tenders_opportunity"."id"'
    ' AND c.route = "tenders_opportunity"."route"'
    " ORDER BY c.checked_at DESC, c.id DESC LIMIT 1"
)


# Whether the opportunity has any rows of a list the page shows (no query for
# an empty list: most opportunities have no questions, documents or amendments).
_ANY_SQL = 'EXISTS (SELECT 1 FROM {} x WHERE x.opportunity_id = "tenders_opportunity"."id")'
_HOW_MANY_SQL = 'SELECT COUNT(*) FROM {} x WHERE x.opportunity_id = "tenders_opportunity"."id"'
_COUNTED = {"page_questions": "tenders_question", "page_pricing_lines": "tenders_pricingline"}
_LISTS = {
    "page_any_clarifications": "tenders_clarification",
    "page_any_documents": "tenders_opportunitydocument",
    "page_any_amendments": "tenders_amendment",
}


@functools.cache
def opportunity_page_facts() -> dict[str, RawSQL]:
    """What the officer's page of an opportunity shows besides the opportunity's
    own columns, as annotations read with it in one query (they were three
    queries more; ``get_opportunity_for(user, pk, **opportunity_page_facts())``):
    how many suppliers are invited and how many of them are local; the band's
    minimums; the latest check that decided the route, as
    ``latest_route_check`` finds it; whether there are any questions,
    documents and amendments to read; how many questions and pricing lines
    its questionnaire has.

    Written out: built with ``Subquery`` the ORM took longer compiling them on
    every request than the three queries they replace."""
    check = RouteCheck._meta.get_field

    def fact(select: str, field: Any) -> RawSQL:
        return RawSQL(select, [], output_field=field)  # noqa: S611  (constant SQL)

    return {
        "page_invited": fact(_COUNT_SQL, IntegerField()),
        "page_invited_local": fact(_COUNT_SQL + " AND i.was_local", IntegerField()),
        "page_band_min_invited": fact("SELECT b.min_invited " + _BAND_SQL, IntegerField()),
        "page_band_min_local": fact("SELECT b.min_local " + _BAND_SQL, IntegerField()),
        "page_check_checked_at": fact("SELECT c.checked_at " + _CHECK_SQL, check("checked_at")),
        "page_check_reasons": fact("SELECT c.reasons " + _CHECK_SQL, check("reasons")),
        "page_check_aggregated": fact("SELECT c.aggregated " + _CHECK_SQL, check("aggregated")),
        "page_check_value_compared": fact(
            "SELECT c.value_compared " + _CHECK_SQL, check("value_compared")
        ),
        "page_check_threshold": fact("SELECT c.threshold " + _CHECK_SQL, check("threshold")),
        "page_check_aggregated_value": fact(
            "SELECT c.aggregated_value " + _CHECK_SQL, check("aggregated_value")
        ),
        "page_check_policy_version": fact("SELECT p.version " + _CHECK_SQL, IntegerField()),
        "page_check_policy_from": fact(
            "SELECT p.effective_from " + _CHECK_SQL,
            ProcurementPolicy._meta.get_field("effective_from"),
        ),
        **{name: fact(_ANY_SQL.format(table), BooleanField()) for name, table in _LISTS.items()},
        # issue 17: how many questions and pricing lines its questionnaire has
        **{
            name: fact(_HOW_MANY_SQL.format(table), IntegerField())
            for name, table in _COUNTED.items()
        },
    }


# The officer's page of an opportunity: the opportunity with its council,
# category and department (as ``get_opportunity_for`` reads it for a council's
# people: only their council's) and every one of ``opportunity_page_facts``.
# One constant statement (ADR 10): built with the ORM, the query and its
# thirteen annotations took 1.9-3.1 ms of CPU a request; this, 0.5 ms.
_PAGE_MODELS: tuple[tuple[type[Any], str], ...] = (
    (Opportunity, '"tenders_opportunity"'),
    (BuyerOrganisation, "b"),
    (CpvCode, "c"),
    (Department, "d"),
)


@functools.cache
def _page_statement() -> tuple[str, list[tuple[tuple[str, ...], str]], list[Any]]:
    """The statement, each model's columns and each model's and fact's readers."""
    selected = [columns(model, alias) for model, alias in _PAGE_MODELS]
    facts = opportunity_page_facts()
    sql = (
        f"SELECT {', '.join(select for _, select in selected)}, "  # noqa: S608 (constant SQL)
        + ", ".join(f"({fact.sql})" for fact in facts.values())
        + " FROM tenders_opportunity"
        ' JOIN portal_buyerorganisation b ON b.id = "tenders_opportunity"."buyer_id"'
        ' JOIN cpv_cpvcode c ON c.code = "tenders_opportunity"."cpv_id"'
        ' LEFT JOIN portal_department d ON d.id = "tenders_opportunity"."department_id"'
        ' WHERE "tenders_opportunity"."id" = %s AND "tenders_opportunity"."buyer_id" = %s'
    )
    readers = _model_readers(_PAGE_MODELS, selected)
    fact_readers = [expression_reader(fact) for fact in facts.values()]
    return sql, selected, [readers, fact_readers]


def opportunity_for_page(user: User, pk: int) -> Opportunity:
    """``get_opportunity_for(user, pk, **opportunity_page_facts())`` in one
    constant statement for a council's people (the officer's page of an
    opportunity); for anyone else, that call itself. 404 where it answers 404."""
    if not works_for_council(user) or user.buyer_id is None:
        return get_opportunity_for(user, pk, **opportunity_page_facts())
    sql, selected, (readers, fact_readers) = _page_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, user.buyer_id])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such opportunity")
    made, at = _objects_from_row(row, _PAGE_MODELS, selected, readers)
    opportunity: Opportunity = made[0]
    opportunity.buyer, opportunity.cpv, opportunity.department = made[1:]
    for name, read, value in zip(opportunity_page_facts(), fact_readers, row[at:], strict=True):
        setattr(opportunity, name, read(value))
    return opportunity


# Whether two officers have opened the opportunity's box (``BoxOpening.opened``).
_BOX_OPENED_SQL = (
    'EXISTS (SELECT 1 FROM tenders_boxopening x WHERE x.opportunity_id = "tenders_opportunity"."id"'
    " AND x.second_at IS NOT NULL)"
)


@functools.cache
def box_opened_fact() -> RawSQL:
    """Whether the box is opened (``tenders.services.bids.is_opened``), as an
    annotation read with the opportunity: every page of opened bids asks."""
    return RawSQL(_BOX_OPENED_SQL, [], output_field=BooleanField())  # noqa: S611  (constant SQL)


def read_opportunity_page_facts(opportunity: Opportunity) -> dict[str, Any]:
    """The page's facts: read with the opportunity (``opportunity_page_facts``),
    or, for an opportunity read without them (a refused action's page), in one
    query."""
    facts = opportunity_page_facts()
    if hasattr(opportunity, "page_invited"):
        return {name: getattr(opportunity, name) for name in facts}
    return dict(Opportunity.objects.filter(pk=opportunity.pk).values(**facts).get())


def page_route_check(opportunity: Opportunity, facts: dict[str, Any]) -> RouteCheck | None:
    """The latest check that decided the route, from the page's facts (what an
    awarded or cancelled opportunity's page shows: ``routes.recorded_route``)."""
    if not opportunity.route or facts["page_check_checked_at"] is None:
        return None
    check = RouteCheck(
        opportunity_id=opportunity.pk,
        route=opportunity.route,
        checked_at=facts["page_check_checked_at"],
        reasons=facts["page_check_reasons"],
        aggregated=facts["page_check_aggregated"],
        value_compared=facts["page_check_value_compared"],
        threshold=facts["page_check_threshold"],
        aggregated_value=facts["page_check_aggregated_value"],
    )
    check.policy = ProcurementPolicy(
        version=facts["page_check_policy_version"],
        effective_from=facts["page_check_policy_from"],
    )
    return check


def page_route_band(opportunity: Opportunity, facts: dict[str, Any]) -> PolicyBand | None:
    """The band the route named, when the route is by invitation and the band is found."""
    if not (opportunity.route == Route.INVITATION and opportunity.band_name):
        return None
    # No band is found without a policy (the band's query joins on it).
    if facts["page_band_min_invited"] is None or opportunity.policy_id is None:
        return None
    return PolicyBand(
        policy_id=opportunity.policy_id,
        name=opportunity.band_name,
        min_invited=facts["page_band_min_invited"],
        min_local=facts["page_band_min_local"],
    )


# Only what the page shows of each row (``opportunity_id`` too, for the models:
# the related manager sets each one's opportunity from it). No user's other columns.
INVITATION_FIELDS = [
    "supplier_id",
    "was_local",
    "non_local_justification",
    "invited_at",
    "intention",
]
CLARIFICATION_FIELDS = [
    "opportunity_id",
    "supplier__legal_name",
    "asked_by__full_name",
    "question",
    "published_question",
    "asked_at",
    "answer",
    "visibility",
    "answered_by__full_name",
    "answered_at",
]
DOCUMENT_FIELDS = ["opportunity_id", "original_name", "size", "sha256", "uploaded_at"]
AMENDMENT_FIELDS = ["opportunity_id", "made_at", "kind", "summary", "made_by__full_name"]


def invitation_rows(
    opportunity: Opportunity, *, with_fit: bool = False
) -> QuerySet[Invitation, dict[str, Any]]:
    """The opportunity's invitations, local ones first, from the index (not the
    opportunity's own ordering): dicts of what the table shows, cheaper to read
    and to draw than a page of models. Not read until a page of them is sliced.
    With ``with_fit``, each says whether its supplier works in the opportunity's
    category (``fits``: ``works_in``, read with the row, not a query each)."""
    invitations = opportunity.invitations.all().order_by("-was_local", "pk")
    fields = list(INVITATION_FIELDS)
    if with_fit:
        invitations = invitations.annotate(fits=works_in(opportunity.cpv, supplier="supplier_id"))
        fields.append("fits")
    rows: QuerySet[Invitation, dict[str, Any]] = invitations.values(
        *fields, legal_name=F("supplier__legal_name")
    )
    return rows


def outside_category_rows(opportunity: Opportunity) -> QuerySet[Invitation, dict[str, Any]]:
    """``invitation_rows`` of the invitees who do not work in the opportunity's
    category (``works_in``): a draft's whose category changed under them."""
    return invitation_rows(opportunity).exclude(works_in(opportunity.cpv, supplier="supplier_id"))


def page_clarifications(opportunity: Opportunity, facts: dict[str, Any]) -> list[Clarification]:
    """The opportunity's questions with who asked and answered (none read when
    the page's facts say there are none)."""
    if not facts["page_any_clarifications"]:
        return []
    return list(
        opportunity.clarifications.select_related("supplier", "asked_by", "answered_by").only(
            *CLARIFICATION_FIELDS
        )
    )


def page_documents(opportunity: Opportunity, facts: dict[str, Any]) -> list[OpportunityDocument]:
    """The opportunity's documents (none read when the page's facts say there are none)."""
    if not facts["page_any_documents"]:
        return []
    return list(opportunity.documents.only(*DOCUMENT_FIELDS))


def page_amendments(opportunity: Opportunity, facts: dict[str, Any]) -> list[Amendment]:
    """The opportunity's amendments with who made them (none read when the page's
    facts say there are none)."""
    if not facts["page_any_amendments"]:
        return []
    return list(opportunity.amendments.select_related("made_by").only(*AMENDMENT_FIELDS))


# --- The home pages' sections (portal.homes) -----------------------------------------


def policy_section(user: User) -> dict[str, Any]:
    """The policy in force for the officer's or auditor's council (none without one)."""
    return {"policy": policy_in_force(user.buyer) if user.buyer is not None else None}


def invitations_section(user: User) -> dict[str, Any]:
    """A supplier's latest invitations, open ones first."""
    supplier = user.supplier
    if supplier is None:  # a supplier's person always has one (a database constraint)
        return {"invitations": []}
    ids = supplier_invitations(supplier).values_list("pk", flat=True)[: homes.HOME_LIST_SIZE]
    return {"invitations": supplier_invitations_among(supplier, ids)}


# How far ahead "closing soon" looks on the officer's home.
CLOSING_SOON = datetime.timedelta(days=7)
# What each row of the officer's home shows of an opportunity.
_WORK_FIELDS = ("pk", "reference", "title", "submission_deadline")


def _rows_with_total(rows: QuerySet[Any, Any], *fields: str, **extra: Any) -> tuple[list[Any], int]:
    """The first rows of ``rows`` and how many there are in all, in one query
    (the total is a window over every row, computed before the slice)."""
    found = list(
        rows.annotate(work_total=Window(Count("pk")), **extra).values(
            *fields, "work_total", *extra
        )[: homes.HOME_LIST_SIZE]
    )
    return found, (found[0]["work_total"] if found else 0)


# The officer's home's five lists, each its first rows and how many in all,
# in one statement (ADR 10: five ORM queries took longer to build than to
# run): "d" the council's drafts (newest first; the officer's own counted),
# "c" open ones closing within CLOSING_SOON, "q" questions waiting for an
# answer on open ones, "b" closed ones (a passed deadline closes: status_is)
# whose box is not opened by two officers yet, with who confirmed first, "e"
# evaluations. Statuses at the moment given, as ``status_is`` says; portable
# SQL (PostgreSQL and SQLite), parameters always apart; the NULLs typed, as
# a UNION of PostgreSQL subqueries needs.
_OFFICER_WORK_SQL = """
SELECT * FROM (
  SELECT 'd', o.id, o.id, o.reference, o.title, o.submission_deadline, o.created_at,
    CASE WHEN o.created_by_id = %s THEN 1 ELSE 0 END,
    SUM(CASE WHEN o.created_by_id = %s THEN 1 ELSE 0 END) OVER (), COUNT(*) OVER (),
    CAST(NULL AS INTEGER), CAST(NULL AS VARCHAR(255)), CAST(NULL AS VARCHAR(255))
  FROM tenders_opportunity o WHERE o.buyer_id = %s AND o.status = %s
  ORDER BY o.created_at DESC, o.id DESC LIMIT %s
) AS drafts
UNION ALL
SELECT * FROM (
  SELECT 'c', o.id, o.id, o.reference, o.title, o.submission_deadline, o.created_at, 0, 0,
    COUNT(*) OVER (), CAST(NULL AS INTEGER), CAST(NULL AS VARCHAR(255)), CAST(NULL AS VARCHAR(255))
  FROM tenders_opportunity o
  WHERE o.buyer_id = %s AND o.status = %s AND o.submission_deadline >= %s
    AND o.submission_deadline <= %s
  ORDER BY o.submission_deadline, o.id LIMIT %s
) AS closing
UNION ALL
SELECT * FROM (
  SELECT 'q', q.id, o.id, o.reference, o.title, o.submission_deadline, q.asked_at, 0, 0,
    COUNT(*) OVER (), CAST(NULL AS INTEGER), CAST(NULL AS VARCHAR(255)), CAST(NULL AS VARCHAR(255))
  FROM tenders_clarification q JOIN tenders_opportunity o ON o.id = q.opportunity_id
  WHERE o.buyer_id = %s AND q.answered_at IS NULL AND o.status = %s
    AND (o.submission_deadline >= %s OR o.submission_deadline IS NULL)
  ORDER BY q.asked_at, q.id LIMIT %s
) AS questions
UNION ALL
SELECT * FROM (
  SELECT 'b', o.id, o.id, o.reference, o.title, o.submission_deadline, o.created_at, 0, 0,
    COUNT(*) OVER (), f.id, f.full_name, f.email
  FROM tenders_opportunity o
  LEFT JOIN tenders_boxopening x ON x.opportunity_id = o.id
  LEFT JOIN portal_user f ON f.id = x.first_officer_id
  WHERE o.buyer_id = %s AND (o.status = %s OR (o.status = %s AND o.submission_deadline < %s))
    AND x.second_at IS NULL
  ORDER BY o.submission_deadline, o.id LIMIT %s
) AS boxes
UNION ALL
SELECT * FROM (
  SELECT 'e', o.id, o.id, o.reference, o.title, o.submission_deadline, o.created_at, 0, 0,
    COUNT(*) OVER (), CAST(NULL AS INTEGER), CAST(NULL AS VARCHAR(255)), CAST(NULL AS VARCHAR(255))
  FROM tenders_opportunity o WHERE o.buyer_id = %s AND o.status = %s
  ORDER BY o.submission_deadline, o.id LIMIT %s
) AS evaluations
"""


def _show(*lists: list[dict[str, Any]]) -> None:
    """What each row of the officer's home prints, worked out here rather than
    by a ``{% url %}`` and date filters row by row (up to 50 rows): ``url``
    (the opportunity's page; a question's answer form on it), and each date
    in UK time, ``written`` ("3 Mar 2026") and ``deadline`` and ``asked``
    ("3 Mar 2026 14:00")."""
    detail = url_for_pk("tenders:opportunity_detail")

    for rows in lists:
        for row in rows:
            if "asked_at" in row:  # a question: answered on its opportunity's page
                row["url"] = detail(row["opportunity_id"]) + "#questions"
                row["asked"] = uk_minute(row["asked_at"]) if row["asked_at"] else ""
                continue
            row["url"] = detail(row["pk"])
            deadline = row["submission_deadline"]
            row["deadline"] = uk_minute(deadline) if deadline else ""
            if "created_at" in row:
                row["written"] = uk_day(row["created_at"]) if row["created_at"] else ""


def officer_work(user: User, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The officer's home ("my work"): the council's drafts (newest first, the
    officer's own counted), opportunities closing within ``CLOSING_SOON``,
    questions waiting for an answer, sealed boxes waiting to be opened (and who
    has confirmed the opening so far), evaluations to finish. Each is a short list and its count,
    all in one query (``_OFFICER_WORK_SQL``), whatever the council's size.

    Statuses are those at ``now`` (the moment of the request): an open
    opportunity whose deadline has passed has a box waiting to be opened, even
    if the scheduled closing has not run. Never another council's."""
    if user.buyer_id is None:  # an officer always has a council (a database constraint)
        return {}
    now = now or timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    soon = connection.ops.adapt_datetimefield_value(now + CLOSING_SOON)
    council = user.buyer_id
    S = OpportunityStatus
    params = [
        *(user.pk, user.pk, council, S.DRAFT, homes.HOME_LIST_SIZE),
        *(council, S.OPEN, at, soon, homes.HOME_LIST_SIZE),
        *(council, S.OPEN, at, homes.HOME_LIST_SIZE),
        *(council, S.CLOSED, S.OPEN, at, homes.HOME_LIST_SIZE),
        *(council, S.EVALUATION, homes.HOME_LIST_SIZE),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_OFFICER_WORK_SQL, params)
        found = cursor.fetchall()
    when = reader(Opportunity, "submission_deadline")
    parts: dict[str, list[dict[str, Any]]] = {p: [] for p in ("d", "c", "q", "b", "e")}
    totals = dict.fromkeys(parts, 0)
    for part, pk, opportunity_id, reference, title, deadline, made, *rest in found:
        mine, mine_total, total, first_id, first_name, first_email = rest
        totals[part] = total
        if part == "q":
            parts[part].append(
                {
                    "pk": pk,
                    "asked_at": when(made),
                    "opportunity_id": opportunity_id,
                    "opportunity__reference": reference,
                    "opportunity__title": title,
                }
            )
            continue
        row = {"pk": pk, "reference": reference, "title": title}
        row["submission_deadline"] = when(deadline)
        if part == "d":
            row.update(created_at=when(made), work_mine=mine, work_mine_total=mine_total or 0)
        if part == "b":
            row.update(
                box_opening__first_officer_id=first_id,
                box_opening__first_officer__full_name=first_name,
                box_opening__first_officer__email=first_email,
            )
        parts[part].append(row)
    drafts, closing, questions, boxes, evaluations = parts.values()
    drafts_total, closing_total, questions_total, boxes_total, evaluations_total = totals.values()
    _show(drafts, closing, questions, boxes, evaluations)
    return {
        "work_drafts": drafts,
        "work_drafts_total": drafts_total,
        "work_drafts_mine": drafts[0]["work_mine_total"] if drafts else 0,
        "work_closing": closing,
        "work_closing_total": closing_total,
        "work_closing_days": CLOSING_SOON.days,
        "work_questions": questions,
        "work_questions_total": questions_total,
        "work_boxes": boxes,
        "work_boxes_total": boxes_total,
        "work_evaluations": evaluations,
        "work_evaluations_total": evaluations_total,
    }


def council_opportunity_events(buyer: BuyerOrganisation) -> Q:
    """A council's audit view shows the events of its own opportunities."""
    from django.db.models.functions import Cast

    opportunities = (
        Opportunity.objects.filter(buyer=buyer).annotate(key=Cast("pk", CharField())).values("key")
    )
    return Q(object_type="tenders.opportunity", object_id__in=opportunities)


def register_sections() -> None:
    homes.register(Role.OFFICER, policy_section)
    homes.register(Role.OFFICER, officer_work)
    homes.register(Role.AUDITOR, policy_section)
    homes.register(Role.SUPPLIER, invitations_section)
    audit.register_council_scope(council_opportunity_events)
