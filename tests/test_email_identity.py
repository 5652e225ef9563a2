"""One form of an email address decides who it names: NFKC, case-folded,
stored as ``User.email_key`` with every change of address, compared exactly."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from portal.identity import normalise_email
from portal.models import Role, User
from portal.services import user_create
from suppliers.forms import InviteForm


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Admin@Demo-Council.example", "admin@demo-council.example"),
        ("ａｄｍｉｎ@demo-council.example", "admin@demo-council.example"),
        ("  ADMIN@DEMO-COUNCIL.EXAMPLE ", "admin@demo-council.example"),
        ("admın@demo-council.example", "admın@demo-council.example"),  # another letter
        ("straße@example.com", "strasse@example.com"),
    ],
)
def test_addresses_are_compared_in_one_form(typed, key):
    assert normalise_email(typed) == key
    assert normalise_email(key) == key


def test_the_key_follows_the_address_however_it_is_saved(db, other_council):
    person = user_create(
        email="Olu@Other-Borough.example",
        full_name="Olu",
        role=Role.AUDITOR,
        password=None,
        buyer=other_council,
        by=None,
    )
    assert person.email_key == "olu@other-borough.example"
    person.email = "olu.new@other-borough.example"
    person.save(update_fields=["email"])
    assert User.objects.get(pk=person.pk).email_key == "olu.new@other-borough.example"
    (bulk,) = User.objects.bulk_create(
        [User(email="Bulk@Other.example", full_name="B", role=Role.AUDITOR, buyer=other_council)]
    )
    assert User.objects.get(pk=bulk.pk).email_key == "bulk@other.example"


def test_an_address_that_reads_like_a_taken_one_is_refused(db, officer, other_council):
    before = User.objects.count()
    with pytest.raises(ValidationError):
        user_create(
            email="officer@ｄｅｍｏ-council.example",
            full_name="Look-alike",
            role=Role.AUDITOR,
            password=None,
            buyer=other_council,
            by=None,
        )
    assert User.objects.count() == before


def test_inviting_a_look_alike_of_anothers_address_makes_nobody(local_supplier_user):
    """The look-alike names the other supplier's account: nobody is made (and,
    as for any address with an account, the inviter is not told so)."""
    from suppliers.services import colleague_invite

    form = InviteForm(
        {
            "full_name": "Chris",
            "email": "sales@ｌｅｅｄｓ-office.example",
            "supplier_role": "member",
        },
        supplier=local_supplier_user.supplier,
    )
    assert form.is_valid()
    before = User.objects.count()
    assert (
        colleague_invite(
            supplier=local_supplier_user.supplier, by=local_supplier_user, **form.cleaned_data
        )
        is None
    )
    assert User.objects.count() == before


def test_the_migration_fills_the_key_of_every_account_and_refuses_clashes(officer, auditor):
    migration = importlib.import_module("portal.migrations.0006_user_email_key")
    User.objects.filter(pk=officer.pk).update(email_key="stale")
    migration.fill(apps, None)
    assert User.objects.get(pk=officer.pk).email_key == officer.email

    # Two accounts that read the same cannot both keep their address.
    User.objects.filter(pk=auditor.pk).update(
        email="officer@ｄｅｍｏ-council.example", email_key="x"
    )
    with pytest.raises(RuntimeError, match="read the same"):
        migration.fill(apps, None)
