"""A council's procurement policy pages: its versions and the statutory figures
in force; council administrators add a version, refused when its local
threshold is above the statutory threshold in force on its date."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from cpv.models import CpvCode
from portal.models import AuditEvent, Role
from portal.services import user_create
from tenders.models import ProcurementPolicy, StatutoryFigure
from tenders.selectors import policy_in_force
from tenders.services import BandSpec, policy_create, route_for

LONDON = ZoneInfo("Europe/London")
POLICY = reverse("tenders:policy")
NEW = reverse("tenders:policy_new")
DEMO_ROWS = [
    ("Single quote", "0", "1", "1", False),
    ("Three quotes", "10,000", "3", "2", False),
    ("Invited tender", "£50,000.00", "4", "3", True),
]
BLANK = ("", "", "", "", False)


@pytest.fixture
def january(demo_data):
    """20 January 2026: the 2026 statutory thresholds are in force."""
    with time_machine.travel(datetime.datetime(2026, 1, 20, 10, tzinfo=LONDON), tick=False):
        yield


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


def form_data(
    *,
    effective: datetime.date | None = datetime.date(2026, 2, 1),
    threshold: str = "200000",
    vat_basis: str = "inclusive",
    rate: str = "20",
    window: str = "365",
    digits: str = "3",
    notes: str = "",
    rows: list[tuple] | None = None,
    initial_forms: int = 0,
    standstill: str = "0",
) -> dict[str, str]:
    rows = (DEMO_ROWS if rows is None else rows) + [BLANK, BLANK]
    data = {
        "effective_from_0": str(effective.day) if effective else "",
        "effective_from_1": str(effective.month) if effective else "",
        "effective_from_2": str(effective.year) if effective else "",
        "local_threshold": threshold,
        "vat_basis": vat_basis,
        "vat_rate_percent": rate,
        "aggregation_window_days": window,
        "aggregation_cpv_digits": digits,
        "local_spend_target_percent": "45",
        "local_spend_goal_percent": "60",
        "standstill_days": standstill,
        "notes": notes,
        "bands-TOTAL_FORMS": str(len(rows)),
        "bands-INITIAL_FORMS": str(initial_forms),
        "bands-MIN_NUM_FORMS": "0",
        "bands-MAX_NUM_FORMS": "12",
    }
    for n, (name, lower, invited, local, pack) in enumerate(rows):
        data |= {
            f"bands-{n}-name": name,
            f"bands-{n}-lower_bound": lower,
            f"bands-{n}-min_invited": invited,
            f"bands-{n}-min_local": local,
        }
        if pack:
            data[f"bands-{n}-requires_tender_pack"] = "on"
    return data


# --- Reading the policy -----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["officer", "auditor", "admin_user"])
def test_the_councils_people_see_its_versions_and_the_statutory_figures(
    client, january, request, persona
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(POLICY)
    page = response.content.decode()
    assert response.status_code == 200
    for text in [
        "Version 1",
        "In force",
        "1 April 2025",
        "£180,000.00 including VAT",
        "£0.00 to £9,999.99",
        "£10,000.00 to £49,999.99",
        "£50,000.00 to £179,999.99",
        "£180,000.00 and above",
        "Full tender pack",
        "365 days",
        "first 3 CPV digits",
        "The portal (set up)",
        "Statutory figures in force on 20 January 2026",
        "Statutory threshold: goods",
        "£207,720.00",
        "£5,193,000.00",
        "£663,540.00",
        "Procurement Act 2023, Schedule 1",
    ]:
        assert text in page, text
    figures = page.split('id="statutory-figures"', 1)[1]
    assert "£214,904.00" not in figures  # superseded on 1 January 2026
    # The contract details notice figure is marked to be checked.
    notice = figures.split("Contract details notice", 1)[1].split("</tr>", 1)[0]
    assert "£30,000.00" in notice and "Check against the source" in notice
    goods = figures.split("Statutory threshold: goods", 1)[1].split("</tr>", 1)[0]
    assert "Check against the source" not in goods
    assert ("Add a new version" in page) is (persona == "admin_user")
    assert reverse("tenders:full_tender_register") in page


def test_figures_not_yet_in_force_are_shown_as_such(client, demo_data, officer):
    with time_machine.travel(datetime.datetime(2025, 12, 1, 10, tzinfo=LONDON), tick=False):
        client.force_login(officer)
        figures = client.get(POLICY).content.decode().split('id="statutory-figures"', 1)[1]
    goods = figures.split("Statutory threshold: goods", 1)[1].split("</tr>", 1)[0]
    assert "£214,904.00" in goods and "Check against the source" in goods
    assert "Not yet in force" in figures.split("£207,720.00", 1)[0].rsplit("<tr", 1)[1]


def test_suppliers_and_portal_wide_admins_get_404(client, demo_data, local_supplier_user):
    portal_admin = user_create(
        email="root@portal.example",
        full_name="Portal Admin",
        role=Role.ADMIN,
        password=None,
        buyer=None,
        by=None,
    )
    for person in [local_supplier_user, portal_admin]:
        client.force_login(person)
        for url in [POLICY, NEW]:
            assert client.get(url).status_code == 404
        assert client.post(NEW, form_data()).status_code == 404
    assert ProcurementPolicy.objects.count() == 1


@pytest.mark.parametrize("persona", ["officer", "auditor"])
def test_officers_and_auditors_cannot_add_a_version(client, january, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form_data()).status_code == 403
    assert ProcurementPolicy.objects.count() == 1


def test_another_councils_admin_sees_and_changes_only_their_own(
    client, january, other_admin, other_council, council
):
    client.force_login(other_admin)
    page = client.get(POLICY).content.decode()
    assert "Other Borough Council" in page
    assert "Your council has no procurement policy yet" in page
    assert "£180,000.00" not in page and "Version 1" not in page
    response = client.post(NEW, form_data(threshold="150000"))
    assert response.status_code == 302
    created = ProcurementPolicy.objects.get(buyer=other_council)
    assert (created.version, created.local_threshold) == (1, Decimal("150000.00"))
    assert council.policies.count() == 1


def test_the_policy_page_makes_a_fixed_number_of_queries(
    client, demo_data, admin_user, council, django_assert_num_queries
):
    client.force_login(admin_user)
    # session, user, two-factor device, council, versions, their bands, figures,
    # unread count
    with django_assert_num_queries(8):
        client.get(POLICY)
    for n in range(10):
        policy_create(
            buyer=council,
            effective_from=datetime.date(2027, 1 + n, 1),
            local_threshold=Decimal("150000.00"),
            bands=[BandSpec("Quotes", Decimal("0"), 1, 1), BandSpec("More", Decimal("1000"), 2, 1)],
            by=admin_user,
        )
    with django_assert_num_queries(8):
        response = client.get(POLICY)
    assert len(response.context["versions"]) == 11
    assert [v.version for v in response.context["versions"]][:2] == [11, 10]


# --- Adding a version ---------------------------------------------------------------------


def test_the_form_starts_from_the_latest_version(client, january, admin_user):
    client.force_login(admin_user)
    page = client.get(NEW).content.decode()
    assert 'value="180000.00"' in page
    assert 'value="Three quotes"' in page and 'value="10000.00"' in page
    assert 'name="bands-3-name"' in page  # blank rows to add bands
    assert "Save the new version" in page


def test_an_administrator_adds_a_version_that_decides_only_from_its_date(
    client, january, admin_user, council
):
    client.force_login(admin_user)
    response = client.post(NEW, form_data(threshold="£200,000", notes="Cabinet decision 12/2025."))
    assert response.status_code == 302 and response["Location"] == POLICY
    created = council.policies.get(version=2)
    assert created.effective_from == datetime.date(2026, 2, 1)
    assert created.local_threshold == Decimal("200000.00")
    assert created.created_by == admin_user
    assert created.notes == "Cabinet decision 12/2025."
    assert [
        (b.name, b.lower_bound, b.min_invited, b.min_local, b.requires_tender_pack)
        for b in created.bands.all()
    ] == [
        ("Single quote", Decimal("0.00"), 1, 1, False),
        ("Three quotes", Decimal("10000.00"), 3, 2, False),
        ("Invited tender", Decimal("50000.00"), 4, 3, True),
    ]
    event = AuditEvent.objects.get(action="policy.created", actor=admin_user)
    assert event.changes["version"] == [None, 2]

    assert policy_in_force(council, datetime.date(2026, 1, 31)).version == 1
    assert policy_in_force(council, datetime.date(2026, 2, 1)).version == 2
    cleaning = CpvCode.objects.get(code="90910000-9")
    for day, route in [(31, "full_tender"), (1, "invitation")]:
        on = datetime.date(2026, 1 if day == 31 else 2, day)
        result = route_for(
            buyer=council, value=Decimal("190000"), entered_basis="inclusive", cpv=cleaning, on=on
        )
        assert result.decision.route == route

    page = client.get(POLICY).content.decode()
    assert "Version 2 saved. It is in force from 1 February 2026." in page
    assert "Standstill None: a lot is awarded when the decision is made" in " ".join(
        re.sub(r"<[^>]+>", " ", page).split()
    )


def test_a_version_sets_the_standstill_and_the_next_starts_from_it(
    client, january, admin_user, council
):
    """No standstill is required below the threshold; the policy may set one
    (RULES §4): each version holds its own, and a new version's form starts
    from the latest's."""
    client.force_login(admin_user)
    response = client.post(NEW, form_data(standstill="10"))
    assert response.status_code == 302
    assert council.policies.get(version=2).standstill_days == 10
    assert 'name="standstill_days" value="10"' in client.get(NEW).content.decode()
    page = " ".join(re.sub(r"<[^>]+>", " ", client.get(POLICY).content.decode()).split())
    # Said as the portal counts it (tenders.services.standstill.standstill_ends):
    # "10 days after" left officers unsure whether weekends or the day sent count.
    assert (
        "Standstill 10 calendar days from the day after the letters of intention are sent, "
        "ending at midnight UK time: a lot is awarded only after it"
    ) in page
    help_text = " ".join(re.sub(r"<[^>]+>", " ", client.get(NEW).content.decode()).split())
    assert "calendar days, counted from the day after the letters of intention are sent" in (
        help_text
    )
    refused = client.post(NEW, form_data(standstill="-1")).content.decode()
    assert "The standstill cannot be negative" in refused
    assert page.index("Version 2") < page.index("Version 1")
    assert "From 1 February 2026" in page and "Sam Whitaker" in page


