"""Inviting 5,000 suppliers returns at once: bulk rows, emails later via Celery."""

from django.db import connection

from cpv.models import CpvCode
from portal.models import BuyerOrganisation, Notification, Role, User
from suppliers.models import SupplierApproval, SupplierOrganisation, SupplierSite
from tenders.services import invite, opportunity_publish
from tests.tenders_helpers import make_opportunity


def bulk_local_suppliers(n: int) -> list[SupplierOrganisation]:
    cleaning = CpvCode.objects.get(code="90910000-9")
    suppliers = SupplierOrganisation.objects.bulk_create(
        SupplierOrganisation(legal_name=f"Bulk Cleaner {i}") for i in range(n)
    )
    SupplierApproval.objects.bulk_create(
        SupplierApproval(supplier=s, buyer=buyer, status="approved")
        for s in suppliers
        for buyer in BuyerOrganisation.objects.all()
    )
    SupplierSite.objects.bulk_create(
        SupplierSite(
            supplier=s, address_line_1="1 Road", town="Bradford", postcode="BD1 1AA", district="BD1"
        )
        for s in suppliers
    )
    through = SupplierOrganisation.categories.through
    through.objects.bulk_create(
        through(supplierorganisation_id=s.pk, cpvcode_id=cleaning.pk) for s in suppliers
    )
    User.objects.bulk_create(
        User(
            email=f"bulk{s.pk}@bulk.example",
            full_name="Bulk",
            role=Role.SUPPLIER,
            supplier=s,
            supplier_role="admin",
        )
        for s in suppliers
    )
    return suppliers


def test_inviting_5000_suppliers_is_a_handful_of_statements(
    officer, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    suppliers = bulk_local_suppliers(5000)
    opportunity = make_opportunity(officer, "60000.00")
    budget = 20 if connection.vendor == "postgresql" else 120
    with django_assert_max_num_queries(budget):
        invited = invite(opportunity=opportunity, suppliers=suppliers, by=officer)
    assert invited == 5000
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        opportunity_publish(opportunity=opportunity, by=officer)
    # Publishing wrote the invitation emails and inbox copies in bulk, to be sent later.
    assert Notification.objects.filter(event="opportunity.invitation").count() == 10_000
    assert len(callbacks) == 1
