"""The demo seed the suite shares (tests/conftest.py): committed once per run,
restored after a test that empties the database, absent where a test asks for
an empty one. pytest-django runs the ``transaction=True`` tests after the
others, each group in the file's order."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from portal.models import AuditEvent, BuyerOrganisation, User


@pytest.mark.django_db(transaction=True)
def test_a_transaction_test_finds_the_seed(demo_data):
    assert demo_data.slug == "demo-council"
    assert User.objects.filter(buyer=demo_data).exists()


@pytest.mark.django_db(transaction=True)
def test_the_next_test_finds_the_seed_restored_without_seeding_it():
    # The test before ended with every table emptied, and no fixture of this
    # test seeds: the seed was restored, committed, before it began.
    assert BuyerOrganisation.objects.filter(slug="demo-council").exists()
    assert AuditEvent.objects.exists()


@pytest.mark.usefixtures("empty_database")
def test_empty_database_is_a_fresh_database(db):
    assert not BuyerOrganisation.objects.exists()
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()
    # What migrations make is there, as in a fresh test database.
    assert Permission.objects.filter(codename="approve_aggregation_override").exists()


def test_after_an_emptied_test_the_seed_is_there_again(db):
    assert BuyerOrganisation.objects.filter(slug="demo-council").exists()


def test_the_seeded_people_have_the_fast_test_password_hashes(officer):
    assert officer.password.startswith("md5$")
