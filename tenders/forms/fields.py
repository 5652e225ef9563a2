"""Form fields and repeatable rows shared by the officer's opportunity forms."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.layout import HTML, Button, Div, Field, Size
from crispy_forms_gds.widgets import DateInputWidget
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.fields import MoneyField
from tenders.services import CriterionSpec, LotSpec
from tenders.services.opportunities import LEAST_LOT_VALUE

LONDON = ZoneInfo("Europe/London")
TEXT_MAX_LENGTH = 5000
MAX_ROWS = 50

CPV_FINDER = HTML(
    '<p class="govuk-body"><a class="govuk-link" href="{% url "cpv:find" %}" target="_blank" '
    'rel="noopener">Find a CPV code by words (opens in a new tab)</a></p>'
)


def _row_group(*fields: Any) -> Div:
    return Div(*fields, css_class="lt-form-row")


# --- Fields -------------------------------------------------------------------


class DateInput(DateInputWidget):
    """GOV.UK's date input: each box opens a phone's number pad
    (``inputmode="numeric"``), as the Design System's own does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for box in self.widgets:
            box.attrs["inputmode"] = "numeric"


DATE_PARTS = ("day", "month", "year")
_DIGITS = re.compile(r"[0-9]+")


class DateField(DateInputField):
    """The GOV.UK date input (day, month, year). Every message names the date
    (``what``, like "the deadline for bids"), in GOV.UK's words: "… must include
    a month", "… must be a real date", "The year of … must have 4 numbers"; and
    is shown against the box to correct, where the error summary links."""

    widget = DateInput

    def __init__(self, *, required: bool = True, what: str = "the date", **kwargs: Any) -> None:
        super().__init__(required=required, require_all_fields=False, **kwargs)
        self.what = what
        self.error_messages["required"] = f"Enter {what}"

    def _refused(self, message: str, *, box: int, code: str) -> ValidationError:
        # crispy-forms-gds's error summary links an error held by a box's
        # widget to that box (``field_errors``).
        self.fields[box].widget.errors = [message]
        return ValidationError(message, code=code)

    def clean(self, value: Any) -> datetime.date | None:
        for box in self.fields:
            box.widget.errors = []
        if self.disabled and not isinstance(value, list):
            value = self.widget.decompress(value)
        if value in self.empty_values:
            value = []
        if not isinstance(value, list | tuple):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        typed = [str(part or "").strip() for part in [*value, None, None, None][:3]]
        if not any(typed):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        what = f"{self.what[:1].upper()}{self.what[1:]}"
        if missing := [part for part, text in zip(DATE_PARTS, typed, strict=True) if not text]:
            raise self._refused(
                f"{what} must include a {' and '.join(missing)}",
                box=DATE_PARTS.index(missing[0]),
                code="incomplete",
            )
        # The example is a date still to come (beside "must be in the future").
        next_year = timezone.localdate().year + 1
        real = f"{what} must be a real date, like 27 3 {next_year}"
        for box, text in enumerate(typed):
            if not _DIGITS.fullmatch(text):
                raise self._refused(real, box=box, code="invalid")
        day, month, year = typed
        # "27" is not 2027: a year of 0027 would be stored and published as typed.
        if len(year) != 4 or year.startswith("0"):
            raise self._refused(
                f"The year of {self.what} must have 4 numbers, like {next_year}",
                box=2,
                code="invalid_year",
            )
        try:
            out = datetime.date(int(year), int(month), int(day))
        except (ValueError, OverflowError):  # a day like 2147483648 overflows
            month_wrong = len(month) > 2 or not 1 <= int(month) <= 12
            raise self._refused(real, box=1 if month_wrong else 0, code="invalid") from None
        self.validate(out)
        self.run_validators(out)
        return out


# 9, 17, 9:30, 09.30; or hours and minutes typed as figures alone (930, 0930,
# 1730), as on a phone's number pad, which has no ":" (inputmode="numeric").
_TIME = re.compile(r"\s*(?:([0-9]{1,2})(?:[:.]([0-9]{2}))?|([0-9]{1,2})([0-9]{2}))\s*")


CLOCK = "Enter a time on the 24-hour clock, like 09:30 or 17:00"


