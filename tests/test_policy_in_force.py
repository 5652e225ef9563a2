"""``policy_in_force`` reads a council's policy version and its bands in one
plain statement (ADR 10): the same objects, column by column, as the ORM's
read, the version in force at each day's edge, a version without bands, and
none at all. Run on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tenders.models import PolicyBand, ProcurementPolicy
from tenders.selectors import policy_in_force
from tests.tenders_helpers import loaded_columns

pytestmark = pytest.mark.django_db


def orm_read(buyer_id: int, on: datetime.date) -> tuple[ProcurementPolicy | None, list[PolicyBand]]:
    policy = (
        ProcurementPolicy.objects.filter(buyer_id=buyer_id, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )
    if policy is None:
        return None, []
    return policy, list(policy.bands.order_by("lower_bound", "pk"))


def next_version(council, *, effective_from: datetime.date, bands: bool) -> ProcurementPolicy:
    current = ProcurementPolicy.objects.filter(buyer=council).order_by("-version").first()
    assert current is not None
    old_bands = list(current.bands.order_by("lower_bound"))
    current.pk = None
    current.version += 1
    current.effective_from = effective_from
    current.save()
    if bands:
        for band in old_bands:
            band.pk = None
            band.policy = current
            band.min_invited += 1  # not the old version's figures
            band.save()
    return current


def test_the_policy_and_its_bands_are_the_orms_column_by_column(council, django_assert_num_queries):
    today = timezone.localdate()
    expected, bands = orm_read(council.pk, today)
    assert expected is not None and len(bands) >= 2
    with django_assert_num_queries(1):
        policy = policy_in_force(council)
        assert policy is not None
        read = policy.band_rows()
        assert all(band.policy is policy for band in read)  # no query for the way back
        assert policy.band_ranges()[-1][1] == policy.local_threshold - Decimal("0.01")
    assert loaded_columns(policy) == loaded_columns(expected)
    assert [loaded_columns(b) for b in read] == [loaded_columns(b) for b in bands]
    assert not policy.get_deferred_fields()
    # A council's id does as well as the council.
    assert loaded_columns(policy_in_force(council.pk, today)) == loaded_columns(expected)


def test_the_version_in_force_changes_on_its_first_day(council):
    start = timezone.localdate() + datetime.timedelta(days=30)
    newer = next_version(council, effective_from=start, bands=True)
    before = policy_in_force(council, start - datetime.timedelta(days=1))
    on = policy_in_force(council, start)
    assert before is not None and on is not None
    assert before.version == newer.version - 1
    assert on.pk == newer.pk
    expected, bands = orm_read(council.pk, start)
    assert loaded_columns(on) == loaded_columns(expected)
    assert [loaded_columns(b) for b in on.band_list] == [loaded_columns(b) for b in bands]
    assert {b.policy_id for b in on.band_list} == {newer.pk}


def test_a_version_without_bands_is_read_with_none_in_one_query(council, django_assert_num_queries):
    start = timezone.localdate() + datetime.timedelta(days=1)
    bare = next_version(council, effective_from=start, bands=False)
    with django_assert_num_queries(1):
        policy = policy_in_force(council, start)
        assert policy is not None
        assert policy.band_rows() == []
    assert loaded_columns(policy) == loaded_columns(orm_read(council.pk, start)[0])
    assert policy.pk == bare.pk


def test_no_version_in_force_is_none(council, other_council):
    first = ProcurementPolicy.objects.filter(buyer=council).order_by("effective_from").first()
    assert first is not None
    assert policy_in_force(council, first.effective_from - datetime.timedelta(days=1)) is None
    assert not ProcurementPolicy.objects.filter(buyer=other_council).exists()
    assert policy_in_force(other_council) is None
