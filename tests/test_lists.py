"""Lists people can work with (issue 16, item 2): search and sort on the
officer's and the supplier's opportunity lists, the supplier directory and the
verification queue; approving several suppliers for one reason; the lot
builder's districts in natural order, with each lot's value changed before
the lots are made."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, InboxMessage, Role
from portal.postcodes import district_sort_key, sorted_districts
from portal.services import user_create
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.selectors import status_of
from suppliers.services import (
    BulkApprovalRefused,
    SiteSpec,
    supplier_create,
    supplier_set_status,
    suppliers_approve,
)
from tenders.models import Opportunity
from tenders.services import opportunity_publish
from tests.history_helpers import council_with_policy
from tests.tenders_helpers import (
    approved_supplier,
    care_provider_that_also_cleans,
    make_opportunity,
)
from tests.test_opportunity_value import award
from tests.test_supplier_opportunities import START, london, make_open

LIST = reverse("tenders:opportunity_list")
DIRECTORY = reverse("supplier_directory")
APPROVE = reverse("supplier_bulk_approve")


def main_text(response) -> str:
    return response.content.decode()


def next_link(response) -> str:
    """The query string of the page's "Next" link."""
    page = main_text(response)
    end = page.index('" rel="next"')
    return page[page.rindex('href="?', 0, end) + len('href="?') : end].replace("&amp;", "&")


def titles(response) -> list[str]:
    return [o.title for o in response.context["opportunities"]]


def references(response) -> list[str]:
    return [o.reference for o in response.context["opportunities"]]


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


# --- The officer's opportunity list ---------------------------------------------------


@pytest.fixture
def three(officer):
    """Three drafts of the officer's council, other than the demo's."""
    grass = make_opportunity(officer, "40000", title="Grass cutting in parks")
    windows = make_opportunity(officer, "9000", title="Window cleaning", deadline_days=5)
    boiler = make_opportunity(
        officer, "120000", cpv="50700000-2", title="Boiler servicing", deadline_days=40
    )
    return grass, windows, boiler


def test_the_officer_searches_by_title_reference_and_cpv_whatever_the_case(officer_client, three):
    _, windows, _ = three
    response = officer_client.get(LIST, {"q": "GRASS"})
    assert titles(response) == ["Grass cutting in parks"]
    page = main_text(response)
    # The query stays in the box, labelled.
    assert 'name="q"' in page and 'value="GRASS"' in page
    assert '<label for="id_q" class="govuk-label govuk-label--s">Search opportunities' in page
    assert references(officer_client.get(LIST, {"q": windows.reference.lower()})) == [
        windows.reference
    ]
    assert titles(officer_client.get(LIST, {"q": "50700000"})) == ["Boiler servicing"]
    response = officer_client.get(LIST, {"q": "no such work"})
    assert titles(response) == []
    assert "No opportunities match your search" in main_text(response)
    # A LIKE wildcard is text, not a pattern.
    assert titles(officer_client.get(LIST, {"q": "%"})) == []


def test_a_search_never_runs_from_one_field_into_the_next(officer_client, three):
    """The title, reference and CPV code are searched each on its own, as
    three searches would: words across the end of one and the start of the
    next find nothing; a title's edited words are found at once."""
    grass, windows, _ = three
    assert titles(officer_client.get(LIST, {"q": f"parks {grass.reference}"})) == []
    assert titles(officer_client.get(LIST, {"q": f"parks\n{grass.reference}"})) == []
    Opportunity.objects.filter(pk=windows.pk).update(title="Nettoyage des fenêtres")
    assert titles(officer_client.get(LIST, {"q": "DES FEN"})) == ["Nettoyage des fenêtres"]


def test_the_search_keeps_the_status_filter(officer_client, officer, three):
    grass, _, _ = three
    Opportunity.objects.filter(pk=grass.pk).update(status="cancelled")
    assert titles(officer_client.get(LIST, {"q": "grass", "status": "draft"})) == []
    assert titles(officer_client.get(LIST, {"q": "grass", "status": "cancelled"})) == [
        "Grass cutting in parks"
    ]


