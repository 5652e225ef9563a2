"""A council's locality: its postcode districts, edited by its administrators
with history; who is local follows the list at once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from devdata import demo
from portal.locality import collapse_districts
from portal.models import AuditEvent, Role
from portal.postcodes import parse_districts
from portal.services import user_create
from suppliers.models import SupplierSite

LOCALITY = reverse("locality")


def districts_of(buyer) -> list[str]:
    return sorted(buyer.locality_districts.values_list("district", flat=True))


@pytest.fixture
def other_admin(other_council):
    return user_create(
        email="admin@other-borough.example",
        full_name="Ola Admin",
        role=Role.ADMIN,
        password=None,
        buyer=other_council,
        by=None,
    )


@pytest.mark.parametrize(
    ("districts", "written"),
    [
        (["BD1", "BD2", "BD3"], "BD1–BD3"),
        (["BD3", "BD1", "BD2", "BD10", "BD11"], "BD1–BD3, BD10, BD11"),
        (parse_districts("BD1-BD24, BD97-BD99"), "BD1–BD24, BD97–BD99"),
        (["LS29", "BD9", "BD8", "BD7", "HX1"], "BD7–BD9, HX1, LS29"),
        (["EC1", "EC1A", "EC2", "EC3", "EC4"], "EC1, EC1A, EC2–EC4"),
        ([], ""),
    ],
)
def test_districts_are_written_compactly_with_runs_as_ranges(districts, written):
    assert collapse_districts(districts) == written


def test_the_compact_form_reads_back_as_the_same_districts():
    districts = parse_districts("BD1-BD24, BD97-BD99, LS29, EC1A, HX1-HX3")
    assert sorted(parse_districts(collapse_districts(districts))) == sorted(districts)
    assert sorted(parse_districts(collapse_districts(districts, dash="-"))) == sorted(districts)


def test_an_administrator_sees_the_locality_compactly_with_a_form(client, admin_user):
    client.force_login(admin_user)
    response = client.get(LOCALITY)
    page = response.content.decode()
    assert response.status_code == 200
    assert "BD1–BD24" in page and ">24<" in page
    assert "<textarea" in page and "\nBD1-BD24</textarea>" in page
    assert "Save locality" in page


def test_an_administrator_changes_the_locality_and_the_history_shows_what_changed(
    client, admin_user, council
):
    client.force_login(admin_user)
    response = client.post(LOCALITY, {"districts": "BD1-BD20\nBD97-BD99, ls29"})
    assert response.status_code == 302 and response["Location"] == LOCALITY
    assert districts_of(council) == sorted(parse_districts("BD1-BD20, BD97-BD99, LS29"))
    event = AuditEvent.objects.filter(action="buyer.locality_changed", actor=admin_user).get()
    assert event.object_id == str(council.pk)

    page = client.get(LOCALITY).content.decode()
    assert "Locality saved: BD1–BD20, BD97–BD99, LS29." in page
    history = page.split("History, newest first", 1)[1]
    rows = history.split('<tr class="govuk-table__row">')[2:]
    assert len(rows) == 2
    newest, first = rows
    assert "Sam Whitaker" in newest
    assert "BD97–BD99, LS29" in newest and "BD21–BD24" in newest
    assert "The portal" in first and "BD1–BD24" in first  # the demo's seeding


def test_saving_the_same_list_changes_nothing(client, admin_user):
    client.force_login(admin_user)
    client.post(LOCALITY, {"districts": "BD24, BD1-BD23"})
    page = client.get(LOCALITY).content.decode()
    assert "Nothing changed" in page
    assert not AuditEvent.objects.filter(action="buyer.locality_changed", actor=admin_user).exists()


def test_spaces_inside_a_district_mean_nothing(client, admin_user, council):
    """ "BD 1" is BD1, as people write it; it was refused as not a district."""
    client.force_login(admin_user)
    client.post(LOCALITY, {"districts": "BD 1 - BD 20, BD 97, BD98-BD 99"})
    assert "Locality saved: BD1–BD20, BD97–BD99." in client.get(LOCALITY).content.decode()
    assert districts_of(council) == sorted(parse_districts("BD1-BD20, BD97-BD99"))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("BD1-BD24, XYZ, LS1", "“XYZ” is not a postcode district or range"),
        ("BD9-BD1", "“BD9-BD1” runs backwards"),
        ("BD1 4PB", "“BD1 4PB” is not a postcode district or range"),
        ("BD1-BD24, ZZ99", "“ZZ99” is not a postcode district: ZZ is not a UK postcode area."),
        ("QQ1", "“QQ1” is not a postcode district: QQ is not a UK postcode area."),
        ("QQ1-QQ5", "“QQ1-QQ5” is not a postcode district: QQ is not a UK postcode area."),
        ("", "Enter the postcode districts of your locality"),
        (" , ; ", "Enter the postcode districts of your locality"),
    ],
)
def test_a_bad_entry_is_refused_naming_it_and_keeping_the_text(
    client, admin_user, council, typed, message
):
    client.force_login(admin_user)
    response = client.post(LOCALITY, {"districts": typed})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Locality" in page
    assert "govuk-error-summary" in page and message in page
    assert f"\n{typed}</textarea>" in page
    assert districts_of(council) == sorted(parse_districts(demo.LOCALITY))


@pytest.mark.parametrize("persona", ["officer", "auditor"])
def test_officers_and_auditors_see_the_locality_read_only(client, request, council, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(LOCALITY)
    page = response.content.decode()
    assert response.status_code == 200
    assert "BD1–BD24" in page
    assert "<textarea" not in page and "Save locality" not in page
    assert "Only your council’s administrators can change the locality" in page
    assert client.post(LOCALITY, {"districts": "BD1"}).status_code == 403
    assert districts_of(council) == sorted(parse_districts(demo.LOCALITY))


@pytest.mark.parametrize("persona", ["local_supplier_user", "distant_supplier_user"])
def test_supplier_users_get_404(client, request, council, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(LOCALITY).status_code == 404
    assert client.post(LOCALITY, {"districts": "BD1"}).status_code == 404
    assert districts_of(council) == sorted(parse_districts(demo.LOCALITY))


def test_an_administrator_of_the_whole_portal_has_no_locality_page(client, db):
    admin = user_create(
        email="root@portal.example",
        full_name="Portal Root",
        role=Role.ADMIN,
        password=None,
        by=None,
    )
    client.force_login(admin)
    assert client.get(LOCALITY).status_code == 404
    labels = [item["label"] for item in client.get(reverse("home")).context["nav_items"]]
    assert "Suppliers" in labels and "Locality" not in labels


def test_another_councils_administrator_changes_only_their_own_councils_locality(
    client, council, admin_user, other_council, other_admin
):
    client.force_login(other_admin)
    page = client.get(LOCALITY).content.decode()
    assert "Other Borough Council" in page and "LS1–LS29" in page and "BD1–BD24" not in page
    client.post(LOCALITY, {"districts": "LS1-LS9"})
    assert districts_of(other_council) == sorted(parse_districts("LS1-LS9"))
    assert districts_of(council) == sorted(parse_districts(demo.LOCALITY))
    # Each council's history is its own.
    page = client.get(LOCALITY).content.decode()
    assert "Ola Admin" in page
    client.force_login(admin_user)
    assert "Ola Admin" not in client.get(LOCALITY).content.decode()


def test_changing_the_list_changes_who_is_local_in_the_directory_at_once(
    client, admin_user, officer
):
    directory = reverse("supplier_directory")
    client.force_login(officer)
    local = [s.legal_name for s in client.get(directory, {"only": "local"}).context["suppliers"]]
    assert "Aire Valley Cleaning Ltd" in local and "Leeds Office Supplies Ltd" not in local

    client.force_login(admin_user)
    client.post(LOCALITY, {"districts": "LS1-LS29"})

    client.force_login(officer)
    response = client.get(directory, {"only": "local"})
    assert [s.legal_name for s in response.context["suppliers"]] == [
        "Ilkley Catering Co-operative Ltd",
        "Leeds Office Supplies Ltd",
    ]
    everyone = client.get(directory).context["suppliers"]
    assert [s.legal_name for s in everyone[:2]] == [
        "Ilkley Catering Co-operative Ltd",
        "Leeds Office Supplies Ltd",
    ]
    aire = next(s for s in everyone if s.legal_name == "Aire Valley Cleaning Ltd")
    assert not aire.is_local
    detail = client.get(reverse("supplier_detail", args=[aire.pk])).content.decode()
    assert "No, BD1 is outside" in detail


def test_a_new_site_in_the_locality_makes_a_supplier_local_at_once(
    client, officer, distant_supplier_user
):
    leeds_office = distant_supplier_user.supplier
    directory = reverse("supplier_directory")
    client.force_login(officer)
    local = [s.legal_name for s in client.get(directory, {"only": "local"}).context["suppliers"]]
    assert "Leeds Office Supplies Ltd" not in local

    SupplierSite.objects.create(
        supplier=leeds_office,
        address_line_1="1 Forster Square",
        town="Bradford",
        postcode="bd1 4as",
    )
    local = [s.legal_name for s in client.get(directory, {"only": "local"}).context["suppliers"]]
    assert "Leeds Office Supplies Ltd" in local


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("officer", True),
        ("auditor", True),
        ("admin_user", True),
        ("local_supplier_user", False),
    ],
)
def test_the_menu_links_to_suppliers_and_locality_for_council_staff(client, request, persona, sees):
    client.force_login(request.getfixturevalue(persona))
    labels = [item["label"] for item in client.get(reverse("home")).context["nav_items"]]
    assert ("Suppliers" in labels) is sees
    assert ("Locality" in labels) is sees
