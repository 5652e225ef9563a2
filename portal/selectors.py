"""What each role's home page shows: that role's real next steps."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from portal import audit
from portal.links import url_for_pk
from portal.models import AuditEvent, BuyerOrganisation, Role, User
from portal.rawsql import reader
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.selectors import buyers_local_to
from tenders.selectors import (
    policy_in_force,
    supplier_invitations,
    supplier_invitations_among,
)

HOME_LIST_SIZE = 10


# The officer's home in one query: the supplier counts, the first pending
# suppliers (local ones first) with the town and postcode of each site, one
# row per site, and the officer's department's name. The suppliers local to
# the council are found once (a CTE read by the count and the list alike);
# the counts come with every row, and with the one row of NULLs when nobody
# is waiting. Six queries were 4.3 ms of the page; this is one. Portable SQL
# (PostgreSQL and SQLite); parameters are always passed apart.
_OFFICER_HOME_SQL = """
WITH local AS (
  SELECT s.supplier_id FROM suppliers_suppliersite s
  WHERE s.district IN (SELECT d.district FROM portal_localitydistrict d WHERE d.buyer_id = %s)
), counts AS (
  SELECT COUNT(*) FILTER (WHERE o.status = %s) AS pending,
    COUNT(*) FILTER (WHERE o.status = %s) AS approved,
    COUNT(*) FILTER (WHERE o.status = %s AND o.id IN (SELECT supplier_id FROM local))
      AS approved_local
  FROM suppliers_supplierorganisation o
), pending AS (
  SELECT o.id, o.legal_name, o.is_sme, o.is_vcse, o.created_at,
    o.id IN (SELECT supplier_id FROM local) AS is_local
  FROM suppliers_supplierorganisation o WHERE o.status = %s
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
    params = [user.buyer_id, pending_status, approved, approved, pending_status]
    params += [HOME_LIST_SIZE, user.department_id]
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
        "colleagues": list(supplier.users.filter(is_active=True).order_by("full_name")),
    }


def council_events(buyer: BuyerOrganisation) -> QuerySet[AuditEvent]:
    """Audit events about one council: what its people did, what was done to
    its opportunities or to the council itself, and supplier changes (suppliers
    are shared by every council). Never another council's own business."""
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
            | Q(object_type="suppliers.supplierorganisation")
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
FAILED_SIGN_IN_ACTIONS = ("user.sign_in_failed", "user.two_factor_failed", "user.locked_out")


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
        "pending_count": SupplierOrganisation.objects.filter(status=SupplierStatus.PENDING).count(),
    }


HOMES = {
    Role.OFFICER: ("portal/home_officer.html", officer_home),
    Role.SUPPLIER: ("portal/home_supplier.html", supplier_home),
    Role.AUDITOR: ("portal/home_auditor.html", auditor_home),
    Role.ADMIN: ("portal/home_admin.html", admin_home),
}
