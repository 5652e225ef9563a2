"""People, buyer organisations and the audit trail.

Supplier organisations live in the ``suppliers`` app and procurement
policies in ``tenders``; what every app shares (who a user is, which council
they work for, what happened when) lives here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from portal.identity import normalise_email


class IdentifierScheme(models.TextChoices):
    """The org-id.guide register of a council's local authority code, by nation
    (RULES §7): the scheme of its identifier in open data."""

    ENGLAND = "GB-LAE", "English local authority (GB-LAE)"
    SCOTLAND = "GB-LAS", "Scottish local authority (GB-LAS)"
    WALES = "GB-PLA", "Welsh principal local authority (GB-PLA)"
    NORTHERN_IRELAND = "GB-LANI", "Northern Ireland local authority (GB-LANI)"


class BuyerOrganisation(models.Model):
    """A council (or other contracting authority) that buys through the portal."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    # Local authority code for open data, in its nation's register, e.g. "BRD"
    # for Bradford in GB-LAE.
    identifier = models.CharField("local authority code", max_length=20, blank=True)
    identifier_scheme = models.CharField(
        "register of the local authority code",
        max_length=8,
        choices=IdentifierScheme.choices,
        default=IdentifierScheme.ENGLAND,
    )
    # Whom suppliers and staff may ask (outcome letters, every message's footer);
    # the portal's SUPPORT_EMAIL when blank.
    contact_email = models.EmailField(
        "procurement contact email",
        blank=True,
        help_text="Shown in every message as the council's contact. "
        "Leave blank to use the portal's support address.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "buyer organisation"

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    buyer = models.ForeignKey(
        BuyerOrganisation, on_delete=models.PROTECT, related_name="departments"
    )
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["buyer", "name"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "name"], name="department_unique_per_buyer")
        ]

    def __str__(self) -> str:
        return self.name


class KeptRead(models.Model):
    """What a busy page read of a council's data, kept under the version of
    the facts it read (``portal.kept``, ADR 10): ``facts`` names them (a
    table-name stem whose triggers raise the version), ``key`` what was read.
    Read only while the version is still ``version``; PostgreSQL only."""

    facts = models.CharField(max_length=40)
    buyer = models.ForeignKey(BuyerOrganisation, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=60)
    version = models.BigIntegerField()
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["facts", "buyer", "key"], name="kept_read_once")
        ]

    def __str__(self) -> str:
        return f"{self.facts} {self.buyer_id} {self.key} @ {self.version}"


class LocalityDistrict(models.Model):
    """One postcode district (outward code, e.g. BD7) in a buyer's locality."""

    buyer = models.ForeignKey(
        BuyerOrganisation, on_delete=models.CASCADE, related_name="locality_districts"
    )
    district = models.CharField(max_length=4)

    class Meta:
        ordering = ["buyer", "district"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "district"], name="locality_district_unique"),
            models.CheckConstraint(
                condition=models.Q(district__regex=r"^[A-Z]{1,2}[0-9][0-9A-Z]?$"),
                name="locality_district_is_outward_code",
            ),
        ]
        indexes = [models.Index(fields=["district"])]

    def __str__(self) -> str:
        return self.district


