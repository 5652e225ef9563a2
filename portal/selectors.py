"""What each role's home page shows: that role's real next steps."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from portal import audit, lockout
from portal.links import url_for_pk
from portal.models import AuditEvent, BuyerOrganisation, Role, User
from portal.rawsql import reader
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.selectors import buyers_local_to, statuses_by_council
from tenders.selectors import (
    policy_in_force,
    supplier_invitations,
    supplier_invitations_among,
)

HOME_LIST_SIZE = 10


# The officer's home in one query: the supplier counts for the officer's
# council, the first suppliers waiting for its verification (local ones
# first) with the town and postcode of each site, one row per site, and the
# officer's department's name. The suppliers local to
# the council are found once (a CTE read by the count and the list alike);
# the counts come with every row, and with the one row of NULLs when nobody
# is waiting. Six queries were 4.3 ms of the page; this is one. Portable SQL
# (PostgreSQL and SQLite); parameters are always passed apart.
_OFFICER_HOME_SQL = """
WITH local AS (
  SELECT s.supplier_id FROM suppliers_suppliersite s
  WHERE s.district IN (SELECT d.district FROM portal_localitydistrict d WHERE d.buyer_id = %s)
), decided AS (
  SELECT o.id, o.legal_name, o.is_sme, o.is_vcse, o.created_at,
    COALESCE(a.status, %s) AS status
  FROM suppliers_supplierorganisation o
  LEFT JOIN suppliers_supplierapproval a ON a.supplier_id = o.id AND a.buyer_id = %s
), counts AS (
  SELECT COUNT(*) FILTER (WHERE o.status = %s) AS pending,
    COUNT(*) FILTER (WHERE o.status = %s) AS approved,
    COUNT(*) FILTER (WHERE o.status = %s AND o.id IN (SELECT supplier_id FROM local))
      AS approved_local
  FROM decided o
), pending AS (
  SELECT o.id, o.legal_name, o.is_sme, o.is_vcse, o.created_at,
    o.id IN (SELECT supplier_id FROM local) AS is_local
  FROM decided o WHERE o.status = %s
  ORDER BY 6 DESC, o.legal_name, o.id LIMIT %s
)
SELECT c.pending, c.approved, c.approved_local,
  (SELECT dep.name FROM portal_department dep WHERE dep.id = %s),
  p.id, p.legal_name, p.is_sme, p.is_vcse, p.created_at, p.is_local, s.town, s.postcode
