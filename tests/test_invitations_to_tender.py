"""Invitations to tender under the Local Government Transparency Code 2015
(RULES §3: contracts and invitations to tender over £5,000 are published
quarterly; the register marks them): the auditor's quarterly list and its CSV."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import BuyerOrganisation
from tenders.models import Opportunity, OpportunityStatus
from tests.tenders_helpers import make_opportunity
from transparency.invitations import Quarter

LONDON = ZoneInfo("Europe/London")


def published(officer, *lots: str, on: datetime.datetime, **fields) -> Opportunity:
    """An opportunity as published at ``on`` (the list reads what is stored)."""
    opportunity = make_opportunity(officer, *lots, title=fields.pop("title", "Cleaning"))
    Opportunity.objects.filter(pk=opportunity.pk).update(
        status=fields.pop("status", OpportunityStatus.OPEN), published_at=on, **fields
    )
    return opportunity


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def rows_of(response) -> dict[str, object]:
    return {row.opportunity.title: row for row in response.context["rows"]}


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


def test_each_published_invitation_is_marked_on_its_whole_value_including_vat(
    auditor_client, officer
):
    day = at(2026, 5, 6)
    published(officer, "4000.00", on=day, title="Four thousand")
    published(officer, "5000.00", on=day, title="Exactly five thousand")  # not over £5,000
    published(officer, "5000.01", on=day, title="A penny over")
    published(officer, "4200.00", on=day, title="Ex VAT", value_vat_basis="exclusive")
    published(officer, "4000.00", on=day, title="With options", options_value=Decimal("2000"))
    make_opportunity(officer, "90000.00", title="Still a draft")
    rows = rows_of(auditor_client.get(reverse("transparency:invitations")))
    assert "Still a draft" not in rows
    assert {title: row.publish for title, row in rows.items()} == {
        "Four thousand": False,
        "Exactly five thousand": False,
        "A penny over": True,
        "Ex VAT": True,  # £4,200 excluding VAT is £5,040 including it
        "With options": True,  # £4,000 and £2,000 of options
    }
    assert rows["Ex VAT"].value_including_vat == Decimal("5040.00")
    assert rows["With options"].value_including_vat == Decimal("6000.00")
    assert rows["Exactly five thousand"].figure == Decimal("5000.00")


def test_quarters_run_from_april_and_turn_at_midnight_uk_time(auditor_client, officer):
    # In summer time, 00:30 UK time is 23:30 the day before in UTC: the UK day counts.
    published(officer, "6000.00", on=at(2026, 3, 31, 23, 59), title="Last of 2025-26")
    published(officer, "6000.00", on=at(2026, 4, 1, 0, 30), title="First of 2026-27")
    published(officer, "6000.00", on=at(2026, 9, 30, 23, 59), title="Last of quarter 2")
    published(officer, "6000.00", on=at(2026, 10, 1, 0, 30), title="First of quarter 3")
    q3 = Quarter(2026, 3)
    assert q3.label == "October to December 2026 (2026–27, quarter 3)"
    assert Quarter.of(datetime.date(2027, 1, 1)) == Quarter(2026, 4)
    assert Quarter.of(datetime.date(2026, 3, 31)) == Quarter(2025, 4)

    def listed(key: str) -> set[str]:
        response = auditor_client.get(reverse("transparency:invitations"), {"quarter": key})
        return set(rows_of(response))

    assert listed("2025-4") == {"Last of 2025-26"}
    assert listed("2026-1") == {"First of 2026-27"}
    assert listed("2026-2") == {"Last of quarter 2"}
    assert listed(q3.key) == {"First of quarter 3"}
    response = auditor_client.get(reverse("transparency:invitations"), {"quarter": q3.key})
    assert "published October to December 2026" in response.content.decode()


def test_a_quarter_not_on_the_list_is_explained_and_every_quarter_shown(auditor_client, officer):
    published(officer, "6000.00", on=at(2026, 5, 6), title="Published")
    response = auditor_client.get(reverse("transparency:invitations"), {"quarter": "1999-9"})
    body = response.content.decode()
    assert "govuk-error-summary" in body and "Select a quarter from the list" in body
    assert set(rows_of(response)) == {"Published"}


def test_the_csv_is_the_quarter_to_publish(auditor_client, officer):
    published(officer, "6000.00", on=at(2026, 5, 6), title="=HYPERLINK(evil) cleaning")
    published(officer, "3000.00", on=at(2026, 5, 7), title="Small")
    published(officer, "9000.00", on=at(2026, 8, 1), title="Next quarter")
    response = auditor_client.get(reverse("transparency:invitations_csv"), {"quarter": "2026-1"})
    assert "invitations-to-tender-demo-council-2026-1.csv" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    lines = list(csv.DictReader(io.StringIO(text)))
    assert [(r["Title"], r["Transparency Code"]) for r in lines] == [
        ("Small", "Not required"),
        ("'=HYPERLINK(evil) cleaning", "Publish"),
    ]
    assert lines[1]["Quarter"] == "April to June 2026 (2026–27, quarter 1)"
    assert lines[1]["Estimated value including VAT (£)"] == "6000.00"
    assert lines[1]["Description of the goods, services or works sought"] == (
        "Cleaning of council offices."
    )
    assert lines[1]["Review date"] == "Not recorded"


def test_another_councils_invitations_are_never_listed(auditor_client, officer):
    other = BuyerOrganisation.objects.create(name="Other Borough Council", slug="other")
    theirs = published(officer, "6000.00", on=at(2026, 5, 6), title="Theirs")
    Opportunity.objects.filter(pk=theirs.pk).update(buyer=other)
    published(officer, "6000.00", on=at(2026, 5, 6), title="Ours")
    assert set(rows_of(auditor_client.get(reverse("transparency:invitations")))) == {"Ours"}
    text = b"".join(
        auditor_client.get(reverse("transparency:invitations_csv")).streaming_content
    ).decode()
    assert "Ours" in text and "Theirs" not in text


def test_the_list_costs_the_same_queries_with_ten_or_sixty_invitations(auditor_client, officer):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert auditor_client.get(reverse("transparency:invitations")).status_code == 200
        return len(captured)

    for n in range(10):
        published(officer, "6000.00", on=at(2026, 5, 6), title=f"Job {n}")
    few = queries()
    for n in range(50):
        published(officer, "6000.00", on=at(2026, 6, 6), title=f"More {n}")
    assert queries() == few
