"""The auditor's reading (issue 16, item 6): the audit overview at /audit/,
histories in words (labels for codes, names for ids, pounds, UK time) at a
fixed number of queries, flags marked as reviewed with a note, and the flags
and local-spend figures as CSV."""

from __future__ import annotations

import ast
import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cpv.models import CpvCode
from devdata.past_awards import PastAward, PastBid, record_past_award
from portal import audit
from portal.audit_labels import ACTION_LABELS, action_label
from portal.models import AuditEvent, Department, Role
from portal.services import department_create, user_create
from suppliers.models import SupplierOrganisation
from tenders.models import AmendmentKind, Award, Contract, Opportunity, ProcurementPolicy
from tenders.services.lifecycle import STEPS
from transparency import histories
from transparency.models import FlagReview

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("portal", "suppliers", "tenders", "transparency", "cpv", "devdata", "ledger")
UTC = datetime.UTC


# --- Every action code has a label -----------------------------------------------------


def _calls_to(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == name)
            or (isinstance(node.func, ast.Attribute) and node.func.attr == name)
        )
    ]


def _enclosing_function(tree: ast.AST, target: ast.AST) -> ast.FunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(n is target for n in ast.walk(node)):
            inner = _enclosing_function(ast.Module(body=node.body, type_ignores=[]), target)
            return inner or node
    return None


def _codes_of(value: ast.expr, tree: ast.Module, where: str) -> set[str]:
    """The action codes an ``action=`` argument can be; fails for one it cannot read."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return {value.value}
    if isinstance(value, ast.IfExp):
        return _codes_of(value.body, tree, where) | _codes_of(value.orelse, tree, where)
    if isinstance(value, ast.JoinedStr):
        # f"opportunity.amended.{kind}": one code per kind of amendment.
        prefix = "".join(part.value for part in value.values if isinstance(part, ast.Constant))
        assert prefix == "opportunity.amended.", f"{where}: a new computed action code"
        return {prefix + kind for kind in AmendmentKind.values}
    if isinstance(value, ast.Attribute) and value.attr == "audit_action":
        return {step.audit_action for step in STEPS if step.audit_action}
    if isinstance(value, ast.Name):
        # A module constant (LOCALITY_CHANGED = "...")…
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == value.id for t in node.targets)
                and isinstance(node.value, ast.Constant)
            ):
                return {node.value.value}
        # …or a parameter of the function that records: every constant its callers pass.
        function = _enclosing_function(tree, value)
        params = [a.arg for a in function.args.args] if function else []
        if value.id in params:
            index = params.index(value.id)
            codes = set()
            for call in _calls_to(tree, function.name):
                given = [k.value for k in call.keywords if k.arg == value.id]
                given += call.args[index : index + 1]
                for argument in given:
                    codes |= _codes_of(argument, tree, where)
            if codes:
                return codes
    raise AssertionError(f"{where}: cannot tell which action codes this records; teach the test")


def recorded_codes() -> set[str]:
    """Every action code passed to ``audit.record`` in the product's source."""
    codes: set[str] = set()
    for app in PRODUCT:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), str(path))
            for call in _calls_to(tree, "record"):
                for keyword in call.keywords:
                    if keyword.arg == "action":
                        where = f"{path.relative_to(ROOT)}:{call.lineno}"
                        codes |= _codes_of(keyword.value, tree, where)
    return codes


def test_every_action_code_recorded_has_a_label():
    codes = recorded_codes()
    # The scan is not blind: it finds codes of every app, computed ones included.
    assert {
        "bid.scored",
        "user.password_changed",
        "buyer.locality_changed",
        "opportunity.published",
        "opportunity.amended.deadline_extended",
        "supplier.change_refused",
        "flag.reviewed",
    } <= codes
    missing = sorted(codes - set(ACTION_LABELS))
    assert not missing, f"Give these audit actions a label in portal/audit_labels.py: {missing}"


def test_labels_read_as_words():
    assert action_label("bid.scored") == "Bid scored"
    assert action_label("opportunity.amended.deadline_extended") == "Amended: deadline extended"
    # A code nobody labelled yet is spelled out, never shown raw.
    assert action_label("widget.turned_on") == "Turned on"
    assert all(label and label[0].isupper() for label in ACTION_LABELS.values())