def test_another_councils_opportunities_are_never_found(
    officer_client, other_officer, officer, three
):
    council_with_policy(other_officer.buyer)
    make_opportunity(other_officer, "5000", title="Grass cutting elsewhere")
    assert titles(officer_client.get(LIST, {"q": "grass"})) == ["Grass cutting in parks"]


def test_the_officer_sorts_by_deadline_value_and_title(officer_client, officer, three):
    Opportunity.objects.exclude(pk__in=[o.pk for o in three]).delete()
    assert titles(officer_client.get(LIST, {"sort": "deadline"})) == [
        "Window cleaning",
        "Grass cutting in parks",
        "Boiler servicing",
    ]
    assert titles(officer_client.get(LIST, {"sort": "value"})) == [
        "Boiler servicing",
        "Grass cutting in parks",
        "Window cleaning",
    ]
    response = officer_client.get(LIST, {"sort": "title"})
    assert titles(response) == ["Boiler servicing", "Grass cutting in parks", "Window cleaning"]
    assert '<option value="title" selected>' in main_text(response)


def test_the_status_sort_follows_the_status_at_the_moment(officer_client, officer, three):
    Opportunity.objects.exclude(pk__in=[o.pk for o in three]).delete()
    grass, _, boiler = three
    past = timezone.now() - datetime.timedelta(hours=1)
    # Open but its deadline passed: closed, after the one still open.
    Opportunity.objects.filter(pk=grass.pk).update(status="open", submission_deadline=past)
    Opportunity.objects.filter(pk=boiler.pk).update(status="open")
    assert titles(officer_client.get(LIST, {"sort": "status"})) == [
        "Window cleaning",  # a draft
        "Boiler servicing",  # open
        "Grass cutting in parks",  # closed
    ]


