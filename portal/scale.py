"""Council-scale data: the rows behind ``manage.py seed_scale`` and the query-count tests.

``build(sizes)`` adds one batch of data to the demo council (which must exist:
``seed_demo``): suppliers with sites, categories and a user each; officers;
opportunities over ten financial years in every state, with lots, criteria,
route checks, invitations, bids with their versions and files, box openings,
scores, awards and contracts; inbox messages; and the audit events of all of
it. The sizes are parameters, so the tests run the same code at a small scale;
``build`` may be called again and adds another batch.

Rows go in with ``COPY`` on PostgreSQL (``executemany`` elsewhere) with ids
reserved from each table's sequence. Nothing is switched off: constraints,
foreign keys and indexes are all checked as usual.

Bid files share their content: one small file per kind is written once under
``MEDIA_ROOT/scale/shared/`` and every bid file of that kind is a hard link
to it (a copy where links are not possible), so every file a page serves is
there, with the SHA-256 its record names, at almost no cost in disk space.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from portal import audit_chain, demo
from portal.identity import normalise_email
from portal.models import (
    AuditEvent,
    BuyerOrganisation,
    Department,
    InboxMessage,
    Notification,
    Role,
    User,
)
from suppliers.models import SupplierApproval, SupplierOrganisation, SupplierSite
from tenders.models import (
    Award,
    Bid,
    BidFile,
    BidRevision,
    BoxOpening,
    Contract,
    Criterion,
    Invitation,
    Lot,
    Opportunity,
    ProcurementPolicy,
    RouteCheck,
    Score,
)
from tenders.models.bids import new_receipt_reference
from tenders.services.spend import rebuild_spend_totals

# Every supplier made here has its user at this domain: how seed_scale knows
# that scale data is already in a database.
SUPPLIER_DOMAIN = "scale-supplier.example"
MEDIA_FOLDER = "scale"
# The supplier whose pages the benchmark and the tests read (a demo login).
PERSONA_SUPPLIER = "Aire Valley Cleaning Ltd"
UNUSABLE_PASSWORD = "!scale-data-no-password"  # noqa: S105  (marks a password as unusable)
DECLARED = {"no_exclusion_grounds": True, "no_conflict": True, "accurate": True}


BIG_OVERRIDE = (
    "One contract for the whole district, let apart from the smaller cleaning contracts "
    "(scale data)."
)


@dataclass(frozen=True)
class Sizes:
    """How much to make in one ``build``. The defaults are DESIGN.md's scale."""

    suppliers: int = 5_000
    opportunities: int = 20_000
    invitations: int = 200_000
    bids: int = 100_000
    files: int = 300_000
    # One open opportunity with this many invitees (included in ``invitations``).
    big_invitees: int = 5_000
    officers: int = 50
    years: int = 10

    def scaled(self, factor: float) -> Sizes:
        """Every size times ``factor`` (at least 1; officers and years kept)."""
        keep = {"officers", "years"}
        return replace(
            self,
            **{
                f.name: max(1, round(getattr(self, f.name) * factor))
                for f in fields(self)
                if f.name not in keep
            },
        )


@dataclass
class Report:
    counts: Counter = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)


# --- Writing rows fast ----------------------------------------------------------------


class Writer:
    """Inserts rows into a model's table: ``COPY`` on PostgreSQL, executemany elsewhere."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.counts: Counter = Counter()
        self._next_free: dict[str, int] = {}

    def reserve(self, model: type[models.Model], n: int) -> int:
        """The first of ``n`` consecutive ids that no one else will be given."""
        table = model._meta.db_table
        if n <= 0:
            return 0
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
                    " nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                    [table, table, n],
                )
                return cursor.fetchone()[0] - n + 1
            if table not in self._next_free:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
                self._next_free[table] = cursor.fetchone()[0] + 1
        first = self._next_free[table]
        self._next_free[table] = first + n
        return first

    def insert(
        self,
        model: type[models.Model],
        names: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        defaults: bool = True,
    ) -> int:
        """Insert ``rows`` of values for the fields ``names``. With ``defaults``,
        every other field that has a default gets it (Django's defaults are not
        the database's)."""
        meta = model._meta
        columns = [meta.get_field(name) for name in names]
        extra: list[Any] = []
        if defaults:
            given = {f.column for f in columns}
            for f in meta.concrete_fields:
                if f.column not in given and not f.primary_key and (f.has_default() or not f.null):
                    columns.append(f)
                    extra.append(f.get_default())
            if extra:
                rows = (tuple(row) + tuple(extra) for row in rows)
        column_sql = ", ".join(connection.ops.quote_name(f.column) for f in columns)
        table = connection.ops.quote_name(meta.db_table)
        json_at = [i for i, f in enumerate(columns) if isinstance(f, models.JSONField)]
        count = 0
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                    for row in rows:
                        if json_at:
                            row = list(row)
                            for i in json_at:
                                row[i] = json.dumps(row[i], cls=DjangoJSONEncoder)
                        copy.write_row(row)
                        count += 1
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})"  # noqa: S608
                prepared = [
                    [f.get_db_prep_save(v, connection) for f, v in zip(columns, row, strict=True)]
                    for row in rows
                ]
                for start in range(0, len(prepared), 5000):
                    cursor.executemany(sql, prepared[start : start + 5000])
                count = len(prepared)
        self.counts[meta.db_table] += count
        return count


# --- The audit trail ----------------------------------------------------------------


# The columns audit.record sets: exactly those an event's content hash covers.
AUDIT_COLUMNS = audit_chain.CONTENT_FIELDS


@dataclass(frozen=True)
class AuditRow:
    at: datetime.datetime
    actor: tuple[int, str] | None  # (id, email), None for the system
    action: str
    object_type: str
    object_id: int | str
    object_repr: str
    changes: dict | None = None
    context: dict | None = None
    sealed_until_opened: int | None = None


def insert_audit(writer: Writer, rows: Iterable[AuditRow]) -> int:
    """The one place scale data writes audit events: the columns ``audit.record``
    sets with the content hash it computes; PostgreSQL links each row into the
    chain at commit (ADR 7), as for any other event."""

    def values(row: AuditRow) -> tuple:
        content = (
            row.at,
            row.actor[0] if row.actor else None,
            row.actor[1] if row.actor else "system",
            row.action,
            row.object_type,
            str(row.object_id),
            row.object_repr[:300],
            row.changes or {},
            row.context or {},
            row.sealed_until_opened,
        )
        digest = audit_chain.content_hash(dict(zip(AUDIT_COLUMNS, content, strict=True)))
        return (*content, digest, "", "")  # linked at commit

    return writer.insert(
        AuditEvent,
        (*AUDIT_COLUMNS, "content_hash", "prev_hash", "chain_hash"),
        (values(row) for row in rows),
        defaults=False,
    )


