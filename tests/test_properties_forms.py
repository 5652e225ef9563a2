"""Every form of the portal, fed random input through its real view by the
person who uses it: text of any kind (control characters, right-to-left
overrides, very long), numbers of every shape, dates that do not exist, files.

For every post:
* the view never fails (a 500 would be raised here by the test client);
* a refused post (the form again, with a GOV.UK error summary) changes nothing
  in the database, except where a refusal is itself recorded (named per form);
* an accepted post (a redirect) leaves only valid rows: every row added or
  changed passes its model's ``full_clean``, and the rules a form checks
  beyond it hold (``holds``: a lot is worth at least £0.01, a contract starts
  no earlier than its bids closed, a year has 4 figures).

Each example runs in a savepoint that is rolled back, so examples do not see
each other's rows.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from portal.fields import MoneyField
from portal.identity import password_reset_tokens
from portal.models import User
from suppliers import tokens
from suppliers.services import colleague_invite
from tenders.forms.fields import DateField, TimeField
from tenders.models import Clarification, Contract, Criterion, Lot, Opportunity
from tenders.services import (
    DECLARATIONS,
    bid_add_file,
    bid_save_draft,
    bid_start,
    bid_submit,
    box_open,
    clarification_ask,
    invite,
    matching_suppliers,
    opportunity_publish,
)
from tests.tenders_helpers import approved_supplier, make_opportunity
from tests.two_factor_helpers import verified_force_login

pytestmark = pytest.mark.django_db

FORMS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
PASSWORD = "demo-password-2026"
# A route refused is recorded (the check, and an audit event) for the auditors.
ROUTE_RECORDS = ["tenders.RouteCheck", "portal.AuditEvent"]
NEW_PASSWORD = "a brand new passphrase 9"
PDF = b"%PDF-1.4 a method statement"

# --- What people might type -----------------------------------------------------------

# Any character UTF-8 can carry (no lone surrogates, which no browser can send).
ANY_CHAR = st.characters(codec="utf-8")
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\t\n",
        "\x00",
        "a\x00b",
        "\u202egpj.exe",
        "\ufeff",
        "\u200b",
        "0",
        "-0",
        "-1",
        "-0.01",
        "1e999",
        "1E+5",
        "NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "0x10",
        "1_000",
        "1e4",
        "7e1",
        "nan",
        "inf",
        "930",
        "1730",
        "2400",
        "1260",
        "27",
        "٣٤",
        "１２",
        "99999999999999999999999",
        "3.14159",
        "1,000,000",
        "£",
        "£-5",
        "0",
        "00",
        "32",
        "13",
        "29",
        "10000",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "../../etc/passwd",
        "%00",
        "None",
        "true",
    ]
)
LONG = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["a", "é", "語", "\u202e", "\x00", "9", " ", "𝔘"]),
    st.sampled_from([101, 151, 201, 1001, 2001, 5001, 20_001]),
)
NUMBERS = st.one_of(
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
)
JUNK = st.one_of(st.text(ANY_CHAR, max_size=40), LONG, NASTY, NUMBERS)
OMIT = object()  # the field is not sent at all
MISSING = st.just(OMIT)


def one_of_values(*values: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


def date_parts(name: str, day: datetime.date) -> dict[str, st.SearchStrategy[Any]]:
    """The three boxes of a GOV.UK date input, each valid for ``day`` or a near miss."""
    return {
        f"{name}_0": one_of_values(str(day.day), f"0{day.day}"),
        f"{name}_1": one_of_values(str(day.month)),
        f"{name}_2": one_of_values(str(day.year)),
    }


@st.composite
def form_data(
    draw: st.DrawFn,
    valid: dict[str, st.SearchStrategy[Any]],
    junk: dict[str, st.SearchStrategy[Any]] | None = None,
) -> dict[str, Any]:
    """A post where every field is valid except a drawn few, which get junk
    (or are left out). Shrinks towards the valid post."""
    names = sorted(valid)
    spoilt = draw(
        st.one_of(
            st.just([]),  # about a third of the posts should be accepted
            st.lists(st.sampled_from(names), unique=True, min_size=1, max_size=2),
            st.lists(st.sampled_from(names), unique=True, max_size=len(names)),
        )
    )
    data = {}
    for name in names:
        if name in spoilt:
            value = draw(st.one_of(MISSING, (junk or {}).get(name, JUNK), JUNK))
        else:
            value = draw(valid[name])
        if value is not OMIT:
            data[name] = value
    return data


def files(*, valid_name: str = "method.pdf") -> st.SearchStrategy[Any]:
    """A file as a browser sends it: a real PDF, or any bytes under any name."""
    name_chars = st.characters(codec="utf-8", exclude_characters='"\r\n\\/')
    names = st.one_of(
        st.just(valid_name),
        st.builds(
            lambda stem, ext: stem + ext,
            st.text(name_chars, max_size=30),
            st.sampled_from([".pdf", ".PDF", ".docx", ".txt", ".csv", ".png", ".exe", ".svg", ""]),
        ).filter(lambda name: name.strip(".") != ""),  # a browser sends no file without a name
        st.sampled_from(["con.pdf", ".pdf", "..pdf", "a" * 400 + ".pdf", "\u202efdp.exe"]),
    )
    contents = st.one_of(
        st.just(PDF),
        st.binary(max_size=2000),
        st.just(b""),
        st.just(b"Item,Price\nCleaning,3900.00\n"),
        st.just(b"PK\x03\x04" + b"\x00" * 30),
    )
    return st.builds(lambda name, content: SimpleUploadedFile(name, content), names, contents)


# --- Checking a post ---------------------------------------------------------------------

# Every model a form could change; not the related work the route rule reads,
# kept under its facts' version by any page that shows a route, nor what busy
# pages keep of what they read (ADR 10): caches of what is already there,
# written by a search or a refused post's page too.
NOT_STATE = {"tenders.RelatedWorkCache", "portal.KeptRead"}
WATCHED = [
    model
    for label in ("portal", "suppliers", "tenders")
    for model in apps.get_app_config(label).get_models()
    if model._meta.label not in NOT_STATE
]


def snapshot() -> dict[type[models.Model], dict[Any, tuple]]:
    return {
        model: {
            row[0]: row
            for row in model._base_manager.order_by("pk").values_list(
                "pk", *[f.attname for f in model._meta.concrete_fields]
            )
        }
        for model in WATCHED
    }


def changed_rows(before, after) -> dict[type[models.Model], list[Any]]:
    """The primary keys of rows added, changed or removed, by model."""
    changes = {}
    for model in WATCHED:
        old, new = before[model], after[model]
        pks = [pk for pk in set(old) | set(new) if old.get(pk) != new.get(pk)]
        if pks:
            changes[model] = pks
    return changes


def label(model: type[models.Model]) -> str:
    return model._meta.label


def check(
    user: User | None,
    url: str | Callable[[Client], str],
    data: dict[str, Any],
    *,
    method: str = "post",
    recorded_on_refusal: Iterable[str] = (),
    refusal_may_keep: Iterable[str] = (),
    summary_expected: bool = True,
    holds: Callable[[], None] | None = None,
) -> int:
    """Send ``data`` as ``user`` and check the properties above; the status.

    ``recorded_on_refusal``: models a refusal itself writes to (an audit row,
    a route check). ``refusal_may_keep``: models a refused post may still save
    (a bid's draft is saved before the submission is refused). ``holds``:
    asserts what must be true of the database after an accepted post.
    """
    with transaction.atomic():
        client = verified_force_login(Client())  # council staff pass the second step
        if user is not None:
            client.force_login(user)
        target = url(client) if callable(url) else url
        before = snapshot()
        if method == "get":
            response = client.get(target, data)
        else:
            # A browser always sends the CSRF token (the test client does not check
            # it), so a post of a form with every box unticked is never empty.
            response = client.post(target, {"csrfmiddlewaretoken": "token"} | data)
        changes = changed_rows(before, snapshot())
        invalid = invalid_rows(changes)
        status = response.status_code
        if status == 302 and holds is not None:
            holds()
        page = response.content.decode(errors="replace") if status == 200 else ""
        transaction.set_rollback(True)
    assert status in {200, 302}, f"{status} for {data!r}"
    event("accepted" if status == 302 else "refused" if method == "post" else "searched")
    if method == "get":
        assert not changes, f"a search changed {[label(m) for m in changes]}"
        return status
    if status == 200:
        if summary_expected:
            assert "govuk-error-summary" in page, f"refused without an error summary: {data!r}"
        allowed = set(recorded_on_refusal) | set(refusal_may_keep)
        unexpected = [label(m) for m in changes if label(m) not in allowed]
        assert not unexpected, f"a refused post changed {unexpected}: {data!r}"
    # Whatever was saved is valid, refused or not.
    assert not invalid, f"saved invalid rows {invalid} after {data!r}"
    return status


def invalid_rows(changes: dict[type[models.Model], list[Any]]) -> list[str]:
    """Each row added or changed that its model's ``full_clean`` refuses, and why."""
    problems = []
    for model, pks in changes.items():
        for instance in model._base_manager.filter(pk__in=pks):
            try:
                instance.full_clean()
            except ValidationError as error:
                problems.append(f"{label(model)} {instance.pk}: {error.message_dict}")
    return problems


# --- Fixtures: the states the forms are used in ------------------------------------------


@pytest.fixture(autouse=True)
def _quiet(settings, tmp_path, in_process_tasks):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def draft(officer) -> Opportunity:
    approved_supplier("Manningham Cleaners", "BD8 7AA")
    return make_opportunity(officer, "8000.00", title="Library cleaning")


@pytest.fixture
def published(draft, officer, local_supplier_user) -> Opportunity:
    invite(opportunity=draft, suppliers=[local_supplier_user.supplier], by=officer)
    return opportunity_publish(opportunity=draft, by=officer)


@pytest.fixture
def asked(published, local_supplier_user) -> Clarification:
    return clarification_ask(
        opportunity=published, by=local_supplier_user, question="Is the library open on Sundays?"
    )


@pytest.fixture
def opened(draft, officer, second_officer, local_supplier_user) -> Opportunity:
    """Two bids submitted, the deadline passed, the box opened by two officers."""
    other = User.objects.get(email="bids@manningham-cleaners.example")
    invite(opportunity=draft, suppliers=[local_supplier_user.supplier, other.supplier], by=officer)
    opportunity = opportunity_publish(opportunity=draft, by=officer)
    lot = opportunity.lots.get()
    for person, price in [(local_supplier_user, "7000.00"), (other, "6500.00")]:
        bid = bid_start(lot=lot, by=person)
        bid_save_draft(
            bid=bid, by=person, price=Decimal(price), declarations=dict.fromkeys(DECLARATIONS, True)
        )
        bid_add_file(bid=bid, by=person, upload=SimpleUploadedFile("m.pdf", PDF))
        bid_submit(bid=bid, by=person)
    past = timezone.now() - datetime.timedelta(minutes=1)
    Opportunity.objects.filter(pk=opportunity.pk).update(
        clarification_deadline=past - datetime.timedelta(days=1), submission_deadline=past
    )
    opportunity.refresh_from_db()
    box_open(opportunity=opportunity, by=officer)
    box_open(opportunity=opportunity, by=second_officer)
    opportunity.refresh_from_db()
    return opportunity


def future(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


# --- Signing in and passwords ---------------------------------------------------------------


@FORMS
@given(
    data=form_data(
        {
            "username": one_of_values(
                "officer@demo-council.example", "OFFICER@demo-council.example"
            ),
            "password": one_of_values(PASSWORD),
        }
    )
)
@example(data={"username": "語" * 20_001, "password": PASSWORD})  # was a 500 on SQLite
def test_sign_in(demo_data, data):
    # A failed sign-in is itself recorded for the auditors.
    check(None, reverse("login"), data, recorded_on_refusal=["portal.AuditEvent"])


@FORMS
@given(data=form_data({"email": one_of_values("officer@demo-council.example", "x@example.com")}))
def test_password_reset(demo_data, data):
    check(None, reverse("password_reset"), data)


@FORMS
@given(
    data=form_data(
        {
            "new_password1": one_of_values(NEW_PASSWORD),
            "new_password2": one_of_values(NEW_PASSWORD),
        }
    )
)
def test_set_a_new_password_from_the_reset_link(officer, data):
    uid = urlsafe_base64_encode(force_bytes(officer.pk))
    token = password_reset_tokens.make_token(officer)

    def set_password_url(client: Client) -> str:
        # The link redirects to a page without the token in its address.
        response = client.get(reverse("password_reset_confirm", args=[uid, token]))
        assert response.status_code == 302
        return response["Location"]

    check(None, set_password_url, data)


@FORMS
@given(
    data=form_data(
        {
            "old_password": one_of_values(PASSWORD),
            "new_password1": one_of_values(NEW_PASSWORD),
            "new_password2": one_of_values(NEW_PASSWORD),
        }
    )
)
def test_change_password(officer, data):
    check(officer, reverse("password_change"), data)


@FORMS
@given(
    data=form_data({"email_reminders": one_of_values("on"), "email_digests": one_of_values("on")})
)
def test_notification_preferences(officer, data):
    check(officer, reverse("notification_preferences"), data)


# --- The council's administrator ------------------------------------------------------------


@FORMS
@given(data=form_data({"districts": one_of_values("BD1-BD24", "BD1, BD2\nLS1", "bd7")}))
def test_locality(admin_user, data):
    check(admin_user, reverse("locality"), data, recorded_on_refusal=[])


def policy_post() -> dict[str, st.SearchStrategy[Any]]:
    fields = {
        **date_parts("effective_from", future(30)),
        "local_threshold": one_of_values("100000", "150,000.00", "£30000"),
        "vat_basis": one_of_values("inclusive", "exclusive"),
        "vat_rate_percent": one_of_values("20", "17.5", "0"),
        "aggregation_window_days": one_of_values("365", "1", "3650"),
        "aggregation_cpv_digits": one_of_values("3", "2", "8"),
        "notes": one_of_values("", "Cabinet decision 12/2026"),
        "bands-TOTAL_FORMS": one_of_values("3"),
        "bands-INITIAL_FORMS": one_of_values("0"),
        "bands-MIN_NUM_FORMS": one_of_values("0"),
        "bands-MAX_NUM_FORMS": one_of_values("12"),
    }
    for n, (name, bound, invited, local) in enumerate(
        [("Single quote", "0", "1", "1"), ("Three quotes", "10000", "3", "2"), ("", "", "", "")]
    ):
        fields[f"bands-{n}-name"] = one_of_values(name)
        fields[f"bands-{n}-lower_bound"] = one_of_values(bound)
        fields[f"bands-{n}-min_invited"] = one_of_values(invited)
        fields[f"bands-{n}-min_local"] = one_of_values(local)
    return fields


@FORMS
@given(data=form_data(policy_post()))
@example(
    data={"effective_from_0": "1", "effective_from_1": "1", "effective_from_2": "9" * 20}
)  # a year that overflows was a 500
def test_new_policy_version(admin_user, data):
    check(admin_user, reverse("tenders:policy_new"), data)


# --- Suppliers: registering, the profile, addresses, colleagues ---------------------------


def organisation_post(name: str = "Shipley Sparkle Ltd") -> dict[str, st.SearchStrategy[Any]]:
    return {
        "legal_name": one_of_values(name),
        "trading_name": one_of_values("", "Sparkle"),
        "companies_house_number": one_of_values("", "01234567", "sc123456"),
        "charity_number": one_of_values("", "1123456"),
        "is_sme": one_of_values("True", "False"),
        "is_vcse": one_of_values("True", "False"),
        "phone": one_of_values("", "01274 123456"),
        "website": one_of_values("", "www.example.co.uk", "https://sparkle.example"),
        "categories": one_of_values("90910000-9", "90910000-9, 90911200-8\n45000000"),
    }


SITE_POST = {
    "address_line_1": one_of_values("1 Mill Lane"),
    "address_line_2": one_of_values("", "Unit 4"),
    "town": one_of_values("Shipley"),
    "postcode": one_of_values("BD18 3LA", "bd183la", "LS1 4AP"),
}


@FORMS
@given(
    data=form_data(
        {
            **organisation_post(),
            **SITE_POST,
            "full_name": one_of_values("Ann Other"),
            "email": one_of_values("ann@sparkle.example"),
            "password1": one_of_values(NEW_PASSWORD),
            "password2": one_of_values(NEW_PASSWORD),
        }
    )
)
def test_supplier_registration(demo_data, data):
    check(None, reverse("register"), data)


@FORMS
@given(data=form_data(organisation_post("Aire Valley Cleaning Ltd")))
def test_organisation_profile(local_supplier_user, data):
    check(local_supplier_user, reverse("organisation_edit"), data)


@FORMS
@given(data=form_data(SITE_POST))
def test_add_an_address(local_supplier_user, data):
    check(local_supplier_user, reverse("site_add"), data)


@FORMS
@given(data=form_data(SITE_POST))
def test_edit_an_address(local_supplier_user, data):
    site = local_supplier_user.supplier.sites.first()
    check(local_supplier_user, reverse("site_edit", args=[site.pk]), data)


@FORMS
@given(
    data=form_data(
        {
            "full_name": one_of_values("Sam Lee"),
            "email": one_of_values("sam@aire-valley.example"),
            "supplier_role": one_of_values("member", "admin"),
        }
    )
)
def test_invite_a_colleague(local_supplier_user, data):
    check(local_supplier_user, reverse("person_invite"), data)


@pytest.fixture
def colleague(local_supplier_user) -> User:
    return colleague_invite(
        supplier=local_supplier_user.supplier,
        email="sam@aire-valley.example",
        full_name="Sam Lee",
        supplier_role="member",
        by=local_supplier_user,
    )


@FORMS
@given(data=form_data({"supplier_role": one_of_values("member", "admin")}))
def test_change_a_colleagues_role(local_supplier_user, colleague, data):
    check(local_supplier_user, reverse("person_role", args=[colleague.pk]), data)


@FORMS
@given(
    data=form_data(
        {"password1": one_of_values(NEW_PASSWORD), "password2": one_of_values(NEW_PASSWORD)}
    )
)
def test_join_from_an_invitation(colleague, data):
    check(None, reverse("join", args=[tokens.make_token(colleague, tokens.JOIN)]), data)


# --- Officers: suppliers ------------------------------------------------------------------


@FORMS
@given(
    data=form_data(
        {
            "q": one_of_values("", "Aire", "cleaning Bradford"),
            "category": one_of_values("", "90900000-6", "909"),
            "only": st.lists(st.sampled_from(["local", "sme", "vcse"]), unique=True),
            "status": one_of_values("", "approved", "pending", "suspended"),
            "page": one_of_values("1", "2"),
        }
    )
)
def test_supplier_directory_filters(officer, data):
    check(officer, reverse("supplier_directory"), data, method="get")


@FORMS
@given(
    data=form_data(
        {
            "action": one_of_values("approve", "suspend", "reinstate", "make_pending"),
            "reason": one_of_values("Checked with Companies House."),
        }
    )
)
def test_supplier_status_decision(officer, distant_supplier_user, data):
    url = reverse("supplier_status", args=[distant_supplier_user.supplier_id])
    check(officer, url, data)


# --- Officers: opportunities ------------------------------------------------------------


def opportunity_post() -> dict[str, st.SearchStrategy[Any]]:
    return {
        "title": one_of_values("Library cleaning"),
        "description": one_of_values("Cleaning of the central library."),
        "department": one_of_values(""),
        "cpv": one_of_values("90910000-9", "90910000", "90910000 9"),
        "contract_kind": one_of_values("services", "goods", "works"),
        "lot_rows": one_of_values("2"),
        "lot_title_1": one_of_values("Central library"),
        "lot_value_1": one_of_values("8000", "£8,000.00"),
        "lot_title_2": one_of_values("", "Branch libraries"),
        "lot_value_2": one_of_values("", "2000"),
        "options_value": one_of_values("", "0", "500"),
        "value_vat_basis": one_of_values("inclusive", "exclusive"),
        **date_parts("contract_start", future(60)),
        **date_parts("contract_end", future(425)),
        "max_lots_per_supplier": one_of_values("", "1"),
        "reservation": one_of_values("none"),
        **date_parts("clarification_date", future(10)),
        "clarification_time": one_of_values("12:00", "9.30", "930"),
        **date_parts("submission_date", future(20)),
        "submission_time": one_of_values("17:00", "17", "1730"),
        "criterion_rows": one_of_values("3"),
        "criterion_name_1": one_of_values("Price"),
        "criterion_weight_1": one_of_values("40"),
        "criterion_price_1": one_of_values("on"),
        "criterion_name_2": one_of_values("Quality"),
        "criterion_weight_2": one_of_values("60"),
        # Now and then "Add another lot" or "Add another criterion" is pressed instead.
        "add_lot": st.sampled_from([OMIT, OMIT, OMIT, ""]),
        "add_criterion": st.sampled_from([OMIT, OMIT, OMIT, ""]),
    }


def adding_a_row(data: dict[str, Any]) -> bool:
    """The page comes back with one more row and no errors (nothing is saved)."""
    return "add_lot" in data or "add_criterion" in data


def opportunities_hold() -> None:
    """What an accepted opportunity form leaves: no lot under £0.01 (one would be
    a single quote whatever the work), no date of a year of fewer than 4 figures."""
    assert not Lot.objects.filter(estimated_value__lt=Decimal("0.01")).exists()
    assert not Opportunity.objects.filter(contract_start__year__lt=1000).exists()
    assert not Opportunity.objects.filter(contract_end__year__lt=1000).exists()
    assert not Opportunity.objects.filter(submission_deadline__year__lt=1000).exists()


@FORMS
@given(data=form_data(opportunity_post()))
@example(
    data={"title": "T", "description": "D", "cpv": "90910000-9", "contract_kind": "services"}
    | {"lot_title_1": "L", "lot_value_1": "8000", "value_vat_basis": "inclusive"}
    | {"reservation": "none", "lot_rows": "99999999999999999999"}
)
def test_write_an_opportunity(officer, data):
    check(
        officer,
        reverse("tenders:opportunity_create"),
        data,
        recorded_on_refusal=ROUTE_RECORDS,
        summary_expected=not adding_a_row(data),
        holds=opportunities_hold,
    )


@FORMS
@given(data=form_data(opportunity_post()))
def test_edit_a_draft(officer, draft, data):
    check(
        officer,
        reverse("tenders:opportunity_edit", args=[draft.pk]),
        data,
        recorded_on_refusal=ROUTE_RECORDS,
        summary_expected=not adding_a_row(data),
        holds=opportunities_hold,
    )


@FORMS
@given(
    data=form_data(
        {
            "status": one_of_values("", "draft", "open", "awarded"),
            "page": one_of_values("1", "2"),
            "q": one_of_values("", "cleaning", "%_"),
            "sort": one_of_values("", "value", "deadline", "bogus"),
        }
    )
)
def test_opportunity_list_filter(officer, data):
    check(officer, reverse("tenders:opportunity_list"), data, method="get")


@FORMS
@given(
    data=form_data(
        {
            "title": one_of_values("Grounds maintenance"),
            "value_each": one_of_values("4000", "1,500.50"),
            "areas": st.lists(st.sampled_from(["BD1", "BD7", "BD18"]), min_size=1, unique=True),
        }
    )
)
def test_lot_builder(officer, draft, data):
    check(officer, reverse("tenders:opportunity_lot_builder", args=[draft.pk]), data)


@FORMS
@given(data=st.data())
def test_invite_suppliers(officer, draft, data):
    supplier_pks = [str(pk) for pk in matching_suppliers(draft).values_list("pk", flat=True)]
    post = data.draw(
        form_data(
            {
                "suppliers": st.lists(st.sampled_from(supplier_pks), min_size=1, unique=True),
                "non_local_justification": one_of_values("", "The only specialist nearby."),
            },
            junk={"suppliers": st.lists(JUNK, max_size=3)},
        )
    )
    check(officer, reverse("tenders:opportunity_invite", args=[draft.pk]), post)


@FORMS
@given(data=form_data({"file": files()}, junk={"file": files()}))
def test_add_a_document(officer, published, data):
    check(officer, reverse("tenders:opportunity_document_add", args=[published.pk]), data)


@FORMS
@given(
    data=form_data(
        {
            "q{pk}-answer": one_of_values("Yes, from 10am."),
            "q{pk}-visibility": one_of_values("all", "private"),
        }
    )
)
def test_answer_a_question(officer, asked, data):
    post = {key.format(pk=asked.pk): value for key, value in data.items()}
    url = reverse("tenders:clarification_answer", args=[asked.opportunity_id, asked.pk])
    check(officer, url, post)


@pytest.fixture
def split_work(officer) -> Opportunity:
    """A draft that adds up with earlier work to the threshold (see
    test_opportunity_amendments.split_work)."""
    from tenders.models import OpportunityStatus

    earlier = make_opportunity(officer, "100000.00", title="Window cleaning")
    Opportunity.objects.filter(pk=earlier.pk).update(
        status=OpportunityStatus.OPEN, published_at=timezone.now() - datetime.timedelta(days=30)
    )
    return make_opportunity(officer, "100000.00", title="Carpet cleaning")


@FORMS
@given(
    data=form_data(
        {"justification": one_of_values("Carpets are a separate contract for the new library.")}
    )
)
def test_approvers_override(second_officer, split_work, data):
    check(
        second_officer,
        reverse("tenders:opportunity_override", args=[split_work.pk]),
        data,
        recorded_on_refusal=ROUTE_RECORDS,
    )


@FORMS
@given(data=form_data({"reason": one_of_values("The budget was withdrawn.")}))
def test_cancel(officer, published, data):
    check(officer, reverse("tenders:opportunity_cancel", args=[published.pk]), data)


@FORMS
@given(
    data=form_data(
        {
            **date_parts("submission_date", future(30)),
            "submission_time": one_of_values("12:00"),
            **date_parts("clarification_date", future(25)),
            "clarification_time": one_of_values("12:00", ""),
            "reason": one_of_values("More time for site visits."),
        }
    )
)
def test_extend_the_deadline(officer, published, data):
    check(officer, reverse("tenders:opportunity_extend", args=[published.pk]), data)


@FORMS
@given(
    data=form_data(
        {
            "title": one_of_values("Library cleaning (corrected)"),
            "description": one_of_values("Cleaning of the central library and its annexe."),
            "summary": one_of_values("The annexe was left out."),
        }
    )
)
def test_correct_the_details(officer, published, data):
    check(officer, reverse("tenders:opportunity_correct", args=[published.pk]), data)


@FORMS
@given(
    data=form_data(
        {
            "lot_rows": one_of_values("1"),
            "lot_title_1": one_of_values("Central library"),
            "lot_value_1": one_of_values("9000", "200000"),
            "options_value": one_of_values("", "0"),
            "summary": one_of_values("The annexe was added."),
            "add_lot": st.sampled_from([OMIT, OMIT, OMIT, ""]),
        }
    )
)
def test_change_the_value(officer, published, data):
    check(
        officer,
        reverse("tenders:opportunity_change_value", args=[published.pk]),
        data,
        recorded_on_refusal=ROUTE_RECORDS,
        summary_expected=not adding_a_row(data),
        holds=opportunities_hold,
    )


# --- Officers: marking and awarding --------------------------------------------------------


@FORMS
@given(
    data=form_data(
        {"mark": one_of_values("60", "100", "0", "72.50"), "comment": one_of_values("Clear.")}
    )
)
def test_mark_a_bid(officer, opened, data):
    bid = opened.bids.first()
    quality = Criterion.objects.get(opportunity=opened, is_price=False)
    post = {f"c{quality.pk}-{name}": value for name, value in data.items()}
    check(officer, reverse("tenders:bid_score", args=[opened.pk, bid.pk, quality.pk]), post)


@FORMS
@given(data=form_data({"reason": one_of_values("The price is abnormally low.")}))
def test_exclude_a_bid(officer, opened, data):
    bid = opened.bids.first()
    check(officer, reverse("tenders:bid_exclude", args=[opened.pk, bid.pk]), data)


@FORMS
@given(
    data=form_data(
        {
            "reasons": one_of_values("Best value for money."),
            **date_parts("start_date", future(30)),
            **date_parts("end_date", future(400)),
        }
    )
)
@example(
    data={"reasons": "Best.", "start_date_0": "2200000000", "start_date_1": "12"}
    | {"start_date_2": "2026", "end_date_0": "1", "end_date_1": "1", "end_date_2": "2027"}
)  # a day that overflows was a 500
@example(
    data={"reasons": "Best.", "start_date_0": "1", "start_date_1": "1", "start_date_2": "27"}
    | {"end_date_0": "1", "end_date_1": "1", "end_date_2": "29"}
)  # was saved as 0027-01-01
def test_award_a_lot(officer, opened, data):
    lot = opened.lots.get()
    closed = timezone.localtime(opened.submission_deadline).date()

    def contracts_hold() -> None:
        # No contract starts before its bids closed (nor, so, in year 27).
        assert not Contract.objects.filter(start_date__lt=closed).exists()

    check(
        officer,
        reverse("tenders:lot_award", args=[opened.pk, lot.pk]),
        data,
        recorded_on_refusal=ROUTE_RECORDS,
        holds=contracts_hold,
    )


@FORMS
@given(day=st.dates(), before=st.integers(min_value=1, max_value=3))
def test_an_award_never_starts_before_the_bids_closed(officer, opened, day, before):
    """Any start date the award form reads: before the bids closed it is
    refused, on or after it is not (for that reason)."""
    from tenders.forms.evaluation import AwardForm

    closed = timezone.localtime(opened.submission_deadline).date()
    start = min(day, closed - datetime.timedelta(days=before))
    for typed, refused in [(start, True), (max(day, closed), False)]:
        form = AwardForm(
            {
                "reasons": "Best.",
                **{f"start_date_{n}": str(part) for n, part in enumerate(ymd(typed))},
                **{f"end_date_{n}": str(part) for n, part in enumerate(ymd(datetime.date.max))},
            },
            opportunity=opened,
        )
        long_ago = typed.year < 1000  # refused as a year of fewer than 4 figures
        assert form.is_valid() is not (refused or long_ago), form.errors
        if refused and not long_ago:
            assert form.errors["start_date"][0].startswith(
                "The contract cannot start before the bids closed"
            )


def ymd(day: datetime.date) -> tuple[int, int, int]:
    """A date as typed in the day, month and year boxes."""
    return day.day, day.month, day.year


# --- Invited suppliers ---------------------------------------------------------------------


@FORMS
@given(
    data=form_data(
        {
            "price": one_of_values("", "7500", "7,500.00", "£7500"),
            "declarations": st.lists(st.sampled_from(list(DECLARATIONS)), unique=True),
            "file": st.one_of(MISSING, files()),
            "save": one_of_values("Save draft"),
        },
        junk={"file": files(), "declarations": st.lists(JUNK, max_size=3)},
    ),
    submit=st.booleans(),
)
def test_bid(local_supplier_user, published, data, submit):
    if submit:
        data = {k: v for k, v in data.items() if k != "save"} | {"submit": "Submit bid"}
    lot = published.lots.get()
    check(
        local_supplier_user,
        reverse("tenders:supplier_bid", args=[published.pk, lot.pk]),
        data,
        # "Submit bid" saves the draft (and its file) before submitting, so a
        # refused submission keeps what was typed: the draft, a valid one.
        refusal_may_keep=["tenders.Bid", "tenders.BidFile", "portal.AuditEvent"],
    )


@FORMS
@given(data=form_data({"question": one_of_values("Is there parking on site?")}))
def test_ask_a_question(local_supplier_user, published, data):
    check(local_supplier_user, reverse("tenders:opportunity_ask", args=[published.pk]), data)


@FORMS
@given(data=form_data({"intention": one_of_values("yes", "no")}))
def test_say_whether_you_intend_to_bid(local_supplier_user, published, data):
    check(local_supplier_user, reverse("tenders:opportunity_intention", args=[published.pk]), data)


# --- Anyone signed in: finding a CPV code ---------------------------------------------------


@FORMS
@given(
    data=form_data(
        {"q": one_of_values("cleaning", "4521", "90910000-9", ""), "page": one_of_values("1", "2")}
    )
)
def test_cpv_finder(officer, data):
    check(officer, reverse("cpv:find"), data, method="get")
    check(officer, reverse("cpv:search"), data, method="get")


# --- The portal's fields on their own ---------------------------------------------------------

FIGURES = st.text(st.sampled_from("0123456789"), min_size=1, max_size=5)
PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


@FORMS
@given(text=st.one_of(JUNK, FIGURES))
def test_an_amount_is_plain_figures_or_refused_with_one_message(text):
    try:
        value = MoneyField(required=False, what="lot 1's estimated value").clean(text)
    except ValidationError as refusal:
        assert len(refusal.messages) == 1
        assert "lot 1's estimated value" in refusal.messages[0]
    else:
        assert value is None or value.is_finite()
        if value is not None:
            typed = text.strip().replace(",", "").replace(" ", "").removeprefix("£")
            assert PLAIN.fullmatch(typed), f"{text!r} was read as {value}"


@FORMS
@given(
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    written=st.sampled_from(["{h}:{m:02}", "{h:02}.{m:02}", "{h}{m:02}", "{h:02}{m:02}"]),
)
def test_a_time_is_read_however_it_is_written(hour, minute, written):
    typed = written.format(h=hour, m=minute)
    assert TimeField().clean(typed) == datetime.time(hour, minute)


@FORMS
@given(text=st.one_of(JUNK, FIGURES))
def test_a_time_is_read_or_refused_with_the_clocks_message(text):
    try:
        TimeField(required=False).clean(text)
    except ValidationError as refusal:
        assert len(refusal.messages) == 1


@FORMS
@given(
    day=st.one_of(FIGURES, JUNK),
    month=st.one_of(FIGURES, JUNK),
    year=st.one_of(FIGURES, JUNK),
)
@example(day="1", month="1", year="27")
def test_every_date_message_names_the_date_and_no_year_has_fewer_than_4_figures(day, month, year):
    class Deadline(forms.Form):
        deadline = DateField(required=False, what="the deadline for bids")

    form = Deadline({"deadline_0": day, "deadline_1": month, "deadline_2": year})
    if form.is_valid():
        read = form.cleaned_data["deadline"]
        assert read is None or (read.year >= 1000 and year.strip() == f"{read.year}")
    else:
        [message] = form.errors["deadline"]
        assert "the deadline for bids" in message.lower()
