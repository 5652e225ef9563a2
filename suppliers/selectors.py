"""Reads of supplier data for pages and commands."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from portal.models import BuyerOrganisation, LocalityDistrict
from suppliers.models import SupplierOrganisation, SupplierSite


def is_local_to(buyer: BuyerOrganisation) -> Exists:
    """An expression: the supplier has a site in one of ``buyer``'s districts."""
    districts = LocalityDistrict.objects.filter(buyer=buyer).values("district")
    return Exists(SupplierSite.objects.filter(supplier=OuterRef("pk"), district__in=districts))


def suppliers_for_buyer(buyer: BuyerOrganisation) -> QuerySet[SupplierOrganisation]:
    """Suppliers annotated with ``is_local`` to ``buyer``, local ones first."""
    return SupplierOrganisation.objects.annotate(is_local=is_local_to(buyer)).order_by(
        "-is_local", "legal_name"
    )


def buyers_local_to(supplier: SupplierOrganisation) -> QuerySet[BuyerOrganisation]:
    """The buyer organisations whose locality includes one of the supplier's sites."""
    districts = SupplierSite.objects.filter(supplier=supplier).values("district")
    return BuyerOrganisation.objects.filter(locality_districts__district__in=districts).distinct()
