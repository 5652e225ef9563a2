"""Opportunities (tenders), their lots, criteria, documents, invitations,
clarifications, amendments, and the record of every route decision."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, Concat, Upper
from django.utils import timezone

from portal.models import BuyerOrganisation, Department, StoredFile
from tenders.models.policy import MONEY, ProcurementPolicy, VatBasis


class OpportunityStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open for bids"
    CLOSED = "closed", "Closed for bids"
    EVALUATION = "evaluation", "Being evaluated"
    AWARDED = "awarded", "Awarded"
    CANCELLED = "cancelled", "Cancelled"


# --- The status at a moment ----------------------------------------------------------
#
# Time decides: an open opportunity whose submission deadline has passed is
# closed for every purpose from that instant, whether or not the scheduled task
# has recorded the closing yet (ADR 11). A bid at the deadline itself is on
# time, so "passed" is strictly after it. Three forms that agree (tested
# together): a method for one opportunity, a query expression to annotate a
# list, and a filter for one status that keeps to the indexes.


def status_at(
    status: str, submission_deadline: datetime.datetime | None, now: datetime.datetime
) -> str:
    """The status at ``now`` of an opportunity stored as ``status``."""
    if (
        status == OpportunityStatus.OPEN
        and submission_deadline is not None
        and now > submission_deadline
    ):
        return OpportunityStatus.CLOSED
    return status


def status_now(now: datetime.datetime) -> Case:
    """``status_at`` as a query expression, for ``annotate``."""
    return Case(
        When(
            status=OpportunityStatus.OPEN,
            submission_deadline__lt=now,
            then=Value(OpportunityStatus.CLOSED.value),
        ),
        default=F("status"),
        output_field=models.CharField(max_length=12),
    )


def status_parts(status: str, now: datetime.datetime, prefix: str = "") -> list[Q]:
    """``status_is(status, now)`` as parts no row is in twice, each one stored
    status (an index on the status reads each in order): closed is the closed
    ones and the open ones whose deadline has passed."""

    def q(**lookups: object) -> Q:
        return Q(**{f"{prefix}{name}": value for name, value in lookups.items()})

    if status == OpportunityStatus.OPEN:
        due = q(submission_deadline__gte=now) | q(submission_deadline__isnull=True)
        return [q(status=status) & due]
    if status == OpportunityStatus.CLOSED:
        return [q(status=status), q(status=OpportunityStatus.OPEN, submission_deadline__lt=now)]
    return [q(status=status)]


def status_is(status: str, now: datetime.datetime, prefix: str = "") -> Q:
    """Opportunities (or rows ``prefix`` leads to them) whose status at ``now`` is ``status``."""
    parts = status_parts(status, now, prefix)
    found = parts[0]
    for part in parts[1:]:
        found |= part
    return found


class ContractKind(models.TextChoices):
    GOODS = "goods", "Goods"
    SERVICES = "services", "Services"
    WORKS = "works", "Works"
    LIGHT_TOUCH = "light_touch", "Light-touch services (for example social care)"


class Route(models.TextChoices):
    INVITATION = "invitation", "Invited local bidders"
    FULL_TENDER = "full_tender", "Full tender required"


class Reservation(models.TextChoices):
    NONE = "none", "Open to any invited supplier"
    LOCAL = "local", "Reserved to suppliers based in the council's area"
    SME_VCSE = "sme_vcse", "Reserved to SMEs and VCSEs"


# --- The value of an opportunity (RULES.md §2): one definition, two forms -----------
#
# ``estimated_value``: every lot's estimate, plus every option and extension.
# ``known_value``: the whole contract as far as its value is known: an awarded
# lot at its awarded value, the others at their estimate, plus every option
# and extension (what the threshold rule adds up). Each is a query expression
# (a subquery of the lots: no join, so it annotates any list) and a method of
# ``Opportunity``; tests/test_opportunity_value.py holds them together.

MONEY_OUTPUT: models.DecimalField[Decimal, Decimal] = models.DecimalField(**MONEY)


def _sum_of_lots(expression: Any) -> Coalesce:
    lots = (
        Lot.objects.filter(opportunity=OuterRef("pk"))
        .order_by()
        .values("opportunity")
        .annotate(total=Sum(expression))
        .values("total")
    )
    return Coalesce(
        Subquery(lots, output_field=MONEY_OUTPUT), Value(Decimal("0.00")), output_field=MONEY_OUTPUT
    )


def estimated_value_expression() -> CombinedExpression:
    """``Opportunity.value_estimated()`` in SQL."""
    return _sum_of_lots(F("estimated_value")) + F("options_value")


def known_value_expression() -> CombinedExpression:
    """``Opportunity.value_known()`` in SQL."""
    return _sum_of_lots(Coalesce("award__value", "estimated_value")) + F("options_value")


class OpportunityQuerySet(models.QuerySet["Opportunity"]):
    def with_values(self) -> Self:
        """Each with ``estimated_value`` and ``known_value`` (see above)."""
        return self.annotate(
            estimated_value=estimated_value_expression(), known_value=known_value_expression()
        )


class Opportunity(models.Model):
    buyer = models.ForeignKey(
        BuyerOrganisation, on_delete=models.PROTECT, related_name="opportunities"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reference = models.CharField(max_length=30, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField()
    cpv = models.ForeignKey(
        "cpv.CpvCode", on_delete=models.PROTECT, related_name="+", verbose_name="CPV category"
    )
    contract_kind = models.CharField(max_length=20, choices=ContractKind.choices)
    status = models.CharField(
        max_length=12, choices=OpportunityStatus.choices, default=OpportunityStatus.DRAFT
    )
    # Options, extensions and renewals beyond the lots' own values, whole term.
    options_value = models.DecimalField(
        "value of options and extensions",
        **MONEY,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    # How the officer entered the figures; the rule converts to the policy's basis.
    value_vat_basis = models.CharField(
        "the values above are",
        max_length=10,
        choices=VatBasis.choices,
        default=VatBasis.INCLUSIVE,
    )
    contract_start = models.DateField(null=True, blank=True)
    contract_end = models.DateField(null=True, blank=True)
    max_lots_per_supplier = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Leave blank for no limit.",
    )
    reservation = models.CharField(
        max_length=10, choices=Reservation.choices, default=Reservation.NONE
    )
    # Reserving is not open where there is potential cross-border interest.
    no_cross_border_interest = models.BooleanField(default=False)
    clarification_deadline = models.DateTimeField(null=True, blank=True)
    submission_deadline = models.DateTimeField(null=True, blank=True)

    # The route the rule decided, and the policy version that decided it.
    route = models.CharField(max_length=12, choices=Route.choices, blank=True)
    band_name = models.CharField(max_length=100, blank=True)
    policy = models.ForeignKey(
        ProcurementPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    route_checked_at = models.DateTimeField(null=True, blank=True)
    # An approver's written reason that aggregated work is genuinely separate.
    aggregation_override = models.TextField(blank=True)
    aggregation_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    # What the lists' search looks in, kept by the database: the title, the
    # reference and the CPV code, upper-cased, on lines of their own (a search
    # collapses its whitespace to single spaces, so it never spans two). One
    # LIKE on a stored column, not three UPPER()s a row: a one-letter search
    # reads every row (ADR 10).
    searchable = models.GeneratedField(
        expression=Upper(Concat("title", Value("\n"), "reference", Value("\n"), "cpv_id")),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        permissions = [
            (
                "approve_aggregation_override",
                "Can record that aggregated work is genuinely separate",
            )
        ]
        indexes = [
            models.Index(fields=["buyer", "status", "-created_at"], name="opportunity_list"),
            # The council's list, newest first, a page at a time (no sort of them all).
            models.Index(fields=["buyer", "-created_at", "-id"], name="opportunity_newest"),
            models.Index(fields=["buyer", "published_at"], name="opportunity_published"),
            # A search counted from the index alone (a one-letter search finds every
            # row: 5.6 ms read from the table, 1.5 ms from this, at 20,000; ADR 10).
            models.Index(fields=["buyer", "searchable"], name="opportunity_search"),
            # The list sorted by title or deadline, a page read in the index's order
            # (a search of 20,000 sorted by title: 10.8 ms sorting them all, 0.06 ms).
            models.Index(fields=["buyer", "title", "id"], name="opportunity_by_title"),
            models.Index(
                fields=["buyer", "submission_deadline", "id"], name="opportunity_by_deadline"
            ),
            models.Index(fields=["status", "submission_deadline"], name="opportunity_deadline"),
            # A supplier's list sorts and searches its invitations by these, from
            # the index alone (its searched list: a merge join with the supplier's
            # invitations, not a hash join over every council's opportunities
            # read from the table; 9.5 -> 6.5 ms for 2,451 invitations, issue 19).
            models.Index(
                fields=["id"],
                include=["status", "published_at", "submission_deadline", "title", "searchable"],
                name="opportunity_for_invitee_lists",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(options_value__gte=0), name="opportunity_options_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(contract_end__isnull=True)
                | models.Q(contract_start__isnull=True)
                | models.Q(contract_end__gte=models.F("contract_start")),
                name="opportunity_contract_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def value_estimated(self, lots: Iterable[Lot] | None = None) -> Decimal:
        """Every lot's estimate, plus every option and extension (``lots``: the
        opportunity's lots, when read already)."""
        if lots is None:
            lots = self.lots.all()
        return sum((lot.estimated_value for lot in lots), Decimal("0.00")) + self.options_value

    def value_known(self, *, lot_prices: Mapping[int, Decimal] | None = None) -> Decimal:
        """The whole contract as far as its value is known (RULES.md §2): an
        awarded lot at its awarded value, the others at their estimate (or at
        the price ``lot_prices`` gives a lot: an award being made), plus every
        option and extension."""
        lot_prices = lot_prices or {}
        total = Decimal("0.00")
        for lot in self.lots.select_related("award"):
            if lot.pk in lot_prices:
                total += lot_prices[lot.pk]
            elif hasattr(lot, "award"):
                total += lot.award.value
            else:
                total += lot.estimated_value
        return total + self.options_value

    def status_at(self, now: datetime.datetime) -> str:
        """The status at ``now``: closed for bids once the deadline has passed."""
        return status_at(self.status, self.submission_deadline, now)

    @property
    def current_status(self) -> str:
        """The status at the moment of the request (for templates)."""
        return self.status_at(timezone.now())

    @property
    def current_status_label(self) -> str:
        return OpportunityStatus(self.current_status).label

    def closed_by_time(self, now: datetime.datetime) -> bool:
        """Stored as open, but its deadline has passed: closed, not yet recorded."""
        return self.status == OpportunityStatus.OPEN and self.status_at(now) != self.status


