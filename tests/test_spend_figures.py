"""The council's figures from its whole ledger (issue 18, items 4–6): the
real local share, where it leaks with one click to a pre-filled draft, and
the network of councils that opted in to share their figures."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ledger import selectors
from ledger.models import CategoryMapping, NetworkShare
from ledger.services.figures import (
    FiguresRefused,
    category_map,
    draft_from_leak,
    network_share_set,
)
from ledger.services.payees import payee_confirm
from portal.models import AuditEvent, Role
from suppliers.models import SupplierApproval, SupplierStatus
from suppliers.services import supplier_set_status
from tenders.models import Invitation, Opportunity, OpportunityStatus, Route, SpendTotal
from tests import ledger_figures_helpers as h
from tests.two_factor_helpers import verified_force_login

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def world(demo_data):
    """A council of its own (BD1-BD24) with an officer, an auditor, an
    administrator, and a local, a distant and a local-VCSE supplier."""
    buyer = h.council("figures-a")
    w = type("World", (), {})()
    w.buyer = buyer
    w.officer = h.person(buyer, Role.OFFICER)
    w.auditor = h.person(buyer, Role.AUDITOR)
    w.admin = h.person(buyer, Role.ADMIN)
    w.local = h.supplier("Fig Local Engineers Ltd", "BD7 1AA", approved_by=[buyer], sme=True)
    w.vcse = h.supplier(
        "Fig Community Trust", "BD3 0ND", cpv="85310000", approved_by=[buyer], sme=False, vcse=True
    )
    w.distant = h.supplier("Fig Distant Engineers plc", "LS1 4AP", approved_by=[buyer], sme=False)
    w.source = h.spend_import(buyer, w.officer)
    return w


def _client(user) -> Client:
    client = verified_force_login(Client())
    client.force_login(user)
    return client


# --- The share arithmetic ------------------------------------------------------


def test_shares_net_of_credit_notes_to_the_penny(world):
    w = world
    day = D(2025, 6, 10)
    local = h.payee(w.buyer, "Fig Local Engineers", supplier=w.local)
    distant = h.payee(w.buyer, "Fig Distant Engineers", supplier=w.distant)
    h.pay(w.source, local, "1000.01", day)
    h.pay(w.source, local, "-200.00", day)  # a credit note subtracts
    h.pay(w.source, distant, "500.50", day)
    h.pay(w.source, None, "99.49", day)  # redacted
    figures = selectors.real_local_share(w.buyer)
    whole = figures.whole
    assert whole.total == Decimal("1400.00")
    assert whole.amounts == {
        "local": Decimal("800.01"),
        "not_local": Decimal("500.50"),
        "unknown": Decimal("0.00"),
        "redacted": Decimal("99.49"),
    }
    assert whole.local_share == Decimal("57.1")  # 800.01 / 1400.00
    assert whole.not_local_share == Decimal("35.8")
    assert whole.redacted_share == Decimal("7.1")
    [year] = figures.rows
    assert (year.key, year.label, year.total) == (2025, "2025–26", Decimal("1400.00"))
    assert (year.target, year.goal) == (Decimal("40.00"), Decimal("60.00"))
    assert year.met_target is True


def test_unknown_is_never_local_and_has_its_own_share(world):
    w = world
    day = D(2025, 5, 1)
    # Unmatched, no postcode anywhere: unknown, even with a local-sounding name.
    nobody = h.payee(w.buyer, "Bradford Local Plumbing")
    h.pay(w.source, nobody, "300.00", day)
    h.pay(w.source, h.payee(w.buyer, "Fig Local", supplier=w.local), "100.00", day)
    whole = selectors.real_local_share(w.buyer).whole
    assert whole.amounts["unknown"] == Decimal("300.00")
    assert whole.amounts["local"] == Decimal("100.00")
    assert whole.unknown_share == Decimal("75.0")
    assert whole.local_share == Decimal("25.0")
    page = _client(w.officer).get(reverse("ledger:dashboard")).content.decode()
    assert 'data-kind="unknown">75.0%' in page
    assert 'data-kind="local">25.0%' in page


def test_an_unmatched_payee_is_placed_by_the_postcode_in_the_file(world):
    w = world
    day = D(2025, 7, 1)
    h.pay(w.source, h.payee(w.buyer, "Payee In Area", postcode="bd7 1aa"), "10.00", day)
    h.pay(w.source, h.payee(w.buyer, "Payee Compact", postcode="BD243XX"), "20.00", day)
    h.pay(w.source, h.payee(w.buyer, "Payee Outside", postcode="LS1 4AP"), "40.00", day)
    # No postcode on the payee, but one on the payment's row.
    h.pay(w.source, h.payee(w.buyer, "Payee Row"), "80.00", day, postcode="BD1 1HY")
    # BD25 is not in BD1-BD24.
    h.pay(w.source, h.payee(w.buyer, "Payee Near"), "160.00", day, postcode="BD25 1AA")
    whole = selectors.real_local_share(w.buyer).whole
    assert whole.amounts["local"] == Decimal("110.00")
    assert whole.amounts["not_local"] == Decimal("200.00")
    assert whole.amounts["unknown"] == Decimal("0.00")


def test_a_payments_own_postcode_comes_before_the_one_its_payee_was_first_given(world):
    """A payee keeps the first postcode a file gave it (BD, local). A later
    payment to it at a Manchester postcode is not local; one with no postcode
    of its own is placed by the payee's. The network page, for a council that
    shares, gives the same share as the council's own dashboard, also for a
    payee matched to a supplier the council has not verified."""
    w = world
    day = D(2025, 7, 1)
    moved = h.payee(w.buyer, "Payee Moved", postcode="BD1 1AA")
    h.pay(w.source, moved, "10.00", day, postcode="M1 1AA")
    h.pay(w.source, moved, "20.00", day)
    unverified = h.supplier("Fig Unverified Electrical Ltd", "BD8 0AA")
    h.pay(
        w.source,
        h.payee(w.buyer, "Fig Unverified", supplier=unverified),
        "70.00",
        day,
        postcode="BD8 0AA",
    )
    whole = selectors.real_local_share(w.buyer).whole
    assert whole.amounts["not_local"] == Decimal("10.00")
    assert whole.amounts["local"] == Decimal("90.00")
    network_share_set(buyer=w.buyer, shared=True, by=w.admin)
    [row] = [r for r in selectors.network(2025) if r.buyer_id == w.buyer.pk]
    assert row.local_share == whole.local_share == Decimal("90.0")


def test_a_matched_payee_is_placed_by_its_supplier_not_by_the_file(world):
    w = world
    # The file says BD, but the supplier's verified site is in Leeds.
    distant = h.payee(w.buyer, "Fig Distant", supplier=w.distant, postcode="BD1 1AA")
    h.pay(w.source, distant, "50.00", D(2025, 7, 1))
    assert selectors.real_local_share(w.buyer).whole.amounts["not_local"] == Decimal("50.00")


def test_redacted_counts_in_the_totals_only(world):
    w = world
    h.pay(w.source, None, "250.00", D(2025, 4, 2), postcode="BD1 1AA")
    h.pay(w.source, h.payee(w.buyer, "Fig Local", supplier=w.local), "250.00", D(2025, 4, 2))
    whole = selectors.real_local_share(w.buyer).whole
    assert whole.total == Decimal("500.00")
    assert whole.amounts["redacted"] == Decimal("250.00")
    assert whole.local_share == Decimal("50.0")  # never local, though the row has a BD postcode
    assert whole.verified == Decimal("250.00")  # never matched
    assert whole.sme_share == Decimal("100.0")


def test_sme_and_vcse_shares_are_of_verified_spend(world):
    w = world
    day = D(2025, 8, 1)
    h.pay(w.source, h.payee(w.buyer, "Fig Local", supplier=w.local), "100.00", day)  # SME
    h.pay(w.source, h.payee(w.buyer, "Fig Trust", supplier=w.vcse), "100.00", day)  # VCSE
    h.pay(w.source, h.payee(w.buyer, "Fig Distant", supplier=w.distant), "200.00", day)
    h.pay(w.source, h.payee(w.buyer, "Unmatched"), "600.00", day)  # not in the base
    whole = selectors.real_local_share(w.buyer).whole
    assert whole.verified == Decimal("400.00")
    assert whole.sme_share == Decimal("25.0")
    assert whole.vcse_share == Decimal("25.0")
    assert whole.local_share == Decimal("20.0")  # of all 1,000.00


def test_a_supplier_counts_as_sme_or_vcse_only_once_the_council_approves_it(world):
    """A supplier that says it is a VCSE, matched to a payee by an officer,
    is not counted as one (nor in the base of the shares) while the council
    has not approved it; approved, it is; suspended, it is not again. The
    dashboard, its CSV and the network page show each change at once."""
    w = world
    day = D(2025, 12, 1)
    h.pay(w.source, h.payee(w.buyer, "Fig Local", supplier=w.local), "100.00", day)  # SME
    h.pay(w.source, h.payee(w.buyer, "Fig Trust", supplier=w.vcse), "100.00", day)  # VCSE
    h.pay(w.source, h.payee(w.buyer, "Fig Distant", supplier=w.distant), "200.00", day)
    claimed = h.supplier("Fig Self Declared Trust", "LS2 9JT", sme=True, vcse=True)
    payee = h.payee(w.buyer, "Fig Self Declared Trust")
    h.pay(w.source, payee, "400.00", day)
    network_share_set(buyer=w.buyer, shared=True, by=w.admin)
    dashboard = _client(w.officer)

    def shares():
        whole = selectors.real_local_share(w.buyer).whole
        month = selectors.real_local_share(w.buyer, year=2025, group_by="month").rows[-1]
        [network] = [r for r in selectors.network(2025) if r.buyer_id == w.buyer.pk]
        assert (month.sme_share, month.vcse_share) == (whole.sme_share, whole.vcse_share)
        assert (network.sme_share, network.vcse_share) == (whole.sme_share, whole.vcse_share)
        return whole.verified, whole.sme_share, whole.vcse_share

    before = shares()
    assert before == (Decimal("400.00"), Decimal("25.0"), Decimal("25.0"))
    payee_confirm(payee=payee, supplier=claimed, by=w.officer)
    assert shares() == before  # matched, but what it says of itself is not checked
    page = dashboard.get(reverse("ledger:dashboard")).content.decode()
    assert "62.5%" not in page
    supplier_set_status(
        supplier=claimed, buyer=w.buyer, status=SupplierStatus.APPROVED, reason="ok", by=None
    )
    # 500 of 800 with verified suppliers is SME, 500 VCSE.
    assert shares() == (Decimal("800.00"), Decimal("62.5"), Decimal("62.5"))
    assert "62.5%" in dashboard.get(reverse("ledger:dashboard")).content.decode()
    supplier_set_status(
        supplier=claimed, buyer=w.buyer, status=SupplierStatus.SUSPENDED, reason="no", by=None
    )
    assert shares() == before
    response = dashboard.get(reverse("ledger:dashboard_csv"))
    exported = b"".join(response.streaming_content).decode("utf-8-sig")
    [header, *_rows, whole] = list(csv.reader(io.StringIO(exported)))
    at = header.index("VCSEs, of verified (%)")
    assert (whole[at - 2], whole[at]) == ("400.00", "25.0")


def test_the_financial_year_turns_on_1_april(world):
    w = world
    local = h.payee(w.buyer, "Fig Local", supplier=w.local)
    h.pay(w.source, local, "31.03", D(2025, 3, 31))
    h.pay(w.source, local, "1.04", D(2025, 4, 1))
    figures = selectors.real_local_share(w.buyer)
    assert [(r.key, r.total) for r in figures.rows] == [
        (2024, Decimal("31.03")),
        (2025, Decimal("1.04")),
    ]
    assert figures.years == [2024, 2025]
    only = selectors.real_local_share(w.buyer, year=2024)
    assert only.whole.total == Decimal("31.03")
    by_month = selectors.real_local_share(w.buyer, group_by="month")
    assert [r.label for r in by_month.rows] == ["March 2025", "April 2025"]


def test_grouped_by_department_and_category(world):
    w = world
    local = h.payee(w.buyer, "Fig Local", supplier=w.local)
    day = D(2025, 9, 9)
    h.pay(w.source, local, "10.00", day, department="Highways", category="Road repairs")
    h.pay(w.source, local, "30.00", day, department="Parks", cipfa="CIPFA-77")
    by_department = selectors.real_local_share(w.buyer, group_by="department")
    assert [(r.label, r.total) for r in by_department.rows] == [
        ("Parks", Decimal("30.00")),
        ("Highways", Decimal("10.00")),
    ]
    by_category = selectors.real_local_share(w.buyer, group_by="category")
    # No procurement category: the CIPFA code stands in.
    assert [r.label for r in by_category.rows] == ["CIPFA-77", "Road repairs"]


def test_the_portal_awards_figure_stands_beside(world):
    """The local share of value awarded through the portal (the running totals
    the contracts keep), beside the real share of all spending."""
    w = world
    fig_local = h.payee(w.buyer, "Fig Local", supplier=w.local)
    h.pay(w.source, fig_local, "10.00", D(2025, 9, 9))
    for division, value, local in (("90", "600.00", "100.00"), ("72", "200.00", "0.00")):
        SpendTotal.objects.create(
            buyer=w.buyer,
            financial_year=2025,
            cpv_division=division,
            value=Decimal(value),
            count=1,
            local_value=Decimal(local),
            sme_value=Decimal(0),
            vcse_value=Decimal(0),
        )
    [row] = selectors.real_local_share(w.buyer).rows
    assert row.awards_local_share == Decimal("12.5")  # 100 of 800
    assert row.local_share == Decimal("100.0")
    # Another year, all local: every year's figure is of every year's value.
    h.pay(w.source, fig_local, "10.00", D(2026, 9, 9))
    SpendTotal.objects.create(
        buyer=w.buyer,
        financial_year=2026,
        cpv_division="90",
        value=Decimal("200.00"),
        count=1,
        local_value=Decimal("200.00"),
        sme_value=Decimal(0),
        vcse_value=Decimal(0),
    )
    figures = selectors.real_local_share(w.buyer)
    assert [r.awards_local_share for r in figures.rows] == [Decimal("12.5"), Decimal("100.0")]
    assert figures.whole.awards_local_share == Decimal("30.0")  # 300 of 1,000, not 2026's
    assert selectors.real_local_share(w.buyer, year=2026).whole.awards_local_share == Decimal(
        "100.0"
    )


# --- Pages and CSV -------------------------------------------------------------


def test_dashboard_page_filters_and_csv(world):
    w = world
    local = h.payee(w.buyer, "Fig Local", supplier=w.local)
    h.pay(w.source, local, "100.00", D(2024, 6, 1), department="=cmd()")
    h.pay(w.source, h.payee(w.buyer, "Nobody"), "300.00", D(2025, 6, 1), department="Parks")
    client = _client(w.auditor)
    page = client.get(reverse("ledger:dashboard"), {"year": "2025", "group_by": "department"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Parks" in text and "=cmd()" not in text
    assert "<svg" in text
    bad = client.get(reverse("ledger:dashboard"), {"year": "1999", "group_by": "zzz"})
    assert "Select a financial year from the list" in bad.content.decode()
    # Its CSV link is of the figures shown (every year), never of the refused filter.
    csv_link = bad.context["csv_query"]
    assert "1999" not in csv_link and "zzz" not in csv_link
    assert client.get(reverse("ledger:dashboard_csv") + f"?{csv_link}").status_code == 200
    shown = client.get(reverse("ledger:dashboard"), {"year": "2025", "group_by": "department"})
    assert shown.context["csv_query"] == "year=2025&group_by=department"
    response = client.get(reverse("ledger:dashboard_csv"), {"group_by": "department"})
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:4] == ["Group", "Net spend (£)", "Local (£)", "Local (%)"]
    assert rows[1][:2] == ["Parks", "300.00"]
    assert rows[1][6:8] == ["300.00", "100.0"]  # unknown
    assert rows[2][0] == "'=cmd()"  # never a formula
    assert rows[-1][:4] == ["All", "400.00", "100.00", "25.0"]
    # The policy's target and goal as a person writes them (not "4E+1").
    header = rows[0]
    target, goal = header.index("Target, local share (%)"), header.index("Goal, local share (%)")
    assert {(row[target], row[goal]) for row in rows[1:]} <= {("40", "60"), ("", "")}
    assert rows[-1][target] != ""
    assert client.get(reverse("ledger:dashboard_csv"), {"group_by": "ward"}).status_code == 400


# --- Where it leaks ---------------------------------------------------------------


def _leaking(w, today=None):
    """Software (722) leaks £900 while two local suppliers offer it;
    cleaning (909) leaks £5,000 but no local supplier of this council offers it;
    printing (798) leaks £300 to an approved, local supplier's rival."""
    today = today or timezone.localdate()
    recent = today - datetime.timedelta(days=30)
    old = today - datetime.timedelta(days=400)
    distant = h.payee(w.buyer, "Fig Distant", supplier=w.distant)
    h.mapped(w.buyer, "Software consultancy", "722")
    h.mapped(w.buyer, "Cleaning", "909")
    h.mapped(w.buyer, "Printing", "798")
    h.pay(w.source, distant, "1000.00", recent, category="Software consultancy")
    h.pay(w.source, distant, "-100.00", recent, category="Software consultancy")
    h.pay(w.source, distant, "7777.00", old, category="Software consultancy")  # too old
    h.pay(
        w.source,
        h.payee(w.buyer, "Fig Local", supplier=w.local),
        "250.00",
        recent,
        category="Software consultancy",
    )
    h.pay(w.source, distant, "5000.00", recent, category="Cleaning")
    h.pay(
        w.source,
        h.payee(w.buyer, "Print Far", postcode="M1 1AA"),
        "300.00",
        recent,
        cipfa="Printing",
    )
    second = h.supplier(
        "Fig Second Engineers Ltd", "BD9 5AB", cpv="72200000", approved_by=[w.buyer]
    )
    architect = h.supplier("Fig Printers Ltd", "BD1 5AE", cpv="79810000", approved_by=[w.buyer])
    # Local but not approved by this council: never listed.
    h.supplier("Fig Unapproved Engineers", "BD2 1AA")
    return second, architect