def test_the_status_sort_read_a_page_at_a_time_is_the_whole_lists_order(officer, other_officer):
    """The list's page is one statement of plain SQL (``council_opportunity_page``):
    sorted by status, it reads each status's part by the index, only to the
    end of the page. Every page, the page past the end and page 0 of every
    sort are what cutting the ORM's whole sorted list (``council_opportunities``)
    gives, with the same values and count: more than two pages in one status,
    all tied but for the id, open ones whose deadline passed among the closed,
    a search, a status filter, lots and an award, and another council's
    opportunity never among them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenders.models import Lot
    from tenders.selectors import OPPORTUNITY_SORTS, council_opportunities, council_opportunity_page

    Opportunity.objects.all().delete()
    made = [make_opportunity(officer, "5000", title=f"Cleaning {n}") for n in range(75)]
    now = timezone.now()
    for n, opportunity in enumerate(made):
        # Most are drafts (the first part, more than two pages of it), all made
        # at the same moment: only the id orders them, and cuts them; the others
        # in threes made at one moment. Every tenth is closed and, five further
        # on, open with its deadline passed: closed by the moment.
        status = {0: "closed", 5: "open", 3: "awarded", 7: "cancelled", 9: "open"}.get(
            n % 10, "draft"
        )
        passed = n % 10 == 5
        Opportunity.objects.filter(pk=opportunity.pk).update(
            status=status,
            submission_deadline=None
            if n % 10 == 1
            else now + datetime.timedelta(days=-1 if passed else 7 + n % 4),
            created_at=now - datetime.timedelta(minutes=0 if status == "draft" else n // 3),
            options_value=D(n % 3),
        )
    # Values that differ: a lot more on some, an award on one lot of one.
    for opportunity in made[:6]:
        Lot.objects.create(
            opportunity=opportunity, number=2, title="More", estimated_value=D("1000.50")
        )
    award(made[3].lots.get(number=1), "4321.99", officer)
    council_with_policy(other_officer.buyer)
    make_opportunity(other_officer, "5000", title="Cleaning elsewhere")
    searches = [("", ""), ("clean", ""), ("1", ""), ("", "closed"), ("", "open"), ("nothing", "")]
    for sort in OPPORTUNITY_SORTS:
        for query, status in searches:
            whole = list(
                council_opportunities(officer, query=query, status=status, sort=sort, now=now)
            )
            pages = max(1, -(-len(whole) // 20))
            # On PostgreSQL the first read of a search keeps its count
            # (``portal.kept``): one statement more, once.
            council_opportunity_page(officer, query=query, status=status, sort=sort, now=now)
            for number in [0, *range(1, pages + 1), pages + 2]:
                with CaptureQueriesContext(connection) as queries:
                    page = council_opportunity_page(
                        officer, query=query, status=status, sort=sort, number=number, now=now
                    )
                shown = min(max(number, 1), pages)
                assert page.number == shown
                assert page.paginator.count == len(whole)
                expected = whole[(shown - 1) * 20 : shown * 20]
                assert [o.pk for o in page.object_list] == [o.pk for o in expected], (
                    sort,
                    query,
                    status,
                    number,
                )
                for row, orm in zip(page.object_list, expected, strict=True):
                    assert (row.estimated_value, row.known_value) == (
                        orm.estimated_value,
                        orm.known_value,
                    )
                    for field in [
                        "reference",
                        "title",
                        "status",
                        "submission_deadline",
                        "created_at",
                        "options_value",
                        "value_vat_basis",
                        "cpv_id",
                        "buyer_id",
                        "route",
                        "policy_id",
                        "contract_kind",
                    ]:
                        assert getattr(row, field) == getattr(orm, field), field
                # One statement, two past the end (the last page read again).
                assert len(queries) == (2 if whole and number > pages else 1)
                if whole and sort == "status":
                    assert "UNION ALL" in queries[-1]["sql"]
    assert len(whole) == 0 and len(council_opportunities(officer, sort="status")) == 75


def test_a_sort_the_list_does_not_offer_is_ignored(officer_client, three):
    newest = officer_client.get(LIST)
    for bad in ["'; DROP TABLE x", "-id", "created_at", "title\x00"]:
        response = officer_client.get(LIST, {"sort": bad, "q": ""})
        assert response.status_code == 200
        assert titles(response) == titles(newest)
        assert "There is a problem" not in main_text(response)


@pytest.mark.parametrize("sort", ["newest", "deadline", "value", "title", "status"])
def test_rows_that_tie_are_never_repeated_or_skipped_across_pages(officer_client, officer, sort):
    Opportunity.objects.all().delete()
    made = [make_opportunity(officer, "5000", title="Same title") for _ in range(25)]
    # Everything the sorts read is the same on every row.
    same = timezone.now()
    Opportunity.objects.update(created_at=same, submission_deadline=same + datetime.timedelta(7))
    first = officer_client.get(LIST, {"sort": sort, "q": "same"})
    second = officer_client.get(LIST, {"sort": sort, "q": "same", "page": 2})
    seen = references(first) + references(second)
    assert len(seen) == 25 and set(seen) == {o.reference for o in made}
    # The next page's link keeps the search and the sort.
    assert sorted(next_link(first).split("&")) == ["page=2", "q=same", f"sort={sort}"]


def test_the_search_and_sort_cost_no_more_queries(
    officer_client, officer, three, django_assert_num_queries
):
    officer_client.get(LIST)  # caches filled
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as plain:
        officer_client.get(LIST)
    searches = [
        {"q": "grass", "sort": "value", "status": "draft"},
        {"sort": "nonsense"},
        {"q": "e", "sort": "status"},
        {"q": "e", "sort": "status", "status": "draft"},
    ]
    counted = {("", "")}  # the plain list's count: kept already
    for search in searches:
        # On PostgreSQL the first read of a search keeps its count
        # (``portal.kept``): one statement more, once.
        asked = (search.get("q", ""), search.get("status", ""))
        kept = connection.vendor == "postgresql" and asked not in counted
        counted.add(asked)
        with django_assert_num_queries(len(plain) + (1 if kept else 0)):
            officer_client.get(LIST, search)
        with django_assert_num_queries(len(plain)):
            officer_client.get(LIST, search)


# --- The supplier's list --------------------------------------------------------------


@pytest.fixture
def clock(demo_data, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def care_user(demo_data):
    """A second local supplier (Bradford Community Care CIC, which cleans too)."""
    return care_provider_that_also_cleans()


def invitation_titles(response) -> list[str]:
    return [i.opportunity.title for i in response.context["invitations"]]


def test_a_supplier_searches_only_its_own_invitations(
    client, clock, officer, local_supplier_user, care_user
):
    aire, care = local_supplier_user.supplier, care_user.supplier
    make_open(officer, [aire], title="Library cleaning")
    make_open(officer, [aire, care], title="Depot cleaning")
    # Invited only Bradford Community Care: Aire Valley must never see its title.
    secret = make_open(officer, [care], title="Secret cleaning of the vault")
    # Never published: not even its invitees see it.
    make_open(officer, [aire], title="Draft cleaning", publish=False)
    client.force_login(local_supplier_user)
    response = client.get(LIST, {"q": "cleaning"})
    assert sorted(invitation_titles(response)) == ["Depot cleaning", "Library cleaning"]
    for q in ["secret", "vault", secret.reference, "draft"]:
        response = client.get(LIST, {"q": q})
        assert invitation_titles(response) == []
        assert "Secret cleaning" not in main_text(response)
        assert response.context["page"].paginator.count == 0
    response = client.get(LIST, {"q": "LIBRARY"})
    assert invitation_titles(response) == ["Library cleaning"]
    assert 'value="LIBRARY"' in main_text(response)
    # The vault's invitee finds it.
    client.force_login(care_user)
    assert invitation_titles(client.get(LIST, {"q": "vault"})) == ["Secret cleaning of the vault"]


def test_a_supplier_sorts_its_invitations_and_a_bad_sort_is_ignored(
    client, clock, officer, local_supplier_user
):
    aire = local_supplier_user.supplier
    make_open(officer, [aire], title="B later", bids_close=london(2026, 6, 20, 12))
    make_open(officer, [aire], title="A sooner")
    make_open(officer, [aire], title="C latest", bids_close=london(2026, 6, 25, 12))
    client.force_login(local_supplier_user)
    assert invitation_titles(client.get(LIST, {"sort": "title"})) == [
        "A sooner",
        "B later",
        "C latest",
    ]
    assert invitation_titles(client.get(LIST, {"sort": "deadline"})) == [
        "A sooner",
        "B later",
        "C latest",
    ]
    assert invitation_titles(client.get(LIST, {"sort": "newest"})) == [
        "C latest",
        "A sooner",
        "B later",
    ]
    default = invitation_titles(client.get(LIST))
    response = client.get(LIST, {"sort": "1; DROP TABLE tenders_invitation"})
    assert response.status_code == 200
    assert invitation_titles(response) == default


def test_a_suppliers_ties_are_never_repeated_or_skipped_across_pages(
    client, clock, officer, local_supplier_user
):
    aire = local_supplier_user.supplier
    made = {make_open(officer, [aire], title="Same").pk for _ in range(23)}
    client.force_login(local_supplier_user)
    for sort in ["open", "deadline", "newest", "title"]:
        first = client.get(LIST, {"sort": sort, "q": "same"})
        second = client.get(LIST, {"sort": sort, "q": "same", "page": 2})
        seen = [i.opportunity.pk for i in first.context["invitations"]] + [
            i.opportunity.pk for i in second.context["invitations"]
        ]
        assert len(seen) == 23 and set(seen) == made, sort
        assert sorted(next_link(first).split("&")) == ["page=2", "q=same", f"sort={sort}"]


def test_a_suppliers_search_costs_no_more_queries(
    client, clock, officer, local_supplier_user, django_assert_num_queries
):
    make_open(officer, [local_supplier_user.supplier], title="Library cleaning")
    client.force_login(local_supplier_user)
    client.get(LIST)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as plain:
        client.get(LIST)
    with django_assert_num_queries(len(plain)):
        client.get(LIST, {"q": "library", "sort": "title"})


# --- The supplier directory -----------------------------------------------------------


def directory_names(client, **params) -> list[str]:
    response = client.get(DIRECTORY, params)
    assert response.status_code == 200
    return [s.legal_name for s in response.context["suppliers"]]


@pytest.fixture
def registered(demo_data):
    """Two suppliers waiting for verification, with Companies House numbers."""
    north = supplier_create(
        legal_name="Zeta North Ltd",
        companies_house_number="01234567",
        sites=[SiteSpec("1 Low Street", "Bradford", "BD10 9AB")],
        by=None,
    )
    south = supplier_create(
        legal_name="Alpha South Ltd",
        companies_house_number="SC123456",
        sites=[SiteSpec("2 High Street", "Bradford", "BD2 1AA")],
        by=None,
    )
    return north, south


def test_the_directory_finds_by_companies_house_number_and_postcode(officer_client, registered):
    assert directory_names(officer_client, q="01234567") == ["Zeta North Ltd"]
    # Leading zeros may be left off; letters in any case.
    assert directory_names(officer_client, q="1234567") == ["Zeta North Ltd"]
    assert directory_names(officer_client, q="sc123456") == ["Alpha South Ltd"]
    assert directory_names(officer_client, q="bd2 1aa") == ["Alpha South Ltd"]
    assert directory_names(officer_client, q="BD21AA") == ["Alpha South Ltd"]
    assert "Zeta North Ltd" in directory_names(officer_client, q="BD10")
    assert "Alpha South Ltd" not in directory_names(officer_client, q="BD10")
    assert directory_names(officer_client, q="99999999") == []
    # Names are still found as before, with the other filters.
    assert directory_names(officer_client, q="zeta", status="pending") == ["Zeta North Ltd"]
    assert directory_names(officer_client, q="zeta", status="approved") == []


def test_the_directory_sorts_by_name_newest_and_district(officer_client, registered):
    names = directory_names(officer_client, sort="name", status="pending")
    assert names.index("Alpha South Ltd") < names.index("Zeta North Ltd")
    newest = directory_names(officer_client, sort="newest")
    assert newest[:2] == ["Alpha South Ltd", "Zeta North Ltd"]
    by_district = directory_names(officer_client, sort="district", q="bradford")
    # BD2 before BD10 (natural order, not BD10 before BD2).
    assert by_district.index("Alpha South Ltd") < by_district.index("Zeta North Ltd")
    response = officer_client.get(DIRECTORY, {"sort": "legal_name; --"})
    assert response.status_code == 200
    assert "There is a problem" not in main_text(response)
    assert [s.legal_name for s in response.context["suppliers"]] == directory_names(officer_client)


def test_the_directorys_district_order_is_the_lot_builders(officer_client, demo_data):
    """The database's key and ``district_sort_key`` agree, London letters too."""
    postcodes = ["SW2 1AA", "SW1A 1AA", "B1 1AA", "BD10 1AA", "BD2 1AA", "EC1A 1BB", "EC1 1AA"]
    for n, postcode in enumerate(postcodes):
        supplier_create(
            legal_name=f"District Order {n} Ltd",
            sites=[SiteSpec("1 Road", "Town", postcode)],
            by=None,
        )
    names = directory_names(officer_client, sort="district", q="district order")
    districts = [postcodes[int(name.split()[2])].split()[0] for name in names]
    assert districts == sorted_districts(districts)
    assert districts == ["B1", "BD2", "BD10", "EC1", "EC1A", "SW1A", "SW2"]


