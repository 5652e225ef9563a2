"""The award register's filters, sent by GET so a filtered register can be
linked to, bookmarked and downloaded as it stands."""

from __future__ import annotations

from typing import Any, cast

from crispy_forms_gds.layout import Field, Size
from django import forms

from portal.forms import gds_helper
from portal.models import BuyerOrganisation
from tenders.rules import financial_year_label
from transparency.invitations import Quarter
from transparency.register import (
    ROUTES,
    VALUE_BANDS,
    RegisterFilters,
    register_choices,
)

YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]


def _select(label: str, what: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        error_messages={"invalid_choice": f"Select {what}"},
    )


class RegisterFilterForm(forms.Form):
    year = _select("Financial year", "a financial year")
    department = _select("Department", "a department")
    category = _select("Category (CPV division)", "a category")
    supplier = forms.CharField(
        label="Supplier",
        help_text="Part of the name",
        required=False,
        max_length=100,
        error_messages={"max_length": "Supplier name must be 100 characters or fewer"},
    )
    local = _select("Local supplier", "whether the supplier was local")
    sme = _select("SME", "whether the supplier was an SME")
    vcse = _select("VCSE", "whether the supplier was a VCSE")
    band = _select("Whole value including VAT", "a value band")
    route = _select("Route", "a route")

    def __init__(self, *args: Any, buyer: BuyerOrganisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

        def select(name: str) -> forms.ChoiceField:
            # ``fields`` is typed as plain Fields; the selects are ``_select``'s ChoiceFields.
            return cast(forms.ChoiceField, self.fields[name])

        choices = register_choices(buyer)
        select("year").choices = [("", "All years")] + [
            (str(y), financial_year_label(y)) for y in choices.years
        ]
        select("department").choices = [("", "All departments")] + [
            (str(pk), name) for pk, name in choices.departments
        ]
        select("category").choices = [("", "All categories"), *choices.categories]
        for name in ("local", "sme", "vcse"):
            select(name).choices = YES_NO
        select("band").choices = [("", "Any value")] + [(k, v[0]) for k, v in VALUE_BANDS.items()]
        select("route").choices = [("", "Any route"), *ROUTES.items()]

    def filters(self) -> RegisterFilters:
        """The filters that are valid (an invalid one is left out and explained)."""
        data = getattr(self, "cleaned_data", {})

        def yes_no(name: str) -> bool | None:
            return {"yes": True, "no": False}.get(data.get(name) or "")

        return RegisterFilters(
            year=int(data["year"]) if data.get("year") else None,
            department=int(data["department"]) if data.get("department") else None,
            category=data.get("category") or None,
            supplier=data.get("supplier") or "",
            local=yes_no("local"),
            sme=yes_no("sme"),
            vcse=yes_no("vcse"),
            band=data.get("band") or None,
            route=data.get("route") or None,
        )


class HistorySearchForm(forms.Form):
    """The audit index's search: an opportunity by reference or title, a
    supplier by name (GET, so a search can be linked to)."""

    q = forms.CharField(
        label="Opportunity",
        help_text="Its reference or part of its title",
        required=False,
        max_length=100,
        error_messages={"max_length": "Opportunity must be 100 characters or fewer"},
    )
    supplier = forms.CharField(
        label="Supplier",
        help_text="Part of its name",
        required=False,
        max_length=100,
        error_messages={"max_length": "Supplier must be 100 characters or fewer"},
    )


NOTE_MAX = 2000


class FlagReviewForm(forms.Form):
    note = forms.CharField(
        label="Your note",
        help_text="What you checked and what you found. The next auditor reads it.",
        widget=forms.Textarea,
        max_length=NOTE_MAX,
        error_messages={
            "required": "Enter a note saying what you checked",
            "max_length": f"Your note must be {NOTE_MAX:,} characters or fewer",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.textarea("note", label_size=Size.SMALL, rows=5, max_characters=NOTE_MAX),
            submit="Mark as reviewed",
            novalidate=True,
        )


class InvitationFilterForm(forms.Form):
    """The invitations to tender's one filter: the quarter they were published in."""

    quarter = _select("Quarter published", "a quarter from the list")

    def __init__(self, *args: Any, quarters: list[Quarter], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["quarter"]).choices = [("", "All quarters")] + [
            (q.key, q.label) for q in quarters
        ]
