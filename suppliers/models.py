"""Supplier organisations and where they are based."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class SupplierStatus(models.TextChoices):
    """A supplier's status for one council (``SupplierApproval``)."""

    PENDING = "pending", "Waiting for verification"
    APPROVED = "approved", "Approved"
    SUSPENDED = "suspended", "Suspended"


# Officers verify a new supplier, may suspend it, and may reinstate it.
STATUS_TRANSITIONS: dict[str, set[str]] = {
    SupplierStatus.PENDING: {SupplierStatus.APPROVED, SupplierStatus.SUSPENDED},
    SupplierStatus.APPROVED: {SupplierStatus.SUSPENDED},
    SupplierStatus.SUSPENDED: {SupplierStatus.APPROVED},
}


class SupplierRole(models.TextChoices):
    """A supplier user's role within their own organisation."""

    ADMIN = "admin", "Organisation administrator"
    MEMBER = "member", "Member"


class SupplierOrganisation(models.Model):
    """A business, charity or social enterprise that registers once to bid."""

    legal_name = models.CharField(max_length=200)
    trading_name = models.CharField(max_length=200, blank=True)
    companies_house_number = models.CharField(max_length=8, blank=True)
    charity_number = models.CharField(max_length=12, blank=True)
    is_sme = models.BooleanField(
        "small or medium-sized enterprise",
        default=False,
        help_text="Fewer than 250 staff and turnover up to £44m or balance sheet up to £38m.",
    )
    is_vcse = models.BooleanField("voluntary, community or social enterprise", default=False)
    contact_email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    website = models.URLField(blank=True)
    # The kinds of work it does; a code also covers the codes below it.
    categories = models.ManyToManyField(
        "cpv.CpvCode", related_name="suppliers", blank=True, verbose_name="categories of work"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["legal_name"]
        verbose_name = "supplier organisation"
        constraints = [
            models.UniqueConstraint(
                fields=["companies_house_number"],
                condition=~models.Q(companies_house_number=""),
                name="supplier_company_number_unique",
            ),
            models.UniqueConstraint(
                fields=["charity_number"],
                condition=~models.Q(charity_number=""),
                name="supplier_charity_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.trading_name or self.legal_name


class SupplierSite(models.Model):
    """An address the supplier works from; its postcode decides locality."""

    supplier = models.ForeignKey(
        SupplierOrganisation, on_delete=models.CASCADE, related_name="sites"
    )
    address_line_1 = models.CharField(max_length=200)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=8)
    # Set from the postcode on save: the district that locality is matched on.
    district = models.CharField(max_length=4, editable=False, db_index=True)

    class Meta:
        ordering = ["supplier_id", "id"]

    def __str__(self) -> str:
        return f"{self.address_line_1}, {self.town} {self.postcode}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        from portal.postcodes import normalise_postcode

        self.postcode = normalise_postcode(self.postcode)
        self.district = self.postcode.split(" ")[0]
        super().save(*args, **kwargs)


class SupplierApproval(models.Model):
    """One council's verification of a supplier, for its own opportunities only.

    Each council verifies, suspends and reinstates for itself (ADR 12): no row
    for a council means the supplier is waiting for that council's
    verification. Another council's decision is information, never a block.
    """

    supplier = models.ForeignKey(
        SupplierOrganisation, on_delete=models.CASCADE, related_name="approvals"
    )
    buyer = models.ForeignKey(
        "portal.BuyerOrganisation", on_delete=models.PROTECT, related_name="supplier_approvals"
    )
    status = models.CharField(max_length=20, choices=SupplierStatus.choices)
    reason = models.TextField(blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # When this council first approved the supplier, kept through a later
    # suspension: a supplier suspended before any approval was never verified
    # (its facts were never checked and relied on), one suspended after was.
    first_approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["supplier_id", "buyer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "buyer"], name="supplier_approval_once_per_council"
            ),
        ]
        indexes = [models.Index(fields=["buyer", "status"], name="supplier_approval_by_council")]

    def __str__(self) -> str:
        return f"{self.supplier_id} {self.status} for {self.buyer_id}"


class SupplierFactsVersion(models.Model):
    """One row: how many changes to who waits for a council's verification
    and where they are based (a supplier's name, size and registration, its
    sites, each council's decisions, a council's locality) have been pruned
    from the list PostgreSQL's triggers keep of them, a row a statement
    (``portal.kept``, ADR 10). The facts' version is this plus the rows still
    listed."""

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.version)


# The decisions that verified a supplier: an approval, now or before a
# suspension. Once one exists, what verification relied on changes only by
# review (ADR 12).
VERIFYING = models.Q(status=SupplierStatus.APPROVED) | models.Q(first_approved_at__isnull=False)


def before_is_verified() -> models.Exists:
    """An expression for a ``SupplierChange`` queryset: what the change would
    replace is verified (a council has verified the supplier), so pages call
    it "Verified"; otherwise it is only what the supplier gave before."""
    return models.Exists(
        SupplierApproval.objects.filter(VERIFYING, supplier=models.OuterRef("supplier_id"))
    )


class ChangeKind(models.TextChoices):
    DETAILS = "details", "Details"
    CATEGORIES = "categories", "Categories of work"
    SITE_ADD = "site_add", "New address"
    SITE_CHANGE = "site_change", "Changed address"
    SITE_REMOVE = "site_remove", "Removed address"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    APPROVED = "approved", "Accepted"
    REFUSED = "refused", "Refused"
    REPLACED = "replaced", "Replaced by a later change"


class SupplierChange(models.Model):
    """A change a supplier asked for to what verification relied on (its names,
    registration numbers, SME and VCSE status, categories, addresses). It takes
    effect only once an officer has accepted it; until then the supplier's
    verified facts stand (ADR 12)."""

    supplier = models.ForeignKey(
        SupplierOrganisation, on_delete=models.CASCADE, related_name="changes"
    )
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    # The address changed or removed (None for a new one, and for the rest).
    site = models.ForeignKey(
        SupplierSite, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        indexes = [models.Index(fields=["status", "requested_at"], name="supplier_change_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.supplier_id} ({self.status})"

    def shown_rows(self) -> list[tuple[str, str, str]]:
        """The change as a table: (what, before — the verified value, once a
        council has verified the supplier — asked for) for each thing it changes."""
        if self.kind in {ChangeKind.DETAILS, ChangeKind.CATEGORIES}:
            return [
                (CHANGE_LABELS.get(key, key), _shown(self.before.get(key)), _shown(value))
                for key, value in self.after.items()
            ]
        return [("Address", _address(self.before), _address(self.after))]


CHANGE_LABELS = {
    "legal_name": "Legal name",
    "trading_name": "Trading name",
    "companies_house_number": "Companies House number",
    "charity_number": "Charity number",
    "is_sme": "SME",
    "is_vcse": "VCSE",
    "categories": "Categories of work",
}


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _address(values: dict[str, Any]) -> str:
    parts = [values.get(k) for k in ["address_line_1", "address_line_2", "town", "postcode"]]
    return ", ".join(p for p in parts if p)
