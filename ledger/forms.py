"""Forms of the ledger's figures pages (issue 18). The pages draw them in
their tables, one small form a row; these check what was posted."""

from __future__ import annotations

from typing import cast

from django import forms

from ledger.selectors import GROUPS


class FiguresFilterForm(forms.Form):
    """The dashboard's year and grouping (GET)."""

    year = forms.TypedChoiceField(
        label="Financial year", coerce=int, required=False, empty_value=None
    )
    group_by = forms.ChoiceField(
        label="Group by",
        required=False,
        choices=[(g, g) for g in GROUPS],
        error_messages={"invalid_choice": "Select month, department or category"},
    )

    def __init__(self, *args: object, years: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        year = cast(forms.ChoiceField, self.fields["year"])
        year.choices = [("", "Every year")] + [(str(y), str(y)) for y in years]
        year.error_messages["invalid_choice"] = "Select a financial year from the list"


class CategoryMapForm(forms.Form):
    category = forms.CharField(max_length=200, error_messages={"required": "Name the category"})
    cpv_group = forms.RegexField(
        label="CPV group",
        regex=r"^[0-9]{3}$",
        required=False,
        error_messages={
            "invalid": "Enter the CPV group as its first three digits, like 909, or leave it empty"
        },
    )


class LeakDraftForm(forms.Form):
    category = forms.CharField(max_length=200, error_messages={"required": "Name the category"})


class NetworkShareForm(forms.Form):
    shared = forms.TypedChoiceField(
        label="Share this council's headline figures with the network",
        choices=[("yes", "Yes, share them"), ("no", "No, keep them to this council")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes or no"},
    )