def test_a_threshold_above_the_statutory_threshold_is_refused_and_the_form_kept(
    client, january, admin_user, council
):
    client.force_login(admin_user)
    rows = [*DEMO_ROWS[:2], ("Invited tender", "60000", "5", "3", True)]
    response = client.post(NEW, form_data(threshold="210000", rows=rows, notes="Try it"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error:" in page
    assert (
        "The local threshold of £210,000.00 is above the statutory threshold for goods and "
        "services contracts in force on 1 February 2026: £207,720.00 including VAT "
        "(Procurement Act 2023, Schedule 1 (sub-central authorities, VAT inclusive))."
    ) in page
    assert council.policies.count() == 1
    # Everything typed is still there.
    for kept in [
        'value="210000"',
        'name="effective_from_0" value="1"',
        'value="60000"',
        'value="5"',
        "Try it</textarea>",
    ]:
        assert kept in page, kept


def test_a_threshold_at_or_below_the_statutory_threshold_is_allowed(client, january, admin_user):
    client.force_login(admin_user)
    assert client.post(NEW, form_data(threshold="207720")).status_code == 302
    assert ProcurementPolicy.objects.get(version=2).local_threshold == Decimal("207720.00")


def test_a_threshold_excluding_vat_is_compared_including_vat(client, january, admin_user):
    client.force_login(admin_user)
    response = client.post(NEW, form_data(threshold="180000", vat_basis="exclusive"))
    page = response.content.decode()
    assert (
        "The local threshold of £180,000.00 excluding VAT is £216,000.00 including VAT at 20% "
        "VAT, which is above the statutory threshold"
    ) in page
    assert ProcurementPolicy.objects.count() == 1
    response = client.post(NEW, form_data(threshold="170000", vat_basis="exclusive"))
    assert response.status_code == 302  # £204,000 including VAT


def test_the_figure_in_force_on_the_effective_date_decides(client, demo_data, admin_user):
    with time_machine.travel(datetime.datetime(2025, 12, 1, 10, tzinfo=LONDON), tick=False):
        client.force_login(admin_user)
        # Before 2026 the (to be checked) threshold was £214,904.
        response = client.post(
            NEW, form_data(effective=datetime.date(2025, 12, 15), threshold="215000")
        )
        page = response.content.decode()
        assert "£214,904.00 including VAT" in page
        assert "(that figure is marked to be checked against its source)" in page
        response = client.post(
            NEW, form_data(effective=datetime.date(2025, 12, 15), threshold="210000")
        )
        assert response.status_code == 302
        # From 1 January 2026 the same figure is too high.
        response = client.post(
            NEW, form_data(effective=datetime.date(2026, 1, 1), threshold="210000")
        )
        assert "£207,720.00 including VAT" in response.content.decode()
    assert ProcurementPolicy.objects.count() == 2


def test_without_statutory_figures_the_threshold_cannot_be_checked(client, january, admin_user):
    StatutoryFigure.objects.filter(name__startswith="threshold.").delete()
    client.force_login(admin_user)
    page = client.post(NEW, form_data()).content.decode()
    assert "No statutory thresholds are recorded for 1 February 2026" in page
    assert ProcurementPolicy.objects.count() == 1


@pytest.mark.parametrize(
    ("effective", "message"),
    [
        (
            datetime.date(2026, 1, 19),
            "The date must be today (20 January 2026) or later",
        ),
        (None, "Enter the date the new version comes into force"),
    ],
)
def test_the_effective_date_must_be_given_and_not_in_the_past(
    client, january, admin_user, effective, message
):
    client.force_login(admin_user)
    page = client.post(NEW, form_data(effective=effective)).content.decode()
    assert message in page
    partial = form_data() | {"effective_from_0": ""}
    page = client.post(NEW, partial).content.decode()
    assert "The date the new version comes into force must include a day" in page
    assert ProcurementPolicy.objects.count() == 1


def test_the_effective_date_must_be_a_real_date_after_the_latest_version(
    client, january, admin_user, council
):
    client.force_login(admin_user)
    data = form_data() | {"effective_from_0": "30", "effective_from_1": "2"}
    page = client.post(NEW, data).content.decode()
    assert "The date the new version comes into force must be a real date, like 27 3 " in page
    assert client.post(NEW, form_data(effective=datetime.date(2026, 3, 1))).status_code == 302
    page = client.post(NEW, form_data(effective=datetime.date(2026, 2, 1))).content.decode()
    assert "The date must be after 1 March 2026, when version 2 comes into force" in page
    assert council.policies.count() == 2


@pytest.mark.parametrize(
    ("rows", "messages"),
    [
        (
            [("Quotes", "100", "1", "1", False)],
            ["The first band must start at £0.00: the lowest band starts at £100.00"],
        ),
        (
            [
                DEMO_ROWS[0],
                ("Three quotes", "10000", "3", "2", False),
                ("Again", "10000", "4", "3", False),
            ],
            ["another band also starts at £10,000.00"],
        ),
        (
            [DEMO_ROWS[0], ("Too high", "200000", "4", "3", False)],
            [
                "Band row 2: it starts at £200,000.00, which is not below the local threshold "
                "of £200,000.00"
            ],
        ),
        (
            [("Single quote", "0", "1", "2", False)],
            ["Band row 1: the local suppliers (2) cannot be more than the suppliers invited (1)"],
        ),
        (
            [DEMO_ROWS[0], ("", "10000", "", "", False)],
            [
                "Band row 2: enter the band&#x27;s name",
                "Band row 2: enter how many suppliers must be invited",
                "Band row 2: enter how many of them must be local",
            ],
        ),
        (
            [DEMO_ROWS[0], ("Three quotes", "ten thousand", "0", "x", False)],
            [
                "Enter the amount the band starts from as an amount in pounds",
                "Enter the number of suppliers to invite of at least 1",
                "Enter the number of local suppliers as a whole number",
            ],
        ),
        ([], ["Add at least one band, the first starting at £0"]),
    ],
    ids=[
        "not-from-zero",
        "same-start",
        "above-threshold",
        "local-over-invited",
        "partial-row",
        "not-numbers",
        "none",
    ],
)
def test_bad_bands_are_refused_with_clear_errors(client, january, admin_user, rows, messages):
    client.force_login(admin_user)
    response = client.post(NEW, form_data(rows=rows))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error:" in page and "There is a problem" in page
    for message in messages:
        assert message in page, message
    assert ProcurementPolicy.objects.count() == 1


def test_rows_may_come_in_any_order_and_cleared_rows_are_ignored(client, january, admin_user):
    client.force_login(admin_user)
    rows = [DEMO_ROWS[2], BLANK, DEMO_ROWS[0], DEMO_ROWS[1]]
    response = client.post(NEW, form_data(rows=rows, initial_forms=3))
    assert response.status_code == 302
    bands = ProcurementPolicy.objects.get(version=2).bands.all()
    assert [b.name for b in bands] == ["Single quote", "Three quotes", "Invited tender"]


def test_the_navigation_shows_policy_to_council_people_only(
    client, demo_data, officer, local_supplier_user
):
    client.force_login(officer)
    labels = [item["label"] for item in client.get(reverse("home")).context["nav_items"]]
    assert "Policy" in labels
    client.force_login(local_supplier_user)
    labels = [item["label"] for item in client.get(reverse("home")).context["nav_items"]]
    assert "Policy" not in labels
