"""The council's published spending (issue 18; ADR 15).

Every English council publishes each payment over £500 (Local Government
Transparency Code 2015). These models hold that ledger as the council
imports it, so that the local share is measured on all of its spending, not
only on the contracts awarded through this portal.

* ``SpendMapping``: which header of the council's file holds which of the
  Code's fields (``ledger.spendfile.Field``), remembered per council by name.
* ``SpendImport``: one uploaded file, imported in the background with its
  progress (rows read, imported, already held, refused) and the line it has
  reached, so that a job killed half-way resumes; withdrawable as a whole.
* ``RefusedRow``: a row that could not be read, with its line and why.
* ``Payment``: one payment, once, whatever the number of files that carried
  it: ``key`` identifies it (ADR 15), unique per council.
* ``PaymentSource``: the other imports that carried a payment already held
  (withdrawing an import removes only the payments no other import carried).
* ``Payee``: a payee as the council's files name it (normalised), matched
  once to a supplier (by Companies House number, or confirmed by an
  officer) and remembered for every later import; ``PayeeRejection``
  records a candidate an officer rejected, never proposed again.
* ``CategoryMapping``: the council's procurement category (or CIPFA code)
  mapped to a CPV group, confirmed once.
* ``NetworkShare``: whether the council shares its headline figures with the
  other councils of the portal.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.models import BuyerOrganisation, StoredFile
from tenders.models.policy import Digits

# Pounds and pence, negative for a credit note.
AMOUNT: Digits = {"max_digits": 14, "decimal_places": 2}


class SpendMapping(models.Model):
    """A council's mapping of its file's headers to the Code's fields."""

    buyer = models.ForeignKey(BuyerOrganisation, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, default="Our spending file")
    # {field: header} for each ``Field`` the file has.
    columns = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["buyer_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "name"], name="spend_mapping_name_once")
        ]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded: the columns to confirm"
    QUEUED = "queued", "Waiting to be imported"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"
    WITHDRAWN = "withdrawn", "Withdrawn"


def spend_file_path(instance: SpendImport, filename: str) -> str:
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    return f"spending/{instance.buyer_id}/{instance.sha256[:16]}-{stamp}"


class SpendImport(StoredFile):
    """One spending file a council uploaded, and its import."""

    buyer = models.ForeignKey(BuyerOrganisation, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=spend_file_path, max_length=300)
    mapping = models.ForeignKey(
        SpendMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The mapping as it was when the import started ({field: header}).
    columns = models.JSONField(default=dict, blank=True)
    # How the file was read: "utf-8-sig", "cp1252", "xlsx" …
    encoding = models.CharField(max_length=20, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    rows_read = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)  # payments new to the ledger
    rows_duplicate = models.PositiveIntegerField(default=0)  # already held (another import)
    rows_refused = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)  # once counted
    # The last line of the file whose rows are committed: a resumed job starts after it.
    position = models.PositiveIntegerField(default=0)
    # The earliest and latest transaction dates imported (for the pages).
    first_date = models.DateField(null=True, blank=True)
    last_date = models.DateField(null=True, blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["buyer", "-uploaded_at"], name="spend_import_list")]

    def __str__(self) -> str:
        return self.original_name


class RefusedRow(models.Model):
    """A row of an import that could not be read: its line and why."""

    spend_import = models.ForeignKey(SpendImport, on_delete=models.CASCADE, related_name="refused")
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["spend_import_id", "line"]
        constraints = [
            models.UniqueConstraint(fields=["spend_import", "line"], name="refused_row_once")
        ]

    def __str__(self) -> str:
        return f"Line {self.line}: {self.reason}"


class MatchMethod(models.TextChoices):
    NONE = "", "Not matched"
    NUMBER = "number", "By Companies House number"
    CONFIRMED = "confirmed", "Confirmed by an officer"


class Payee(models.Model):
    """A payee as the council's files name it, matched to a supplier once."""

    buyer = models.ForeignKey(BuyerOrganisation, on_delete=models.CASCADE, related_name="+")
    # "ACME CLEANING" for "Acme Cleaning Ltd." / "ACME CLEANING LIMITED" (ADR 15).
    normalised = models.CharField(max_length=300)
    name = models.CharField(max_length=300)  # as first seen
    companies_house_number = models.CharField(max_length=8, blank=True)
    postcode = models.CharField(max_length=10, blank=True)  # from the file, if it has one
    supplier = models.ForeignKey(
        "suppliers.SupplierOrganisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    match_method = models.CharField(
        max_length=10, choices=MatchMethod.choices, default=MatchMethod.NONE, blank=True
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    matched_at = models.DateTimeField(null=True, blank=True)
    # Invited to register (from the list of unmatched payees).
    invited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["buyer_id", "normalised"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "normalised"], name="payee_once_per_council")
        ]
        indexes = [models.Index(fields=["buyer", "supplier"], name="payee_by_supplier")]

    def __str__(self) -> str:
        return self.name


class PayeeRejection(models.Model):
    """A supplier an officer said a payee is not: never proposed again."""

    payee = models.ForeignKey(Payee, on_delete=models.CASCADE, related_name="rejections")
    supplier = models.ForeignKey(
        "suppliers.SupplierOrganisation", on_delete=models.CASCADE, related_name="+"
    )
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    rejected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["payee", "supplier"], name="payee_rejection_once")
        ]

    def __str__(self) -> str:
        return f"{self.payee_id} is not {self.supplier_id}"


