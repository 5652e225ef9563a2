"""Form fields used across the portal's forms."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms

# A number as people write it: figures, perhaps a sign and a decimal point.
# Python's Decimal also reads 1e4, NaN, Infinity, 1_000 and other scripts'
# figures (١٢, １２): none is how anyone types an amount, a mark or a rate, and
# 7e1 read as 70 would be saved without a word.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


class NumberField(forms.DecimalField):
    """A ``DecimalField`` that reads only plain figures (``1e4``, ``nan``,
    ``inf`` are refused with the field's own "invalid" message) and says one
    thing at a time: a mark of 1000 is "Enter a mark from 0 to 100", not that
    and Django's "Ensure that there are no more than 3 digits before the
    decimal point." as well. The range is checked first (Django's order of
    validators), so its message is the one shown."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        typed = value.strip() if isinstance(value, str) else ""
        if typed and not _PLAIN_NUMBER.fullmatch(typed):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def run_validators(self, value: Any) -> None:
        try:
            super().run_validators(value)
        except forms.ValidationError as error:
            raise error.error_list[0] from None


class MoneyField(NumberField):
    """An amount in pounds and pence, typed as people write it: 150000,
    £150,000 or 150,000.00. Every message names the amount (``what``); the
    example of how to write it (``example``) should be of the amount's size:
    "like 150,000.00" misleads someone typing an hourly rate of £35."""

    def __init__(
        self, *, what: str = "an amount", example: str = "150000 or 150,000.00", **kwargs: Any
    ) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"})
        )
        messages = {
            "required": f"Enter {what}",
            "invalid": (
                f"Enter an amount in pounds, like {example}"
                if what == "an amount"
                else f"Enter {what} as an amount in pounds, like {example}"
            ),
            "max_decimal_places": f"Enter {what} to the nearest penny",
            "max_digits": f"Enter {what} below £1,000,000,000,000",
            "max_whole_digits": f"Enter {what} below £1,000,000,000,000",
            "min_value": f"Enter {what} of at least £%(limit_value)s",
        }
        messages.update(kwargs.pop("error_messages", None) or {})
        super().__init__(error_messages=messages, **kwargs)

    # django-stubs types DecimalField.to_python as Decimal (over IntegerField's
    # int) with an ignore of its own; an override of it meets the same mismatch.
    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, str):
            value = value.strip().replace(",", "").replace(" ", "").removeprefix("£")
        return super().to_python(value)


# The largest key a database id can hold (PostgreSQL bigint, SQLite INTEGER).
MAX_ID = 2**63 - 1


def _could_be_an_id(value: Any) -> bool:
    """False for a number no id can be (SQLite raises OverflowError on one: a
    500 instead of "choose from the list"); True for anything else, which the
    field itself judges."""
    try:
        return 0 < int(str(value).strip()) <= MAX_ID
    except ValueError:
        return True


class ObjectChoiceField(forms.ModelChoiceField):
    """A ``ModelChoiceField`` that refuses, as not one of the choices, a number
    no id can be."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not _could_be_an_id(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class ObjectsChoiceField(forms.ModelMultipleChoiceField):
    """A ``ModelMultipleChoiceField`` that refuses, as not one of the choices,
    a number no id can be."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if not _could_be_an_id(pk):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        # Django's own (private) check of the chosen ids: missing from django-stubs.
        return super()._check_values(value)  # type: ignore[misc]