def test_leakage_ranks_only_where_local_suppliers_exist(world):
    w = world
    _second, architect = _leaking(w)
    leaks = selectors.leakage(w.buyer)
    assert [(x.category, x.cpv_group, x.not_local, x.total) for x in leaks] == [
        ("Software consultancy", "722", Decimal("900.00"), Decimal("1150.00")),
        ("Printing", "798", Decimal("300.00"), Decimal("300.00")),
    ]
    assert [s.legal_name for s in leaks[0].suppliers] == [
        "Fig Local Engineers Ltd",
        "Fig Second Engineers Ltd",
    ]
    assert [s.pk for s in leaks[1].suppliers] == [architect.pk]
    page = _client(w.officer).get(reverse("ledger:leakage")).content.decode()
    assert page.index("Software consultancy") < page.index("Printing")
    assert "Start a draft opportunity" in page
    assert "Fig Unapproved Engineers" not in page
    auditor_page = _client(w.auditor).get(reverse("ledger:leakage")).content.decode()
    assert "Fig Second Engineers Ltd" in auditor_page
    assert "Start a draft opportunity" not in auditor_page


def test_a_draft_from_a_leak_is_pre_filled_and_routed_by_the_rule(world):
    w = world
    _leaking(w)
    response = _client(w.officer).post(
        reverse("ledger:leak_draft"), {"category": "Software consultancy"}
    )
    opportunity = Opportunity.objects.get(buyer=w.buyer)
    assert response.status_code == 302
    assert response["Location"] == reverse("tenders:opportunity_detail", args=[opportunity.pk])
    assert opportunity.status == OpportunityStatus.DRAFT
    assert opportunity.title == "Software consultancy"
    assert opportunity.cpv.digits.startswith("722")
    assert opportunity.cpv.digits == selectors.group_code("722").digits
    [lot] = opportunity.lots.all()
    assert lot.estimated_value == Decimal("1150.00")  # the last 12 months, credit note and all
    assert sorted(opportunity.criteria.values_list("name", "weight")) == [
        ("Price", 40),
        ("Quality", 60),
    ]
    assert opportunity.submission_deadline > opportunity.clarification_deadline > timezone.now()
    invited = set(
        Invitation.objects.filter(opportunity=opportunity).values_list(
            "supplier__legal_name", flat=True
        )
    )
    assert invited == {"Fig Local Engineers Ltd", "Fig Second Engineers Ltd"}
    assert opportunity.route == Route.INVITATION
    assert AuditEvent.objects.filter(
        action="ledger.draft_from_leak", object_id=str(opportunity.pk)
    ).exists()


