"""Open Contracting Data Standard 1.1 export: opportunities awarded and
cancelled through the real services, the mapping, offline validation against
the shipped schemas, the two publication marks, the command and the download."""

from __future__ import annotations

import datetime
import io
import json
import socket
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.models import User
from suppliers.models import SupplierOrganisation
from tenders.models import (
    Award,
    Bid,
    Contract,
    Lot,
    Opportunity,
    ProcurementPolicy,
)
from tenders.services import (
    DECLARATIONS,
    award_lot,
    bid_save_draft,
    bid_start,
    bid_submit,
    box_open,
    invite,
    opportunity_cancel,
    opportunity_publish,
    score_set,
)
from tenders.statutory import load_statutory_figures
from tests.tenders_helpers import approved_supplier, make_opportunity
from tests.two_factor_helpers import verified_force_login
from transparency import ocds
from transparency.management.commands.export_ocds import Command as ExportCommand
from transparency.marks import (
    Figures,
    in_transparency_code,
    load_figures,
    marks_for,
    needs_contract_details_notice,
    value_including_vat,
)

LONDON = ZoneInfo("Europe/London")
ALL_DECLARED = dict.fromkeys(DECLARATIONS, True)
CONTRACT_START, CONTRACT_END = datetime.date(2026, 6, 1), datetime.date(2027, 5, 31)
AWARD_DAY = datetime.date(2026, 5, 15)  # 14 days after the clock starts, past the deadline


# --- Making opportunities through the services ------------------------------------------


