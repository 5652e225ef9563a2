"""The ledger's figures from the running totals and their cache (ADR 16):
on PostgreSQL they equal, at every moment, what grouping every payment gives
(``*_from_payments``), however the payments or the facts that place them
change, and the next request shows any change."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ledger import selectors
from ledger.models import Payee, Payment, PaymentTotal
from ledger.services.totals import rebuild_totals, verify_totals
from portal.models import LocalityDistrict, Role
from portal.services import locality_set
from suppliers.models import SupplierOrganisation, SupplierSite, SupplierStatus
from suppliers.services import supplier_set_status
from tests import ledger_figures_helpers as h
from tests.conftest import need

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql():
    """The running totals are PostgreSQL's (ADR 16): skipped on a developer's
    embedded SQLite, a failure in CI."""
    need(connection.vendor == "postgresql", "The running totals are PostgreSQL's (ADR 16).")


D = datetime.date


def _sorted(rows):
    return sorted((tuple(r) for r in rows), key=repr)


def _agree(buyer, today: datetime.date) -> None:
    """Every figure from the totals equals the grouping of every payment."""
    assert verify_totals(buyer.pk) == {}
    years = selectors.financial_years(buyer)
    assert years == sorted(
        {y for y, *_ in selectors.share_sums_from_payments(buyer, year=None, group_by="year")}
    )
    for group_by in selectors.GROUPS:
        for year in [None, *years]:
            fast = selectors.share_sums(buyer, year=year, group_by=group_by)
            slow = selectors.share_sums_from_payments(buyer, year=year, group_by=group_by)
            assert _sorted(fast) == _sorted(slow), (group_by, year)
    for day in (today, D(2026, 1, 31), D(2025, 12, 1), D(2026, 3, 15), D(2026, 2, 28)):
        since = selectors.leak_since(day)
        fast_leaks = selectors.leak_sums(buyer, since, day)
        assert _sorted(fast_leaks) == _sorted(selectors.leak_sums_from_payments(buyer, since, day))
    assert selectors.category_totals(buyer) == selectors.category_totals_from_payments(buyer)
    # The leakage page as cached equals leakage worked out now.
    shown = [
        (x.category, x.cpv_group, x.cpv_description, x.not_local, x.total, x.supplier_names)
        for x in selectors.leaks_shown(buyer, today=today)
    ]
    fresh = [
        (
            x.category,
            x.cpv_group,
            x.cpv_description,
            x.not_local,
            x.total,
            [s.legal_name for s in x.suppliers],
        )
        for x in selectors.leakage(buyer, today=today)
    ]
    assert shown == fresh


@pytest.fixture
def ledger(demo_data):
    """A varied ledger: matched local, distant and VCSE suppliers, a payee
    matched to a supplier the council has not verified, unmatched payees with
    and without postcodes (of their own, or only on some payments), credit
    notes, redacted rows, several departments, categories and CIPFA codes,
    months across two financial years and the edges of the last 12 months."""
    buyer = h.council("totals-a")
    w = type("World", (), {})()
    w.buyer = buyer
    w.officer = h.person(buyer, Role.OFFICER)
    w.local = h.supplier("Tot Local Ltd", "BD7 1AA", approved_by=[buyer], sme=True)
    w.vcse = h.supplier(
        "Tot Trust", "BD3 0ND", cpv="85310000", approved_by=[buyer], sme=False, vcse=True
    )
    w.distant = h.supplier("Tot Distant plc", "LS1 4AP", approved_by=[buyer], sme=False)
    w.unverified = h.supplier("Tot Unverified Ltd", "BD5 0AA", approved_by=[])
    w.source = h.spend_import(buyer, w.officer)
    h.mapped(buyer, "Software", "722")
    h.mapped(buyer, "Social care", "853")
    h.mapped(buyer, "Ignored", "")
    payees = {
        "local": h.payee(buyer, "Tot Local", supplier=w.local),
        "vcse": h.payee(buyer, "Tot Trust", supplier=w.vcse),
        "distant": h.payee(buyer, "Tot Distant", supplier=w.distant, postcode="BD1 1AA"),
        "unverified": h.payee(buyer, "Tot Unverified", supplier=w.unverified),
        "near": h.payee(buyer, "Corner Shop", postcode="bd9 4aa"),
        "far": h.payee(buyer, "Far Shop", postcode="M1 1AE"),
        "bare": h.payee(buyer, "Mystery Trader"),
        "short": h.payee(buyer, "Odd Postcode"),
    }
    w.payees = payees
    today = timezone.localdate()
    w.today = today
    days = [
        today,
        today - datetime.timedelta(days=3),
        selectors.leak_since(today),
        selectors.leak_since(today) - datetime.timedelta(days=1),
        D(2025, 3, 31),
        D(2025, 4, 1),
        D(2025, 12, 7),
        D(2025, 12, 31),
        D(2026, 1, 1),
        D(2026, 2, 28),
        D(2026, 3, 1),
    ]
    amounts = ["100.00", "-40.01", "2500.55", "0.01", "-0.01"]
    categories = [
        ("Software", ""),
        ("", "Social care"),
        ("Social care", "X1"),
        ("", ""),
        ("Ignored", ""),
    ]
    departments = ["", "Children's Services", "Place"]
    postcodes = ["", "BD4 7AA", "LS2 9JT", "AB", "bd4 7aa"]
    n = 0
    for day in days:
        for key, to in [*payees.items(), ("redacted", None)]:
            n += 1
            category, cipfa = categories[n % len(categories)]
            h.pay(
                w.source,
                to,
                amounts[n % len(amounts)],
                day,
                category=category,
                cipfa=cipfa,
                department=departments[n % len(departments)],
                postcode=postcodes[n % len(postcodes)]
                if key in ("bare", "short", "unverified")
                else "",
            )
    return w


def test_the_totals_equal_every_payment_grouped(ledger):
    _agree(ledger.buyer, ledger.today)
    assert (
        PaymentTotal.objects.filter(buyer=ledger.buyer).count()
        < Payment.objects.filter(buyer=ledger.buyer).count()
    )


def test_each_fact_that_places_a_payment_shows_on_the_next_read(ledger):
    w = ledger
    _agree(w.buyer, w.today)  # everything cached
    changes = [
        # The council verifies the supplier it had not: placed by its sites now.
        lambda: supplier_set_status(
            supplier=w.unverified,
            buyer=w.buyer,
            status=SupplierStatus.APPROVED,
            reason="ok",
            by=None,
        ),
        # …and suspends a local one.
        lambda: supplier_set_status(
            supplier=w.local, buyer=w.buyer, status=SupplierStatus.SUSPENDED, reason="no", by=None
        ),
        # A supplier's site moves into the district; another's leaves it.
        lambda: SupplierSite.objects.filter(supplier=w.distant).update(district="BD2"),
        lambda: SupplierSite.objects.filter(supplier=w.vcse).update(district="HX1"),
        # The council's locality changes.
        lambda: locality_set(buyer=w.buyer, districts="BD1-BD3, LS2, M1", by=None),
        # A supplier's SME and VCSE flags.
        lambda: SupplierOrganisation.objects.filter(pk=w.distant.pk).update(is_sme=True),
        lambda: SupplierOrganisation.objects.filter(pk=w.vcse.pk).update(is_vcse=False),
        # A local supplier renamed; its categories of work changed (the leaks list them).
        lambda: SupplierOrganisation.objects.filter(pk=w.local.pk).update(
            legal_name="Tot Local Renamed Ltd"
        ),
        lambda: w.local.categories.clear(),
        # A payee matched, another unmatched, a postcode learnt.
        lambda: Payee.objects.filter(pk=w.payees["bare"].pk).update(supplier=w.local),
        lambda: Payee.objects.filter(pk=w.payees["local"].pk).update(supplier=None),
        lambda: Payee.objects.filter(pk=w.payees["short"].pk).update(postcode="LS2 1AB"),
        # A category mapped, another unmapped.
        lambda: h.mapped(w.buyer, "X1", "909"),
        lambda: w.buyer.locality_districts.filter(district="LS2").delete(),
        # Payments added, changed and deleted.
        lambda: h.pay(w.source, w.payees["far"], "77.70", w.today, category="Software"),
        lambda: Payment.objects.filter(buyer=w.buyer, amount=Decimal("0.01")).update(
            amount=Decimal("0.02"), department="Moved"
        ),
        lambda: Payment.objects.filter(buyer=w.buyer, payee=w.payees["near"]).delete(),
    ]
    for change in changes:
        change()
        _agree(w.buyer, w.today)


def test_the_figures_change_when_a_supplier_is_verified(ledger):
    """The dashboard's numbers, not only the sums: the next read shows it."""
    w = ledger
    first = selectors.real_local_share(w.buyer).whole
    supplier_set_status(
        supplier=w.unverified, buyer=w.buyer, status=SupplierStatus.APPROVED, reason="ok", by=None
    )
    second = selectors.real_local_share(w.buyer).whole
    assert second.amounts != first.amounts
    assert second.total == first.total