def test_a_draft_over_the_threshold_still_exists_and_says_full_tender(demo_data):
    buyer = h.council("figures-big", threshold="1000.00")
    officer = h.person(buyer)
    local = h.supplier("Big Local Engineers Ltd", "BD7 1AA", approved_by=[buyer])
    distant = h.supplier("Big Distant Engineers plc", "LS1 4AP", approved_by=[buyer])
    source = h.spend_import(buyer, officer)
    h.mapped(buyer, "Software", "722")
    day = timezone.localdate() - datetime.timedelta(days=10)
    h.pay(
        source, h.payee(buyer, "Big Distant", supplier=distant), "1000.00", day, category="Software"
    )
    opportunity = draft_from_leak(buyer=buyer, category="Software", by=officer)
    assert opportunity.status == OpportunityStatus.DRAFT
    assert opportunity.route == Route.FULL_TENDER
    assert opportunity.lots.get().estimated_value == Decimal("1000.00")
    assert list(opportunity.invitations.values_list("supplier_id", flat=True)) == [local.pk]
    page = _client(officer).get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    assert "Full tender required" in page.content.decode()


def test_no_draft_where_nothing_leaks(world):
    w = world
    _leaking(w)
    with pytest.raises(FiguresRefused, match="no longer leaks"):
        draft_from_leak(buyer=w.buyer, category="Cleaning", by=w.officer)
    response = _client(w.officer).post(reverse("ledger:leak_draft"), {"category": "Cleaning"})
    assert response.status_code == 200
    assert "no longer leaks" in response.content.decode()
    assert not Opportunity.objects.filter(buyer=w.buyer).exists()