def test_the_directory_pages_keep_the_sort_and_never_repeat_a_supplier(officer_client, demo_data):
    for _ in range(25):
        supplier_create(
            legal_name="Same Name Ltd", sites=[SiteSpec("1 Road", "Leeds", "LS1 1AA")], by=None
        )
    for sort in ["", "name", "newest", "district"]:
        seen = []
        for page in (1, 2):
            response = officer_client.get(DIRECTORY, {"q": "same", "sort": sort, "page": page})
            seen += [s.pk for s in response.context["suppliers"]]
        assert len(seen) == len(set(seen)) == 25, sort


# --- Approving several suppliers ------------------------------------------------------


def approvals(supplier: SupplierOrganisation):
    return AuditEvent.objects.filter(
        action="supplier.status_changed", object_id=str(supplier.pk)
    ).order_by("pk")


def test_the_queue_offers_checkboxes_and_one_reason(officer_client, registered):
    page = main_text(officer_client.get(DIRECTORY, {"status": "pending"}))
    assert 'name="suppliers"' in page and "govuk-checkboxes__input" in page
    assert "Approve the suppliers ticked" in page and 'name="reason"' in page
    assert "csrfmiddlewaretoken" in page
    # Not on the whole directory, nor for an auditor.
    assert 'name="suppliers"' not in main_text(officer_client.get(DIRECTORY))


