"""Forms of the payee pages (issue 18): searching, an officer's decisions on
a candidate, undoing a match and inviting a payee to register. Each posts to
its own URL and works without JavaScript."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms

from portal.forms import TextSubmit, gds_helper


class PayeeSearchForm(forms.Form):
    q = forms.CharField(
        label="Search payees by name",
        required=False,
        max_length=200,
        help_text="A word of the name as the spending files write it.",
    )
    show = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("", "Not matched to a supplier"), ("matched", "Matched to a supplier")],
    )


class CandidateForm(forms.Form):
    """A supplier chosen from the candidates (Confirm, or Not this supplier)."""

    supplier = forms.IntegerField(
        label="Supplier",
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={"required": "Choose a supplier from the list"},
    )


class UnmatchForm(forms.Form):
    reason = forms.CharField(
        label="Why is the match wrong?",
        max_length=2000,
        widget=forms.Textarea,
        help_text=(
            "Kept in the audit trail. The supplier will not be proposed for this payee again."
        ),
        error_messages={"required": "Say why the match is wrong"},
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.textarea("reason", rows=3, label_size=Size.SMALL),
            TextSubmit("unmatch", "Unmatch", css_class="govuk-button--warning"),
            action=action,
        )


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address to invite",
        max_length=254,
        help_text="Someone at the payee: for example from an invoice or the council's records.",
        error_messages={
            "required": "Enter an email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
        },
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.text("email", field_width=20, label_size=Size.SMALL),
            TextSubmit("invite", "Invite them to register", css_class="govuk-button--secondary"),
            action=action,
        )