def flush_everything() -> None:
    """Empty the whole benchmark database (``seed_scale --reset``). The audit
    trail refuses TRUNCATE (ADR 7): its guard is switched off for this one
    statement, in the same transaction, which only the tables' owner may do."""
    from django.core.management import call_command

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE portal_auditevent DISABLE TRIGGER auditevent_refuse_truncate")
        call_command("flush", interactive=False, verbosity=0)
        cursor.execute("ALTER TABLE portal_auditevent ENABLE TRIGGER auditevent_refuse_truncate")


# --- What the data looks like ---------------------------------------------------------

# (CPV code, what the work is, contract kind); cleaning comes first and most
# often, so the persona supplier (a cleaner) has plenty to do.
TRADES: list[tuple[str, str, str]] = [
    ("90910000-9", "Cleaning", "services"),
    ("90919200-4", "Office cleaning", "services"),
    ("90911200-8", "Building cleaning", "services"),
    ("85310000-5", "Social work", "services"),
    ("85312000-9", "Day care and support", "services"),
    ("85312300-2", "Guidance and counselling", "services"),
    ("85323000-9", "Community health", "services"),
    ("77310000-6", "Grounds maintenance", "services"),
    ("77311000-3", "Parks and gardens maintenance", "services"),
    ("79810000-5", "Printing", "services"),
    ("79341000-6", "Advertising", "services"),
    ("55520000-1", "Catering", "services"),
    ("55321000-6", "Meal preparation", "services"),
    ("45000000-7", "Construction work", "works"),
    ("45400000-1", "Building completion work", "works"),
    ("45453000-7", "Refurbishment", "works"),
    ("45442100-8", "Painting and decorating", "works"),
    ("45421000-4", "Joinery", "works"),
    ("45330000-9", "Plumbing", "works"),
    ("45310000-3", "Electrical installation", "works"),
    ("45261000-4", "Roofing", "works"),
    ("45233000-9", "Highways surfacing", "works"),
    ("50700000-2", "Building services maintenance", "services"),
    ("50800000-3", "Repairs and maintenance", "services"),
    ("72000000-5", "IT support", "services"),
    ("72200000-7", "Software development", "services"),
    ("48000000-8", "Software licences", "goods"),
    ("79993000-1", "Facilities management", "services"),
    ("60100000-9", "Passenger transport", "services"),
    ("79710000-4", "Security guarding", "services"),
    ("30190000-7", "Office supplies", "goods"),
    ("39100000-3", "Furniture", "goods"),
    ("79540000-1", "Interpreting", "services"),
    ("79530000-8", "Translation", "services"),
    ("80500000-9", "Training", "services"),
    ("71000000-8", "Architectural and surveying", "services"),
    ("79400000-8", "Consultancy", "services"),
    ("90500000-2", "Waste collection", "services"),
    ("79952000-2", "Events", "services"),
    ("92000000-1", "Cultural and sporting activities", "services"),
]
TRADE_WEIGHTS = [6, 3, 3] + [1] * (len(TRADES) - 3)
CLEANING = {"90910000-9", "90919200-4", "90911200-8"}

TOWNS_LOCAL = [
    ("Bradford", ["BD1", "BD2", "BD3", "BD4", "BD5", "BD6", "BD7", "BD8", "BD9", "BD10"]),
    ("Shipley", ["BD17", "BD18"]),
    ("Keighley", ["BD20", "BD21", "BD22"]),
    ("Bingley", ["BD16"]),
    ("Queensbury", ["BD13"]),
    ("Thornton", ["BD13"]),
    ("Cleckheaton", ["BD19"]),
    ("Skipton", ["BD23", "BD24"]),
    ("Idle", ["BD10"]),
    ("Wyke", ["BD12"]),
    ("Low Moor", ["BD11", "BD12"]),
    ("Bradford", ["BD14", "BD15"]),
]
TOWNS_AWAY = [
    ("Leeds", ["LS1", "LS2", "LS6", "LS9", "LS11", "LS12"]),
    ("Ilkley", ["LS29"]),
    ("Halifax", ["HX1", "HX2", "HX3"]),
    ("Huddersfield", ["HD1", "HD2", "HD5"]),
    ("Wakefield", ["WF1", "WF2"]),
    ("Manchester", ["M1", "M4", "M15"]),
    ("Sheffield", ["S1", "S3"]),
    ("York", ["YO1", "YO10"]),
    ("Birmingham", ["B1", "B3"]),
    ("London", ["EC1A", "E14", "SE1"]),
]
NAME_WORDS = [
    "Aire", "Pennine", "Calder", "Wharfe", "Moorside", "Brontë", "Worth", "Northgate",
    "Millstone", "Saltaire", "Heaton", "Lister", "Undercliffe", "Greengates", "Apperley",
    "Tong", "Holme", "Denholme", "Harden", "Cottingley", "Eldwick", "Esholt", "Wrose",
    "Frizinghall", "Manningham", "Girlington", "Buttershaw", "Odsal", "Bierley", "Laisterdyke",
    "Riverside", "Valley", "Summit", "Beacon", "Keystone", "Crescent", "Oakwood", "Ashfield",
]  # fmt: skip
SUFFIXES = ["Ltd", "Ltd", "Ltd", "Services Ltd", "Group Ltd", "& Co Ltd", "CIC", "LLP"]
FIRST = ["Sam", "Alex", "Jo", "Priya", "Amir", "Grace", "Tom", "Chris", "Nadia", "Owen", "Ruth"]
LAST = ["Shah", "Hughes", "Okafor", "Pickles", "Hussain", "Dale", "Akhtar", "Walsh", "Booth"]
STREETS = ["High Street", "Manor Row", "Market Street", "Station Road", "Mill Lane", "Bridge St"]
PLACES = [
    "City Hall", "Keighley Town Hall", "Shipley library", "council depots", "leisure centres",
    "care homes", "children's centres", "the district's parks", "Margaret McMillan Tower",
    "community hubs", "highways depots", "schools in the west of the district",
]  # fmt: skip
FILE_KINDS = [
    # (original name, extension, content type)
    ("Method statement.pdf", "pdf", "application/pdf"),
    ("Pricing schedule.csv", "csv", "text/csv"),
    ("Insurance certificate.pdf", "pdf", "application/pdf"),
    ("Social value commitments.txt", "txt", "text/plain"),
]
SUBMITTED, WITHDRAWN, DRAFT = "submitted", "withdrawn", "draft"