# --- UK time, pounds, names ----------------------------------------------------------


def test_uk_time_across_summer_time():
    winter = datetime.datetime(2026, 12, 6, 14, 5, tzinfo=UTC)
    summer = datetime.datetime(2026, 7, 1, 13, 5, tzinfo=UTC)  # BST: 14:05 in London
    assert histories.uk_time(winter) == "6 December 2026, 2:05pm"
    assert histories.uk_time(summer) == "1 July 2026, 2:05pm"
    assert histories.uk_time(datetime.datetime(2026, 3, 29, 0, 30, tzinfo=UTC)) == (
        "29 March 2026, 12:30am"  # the night the clocks go forward, before they do
    )
    assert histories.uk_time(datetime.datetime(2026, 3, 29, 11, 0, tzinfo=UTC)) == (
        "29 March 2026, 12:00pm"
    )


@pytest.fixture
def past_award(officer, second_officer):
    def make(
        winner: str = "Aire Valley Cleaning Ltd", price: str = "12345.00", **extra
    ) -> Contract:
        return record_past_award(
            officer.buyer,
            (officer, second_officer),
            PastAward(
                title=extra.pop("title", "Office cleaning"),
                cpv=CpvCode.objects.get(code="90910000-9"),
                estimate=Decimal(extra.pop("estimate", price)),
                awarded_on=extra.pop("on", datetime.date(2026, 5, 1)),
                bids=[PastBid(SupplierOrganisation.objects.get(legal_name=winner), Decimal(price))],
                **extra,
            ),
        )

    return make


def history(client, opportunity: Opportunity):
    return client.get(reverse("transparency:opportunity_history", args=[opportunity.pk]))


def test_a_history_shows_names_pounds_uk_time_and_labels(client, auditor, officer, past_award):
    with time_machine.travel(datetime.datetime(2026, 7, 1, 13, 5, tzinfo=UTC), tick=False):
        contract = past_award()
    opportunity = contract.award.lot.opportunity
    aire = contract.supplier
    department = department_create(buyer=officer.buyer, name="Parks and Gardens", by=None)
    policy = ProcurementPolicy.objects.filter(buyer=officer.buyer).latest("effective_from")
    with time_machine.travel(datetime.datetime(2026, 12, 6, 14, 5, tzinfo=UTC), tick=False):
        audit.record(
            actor=officer,
            action="opportunity.edited",
            obj=opportunity,
            changes={
                "department": [None, department.pk],
                "status": ["draft", "open"],
                "submission_deadline": [None, "2026-07-10T11:00:00Z"],
                "policy": [None, policy.pk],
            },
            context={
                "non_local_suppliers": [aire.pk],
                "value": "98765.4",
                "occasion": "value_changed",
            },
        )
    client.force_login(auditor)
    response = history(client, opportunity)
    page = response.content.decode()
    assert response.status_code == 200
    # Labels, not codes.
    assert "Lot awarded" in page and "Edited" in page
    assert "lot.awarded" not in page and "opportunity.edited" not in page
    # Names, not ids; pounds; UK time (BST in July, GMT in December).
    events = {row.event.action: row for row in response.context["events"]}
    awarded = dict(events["lot.awarded"].details)
    assert awarded["Supplier"] == "Aire Valley Cleaning Ltd"
    assert awarded["Value"] == "£12,345.00"
    assert awarded["Lot"] == f"Lot 1: {contract.award.lot.title}"
    assert events["lot.awarded"].when == "1 July 2026, 2:05pm"
    edited = events["opportunity.edited"]
    assert edited.when == "6 December 2026, 2:05pm"
    changes = {c.field: (c.before, c.after) for c in edited.changes}
    assert changes["Department"] == ("(none)", "Parks and Gardens")
    assert changes["Status"] == ("Draft", "Open for bids")
    assert changes["Deadline for bids"] == ("(none)", "10 July 2026, 12:00pm")
    assert changes["Policy version"] == (
        "(none)",
        f"Version {policy.version}, in force from {histories.uk_date(policy.effective_from)}",
    )
    details = dict(edited.details)
    assert details["Suppliers invited that are not local"] == "Aire Valley Cleaning Ltd"
    assert details["Value"] == "£98,765.40"
    assert details["When the rule was asked"] == "Value changed"  # not "value_changed"
    for text in ("£12,345.00", "Aire Valley Cleaning Ltd", "Parks and Gardens", "2:05pm"):
        assert escape(text) in page


