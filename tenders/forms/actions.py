"""The smaller officer forms: list filter, lot builder, invitations, actions."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Fieldset, Size, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict

from portal.fields import MoneyField, ObjectsChoiceField
from portal.forms import gds_helper
from portal.postcodes import sorted_districts
from portal.uploads import ALLOWED_WORDS, MAX_BYTES
from suppliers.models import SupplierOrganisation
from tenders.forms.fields import (
    TEXT_MAX_LENGTH,
    DateField,
    LotRows,
    TimeField,
    filled_rows,
    london_datetime,
    rows_wanted,
)
from tenders.models import (
    ClarificationVisibility,
    Opportunity,
    OpportunityStatus,
)
from tenders.selectors import MAX_SEARCH_LENGTH, OPPORTUNITY_SORTS, SUPPLIER_SORTS

# --- The list --------------------------------------------------------------------


SEARCH_HINT = "A word of the title, the reference or the CPV code, like grass or 77310000"


class StatusFilterForm(forms.Form):
    """The list's search, filter and sort (drawn with ``govuk_fields``, sent by
    GET). A sort that is not one of the list's is dropped before the form is
    bound (``sort_or_default``): an old or edited link is never an error."""

    q = forms.CharField(
        label="Search opportunities",
        help_text=SEARCH_HINT,
        required=False,
        max_length=MAX_SEARCH_LENGTH,
        error_messages={
            "max_length": f"Search text must be {MAX_SEARCH_LENGTH} characters or fewer"
        },
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *OpportunityStatus.choices],
        error_messages={"invalid_choice": "Select a status from the list"},
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=list(OPPORTUNITY_SORTS.items()),
    )


class SupplierListForm(forms.Form):
    """The supplier's list of its invitations: search and sort, sent by GET."""

    q = forms.CharField(
        label="Search your invitations",
        help_text=SEARCH_HINT,
        required=False,
        max_length=MAX_SEARCH_LENGTH,
        error_messages={
            "max_length": f"Search text must be {MAX_SEARCH_LENGTH} characters or fewer"
        },
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(name, words) for name, (words, _) in SUPPLIER_SORTS.items()],
    )


def without_unknown_sort(data: QueryDict, sorts: Iterable[str]) -> QueryDict:
    """The request's GET without ``sort`` when it is not one of ``sorts``, and
    without ``page``: what the list's links carry on."""
    kept = data.copy()
    kept.pop("page", None)
    if kept.get("sort") not in set(sorts):
        kept.pop("sort", None)
    return kept


# --- The lot builder -------------------------------------------------------------