def _shared_content(kind: int) -> bytes:
    """A small, real file of each kind (a PDF starts with %PDF-, and so on)."""
    name, ext, _ = FILE_KINDS[kind]
    if ext == "pdf":
        body = f"%PDF-1.4\n% {name}: seeded at council scale\n".encode()
        return body + b"%" + b"x" * 2000 + b"\n%%EOF\n"
    if ext == "csv":
        lines = ["item,quantity,unit price"] + [f"Item {i},{i},{i * 12}.50" for i in range(1, 60)]
        return ("\n".join(lines) + "\n").encode()
    return ("We will employ local people and pay the Real Living Wage.\n" * 20).encode()


# --- The builder ----------------------------------------------------------------------


@dataclass
class _Supplier:
    pk: int
    user: int
    email: str
    name: str
    local: bool
    sme: bool
    vcse: bool
    approved: bool
    codes: tuple[str, ...]


@dataclass
class _Opportunity:
    pk: int
    department: int | None
    status: str
    created: datetime.datetime
    published: datetime.datetime | None
    deadline: datetime.datetime | None
    closed: datetime.datetime | None
    by: tuple[int, str]
    code: str
    reference: str
    title: str
    lots: list[tuple[int, Decimal]] = field(default_factory=list)  # (lot id, value)
    quality: list[int] = field(default_factory=list)  # non-price criterion ids
    invitees: list[_Supplier] = field(default_factory=list)
    opened: tuple[tuple[int, str], datetime.datetime] | None = None  # second officer, when
    min_invited: int = 1
    big: bool = False