def test_a_suppliers_history_labels_its_approval(client, auditor, officer):
    aire = SupplierOrganisation.objects.get(legal_name="Aire Valley Cleaning Ltd")
    client.force_login(auditor)
    response = client.get(reverse("transparency:supplier_history", args=[aire.pk]))
    rows = response.context["events"]
    assert rows, "the demo supplier's registration and approval are recorded"
    changed = [r for r in rows if r.event.action == "supplier.status_changed"]
    assert changed and changed[0].what == "Council's approval changed"
    assert "supplier.status_changed" not in response.content.decode()


def test_a_suppliers_history_leaves_out_another_councils_decisions(
    client, auditor, officer, other_officer
):
    aire = SupplierOrganisation.objects.get(legal_name="Aire Valley Cleaning Ltd")
    audit.record(
        actor=other_officer,
        action="supplier.status_changed",
        obj=aire,
        changes={"status": ["approved", "suspended"]},
        context={"reason": "Other Borough's private reasons"},
    )
    audit.record(
        actor=officer,
        action="supplier.status_changed",
        obj=aire,
        changes={"status": ["approved", "suspended"]},
        context={"reason": "Our own reasons"},
    )
    client.force_login(auditor)
    page = client.get(reverse("transparency:supplier_history", args=[aire.pk])).content.decode()
    assert "Our own reasons" in page
    assert "Other Borough" not in page and other_officer.full_name not in page


def test_a_history_takes_the_same_queries_for_one_event_and_many(
    client, auditor, officer, second_officer, past_award, django_assert_num_queries
):
    opportunity = past_award().award.lot.opportunity
    client.force_login(auditor)
    history(client, opportunity)  # warm the session and the caches
    assert (
        AuditEvent.objects.filter(
            object_type="tenders.opportunity", object_id=str(opportunity.pk)
        ).count()
        == 1
    )

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert history(client, opportunity).status_code == 200
        return len(context)

    suppliers = list(SupplierOrganisation.objects.values_list("pk", flat=True)[:5])
    departments = [
        department_create(buyer=officer.buyer, name=f"Department {n}", by=None).pk for n in range(3)
    ]
    # The same kinds of ids as the one event, so the first page reads them as the second.
    audit.record(
        actor=officer,
        action="opportunity.edited",
        obj=opportunity,
        changes={"department": [None, departments[0]]},
        context={"non_local_suppliers": suppliers[:1], "made_by": officer.pk},
    )
    one = queries()
    for n in range(40):
        audit.record(
            actor=(officer, second_officer)[n % 2],
            action="opportunity.edited",
            obj=opportunity,
            changes={"department": [departments[n % 3], departments[(n + 1) % 3]]},
            context={"non_local_suppliers": suppliers, "made_by": second_officer.pk},
        )
    with django_assert_num_queries(one):
        response = history(client, opportunity)
    assert len(response.context["events"]) == 42
    assert "Department 2" in response.content.decode()


# --- The overview ------------------------------------------------------------------------


def test_the_overview_links_every_audit_page_and_finds_histories(client, auditor, past_award):
    opportunity = past_award(title="Verge mowing in Shipley").award.lot.opportunity
    client.force_login(auditor)
    response = client.get(reverse("transparency:index"))
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("register", "dashboard", "flags", "dashboard_csv"):
        assert f'href="{reverse(f"transparency:{name}")}"' in page
    history_link = reverse("transparency:opportunity_history", args=[opportunity.pk])
    assert f'href="{history_link}"' in page
    found = client.get(reverse("transparency:index"), {"q": "verge mowing"})
    assert [o.pk for o, _ in found.context["rows"]] == [opportunity.pk]
    assert client.get(reverse("transparency:index"), {"q": "nothing like it"}).context["rows"] == []
    suppliers = client.get(reverse("transparency:index"), {"supplier": "aire valley"})
    aire = SupplierOrganisation.objects.get(legal_name="Aire Valley Cleaning Ltd")
    assert suppliers.context["suppliers"] == [aire]
    supplier_link = reverse("transparency:supplier_history", args=[aire.pk])
    assert f'href="{supplier_link}"' in suppliers.content.decode()