@pytest.fixture
def clock(demo_data, settings, tmp_path, in_process_tasks):
    """Frozen at 09:00 UK time on 1 May 2026; uploads in a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(datetime.datetime(2026, 5, 1, 9, 0, tzinfo=LONDON), tick=False) as t:
        yield t


@pytest.fixture
def bidders(clock) -> list[SupplierOrganisation]:
    """Bidder 1: a company; 2: a charity; 3: a charitable company; 4: neither."""
    numbers = [("01987654", ""), ("", "1199887"), ("SC987654", "SC098765"), ("", "")]
    suppliers = []
    for n, (company, charity) in enumerate(numbers, 1):
        supplier = approved_supplier(f"Bidder {n}", f"BD{n} 1AA")
        SupplierOrganisation.objects.filter(pk=supplier.pk).update(
            companies_house_number=company, charity_number=charity
        )
        suppliers.append(supplier)
    return suppliers


def bidder(n: int) -> User:
    return User.objects.get(email=f"bids@bidder-{n}.example")


def publish(officer, suppliers, *lot_values, basis="inclusive") -> Opportunity:
    opportunity = make_opportunity(officer, *lot_values, basis=basis)
    invite(opportunity=opportunity, suppliers=suppliers, by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    opportunity.refresh_from_db()
    return opportunity


def submit(opportunity, n, price, lot_number=1):
    person = bidder(n)
    bid = bid_start(lot=opportunity.lots.get(number=lot_number), by=person)
    bid_save_draft(bid=bid, by=person, price=D(price), declarations=ALL_DECLARED)
    return bid_submit(bid=bid, by=person)


def open_box(clock, opportunity, first, second) -> None:
    clock.move_to(opportunity.submission_deadline + datetime.timedelta(minutes=1))
    box_open(opportunity=opportunity, by=first)
    clock.shift(datetime.timedelta(minutes=2))
    box_open(opportunity=opportunity, by=second)
    opportunity.refresh_from_db()


def mark(opportunity, officer, marks: dict[tuple[int, int], str]) -> None:
    """Quality marks by (bidder, lot number)."""
    quality = opportunity.criteria.get(is_price=False)
    for (n, lot_number), value in marks.items():
        bid = Bid.objects.get(
            opportunity=opportunity, lot__number=lot_number, supplier__legal_name=f"Bidder {n}"
        )
        score_set(bid=bid, criterion=quality, mark=D(value), comment="Clear method.", by=officer)


def award_all(opportunity, officer) -> None:
    # From 1 June 2026, or the day the bids closed if later (a contract may not
    # start before: an opportunity made after the clock has moved on).
    closed = timezone.localtime(opportunity.submission_deadline, LONDON).date()
    for lot in opportunity.lots.order_by("number"):
        award_lot(
            lot=lot,
            by=officer,
            reasons="Best value for money.",
            start_date=max(CONTRACT_START, closed),
            end_date=CONTRACT_END,
        )
    opportunity.refresh_from_db()


def single_award(clock, officer, second_officer, suppliers, price, *, basis="inclusive"):
    """Published to ``suppliers``, one bid from Bidder 1 at ``price``, opened, awarded."""
    opportunity = publish(officer, suppliers, price, basis=basis)
    submit(opportunity, 1, price)
    open_box(clock, opportunity, officer, second_officer)
    mark(opportunity, officer, {(1, 1): "80"})
    award_all(opportunity, officer)
    return opportunity


@pytest.fixture
def awarded(clock, bidders, officer, second_officer) -> Opportunity:
    """Two lots (£4,000 each, a single-quote band), all four bidders invited:
    Bidder 4 starts a bid and never submits it. Lot 1 goes to Bidder 1 (best
    quality), lot 2 to Bidder 2."""
    opportunity = publish(officer, bidders, "4000.00", "4000.00")
    submit(opportunity, 1, "4000.00")
    submit(opportunity, 2, "2000.00")
    submit(opportunity, 3, "3000.00")
    submit(opportunity, 1, "2500.00", lot_number=2)
    submit(opportunity, 2, "2600.00", lot_number=2)
    draft = bid_start(lot=opportunity.lots.get(number=2), by=bidder(4))
    bid_save_draft(bid=draft, by=bidder(4), price=D("1.00"), declarations=ALL_DECLARED)
    open_box(clock, opportunity, officer, second_officer)
    mark(
        opportunity,
        officer,
        {(1, 1): "100", (2, 1): "50", (3, 1): "50", (1, 2): "0", (2, 2): "100"},
    )
    award_all(opportunity, officer)
    assert opportunity.status == "awarded"
    return opportunity


def release_of(opportunity, **kwargs) -> dict:
    loaded = ocds.export_queryset(Opportunity.objects.filter(pk=opportunity.pk)).get()
    return ocds.release_for(loaded, **kwargs)


def package_of(*releases) -> dict:
    return ocds.package(
        releases,
        published=datetime.datetime(2026, 5, 20, 12, 0, tzinfo=LONDON),
        uri="https://tenders.example/audit/ocds/test.json",
        publisher="Demo Council",
    )


def party(release, name) -> dict:
    return next(p for p in release["parties"] if p["name"] == name)


# --- The release of an awarded opportunity --------------------------------------------


def test_an_awarded_opportunity_maps_to_a_valid_release(awarded, settings):
    release = release_of(awarded)
    ocid = f"ocds-{settings.OCDS_PREFIX}-{awarded.pk}"
    assert release["ocid"] == ocid
    assert release["id"] == f"{ocid}-award-{AWARD_DAY.isoformat()}"
    assert release["tag"] == ["award", "contract"]
    assert (release["initiationType"], release["language"]) == ("tender", "en")
    assert release["date"].startswith("2026-05-15T09:")
    assert release["date"].endswith("+01:00")  # UK summer time
    assert ocds.validate(package_of(release)) == []


@pytest.mark.parametrize(
    ("scheme", "nation"),
    [("GB-LAS", "Scottish"), ("GB-PLA", "Welsh"), ("GB-LANI", "Northern Ireland")],
)
def test_a_council_outside_england_is_identified_in_its_own_nations_register(
    awarded, scheme, nation
):
    from portal.models import BuyerOrganisation, IdentifierScheme

    assert nation in IdentifierScheme(scheme).label
    BuyerOrganisation.objects.filter(pk=awarded.buyer_id).update(identifier_scheme=scheme)
    release = release_of(awarded)
    assert party(release, "Demo Council")["identifier"]["scheme"] == scheme
    assert release["buyer"]["id"] == f"{scheme}-DEMO"
    assert ocds.validate(package_of(release)) == []


def test_parties_have_their_roles_and_identifiers(awarded):
    release = release_of(awarded)
    council = party(release, "Demo Council")
    # An English council: its code in the English local authorities' register.
    assert council["id"] == "GB-LAE-DEMO"
    assert council["identifier"] == {"scheme": "GB-LAE", "id": "DEMO", "legalName": "Demo Council"}
    assert council["roles"] == ["buyer"]
    assert release["buyer"] == {"id": "GB-LAE-DEMO", "name": "Demo Council"}
    one, two, three = (party(release, f"Bidder {n}") for n in (1, 2, 3))
    assert (one["id"], one["identifier"]["scheme"], one["roles"]) == (
        "GB-COH-01987654",
        "GB-COH",
        ["tenderer", "supplier"],
    )
    assert (two["id"], two["identifier"]["scheme"], two["roles"]) == (
        "GB-CHC-1199887",
        "GB-CHC",
        ["tenderer", "supplier"],
    )
    assert three["id"] == "GB-COH-SC987654"
    assert three["additionalIdentifiers"] == [
        {"scheme": "GB-CHC", "id": "SC098765", "legalName": "Bidder 3"}
    ]
    assert three["roles"] == ["tenderer"]
    # Bidder 4 never submitted: not a tenderer, not a party.
    assert "Bidder 4" not in {p["name"] for p in release["parties"]}


def test_the_tender_block(awarded):
    tender = release_of(awarded)["tender"]
    assert (tender["id"], tender["title"]) == (awarded.reference, "Office cleaning")
    assert tender["status"] == "complete"
    assert tender["procurementMethod"] == "selective"
    assert tender["procurementMethodDetails"] == "Invited local bidders: Single quote"
    assert tender["mainProcurementCategory"] == "services"
    assert tender["value"] == {"amount": 8000, "currency": "GBP"}
    assert tender["items"][0]["classification"] == {
        "scheme": "CPV",
        "id": "90910000",
        "description": awarded.cpv.description,
    }
    assert [i["relatedLot"] for i in tender["items"]] == ["lot-1", "lot-2"]
    assert tender["tenderPeriod"] == {
        "startDate": "2026-05-01T09:00:00+01:00",
        "endDate": "2026-05-15T09:00:00+01:00",
    }
    assert tender["numberOfTenderers"] == 3
    assert [t["name"] for t in tender["tenderers"]] == ["Bidder 1", "Bidder 2", "Bidder 3"]
    assert tender["lots"] == [
        {
            "id": "lot-1",
            "title": "Lot 1",
            "status": "complete",
            "value": {"amount": 4000, "currency": "GBP"},
        },
        {
            "id": "lot-2",
            "title": "Lot 2",
            "status": "complete",
            "value": {"amount": 4000, "currency": "GBP"},
        },
    ]


def test_awards_and_contracts(awarded):
    release = release_of(awarded, today=datetime.date(2026, 5, 20))
    first, second = release["awards"]
    assert (first["relatedLots"], first["status"], first["value"]) == (
        ["lot-1"],
        "active",
        {"amount": 4000, "currency": "GBP"},
    )
    assert first["suppliers"] == [{"id": "GB-COH-01987654", "name": "Bidder 1"}]
    assert (second["relatedLots"], second["value"]["amount"]) == (["lot-2"], 2600)
    assert second["suppliers"] == [{"id": "GB-CHC-1199887", "name": "Bidder 2"}]
    contracts = release["contracts"]
    assert [c["awardID"] for c in contracts] == [first["id"], second["id"]]
    assert contracts[0]["value"] == {"amount": 4000, "currency": "GBP"}
    assert contracts[0]["period"] == {
        "startDate": "2026-06-01T00:00:00+01:00",
        "endDate": "2027-05-31T23:59:59+01:00",
    }
    assert contracts[0]["status"] == "active"
    assert contracts[0]["description"] == (
        "Value £4,000.00 including VAT. Contract details notice not required "
        "(under £30,000.00 incl. VAT). Transparency Code: not required (£5,000.00 or less "
        "incl. VAT)."
    )
    ended = release_of(awarded, today=datetime.date(2027, 6, 1))["contracts"]
    assert [c["status"] for c in ended] == ["terminated", "terminated"]
    assert release_of(awarded, today=CONTRACT_END)["contracts"][0]["status"] == "active"


def test_the_prefix_comes_from_the_setting(awarded, settings):
    settings.OCDS_PREFIX = "abc123"
    assert release_of(awarded)["ocid"] == f"ocds-abc123-{awarded.pk}"
    assert release_of(awarded, prefix="xyz789")["ocid"] == f"ocds-xyz789-{awarded.pk}"


def test_light_touch_services_are_services_and_works_are_works(awarded):
    Opportunity.objects.filter(pk=awarded.pk).update(contract_kind="light_touch")
    assert release_of(awarded)["tender"]["mainProcurementCategory"] == "services"
    Opportunity.objects.filter(pk=awarded.pk).update(contract_kind="works")
    assert release_of(awarded)["tender"]["mainProcurementCategory"] == "works"


def test_a_contract_over_the_notice_figure_says_so(clock, bidders, officer, second_officer):
    """£25,000 excluding VAT at 20% is £30,000.00 including VAT: a notice."""
    opportunity = single_award(
        clock, officer, second_officer, bidders[:3], "25000.00", basis="exclusive"
    )
    release = release_of(opportunity)
    assert release["contracts"][0]["description"] == (
        "Value £25,000.00 excluding VAT; £30,000.00 including VAT at 20%. Contract details "
        "notice required (≥ £30,000.00 incl. VAT). Transparency Code: publish (over £5,000.00 "
        "incl. VAT)."
    )
    assert release["awards"][0]["description"] == "Price excluding VAT."
    assert release["tender"]["procurementMethodDetails"] == "Invited local bidders: Three quotes"
    assert ocds.validate(package_of(release)) == []


def test_only_awarded_or_cancelled_opportunities_are_exported(clock, bidders, officer):
    opportunity = publish(officer, bidders, "4000.00")
    assert not ocds.export_queryset(Opportunity.objects.filter(pk=opportunity.pk)).exists()
    with pytest.raises(ValueError, match="Only awarded or cancelled"):
        ocds.release_for(opportunity)


# --- Cancelled opportunities: sealed bids stay sealed ----------------------------------


def test_cancelled_before_opening_reveals_no_bid(clock, bidders, officer):
    opportunity = publish(officer, bidders, "4000.00", "4000.00")
    submit(opportunity, 1, "3999.00")
    submit(opportunity, 2, "3500.00", lot_number=2)
    clock.shift(datetime.timedelta(days=2))
    opportunity_cancel(opportunity=opportunity, by=officer, reason="The budget was withdrawn.")
    opportunity.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        release = release_of(opportunity)
    assert release["tag"] == ["tenderCancellation"]
    assert release["id"].endswith("-tenderCancellation-2026-05-03")
    assert release["tender"]["status"] == "cancelled"
    assert [lot["status"] for lot in release["tender"]["lots"]] == ["cancelled", "cancelled"]
    assert "numberOfTenderers" not in release["tender"]
    assert "tenderers" not in release["tender"]
    assert [p["roles"] for p in release["parties"]] == [["buyer"]]
    text = json.dumps(release)
    assert "Bidder" not in text and "3999" not in text and "3500" not in text
    # The only read of the bids table asks for bids of opened boxes only.
    bid_reads = [q["sql"] for q in queries.captured_queries if '"tenders_bid"' in q["sql"]]
    assert len(bid_reads) == 1 and "second_at" in bid_reads[0]
    assert ocds.validate(package_of(release)) == []


def test_cancelled_after_opening_shows_the_tenderers(clock, bidders, officer, second_officer):
    opportunity = publish(officer, bidders, "4000.00")
    submit(opportunity, 1, "3999.00")
    submit(opportunity, 2, "3500.00")
    open_box(clock, opportunity, officer, second_officer)
    opportunity_cancel(opportunity=opportunity, by=officer, reason="The need has gone.")
    opportunity.refresh_from_db()
    release = release_of(opportunity)
    assert release["tag"] == ["tenderCancellation"]
    assert release["tender"]["numberOfTenderers"] == 2
    assert {p["name"]: p["roles"] for p in release["parties"]} == {
        "Demo Council": ["buyer"],
        "Bidder 1": ["tenderer"],
        "Bidder 2": ["tenderer"],
    }
    assert "awards" not in release and "contracts" not in release
    assert ocds.validate(package_of(release)) == []


def test_cancelled_after_some_lots_were_awarded_keeps_those_awards(
    clock, bidders, officer, second_officer
):
    opportunity = publish(officer, bidders, "4000.00", "4000.00")
    submit(opportunity, 1, "3999.00")
    submit(opportunity, 2, "3500.00", lot_number=2)
    open_box(clock, opportunity, officer, second_officer)
    mark(opportunity, officer, {(1, 1): "70"})
    award_lot(
        lot=opportunity.lots.get(number=1),
        by=officer,
        reasons="Only bid.",
        start_date=CONTRACT_START,
        end_date=CONTRACT_END,
    )
    clock.shift(datetime.timedelta(days=1))
    opportunity_cancel(opportunity=opportunity, by=officer, reason="Lot 2 is no longer needed.")
    opportunity.refresh_from_db()
    release = release_of(opportunity)
    assert release["tag"] == ["tenderCancellation", "award", "contract"]
    assert release["id"].endswith("-tenderCancellation-2026-05-16")
    assert [lot["status"] for lot in release["tender"]["lots"]] == ["complete", "cancelled"]
    assert [a["relatedLots"] for a in release["awards"]] == [["lot-1"]]
    assert len(release["contracts"]) == 1
    assert ocds.validate(package_of(release)) == []


# --- Validation, offline --------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("The OCDS validation tried to use the network.")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    ocds._validator.cache_clear()  # built again, with the network gone
    yield
    ocds._validator.cache_clear()


def test_a_broken_package_fails_validation_offline(awarded, no_network):
    with pytest.raises(AssertionError, match="network"):
        socket.create_connection(("127.0.0.1", 9))
    release = release_of(awarded)
    good = package_of(release)
    assert ocds.validate(good) == []
    broken = json.loads(json.dumps(good))
    broken["releases"][0]["tender"]["status"] = "finished"
    broken["releases"][0]["date"] = "15/05/2026"
    del broken["releases"][0]["ocid"]
    broken["releases"][0]["awards"][0]["value"]["amount"] = "4000"
    broken["publishedDate"] = "yesterday"
    problems = ocds.validate(broken)
    assert any(p.startswith("package.releases[0].tender.status: 'finished'") for p in problems)
    assert "package.releases[0].date: '15/05/2026' is not a 'date-time'" in problems
    assert "package.releases[0]: 'ocid' is a required property" in problems
    assert any(p.startswith("package.releases[0].awards[0].value.amount:") for p in problems)
    assert "package.publishedDate: 'yesterday' is not a 'date-time'" in problems
    with pytest.raises(ocds.InvalidPackage):
        ocds.check(broken)
    no_releases = {**good, "releases": []}
    assert ocds.validate(no_releases) == ["package.releases: [] should be non-empty"]


# --- The two marks --------------------------------------------------------------------


def contract(value: str, basis: str = "inclusive", *, rate: str = "20.00", on=AWARD_DAY):
    """An unsaved contract with its award, lot, opportunity and policy."""
    policy = ProcurementPolicy(vat_rate_percent=D(rate))
    opportunity = Opportunity(value_vat_basis=basis, policy=policy)
    award = Award(lot=Lot(opportunity=opportunity), value=D(value))
    return Contract(award=award, value=D(value), awarded_on=on)


@pytest.fixture
def figures(db) -> Figures:
    load_statutory_figures()
    return load_figures()


@pytest.mark.parametrize(
    ("value", "basis", "notice"),
    [
        ("29999.99", "inclusive", False),
        ("30000.00", "inclusive", True),
        ("25000.00", "exclusive", True),  # £30,000.00 including VAT
        ("24999.99", "exclusive", False),  # £29,999.988 → £29,999.99
    ],
)
def test_contract_details_notice_from_30000_including_vat(figures, value, basis, notice):
    assert needs_contract_details_notice(contract(value, basis), figures) is notice


@pytest.mark.parametrize(
    ("value", "basis", "listed"),
    [
        ("5000.00", "inclusive", False),
        ("5000.01", "inclusive", True),
        ("4166.66", "exclusive", False),  # £4,999.992 → £5,000.00
        ("4166.67", "exclusive", True),  # £5,000.004 → £5,000.01: rounded up, never down
    ],
)
def test_transparency_code_over_5000_including_vat(figures, value, basis, listed):
    assert in_transparency_code(contract(value, basis), figures) is listed


def test_vat_at_the_policy_rate_rounded_up_to_the_penny():
    assert value_including_vat(contract("25000.00", "exclusive")) == D("30000.00")
    assert value_including_vat(contract("100.01", "exclusive", rate="5.00")) == D("105.02")
    assert value_including_vat(contract("100.01", "inclusive")) == D("100.01")


def test_no_notice_before_the_notice_figure_took_effect(figures):
    early = contract("50000.00", on=datetime.date(2025, 2, 23))
    assert not needs_contract_details_notice(early, figures)
    assert in_transparency_code(early, figures)


def test_marks_read_the_figures_once_for_many_contracts(figures, django_assert_num_queries):
    rows = [contract(v) for v in ("100.00", "5000.01", "30000.00")] * 20
    with django_assert_num_queries(0):
        marks = [marks_for(row, figures) for row in rows]
    assert [(m.transparency_code, m.contract_details_notice) for m in marks[:3]] == [
        (False, False),
        (True, False),
        (True, True),
    ]
    with django_assert_num_queries(1):
        assert needs_contract_details_notice(rows[2])  # no figures given: read them


def test_marks_on_saved_contracts_need_no_query_per_row(awarded, django_assert_num_queries):
    figures = load_figures()
    with django_assert_num_queries(1):
        contracts = list(
            Contract.objects.filter(buyer_id=awarded.buyer_id).select_related(
                "award__lot__opportunity__policy"
            )
        )
        marks = [marks_for(c, figures) for c in contracts]
    assert {m.value_including_vat for m in marks} == {D("4000.00"), D("2600.00")}


# --- The command ----------------------------------------------------------------------


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_ocds", "--buyer", "demo-council", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def year_of_work(awarded, clock, bidders, officer) -> list[Opportunity]:
    """The awarded opportunity (15 May 2026) and one cancelled at 23:30 UK
    time on 30 June 2026 (22:30 UTC)."""
    cancelled = publish(officer, bidders, "4000.00")
    clock.move_to(datetime.datetime(2026, 6, 30, 23, 30, tzinfo=LONDON))
    opportunity_cancel(opportunity=cancelled, by=officer, reason="No longer needed.")
    return [awarded, cancelled]


def test_the_command_writes_a_valid_package(year_of_work, tmp_path):
    path = tmp_path / "releases.json"
    line = export("--from", "2026-04-01", "--to", "2027-03-31", "--output", str(path))
    assert line == (
        f"Wrote 2 releases of Demo Council from 1 April 2026 to 31 March 2027 to {path}.\n"
    )
    data = json.loads(path.read_text())
    assert ocds.validate(data) == []
    assert data["publisher"] == {"name": "Demo Council"}
    assert data["version"] == "1.1"
    assert [r["tag"] for r in data["releases"]] == [["award", "contract"], ["tenderCancellation"]]
    assert [r["ocid"] for r in data["releases"]] == [
        f"ocds-localtenders-{o.pk}" for o in year_of_work
    ]


def test_the_commands_package_uri_is_where_the_auditor_downloads_the_same_package(
    year_of_work, tmp_path, settings, auditor, other_officer
):
    """The package's uri named /audit/ocds/... which nothing served (404)."""
    settings.SITE_URL = "https://tenders.example"
    path = tmp_path / "releases.json"
    export("--from", "2026-04-01", "--to", "2027-03-31", "--output", str(path))
    written = json.loads(path.read_text())
    address = written["uri"].removeprefix("https://tenders.example")
    assert address == "/audit/ocds/demo-council/2026-04-01/2027-03-31/releases.json"
    response = signed_in(auditor).get(address)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="demo-council-2026-04-01-2027-03-31-ocds.json"'
    )
    served = json.loads(response.content)
    assert ocds.validate(served) == []
    assert served["uri"] == f"http://testserver{address}"
    assert served["releases"] == written["releases"]
    # Nothing in those days, days that are not days or the wrong way round: not found.
    for wrong in (
        "/audit/ocds/demo-council/2027-04-01/2028-03-31/releases.json",
        "/audit/ocds/demo-council/2026-02-30/2027-03-31/releases.json",
        "/audit/ocds/demo-council/2027-03-31/2026-04-01/releases.json",
    ):
        assert signed_in(auditor).get(wrong).status_code == 404
    # Another council's officer, asking for this council's or naming their own.
    assert signed_in(other_officer).get(address).status_code == 404
    theirs = address.replace("demo-council", "other-borough")
    assert signed_in(auditor).get(theirs).status_code == 404
    assert signed_in(bidder(1)).get(address).status_code == 404