FROM counts c LEFT JOIN pending p ON 1 = 1
LEFT JOIN suppliers_suppliersite s ON s.supplier_id = p.id
ORDER BY p.is_local DESC, p.legal_name, p.id, s.id
"""


def officer_home(user: User) -> dict[str, Any]:
    pending_status, approved = SupplierStatus.PENDING.value, SupplierStatus.APPROVED.value
    # Each council's own decisions (ADR 12): waiting means this council has not decided.
    params = [user.buyer_id, pending_status, user.buyer_id, pending_status, approved, approved]
    params += [pending_status, HOME_LIST_SIZE, user.department_id]
    with connection.cursor() as cursor:
        cursor.execute(_OFFICER_HOME_SQL, params)
        rows = cursor.fetchall()
    pending_count, approved_count, approved_local, department_name = rows[0][:4]
    created = reader(SupplierOrganisation, "created_at")
    url = url_for_pk("supplier_detail")
    # The first pending suppliers, each with ``url`` (its page), ``is_local``
    # and ``places`` ("town postcode" of each site, "; " between).
    suppliers: dict[int, SupplierOrganisation] = {}
    places: dict[int, list[str]] = {}
    for *_, pk, legal_name, is_sme, is_vcse, created_at, is_local, town, postcode in rows:
        if pk is None:
            continue
        if pk not in suppliers:
            supplier = SupplierOrganisation(
                pk=pk,
                legal_name=legal_name,
                is_sme=bool(is_sme),
                is_vcse=bool(is_vcse),
                created_at=created(created_at),
            )
            supplier.is_local = bool(is_local)
            supplier.url = url(pk)
            suppliers[pk] = supplier
            places[pk] = []
        if town is not None:
            places[pk].append(f"{town} {postcode}")
    for pk, supplier in suppliers.items():
        supplier.places = "; ".join(places[pk])
    return {
        "department_name": department_name,
        "policy": policy_in_force(user.buyer),
        "pending_suppliers": list(suppliers.values()),
        "pending_count": pending_count,
        "supplier_counts": {"approved": approved_count, "approved_local": approved_local},
    }


def supplier_home(user: User) -> dict[str, Any]:
    supplier = user.supplier
    return {
        "supplier": supplier,
        "invitations": supplier_invitations_among(
            supplier, supplier_invitations(supplier).values_list("pk", flat=True)[:HOME_LIST_SIZE]
        ),
        "sites": list(supplier.sites.all()),
        "local_to": list(buyers_local_to(supplier)),
        "councils": statuses_by_council(supplier),
        "colleagues": list(supplier.users.filter(is_active=True).order_by("full_name")),
    }


def council_events(buyer: BuyerOrganisation) -> QuerySet[AuditEvent]:
    """Audit events about one council: what its people did, what was done to
    its opportunities or to the council itself, and supplier changes (suppliers
    are shared by every council) made by the supplier or the portal. Never
    another council's own business: its people's decisions on a supplier are
    theirs (each council verifies for itself, ADR 12)."""
    from django.db.models import CharField
    from django.db.models.functions import Cast

    from tenders.models import Opportunity

    opportunities = (
        Opportunity.objects.filter(buyer=buyer).annotate(key=Cast("pk", CharField())).values("key")
    )
    return audit.visible(
        AuditEvent.objects.filter(
            Q(actor__buyer=buyer)
            | Q(object_type="tenders.opportunity", object_id__in=opportunities)
            | Q(object_type="portal.buyerorganisation", object_id=str(buyer.pk))
            | (
                Q(object_type="suppliers.supplierorganisation")
                & (Q(actor__isnull=True) | Q(actor__buyer__isnull=True))
            )
        )
    )


def auditor_home(user: User) -> dict[str, Any]:
    return {
        "policy": policy_in_force(user.buyer),
        "recent_events": list(
            council_events(user.buyer).select_related("actor").order_by("-at", "-id")[:20]
        ),
    }


# Shown to administrators: wrong passwords, wrong two-factor codes, lockouts.
FAILED_SIGN_IN_ACTIONS = (
    "user.sign_in_failed",
    "user.two_factor_failed",
    "user.locked_out",
    "address.locked_out",
)


def locked_out_now() -> list[User]:
    """The accounts locked out now, each with ``locked_until``."""
    locked = lockout.locked_accounts()
    people = list(User.objects.filter(pk__in=locked).order_by("email"))
    for person in people:
        person.locked_until = locked[person.pk]
    return people


def admin_home(user: User) -> dict[str, Any]:
    return {
        "user_counts": dict(
            User.objects.filter(is_active=True)
            .values_list("role")
            .annotate(n=Count("pk"))
            .order_by()
        ),
        "roles": Role,
        "failed_sign_ins": list(
            AuditEvent.objects.filter(action__in=FAILED_SIGN_IN_ACTIONS).order_by("-at", "-id")[:10]
        ),
        "locked_out": locked_out_now(),
        # Waiting for this council's verification; for the whole portal's
        # administrators, waiting for any council's.
        "pending_count": (
            SupplierOrganisation.objects.exclude(approvals__buyer_id=user.buyer_id)
            if user.buyer_id
            else SupplierOrganisation.objects.filter(approvals__isnull=True)
        ).count(),
    }


HOMES = {
    Role.OFFICER: ("portal/home_officer.html", officer_home),
    Role.SUPPLIER: ("portal/home_supplier.html", supplier_home),
    Role.AUDITOR: ("portal/home_auditor.html", auditor_home),
    Role.ADMIN: ("portal/home_admin.html", admin_home),
}