def test_an_auditor_sees_no_bulk_approval(client, auditor, registered):
    client.force_login(auditor)
    assert 'name="suppliers"' not in main_text(client.get(DIRECTORY, {"status": "pending"}))
    response = client.post(APPROVE, {"suppliers": [registered[0].pk], "reason": "Checked."})
    assert response.status_code == 403
    assert status_of(registered[0], auditor.buyer) == SupplierStatus.PENDING


def test_an_officer_approves_several_suppliers_for_one_reason(
    officer_client,
    officer,
    council,
    registered,
    in_process_tasks,
    django_capture_on_commit_callbacks,
):
    north, south = registered
    for target in registered:
        user_create(
            email=f"office@{target.pk}.example",
            full_name=f"Person {target.pk}",
            role=Role.SUPPLIER,
            supplier=target,
            supplier_role="admin",
            password=None,
            email_verified=True,
            by=None,
        )
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            f"{APPROVE}?status=pending&q=ltd",
            {"suppliers": [north.pk, south.pk], "reason": "Insurance checked."},
        )
    assert response.status_code == 302
    assert response["Location"] == f"{DIRECTORY}?status=pending&q=ltd"
    for target in registered:
        assert status_of(target, council) == SupplierStatus.APPROVED
        (event,) = approvals(target)
        assert event.actor == officer
        assert event.changes == {"status": ["pending", "approved"]}
        assert event.context["reason"] == "Insurance checked."
        assert InboxMessage.objects.filter(recipient__supplier=target).count() == 1
    # The same form sent again changes nothing and says why.
    response = officer_client.post(
        f"{APPROVE}?status=pending", {"suppliers": [north.pk], "reason": "Insurance checked."}
    )
    assert response.status_code == 200
    assert "is already approved" in main_text(response)
    assert approvals(north).count() == 1


