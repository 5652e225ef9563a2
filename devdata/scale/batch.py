"""One batch of scale data as it is built: what every step reads (the demo
council, its policy's figures, the sizes, the random draw, the clock) and what
each step leaves for the next (the suppliers, officers and opportunities made).

The steps take turns drawing from the one random generator, in the order
``builder`` runs them: the same seed makes the same rows.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from devdata import demo
from devdata.scale.shapes import FIRST, LAST, Sizes
from devdata.scale.writer import Writer
from portal.models import BuyerOrganisation, Department
from tenders import rules
from tenders.models import ProcurementPolicy
from tenders.services.routes import figures

# A user as the audit trail names an actor: (id, email).
Actor = tuple[int, str]
# An invitation as written: (id, opportunity id, supplier id, was local,
# non-local justification, invited by id, invited at, intention, intention at).
InvitationRow = tuple[
    int, int, int, bool, str, int, datetime.datetime, str, datetime.datetime | None
]


@dataclass
class Report:
    """What ``build`` made: rows per table (and files on disk), seconds per step."""

    counts: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class MadeSupplier:
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
class MadeOpportunity:
    pk: int
    department: int | None
    status: str
    created: datetime.datetime
    published: datetime.datetime | None
    deadline: datetime.datetime
    closed: datetime.datetime | None
    by: Actor
    code: str
    reference: str
    title: str
    lots: list[tuple[int, Decimal]] = field(default_factory=list)  # (lot id, value)
    quality: list[int] = field(default_factory=list)  # non-price criterion ids
    invitees: list[MadeSupplier] = field(default_factory=list)
    opened: tuple[Actor, datetime.datetime] | None = None  # second officer, when
    min_invited: int = 1
    big: bool = False


class Batch:
    """The shared state of one ``build``."""

    def __init__(self, sizes: Sizes, *, seed: int, now: datetime.datetime | None) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)  # noqa: S311  (made-up data, not secrets)
        self.now = now or timezone.now()
        self.writer = Writer()
        self.report = Report(counts=self.writer.counts)
        self.buyer = BuyerOrganisation.objects.get(slug=demo.BUYER["slug"])
        policy = (
            ProcurementPolicy.objects.filter(buyer=self.buyer)
            .order_by("-effective_from")
            .prefetch_related("bands")
            .first()
        )
        if policy is None:
            raise RuntimeError("The demo council has no procurement policy: run seed_demo.")
        self.policy: ProcurementPolicy = policy
        # What the rule reads of the policy (its bands, threshold and VAT basis).
        self.figures: rules.PolicyFigures = figures(self.policy)
        self.departments = list(Department.objects.filter(buyer=self.buyer).values_list("pk"))
        self.local_districts = set(self.buyer.locality_districts.values_list("district", flat=True))
        # The first day of the first of ``sizes.years`` financial years up to now.
        first_year = rules.financial_year(timezone.localdate(self.now)) - sizes.years + 1
        self.start = timezone.make_aware(
            datetime.datetime(first_year, 4, 1, 9, 0)  # noqa: DTZ001  (London)
        )
        # What the steps make, in the order they run.
        self.suppliers: list[MadeSupplier] = []
        self.persona: MadeSupplier | None = None  # the demo login, invited like the others
        # Approved suppliers by trade: (local ones, the others).
        self.pool: dict[str, tuple[list[MadeSupplier], list[MadeSupplier]]] = {}
        self.officers: list[Actor] = []
        self.opportunities: list[MadeOpportunity] = []
        # The first opportunity whose bids were opened: the persona surely bid there.
        self.persona_sure: int | None = None
        # (id, opportunity id, supplier id, ...) of every invitation.
        self.invitation_rows: list[InvitationRow] = []
        self.links: list[tuple[int, str]] = []  # (file kind, path) of every bid file

    def person(self) -> str:
        """A made-up full name."""
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def between(self, a: datetime.datetime, b: datetime.datetime) -> datetime.datetime:
        """A moment drawn between ``a`` and ``b``."""
        return a + (b - a) * self.rng.random()
