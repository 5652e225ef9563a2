"""Supplier people: self-registration, confirming an email, colleagues."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cpv.models import CpvCode
from portal import audit, events, lockout
from portal.identity import same_state
from portal.models import Notification, Role, User
from portal.notifications import notify
from portal.services import user_create
from suppliers import tokens
from suppliers.models import SupplierOrganisation, SupplierRole
from suppliers.services.organisations import SiteSpec, supplier_create


class PeopleRefused(ValueError):
    """A change to a supplier's people that the rules do not allow."""


@dataclass(frozen=True)
class Registration:
    """What a registration made; both None when the address already had an
    account (nothing is made, and its owner is told)."""

    supplier: SupplierOrganisation | None
    user: User | None


@transaction.atomic
def supplier_register(
    *,
    legal_name: str,
    site: SiteSpec,
    categories: Sequence[CpvCode],
    full_name: str,
    email: str,
    password: str,
    trading_name: str = "",
    companies_house_number: str = "",
    charity_number: str = "",
    is_sme: bool = False,
    is_vcse: bool = False,
    phone: str = "",
    website: str = "",
) -> Registration:
    """A supplier registers itself and its first person, its administrator.

    The person cannot sign in until they follow the link emailed to them;
    the organisation waits for an officer to verify it.

    Registration never tells whether an address has an account: for an
    address that has one (compared as sign-in compares it) nothing is made,
    the caller answers exactly as for a new one, and the account's owner is
    emailed that someone tried.
    """
    owner = User.objects.with_email(email).first()
    if owner is not None:
        make_password(password)  # the same work as a new account, so the same time
        _tell_of_registration_attempt(owner)
        return Registration(supplier=None, user=None)
    supplier = supplier_create(
        legal_name=legal_name,
        trading_name=trading_name,
        companies_house_number=companies_house_number,
        charity_number=charity_number,
        is_sme=is_sme,
        is_vcse=is_vcse,
        contact_email=email,
        phone=phone,
        website=website,
        sites=[site],
        categories=categories,
        by=None,
    )
    user = user_create(
        email=email,
        full_name=full_name,
        role=Role.SUPPLIER,
        supplier=supplier,
        supplier_role=SupplierRole.ADMIN,
        password=password,
        is_active=False,
        by=None,
    )
    send_verification(user=user)
    return Registration(supplier=supplier, user=user)


def _tell_of_registration_attempt(owner: User) -> None:
    # At most one email an hour, however often someone tries.
    notify(
        events.REGISTRATION_ATTEMPTED.name,
        [owner],
        {"sign_in": reverse("login"), "password_reset": reverse("password_reset")},
        obj=owner,
        discriminator=timezone.now().strftime("%Y-%m-%dT%H"),
    )


def send_verification(*, user: User) -> None:
    """Email a link that confirms the address (and activates the account)."""
    link = reverse("verify_email", args=[tokens.make_token(user, tokens.VERIFY_EMAIL)])
    notify(
        events.VERIFY_EMAIL.name,
        [user],
        {"link": link, "supplier_name": str(user.supplier), "days": 3},
        obj=user,
        discriminator=timezone.now().isoformat(),
    )


# "Send the link again": at most this many links to one address in the window,
# and none sooner than RESEND_GAP after the last.
RESEND_LIMIT = 5
RESEND_WINDOW = timedelta(hours=24)
RESEND_GAP = timedelta(minutes=1)


