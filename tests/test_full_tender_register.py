"""The register of "full tender required" outcomes: every time the rule sent
work to full tender, for the council's people, on screen and as CSV."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from cpv.models import CpvCode
from portal.models import Role
from portal.services import user_create
from tenders.models import Route, RouteCheck
from tenders.services import (
    BandSpec,
    CriterionSpec,
    LotSpec,
    RouteRefused,
    opportunity_create,
    opportunity_publish,
    policy_create,
)
from tenders.views.policy import CSV_COLUMNS

LONDON = ZoneInfo("Europe/London")
REGISTER = reverse("tenders:full_tender_register")
CSV_URL = reverse("tenders:full_tender_register_csv")


def draft(officer, value: str, *, title: str = "Office cleaning", basis: str = "inclusive"):
    return opportunity_create(
        buyer=officer.buyer,
        by=officer,
        title=title,
        description="Cleaning of council offices.",
        cpv=CpvCode.objects.get(code="90910000-9"),
        contract_kind="services",
        lots=[LotSpec("All offices", Decimal(value))],
        criteria=[CriterionSpec("Price", 100, is_price=True)],
        value_vat_basis=basis,
    )


@pytest.fixture
def outcomes(demo_data, officer, second_officer):
    """Two full-tender outcomes a day apart (one ex VAT), and one invitation."""
    with time_machine.travel(datetime.datetime(2026, 6, 1, 9, 30, tzinfo=LONDON), tick=False):
        big = draft(officer, "200000.00", title="Leisure centre cleaning")
        draft(officer, "5000.00", title="Small job")  # invitation: not in the register
    with time_machine.travel(datetime.datetime(2026, 6, 2, 14, 0, tzinfo=LONDON), tick=False):
        vat = draft(second_officer, "150000.00", title="=HYPERLINK(evil)", basis="exclusive")
    return big, vat


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("persona", ["officer", "auditor", "admin_user"])
def test_the_councils_people_see_the_register_newest_first(client, outcomes, request, persona):
    big, vat = outcomes
    client.force_login(request.getfixturevalue(persona))
    response = client.get(REGISTER)
    page = response.content.decode()
    assert response.status_code == 200
    assert [c.opportunity for c in response.context["checks"]] == [vat, big]
    assert "2 outcomes" in page
    for text in [
        big.reference,
        "Leisure centre cleaning",
        "£200,000.00",
        "£180,000.00",
        "Version 1",
        "from 1 April 2025",
        "must go to full tender",
        "1 Jun 2026 09:30",
        "Drafting, by Priya Shah",
        "by Tom Hughes",
        "The estimate of £150,000.00 excluding VAT is £180,000.00 including VAT at 20% VAT.",
    ]:
        assert text in page, text
    assert "Small job" not in page
    assert reverse("tenders:opportunity_detail", args=[big.pk]) in page


def test_the_csv_has_the_same_columns_newest_first(client, outcomes, auditor):
    big, vat = outcomes
    client.force_login(auditor)
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        'attachment; filename="full-tender-required-demo-council-'
    )
    rows = read_csv(response)
    assert rows[0] == CSV_COLUMNS
    assert len(rows) == 3
    newest, oldest = (dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:])
    assert newest["Opportunity reference"] == vat.reference
    assert newest["Opportunity title"] == "'=HYPERLINK(evil)"  # never run as a formula
    assert newest["Value compared (£)"] == "180000.00"
    assert newest["Checked at (UK time)"] == "2026-06-02 14:00:00+01:00"
    assert newest["Checked by"] == "Tom Hughes"
    assert oldest == {
        "Checked at (UK time)": "2026-06-01 09:30:00+01:00",
        "Occasion": "Drafting",
        "Opportunity reference": big.reference,
        "Opportunity title": "Leisure centre cleaning",
        "CPV code": "90910000-9",
        "Value compared (£)": "200000.00",
        "Aggregated value (£)": "200000.00",
        "Threshold (£)": "180000.00",
        "Policy version": "1",
        "Policy in force from": "2025-04-01",
        "Checked by": "Priya Shah",
        "Reasons": RouteCheck.objects.get(opportunity=big).reasons[0],
    }


def test_a_refused_publication_is_recorded_in_the_register(client, outcomes, officer):
    big, _vat = outcomes
    with pytest.raises(RouteRefused):
        opportunity_publish(opportunity=big, by=officer)
    client.force_login(officer)
    occasions = [c.occasion for c in client.get(REGISTER).context["checks"]]
    assert occasions[0] == "publishing" and len(occasions) == 3


def test_suppliers_get_404(client, outcomes, local_supplier_user):
    client.force_login(local_supplier_user)
    assert client.get(REGISTER).status_code == 404
    assert client.get(CSV_URL).status_code == 404


def test_another_council_sees_only_its_own_outcomes(client, outcomes, other_officer):
    policy_create(
        buyer=other_officer.buyer,
        effective_from=datetime.date(2025, 4, 1),
        local_threshold=Decimal("100000.00"),
        bands=[BandSpec("Quotes", Decimal("0"), 1, 1)],
        by=None,
    )
    theirs = draft(other_officer, "120000.00", title="Other borough cleaning")
    client.force_login(other_officer)
    response = client.get(REGISTER)
    assert [c.opportunity for c in response.context["checks"]] == [theirs]
    assert "Leisure centre cleaning" not in response.content.decode()
    rows = read_csv(client.get(CSV_URL))
    assert [row[3] for row in rows[1:]] == ["Other borough cleaning"]


def test_a_check_without_an_opportunity_is_listed(client, outcomes, officer, council):
    policy = council.policies.get()
    RouteCheck.objects.create(
        buyer=council,
        occasion="command",
        route=Route.FULL_TENDER,
        policy=policy,
        value_compared=Decimal("250000.00"),
        aggregated_value=Decimal("250000.00"),
        threshold=Decimal("180000.00"),
        cpv_code="45000000-7",
        reasons=["Checked from the command line."],
    )
    client.force_login(officer)
    page = client.get(REGISTER).content.decode()
    assert "No opportunity saved" in page and "Checked from the command line." in page
    rows = read_csv(client.get(CSV_URL))
    assert rows[1][1:4] == ["Command", "", ""] and rows[1][10] == "The portal"


def many_checks(council, officer, n: int) -> None:
    big = draft(officer, "300000.00", title="Big job")
    template = RouteCheck.objects.get(opportunity=big)
    RouteCheck.objects.bulk_create(
        RouteCheck(
            buyer=council,
            opportunity=big,
            checked_by=officer,
            occasion="value_changed",
            route=Route.FULL_TENDER,
            policy=template.policy,
            value_compared=Decimal(300000 + i),
            aggregated_value=Decimal(300000 + i),
            threshold=template.threshold,
            cpv_code=template.cpv_code,
            reasons=template.reasons,
        )
        for i in range(n)
    )


# session, user, two-factor device, council, count, the page (with opportunity,
# policy, who), unread count; the work full tender on today's facts (ADR 11): the
# council's opportunities whose route can still change, with their lots' value, the
# statutory thresholds, the policy with its bands, the related work.
REGISTER_QUERIES = 11
# session, user, two-factor device, council, the rows; today's facts as above
CSV_QUERIES = 9


def test_the_register_and_csv_make_a_fixed_number_of_queries(
    client, outcomes, officer, council, django_assert_num_queries
):
    client.force_login(officer)
    with django_assert_num_queries(REGISTER_QUERIES):
        client.get(REGISTER)
    with django_assert_num_queries(CSV_QUERIES):
        read_csv(client.get(CSV_URL))
    many_checks(council, officer, 120)
    with django_assert_num_queries(REGISTER_QUERIES):
        response = client.get(REGISTER)
    assert len(response.context["checks"]) == 50
    assert response.context["page"].paginator.count == 123
    with django_assert_num_queries(REGISTER_QUERIES):
        response = client.get(REGISTER, {"page": 3})
    assert len(response.context["checks"]) == 23
    with django_assert_num_queries(CSV_QUERIES):
        rows = read_csv(client.get(CSV_URL))
    assert len(rows) == 124


def test_an_empty_register_says_so(client, demo_data, auditor):
    client.force_login(auditor)
    page = client.get(REGISTER).content.decode()
    assert "The rule has not required a full tender for any work yet." in page
    assert read_csv(client.get(CSV_URL)) == [CSV_COLUMNS]


def test_a_portal_wide_admin_without_a_council_gets_404(client, demo_data):
    root = user_create(
        email="root@portal.example",
        full_name="Portal Admin",
        role=Role.ADMIN,
        password=None,
        buyer=None,
        by=None,
    )
    client.force_login(root)
    assert client.get(REGISTER).status_code == 404
