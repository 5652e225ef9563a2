"""The portal's own form fields (``portal/fields.py``, ``tenders/forms/fields.py``):
choosing objects by id, and the GOV.UK date input."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django import forms

from portal.fields import MAX_ID, MoneyField, NumberField, ObjectChoiceField, ObjectsChoiceField
from portal.models import Department
from tenders.forms.fields import DateField, TimeField


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


class Deadline(forms.Form):
    deadline = DateField(label="Deadline for bids", what="the deadline for bids")


def date_boxes(day: str, month: str, year: str) -> dict[str, str]:
    return {"deadline_0": day, "deadline_1": month, "deadline_2": year}


@pytest.mark.parametrize(
    ("boxes", "message", "box"),
    [
        (("", "", ""), "Enter the deadline for bids", None),
        (("1", "", "2027"), "The deadline for bids must include a month", 1),
        (("", "", "2027"), "The deadline for bids must include a day and month", 0),
        (("1", "7", ""), "The deadline for bids must include a year", 2),
        (("ab", "7", "2027"), "The deadline for bids must be a real date, like 27 3 2027", 0),
        (("1", "-7", "2027"), "The deadline for bids must be a real date, like 27 3 2027", 1),
        (("31", "2", "2027"), "The deadline for bids must be a real date, like 27 3 2027", 0),
        (("1", "13", "2027"), "The deadline for bids must be a real date, like 27 3 2027", 1),
        (("1", "1", "27"), "The year of the deadline for bids must have 4 numbers, like 2027", 2),
        (("1", "1", "927"), "The year of the deadline for bids must have 4 numbers, like 2027", 2),
        (("1", "1", "0027"), "The year of the deadline for bids must have 4 numbers, like 2027", 2),
        (
            ("1", "1", "20270"),
            "The year of the deadline for bids must have 4 numbers, like 2027",
            2,
        ),
        (("1", "1", "２０２７"), "The deadline for bids must be a real date, like 27 3 2027", 2),
    ],
)
def test_every_date_message_names_the_date_and_the_box_to_correct(boxes, message, box):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)):
        form = Deadline(date_boxes(*boxes))
        assert not form.is_valid()
    assert form.errors["deadline"] == [message]
    # The box holding the message is where the error summary links (crispy-forms-gds).
    held = [getattr(field.widget, "errors", []) for field in form.fields["deadline"].fields]
    assert held == [[message] if n == box else [] for n in range(3)]


def test_a_date_with_a_4_figure_year_is_read():
    form = Deadline(date_boxes(" 01", "7 ", "2027"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["deadline"] == datetime.date(2027, 7, 1)


@pytest.mark.parametrize(
    ("typed", "time"),
    [
        ("9:30", datetime.time(9, 30)),
        ("09.30", datetime.time(9, 30)),
        ("17", datetime.time(17, 0)),
        # Figures alone, as typed on a phone's number pad (no ":").
        ("930", datetime.time(9, 30)),
        ("0930", datetime.time(9, 30)),
        ("1200", datetime.time(12, 0)),
        (" 1730 ", datetime.time(17, 30)),
        ("000", datetime.time(0, 0)),
        ("2359", datetime.time(23, 59)),
    ],
)
def test_a_time_is_read_with_or_without_its_colon(typed, time):
    assert TimeField().clean(typed) == time


@pytest.mark.parametrize(
    "typed",
    ["2400", "1260", "24", "9:3", "12345", "17:", ":30", "1 730", "٩٣٠", "9am", "9:30am", "9\x00"],
)
def test_a_time_that_is_not_one_is_refused_with_the_clocks_message(typed):
    with pytest.raises(forms.ValidationError) as refused:
        TimeField().clean(typed)
    assert refused.value.messages == ["Enter a time on the 24-hour clock, like 09:30 or 17:00"]


def test_each_box_of_a_date_opens_the_number_pad():
    html = str(Deadline()["deadline"])
    boxes = re.findall(r"<input[^>]*>", html)
    assert len(boxes) == 3
    assert all('inputmode="numeric"' in box for box in boxes)


NOT_PLAIN = ["1e4", "7e1", "1E+5", "nan", "NaN", "sNaN", "inf", "Infinity", "-Infinity", "1_000"]
NOT_PLAIN += ["١٢", "１２", "0x10", "12abc", "1.2.3", "."]


@pytest.mark.parametrize("typed", NOT_PLAIN)
def test_a_number_is_figures_and_a_point_never_an_exponent_or_infinity(typed):
    mark = NumberField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        error_messages={"invalid": "Enter the mark as a number from 0 to 100"},
    )
    with pytest.raises(forms.ValidationError) as refused:
        mark.clean(typed)
    assert refused.value.messages == ["Enter the mark as a number from 0 to 100"]
    with pytest.raises(forms.ValidationError) as refused:
        MoneyField(what="lot 1's estimated value").clean(f"£{typed}")
    assert refused.value.messages == [
        "Enter lot 1's estimated value as an amount in pounds, like 150000 or 150,000.00"
    ]


@pytest.mark.parametrize(
    ("typed", "value"),
    [("12", "12"), ("-3", "-3"), ("12.5", "12.5"), (".5", "0.5"), ("7.", "7"), (" 70 ", "70")],
)
def test_plain_figures_are_read(typed, value):
    assert NumberField(required=False).clean(typed) == Decimal(value)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1000", "Enter a mark from 0 to 100"),
        ("-1000", "Enter a mark from 0 to 100"),
        ("100.001", "Enter a mark from 0 to 100"),
        ("99.999", "Enter a mark with at most 2 decimal places"),
    ],
)
def test_a_number_out_of_range_gets_one_message_the_fields_own(typed, message):
    mark = NumberField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        error_messages={
            "min_value": "Enter a mark from 0 to 100",
            "max_value": "Enter a mark from 0 to 100",
            "max_decimal_places": "Enter a mark with at most 2 decimal places",
        },
    )
    with pytest.raises(forms.ValidationError) as refused:
        mark.clean(typed)
    assert refused.value.messages == [message]