class Payment(models.Model):
    """One payment of the council's published spending, held once.

    Its foreign keys are not database constraints (ADR 15): a million
    payments would cost a million trigger checks at commit, seven seconds of
    a large council's import. The import is the only writer and sets them
    from rows it holds locked; Django's ``on_delete`` still protects them
    (``tests/test_spend_import.py`` checks no payment points at nothing)."""

    # No index of its own: ``payment_once_per_council`` (buyer, date, key) leads with it,
    # and every index less is faster bulk imports (ADR 15).
    buyer = models.ForeignKey(
        BuyerOrganisation,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # What identifies the payment (ADR 15): SHA-256 hex, unique per council.
    key = models.CharField(max_length=64)
    # None for a redacted row ("Redacted Personal Data"): counted, never matched.
    # Indexed by ``payment_by_payee`` (buyer, payee).
    payee = models.ForeignKey(
        Payee,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        db_index=False,
        db_constraint=False,
    )
    payee_name = models.CharField(max_length=300)
    redacted = models.BooleanField(default=False)
    transaction_date = models.DateField()
    transaction_number = models.CharField(max_length=100, blank=True)
    amount = models.DecimalField(**AMOUNT)  # negative: a credit note
    irrecoverable_vat = models.DecimalField(**AMOUNT, null=True, blank=True)
    department = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=200, blank=True)
    cipfa_code = models.CharField(max_length=50, blank=True)
    purpose = models.CharField(max_length=500, blank=True)
    supplier_id_in_file = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    # The import that first brought it; any other import that carried it is a
    # ``PaymentSource`` (withdrawing an import is rare: no index of its own).
    first_import = models.ForeignKey(
        SpendImport,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        ordering = ["buyer_id", "transaction_date", "id"]
        constraints = [
            # The key holds the date: unique on (buyer, key) alike. Leading with
            # the date keeps a chronological file's inserts together in the index,
            # and the included columns make it the index of the pages' sums by date.
            models.UniqueConstraint(
                fields=["buyer", "transaction_date", "key"],
                include=["amount", "payee", "redacted"],
                name="payment_once_per_council",
            )
        ]
        indexes = [models.Index(fields=["buyer", "payee"], name="payment_by_payee")]

    def __str__(self) -> str:
        return f"{self.transaction_date} {self.payee_name} {self.amount}"


class PaymentSource(models.Model):
    """Another import that carried a payment already held (its first import is
    ``Payment.first_import``): the same payment in two files, one row."""

    # Indexed by ``payment_source_by_payment`` and ``payment_source_once``
    # (spend_import, payment): no index of their own (faster bulk imports).
    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="sources", db_index=False
    )
    spend_import = models.ForeignKey(
        SpendImport, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    line = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["spend_import", "payment"], name="payment_source_once")
        ]
        indexes = [models.Index(fields=["payment"], name="payment_source_by_payment")]

    def __str__(self) -> str:
        return f"{self.payment_id} in {self.spend_import_id}"


class CategoryMapping(models.Model):
    """The council's procurement category (or CIPFA code) and the CPV group
    its spending buys (the first three digits of a CPV code, e.g. 909)."""

    buyer = models.ForeignKey(BuyerOrganisation, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=200)  # as the files write it
    cpv_group = models.CharField(max_length=3, blank=True)  # blank: not procurement
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["buyer_id", "category"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "category"], name="category_mapping_once"),
            models.CheckConstraint(
                condition=Q(cpv_group="") | Q(cpv_group__regex=r"^[0-9]{3}$"),
                name="category_mapping_cpv_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} → {self.cpv_group or '–'}"


class NetworkShare(models.Model):
    """A council's choice to share its headline figures with the network."""

    buyer = models.OneToOneField(BuyerOrganisation, on_delete=models.CASCADE, related_name="+")
    shared = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.buyer_id} shares: {self.shared}"


# --- The figures' running totals and their cache (ADR 16) -------------------------


class PaymentTotal(models.Model):
    """The net sum and number of a council's payments sharing everything the
    figures read of a payment: kept by PostgreSQL triggers on ``Payment``
    (migration 0003; ADR 16) in the transaction that writes or deletes the
    payments, whatever writes them. Not kept on SQLite (its figures read
    ``Payment``)."""

    buyer = models.ForeignKey(
        BuyerOrganisation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # The payee's id, 0 for none (a redacted row): a plain number, so that the
    # unique constraint sees one row per group (NULLs are distinct).
    payee_id = models.BigIntegerField()
    redacted = models.BooleanField()
    month = models.DateField()  # the first day
    department = models.CharField(max_length=200)
    category = models.CharField(max_length=200)  # ``selectors.category_of``
    # The payment's own postcode (before its payee's, which is used when the
    # payment has none): given or not, and its district as
    # ``selectors.payee_locality`` works it out.
    postcode_given = models.BooleanField()
    postcode_district = models.CharField(max_length=10)
    amount = models.DecimalField(**AMOUNT)
    count = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "buyer",
                    "payee_id",
                    "redacted",
                    "month",
                    "department",
                    "category",
                    "postcode_given",
                    "postcode_district",
                ],
                name="payment_total_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.buyer_id} {self.month} {self.payee_id}: {self.amount}"


class FiguresVersion(models.Model):
    """One row whose ``version`` PostgreSQL triggers raise in every transaction
    that changes a fact the figures decide on (ADR 16)."""

    version = models.BigIntegerField(default=1)

    def __str__(self) -> str:
        return str(self.version)


class FiguresCache(models.Model):
    """A council's figures as worked out at ``version``: read only while the
    version is still that one (ADR 16)."""

    buyer = models.ForeignKey(BuyerOrganisation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=100)
    version = models.BigIntegerField()
    data = models.TextField()  # JSON

    class Meta:
        constraints = [models.UniqueConstraint(fields=["buyer", "kind"], name="figures_cache_once")]

    def __str__(self) -> str:
        return f"{self.buyer_id} {self.kind} @ {self.version}"