def test_categories_are_suggested_then_confirmed(world):
    w = world
    assert selectors.suggest_cpv_group("Cleaning services") == "909"
    assert selectors.suggest_cpv_group("Xqzzy wibble") == ""
    h.pay(
        w.source, h.payee(w.buyer, "Anyone"), "10.00", D(2025, 5, 5), category="Cleaning services"
    )
    [row] = selectors.category_page(w.buyer).object_list
    assert (row.category, row.suggestion, row.confirmed) == ("Cleaning services", "909", False)
    client = _client(w.officer)
    bad = client.post(
        reverse("ledger:category_mappings"), {"category": "Cleaning services", "cpv_group": "9x9"}
    )
    assert bad.status_code == 200
    assert 'value="9x9"' in bad.content.decode()  # what was typed is kept
    assert not CategoryMapping.objects.filter(buyer=w.buyer).exists()
    good = client.post(
        reverse("ledger:category_mappings"), {"category": "Cleaning services", "cpv_group": "909"}
    )
    assert good.status_code == 302
    mapping = CategoryMapping.objects.get(buyer=w.buyer, category="Cleaning services")
    assert (mapping.cpv_group, mapping.confirmed_by) == ("909", w.officer)
    assert AuditEvent.objects.filter(
        action="ledger.category_mapped", object_id=str(mapping.pk)
    ).exists()
    category_map(buyer=w.buyer, category="Cleaning services", cpv_group="", by=w.officer)
    mapping.refresh_from_db()
    assert mapping.cpv_group == ""
    with pytest.raises(FiguresRefused):
        category_map(buyer=w.buyer, category="Cleaning services", cpv_group="909", by=w.auditor)


