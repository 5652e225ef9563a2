"""Procurement policy: the figures the threshold rule reads, as data.

A buyer's policy is effective-dated: a new version with a later
``effective_from`` takes over from that date, and earlier versions stay so
that every decision can name the version that made it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from portal.models import BuyerOrganisation


class Digits(TypedDict):
    """A money field's size, spelled once for every amount of the same kind."""

    max_digits: int
    decimal_places: int


# Pounds and pence, up to £999,999,999,999.99.
MONEY: Digits = {"max_digits": 14, "decimal_places": 2}


class VatBasis(models.TextChoices):
    INCLUSIVE = "inclusive", "including VAT"
    EXCLUSIVE = "exclusive", "excluding VAT"


class ProcurementPolicy(models.Model):
    buyer = models.ForeignKey(BuyerOrganisation, on_delete=models.PROTECT, related_name="policies")
    version = models.PositiveIntegerField()
    effective_from = models.DateField(help_text="The first day, in Europe/London, it applies.")
    local_threshold = models.DecimalField(
        **MONEY,
        default=Decimal("180000.00"),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="At or above this estimated value the work must go to full tender.",
    )
    vat_basis = models.CharField(
        "VAT basis of the threshold",
        max_length=10,
        choices=VatBasis.choices,
        default=VatBasis.INCLUSIVE,
    )
    vat_rate_percent = models.DecimalField(
        "VAT rate (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("20.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    aggregation_window_days = models.PositiveIntegerField(
        default=365, help_text="Work in the same category within this many days is added up."
    )
    aggregation_cpv_digits = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(8)],
        help_text="How many leading CPV digits make 'the same category' (3 = group).",
    )
    standstill_days = models.PositiveSmallIntegerField(default=0)
    # The share of awarded value the council aims to spend with local suppliers:
    # this version's target, and the goal it is working towards.
    local_spend_target_percent = models.DecimalField(
        "local spend target (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("40.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    local_spend_goal_percent = models.DecimalField(
        "local spend goal (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("60.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Present only where the bands were read with the policy
    # (``selectors.policy_in_force``): ``band_rows``.
    band_list: list[PolicyBand]

    class Meta:
        ordering = ["buyer_id", "-effective_from"]
        verbose_name_plural = "procurement policies"
        constraints = [
            models.UniqueConstraint(fields=["buyer", "version"], name="policy_version_unique"),
            models.UniqueConstraint(
                fields=["buyer", "effective_from"], name="policy_one_per_effective_date"
            ),
            models.CheckConstraint(
                condition=models.Q(local_threshold__gt=0), name="policy_threshold_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(aggregation_cpv_digits__gte=2, aggregation_cpv_digits__lte=8),
                name="policy_cpv_digits_2_to_8",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.buyer} policy v{self.version} from {self.effective_from:%d %B %Y}"

    def band_rows(self) -> list[PolicyBand]:
        """Its bands, lowest first: those read with it, else from the database."""
        bands = getattr(self, "band_list", None)
        return list(self.bands.all()) if bands is None else bands

    def band_ranges(self) -> list[tuple[PolicyBand, Decimal]]:
        """Each band with the highest value in it (the next band's start less 1p)."""
        bands = self.band_rows()
        uppers = [band.lower_bound for band in bands[1:]] + [self.local_threshold]
        return [(band, upper - Decimal("0.01")) for band, upper in zip(bands, uppers, strict=True)]


class PolicyBand(models.Model):
    """A value band below the local threshold and what it demands."""

    policy = models.ForeignKey(ProcurementPolicy, on_delete=models.CASCADE, related_name="bands")
    name = models.CharField(max_length=100)
    lower_bound = models.DecimalField(
        **MONEY, help_text="Estimated values from this amount up to the next band fall in it."
    )
    min_invited = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    min_local = models.PositiveSmallIntegerField()
    requires_tender_pack = models.BooleanField(
        default=False, help_text="A full tender pack rather than written quotes."
    )

    class Meta:
        ordering = ["policy_id", "lower_bound"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "lower_bound"], name="band_bound_unique"),
            models.CheckConstraint(
                condition=models.Q(lower_bound__gte=0), name="band_bound_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(min_local__lte=models.F("min_invited")),
                name="band_min_local_within_invited",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StatutoryFigure(models.Model):
    """A figure set by law or national guidance, effective-dated.

    ``name`` is one of: ``threshold.goods``, ``threshold.services``,
    ``threshold.works``, ``threshold.light_touch`` (Procurement Act 2023
    thresholds for sub-central authorities, VAT inclusive),
    ``contract_details_notice`` (a notice after award from this value) and
    ``transparency_publication`` (Local Government Transparency Code 2015).
    """

    name = models.CharField(max_length=50)
    effective_from = models.DateField()
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    source = models.CharField(max_length=300)
    # Shown in the interface when the figure needs checking against the source.
    to_check = models.BooleanField(default=False)

    class Meta:
        ordering = ["name", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "effective_from"], name="statutory_figure_one_per_date"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="statutory_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} £{self.amount:,} from {self.effective_from:%d %B %Y}"


class StatutoryDate(models.Model):
    """A power the law gives councils from a date (RULES §3: reserving a
    below-threshold contract to suppliers based in an area, from 4 February
    2026), recorded as data like the figures: ``name`` is ``reservation.local``.
    Without its row the power is not used."""

    name = models.CharField(max_length=50, unique=True)
    effective_from = models.DateField()
    source = models.CharField(max_length=300)
    # Shown in the interface when the date must be checked against the source.
    to_check = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} from {self.effective_from:%d %B %Y}"


class RouteFactsVersion(models.Model):
    """One row: how many changes to what the aggregation rule adds up (an
    opportunity's council, category, status, publication, options or VAT
    basis, a lot's value, an award) have been pruned from the list PostgreSQL's
    triggers keep of them, a row a statement (ADR 10). The facts' version is
    this plus the rows still listed."""

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.version)


class OpportunityListVersion(models.Model):
    """One row: how many changes to what the officers' opportunity list
    counts (an opportunity's council, title, reference, category or status;
    one added or removed) have been pruned from the list PostgreSQL's
    triggers keep of them (``portal.kept``, ADR 10). The facts' version is
    this plus the rows still listed."""

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.version)


class RelatedWorkCache(models.Model):
    """A council's published work in one category (``category``, its first
    ``digits`` CPV digits) within the window of ``window_days`` ending on
    ``day``, as ``tenders.services.routes`` read it at ``version``: read only
    while the version is still that one and for the same day and window."""

    buyer = models.ForeignKey(BuyerOrganisation, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=8)
    digits = models.PositiveSmallIntegerField()
    day = models.DateField()
    window_days = models.PositiveIntegerField()
    version = models.BigIntegerField()
    # {"rate": VAT rate, "totals": {VAT basis: [count, sum]}, "work": {id: [value, VAT basis]}}
    # (jsonb on PostgreSQL: a list reads only its rows' pieces of it).
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "category", "digits"], name="related_work_cache_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.buyer_id} {self.category} @ {self.version}"