def test_the_audit_navigation_leads_to_the_overview(client, auditor, officer):
    client.force_login(auditor)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("transparency:index")}"' in home
    client.force_login(officer)
    assert client.get(reverse("transparency:index")).status_code == 403


# --- Reviewing a flag ------------------------------------------------------------------


@pytest.fixture
def second_auditor(council):
    return user_create(
        email="auditor2@demo-council.example",
        full_name="Priya Second-Auditor",
        role=Role.AUDITOR,
        password=None,
        by=None,
        buyer=council,
    )


def review_url(award: Award) -> str:
    return reverse("transparency:flag_review", args=["single-bid", award.pk])


def test_an_auditor_marks_a_flag_reviewed_and_the_next_auditor_reads_it(
    client, auditor, second_auditor, past_award
):
    award = past_award().award
    client.force_login(auditor)
    flags = client.get(reverse("transparency:flags"), {"flag": "single-bid"}).content.decode()
    assert "Not reviewed" in flags and f'href="{review_url(award)}"' in flags
    # A note is needed.
    empty = client.post(review_url(award), {"note": "  "})
    assert empty.status_code == 200
    assert "Enter a note saying what you checked" in empty.content.decode()
    assert not FlagReview.objects.exists()

    moment = datetime.datetime(2026, 7, 2, 9, 30, tzinfo=UTC)  # 10:30am in London (BST)
    with time_machine.travel(moment, tick=False):
        response = client.post(review_url(award), {"note": "Market tested by phone; fine."})
    assert response.status_code == 302
    assert response["Location"] == reverse("transparency:flags") + "?flag=single-bid"
    review = FlagReview.objects.get()
    assert (review.buyer, review.kind, review.record_id) == (auditor.buyer, "single-bid", award.pk)
    event = AuditEvent.objects.get(action="flag.reviewed")
    assert event.actor == auditor
    assert event.context["note"] == "Market tested by phone; fine."
    assert event.context["record"] == award.pk

    client.force_login(second_auditor)
    listed = client.get(reverse("transparency:flags"), {"flag": "single-bid"})
    page = listed.content.decode()
    assert "Reviewed" in page and "Market tested by phone; fine." in page
    assert escape(auditor.full_name) in page and "2 July 2026, 10:30am" in page
    # Still listed, and counted as reviewed in the summary.
    reviewed = {summary.kind.key: n for summary, n in listed.context["summaries"]}
    assert reviewed["single-bid"] == 1 and reviewed["non-local-invitations"] == 0
    assert listed.context["report"].selected.count == 1
    detail = client.get(review_url(award)).content.decode()
    assert "Market tested by phone; fine." in detail and "Add a review" not in detail


def test_only_the_councils_auditors_review_its_flags(
    client, admin_user, officer, other_council, past_award
):
    award = past_award().award
    for person in (admin_user, officer):
        client.force_login(person)
        assert client.get(review_url(award)).status_code == 403
        assert client.post(review_url(award), {"note": "x"}).status_code == 403
    stranger = user_create(
        email="auditor@other-borough.example",
        full_name="Other Auditor",
        role=Role.AUDITOR,
        password=None,
        by=None,
        buyer=other_council,
    )
    client.force_login(stranger)
    assert client.get(review_url(award)).status_code == 404
    assert client.post(review_url(award), {"note": "Not mine"}).status_code == 404
    assert client.get(reverse("transparency:flag_review", args=["no-such", 1])).status_code == 404
    assert not FlagReview.objects.exists()
    # The administrator reads the flags but is offered no review.
    client.force_login(admin_user)
    page = client.get(reverse("transparency:flags"), {"flag": "single-bid"}).content.decode()
    assert review_url(award) not in page