@pytest.mark.parametrize(
    ("first", "last", "tags"),
    [
        ("2026-05-15", "2026-05-15", [["award", "contract"]]),  # the award day itself
        ("2026-05-16", "2026-06-30", [["tenderCancellation"]]),  # 23:30 on 30 June, UK time
        ("2026-07-01", "2027-03-31", None),  # 22:30 UTC on 30 June is still June in the UK
        ("2026-04-01", "2026-05-14", None),
    ],
)
def test_the_dates_are_inclusive_uk_days(year_of_work, tmp_path, first, last, tags):
    path = tmp_path / "out.json"
    if tags is None:
        with pytest.raises(CommandError, match="has no opportunity awarded or cancelled"):
            export("--from", first, "--to", last, "--output", str(path))
        assert not path.exists()
        return
    export("--from", first, "--to", last, "--output", str(path))
    assert [r["tag"] for r in json.loads(path.read_text())["releases"]] == tags


def test_output_dash_writes_the_package_to_standard_output(year_of_work, capsys):
    text = export("--from", "2026-04-01", "--to", "2027-03-31", "--output", "-")
    data = json.loads(text)
    assert len(data["releases"]) == 2 and ocds.validate(data) == []
    assert "Wrote 2 releases from 1 April 2026 to 31 March 2027 to standard output." in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01", "--to", "2027-03-31"], "--from must be a date like 2026-04-01"),
        (["--from", "2026-04-01", "--to", "soon"], "--to must be a date like 2026-04-01"),
        (["--from", "2027-04-01", "--to", "2026-03-31"], "--from (2027-04-01) is after --to"),
    ],
)
def test_bad_dates_exit_non_zero_with_one_line(capsys, tmp_path, args, message):
    path = tmp_path / "out.json"
    argv = ["manage.py", "export_ocds", "--buyer", "demo-council", *args, "--output", str(path)]
    with pytest.raises(SystemExit) as exit_:
        ExportCommand().run_from_argv(argv)
    assert exit_.value.code != 0
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error
    assert not path.exists()