def test_rebuild_repairs_the_totals(ledger):
    w = ledger
    PaymentTotal.objects.filter(buyer=w.buyer).update(amount=Decimal("1.00"))
    assert verify_totals(w.buyer.pk) != {}
    rebuild_totals(w.buyer.pk)
    assert verify_totals(w.buyer.pk) == {}
    _agree(w.buyer, w.today)


def test_the_triggers_are_in_place():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tgname, c.relname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE tgname LIKE 'ledger_%%'"
        )
        found = {(name, table) for name, table in cursor.fetchall()}
    for table in (
        "ledger_payee",
        "ledger_categorymapping",
        "portal_localitydistrict",
        "suppliers_supplierapproval",
        "suppliers_suppliersite",
        "suppliers_supplierorganisation",
        "cpv_cpvcode",
        "cpv_cpvsynonym",
        "suppliers_supplierorganisation_categories",
    ):
        assert ("ledger_figures_bump", table) in found
    assert ("ledger_figures_bump_names", "suppliers_supplierorganisation") in found
    for event in ("insert", "update", "delete", "truncate"):
        assert (f"ledger_payment_totals_{event}", "ledger_payment") in found


def test_a_cached_read_is_one_query_and_a_change_recomputes(ledger):
    w = ledger
    selectors.share_sums(w.buyer, year=None, group_by="year")
    with CaptureQueriesContext(connection) as warm:
        selectors.share_sums(w.buyer, year=None, group_by="year")
    assert len(warm) == 1
    LocalityDistrict.objects.filter(buyer=w.buyer, district="BD7").delete()
    with CaptureQueriesContext(connection) as cold:
        selectors.share_sums(w.buyer, year=None, group_by="year")
    assert len(cold) == 3
