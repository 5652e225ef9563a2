"""The officers' supplier directory and a supplier's page: search, filters,
pagination, who may see them, and a fixed cost per page with 5,000 suppliers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from cpv.models import CpvCode
from devdata import demo
from portal.models import BuyerOrganisation, Role
from portal.services import user_create
from suppliers.models import SupplierApproval, SupplierOrganisation, SupplierSite, SupplierStatus

DIRECTORY = reverse("supplier_directory")
# session, user, two-factor device, council (header), unread count; then the page: rows
# with the count, and on PostgreSQL their sites and categories with them (elsewhere
# two more queries). A category filter adds the lookup of the code typed.
DIRECTORY_QUERIES = 6 if connection.vendor == "postgresql" else 8
# On PostgreSQL a council's directory pages are kept until what they show changes.
KEPT = connection.vendor == "postgresql"


def shown(response) -> tuple:
    """A directory page as an officer reads it: its number, the count and each row."""
    rows = [
        (s.pk, s.legal_name, s.is_local, s.status, s.based_at, list(s.category_list))
        for s in response.context["suppliers"]
    ]
    return response.context["page"].number, response.context["page"].paginator.count, rows


# session, user, two-factor device, council, unread count; supplier (with its status for
# the officer's council), sites, categories, councils it is local to, history, people;
# every council's decision on it, the changes waiting for review (ADR 12).
DETAIL_QUERIES = 13
CLEANERS = {
    "Aire Valley Cleaning Ltd",  # 90910000-9, 90911200-8
    "Eccleshill Facilities Ltd",  # 90911200-8
    "National Facilities Group plc",  # 90910000-9
    "Calder Valley Cleaning Ltd",  # 90910000-9
}
LOCAL_TO_DEMO_COUNCIL = {  # a site in BD1–BD24
    "Aire Valley Cleaning Ltd",
    "Bradford Community Care CIC",
    "Shipley Grounds Maintenance Ltd",
    "Keighley Print & Design Ltd",
    "Wibsey Building Services Ltd",
    "Thornton Youth Trust",
    "Bingley IT Support Ltd",
    "Eccleshill Facilities Ltd",
    "Queensbury Transport Ltd",
    "Little Horton Food Bank",
    "Allerton Electrical Contractors Ltd",
    "Baildon Landscapes Ltd",
    "Bradford Interpreting Services Ltd",
}


def found(client, **params) -> list[str]:
    response = client.get(DIRECTORY, params)
    assert response.status_code == 200
    return [s.legal_name for s in response.context["suppliers"]]


def supplier(name: str) -> SupplierOrganisation:
    return SupplierOrganisation.objects.get(legal_name=name)


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def test_the_directory_lists_local_suppliers_first_then_by_name(officer_client):
    response = officer_client.get(DIRECTORY)
    suppliers = response.context["suppliers"]
    assert response.context["page"].paginator.count == len(demo.SUPPLIERS) == 22
    assert len(suppliers) == 20  # and 2 on page 2
    assert [s.legal_name for s in suppliers[:13]] == sorted(LOCAL_TO_DEMO_COUNCIL)
    assert all(s.is_local for s in suppliers[:13])
    assert not any(s.is_local for s in suppliers[13:])
    second = officer_client.get(DIRECTORY, {"page": 2}).context["suppliers"]
    assert len(second) == 2 and not any(s.is_local for s in second)
    page = response.content.decode()
    assert "22 suppliers" in page
    assert page.count('lt-badge-local">Local<') == 13
    assert reverse("supplier_detail", args=[supplier("Aire Valley Cleaning Ltd").pk]) in page
    assert "BD1 4PB" in page and "Building-cleaning services" in page


def test_each_row_shows_the_suppliers_sites_categories_tags_and_status(officer_client):
    aire = supplier("Aire Valley Cleaning Ltd")
    SupplierSite.objects.create(
        supplier=aire, address_line_1="8 Kirkgate", town="Leeds", postcode="LS1 6BZ"
    )
    thornton = supplier("Thornton Youth Trust")
    thornton.categories.clear()
    SupplierOrganisation.objects.filter(pk=thornton.pk).update(trading_name="Clayton Kids Club")
    page = officer_client.get(DIRECTORY).content.decode()

    def row(name: str) -> str:
        return page.split(f">{name}</a>", 1)[1].split("</tr>", 1)[0]

    aire_row = row("Aire Valley Cleaning Ltd")
    assert f'href="{reverse("supplier_detail", args=[aire.pk])}">Aire Valley' in page
    assert "Bradford BD1 4PB; Leeds LS1 6BZ" in aire_row  # sites in the order added
    codes = '<span class="govuk-!-font-tabular-numbers">90910000-9</span> Cleaning services<br>'
    assert codes in aire_row and aire_row.index("90910000-9") < aire_row.index("90911200-8")
    assert 'lt-badge-local">Local<' in aire_row and 'lt-badge-local">SME<' in aire_row
    assert "VCSE<" not in aire_row
    assert 'govuk-tag--turquoise">Approved<' in aire_row
    thornton_row = row("Thornton Youth Trust")
    assert "trading as Clayton Kids Club" in thornton_row
    assert "None given" in thornton_row and 'lt-badge-local">VCSE<' in thornton_row
    pending = row("Allerton Electrical Contractors Ltd")
    assert 'govuk-tag--yellow">Waiting for verification<' in pending
    assert 'govuk-tag--red">Suspended<' in row("Calder Valley Cleaning Ltd")


def test_search_finds_a_supplier_by_its_name(officer_client):
    assert found(officer_client, q="Aire Valley") == ["Aire Valley Cleaning Ltd"]
    assert found(officer_client, q="  keighley  ") == ["Keighley Print & Design Ltd"]


def test_search_finds_a_supplier_by_its_trading_name(officer_client):
    thornton = supplier("Thornton Youth Trust")
    SupplierOrganisation.objects.filter(pk=thornton.pk).update(trading_name="Clayton Kids Club")
    assert found(officer_client, q="clayton kids") == ["Thornton Youth Trust"]


def test_search_by_words_finds_what_suppliers_do_and_where(officer_client):
    assert set(found(officer_client, q="cleaning")) == CLEANERS
    # Every word must be found: "Bradford" in a site's town.
    assert found(officer_client, q="cleaning bradford") == [
        "Aire Valley Cleaning Ltd",
        "Eccleshill Facilities Ltd",
    ]
    assert found(officer_client, q="interpreting") == ["Bradford Interpreting Services Ltd"]
    assert found(officer_client, q="cleaning interpreting") == []


def test_a_search_finding_nothing_says_so(officer_client):
    response = officer_client.get(DIRECTORY, {"q": "submarines"})
    page = response.content.decode()
    assert response.context["suppliers"] == []
    assert "0 suppliers found" in page and "No suppliers match these filters" in page


@pytest.mark.parametrize("code", ["90900000", "90900000-6", "90910000-9"])
def test_a_category_finds_suppliers_in_it_and_in_every_code_below_it(officer_client, code):
    names = found(officer_client, category=code)
    assert set(names) == CLEANERS
    assert "Bingley IT Support Ltd" not in names


def test_a_category_does_not_find_suppliers_only_in_the_codes_above_it(officer_client):
    # 90911000-6 is below 90910000-9: suppliers listing only the broader code
    # do not claim this narrower work.
    names = found(officer_client, category="90911000-6")
    assert names == ["Aire Valley Cleaning Ltd", "Eccleshill Facilities Ltd"]


def test_it_work_is_found_under_its_own_division(officer_client):
    assert found(officer_client, category="72000000-5") == [
        "Bingley IT Support Ltd",
        "Midlands Digital Solutions Ltd",  # 72200000-7, below 72000000-5
    ]


def test_local_only_shows_suppliers_with_a_site_in_the_councils_districts(officer_client):
    names = found(officer_client, only="local")
    assert set(names) == LOCAL_TO_DEMO_COUNCIL
    assert "Ilkley Catering Co-operative Ltd" not in names  # LS29 is outside BD1–BD24


def test_sme_and_vcse_filters(officer_client):
    smes = found(officer_client, only="sme")
    assert len(smes) == 20
    assert "National Facilities Group plc" not in smes
    assert "Pennine Security Services Ltd" not in smes
    assert set(found(officer_client, only="vcse")) == {
        "Bradford Community Care CIC",
        "Ilkley Catering Co-operative Ltd",
        "Thornton Youth Trust",
        "Little Horton Food Bank",
        "Yorkshire Social Care Partnership",
    }
    assert found(officer_client, only=["local", "vcse"]) == [
        "Bradford Community Care CIC",
        "Little Horton Food Bank",
        "Thornton Youth Trust",
    ]


def test_status_filter(officer_client):
    assert found(officer_client, status="pending") == [
        "Allerton Electrical Contractors Ltd",
        "Baildon Landscapes Ltd",
        "Huddersfield Print Works Ltd",
    ]
    assert found(officer_client, status="suspended") == ["Calder Valley Cleaning Ltd"]
    assert len(found(officer_client, status="approved")) == 18


def test_filters_combine(officer_client):
    assert found(
        officer_client,
        q="cleaning",
        category="90910000-9",
        only=["local", "sme"],
        status="approved",
    ) == ["Aire Valley Cleaning Ltd", "Eccleshill Facilities Ltd"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("9091", "Enter a CPV code like 45000000-7"),
        ("99999999", "99999999 is not a CPV 2008 code"),
        ("90910000-1", "The check digit of 90910000 is 9, not 1"),
    ],
)
def test_an_invalid_category_shows_the_error_summary_and_keeps_what_was_typed(
    officer_client, typed, message
):
    response = officer_client.get(DIRECTORY, {"q": "cleaning", "category": typed})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Suppliers" in page
    assert "govuk-error-summary" in page and "There is a problem" in page
    assert message in page
    assert f'value="{typed}"' in page and 'value="cleaning"' in page
    assert response.context["suppliers"] == []


def test_a_status_that_does_not_exist_is_refused(officer_client):
    response = officer_client.get(DIRECTORY, {"status": "deleted"})
    assert "govuk-error-summary" in response.content.decode()


def make_local_cleaners(n: int) -> None:
    codes = list(CpvCode.objects.filter(code="90910000-9"))
    SupplierOrganisation.objects.bulk_create(
        SupplierOrganisation(legal_name=f"Cleaner {i:03d} Ltd", is_sme=True) for i in range(n)
    )
    made = SupplierOrganisation.objects.filter(legal_name__startswith="Cleaner ")
    council = BuyerOrganisation.objects.get(slug=demo.BUYER["slug"])
    SupplierApproval.objects.bulk_create(
        SupplierApproval(supplier=s, buyer=council, status="approved") for s in made
    )
    SupplierSite.objects.bulk_create(
        SupplierSite(supplier=s, address_line_1="1 Road", town="Bradford", postcode="BD3 9AA")
        for s in made
    )
    for s in made:
        s.categories.set(codes)
    SupplierSite.objects.filter(supplier__in=made).update(district="BD3")


def test_pages_of_20_keep_the_filters_in_their_links(officer_client):
    make_local_cleaners(35)
    params = {"q": "cleaning", "only": ["local", "sme"], "status": "approved"}
    first = officer_client.get(DIRECTORY, params)
    page = first.content.decode()
    assert len(first.context["suppliers"]) == 20
    assert "Showing 1 to 20" in page
    assert 'href="?q=cleaning&amp;only=local&amp;only=sme&amp;status=approved&amp;page=2"' in page

    second = officer_client.get(DIRECTORY, {**params, "page": 2})
    names = [s.legal_name for s in second.context["suppliers"]]
    # 35 new cleaners plus Aire Valley and Eccleshill: 37, 17 on page 2.
    assert len(names) == 17
    assert names[-1] == "Eccleshill Facilities Ltd"
    assert 'href="?q=cleaning&amp;only=local&amp;only=sme&amp;status=approved&amp;page=1"' in (
        second.content.decode()
    )


# --- Who may see the pages ---------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("officer", 200),
        ("auditor", 200),
        ("admin_user", 200),
        # Suppliers register once for the whole portal: another council's
        # officer sees every supplier too.
        ("other_officer", 200),
        ("local_supplier_user", 404),
        ("distant_supplier_user", 404),
    ],
)
def test_who_may_see_the_directory_and_a_suppliers_page(client, request, persona, status):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(DIRECTORY).status_code == status
    # Every supplier's page, including a supplier user's own organisation
    # (they see it at /organisation/, not here).
    for pk in SupplierOrganisation.objects.values_list("pk", flat=True):
        assert client.get(reverse("supplier_detail", args=[pk])).status_code == status


def test_a_supplier_that_does_not_exist_is_a_404(officer_client):
    assert officer_client.get(reverse("supplier_detail", args=[999999])).status_code == 404


def test_another_councils_officer_sees_local_to_their_own_council(client, demo_data, other_officer):
    client.force_login(other_officer)
    names = found(client, only="local")
    assert names == ["Ilkley Catering Co-operative Ltd", "Leeds Office Supplies Ltd"]


def test_a_portal_wide_administrator_sees_the_directory_without_a_local_filter(client, demo_data):
    admin = user_create(
        email="root@portal.example",
        full_name="Portal Root",
        role=Role.ADMIN,
        password=None,
        by=None,
    )
    client.force_login(admin)
    response = client.get(DIRECTORY)
    assert response.context["page"].paginator.count == 22
    assert not any(s.is_local for s in response.context["suppliers"])
    assert "Local to" not in response.content.decode()


# --- A supplier's page ---------------------------------------------------------------


def test_a_suppliers_page_shows_its_details_sites_categories_people_and_history(
    officer_client, local_supplier_user
):
    aire = local_supplier_user.supplier
    SupplierSite.objects.create(
        supplier=aire, address_line_1="8 Kirkgate", town="Leeds", postcode="LS1 6BZ"
    )
    page = officer_client.get(reverse("supplier_detail", args=[aire.pk])).content.decode()
    assert '<h1 class="govuk-heading-l">Aire Valley Cleaning Ltd</h1>' in page
    assert "09123456" in page  # Companies House number
    assert "Local to Demo Council" in page
    sites = page.split(">Sites<", 1)[1].split("</table>", 1)[0]
    assert "12 Manor Row, Bradford" in sites
    assert ">Local</strong>" in sites.split("Kirkgate", 1)[0]
    assert "No, LS1 is outside" in sites
    # Leeds is in no council's locality here, so only the demo council.
    assert "Demo Council" in page.split("Local to</dt>", 1)[1].split("</dd>", 1)[0]
    assert "90910000-9" in page and "Cleaning services" in page
    people = page.split(">People<", 1)[1].split("</ul>", 1)[0]
    assert "Jo Pickles" in people and "@" not in people  # names only
    assert "Approved" in page and "Demo data." in page
    history = page.split(">History<", 1)[1]
    assert history.index("Registered") < history.index(
        "Status changed from waiting for verification to approved"
    )


def test_a_suppliers_page_makes_a_fixed_number_of_queries(
    officer_client, django_assert_num_queries, local_supplier_user
):
    aire = local_supplier_user.supplier
    url = reverse("supplier_detail", args=[aire.pk])
    officer_client.get(url)  # warm-up
    with django_assert_num_queries(DETAIL_QUERIES):
        officer_client.get(url)
    for n in range(10):
        SupplierSite.objects.create(
            supplier=aire, address_line_1=f"{n} Road", town="Bradford", postcode=f"BD{n + 1} 1AA"
        )
    aire.categories.add(*CpvCode.objects.all()[:10])
    with django_assert_num_queries(DETAIL_QUERIES):
        response = officer_client.get(url)
    assert response.status_code == 200


# --- A fixed cost per page ----------------------------------------------------------


def bulk_suppliers(n: int) -> None:
    """``n`` suppliers with one or two sites and two categories, in bulk.

    ``bulk_create`` skips ``save()``, so each site's district is set here.
    """
    codes = list(CpvCode.objects.values_list("code", flat=True))
    statuses = list(SupplierStatus)
    SupplierOrganisation.objects.bulk_create(
        SupplierOrganisation(
            legal_name=f"Bulk Supplier {i:05d} Ltd",
            is_sme=i % 2 == 0,
            is_vcse=i % 7 == 0,
        )
        for i in range(n)
    )
    pks = list(
        SupplierOrganisation.objects.filter(legal_name__startswith="Bulk Supplier ")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # The demo council's decisions: a third each pending (no row), approved, suspended.
    council = BuyerOrganisation.objects.get(slug=demo.BUYER["slug"])
    SupplierApproval.objects.bulk_create(
        SupplierApproval(supplier_id=pk, buyer=council, status=statuses[i % 3])
        for i, pk in enumerate(pks)
        if statuses[i % 3] != SupplierStatus.PENDING
    )
    sites = []
    for i, pk in enumerate(pks):
        district = f"BD{i % 30 + 1}"  # BD25–BD30 are outside the demo locality
        sites.append(
            SupplierSite(
                supplier_id=pk,
                address_line_1=f"{i} Mill Lane",
                town="Bradford",
                postcode=f"{district} 1AA",
                district=district,
            )
        )
        if i % 4 == 0:
            sites.append(
                SupplierSite(
                    supplier_id=pk,
                    address_line_1="1 Wellington Street",
                    town="Leeds",
                    postcode="LS1 4LT",
                    district="LS1",
                )
            )
    SupplierSite.objects.bulk_create(sites)
    Categories = SupplierOrganisation.categories.through
    Categories.objects.bulk_create(
        Categories(supplierorganisation_id=pk, cpvcode_id=codes[(i + k) % len(codes)])
        for i, pk in enumerate(pks)
        for k in range(2)
    )


def test_a_directory_page_costs_the_same_queries_with_5000_suppliers(
    officer_client, django_assert_num_queries
):
    filtered = {"q": "bulk supplier", "only": ["local", "sme"], "status": "approved"}
    with_category = {**filtered, "category": "90910000-9"}
    officer_client.get(DIRECTORY, {"q": "warm"})  # warm-up (content types, sessions)

    def page(params: dict, queries: int):
        """The page read afresh then, on PostgreSQL, as kept (``directory_page``):
        afresh two statements more (what is kept, then keeping it), as kept one
        more (what is kept, then its rows by id: not the search again)."""
        with django_assert_num_queries(queries + (2 if KEPT else 0)):
            response = officer_client.get(DIRECTORY, params)
        if KEPT:
            with django_assert_num_queries(queries + 1):
                again = officer_client.get(DIRECTORY, params)
            assert shown(again) == shown(response)
        return response

    page({}, DIRECTORY_QUERIES)
    page({"category": "90910000-9"}, DIRECTORY_QUERIES + 1)

    bulk_suppliers(5000)
    assert SupplierOrganisation.objects.count() == 5022

    first = page({}, DIRECTORY_QUERIES)
    later = page({**filtered, "page": 7}, DIRECTORY_QUERIES)
    categorised = page({**with_category, "page": 2}, DIRECTORY_QUERIES + 1)
    # The verification queue, by district: its bulk approval adds no query.
    queue = page({"status": "pending", "sort": "district", "page": 3}, DIRECTORY_QUERIES)

    assert first.context["page"].paginator.count == 5022
    assert len(first.context["suppliers"]) == 20
    assert all(s.is_local for s in first.context["suppliers"])
    rows = later.context["suppliers"]
    assert later.context["page"].number == 7 and len(rows) == 20
    assert all(s.is_local and s.is_sme and s.status == "approved" for s in rows)
    assert all(s.legal_name.startswith("Bulk Supplier") for s in rows)
    assert categorised.context["page"].number == 2
    for s in categorised.context["suppliers"]:
        assert any(code.startswith("9091") for code, _ in s.category_list)
    waiting = queue.context["suppliers"]
    assert queue.context["approve_form"] is not None and len(waiting) == 20
    assert all(s.status == "pending" for s in waiting)
    assert (
        queue.context["page"].paginator.count
        == SupplierOrganisation.objects.exclude(approvals__buyer__slug=demo.BUYER["slug"]).count()
    )


def test_a_directory_page_past_the_end_shows_the_last_page(officer_client):
    bulk_suppliers(60)
    total = SupplierOrganisation.objects.count()
    response = officer_client.get(DIRECTORY, {"page": 99})
    page = response.context["page"]
    assert page.paginator.count == total
    assert page.number == page.paginator.num_pages == -(-total // 20)
    assert len(response.context["suppliers"]) == total - 20 * (page.number - 1)
    nothing = officer_client.get(DIRECTORY, {"q": "zzzznotaname", "page": 3})
    assert nothing.context["page"].paginator.count == 0
    assert nothing.context["suppliers"] == []


def test_a_kept_directory_page_shows_a_change_made_anywhere_at_once(officer_client, officer):
    """On PostgreSQL a council's directory pages are kept under the version
    of what they show (``selectors.directory_page``): a decision, a supplier's
    new category or trading name, made through a service or straight in the
    database, shows on the next request, as a fresh read gives it; pruning
    removes only what no request can read again."""
    from portal import kept
    from portal.models import KeptRead
    from suppliers.models import SupplierFactsVersion
    from suppliers.selectors import SUPPLIER_FACTS
    from tests.conftest import need

    need(connection.vendor == "postgresql", "the directory's pages are kept on PostgreSQL only")
    SupplierFactsVersion.objects.get_or_create(pk=1)  # a flushed database has no count
    queue = {"status": "pending"}
    search = {"q": "zebra crossings"}

    def read(params: dict) -> tuple:
        return shown(officer_client.get(DIRECTORY, params))

    def fresh(params: dict) -> tuple:
        KeptRead.objects.all().delete()
        return read(params)

    waiting = read(queue)
    assert waiting[1] > 0 and waiting[2]
    assert read(queue) == waiting  # as kept
    assert KeptRead.objects.filter(buyer=officer.buyer).exists()
    assert read(search)[1] == 0

    # A decision written straight in the database: the supplier leaves the queue.
    first = SupplierOrganisation.objects.get(pk=waiting[2][0][0])
    SupplierApproval.objects.create(supplier=first, buyer=officer.buyer, status="approved")
    after = read(queue)
    assert after[1] == waiting[1] - 1
    assert first.pk not in [row[0] for row in after[2]]
    assert after == fresh(queue)

    # A trading name and a category added in bulk: the search finds the supplier.
    SupplierOrganisation.objects.filter(pk=first.pk).update(trading_name="Zebra Crossings")
    assert [row[0] for row in read(search)[2]] == [first.pk]
    code = CpvCode.objects.get(code="90910000-9")
    other = SupplierOrganisation.objects.exclude(pk=first.pk).exclude(categories=code).first()
    category = {"category": code.code}
    before = read(category)
    SupplierOrganisation.categories.through.objects.bulk_create(
        [SupplierOrganisation.categories.through(supplierorganisation=other, cpvcode=code)]
    )
    assert read(category)[1] == before[1] + 1
    assert read(category) == fresh(category)

    # Pruning keeps what the current version kept and removes the older.
    read(queue)
    KeptRead.objects.filter(buyer=officer.buyer).update(version=-1)
    read(search)  # kept again under the current version
    kept.prune(SUPPLIER_FACTS)
    assert not KeptRead.objects.filter(version=-1).exists()
    assert KeptRead.objects.filter(buyer=officer.buyer).count() == 1
    assert [row[0] for row in read(search)[2]] == [first.pk]
