"""The portal's own form fields (``portal/fields.py``): choosing objects by id."""

from __future__ import annotations

import pytest
from django import forms

from portal.fields import MAX_ID, ObjectChoiceField, ObjectsChoiceField
from portal.models import Department


class Choose(forms.Form):
    department = ObjectChoiceField(queryset=Department.objects.all(), required=False)
    departments = ObjectsChoiceField(queryset=Department.objects.all(), required=False)


@pytest.mark.django_db
@pytest.mark.parametrize("value", [str(MAX_ID + 1), "9" * 40, "-1", "0"])
def test_a_number_no_id_can_be_is_not_one_of_the_choices(value):
    """SQLite raised OverflowError on ids beyond 64 bits (a 500, found by hypothesis)."""
    form = Choose({"department": value, "departments": [value]})
    assert not form.is_valid()
    assert form.errors["department"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert form.errors["departments"] == [
        f"Select a valid choice. {value} is not one of the available choices."
    ]


@pytest.mark.django_db
def test_an_id_of_the_choices_is_chosen(council):
    place = council.departments.get(name="Place")
    form = Choose({"department": str(place.pk), "departments": [str(place.pk)]})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["department"] == place
    assert list(form.cleaned_data["departments"]) == [place]
    assert not Choose({"department": "abc"}).is_valid()
