"""Forms of the ledger's pages: imports, then the figures pages (which draw
theirs in their tables, one small form a row)."""

from __future__ import annotations

from typing import Any, cast

from crispy_forms_gds.layout import Field as Gds
from django import forms

from ledger.selectors import GROUPS
from ledger.spendfile import REQUIRED_FIELDS, Field
from portal.forms import TextSubmit, gds_helper

# --- Imports (ledger.views.imports) -------------------------------------------------


def lower_first(label: str) -> str:
    """A field's label inside a sentence: "the amount (including irrecoverable
    VAT)", keeping an abbreviation's capitals."""
    return label[:1].lower() + label[1:]


class SpendUploadForm(forms.Form):
    """The council's spending file, as it publishes it."""

    file = forms.FileField(
        label="Spending file",
        help_text="The file your council publishes under the Transparency Code: CSV or Excel "
        "(XLSX), up to 25 MB. Upload a month or a year; a payment already held is not "
        "counted twice.",
        error_messages={"required": "Select the spending file to upload"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(Gds("file"), submit="Upload and check the columns")
        self.helper.attrs = {"enctype": "multipart/form-data"}


class ColumnsForm(forms.Form):
    """Which of the file's columns holds each of the Code's fields."""

    mapping_name = forms.CharField(
        label="Remember these columns as",
        max_length=100,
        initial="Our spending file",
        help_text="The next file with these headers starts from this choice.",
        error_messages={"required": "Enter a name for these columns"},
    )

    def __init__(self, *args: Any, headers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Not in this file"), *((h, h) for h in headers if h)]
        required = {f.value for f in REQUIRED_FIELDS}
        names = []
        for choice in Field:
            name = f"field_{choice.value}"
            self.fields[name] = forms.ChoiceField(
                label=choice.label + ("" if choice.value in required else " (if the file has it)"),
                choices=choices,
                required=choice.value in required,
                error_messages={
                    "required": "Choose the column that holds the " + lower_first(choice.label),
                    "invalid_choice": "Choose one of the file's columns",
                },
            )
            names.append(name)
        self.helper = gds_helper(
            *(Gds.select(n) for n in names),
            Gds.text("mapping_name", field_width=20),
            TextSubmit("start", "Import the file"),
        )

    def columns(self) -> dict[str, str]:
        return {
            choice.value: self.cleaned_data[f"field_{choice.value}"]
            for choice in Field
            if self.cleaned_data.get(f"field_{choice.value}")
        }

    @staticmethod
    def initial_for(columns: dict[str, str]) -> dict[str, str]:
        return {f"field_{field}": header for field, header in columns.items()}


class WithdrawImportForm(forms.Form):
    reason = forms.CharField(
        label="Why is this import withdrawn?",
        max_length=1000,
        widget=forms.Textarea,
        help_text="Kept in the audit trail.",
        error_messages={"required": "Enter why the import is withdrawn"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Gds.textarea("reason", rows=3), TextSubmit("withdraw", "Withdraw the import")
        )


# --- Figures (ledger.views.figures) -------------------------------------------------


class FiguresFilterForm(forms.Form):
    """The dashboard's year and grouping (GET)."""

    year = forms.TypedChoiceField(
        label="Financial year", coerce=int, required=False, empty_value=None
    )
    group_by = forms.ChoiceField(
        label="Group by",
        required=False,
        choices=[(g, g) for g in GROUPS],
        error_messages={"invalid_choice": "Select financial year, month, department or category"},
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