class Lot(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lots")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # A ward or postcode district when the lots are areas.
    area = models.CharField(max_length=100, blank=True)
    estimated_value = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.00"))])

    class Meta:
        ordering = ["opportunity_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "number"], name="lot_number_unique"),
            models.CheckConstraint(
                condition=models.Q(estimated_value__gte=0), name="lot_value_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Lot {self.number}: {self.title}"


class Criterion(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(max_length=200)
    weight = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    # Price is scored by formula; the others by officers.
    is_price = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["opportunity_id", "position", "id"]
        verbose_name_plural = "criteria"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=0, weight__lte=100), name="criterion_weight_0_100"
            ),
            models.UniqueConstraint(
                fields=["opportunity"],
                condition=models.Q(is_price=True),
                name="criterion_one_price_per_opportunity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight}%)"


def document_path(instance: OpportunityDocument, filename: str) -> str:
    # A random stored name: the name people gave it is kept in original_name.
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    return f"opportunities/{instance.opportunity_id}/{instance.sha256[:16]}-{stamp}"


class OpportunityDocument(StoredFile):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to=document_path, max_length=300)

    class Meta:
        ordering = ["opportunity_id", "uploaded_at", "id"]


class Intention(models.TextChoices):
    UNKNOWN = "unknown", "Not said yet"
    YES = "yes", "Intends to bid"
    NO = "no", "Does not intend to bid"


class Invitation(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="invitations"
    )
    supplier = models.ForeignKey(
        "suppliers.SupplierOrganisation", on_delete=models.PROTECT, related_name="invitations"
    )
    # Whether the supplier was local to the buyer when invited (for the record).
    was_local = models.BooleanField()
    non_local_justification = models.TextField(blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now)
    intention = models.CharField(
        max_length=10, choices=Intention.choices, default=Intention.UNKNOWN
    )
    intention_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opportunity_id", "-was_local", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "supplier"], name="invitation_once_per_supplier"
            ),
            models.CheckConstraint(
                condition=models.Q(was_local=True) | ~models.Q(non_local_justification=""),
                name="invitation_non_local_is_justified",
            ),
        ]
        indexes = [
            models.Index(fields=["supplier", "-invited_at"], name="invitation_by_supplier"),
            # An opportunity's invitees a page at a time, local ones first.
            models.Index(
                fields=["opportunity", "-was_local", "id"], name="invitation_page_local_first"
            ),
            # A supplier's invitations with their opportunities, from the index alone.
            models.Index(
                fields=["supplier", "opportunity"], include=["id"], name="invitation_supplier_opp"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id} invited to {self.opportunity_id}"


class ReminderKind(models.TextChoices):
    """The reminders an invited supplier that has not bid gets before the deadline."""

    HOURS_72 = "72h", "72 hours before the deadline"
    HOURS_24 = "24h", "24 hours before the deadline"


class DeadlineReminder(models.Model):
    """A reminder sent (or being sent) for one invitation, one kind and the
    deadline it was about: at most one of each, so sweeps that run twice or at
    once never send it twice. A deadline extended afterwards is another
    deadline: its reminders are due again (tenders/services/reminders.py)."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=3, choices=ReminderKind.choices)
    deadline = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "kind", "deadline"], name="deadline_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder of invitation {self.invitation_id}"


class ClarificationVisibility(models.TextChoices):
    ALL = "all", "Published to every invited supplier, without the asker's name"
    PRIVATE = "private", "Answered to the asker only"


class Clarification(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="clarifications"
    )
    supplier = models.ForeignKey(
        "suppliers.SupplierOrganisation", on_delete=models.PROTECT, related_name="+"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    question = models.TextField()
    # The question as every invitee reads it with the answer (RULES §4:
    # anonymised): the officer may take out what tells who asked. Blank: as asked.
    published_question = models.TextField(blank=True)
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(blank=True)
    visibility = models.CharField(
        max_length=10, choices=ClarificationVisibility.choices, blank=True
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opportunity_id", "asked_at", "id"]

    def __str__(self) -> str:
        return f"Question {self.pk} on {self.opportunity_id}"

    @property
    def shown_question(self) -> str:
        """The question as the answer shows it: as published to every invitee, or as asked."""
        return self.published_question or self.question


class AmendmentKind(models.TextChoices):
    DEADLINE_EXTENDED = "deadline_extended", "Deadline extended"
    DOCUMENT_ADDED = "document_added", "Document added"
    DETAILS_CORRECTED = "details_corrected", "Details corrected"
    VALUE_CHANGED = "value_changed", "Value or lots changed"
    QUESTIONNAIRE_CHANGED = "questionnaire_changed", "Questionnaire changed"


class Amendment(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="amendments"
    )
    kind = models.CharField(max_length=30, choices=AmendmentKind.choices)
    summary = models.TextField()
    changes = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["opportunity_id", "made_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.opportunity_id}"


class RouteCheck(models.Model):
    """Every time the threshold rule decided, what it decided and why.

    Kept for the opportunity's history and exported as the list of
    "full tender required" outcomes that are handed on.
    """

    buyer = models.ForeignKey(BuyerOrganisation, on_delete=models.PROTECT, related_name="+")
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, null=True, blank=True, related_name="route_checks"
    )
    checked_at = models.DateTimeField(default=timezone.now)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Why it ran: drafting, publishing, value_changed, award, command, ...
    occasion = models.CharField(max_length=30)
    route = models.CharField(max_length=12, choices=Route.choices)
    band_name = models.CharField(max_length=100, blank=True)
    policy = models.ForeignKey(ProcurementPolicy, on_delete=models.PROTECT, related_name="+")
    value_compared = models.DecimalField(**MONEY)
    aggregated_value = models.DecimalField(**MONEY)
    threshold = models.DecimalField(**MONEY)
    cpv_code = models.CharField(max_length=10)
    reasons = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    aggregated = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["buyer", "route", "-checked_at"], name="routecheck_list")]

    def __str__(self) -> str:
        return f"{self.get_route_display()} at {self.checked_at:%Y-%m-%d %H:%M}"
