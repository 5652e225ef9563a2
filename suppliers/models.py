"""Supplier organisations and where they are based."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SupplierStatus(models.TextChoices):
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
    status = models.CharField(
        max_length=20, choices=SupplierStatus.choices, default=SupplierStatus.PENDING
    )
    status_reason = models.TextField(blank=True)
    contact_email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    website = models.URLField(blank=True)
    # The kinds of work it does; a code also covers the codes below it.
    categories = models.ManyToManyField(
        "cpv.CpvCode", related_name="suppliers", blank=True, verbose_name="categories of work"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    status_changed_at = models.DateTimeField(null=True, blank=True)

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
        indexes = [models.Index(fields=["status"])]

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

    def save(self, *args, **kwargs) -> None:
        from portal.postcodes import normalise_postcode

        self.postcode = normalise_postcode(self.postcode)
        self.district = self.postcode.split(" ")[0]
        super().save(*args, **kwargs)