class StoredFile(models.Model):
    """A file someone uploaded, kept privately (never served from a URL: see
    ``portal.uploads`` and the download helpers): the name it was given, its
    type, size and SHA-256 (checked by its content), who uploaded it and when.
    Each kind (an opportunity's document, a bid's file) says where its files
    are stored (``file``'s ``upload_to``, a generated name)."""

    file = models.FileField(max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey("portal.User", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name


class Role(models.TextChoices):
    OFFICER = "officer", "Procurement officer"
    SUPPLIER = "supplier", "Supplier"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Administrator"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, email_key=normalise_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("role", Role.ADMIN)
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        # The account an address names: its normalised form, matched exactly.
        return self.get(email_key=normalise_email(username or ""))

    def with_email(self, address: str) -> models.QuerySet[User]:
        """The account (none or one) whose address is ``address`` as compared."""
        return self.filter(email_key=normalise_email(address))

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[User]:
        objs = list(objs)
        for user in objs:
            user.email_key = normalise_email(user.email)
        return super().bulk_create(objs, *args, **kwargs)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address.

    Officers and auditors belong to a buyer organisation; supplier users to
    one supplier organisation; administrators may belong to a council or to
    the whole portal.
    """

    email = models.EmailField("email address", unique=True)
    # The address as compared (portal.identity.normalise_email), kept in step
    # with ``email`` by save(): sign-in and every "is this address taken?" ask it.
    email_key = models.CharField(max_length=254, unique=True, editable=False)
    full_name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=Role.choices)
    buyer = models.ForeignKey(
        BuyerOrganisation,
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    supplier = models.ForeignKey(
        "suppliers.SupplierOrganisation",
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    supplier_role = models.CharField(
        "role in the supplier organisation",
        max_length=10,
        choices=[("admin", "Organisation administrator"), ("member", "Member")],
        blank=True,
        help_text="Organisation administrators manage colleagues and the profile.",
    )
    # Set when the person follows the link emailed to them.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        "may use Django admin",
        default=False,
        help_text="Only administrators should have this.",
    )
    date_joined = models.DateTimeField(default=timezone.now)
    # Optional emails a person may turn off; mandatory ones always go.
    email_reminders = models.BooleanField(
        "email me deadline reminders",
        default=True,
        help_text="Reminders before clarification and submission deadlines.",
    )
    email_digests = models.BooleanField(
        "email me a daily digest",
        # Chosen, never assumed: most messages are emailed already.
        default=False,
        # Sent by portal.digests.
        help_text="Each morning, the messages in your inbox from the day before that you "
        "have not read yet.",
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.CheckConstraint(
                condition=~models.Q(role__in=["officer", "auditor"])
                | (models.Q(buyer__isnull=False) & models.Q(supplier__isnull=True)),
                name="user_council_roles_have_a_buyer",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="supplier")
                | (models.Q(supplier__isnull=False) & models.Q(buyer__isnull=True)),
                name="user_supplier_role_has_a_supplier",
            ),
            models.CheckConstraint(
                condition=models.Q(role="supplier") | models.Q(supplier__isnull=True),
                name="user_only_suppliers_have_a_supplier",
            ),
            models.CheckConstraint(
                condition=models.Q(role="supplier") | models.Q(supplier_role=""),
                name="user_only_suppliers_have_a_supplier_role",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email_key = normalise_email(self.email)
        if len(self.email_key) > 254:
            raise ValidationError({"email": "Enter an email address of 254 characters or fewer"})
        if User.objects.filter(email_key=self.email_key).exclude(pk=self.pk).exists():
            raise ValidationError(
                {"email": "Someone already has this email address (or one that reads the same)."}
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email_key = normalise_email(self.email)
        fields = kwargs.get("update_fields")
        if fields is not None and "email" in fields and "email_key" not in fields:
            kwargs["update_fields"] = [*fields, "email_key"]
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_officer(self) -> bool:
        return self.role == Role.OFFICER

    @property
    def is_supplier_user(self) -> bool:
        return self.role == Role.SUPPLIER

    @property
    def is_supplier_admin(self) -> bool:
        return self.role == Role.SUPPLIER and self.supplier_role == "admin"

    @property
    def is_auditor(self) -> bool:
        return self.role == Role.AUDITOR

    @property
    def is_portal_admin(self) -> bool:
        return self.role == Role.ADMIN


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes: audit rows are written once."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Audit events are append-only and cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only and cannot be deleted.")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[Any]:
        raise PermissionError("Audit events are written one at a time, by portal.audit.record.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise PermissionError("Audit events are append-only and cannot be updated.")


class AuditEvent(models.Model):
    """Who did what to which object, when, with the fields that changed.

    Written only through ``portal.audit.record``. Rows are never updated or
    deleted: the model and its queryset refuse, and on PostgreSQL so does the
    database. Each event carries the hash of the one before it, so a changed,
    inserted or deleted row shows (``portal.audit_chain``, ADR 7).
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Users are deactivated, never deleted, so the trail keeps its actors.
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the actor was called at the time, in case their details change.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    # {"field": [before, after], ...}
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Anything else worth keeping: a reason, the IP address, a request id.
    context = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Bid events are sealed: shown to nobody until this opportunity's box is opened.
    sealed_until_opened = models.BigIntegerField(null=True, blank=True, db_index=True)
    # The hash chain (see portal.audit_chain). content_hash is set on save;
    # seq, prev_hash and chain_hash on save (SQLite) or at commit (PostgreSQL):
    # until then seq is null and the hashes are empty.
    seq = models.BigIntegerField(unique=True, null=True, blank=True, editable=False)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    chain_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label or 'system'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        from portal import audit_chain

        if not self._state.adding:
            raise PermissionError("Audit events are append-only and cannot be updated.")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        kwargs["force_insert"] = True
        self.content_hash = audit_chain.content_hash(audit_chain.fields_of(self))
        if audit_chain.database_chains(using):
            super().save(*args, **kwargs)  # PostgreSQL links it at commit
            return
        # SQLite: one writer at a time (the transaction begins IMMEDIATE), so
        # the last row read here is still the last when this one is inserted.
        with transaction.atomic(using=using, savepoint=False):
            self.seq, self.prev_hash = audit_chain.next_link(type(self), using)
            self.chain_hash = audit_chain.link(self.prev_hash, self.content_hash)
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only and cannot be deleted.")


class Heartbeat(models.Model):
    """The last time a background process proved it was alive."""

    name = models.CharField(max_length=50, unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    INBOX = "inbox", "Inbox"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """One message to one person on one channel: the outbox row.

    Written in the same transaction as the change that causes it (so a
    rolled-back change sends nothing), delivered by Celery after commit,
    and claimed under a row lock so that two workers never send it twice.
    """

    event = models.CharField(max_length=80)
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # event + object + recipient + channel (+ the caller's discriminator).
    idempotency_key = models.CharField(max_length=255, unique=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    context = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Not before this time (backoff after a failure).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When it was last handed to the broker; the sweep re-sends stale ones.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The pending rows, by id: the worker's claim (these ids, if still
            # pending) and the sweep's scan (pending rows in id order) both
            # look rows up by id, so no plan can walk every pending row per
            # claim. (Keyed by next_attempt_at, the index looked cheapest to
            # the planner whenever its statistics said "nothing pending", as
            # they do after a burst smaller than a tenth of the table, and
            # each claim scanned the whole backlog: ADR 4.)
            models.Index(
                fields=["id"],
                name="notification_pending",
                condition=models.Q(status="pending"),
            ),
            # No index on status besides: (event, status) served no query (the
            # summary counts every row anyway) and, with the same statistics,
            # made a claim walk all its entries: every row ever sent.
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.recipient_id} by {self.channel} ({self.status})"


class InboxMessage(models.Model):
    """A message in a person's in-portal inbox (delivered from a Notification)."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="inbox")
    notification = models.OneToOneField(
        Notification, on_delete=models.CASCADE, related_name="inbox_message"
    )
    event = models.CharField(max_length=80)
    subject = models.CharField(max_length=250)
    body = models.TextField()
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="inbox_by_recipient"),
            models.Index(
                fields=["recipient"],
                name="inbox_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class FormSubmission(models.Model):
    """A form that made something, sent once (``portal.once``): the key its
    page carried and where what it made is. The same form sent again (the
    browser's Back and the button again, a double tap) finds it here."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.UUIDField()
    url = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="form_submission_once"),
        ]

    def __str__(self) -> str:
        return f"{self.key} -> {self.url}"
