import io
import os
import subprocess
import sys
from decimal import Decimal

from django.core.management import call_command

from portal.models import AuditEvent, Role, User
from suppliers.models import SupplierOrganisation, SupplierStatus
from suppliers.selectors import suppliers_for_buyer
from tenders.selectors import policy_in_force


def test_demo_council_has_the_rules_demo_policy(council):
    policy = policy_in_force(council)
    assert council.slug == "demo-council"
    assert policy.local_threshold == Decimal("180000.00")
    assert policy.vat_basis == "inclusive"
    bands = [
        (band.name, band.lower_bound, upper, band.min_invited, band.min_local)
        for band, upper in policy.band_ranges()
    ]
    assert bands == [
        ("Single quote", Decimal("0.00"), Decimal("9999.99"), 1, 1),
        ("Three quotes", Decimal("10000.00"), Decimal("49999.99"), 3, 2),
        ("Invited tender", Decimal("50000.00"), Decimal("179999.99"), 4, 3),
    ]


def test_demo_locality_is_bd1_to_bd24(council):
    districts = set(council.locality_districts.values_list("district", flat=True))
    assert districts == {f"BD{n}" for n in range(1, 25)}


def test_demo_has_every_role_and_enough_local_and_distant_suppliers(council):
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {Role.OFFICER, Role.AUDITOR, Role.ADMIN, Role.SUPPLIER}
    assert User.objects.filter(role=Role.OFFICER, buyer=council).count() == 2
    suppliers = list(suppliers_for_buyer(council))
    assert len(suppliers) >= 20
    local = {s.legal_name for s in suppliers if s.is_local}
    assert "Aire Valley Cleaning Ltd" in local  # BD1
    assert "Ilkley Catering Co-operative Ltd" not in local  # LS29 is outside BD1-BD24
    assert "Leeds Office Supplies Ltd" not in local
    assert 5 <= len(local) <= len(suppliers) - 5
    # The demo council's own decisions: some approved, some suspended, some not yet decided.
    decided = set(council.supplier_approvals.values_list("status", flat=True))
    assert decided == {SupplierStatus.APPROVED, SupplierStatus.SUSPENDED}
    assert SupplierOrganisation.objects.exclude(approvals__buyer=council).exists()


def test_seed_demo_is_idempotent_and_prints_every_login(demo_data):
    users, suppliers, events = (
        User.objects.count(),
        SupplierOrganisation.objects.count(),
        AuditEvent.objects.count(),
    )
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert (User.objects.count(), SupplierOrganisation.objects.count()) == (users, suppliers)
    assert AuditEvent.objects.count() == events
    assert "nothing changed" in out.getvalue()
    for user in User.objects.all():
        assert user.email in out.getvalue()
    assert "demo-password-2026" in out.getvalue()


def test_seed_demo_prints_each_staff_members_authenticator_secret(demo_data):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from devdata import demo
    from portal import two_factor

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    lines = out.getvalue().splitlines()
    staff = User.objects.exclude(role=Role.SUPPLIER)
    assert set(demo.TOTP_SECRETS) == set(staff.values_list("email", flat=True))
    for user in staff:
        secret = two_factor.secret_of(two_factor.authenticator(user))
        assert any(user.email in line and two_factor.grouped(secret) in line for line in lines)
    # Suppliers sign in with a password alone.
    assert not TOTPDevice.objects.filter(user__role=Role.SUPPLIER).exists()


def test_the_readme_lists_the_demo_authenticator_secrets():
    from pathlib import Path

    from devdata import demo
    from portal import two_factor

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for email, secret in demo.TOTP_SECRETS.items():
        assert f"| `{email}` | `{two_factor.grouped(secret)}` |" in readme


def test_the_readme_names_the_approver_the_demo_opportunities_and_the_role_homes():
    from pathlib import Path

    from devdata import demo
    from devdata.demo_opportunities import TITLES

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    assert f"| Procurement officer, **the approver** | `{demo.APPROVER}` |" in readme
    for email in demo.TRY:
        assert f"`{email}`" in readme
    for title in TITLES.values():
        assert f"| {title}" in readme
    for role in ["officer", "supplier", "auditor", "admin"]:
        picture = f"docs/screenshots/{role}-home.png"
        assert f"]({picture})" in readme and (root / picture).stat().st_size > 1000