def test_nothing_is_approved_when_one_chosen_supplier_may_not_be(
    officer_client, officer, council, registered
):
    north, south = registered
    supplier_set_status(
        supplier=south, buyer=council, status=SupplierStatus.SUSPENDED, reason="No.", by=officer
    )
    response = officer_client.post(
        f"{APPROVE}?status=pending", {"suppliers": [north.pk, south.pk], "reason": "Checked."}
    )
    assert response.status_code == 200
    page = main_text(response)
    assert "govuk-error-summary" in page and "Alpha South Ltd is already suspended" in page
    assert page.count('href="#id_suppliers_1"') == 1
    assert status_of(north, council) == SupplierStatus.PENDING
    assert approvals(north).count() == 0


def test_another_councils_officer_approves_for_their_own_council_only(
    client, officer, other_officer, council, other_council, registered
):
    north, _ = registered
    supplier_set_status(
        supplier=north, buyer=council, status=SupplierStatus.APPROVED, reason="Ok.", by=officer
    )
    client.force_login(other_officer)
    response = client.post(APPROVE, {"suppliers": [north.pk], "reason": "Checked by B."})
    assert response.status_code == 302
    assert status_of(north, other_council) == SupplierStatus.APPROVED
    assert approvals(north).count() == 2  # one for each council, each audited


def test_nothing_chosen_or_no_reason_is_explained_in_an_error_summary(officer_client, registered):
    response = officer_client.post(f"{APPROVE}?status=pending", {"reason": "Checked."})
    page = main_text(response)
    assert response.status_code == 200
    assert "govuk-error-summary" in page and "Choose at least one supplier to approve" in page
    assert "<title>Error: " in page
    response = officer_client.post(
        f"{APPROVE}?status=pending", {"suppliers": [registered[0].pk], "reason": "  "}
    )
    assert "Give a reason: the supplier will see it" in main_text(response)
    # The ticked box stays ticked.
    assert f'value="{registered[0].pk}" checked' in main_text(response)
    assert approvals(registered[0]).count() == 0
    response = officer_client.post(APPROVE, {"suppliers": ["999999"], "reason": "Checked."})
    assert "no longer registered" in main_text(response)


def test_the_service_refuses_an_empty_choice_and_someone_of_another_council(
    other_officer, council, registered
):
    with pytest.raises(BulkApprovalRefused):
        suppliers_approve(supplier_ids=[], buyer=council, reason="Checked.", by=None)
    with pytest.raises(BulkApprovalRefused, match="officers decide"):
        suppliers_approve(
            supplier_ids=[registered[0].pk], buyer=council, reason="Checked.", by=other_officer
        )
    assert status_of(registered[0], council) == SupplierStatus.PENDING


