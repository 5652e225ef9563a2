"""Form fields used across the portal's forms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms


class MoneyField(forms.DecimalField):
    """An amount in pounds and pence, typed as people write it: 150000,
    £150,000 or 150,000.00. Every message names the amount (``what``)."""

    def __init__(self, *, what: str = "an amount", **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"})
        )
        messages = {
            "required": f"Enter {what}",
            "invalid": (
                "Enter an amount in pounds, like 150000 or 150,000.00"
                if what == "an amount"
                else f"Enter {what} as an amount in pounds, like 150000 or 150,000.00"
            ),
            "max_decimal_places": f"Enter {what} to the nearest penny",
            "max_digits": f"Enter {what} below £1,000,000,000,000",
            "max_whole_digits": f"Enter {what} below £1,000,000,000,000",
            "min_value": f"Enter {what} of at least £%(limit_value)s",
        }
        messages.update(kwargs.pop("error_messages", None) or {})
        super().__init__(error_messages=messages, **kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str):
            value = value.strip().replace(",", "").replace(" ", "").removeprefix("£")
        return super().to_python(value)
