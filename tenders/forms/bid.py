"""What an invited supplier fills in for its bid on one lot: the price, the
declarations and one file at a time. Nothing here decides whether the bid may
be saved or submitted: the bid services do, and the view shows their answer."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import HTML, Div, Field, Size, Submit
from django import forms

from portal.fields import MoneyField
from portal.forms import gds_helper
from portal.uploads import ALLOWED_WORDS, MAX_BYTES
from tenders.models import Bid, VatBasis
from tenders.services import DECLARATIONS

MAX_MB = MAX_BYTES // (1024 * 1024)


class BidForm(forms.Form):
    price = MoneyField(
        what="your price",
        example="12500 or 12,500.00",  # as the hint says
        label="Your price (£)",
        help_text=(
            "The total you will charge for this lot over the whole contract, in pounds and "
            "pence, like 12500 or 12,500.00. You can save a draft without it."
        ),
        required=False,
    )
    declarations = forms.MultipleChoiceField(
        label="Declarations",
        help_text="You must confirm every declaration before you submit your bid.",
        choices=list(DECLARATIONS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Choose declarations from the list"},
    )
    file = forms.FileField(
        label="Add a file to your bid",
        help_text=(
            f"One file at a time: {ALLOWED_WORDS}, smaller than {MAX_MB} MB. It is added to "
            "your draft when you save or submit."
        ),
        required=False,
        error_messages={"empty": "The selected file is empty"},
    )

    def __init__(self, *args: Any, action: str, vat_basis: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action  # where the bid page's form posts
        if vat_basis and "price" in self.fields:
            # The council compares prices on its opportunity's VAT basis (the
            # award's threshold check reads the price so): say which.
            basis = VatBasis(vat_basis).label
            self.fields["price"].label = f"Your price (£, {basis})"
            self.fields["price"].help_text = (
                f"The total you will charge for this lot over the whole contract, {basis}, "
                "in pounds and pence, like 12500 or 12,500.00. You can save a draft without it."
            )
        self.helper = gds_helper(
            Field.text("price", label_size=Size.MEDIUM, field_width=10),
            Field.checkboxes("declarations", legend_size=Size.MEDIUM),
            Field("file", context={"label_size": Size.for_label(Size.MEDIUM)}),
            HTML(
                '<p class="govuk-body">Saving keeps your draft here: the council never sees a '
                "draft. Submitting sends it, sealed until the deadline has passed.</p>"
            ),
            Div(
                # "Save draft" comes first so that pressing Enter saves rather than submits.
                Submit("save", "Save draft", css_class="govuk-button--secondary"),
                Submit("submit", "Submit bid"),
                css_class="govuk-button-group",
            ),
            action=action,
            novalidate=True,
        )
        # A file's Remove button posts this form too (``form="bid-form"``), so
        # that what was typed is saved before the file is taken out.
        self.helper.form_id = "bid-form"

    @classmethod
    def for_draft(cls, bid: Bid | None, *, action: str, vat_basis: str = "") -> BidForm:
        """The form filled in with what the supplier saved last."""
        if bid is None:
            return cls(action=action, vat_basis=vat_basis)
        return cls(
            action=action,
            vat_basis=vat_basis,
            initial={
                "price": bid.draft_price,
                "declarations": [key for key, ticked in bid.draft_declarations.items() if ticked],
            },
        )

    @classmethod
    def bound_to_draft(cls, bid: Bid, *, action: str, vat_basis: str = "") -> BidForm:
        """The draft as if just typed, so that a refusal can be shown on it."""
        form = cls(
            {
                "price": "" if bid.draft_price is None else str(bid.draft_price),
                "declarations": [k for k, ticked in bid.draft_declarations.items() if ticked],
            },
            action=action,
            vat_basis=vat_basis,
        )
        form.is_valid()
        return form

    def declarations_ticked(self) -> dict[str, bool]:
        ticked = set(self.cleaned_data.get("declarations") or [])
        return {key: key in ticked for key in DECLARATIONS}