# --- The lot builder ------------------------------------------------------------------


def test_districts_sort_in_natural_order():
    given = ["BD10", "BD2", "BD1", "LS1", "B1", "EC1A", "EC1", "BD24", "BD3"]
    assert sorted_districts(given) == [
        "B1",
        "BD1",
        "BD2",
        "BD3",
        "BD10",
        "BD24",
        "EC1",
        "EC1A",
        "LS1",
    ]
    assert district_sort_key("bd7 ") == ("BD", 7, "")


def test_the_lot_builder_lists_districts_in_natural_order(officer_client, officer):
    opportunity = make_opportunity(officer, "5000")
    page = main_text(
        officer_client.get(reverse("tenders:opportunity_lot_builder", args=[opportunity.pk]))
    )
    positions = [page.index(f'value="BD{n}"') for n in (1, 2, 3, 9, 10, 11, 24)]
    assert positions == sorted(positions)


def test_each_lots_value_is_changed_before_the_lots_are_made(officer_client, officer):
    opportunity = make_opportunity(officer, "5000")
    url = reverse("tenders:opportunity_lot_builder", args=[opportunity.pk])
    chosen = {"areas": ["BD10", "BD3"], "title": "Grounds", "value_each": "20,000"}
    # The first page's button shows each lot's value, starting from the one given.
    response = officer_client.post(url, {**chosen, "review": "1"})
    assert response.status_code == 200
    page = main_text(response)
    assert "Check each lot&#x27;s value" in page or "Check each lot's value" in page
    assert page.index('name="value_BD3"') < page.index('name="value_BD10"')
    assert 'value="20000.00"' in page
    assert list(opportunity.lots.values_list("title", flat=True)) == ["Lot 1"]  # nothing yet
    # A value that is nothing, or not to the penny, is refused with a summary.
    response = officer_client.post(
        url, {**chosen, "make": "1", "value_BD3": "0", "value_BD10": "1.234"}
    )
    page = main_text(response)
    assert "govuk-error-summary" in page
    assert "Enter the value of the BD3 lot of at least £0.01" in page
    assert "Enter the value of the BD10 lot to the nearest penny" in page
    assert list(opportunity.lots.values_list("title", flat=True)) == ["Lot 1"]
    # Changed values are the lots'; the route is decided on their sum.
    response = officer_client.post(
        url, {**chosen, "make": "1", "value_BD3": "£30,000", "value_BD10": "25000.50"}
    )
    assert response.status_code == 302
    lots = [(lot.title, lot.area, lot.estimated_value) for lot in opportunity.lots.all()]
    assert lots == [
        ("Grounds – BD3", "BD3", D("30000.00")),
        ("Grounds – BD10", "BD10", D("25000.50")),
    ]
    opportunity.refresh_from_db()
    assert (opportunity.route, opportunity.band_name) == ("invitation", "Invited tender")


def test_edited_lot_values_over_the_threshold_send_it_to_full_tender(officer_client, officer):
    opportunity = make_opportunity(officer, "5000")
    url = reverse("tenders:opportunity_lot_builder", args=[opportunity.pk])
    response = officer_client.post(
        url,
        {
            "areas": ["BD1", "BD2"],
            "title": "Grounds",
            "value_each": "20000",
            "make": "1",
            "value_BD1": "100000",
            "value_BD2": "80000",
        },
    )
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.route == "full_tender"


def test_a_published_opportunity_has_no_lot_builder(officer_client, officer):
    supplier = approved_supplier("Lot Test Ltd", "BD1 1AA")
    opportunity = make_opportunity(officer, "5000")
    from tenders.services import invite

    invite(opportunity=opportunity, suppliers=[supplier], by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    url = reverse("tenders:opportunity_lot_builder", args=[opportunity.pk])
    response = officer_client.post(
        url, {"areas": ["BD1"], "title": "G", "value_each": "1", "make": "1", "value_BD1": "2"}
    )
    assert response.status_code == 302
    assert list(opportunity.lots.values_list("title", flat=True)) == ["Lot 1"]