class LotBuilderForm(forms.Form):
    """One lot per area of the council, each with the same value."""

    areas = forms.MultipleChoiceField(
        label="Which areas should have a lot?",
        widget=forms.CheckboxSelectMultiple,
        help_text="One lot for each area ticked, so local providers can bid for their own area.",
        error_messages={"required": "Choose at least one area"},
    )
    title = forms.CharField(
        label="Title of each lot",
        max_length=150,
        help_text="The area is added to it, like Grounds maintenance – BD7",
        error_messages={"required": "Enter the title of the lots"},
    )
    value_each = MoneyField(
        label="Estimated value of each lot (£)",
        help_text=(
            "Over the whole term. You can change each lot's value on the next page. "
            "The lots replace those the draft has now."
        ),
        min_value=Decimal("0.01"),
        what="the estimated value of each lot",
        error_messages={"required": "Enter the estimated value of each lot"},
    )

    def __init__(self, *args: Any, districts: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ``fields`` is typed as plain Fields; "areas" is the MultipleChoiceField above.
        areas = cast(forms.MultipleChoiceField, self.fields["areas"])
        # In natural order, BD1, BD2 … BD10, however the council listed them.
        areas.choices = [(d, d) for d in sorted_districts(districts)]
        areas.error_messages["invalid_choice"] = "Choose areas from the council's locality"
        self.helper = gds_helper(
            Field.text("title"),
            Field.text("value_each", field_width=10),
            Field.checkboxes("areas", legend_size=Size.SMALL, small=True),
            # The page after it shows each lot's value, to change before making them.
            Submit(REVIEW, "Continue"),
            novalidate=True,
        )

    def chosen_areas(self) -> list[str]:
        """The areas ticked, in natural order (call after ``is_valid``)."""
        return sorted_districts(list(dict.fromkeys(self.cleaned_data["areas"])))


# The lot builder's button that asks for the page of each lot's value, and that
# page's button that makes the lots. A post with neither (an older form) makes
# the lots at once, each of the one value.
REVIEW = "review"
MAKE = "make"


class LotValuesForm(forms.Form):
    """The lot builder's second page: each lot's value, starting from the
    value each was given, to change before the lots are made."""

    def __init__(self, *args: Any, areas: list[str], value_each: Decimal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.areas = areas
        for area in areas:
            self.fields[self.field_name(area)] = MoneyField(
                label=f"Value of the {area} lot (£)",
                initial=value_each.quantize(Decimal("0.01")),
                min_value=Decimal("0.01"),
                what=f"the value of the {area} lot",
            )

    @staticmethod
    def field_name(area: str) -> str:
        return f"value_{area}"

    def values(self) -> dict[str, Decimal]:
        """Each area's value (call after ``is_valid``)."""
        return {area: self.cleaned_data[self.field_name(area)] for area in self.areas}


# --- Inviting suppliers ----------------------------------------------------------


class InviteForm(forms.Form):
    """Suppliers ticked on the invite page (the page draws the checkboxes in its
    table) and, for a non-local one, why it should be invited."""

    suppliers = ObjectsChoiceField(
        label="Suppliers to invite",
        queryset=SupplierOrganisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one supplier to invite",
            "invalid_choice": (
                "A supplier you chose no longer matches this opportunity: choose again"
            ),
            "invalid_pk_value": "Choose suppliers from the list",
        },
    )
    non_local_justification = forms.CharField(
        label="Why invite a supplier that is not local? (only if you chose one)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Auditors see this reason with the invitation.",
    )

    def __init__(self, *args: Any, matches: QuerySet[SupplierOrganisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ``fields`` is typed as plain Fields; "suppliers" is the ObjectsChoiceField above.
        cast(ObjectsChoiceField, self.fields["suppliers"]).queryset = matches
        self.helper = FormHelper()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        chosen = data.get("suppliers") or []
        justification = (data.get("non_local_justification") or "").strip()
        distant = [s.legal_name for s in chosen if not s.is_local]
        if distant and not justification:
            names = ", ".join(distant)
            self.add_error(
                "non_local_justification",
                f"{names} {'is' if len(distant) == 1 else 'are'} not local: write why a "
                "non-local supplier should be invited",
            )
        return data


# --- Documents, questions and amendments ------------------------------------------


class DocumentForm(forms.Form):
    file = forms.FileField(
        label="Add a document",
        help_text=f"{ALLOWED_WORDS}, smaller than {MAX_BYTES // (1024 * 1024)} MB.",
        error_messages={
            "required": "Choose a file to upload",
            "empty": "The selected file is empty",
        },
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field("file", context={"label_size": Size.for_label(Size.SMALL)}),
            Submit("upload", "Upload document", css_class="govuk-button--secondary"),
            action=action,
        )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        error_messages={"required": "Enter the answer"},
    )
    visibility = forms.ChoiceField(
        label="Who sees the answer?",
        choices=[
            (
                ClarificationVisibility.ALL,
                "Every invited supplier, with the question, without the asker's name",
            ),
            (
                ClarificationVisibility.PRIVATE,
                "Only the supplier who asked (the question concerns only them)",
            ),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who sees the answer"},
    )
    published_question = forms.CharField(
        label="The question as every invited supplier will read it",
        help_text=(
            "This starts as the supplier's own words: check it before you send. Take out "
            "anything that tells who asked: a name, a site, a postcode, a reference. Only "
            "for an answer to every invited supplier; the asker alone reads its own words."
        ),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.textarea("answer", rows=4, label_size=Size.SMALL),
            Field.radios("visibility", legend_size=Size.SMALL, small=True),
            Field.textarea("published_question", rows=3, label_size=Size.SMALL),
            Submit("answer_submit", "Send answer"),
            action=action,
            novalidate=True,
        )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling it?",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="Invited suppliers are told, with this reason.",
        error_messages={"required": "Give the reason for cancelling: invited suppliers see it"},
    )

    def __init__(self, *args: Any, draft: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if draft:  # nobody has been told of a draft, so nobody is told it is cancelled
            self.fields["reason"].help_text = "Recorded in the opportunity's history for audit."
            self.fields["reason"].error_messages["required"] = (
                "Give the reason for cancelling: it is recorded for audit"
            )
        self.helper = gds_helper(
            Field.textarea("reason", rows=4, label_size=Size.SMALL),
            Submit("cancel", "Cancel the opportunity", css_class="govuk-button--warning"),
            novalidate=True,
        )


class ExtendDeadlineForm(forms.Form):
    submission_date = DateField(label="New deadline for bids", what="the new deadline for bids")
    submission_time = TimeField(
        label="Time of the new deadline for bids",
        help_text="UK time, 24-hour clock, like 12:00",
        error_messages={"required": "Enter the time of the new deadline"},
    )
    clarification_date = DateField(
        label="New deadline for questions (optional)",
        required=False,
        what="the new deadline for questions",
    )
    clarification_time = TimeField(label="Time of the new deadline for questions", required=False)
    contract_start = DateField(
        label="New planned contract start (optional)",
        required=False,
        what="the new planned contract start",
    )
    contract_end = DateField(
        label="New planned contract end (optional)",
        required=False,
        what="the new planned contract end",
    )
    reason = forms.CharField(
        label="Why is it extended?",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="Invited suppliers are told, with this reason.",
        error_messages={"required": "Give the reason: invited suppliers are told"},
    )

    def __init__(
        self,
        *args: Any,
        planned: tuple[datetime.date | None, datetime.date | None] = (None, None),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The contract cannot start before the day the bids close: a later
        # deadline may move the planned dates too (as they are now, in the hint).
        for name, day in zip(("contract_start", "contract_end"), planned, strict=True):
            now = f"Now {day:%-d %B %Y}. " if day else "None planned now. "
            self.fields[name].help_text = now + (
                "Only if it moves: the contract cannot start before the day the bids close."
                if name == "contract_start"
                else "Only if it moves, for example to keep the contract's length."
            )
        self.helper = gds_helper(
            Field("submission_date", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field.text("submission_time", field_width=5),
            Field("clarification_date", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field.text("clarification_time", field_width=5),
            Field("contract_start", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field("contract_end", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field.textarea("reason", rows=3, label_size=Size.SMALL),
            Submit("extend", "Extend the deadline"),
            novalidate=True,
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["submission_deadline"] = None
        data["clarification_deadline"] = None
        for prefix, words in [
            ("submission", "new deadline"),
            ("clarification", "new deadline for questions"),
        ]:
            day, at = data.get(f"{prefix}_date"), data.get(f"{prefix}_time")
            if self.has_error(f"{prefix}_date") or self.has_error(f"{prefix}_time"):
                continue
            if not day:
                if at is not None:
                    self.add_error(f"{prefix}_date", f"Enter the date of the {words}")
            elif at is None:
                self.add_error(f"{prefix}_time", f"Enter the time of the {words}")
            else:
                try:
                    data[f"{prefix}_deadline"] = london_datetime(day, at)
                except ValidationError as exc:
                    self.add_error(f"{prefix}_time", exc)
        return data


class CorrectDetailsForm(forms.Form):
    title = forms.CharField(
        label="Title", max_length=200, error_messages={"required": "Enter a title"}
    )
    description = forms.CharField(
        label="Description",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        error_messages={"required": "Enter a description of the work"},
    )
    summary = forms.CharField(
        label="What did you correct?",
        max_length=1000,
        widget=forms.Textarea,
        help_text="A sentence for invited suppliers, who are told of the change.",
        error_messages={"required": "Say what you corrected: invited suppliers are told"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.text("title"),
            Field.textarea("description", rows=6),
            Field.textarea("summary", rows=2),
            Submit("correct", "Save the correction"),
            novalidate=True,
        )


class ChangeValueForm(LotRows):
    """New lots and values of an open opportunity; the rule runs again."""

    options_value = MoneyField(
        label="Value of options and extensions (£)",
        required=False,
        help_text="Leave it as it is, or 0 for none.",
        what="the value of options and extensions",
        error_messages={"min_value": "Enter the value of options and extensions: £0 or more"},
    )
    summary = forms.CharField(
        label="Why has the value changed?",
        max_length=1000,
        widget=forms.Textarea,
        help_text="A sentence for invited suppliers, who are told of the change.",
        error_messages={"required": "Say why the value changed: invited suppliers are told"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        filled = filled_rows(self, "lot_title", "lot_value")
        self._add_lot_fields(rows_wanted(self, "lot_rows", 1, filled))
        self.initial.setdefault("lot_rows", self.lot_count)
        self.helper = gds_helper(
            Fieldset(*self._lot_layout(), legend="Lots", legend_size=Size.MEDIUM),
            Field.text("options_value", field_width=10),
            Field.textarea("summary", rows=2),
            Submit("change", "Change the value"),
            novalidate=True,
        )

    @classmethod
    def from_opportunity(cls, opportunity: Opportunity, **kwargs: Any) -> ChangeValueForm:
        initial: dict[str, Any] = {"options_value": opportunity.options_value}
        lots = list(opportunity.lots.all())
        for n, lot in enumerate(lots, start=1):
            initial[f"lot_title_{n}"] = lot.title
            initial[f"lot_value_{n}"] = lot.estimated_value
        initial["lot_rows"] = max(len(lots), 1)
        return cls(initial=initial, **kwargs)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["lots"] = self.clean_lots()
        return data


class OverrideForm(forms.Form):
    justification = forms.CharField(
        label="Why is this work genuinely separate?",
        min_length=20,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text=(
            "Auditors see this justification and that you recorded it. Work must not be "
            "split to stay under the threshold."
        ),
        error_messages={
            "required": "Write the justification",
            "min_length": "Write the justification in full: at least 20 characters",
        },
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.textarea("justification", rows=4, label_size=Size.SMALL),
            Submit("override", "Record that the work is separate"),
            action=action,
            novalidate=True,
        )