def test_production_has_no_dev_tooling(tmp_path):
    """Demo data, scale data and the benchmarks live in the ``devdata`` app,
    which production settings do not install: its commands are unknown there,
    nothing of it is imported, and the benchmark's page does not resolve."""
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": "x" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789",
        "ALLOWED_HOSTS": "tenders.example.gov",
        "DATABASE_URL": f"sqlite:///{tmp_path}/prod.sqlite3",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "EMAIL_HOST": "smtp.example.gov",
        "SITE_URL": "https://tenders.example.gov",
    }
    for command in ["seed_demo", "seed_scale", "bench"]:
        result = subprocess.run(
            [sys.executable, "manage.py", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0
        assert f"Unknown command: '{command}'" in result.stderr
    probe = (
        "import sys, django; django.setup(); "
        "from django.conf import settings; from django.urls import Resolver404, resolve\n"
        "print('installed' if 'devdata' in settings.INSTALLED_APPS else 'absent')\n"
        "print('loaded' if any(m.startswith('devdata') for m in sys.modules) else 'unloaded')\n"
        "try:\n    resolve('/bench/baseline/'); print('resolves')\n"
        "except Resolver404:\n    print('no page')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.splitlines() == ["absent", "unloaded", "no page"], result.stderr


def test_demo_opportunities_show_each_route_and_are_not_duplicated(demo_data, in_process_tasks):
    from devdata.demo_history import HISTORY
    from devdata.demo_opportunities import TITLES
    from tenders.models import Contract, Opportunity

    first, again = io.StringIO(), io.StringIO()
    call_command("seed_demo", "--opportunities", stdout=first)
    call_command("seed_demo", "--opportunities", stdout=again)
    # Run again, it says that what it lists is the demo as first loaded, and how to start again.
    assert "Demo opportunities:" in first.getvalue()
    assert "as the demo first loaded them" not in first.getvalue()
    assert "as the demo first loaded them" in again.getvalue()
    assert "delete var/ and run make run" in again.getvalue()
    history = {row[0] for row in HISTORY}
    found = {o.title: (o.status, o.route) for o in Opportunity.objects.exclude(title__in=history)}
    # One in every state, the drafts' routes decided with the history added up.
    assert found == {
        "Grounds maintenance of city parks": ("draft", "invitation"),
        "Home support in Bradford city centre": ("draft", "full_tender"),
        "Home care visits in Shipley": ("draft", "full_tender"),
        "Cleaning of Keighley Library": ("open", "invitation"),
        "Cleaning of Shipley Town Hall": ("closed", "invitation"),
        "Cleaning of Bingley Library": ("evaluation", "invitation"),
        "Window cleaning of council offices": ("awarded", "invitation"),
        "Cleaning of Ilkley Library": ("open", "invitation"),
        "Cleaning of Baildon Library": ("evaluation", "invitation"),
    }
    assert set(found) == set(TITLES.values())
    keighley = Opportunity.objects.get(title="Cleaning of Keighley Library")
    assert set(keighley.invitations.values_list("supplier__legal_name", flat=True)) == {
        "Aire Valley Cleaning Ltd",
        "Eccleshill Facilities Ltd",
    }
    # Two financial years of awarded contracts, written once, and the demo's award.
    awarded = Opportunity.objects.filter(status="awarded")
    assert awarded.count() == Contract.objects.count() == len(HISTORY) + 1
    assert {o.title for o in awarded} == history | {"Window cleaning of council offices"}


def test_every_demo_state_is_ready_for_the_pages(demo_data, in_process_tasks):
    """What the README's walk relies on: the draft publishes at once as an
    invited tender, the closed box waits for two officers, the evaluation is
    opened and partly marked, and the award's letters are in the inboxes."""
    from devdata import demo
    from devdata.demo_opportunities import TITLES
    from portal.models import Notification
    from tenders.models import BidStatus, BoxOpening, Opportunity, Score
    from tenders.services import (
        aggregation_override_record,
        box_state,
        current_route,
        opportunity_publish,
    )

    call_command("seed_demo", "--opportunities", stdout=io.StringIO())
    get = {key: Opportunity.objects.get(title=title) for key, title in TITLES.items()}

    keighley = get["open"].bids.get()
    assert (keighley.status, keighley.supplier.legal_name) == (
        BidStatus.DRAFT,
        "Aire Valley Cleaning Ltd",
    )
    assert box_state(get["closed"]).state == "waiting"
    assert get["closed"].bids.filter(status=BidStatus.SUBMITTED).count() == 2
    assert BoxOpening.objects.get(opportunity=get["evaluation"]).opened
    assert Score.objects.filter(bid__opportunity=get["evaluation"]).count() == 1
    # Issue 17: a questionnaire to answer, and a panel with two answered bids to mark,
    # each priced by its schedule (306 × £28.50 + 4 × £145 + 12 × £60, and Manningham's).
    assert get["questionnaire"].questions.count() == 3
    assert get["questionnaire"].pricing_lines.count() == 3
    panel = get["panel"]
    assert sorted(
        (m.officer.email, m.evaluates, m.moderates, m.declaration)
        for m in panel.panel.select_related("officer")
    ) == [
        ("officer2@demo-council.example", True, False, ""),
        ("officer@demo-council.example", True, True, ""),
    ]
    prices = {
        b.supplier.legal_name: b.revisions.get().price
        for b in panel.bids.select_related("supplier")
    }
    assert prices == {
        "Aire Valley Cleaning Ltd": Decimal("10021.00"),
        "Manningham Cleaning Co-operative Ltd": Decimal("9791.50"),
    }
    assert all(b.revisions.get().answers.count() == 3 for b in panel.bids.all())
    letters = Notification.objects.filter(event__in=["bid.won", "bid.unsuccessful"])
    assert set(letters.values_list("recipient__email", "event", "channel")) >= {
        ("supplier@aire-valley.example", "bid.unsuccessful", "inbox"),
        ("bids@manningham-cleaning.example", "bid.won", "inbox"),
    }

    officer = User.objects.get(email="officer@demo-council.example")
    published = opportunity_publish(opportunity=get["draft"], by=officer)
    assert (published.status, published.band_name) == ("open", "Invited tender")

    # Full tender only because other care work adds up: the approver may say
    # it is separate, and it may then go to its four invited local suppliers.
    aggregated = get["aggregated"]
    route = current_route(aggregated)
    assert (route.route, route.refused_for_aggregation) == ("full_tender", True)
    assert not route.value_compared >= route.threshold
    approver = User.objects.get(email=demo.APPROVER)
    justification = "Shipley's visits are commissioned apart from Keighley's support."
    assert aggregation_override_record(
        opportunity=aggregated, by=approver, justification=justification
    ).invitation_allowed
    published = opportunity_publish(opportunity=aggregated, by=officer)
    assert (published.status, published.band_name) == ("open", "Invited tender")


def test_demo_categories_have_enough_approved_local_suppliers_for_every_band(
    demo_data, in_process_tasks
):
    from suppliers.selectors import approved_by, is_local_to

    call_command("seed_demo", "--opportunities", stdout=io.StringIO())
    local = (
        SupplierOrganisation.objects.filter(approved_by(demo_data))
        .annotate(local=is_local_to(demo_data))
        .filter(local=True)
    )
    # The invited-tender band, the largest: 4 invited, 3 of them local.
    for category in ["9091", "7731", "8531"]:
        assert local.filter(categories__code__startswith=category).distinct().count() >= 4


def test_seed_demo_names_the_approver_and_what_each_login_can_try(demo_data, in_process_tasks):
    from devdata import demo

    out = io.StringIO()
    call_command("seed_demo", "--opportunities", stdout=out)
    text = out.getvalue()
    approver = User.objects.get(email=demo.APPROVER)
    assert approver.has_perm("tenders.approve_aggregation_override")
    assert (
        f"The approver (may record that aggregated work is genuinely separate): "
        f"{approver.full_name}, {approver.email}." in text
    )
    for email, what in demo.TRY.items():
        assert email in text and what in text
    assert "Demo opportunities:" in text