class Builder:
    def __init__(self, sizes: Sizes, *, seed: int = 2026, now: datetime.datetime | None = None):
        self.sizes = sizes
        self.rng = random.Random(seed)  # noqa: S311  (made-up data, not secrets)
        self.now = now or timezone.now()
        self.writer = Writer()
        self.report = Report(counts=self.writer.counts)
        self.buyer = BuyerOrganisation.objects.get(slug=demo.BUYER["slug"])
        self.policy = (
            ProcurementPolicy.objects.filter(buyer=self.buyer)
            .order_by("-effective_from")
            .prefetch_related("bands")
            .first()
        )
        if self.policy is None:
            raise RuntimeError("The demo council has no procurement policy: run seed_demo.")
        self.bands = self.policy.band_ranges()
        self.departments = list(Department.objects.filter(buyer=self.buyer).values_list("pk"))
        self.local_districts = set(self.buyer.locality_districts.values_list("district", flat=True))
        today = timezone.localdate(self.now)
        fy = today.year if today.month >= 4 else today.year - 1
        self.start = timezone.make_aware(
            datetime.datetime(fy - sizes.years + 1, 4, 1, 9, 0)  # noqa: DTZ001  (London)
        )

    # -- helpers

    def _timed(self, name: str, step: Callable[[], None]) -> None:
        started = time.perf_counter()
        with transaction.atomic():
            step()
        self.report.seconds[name] = round(time.perf_counter() - started, 1)

    def _person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def _between(self, a: datetime.datetime, b: datetime.datetime) -> datetime.datetime:
        return a + (b - a) * self.rng.random()

    def run(self) -> Report:
        self._timed("suppliers", self._suppliers)
        self._timed("officers", self._officers)
        self._timed("opportunities", self._opportunities)
        self._timed("invitations", self._invitations)
        self._timed("bids", self._bids)
        self._timed("inbox", self._inbox)
        self._timed("files on disk", self._files_on_disk)
        return self.report

    # -- suppliers

    def _suppliers(self) -> None:
        rng, n, w = self.rng, self.sizes.suppliers, self.writer
        offset = SupplierOrganisation.objects.count()
        first = w.reserve(SupplierOrganisation, n)
        first_user = w.reserve(User, n)
        self.suppliers: list[_Supplier] = []
        orgs, sites, cats, users, audit, approvals = [], [], [], [], [], []
        codes = [code for code, _, _ in TRADES]
        for i in range(n):
            pk, number = first + i, offset + i + 1
            local = i % 3 == 0  # a third are local to the demo council
            town, districts = rng.choice(TOWNS_LOCAL if local else TOWNS_AWAY)
            district = rng.choice(districts)
            trade_codes = tuple(
                dict.fromkeys(rng.choices(codes, weights=TRADE_WEIGHTS, k=rng.choice([1, 1, 2, 3])))
            )
            trade = next(t for c, t, _ in TRADES if c == trade_codes[0])
            vcse = rng.random() < 0.08
            sme = vcse or rng.random() < 0.85
            suffix = "CIC" if vcse else rng.choice(SUFFIXES[:-2])
            name = f"{rng.choice(NAME_WORDS)} {trade} {number} {suffix}"
            status = rng.choices(["approved", "pending", "suspended"], weights=[90, 6, 4])[0]
            created = self._between(self.start - datetime.timedelta(days=400), self.now)
            email = f"s{number:05d}@{SUPPLIER_DOMAIN}"
            orgs.append(
                (
                    pk,
                    name,
                    "",
                    "" if vcse else f"SC{number:06d}",
                    f"{5_000_000 + number}" if vcse else "",
                    sme,
                    vcse,
                    email,
                    f"01274 {rng.randrange(100000, 999999)}",
                    "",
                    created,
                )
            )
            if status != "pending":  # the demo council's own decision
                approvals.append(
                    (
                        pk,
                        self.buyer.pk,
                        status,
                        "" if status == "approved" else "Seeded at council scale.",
                        created + datetime.timedelta(days=2),
                    )
                )
            postcode = f"{district} {rng.randrange(1, 10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            postcode += rng.choice("ABDEFGHJLNPQRSTUWXYZ")
            sites.append((pk, f"{rng.randrange(1, 300)} {rng.choice(STREETS)}", town, postcode))
            if rng.random() < 0.1:  # a second site, sometimes in the other kind of place
                town2, districts2 = rng.choice(TOWNS_AWAY)
                sites.append(
                    (pk, f"Unit {rng.randrange(1, 40)}", town2, f"{rng.choice(districts2)} 1AA")
                )
            cats.extend((pk, code) for code in trade_codes)
            users.append(
                (
                    first_user + i,
                    UNUSABLE_PASSWORD,
                    email,
                    normalise_email(email),
                    self._person(),
                    Role.SUPPLIER,
                    pk,
                    "admin",
                    created,
                    True,
                    created,
                )
            )
            self.suppliers.append(
                _Supplier(
                    pk=pk,
                    user=first_user + i,
                    email=email,
                    name=name,
                    local=local or district in self.local_districts,
                    sme=sme,
                    vcse=vcse,
                    approved=status == "approved",
                    codes=trade_codes,
                )
            )
            audit.append(
                AuditRow(
                    created, None, "supplier.registered", "suppliers.supplierorganisation", pk, name
                )
            )
            if status != "pending":
                audit.append(
                    AuditRow(
                        created + datetime.timedelta(days=2),
                        None,
                        "supplier.status_changed",
                        "suppliers.supplierorganisation",
                        pk,
                        name,
                        changes={"status": ["pending", status]},
                        context={"reason": "Seeded at council scale."},
                    )
                )
        w.insert(
            SupplierOrganisation,
            [
                "id",
                "legal_name",
                "trading_name",
                "companies_house_number",
                "charity_number",
                "is_sme",
                "is_vcse",
                "contact_email",
                "phone",
                "website",
                "created_at",
            ],
            orgs,
        )
        w.insert(
            SupplierApproval,
            ["supplier_id", "buyer_id", "status", "reason", "changed_at"],
            approvals,
        )
        w.insert(
            SupplierSite,
            ["supplier_id", "address_line_1", "address_line_2", "town", "postcode", "district"],
            ((s, a, "", t, p, p.split(" ")[0]) for s, a, t, p in sites),
        )
        w.insert(
            SupplierOrganisation.categories.through,
            ["supplierorganisation_id", "cpvcode_id"],
            cats,
        )
        w.insert(
            User,
            [
                "id",
                "password",
                "email",
                "email_key",
                "full_name",
                "role",
                "supplier_id",
                "supplier_role",
                "email_verified_at",
                "is_active",
                "date_joined",
            ],
            users,
        )
        insert_audit(w, audit)
        # The persona: a demo login, invited and bidding like the others.
        persona = (
            SupplierOrganisation.objects.filter(legal_name=PERSONA_SUPPLIER)
            .prefetch_related("categories", "users")
            .first()
        )
        self.persona = None
        if persona is not None and persona.users.all():
            self.persona = _Supplier(
                pk=persona.pk,
                user=persona.users.all()[0].pk,
                email=persona.users.all()[0].email,
                name=persona.legal_name,
                local=True,
                sme=persona.is_sme,
                vcse=persona.is_vcse,
                approved=True,
                codes=tuple(c.pk for c in persona.categories.all()),
            )
        # Approved suppliers by trade, local ones apart.
        self.pool: dict[str, tuple[list[_Supplier], list[_Supplier]]] = {}
        for code, _, _ in TRADES:
            matching = [s for s in self.suppliers if s.approved and code in s.codes]
            self.pool[code] = (
                [s for s in matching if s.local],
                [s for s in matching if not s.local],
            )

    # -- officers

    def _officers(self) -> None:
        w = self.writer
        existing = list(
            User.objects.filter(buyer=self.buyer, role=Role.OFFICER, is_active=True)
            .order_by("pk")
            .values_list("pk", "email")
        )
        wanted = max(0, self.sizes.officers - len(existing))
        first = w.reserve(User, wanted)
        taken = User.objects.filter(email__startswith="officer.scale").count()
        rows = []
        for i in range(wanted):
            email = f"officer.scale{taken + i + 1:03d}@demo-council.example"
            rows.append(
                (
                    first + i,
                    UNUSABLE_PASSWORD,
                    email,
                    normalise_email(email),
                    self._person(),
                    Role.OFFICER,
                    self.buyer.pk,
                    self.rng.choice(self.departments)[0],
                    self.start,
                    True,
                    self.start,
                )
            )
            existing.append((first + i, email))
        w.insert(
            User,
            [
                "id",
                "password",
                "email",
                "email_key",
                "full_name",
                "role",
                "buyer_id",
                "department_id",
                "email_verified_at",
                "is_active",
                "date_joined",
            ],
            rows,
        )
        self.officers: list[tuple[int, str]] = existing

    # -- opportunities

    def _status_for(self, age: datetime.timedelta) -> str:
        r = self.rng.random()
        if age < datetime.timedelta(days=40):
            return "draft" if r < 0.25 else "open"
        if age < datetime.timedelta(days=90):
            return ["closed", "evaluation", "awarded", "cancelled"][
                0 if r < 0.3 else 1 if r < 0.6 else 2 if r < 0.9 else 3
            ]
        return "awarded" if r < 0.88 else "cancelled"

    def _statuses(self, created: list[datetime.datetime]) -> list[str]:
        """Each opportunity's state by its age; the last (the big one) open.
        Every state appears, even at a small size: a missing one is given to
        the newest opportunities (draft, open) or the oldest (the others)."""
        statuses = [self._status_for(self.now - made) for made in created[:-1]] + ["open"]
        newest = list(range(len(created) - 2, -1, -1))
        oldest = list(range(len(created) - 1))
        for state in ["draft", "open", "closed", "evaluation", "awarded", "cancelled"]:
            if state in statuses:
                continue
            for i in newest if state in {"draft", "open"} else oldest:
                if statuses.count(statuses[i]) > 1:
                    statuses[i] = state
                    break
        return statuses

    def _value(self) -> tuple[Decimal, int, str]:
        """A whole-contract value below the threshold, its band's minimum invitees."""
        r = self.rng.random()
        if r < 0.55:
            low, high = 500, 9_900
        elif r < 0.88:
            low, high = 10_000, 49_500
        else:
            low, high = 50_000, 175_000
        value = Decimal(self.rng.randrange(low // 50, high // 50) * 50)
        band = next(b for b, upper in self.bands if b.lower_bound <= value <= upper)
        return value, band.min_invited, band.name

    def _opportunities(self) -> None:
        rng, w, n = self.rng, self.writer, self.sizes.opportunities
        span = (self.now - datetime.timedelta(hours=6)) - self.start
        created = sorted(self.start + span * rng.random() for _ in range(n - 1))
        created.append(self.now - datetime.timedelta(days=2))  # the big one, last
        first = w.reserve(Opportunity, n)
        # References continue each year's numbering (DEMO-2024-0001, ...).
        prefix = (self.buyer.identifier or self.buyer.slug[:6]).upper()
        numbers: dict[int, int] = {}
        opp_rows, lot_rows, crit_rows, check_rows, audit = [], [], [], [], []
        lots_first = w.reserve(Lot, n * 4)  # at most four lots each; gaps are harmless
        crit_first = w.reserve(Criterion, n * 3)
        self.opportunities: list[_Opportunity] = []
        statuses = self._statuses(created)
        for i, made in enumerate(created):
            pk = first + i
            big = i == n - 1
            year = timezone.localtime(made).year
            if year not in numbers:
                numbers[year] = Opportunity.objects.filter(
                    reference__startswith=f"{prefix}-{year}-"
                ).count()
            numbers[year] += 1
            reference = f"{prefix}-{year}-{numbers[year]:04d}"
            code, trade, kind = rng.choices(TRADES, weights=TRADE_WEIGHTS)[0]
            value, min_invited, band = self._value()
            status = statuses[i]
            if big:
                value, band = Decimal("150000.00"), self.bands[-1][0].name
                code, trade, kind = TRADES[0]
            if status == "cancelled" and rng.random() < 0.3:
                published = None  # cancelled as a draft
            elif status == "draft":
                published = None
            else:
                published = made + datetime.timedelta(days=rng.uniform(0.5, 5))
                published = min(published, self.now - datetime.timedelta(hours=1))
            if status in {"open", "draft"}:
                deadline = self.now + datetime.timedelta(days=rng.uniform(0.2, 28))
                if big:
                    deadline = self.now + datetime.timedelta(days=21)
            else:
                deadline = (published or made) + datetime.timedelta(days=rng.uniform(14, 30))
            clarification = deadline - datetime.timedelta(days=3)
            if published and clarification <= published:
                clarification = published + (deadline - published) / 2
            closed = None
            if status in {"closed", "evaluation", "awarded"}:
                closed = deadline + datetime.timedelta(minutes=1)
            cancelled = None
            if status == "cancelled":
                cancelled = self._between(published or made, deadline)
            nlots = 1 if big else rng.choices([1, 2, 3, 4], weights=[70, 15, 10, 5])[0]
            options = Decimal("0.00")
            if rng.random() < 0.2:
                options = (value * Decimal("0.1")).quantize(Decimal("1"))
            lots_total = value - options
            share = (lots_total / nlots).quantize(Decimal("0.01"))
            values = [share] * (nlots - 1) + [lots_total - share * (nlots - 1)]
            officer = rng.choice(self.officers)
            place = rng.choice(PLACES)
            title = f"{trade} for {place}"
            start = (deadline + datetime.timedelta(days=30)).date()
            department = rng.choice(self.departments)[0]
            opp_rows.append(
                (
                    pk,
                    self.buyer.pk,
                    department,
                    reference,
                    title,
                    f"{trade} for {place}, {rng.choice(['one year', 'two years', 'three years'])}"
                    " with an option to extend. Invited local bidders are welcome.",
                    code,
                    kind,
                    status,
                    options,
                    "inclusive",
                    start,
                    start + datetime.timedelta(days=365 * rng.choice([1, 2, 3])),
                    None,
                    "none",
                    False,
                    clarification,
                    deadline,
                    "invitation",
                    band,
                    self.policy.pk,
                    made,
                    # The big one adds up with the other work of its trade: an approver
                    # recorded it as separate, so today's rule still lets it go to invited
                    # bidders (the bench measures a page that may be awarded).
                    BIG_OVERRIDE if big else "",
                    officer[0] if big else None,
                    officer[0],
                    made,
                    published,
                    closed,
                    cancelled,
                    "The budget was withdrawn." if cancelled else "",
                )
            )
            opp = _Opportunity(
                pk=pk,
                department=department,
                status=status,
                created=made,
                published=published,
                deadline=deadline,
                closed=closed,
                by=officer,
                code=code,
                reference=reference,
                title=title,
            )
            opp.min_invited, opp.big = min_invited, big
            for number, lot_value in enumerate(values, start=1):
                lot_pk = lots_first + i * 4 + number - 1
                lot_rows.append(
                    (
                        lot_pk,
                        pk,
                        number,
                        f"Lot {number}: {trade}" if nlots > 1 else trade,
                        "",
                        "",
                        lot_value,
                    )
                )
                opp.lots.append((lot_pk, lot_value))
            price_weight = rng.choice([40, 50, 60])
            criteria = [("Price", price_weight, True), ("Quality", 100 - price_weight, False)]
            if rng.random() < 0.5:
                criteria = [
                    ("Price", price_weight, True),
                    ("Quality", 90 - price_weight, False),
                    ("Social value", 10, False),
                ]
            for position, (name, weight, is_price) in enumerate(criteria):
                crit_pk = crit_first + i * 3 + position
                crit_rows.append((crit_pk, pk, name, weight, is_price, position))
                if not is_price:
                    opp.quality.append(crit_pk)
            check_rows.append(
                (
                    self.buyer.pk,
                    pk,
                    published or made,
                    officer[0],
                    "publishing" if published else "drafting",
                    "invitation",
                    band,
                    self.policy.pk,
                    value,
                    value,
                    self.policy.local_threshold,
                    code,
                    [
                        f"£{value:,} is below the local threshold of "
                        f"£{self.policy.local_threshold:,}: the {band.lower()} band applies."
                    ],
                    [],
                )
            )
            self.opportunities.append(opp)
            repr_ = f"{reference} {title}"
            ot = "tenders.opportunity"
            audit.append(
                AuditRow(
                    made,
                    officer,
                    "opportunity.created",
                    ot,
                    pk,
                    repr_,
                    changes={"title": [None, title], "value": [None, str(value)]},
                )
            )
            if published:
                audit.append(
                    AuditRow(
                        published,
                        officer,
                        "opportunity.published",
                        ot,
                        pk,
                        repr_,
                        changes={"status": ["draft", "open"]},
                        context={"band": band, "value": str(value)},
                    )
                )
            if closed:
                audit.append(
                    AuditRow(
                        closed,
                        None,
                        "opportunity.closed",
                        ot,
                        pk,
                        repr_,
                        changes={"status": ["open", "closed"]},
                    )
                )
            if cancelled:
                audit.append(
                    AuditRow(
                        cancelled,
                        officer,
                        "opportunity.cancelled",
                        ot,
                        pk,
                        repr_,
                        changes={"status": ["open" if published else "draft", "cancelled"]},
                        context={"reason": "The budget was withdrawn."},
                    )
                )
        w.insert(
            Opportunity,
            [
                "id",
                "buyer_id",
                "department_id",
                "reference",
                "title",
                "description",
                "cpv_id",
                "contract_kind",
                "status",
                "options_value",
                "value_vat_basis",
                "contract_start",
                "contract_end",
                "max_lots_per_supplier",
                "reservation",
                "no_cross_border_interest",
                "clarification_deadline",
                "submission_deadline",
                "route",
                "band_name",
                "policy_id",
                "route_checked_at",
                "aggregation_override",
                "aggregation_override_by_id",
                "created_by_id",
                "created_at",
                "published_at",
                "closed_at",
                "cancelled_at",
                "cancel_reason",
            ],
            opp_rows,
        )
        w.insert(
            Lot,
            ["id", "opportunity_id", "number", "title", "description", "area", "estimated_value"],
            lot_rows,
        )
        w.insert(
            Criterion, ["id", "opportunity_id", "name", "weight", "is_price", "position"], crit_rows
        )
        w.insert(
            RouteCheck,
            [
                "buyer_id",
                "opportunity_id",
                "checked_at",
                "checked_by_id",
                "occasion",
                "route",
                "band_name",
                "policy_id",
                "value_compared",
                "aggregated_value",
                "threshold",
                "cpv_code",
                "reasons",
                "aggregated",
            ],
            check_rows,
        )
        insert_audit(w, audit)

    # -- invitations

    def _invitations(self) -> None:
        rng, w = self.rng, self.writer
        opps = self.opportunities
        big = opps[-1]
        target = max(0, self.sizes.invitations - self.sizes.big_invitees)
        base = [max(o.min_invited, rng.randint(o.min_invited, o.min_invited * 4)) for o in opps]
        base[-1] = 0
        factor = target / max(1, sum(base))
        # The first opportunity whose bids were opened: the persona surely bid there.
        self.persona_sure = next(
            (o.pk for o in opps if o.status in {"evaluation", "awarded"}), None
        )
        justification = "Too few local suppliers do this work."
        approved = [s for s in self.suppliers if s.approved]
        for o, k in zip(opps, base, strict=True):
            if o.pk == big.pk:
                local = [s for s in approved if s.local]
                chosen = (local + [s for s in approved if not s.local])[: self.sizes.big_invitees]
            else:
                k = max(o.min_invited, round(k * factor))
                local_pool, away_pool = self.pool[o.code]
                n_local = min(len(local_pool), max(1, round(k * 0.7)))
                chosen = rng.sample(local_pool, n_local)
                chosen += rng.sample(away_pool, min(len(away_pool), k - n_local))
            persona = self.persona
            wanted = o.pk == self.persona_sure or (
                o.code in CLEANING and rng.random() < 0.5 and not o.big
            )
            if persona is not None and wanted and persona.pk not in {s.pk for s in chosen}:
                chosen.append(persona)
            o.invitees = chosen
        rows, audit = [], []
        next_pk = w.reserve(Invitation, sum(len(o.invitees) for o in opps))
        for o in opps:
            chosen = o.invitees
            invited_at = o.created + datetime.timedelta(hours=rng.uniform(1, 20))
            invited_at = min(invited_at, o.published or invited_at)
            for s in chosen:
                intention, intention_at = "unknown", None
                if o.published:
                    r = rng.random()
                    if r < 0.45:
                        intention = "yes"
                    elif r < 0.6:
                        intention = "no"
                    if intention != "unknown":
                        intention_at = self._between(o.published, min(o.deadline, self.now))
                rows.append(
                    (
                        next_pk,
                        o.pk,
                        s.pk,
                        s.local,
                        "" if s.local else justification,
                        o.by[0],
                        invited_at,
                        intention,
                        intention_at,
                    )
                )
                next_pk += 1
            non_local = [s.pk for s in chosen if not s.local]
            audit.append(
                AuditRow(
                    invited_at,
                    o.by,
                    "opportunity.invited",
                    "tenders.opportunity",
                    o.pk,
                    f"{o.reference} {o.title}",
                    context={
                        "count": len(chosen),
                        "local": len(chosen) - len(non_local),
                        "non_local_suppliers": non_local[:50],
                        "non_local_justification": justification if non_local else "",
                    },
                )
            )
        w.insert(
            Invitation,
            [
                "id",
                "opportunity_id",
                "supplier_id",
                "was_local",
                "non_local_justification",
                "invited_by_id",
                "invited_at",
                "intention",
                "intention_at",
            ],
            rows,
        )
        self.invitation_rows = rows
        insert_audit(w, audit)

    # -- bids, their versions and files; openings, scores, awards, contracts

    def _bids(self) -> None:
        rng, w = self.rng, self.writer
        biddable = [o for o in self.opportunities if o.published and not o.big]
        pairs = sum(len(o.invitees) * len(o.lots) for o in biddable)
        p = min(0.95, self.sizes.bids / max(1, pairs))
        files_per_version = max(1.0, self.sizes.files / max(1, self.sizes.bids) / 2.15)
        bids, revisions, files, openings, scores, awards, contracts, audit = (
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            [],
        )
        bid_pk = w.reserve(Bid, pairs + 10)
        rev_pk = w.reserve(BidRevision, pairs * 2 + 10)
        award_pk = w.reserve(Award, sum(len(o.lots) for o in biddable) + 10)
        self.links: list[tuple[int, str]] = []  # (kind, path) of every file on disk
        ot = "tenders.opportunity"
        for o in biddable:
            repr_ = f"{o.reference} {o.title}"
            sealed_open = o.status in {"evaluation", "awarded"}
            if sealed_open:
                second = rng.choice([x for x in self.officers if x != o.by] or self.officers)
                first_at = o.deadline + datetime.timedelta(hours=rng.uniform(1, 48))
                second_at = first_at + datetime.timedelta(minutes=rng.uniform(5, 300))
                o.opened = (second, second_at)
                openings.append((o.pk, o.by[0], first_at, second[0], second_at))
                audit.append(AuditRow(first_at, o.by, "box.first_confirmation", ot, o.pk, repr_))
                audit.append(
                    AuditRow(
                        second_at,
                        second,
                        "box.opened",
                        ot,
                        o.pk,
                        repr_,
                        changes={"status": ["closed", "evaluation"]},
                        context={"first_officer": o.by[1], "second_officer": second[1]},
                    )
                )
            last_moment = min(o.deadline, self.now)
            for lot_pk, lot_value in o.lots:
                lot_bids = []  # (bid pk, supplier, price) of the submitted bids
                for s, status in self._bidders(o, p):
                    price = (lot_value * Decimal(rng.uniform(0.7, 1.0))).quantize(Decimal("0.01"))
                    started = self._between(o.published, last_moment)
                    nrev = 0 if status == DRAFT else rng.choices([1, 2], weights=[85, 15])[0]
                    nfiles = int(files_per_version) + (
                        rng.random() < files_per_version - int(files_per_version)
                    )
                    submitted_at = withdrawn_at = None
                    this_bid = bid_pk
                    bid_pk += 1
                    draft_files = []
                    for k in range(nfiles):
                        kind = (k + this_bid) % len(FILE_KINDS)
                        name, ext, content_type = FILE_KINDS[kind]
                        path = f"{MEDIA_FOLDER}/bids/{o.pk}/{this_bid}-{k}.{ext}"
                        self.links.append((kind, path))
                        draft_files.append((path, name, content_type, kind))
                        files.append(
                            (this_bid, None, path, name, content_type, kind, s.user, started)
                        )
                    audit.append(
                        AuditRow(
                            started,
                            (s.user, s.email),
                            "bid.started",
                            ot,
                            o.pk,
                            repr_,
                            context={"bid": this_bid},
                            sealed_until_opened=o.pk,
                        )
                    )
                    at = started
                    for number in range(1, nrev + 1):
                        at = self._between(at, last_moment)
                        receipt = new_receipt_reference()
                        rev_price = price if number == nrev else price * Decimal("1.05")
                        revisions.append(
                            (
                                rev_pk,
                                this_bid,
                                number,
                                rev_price.quantize(Decimal("0.01")),
                                DECLARED,
                                s.user,
                                at,
                                receipt,
                            )
                        )
                        for path, name, content_type, kind in draft_files:
                            files.append(
                                (this_bid, rev_pk, path, name, content_type, kind, s.user, started)
                            )
                        audit.append(
                            AuditRow(
                                at,
                                (s.user, s.email),
                                "bid.submitted",
                                ot,
                                o.pk,
                                repr_,
                                context={"bid": this_bid, "version": number, "receipt": receipt},
                                sealed_until_opened=o.pk,
                            )
                        )
                        rev_pk += 1
                        submitted_at = at
                    if status == WITHDRAWN:
                        withdrawn_at = self._between(at, last_moment)
                        audit.append(
                            AuditRow(
                                withdrawn_at,
                                (s.user, s.email),
                                "bid.withdrawn",
                                ot,
                                o.pk,
                                repr_,
                                context={"bid": this_bid},
                                sealed_until_opened=o.pk,
                            )
                        )
                    bids.append(
                        (
                            this_bid,
                            o.pk,
                            lot_pk,
                            s.pk,
                            status,
                            price,
                            DECLARED,
                            started,
                            submitted_at,
                            withdrawn_at,
                            "",
                            None,
                        )
                    )
                    if status == SUBMITTED:
                        lot_bids.append((this_bid, s, price))
                if not sealed_open:
                    continue
                for this_bid, _s, _price in lot_bids:
                    for crit in o.quality:
                        scored_at = o.opened[1] + datetime.timedelta(hours=rng.uniform(1, 72))
                        scored_at = min(scored_at, self.now - datetime.timedelta(minutes=5))
                        mark = Decimal(rng.randrange(8, 20) * 5)
                        scores.append(
                            (this_bid, crit, mark, "Meets the specification.", o.by[0], scored_at)
                        )
                        audit.append(
                            AuditRow(
                                scored_at,
                                o.by,
                                "bid.scored",
                                ot,
                                o.pk,
                                repr_,
                                context={"bid": this_bid, "criterion": crit, "mark": str(mark)},
                            )
                        )
                if o.status != "awarded" or not lot_bids:
                    continue
                # The council's goal: local spend from about 40% ten years ago to 60%.
                years_in = (o.created - self.start).days / 365.25
                local_goal = 0.40 + 0.02 * years_in
                local_bids = [b for b in lot_bids if b[1].local]
                other_bids = [b for b in lot_bids if not b[1].local]
                if local_bids and (rng.random() < local_goal or not other_bids):
                    winner = rng.choice(local_bids)
                else:
                    winner = rng.choice(other_bids or local_bids)
                decided = o.opened[1] + datetime.timedelta(days=rng.uniform(3, 20))
                decided = min(decided, self.now - datetime.timedelta(hours=1))
                awards.append(
                    (
                        award_pk,
                        lot_pk,
                        winner[0],
                        winner[2],
                        "The highest total score.",
                        [],
                        o.by[0],
                        decided,
                    )
                )
                start = timezone.localdate(decided) + datetime.timedelta(days=14)
                contracts.append(
                    (
                        award_pk,
                        self.buyer.pk,
                        winner[1].pk,
                        winner[2],
                        start,
                        start + datetime.timedelta(days=365 * rng.choice([1, 2, 3])),
                        winner[1].local,
                        winner[1].sme,
                        winner[1].vcse,
                        timezone.localdate(decided),
                        o.department,
                    )
                )
                audit.append(
                    AuditRow(
                        decided,
                        o.by,
                        "lot.awarded",
                        ot,
                        o.pk,
                        repr_,
                        context={
                            "lot": lot_pk,
                            "supplier": winner[1].pk,
                            "value": str(winner[2]),
                            "reasons": "The highest total score.",
                        },
                    )
                )
                award_pk += 1
        w.insert(
            Bid,
            [
                "id",
                "opportunity_id",
                "lot_id",
                "supplier_id",
                "status",
                "draft_price",
                "draft_declarations",
                "created_at",
                "submitted_at",
                "withdrawn_at",
                "excluded_reason",
                "excluded_by_id",
            ],
            bids,
        )
        w.insert(
            BidRevision,
            [
                "id",
                "bid_id",
                "number",
                "price",
                "declarations",
                "submitted_by_id",
                "submitted_at",
                "receipt_reference",
            ],
            revisions,
        )
        contents = [_shared_content(k) for k in range(len(FILE_KINDS))]
        sizes = [len(c) for c in contents]
        digests = [hashlib.sha256(c).hexdigest() for c in contents]
        self.contents = contents
        w.insert(
            BidFile,
            [
                "bid_id",
                "revision_id",
                "file",
                "original_name",
                "content_type",
                "size",
                "sha256",
                "uploaded_by_id",
                "uploaded_at",
            ],
            (
                (b, r, path, name, ct, sizes[kind], digests[kind], by, at)
                for b, r, path, name, ct, kind, by, at in files
            ),
        )
        w.insert(
            BoxOpening,
            ["opportunity_id", "first_officer_id", "first_at", "second_officer_id", "second_at"],
            openings,
        )
        w.insert(
            Score,
            ["bid_id", "criterion_id", "mark", "comment", "scored_by_id", "scored_at"],
            scores,
        )
        w.insert(
            Award,
            [
                "id",
                "lot_id",
                "bid_id",
                "value",
                "reasons",
                "passed_over",
                "decided_by_id",
                "decided_at",
            ],
            awards,
        )
        w.insert(
            Contract,
            [
                "award_id",
                "buyer_id",
                "supplier_id",
                "value",
                "start_date",
                "end_date",
                "supplier_was_local",
                "supplier_was_sme",
                "supplier_was_vcse",
                "awarded_on",
                "department_id",
            ],
            contracts,
        )
        # The contracts went in directly: their council's running totals are recounted.
        rebuild_spend_totals(self.buyer)
        awarded = [o for o in biddable if o.status == "awarded" and o.opened]
        for o in awarded:
            audit.append(
                AuditRow(
                    o.opened[1] + datetime.timedelta(days=21),
                    o.by,
                    "opportunity.awarded",
                    ot,
                    o.pk,
                    f"{o.reference} {o.title}",
                    changes={"status": ["evaluation", "awarded"]},
                )
            )
        audit.sort(key=lambda row: row.at)
        insert_audit(w, audit)

    def _bidders(self, o: _Opportunity, p: float) -> list[tuple[_Supplier, str]]:
        """Who bids for one lot, and how their bid stands. A lot whose bids were
        opened has at least one submitted bid; the persona surely bids where
        it is sure to."""
        rng = self.rng
        chosen = []
        for s in o.invitees:
            sure = s is self.persona and o.pk == self.persona_sure
            if not sure and rng.random() >= p:
                continue
            if o.status == "open":
                status = rng.choices([DRAFT, SUBMITTED], weights=[60, 40])[0]
            else:
                status = rng.choices([SUBMITTED, WITHDRAWN, DRAFT], weights=[90, 4, 6])[0]
            chosen.append((s, SUBMITTED if sure else status))
        needs_one = o.status in {"closed", "evaluation", "awarded"}
        if needs_one and o.invitees and all(status != SUBMITTED for _, status in chosen):
            if chosen:
                chosen[0] = (chosen[0][0], SUBMITTED)
            else:
                chosen.append((rng.choice(o.invitees), SUBMITTED))
        return chosen

    # -- inbox messages: invitations to the suppliers, closings to the officers

    def _inbox(self) -> None:
        w = self.writer
        opps = {o.pk: o for o in self.opportunities}
        rows = []
        for inv_pk, opp_pk, supplier_pk, *_ in self.invitation_rows:
            o = opps[opp_pk]
            if o.published is None:
                continue
            rows.append((inv_pk, o, self._user_of(supplier_pk), "opportunity.invitation"))
        for o in self.opportunities:
            if o.closed:
                rows.append((o.pk, o, o.by[0], "opportunity.closed"))
        first_n = w.reserve(Notification, len(rows))
        notifications, messages = [], []
        for i, (key, o, user_pk, event) in enumerate(rows):
            at = o.published if event == "opportunity.invitation" else o.closed
            if event == "opportunity.invitation":
                subject = f"Invitation to bid: {o.reference} {o.title}"
                body = (
                    f"You are invited to bid for {o.reference} {o.title}. "
                    f"The deadline is {timezone.localtime(o.deadline):%-d %B %Y at %H:%M}."
                )
            else:
                subject = f"Bids ready to open: {o.reference} {o.title}"
                body = f"The deadline for {o.reference} has passed. Two officers can open the bids."
            context = {"reference": o.reference, "title": o.title, "url": f"/opportunities/{o.pk}/"}
            notifications.append(
                (
                    first_n + i,
                    event,
                    user_pk,
                    "inbox",
                    f"scale:{event}:{key}:{user_pk}:inbox",
                    "tenders.opportunity",
                    str(o.pk),
                    context,
                    "sent",
                    1,
                    "",
                    at,
                    at,
                    at,
                    at,
                )
            )
            read = (
                at + datetime.timedelta(days=2) if self.now - at > datetime.timedelta(30) else None
            )
            messages.append(
                (user_pk, first_n + i, event, subject, body, f"/opportunities/{o.pk}/", at, read)
            )
        w.insert(
            Notification,
            [
                "id",
                "event",
                "recipient_id",
                "channel",
                "idempotency_key",
                "object_type",
                "object_id",
                "context",
                "status",
                "attempts",
                "last_error",
                "created_at",
                "next_attempt_at",
                "dispatched_at",
                "sent_at",
            ],
            notifications,
        )
        w.insert(
            InboxMessage,
            [
                "recipient_id",
                "notification_id",
                "event",
                "subject",
                "body",
                "url",
                "created_at",
                "read_at",
            ],
            messages,
        )

    def _user_of(self, supplier_pk: int) -> int:
        if not hasattr(self, "_users"):
            self._users = {s.pk: s.user for s in self.suppliers}
            if self.persona is not None:
                self._users[self.persona.pk] = self.persona.user
        return self._users[supplier_pk]

    # -- files on disk

    def _files_on_disk(self) -> None:
        root = Path(settings.MEDIA_ROOT)
        shared = root / MEDIA_FOLDER / "shared"
        shared.mkdir(parents=True, exist_ok=True)
        sources = []
        for kind, content in enumerate(self.contents):
            path = shared / f"{kind}.{FILE_KINDS[kind][1]}"
            path.write_bytes(content)
            sources.append(path)
        made = set()
        linked = 0
        for kind, relative in dict.fromkeys(self.links):
            target = root / relative
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            try:
                os.link(sources[kind], target)
            except FileExistsError:
                continue
            except OSError:
                shutil.copyfile(sources[kind], target)
            linked += 1
        self.report.counts["files on disk"] += linked


def build(sizes: Sizes, *, seed: int = 2026, now: datetime.datetime | None = None) -> Report:
    """Add one batch of council-scale data to the demo council (see the module)."""
    return Builder(sizes, seed=seed, now=now).run()


def remove_files() -> None:
    """Remove the files ``build`` put on disk."""
    shutil.rmtree(Path(settings.MEDIA_ROOT) / MEDIA_FOLDER, ignore_errors=True)


def present() -> bool:
    """Whether scale data is already in this database."""
    return User.objects.filter(email__endswith=f"@{SUPPLIER_DOMAIN}").exists()
