"""Form fields that accept CPV codes as people type them, and the search form."""

from __future__ import annotations

import re
from typing import Any

from crispy_forms_gds.helper import FormHelper
from django import forms
from django.urls import reverse_lazy

from cpv import selectors
from cpv.models import CpvCode

_SEPARATORS = re.compile(r"[,;\n]+")


class CpvCodeField(forms.CharField):
    """One CPV code; ``cleaned_data`` holds the ``CpvCode``.

    Accepts ``45000000-7``, ``45000000 7`` or ``45000000``; the code must be in
    the list and a check digit, if typed, must be the listed one.
    """

    default_error_messages = {"required": selectors.SHAPE_MESSAGE}

    def prepare_value(self, value: Any) -> Any:
        return value.code if isinstance(value, CpvCode) else value

    def clean(self, value: Any) -> CpvCode | None:
        text = super().clean(value)
        if text in self.empty_values:
            return None
        return selectors.get_code(text)


class CpvCodesField(forms.CharField):
    """Several CPV codes, separated by commas or on separate lines.

    ``cleaned_data`` holds the ``CpvCode``s in the order typed, without
    repeats; every refused code is named in its own error message.
    """

    widget = forms.Textarea(
        attrs={
            "rows": 4,
            "spellcheck": "false",
            # assets/js/cpv-picker.mjs adds a search box that fills this field.
            "data-module": "lt-cpv-picker",
            "data-search-url": reverse_lazy("cpv:search"),
        }
    )
    default_error_messages = {"required": "Enter at least one CPV code, like 45000000-7"}

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(c.code if isinstance(c, CpvCode) else str(c) for c in value)
        return value

    def clean(self, value: Any) -> list[CpvCode]:
        text = super().clean(value)
        parts = [part.strip() for part in _SEPARATORS.split(text or "") if part.strip()]
        if not parts:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        return selectors.get_codes(parts)


class CpvSearchForm(forms.Form):
    """The search box of "Find a CPV code" (sent by GET; the page lays it out)."""

    q = forms.CharField(
        label="Words or code",
        help_text="For example, cleaning services, or the first digits of a code, like 4521",
        required=False,
        max_length=selectors.MAX_QUERY_LENGTH,
        error_messages={
            "max_length": f"Search text must be {selectors.MAX_QUERY_LENGTH} characters or fewer"
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read by the error summary tag; the template writes the form itself.
        self.helper = FormHelper()