def test_the_categories_are_paged_largest_first(world):
    w = world
    payee = h.payee(w.buyer, "Anyone")
    for n in range(1, 23):
        h.pay(w.source, payee, f"{n}.00", D(2025, 5, 5), category=f"Category {n:02d}")
    first = selectors.category_page(w.buyer)
    assert [r.category for r in first.object_list][:2] == ["Category 22", "Category 21"]
    assert len(first.object_list) == 20
    page = _client(w.officer).get(reverse("ledger:leakage"), {"page": "2"}).content.decode()
    assert "Category 01" in page and "Category 22" not in page
    # A mistake on page 2 keeps that page, and what was typed in its row only.
    response = _client(w.officer).post(
        reverse("ledger:category_mappings"),
        {"category": "Category 02", "cpv_group": "12", "page": "2"},
    )
    text = response.content.decode()
    assert "Category 01" in text and 'value="12"' in text
    assert text.count('value="12"') == 1


def test_suggestions_name_their_group_and_skip_what_is_not_procurement(world):
    """A suggested or confirmed CPV group shows with its name ("341 Motor
    vehicles"); a category whose words say it is not procurement gets no
    suggestion; and a category whose words each point at another group
    ("Energy and Utilities": "Utility vehicles", 341, and "Energy meters",
    385) gets none rather than the longest word's guess."""
    from cpv.services import cpv_load

    w = world
    # Codes the words find (with their groups, "Motor vehicles" and others).
    cpv_load(only=["34144700", "38551000", "66115000", "22130000", "75310000"])
    day = D(2025, 5, 5)
    categories = [
        "Energy and Utilities",
        "Utilities",
        "Direct Payments",
        "Grants to Voluntary Organisations",
        "Housing Benefits",
        "Cleaning services",
        "Software",
    ]
    anyone = h.payee(w.buyer, "Anyone")
    for n, category in enumerate(categories):
        h.pay(w.source, anyone, f"{100 - n}.00", day, category=category)
    category_map(buyer=w.buyer, category="Software", cpv_group="722", by=w.officer)
    rows = {row.category: row for row in selectors.category_page(w.buyer).object_list}
    shown = {cat: (row.suggestion, row.suggestion_name) for cat, row in rows.items()}
    assert shown == {
        "Energy and Utilities": ("", ""),
        "Utilities": ("341", "Motor vehicles"),
        "Direct Payments": ("", ""),
        "Grants to Voluntary Organisations": ("", ""),
        "Housing Benefits": ("", ""),
        "Cleaning services": ("909", "Cleaning and sanitation services"),
        "Software": ("", ""),  # confirmed
    }
    assert rows["Software"].group_name == "Software programming and consultancy services"
    assert [cat for cat, row in rows.items() if row.not_procurement] == [
        "Direct Payments",
        "Grants to Voluntary Organisations",
        "Housing Benefits",
    ]
    page = _client(w.officer).get(reverse("ledger:leakage")).content.decode()
    assert "Suggested</strong> 341 Motor vehicles" in page
    assert "Confirmed</strong> 722 Software programming and consultancy services" in page
    assert page.count("its words say it is not procurement") == 3