def test_an_unknown_council_exits_non_zero(demo_data, tmp_path):
    path = tmp_path / "out.json"
    with pytest.raises(CommandError, match=r"^No council has the slug 'nowhere'\.$") as error:
        call_command(
            "export_ocds",
            "--buyer",
            "nowhere",
            "--from",
            "2026-04-01",
            "--to",
            "2027-03-31",
            "--output",
            str(path),
        )
    assert error.value.returncode != 0  # manage.py exits with it, printing the one line
    assert not path.exists()


def test_the_command_makes_the_same_queries_for_one_or_five(
    clock, bidders, officer, second_officer, tmp_path
):
    def queries_for_export() -> tuple[int, int]:
        path = tmp_path / "out.json"
        with CaptureQueriesContext(connection) as queries:
            export("--from", "2026-04-01", "--to", "2027-03-31", "--output", str(path))
        return len(queries), len(json.loads(path.read_text())["releases"])

    single_award(clock, officer, second_officer, bidders[:1], "4000.00")
    one = queries_for_export()
    for price in ("4100.00", "4200.00", "4300.00", "4400.00"):
        single_award(clock, officer, second_officer, bidders[:1], price)
    five = queries_for_export()
    assert one[1] == 1 and five[1] == 5
    # The council, the statutory figures, the opportunities, their lots, the opened bids.
    assert one[0] == five[0] == 5