class TimeField(forms.CharField):
    """A time on the 24-hour clock: 9:30, 09:30, 17.00, 17, 930 or 1730."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 5)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> datetime.time | None:
        try:
            text = super().clean(value)
        except ValidationError as error:
            if error.error_list[0].code == "required":
                raise
            # Too long, or a null character: still not a time, in the clock's words
            # (not "Ensure this value has at most 5 characters" besides).
            raise ValidationError(CLOCK, code="invalid") from None
        if not text:
            return None
        match = _TIME.fullmatch(text)
        hour, minute = 99, 99
        if match:
            hours, minutes = match.group(1, 2) if match.group(1) else match.group(3, 4)
            hour, minute = int(hours), int(minutes or 0)
        if hour > 23 or minute > 59:
            raise ValidationError(CLOCK, code="invalid")
        return datetime.time(hour, minute)


def london_datetime(day: datetime.date, at: datetime.time) -> datetime.datetime:
    """``day`` at ``at`` in UK time, as an aware datetime (BST or GMT as on that day).

    A time the clocks skip (01:00–01:59 on the last Sunday of March) does not
    exist, and a time that happens twice (01:00–01:59 on the last Sunday of
    October) would be a deadline nobody can read one way: both are refused.
    """
    naive = datetime.datetime.combine(day, at)
    aware = naive.replace(tzinfo=LONDON)
    if aware.astimezone(datetime.UTC).astimezone(LONDON).replace(tzinfo=None) != naive:
        raise ValidationError(
            f"{at:%H:%M} does not exist in the UK on {day:%-d %B %Y}: the clocks go forward "
            "an hour at 1am. Choose another time"
        )
    if aware.utcoffset() != naive.replace(tzinfo=LONDON, fold=1).utcoffset():
        raise ValidationError(
            f"{at:%H:%M} happens twice in the UK on {day:%-d %B %Y}: the clocks go back "
            "an hour at 2am. Choose another time"
        )
    return aware


# A form with lot rows (and perhaps criterion rows), as ``with_another_row`` takes.
RowsForm = TypeVar("RowsForm", bound="LotRows")


def with_another_row(
    form_class: type[RowsForm], data: Mapping[str, Any], **kwargs: Any
) -> RowsForm | None:
    """After "Add another lot" (or criterion): the form again, unbound so that
    no errors show yet, with what was typed and one more row. ``None`` when
    neither button was pressed."""
    # Only a form with criterion rows has "Add another criterion": elsewhere the
    # name is ignored (a hand-made request), not a crash.
    buttons = (
        ("add_lot", "add_criterion") if issubclass(form_class, CriterionRows) else ("add_lot",)
    )
    adding = [name for name in buttons if name in data]
    if not adding:
        return None
    probe = form_class(data=data, **kwargs)
    initial = {
        name: field.widget.value_from_datadict(data, {}, probe.add_prefix(name))
        for name, field in probe.fields.items()
    }
    if "add_lot" in adding:
        initial["lot_rows"] = probe.lot_count + 1
    if "add_criterion" in adding and isinstance(probe, CriterionRows):
        initial["criterion_rows"] = probe.criterion_count + 1
    return form_class(initial=initial, **kwargs)


# --- Rows of lots and criteria ---------------------------------------------------


class LotRows(forms.Form):
    """Numbered lot rows: title and estimated value. Blank rows are ignored."""

    lot_rows = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def _add_lot_fields(self, rows: int) -> None:
        self.lot_count = rows
        for n in range(1, rows + 1):
            self.fields[f"lot_title_{n}"] = forms.CharField(
                label=f"Lot {n} title", max_length=200, required=False
            )
            self.fields[f"lot_value_{n}"] = MoneyField(
                label=f"Lot {n} estimated value (£)",
                required=False,
                help_text="The whole term, for this lot" if n == 1 else "",
                # As the lot builder and publishing: a lot of £0.00 would be a
                # single quote whatever the work.
                min_value=LEAST_LOT_VALUE,
                # Each row's messages say which lot: a summary may list several.
                what=f"lot {n}'s estimated value",
                error_messages={
                    "min_value": f"Enter the estimated value of lot {n}: at least £0.01"
                },
            )

    def _lot_layout(self) -> list[Any]:
        rows = [
            _row_group(
                Field.text(f"lot_title_{n}", label_size=Size.SMALL),
                Field.text(f"lot_value_{n}", label_size=Size.SMALL, field_width=10),
            )
            for n in range(1, self.lot_count + 1)
        ]
        return [Field("lot_rows"), *rows, Button.secondary("add_lot", "Add another lot")]

    def clean_lots(self) -> list[LotSpec]:
        data = self.cleaned_data
        lots = []
        for n in range(1, self.lot_count + 1):
            title = (data.get(f"lot_title_{n}") or "").strip()
            value = data.get(f"lot_value_{n}")
            typed_value = (self.data.get(self.add_prefix(f"lot_value_{n}")) or "").strip()
            if not title and not typed_value:
                continue
            if not title:
                self.add_error(f"lot_title_{n}", f"Enter the title of lot {n}")
            if value is None and not self.has_error(f"lot_value_{n}"):
                self.add_error(f"lot_value_{n}", f"Enter the estimated value of lot {n}")
            if title and value is not None:
                lots.append(LotSpec(title=title, estimated_value=value))
        row_errors = any(
            self.has_error(f"lot_{part}_{n}")
            for n in range(1, self.lot_count + 1)
            for part in ("title", "value")
        )
        if not lots and not row_errors:
            self.add_error("lot_title_1", "Add at least one lot, with its estimated value")
        return lots


class CriterionRows(forms.Form):
    """Numbered evaluation criteria: name, weight, whether it is price."""

    criterion_rows = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def _add_criterion_fields(self, rows: int) -> None:
        self.criterion_count = rows
        for n in range(1, rows + 1):
            self.fields[f"criterion_name_{n}"] = forms.CharField(
                label=f"Criterion {n} name", max_length=200, required=False
            )
            self.fields[f"criterion_weight_{n}"] = forms.IntegerField(
                label=f"Criterion {n} weight (%)",
                required=False,
                min_value=0,
                max_value=100,
                widget=forms.TextInput(attrs={"inputmode": "numeric"}),
                error_messages={
                    "invalid": f"Enter the weight of criterion {n} as a whole number, 0 to 100",
                    "min_value": f"Enter the weight of criterion {n} as a whole number, 0 to 100",
                    "max_value": f"Enter the weight of criterion {n} as a whole number, 0 to 100",
                },
            )
            self.fields[f"criterion_price_{n}"] = forms.BooleanField(
                label=f"Criterion {n} is the price (scored by formula)", required=False
            )

    def _criterion_layout(self) -> list[Any]:
        rows = [
            _row_group(
                Field.text(f"criterion_name_{n}", label_size=Size.SMALL),
                Field.text(f"criterion_weight_{n}", label_size=Size.SMALL, field_width=3),
                Field.checkbox(f"criterion_price_{n}", small=True),
            )
            for n in range(1, self.criterion_count + 1)
        ]
        return [
            Field("criterion_rows"),
            *rows,
            Button.secondary("add_criterion", "Add another criterion"),
        ]

    def clean_criteria(self) -> list[CriterionSpec]:
        data = self.cleaned_data
        criteria = []
        for n in range(1, self.criterion_count + 1):
            name = (data.get(f"criterion_name_{n}") or "").strip()
            weight = data.get(f"criterion_weight_{n}")
            typed_weight = (self.data.get(self.add_prefix(f"criterion_weight_{n}")) or "").strip()
            if not name and not typed_weight:
                continue
            if not name:
                self.add_error(f"criterion_name_{n}", f"Enter the name of criterion {n}")
            if weight is None and not self.has_error(f"criterion_weight_{n}"):
                self.add_error(
                    f"criterion_weight_{n}",
                    f"Enter the weight of criterion {n} as a whole number, 0 to 100",
                )
            if name and weight is not None:
                criteria.append(
                    CriterionSpec(
                        name=name, weight=weight, is_price=bool(data.get(f"criterion_price_{n}"))
                    )
                )
        prices = [n for n in range(1, self.criterion_count + 1) if data.get(f"criterion_price_{n}")]
        if len(prices) > 1:
            self.add_error(f"criterion_price_{prices[1]}", "Only one criterion can be the price")
        return criteria


def filled_rows(form: forms.Form, *prefixes: str) -> int:
    """The highest row number with something in it (0 for none)."""
    source = form.data if form.is_bound else form.initial
    starts = tuple((form.add_prefix(p) if form.is_bound else p) + "_" for p in prefixes)
    numbers = [
        int(key.rsplit("_", 1)[1])
        for key, value in source.items()
        if key.startswith(starts)
        and key.rsplit("_", 1)[1].isdigit()
        and value not in (None, "", [], False)
    ]
    return min(max(numbers, default=0), MAX_ROWS)


def rows_wanted(form: forms.Form, name: str, default: int, at_least: int) -> int:
    """How many rows to show: what the page had, one more after "Add another",
    and never fewer than the rows already filled."""
    source = form.data if form.is_bound else form.initial
    try:
        rows = int(source.get(form.add_prefix(name) if form.is_bound else name) or default)
    except (TypeError, ValueError):
        rows = default
    return max(1, min(MAX_ROWS, max(rows, at_least)))