@pytest.mark.parametrize(
    ("category", "procurement"),
    [
        ("Grants to Voluntary Organisations", False),
        ("Direct Payments", False),
        ("Housing Benefit", False),
        ("Pensions", False),
        ("Council Tax Refunds", False),
        ("Levies", False),
        ("Transfer payments", False),
        ("Salaries and wages", False),
        ("Taxi services", True),
        ("Payments to contractors", True),
        ("Energy and Utilities", True),
    ],
)
def test_the_words_that_say_a_category_is_not_procurement(category, procurement):
    assert selectors.is_not_procurement(category) is not procurement


def test_the_groups_names_cost_no_query_per_row(world, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = world
    day = D(2025, 5, 5)
    anyone = h.payee(w.buyer, "Anyone")
    for n in range(5):
        h.pay(w.source, anyone, "10.00", day, category=f"Software {n}")
        category_map(buyer=w.buyer, category=f"Software {n}", cpv_group="722", by=w.officer)
    selectors.category_page(w.buyer)  # cached on PostgreSQL
    with CaptureQueriesContext(connection) as five:
        rows = selectors.category_page(w.buyer).object_list
    assert {row.group_name for row in rows} == {"Software programming and consultancy services"}
    h.pay(w.source, anyone, "10.00", day, category="Software 5")
    category_map(buyer=w.buyer, category="Software 5", cpv_group="853", by=w.officer)
    selectors.category_page(w.buyer)
    with django_assert_num_queries(len(five.captured_queries)):
        rows = selectors.category_page(w.buyer).object_list
    assert len(rows) == 6 and rows[-1].group_name.startswith("Social work")


# --- The network ----------------------------------------------------------------


def test_the_network_shows_only_councils_that_opted_in(world):
    w = world
    other = h.council("figures-b", "LS1-LS29")
    other_admin = h.person(other, Role.ADMIN)
    other_source = h.spend_import(other, other_admin)
    day = D(2025, 6, 1)
    h.pay(w.source, h.payee(w.buyer, "Fig Local", supplier=w.local), "100.00", day)
    # Leeds is local to B: the same distant supplier counts as local there, once
    # B has verified it (what a supplier says of itself does not count).
    SupplierApproval.objects.create(supplier=w.distant, buyer=other, status=SupplierStatus.APPROVED)
    h.pay(other_source, h.payee(other, "Fig Distant", supplier=w.distant), "30.00", day)
    h.pay(other_source, h.payee(other, "Someone", postcode="BD1 1AA"), "70.00", day)
    network_share_set(buyer=w.buyer, shared=True, by=w.admin)
    rows = {r.name: r for r in selectors.network(2025)}
    assert "Figures-B Council" not in rows
    assert rows["Figures-A Council"].local_share == Decimal("100.0")
    page = _client(w.officer).get(reverse("ledger:network"), {"year": "2025"}).content.decode()
    assert "Figures-B Council" not in page
    network_share_set(buyer=other, shared=True, by=other_admin)
    rows = {r.name: r for r in selectors.network(2025)}
    assert rows["Figures-B Council"].local_share == Decimal("30.0")
    assert rows["Figures-B Council"].sme_share == Decimal("0.0")
    page = _client(w.auditor).get(reverse("ledger:network"), {"year": "2025"}).content.decode()
    assert "Figures-B Council" in page
    network_share_set(buyer=other, shared=False, by=other_admin)
    assert "Figures-B Council" not in {r.name for r in selectors.network(2025)}
    assert AuditEvent.objects.filter(action="ledger.network_share_set").count() >= 3


def test_only_the_councils_administrators_switch_sharing(world):
    w = world
    with pytest.raises(FiguresRefused):
        network_share_set(buyer=w.buyer, shared=True, by=w.officer)
    assert (
        _client(w.officer).post(reverse("ledger:network_share"), {"shared": "yes"}).status_code
        == 403
    )
    admin = _client(w.admin)
    assert "Share this council" in admin.get(reverse("ledger:network")).content.decode()
    empty = admin.post(reverse("ledger:network_share"), {})
    assert "Select yes or no" in empty.content.decode()
    assert admin.post(reverse("ledger:network_share"), {"shared": "yes"}).status_code == 302
    assert NetworkShare.objects.get(buyer=w.buyer).shared is True


# --- Permissions ------------------------------------------------------------------


def test_who_may_read_and_act(world, local_supplier_user, other_officer):
    w = world
    h.pay(
        w.source,
        h.payee(w.buyer, "Secret Payee Marker", postcode="BD1 1AA"),
        "10.00",
        D(2025, 6, 1),
    )
    reads = ["ledger:dashboard", "ledger:dashboard_csv", "ledger:leakage"]
    for name in reads:
        assert _client(w.officer).get(reverse(name)).status_code == 200
        assert _client(w.auditor).get(reverse(name)).status_code == 200
        assert _client(local_supplier_user).get(reverse(name)).status_code == 404
        assert _client(w.admin).get(reverse(name)).status_code == 404
        assert Client().get(reverse(name)).status_code == 302
        other = _client(other_officer).get(reverse(name))
        assert b"Secret Payee Marker" not in b"".join(
            other.streaming_content if other.streaming else [other.content]
        )
    for name in ("ledger:leak_draft", "ledger:category_mappings"):
        assert _client(w.auditor).post(reverse(name), {"category": "x"}).status_code == 403
        assert _client(local_supplier_user).post(reverse(name)).status_code == 404
    assert _client(local_supplier_user).get(reverse("ledger:network")).status_code == 404
    assert _client(w.admin).get(reverse("ledger:network")).status_code == 200


# --- Fixed query counts ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["ledger:dashboard", "ledger:leakage"])
def test_fixed_query_counts_at_10_and_30000_payments(world, name, django_assert_num_queries):
    """The first request after a change works the figures out (from the
    running totals on PostgreSQL, ADR 16), the next ones read them as
    cached: each in the same number of queries at any size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = world
    h.mapped(w.buyer, "Software consultancy", "722")
    distant = h.payee(w.buyer, "Fig Distant", supplier=w.distant)
    today = timezone.localdate() - datetime.timedelta(days=5)
    h.bulk_pay(w.source, distant, 10, today, category="Software consultancy")
    client = _client(w.officer)
    client.get(reverse(name))  # sessions warm
    h.bulk_pay(
        h.spend_import(w.buyer, w.officer), distant, 1, today, category="Software consultancy"
    )
    with CaptureQueriesContext(connection) as cold:
        page = client.get(reverse(name))
    with CaptureQueriesContext(connection) as warm:
        page = client.get(reverse(name))
    assert page.status_code == 200
    second = h.spend_import(w.buyer, w.officer)
    h.bulk_pay(second, distant, 29989, today, category="Software consultancy")
    with django_assert_num_queries(len(cold.captured_queries)):
        page = client.get(reverse(name))
    with django_assert_num_queries(len(warm.captured_queries)):
        page = client.get(reverse(name))
    if connection.vendor == "postgresql":
        assert len(warm.captured_queries) < len(cold.captured_queries)
    assert "300,000.00" in page.content.decode()


@pytest.mark.parametrize(
    ("total", "shown"),
    [
        ("999999.49", "£999,999"),
        ("1000000", "£1.0 million"),
        ("139988848.12", "£140.0 million"),
        ("-2500000", "−£2.5 million"),
    ],
)
def test_the_headline_net_spend_fits_its_column(total, shown):
    """The dashboard's net spend sits in a third of the page: a council's
    whole year (£139,988,848) made the page scroll sideways at 1024px."""
    from portal.templatetags.portal_tags import pounds_short

    assert pounds_short(Decimal(total)) == shown
