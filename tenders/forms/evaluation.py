"""Forms of the officer's bid pages: a mark for a quality criterion, excluding
a bid, and the award of a lot. Each posts to its own URL and works without
JavaScript."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from crispy_forms_gds.layout import Field, Size, Submit
from django import forms
from django.utils import timezone

from portal.fields import NumberField
from portal.forms import TextSubmit, gds_helper
from tenders.forms.fields import TEXT_MAX_LENGTH, DateField
from tenders.models import Opportunity
from tenders.services import contract_start_problem


class ScoreForm(forms.Form):
    """An officer's mark (0–100%) for one quality criterion, with a comment the
    supplier will read in their outcome letter."""

    mark = NumberField(
        label="Mark (%)",
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="From 0 to 100. The weighted points are the mark times the weight.",
        error_messages={
            "required": "Enter a mark from 0 to 100",
            "invalid": "Enter the mark as a number from 0 to 100",
            "min_value": "Enter a mark from 0 to 100",
            "max_value": "Enter a mark from 0 to 100",
            "max_digits": "Enter a mark from 0 to 100",
            "max_whole_digits": "Enter a mark from 0 to 100",
            "max_decimal_places": "Enter a mark with at most 2 decimal places",
        },
    )
    comment = forms.CharField(
        label="Comment",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="Why this mark: the supplier reads it with the outcome.",
        error_messages={"required": "Write a comment: the supplier will read it"},
    )

    def __init__(self, *args: Any, action: str, criterion_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mark"].label = f"{criterion_name}: mark (%)"
        self.fields["comment"].label = f"{criterion_name}: comment"
        self.helper = gds_helper(
            Field.text("mark", field_width=4, label_size=Size.SMALL),
            Field.textarea("comment", rows=3, label_size=Size.SMALL),
            TextSubmit("score", f"Save the mark for {criterion_name}"),
            action=action,
            novalidate=True,
        )


class ExcludeForm(forms.Form):
    reason = forms.CharField(
        label="Why is this bid excluded?",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="It is left out of the ranking. The supplier reads this reason.",
        error_messages={"required": "Give the reason for excluding the bid"},
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.textarea("reason", rows=3, label_size=Size.SMALL),
            Submit("exclude", "Exclude the bid", css_class="govuk-button--warning"),
            action=action,
            novalidate=True,
        )


class AwardForm(forms.Form):
    reasons = forms.CharField(
        label="Reasons for the award",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="Every bidder reads these reasons in their outcome letter.",
        error_messages={"required": "Write the reasons for the award"},
    )
    start_date = DateField(label="Contract start date", what="the date the contract starts")
    end_date = DateField(label="Contract end date", what="the date the contract ends")

    def __init__(self, *args: Any, opportunity: Opportunity, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opportunity = opportunity
        if opportunity.submission_deadline is not None:
            closed = timezone.localtime(opportunity.submission_deadline).date()
            self.fields[
                "start_date"
            ].help_text = f"The day the bids closed, {closed:%-d %-m %Y}, or later"
        self.helper = gds_helper(
            Field.textarea("reasons", rows=4, label_size=Size.SMALL),
            Field("start_date", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field("end_date", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Submit("award", "Award the lot"),
            novalidate=True,
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start: datetime.date | None = data.get("start_date")
        end: datetime.date | None = data.get("end_date")
        if start and (problem := contract_start_problem(self.opportunity, start)):
            self.add_error("start_date", problem)
        elif start and end and end < start:
            self.add_error("end_date", "The contract must end on or after its start date")
        return data
