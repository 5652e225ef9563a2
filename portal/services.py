"""Writes to people and buyer organisations, each through one audited function."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal import audit, events, two_factor
from portal.identity import password_reset_tokens
from portal.models import (
    AuditEvent,
    BuyerOrganisation,
    Department,
    LocalityDistrict,
    Notification,
    Role,
    User,
)
from portal.notifications import notify
from portal.postcodes import parse_districts


@transaction.atomic
def buyer_create(
    *, name: str, slug: str, identifier: str = "", contact_email: str = "", by: User | None
) -> BuyerOrganisation:
    buyer = BuyerOrganisation(
        name=name, slug=slug, identifier=identifier, contact_email=contact_email
    )
    buyer.full_clean()
    buyer.save()
    audit.record(
        actor=by,
        action="buyer.created",
        obj=buyer,
        changes={"name": [None, name], "slug": [None, slug]},
    )
    return buyer


@transaction.atomic
def department_create(*, buyer: BuyerOrganisation, name: str, by: User | None) -> Department:
    department = Department(buyer=buyer, name=name)
    department.full_clean()
    department.save()
    audit.record(
        actor=by,
        action="department.created",
        obj=department,
        changes={"name": [None, name]},
        context={"buyer": buyer.slug},
    )
    return department


@transaction.atomic
def locality_set(
    *, buyer: BuyerOrganisation, districts: str | Iterable[str], by: User | None
) -> list[str]:
    """Replace a buyer's locality with ``districts`` (a list, or text such as
    ``"BD1-BD24, BD97-BD99"``). The before and after lists are audited."""
    wanted = parse_districts(districts if isinstance(districts, str) else ",".join(districts))
    before = list(buyer.locality_districts.values_list("district", flat=True))
    if sorted(before) == sorted(wanted):
        return wanted
    buyer.locality_districts.exclude(district__in=wanted).delete()
    existing = set(before)
    LocalityDistrict.objects.bulk_create(
        LocalityDistrict(buyer=buyer, district=d) for d in wanted if d not in existing
    )
    audit.record(
        actor=by, action="buyer.locality_changed", obj=buyer, changes={"locality": [before, wanted]}
    )
    return wanted


@transaction.atomic
def user_create(
    *,
    email: str,
    full_name: str,
    role: Role | str,
    password: str | None,
    by: User | None,
    buyer: BuyerOrganisation | None = None,
    department: Department | None = None,
    supplier=None,
    supplier_role: str = "",
    is_superuser: bool = False,
    is_active: bool = True,
    email_verified: bool = False,
) -> User:
    """Create a person. Administrators get Django admin; nobody else does.

    ``is_superuser`` is for a portal-wide administrator only (it grants every
    admin permission); it is refused for any other role.
    """
    if is_superuser and role != Role.ADMIN:
        raise ValueError("Only an administrator can be a superuser.")
    user = User.objects.create_user(
        email,
        password,
        full_name=full_name,
        role=role,
        buyer=buyer,
        department=department,
        supplier=supplier,
        is_staff=role == Role.ADMIN,
        is_superuser=is_superuser,
        supplier_role=supplier_role,
        is_active=is_active,
        email_verified_at=timezone.now() if email_verified else None,
    )
    audit.record(
        actor=by,
        action="user.created",
        obj=user,
        changes={
            "email": [None, user.email],
            "role": [None, user.role],
            "is_superuser": [None, user.is_superuser],
        },
    )
    return user


@transaction.atomic
def password_changed(*, user: User, by: User, reset: bool = False, via: str = "") -> None:
    """What follows a new password for ``user`` (saved by the caller, in the
    same transaction): it is audited (``user.password_reset`` when set through
    an emailed reset link, else ``user.password_changed``), any authenticator
    still being set up is deleted (whoever had the old password may have
    seen its secret), and the person is told, in case it was not them.

    ``by`` is who set it: the person, or an administrator; ``via`` where
    ("admin" for Django admin), when not on the portal's own pages.
    """
    now = timezone.now()
    context: dict[str, object] = {}
    if via:
        context["via"] = via
    if not user.has_usable_password():
        context["password_usable"] = False  # password sign-in switched off
    deleted = two_factor.forget_pending_authenticators(user)
    if deleted:
        context["pending_authenticators_deleted"] = deleted
    audit.record(
        actor=by,
        action="user.password_reset" if reset else "user.password_changed",
        obj=user,
        context=context,
    )
    notify(
        events.PASSWORD_CHANGED.name,
        [user],
        {
            "changed_at": timezone.localtime(now).strftime("%-d %B %Y at %H:%M"),
            "by_administrator": by.pk != user.pk,
        },
        obj=user,
        discriminator=now.isoformat(),
    )


# Password reset links: at most one email to an account in RESET_WINDOW, and
# at most RESET_ADDRESS_LIMIT emails (to any accounts) asked for from one
# client address in it.
RESET_WINDOW = timedelta(minutes=15)
RESET_ADDRESS_LIMIT = 10


@transaction.atomic
def password_reset_request(*, email: str, client_address: str) -> bool:
    """Someone asks for a link to reset the password of the account ``email``
    names (compared as sign-in compares it; active, with a password): it is
    emailed (through the outbox, to the account's own address) and audited
    as ``user.password_reset_requested`` with the client address.

    Harmless when repeated: nothing is sent for an address with no such
    account, within ``RESET_WINDOW`` of the account's last link, or when
    ``client_address`` has asked for ``RESET_ADDRESS_LIMIT`` links in it.
    Returns whether a link was sent; callers must answer the same either
    way, so that the page never tells whether an address has an account.
    """
    user = User.objects.with_email(email).filter(is_active=True).select_for_update().first()
    if user is None or not user.has_usable_password():
        return False
    now = timezone.now()
    since = now - RESET_WINDOW
    if Notification.objects.filter(
        recipient=user, event=events.PASSWORD_RESET.name, created_at__gt=since
    ).exists():
        return False
    if (
        client_address
        and AuditEvent.objects.filter(
            action="user.password_reset_requested", at__gt=since, context__ip=client_address
        ).count()
        >= RESET_ADDRESS_LIMIT
    ):
        return False
    token = password_reset_tokens.make_token(user)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    sent = notify(
        events.PASSWORD_RESET.name,
        [user],
        {
            "link": reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token}),
            "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
        obj=user,
        # One link per window even if two requests race past the check above.
        discriminator=str(int(now.timestamp() // RESET_WINDOW.total_seconds())),
    )
    if not sent:
        return False
    audit.record(
        actor=None,
        action="user.password_reset_requested",
        obj=user,
        context={"ip": client_address},
    )
    return True