@transaction.atomic
def verification_resend(*, user_id: int) -> bool:
    """Send the confirmation link again to the account a person's registration
    made (the caller takes its id from their own session, never from a form:
    an address registered earlier by someone else is never confirmed this way).

    Harmless when repeated: nothing is sent for an address with no account
    waiting for confirmation (none, or confirmed already: registering with it
    told its owner), within ``RESEND_GAP`` of the last link, or beyond
    ``RESEND_LIMIT`` links in ``RESEND_WINDOW``. Returns whether a link was
    sent; callers must answer the same either way, so that the page never
    tells whether an address has an account.
    """
    user = (
        User.objects.filter(pk=user_id)
        .select_for_update()
        .filter(role=Role.SUPPLIER, email_verified_at__isnull=True)
        .first()
    )
    if user is None:
        return False
    now = timezone.now()
    sent = list(
        Notification.objects.filter(
            recipient=user, event=events.VERIFY_EMAIL.name, created_at__gte=now - RESEND_WINDOW
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
    )
    if len(sent) >= RESEND_LIMIT or (sent and now - sent[0] < RESEND_GAP):
        return False
    send_verification(user=user)
    return True


@transaction.atomic
def email_verify(*, user: User) -> User:
    """The person followed their link: the address is theirs; they may sign in."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.email_verified_at is not None:
        return user
    user.email_verified_at = timezone.now()
    user.is_active = True
    user.save(update_fields=["email_verified_at", "is_active"])
    audit.record(actor=user, action="user.email_verified", obj=user)
    return user


@transaction.atomic
def colleague_invite(
    *, supplier: SupplierOrganisation, email: str, full_name: str, supplier_role: str, by: User
) -> User | None:
    """An organisation administrator invites a colleague, who sets a password
    through the emailed link. A person belongs to one organisation only.

    Inviting again someone of this organisation who has not joined, or was
    removed, sends a new link; every earlier link stops working. An address
    with an account elsewhere (another organisation, a council) is not
    revealed: nothing is made, the caller answers as for any invitation
    (``None`` here), and the address's owner is emailed that someone tried.
    """
    _require_admin(by, supplier)
    user = User.objects.with_email(email).select_for_update().first()
    if user is None:
        user = user_create(
            email=email,
            full_name=full_name,
            role=Role.SUPPLIER,
            supplier=supplier,
            supplier_role=supplier_role,
            password=None,
            is_active=False,
            by=by,
        )
    elif user.supplier_id == supplier.pk and not user.is_active:
        before = {"full_name": user.full_name, "supplier_role": user.supplier_role}
        user.full_name, user.supplier_role = full_name, supplier_role
        user.email_verified_at = None
        user.set_unusable_password()  # the earlier links die
        user.save(update_fields=["full_name", "supplier_role", "email_verified_at", "password"])
        audit.record(
            actor=by,
            action="user.invited_again",
            obj=user,
            changes={k: [v, getattr(user, k)] for k, v in before.items() if v != getattr(user, k)},
            context={"supplier": supplier.pk},
        )
    elif user.supplier_id == supplier.pk:
        raise PeopleRefused(f"{user.full_name} is already one of your organisation's people.")
    else:
        # At most one email an hour to the owner, however often someone tries.
        notify(
            events.INVITATION_ATTEMPTED.name,
            [user],
            {"supplier_name": str(supplier)},
            obj=user,
            discriminator=timezone.now().strftime("%Y-%m-%dT%H"),
        )
        return None
    link = reverse("join", args=[tokens.make_token(user, tokens.JOIN)])
    notify(
        events.COLLEAGUE_INVITED.name,
        [user],
        {"link": link, "supplier_name": str(supplier), "inviter": by.full_name, "days": 7},
        obj=user,
        discriminator=timezone.now().isoformat(),
    )
    return user


@transaction.atomic
def colleague_join(*, user: User, password: str) -> User:
    """An invited colleague chose a password: the account is ready.

    ``user`` is the person as their link found them; if anything in their
    security state changed since (the invitation withdrawn or sent again),
    it is refused."""
    checked = user
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.email_verified_at is not None:
        raise PeopleRefused("This invitation has already been used.")
    if not same_state(checked, user):
        raise PeopleRefused(
            "This invitation has been withdrawn. Ask your organisation's administrator to invite "
            "you again."
        )
    user.set_password(password)
    user.email_verified_at = timezone.now()
    user.is_active = True
    user.save(update_fields=["password", "email_verified_at", "is_active"])
    audit.record(actor=user, action="user.joined", obj=user)
    return user


@transaction.atomic
def colleague_set_role(*, user: User, supplier_role: str, by: User) -> User:
    _require_admin(by, user.supplier)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = user.supplier_role
    if before == supplier_role:
        return user
    if before == SupplierRole.ADMIN:
        _keep_an_admin(user)
    user.supplier_role = supplier_role
    user.save(update_fields=["supplier_role"])
    audit.record(
        actor=by,
        action="user.supplier_role_changed",
        obj=user,
        changes={"supplier_role": [before, supplier_role]},
    )
    return user


@transaction.atomic
def colleague_remove(*, user: User, by: User) -> User:
    """Remove a colleague: their account is switched off, its history kept.

    Their password is made unusable too, which ends their sessions and
    every link still in their inbox (an invitation not yet used, a password
    reset, an unlock link): a withdrawn invitation signs nobody in."""
    _require_admin(by, user.supplier)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.supplier_role == SupplierRole.ADMIN:
        _keep_an_admin(user)
    was_active = user.is_active
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])
    audit.record(
        actor=by,
        action="user.removed_from_supplier",
        obj=user,
        changes={"is_active": [was_active, False]},
        context={"supplier": user.supplier_id, "invitation_withdrawn": not was_active},
    )
    return user


def colleague_unlock(*, user: User, by: User) -> int:
    """An organisation administrator lifts a colleague's sign-in lock before it
    ends (audited). Returns how many failures were forgotten."""
    _require_admin(by, user.supplier)
    return lockout.unlock(user=user, by=by, how="their organisation's administrator")


def _require_admin(person: User, supplier: SupplierOrganisation | None) -> None:
    if not (
        person.is_supplier_admin and supplier is not None and person.supplier_id == supplier.pk
    ):
        raise PeopleRefused("Only your organisation's administrators can manage colleagues.")


def _keep_an_admin(user: User) -> None:
    others = User.objects.filter(
        supplier_id=user.supplier_id, supplier_role=SupplierRole.ADMIN, is_active=True
    ).exclude(pk=user.pk)
    if not others.select_for_update().exists():
        raise PeopleRefused(
            "Your organisation needs at least one administrator. Make someone else an "
            "administrator first."
        )