# --- The download ---------------------------------------------------------------------


def signed_in(user: User) -> Client:
    client = verified_force_login(Client())  # council staff pass the second step
    client.force_login(user)
    return client


def ocds_url(opportunity) -> str:
    return reverse("transparency:opportunity_ocds", args=[opportunity.pk])


def test_the_councils_people_download_the_release(awarded, auditor, officer, admin_user):
    response = signed_in(auditor).get(ocds_url(awarded))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{awarded.reference}-ocds.json"'
    )
    data = json.loads(response.content)
    assert ocds.validate(data) == []
    assert data["releases"][0]["ocid"] == f"ocds-localtenders-{awarded.pk}"
    assert data["uri"] == f"http://testserver{ocds_url(awarded)}"
    assert data["publisher"] == {"name": "Demo Council"}
    for person in (officer, admin_user):
        assert signed_in(person).get(ocds_url(awarded)).status_code == 200


def test_nobody_else_gets_the_release(awarded, other_officer):
    assert signed_in(other_officer).get(ocds_url(awarded)).status_code == 404
    # Bidder 1 was invited, bid and won: still not the council's open data page.
    assert signed_in(bidder(1)).get(ocds_url(awarded)).status_code == 404


def test_an_opportunity_still_running_has_no_release(clock, bidders, officer, auditor):
    opportunity = publish(officer, bidders, "4000.00")
    assert signed_in(auditor).get(ocds_url(opportunity)).status_code == 404