# --- CSVs --------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_flags_download_as_csv_with_their_reviews(client, auditor, past_award):
    award = past_award(title="=HYPERLINK(1) cleaning", price="5000.00").award
    FlagReview.objects.create(
        buyer=auditor.buyer,
        kind="single-bid",
        record_id=award.pk,
        note="+checked",
        reviewed_by=auditor,
        reviewed_at=datetime.datetime(2026, 12, 6, 14, 5, tzinfo=UTC),
    )
    client.force_login(auditor)
    response = client.get(reverse("transparency:flags_csv"), {"flag": "single-bid"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[0] == "Flag" and "Review note" in header
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Flag"] == "Single-bid awards"
    assert row["Opportunity title"] == "'=HYPERLINK(1) cleaning"  # never run as a formula
    assert row["Supplier"] == "Aire Valley Cleaning Ltd"
    assert row["Date"] == "2026-05-01"
    assert row["Reviewed"] == "Yes"
    assert row["Reviewed at (UK time)"] == "6 December 2026, 2:05pm"
    assert row["Review note"] == "'+checked"
    # Another flag, as the page's query string says: far from the estimate has none here.
    other = client.get(reverse("transparency:flags_csv"), {"flag": "far-from-estimate"})
    assert read_csv(other)[1:] == []
    # The page's link says so in a sentence ("Download every single-bid awards record").
    page = client.get(reverse("transparency:flags"), {"flag": "single-bid"}).content.decode()
    assert "Download every record of this flag as CSV</a> (Single-bid awards)" in page


def test_the_local_spend_figures_download_as_csv(client, auditor, officer, past_award):
    parks = Department.objects.create(buyer=officer.buyer, name="Parks")
    past_award(price="30000.00", on=datetime.date(2026, 5, 1), department=parks)
    past_award(
        winner="National Facilities Group plc", price="10000.00", on=datetime.date(2025, 6, 1)
    )
    client.force_login(auditor)
    response = client.get(reverse("transparency:dashboard_csv"))
    assert response.status_code == 200
    header, *rows = read_csv(response)
    assert header[:4] == ["Financial year", "Department", "Awarded value (£)", "Contracts"]
    by = {(r[0], r[1]): dict(zip(header, r, strict=True)) for r in rows}
    whole = by[("2026–27", "The whole council")]
    assert whole["Awarded value (£)"] == "30000.00" and whole["Contracts"] == "1"
    assert whole["Local suppliers share of value (%)"] == "100.0"
    assert by[("2026–27", "Parks")]["Awarded value (£)"] == "30000.00"
    earlier = by[("2025–26", "The whole council")]
    assert earlier["Local suppliers value (£)"] == "0.00"
    assert earlier["Local suppliers share of value (%)"] == "0.0"
    assert rows[0][0] == "2026–27"  # the latest first, as the page
    # The page's department filter.
    parks_only = read_csv(
        client.get(reverse("transparency:dashboard_csv"), {"department": parks.pk})
    )
    assert {r[1] for r in parks_only[1:]} == {"Parks"}
    assert client.get(reverse("transparency:dashboard_csv"), {"department": "x"}).status_code == (
        400
    )
    page = client.get(reverse("transparency:dashboard"), {"department": parks.pk})
    assert f"{reverse('transparency:dashboard_csv')}?department={parks.pk}" in (
        page.content.decode()
    )


def test_the_csvs_are_for_the_audit_pages_readers_only(client, officer, local_supplier_user):
    for person in (officer, local_supplier_user):
        client.force_login(person)
        for name in ("flags_csv", "dashboard_csv", "index"):
            assert client.get(reverse(f"transparency:{name}")).status_code == 403


def test_now_is_used_for_the_overviews_status(client, auditor, officer):
    """An open opportunity whose deadline passed reads as closed on the overview."""
    from tests.tenders_helpers import make_opportunity

    opportunity = make_opportunity(officer, "5000.00", deadline_days=1)
    Opportunity.objects.filter(pk=opportunity.pk).update(status="open")
    later = timezone.now() + datetime.timedelta(days=3)
    with time_machine.travel(later, tick=False):
        client.force_login(auditor)
        rows = dict(client.get(reverse("transparency:index")).context["rows"])
    assert rows[Opportunity.objects.get(pk=opportunity.pk)] == "Closed for bids"


def test_reasons_recorded_as_sentences_read_as_sentences():
    """Route reasons were joined "…2025).; The estimated…": sentences are joined
    with a space, other lists (names, codes) still with "; "."""
    names = histories._names_for([])
    reasons = [
        "The local threshold is £180,000 (policy version 2, in force from 1 April 2025).",
        "The estimated value is £5,000.",
    ]
    assert histories.field_value("reasons", reasons, names, "route.checked") == " ".join(reasons)
    assert histories.field_value("codes", ["90910000-9", "45310000-3"], names) == (
        "90910000-9; 45310000-3"
    )
