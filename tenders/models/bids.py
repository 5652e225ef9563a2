"""Bids: sealed until the deadline has passed and two officers open the box;
scores, awards and contracts."""

from __future__ import annotations

import base64
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from portal.models import StoredFile
from tenders.models.opportunities import Criterion, Lot, Opportunity
from tenders.models.policy import MONEY


class BidStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Bid(models.Model):
    """One supplier's bid for one lot. Its submitted versions are kept."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.PROTECT, related_name="bids")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="bids")
    supplier = models.ForeignKey(
        "suppliers.SupplierOrganisation", on_delete=models.PROTECT, related_name="bids"
    )
    status = models.CharField(max_length=10, choices=BidStatus.choices, default=BidStatus.DRAFT)
    # The draft being prepared (not sealed from its own supplier, never shown to the council).
    draft_price = models.DecimalField(**MONEY, null=True, blank=True)
    draft_declarations = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    excluded_reason = models.TextField(blank=True)
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["opportunity_id", "lot_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "supplier"], name="bid_once_per_lot"),
            models.CheckConstraint(
                condition=models.Q(draft_price__isnull=True) | models.Q(draft_price__gte=0),
                name="bid_draft_price_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["opportunity", "status"], name="bid_by_opportunity")]

    def __str__(self) -> str:
        return f"Bid {self.pk} for lot {self.lot_id}"


class BidRevision(models.Model):
    """A submitted version of a bid: what the council will open."""

    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveSmallIntegerField()
    price = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.00"))])
    declarations = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # When the submitting transaction read the clock, just before it committed.
    submitted_at = models.DateTimeField()
    # When the bid reached us (ADR 17): the trusted front server's time, or the
    # moment the application had the whole request. The deadline is checked
    # against it; null only for versions submitted before it was recorded.
    received_at = models.DateTimeField(null=True, blank=True)
    # Shown on the receipt: "LT-" and 80 random bits (``new_receipt_reference``).
    receipt_reference = models.CharField(max_length=80, unique=True)
    # SHA-256 of everything submitted in this version (price, declarations,
    # answers, rates, files' hashes), shown on the receipt.
    content_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["bid_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["bid", "number"], name="bid_revision_number_unique"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="bid_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.receipt_reference


def new_receipt_reference() -> str:
    """A receipt reference such as ``LT-K7QM-2XHD-9RTC-4WNP``: random, so that
    nothing about the bid (its price above all) can be tried against it by
    whoever reads the database or a backup, and it names no bid or version.
    80 bits: no two receipts share one (the column is unique besides)."""
    letters = base64.b32encode(secrets.token_bytes(10)).decode()
    return "LT-" + "-".join(letters[i : i + 4] for i in range(0, 16, 4))


def bid_file_path(instance: BidFile, filename: str) -> str:
    return bid_file_name(instance.bid.opportunity_id, instance.bid_id, instance.sha256)


def bid_file_name(opportunity_id: int, owner: int | str | None, sha256: str) -> str:
    """Where a bid's file is stored: under its opportunity and its bid (or,
    for a file stored before its bid's row exists, its supplier: ``s<id>``)."""
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    return f"bids/{opportunity_id}/{owner}/{sha256[:16]}-{stamp}"


class BidFile(StoredFile):
    """A file of a bid: in the draft (``revision`` empty) or in a submitted version."""

    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="files")
    revision = models.ForeignKey(
        BidRevision, on_delete=models.PROTECT, null=True, blank=True, related_name="files"
    )
    file = models.FileField(upload_to=bid_file_path, max_length=300)
    # The question it is attached to (None: a file of the bid as a whole).
    question = models.ForeignKey(
        "tenders.Question", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["bid_id", "uploaded_at", "id"]


class BoxOpening(models.Model):
    """Two different officers of the buyer confirm, after the deadline."""

    opportunity = models.OneToOneField(
        Opportunity, on_delete=models.PROTECT, related_name="box_opening"
    )
    first_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    first_at = models.DateTimeField()
    second_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    second_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(first_officer=models.F("second_officer")),
                name="box_opened_by_two_different_officers",
            )
        ]

    def __str__(self) -> str:
        return f"Opening of {self.opportunity_id}"

    @property
    def opened(self) -> bool:
        return self.second_at is not None


class Score(models.Model):
    """An officer's mark for one bid against one quality criterion (0–100%)."""

    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    mark = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    comment = models.TextField()
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bid", "criterion"], name="score_once_per_criterion"),
            models.CheckConstraint(
                condition=models.Q(mark__gte=0, mark__lte=100), name="score_mark_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mark}% for {self.criterion_id} on bid {self.bid_id}"


class Award(models.Model):
    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="award")
    bid = models.OneToOneField(Bid, on_delete=models.PROTECT, related_name="award")
    value = models.DecimalField(**MONEY)
    reasons = models.TextField()
    # Higher-ranked bids passed over (e.g. the cap on lots per supplier), with why.
    passed_over = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["lot_id"]

    def __str__(self) -> str:
        return f"Award of lot {self.lot_id}"


class Contract(models.Model):
    """What the award register and the local-spend figures are made of."""

    award = models.OneToOneField(Award, on_delete=models.PROTECT, related_name="contract")
    buyer = models.ForeignKey(
        "portal.BuyerOrganisation", on_delete=models.PROTECT, related_name="contracts"
    )
    supplier = models.ForeignKey(
        "suppliers.SupplierOrganisation", on_delete=models.PROTECT, related_name="contracts"
    )
    value = models.DecimalField(**MONEY)  # on the opportunity's VAT basis, as bid
    # The same including VAT (``rules.including_vat``): the local-spend
    # figures add contracts up on one basis, whatever each opportunity's was.
    value_including_vat = models.DecimalField(**MONEY)
    start_date = models.DateField()
    end_date = models.DateField()
    # Whether the supplier was local to the buyer at award (for local-spend figures).
    supplier_was_local = models.BooleanField()
    supplier_was_sme = models.BooleanField()
    supplier_was_vcse = models.BooleanField()
    awarded_on = models.DateField()
    # The opportunity's department at award, so the local-spend figures group
    # the contracts alone (an index-only scan) instead of joining three tables.
    department = models.ForeignKey(
        "portal.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-awarded_on", "-id"]
        indexes = [
            models.Index(
                fields=["buyer", "awarded_on"],
                include=[
                    "value",
                    "department",
                    "supplier_was_local",
                    "supplier_was_sme",
                    "supplier_was_vcse",
                ],
                name="contract_register",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="contract_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Contract {self.pk}"
