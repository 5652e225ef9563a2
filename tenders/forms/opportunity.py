"""The form an officer writes or edits an opportunity with."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, cast

from crispy_forms_gds.layout import HTML, Field, Fieldset, Size, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import escape, format_html

from cpv.forms import CpvCodeField
from portal import once
from portal.fields import MoneyField, ObjectChoiceField
from portal.forms import gds_helper
from portal.models import BuyerOrganisation
from tenders import rules
from tenders.forms.fields import (
    CPV_FINDER,
    LONDON,
    MAX_ROWS,
    TEXT_MAX_LENGTH,
    CriterionRows,
    DateField,
    LotRows,
    TimeField,
    filled_rows,
    london_datetime,
    rows_wanted,
)
from tenders.models import (
    ContractKind,
    Opportunity,
    ProcurementPolicy,
    Reservation,
    VatBasis,
)
from tenders.services import planned_start_problem

# Empty rows a new draft starts with.
LOT_ROWS = 2
CRITERION_ROWS = 3


# --- Writing and editing an opportunity -------------------------------------------


class OpportunityForm(LotRows, CriterionRows):
    """Everything an officer writes in a draft; ``service_fields`` feeds the
    services ``opportunity_create`` and ``opportunity_update_draft``."""

    title = forms.CharField(
        label="Title",
        max_length=200,
        help_text="Say what the work is, like Cleaning of Keighley library",
        error_messages={"required": "Enter a title"},
    )
    description = forms.CharField(
        label="Description",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="What the work is, where and when. Invited suppliers read this.",
        error_messages={"required": "Enter a description of the work"},
    )
    department = ObjectChoiceField(
        label="Department (optional)",
        queryset=None,
        required=False,
        empty_label="No department",
    )
    cpv = CpvCodeField(
        label="Category (CPV code)",
        help_text=(
            "The one code that best describes the work, like 90910000-9 for cleaning "
            "services. Suppliers in this category, and in the codes below it, are matched."
        ),
        error_messages={"required": "Enter the CPV code of the work, like 90910000-9"},
    )
    contract_kind = forms.ChoiceField(
        label="What kind of contract is it?",
        choices=ContractKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what kind of contract it is"},
    )
    options_value = MoneyField(
        label="Value of options and extensions (£, optional)",
        required=False,
        help_text=(
            "Any optional extra work, extension or renewal, over the whole term. The "
            "estimated value of the contract is every lot plus this."
        ),
        what="the value of options and extensions",
        error_messages={"min_value": "Enter the value of options and extensions: £0 or more"},
    )
    value_vat_basis = forms.ChoiceField(
        label="Are these values including or excluding VAT?",
        choices=[(VatBasis.INCLUSIVE, "Including VAT"), (VatBasis.EXCLUSIVE, "Excluding VAT")],
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the values include VAT"},
    )
    contract_start = DateField(
        label="Contract start (optional)",
        required=False,
        what="the date the contract starts",
        help_text="For example, 1 9 2026",
    )
    contract_end = DateField(
        label="Contract end (optional)",
        required=False,
        what="the date the contract ends",
        help_text="For example, 31 8 2028",
    )
    max_lots_per_supplier = forms.IntegerField(
        label="Most lots one supplier may win (optional)",
        required=False,
        min_value=1,
        max_value=MAX_ROWS,
        help_text="Leave blank for no limit.",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": "Enter the most lots one supplier may win as a whole number",
            "min_value": "Enter 1 or more, or leave it blank for no limit",
            "max_value": f"Enter {MAX_ROWS} or fewer, or leave it blank for no limit",
        },
    )
    # A new draft is made once, however often the form is sent (portal.once).
    submission = once.field()
    reservation = forms.ChoiceField(
        label="Who may be invited?",
        choices=Reservation.choices,
        widget=forms.RadioSelect,
        help_text="Decide any reservation now, before you invite suppliers.",
        error_messages={"required": "Choose who may be invited"},
    )
    no_cross_border_interest = forms.BooleanField(
        label="I confirm this contract has no potential cross-border interest",
        required=False,
        help_text=(
            "Needed to reserve it: reserving is not open where suppliers in other countries "
            "might be interested."
        ),
    )
    clarification_date = DateField(
        label="Deadline for questions (optional until you publish)",
        required=False,
        what="the deadline for questions",
        help_text="For example, 24 6 2026",
    )
    clarification_time = TimeField(
        label="Time of the deadline for questions",
        required=False,
        help_text="UK time, 24-hour clock, like 12:00",
    )
    submission_date = DateField(
        label="Deadline for bids (optional until you publish)",
        required=False,
        what="the deadline for bids",
        help_text="For example, 1 7 2026",
    )
    submission_time = TimeField(
        label="Time of the deadline for bids",
        required=False,
        help_text="UK time, 24-hour clock, like 12:00. A bid a second late is refused.",
    )

    def __init__(
        self,
        *args: Any,
        buyer: BuyerOrganisation,
        policy: ProcurementPolicy | None = None,
        local_reservation: str = "",
        submit_label: str = "Save and check the route",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.buyer = buyer
        # The dates' examples are dates still to come (a past example beside
        # "must be in the future" misleads).
        today = timezone.localdate()
        start = (today.replace(day=1) + datetime.timedelta(days=92)).replace(day=1)
        examples = {
            "clarification_date": today + datetime.timedelta(days=21),
            "submission_date": today + datetime.timedelta(days=28),
            "contract_start": start,
            "contract_end": start.replace(year=start.year + 2) - datetime.timedelta(days=1),
        }
        for name, day in examples.items():
            self.fields[name].help_text = f"For example, {day.day} {day.month} {day.year}"
        # From when reserving to local suppliers is open (``statutory.
        # local_reservation_note``); it quotes an administrator's text: escaped,
        # as hints are shown as HTML.
        self.fields["reservation"].help_text = format_html(
            "Decide any reservation now, before you invite suppliers. {}", local_reservation
        )
        # ``fields`` is typed as plain Fields; "department" is the ObjectChoiceField above.
        cast(ObjectChoiceField, self.fields["department"]).queryset = buyer.departments.all()
        self.fields["department"].widget.attrs["class"] = "govuk-select"
        if policy is not None:
            basis = policy.get_vat_basis_display()
            self.fields["value_vat_basis"].help_text = (
                f"{buyer.name}'s policy compares values {basis}; other figures are converted "
                f"at {rules.percent(policy.vat_rate_percent)} VAT."
            )
        self._add_lot_fields(
            rows_wanted(self, "lot_rows", LOT_ROWS, filled_rows(self, "lot_title", "lot_value"))
        )
        self._add_criterion_fields(
            rows_wanted(
                self,
                "criterion_rows",
                CRITERION_ROWS,
                filled_rows(self, "criterion_name", "criterion_weight"),
            )
        )
        self.initial.setdefault("lot_rows", self.lot_count)
        self.initial.setdefault("criterion_rows", self.criterion_count)
        self.helper = gds_helper(
            # Enter in a text box presses a form's first submit button: this one,
            # the form's own, not "Add another lot" further down. Out of sight and
            # out of the tab order; the visible "save" button is at the end.
            HTML(
                f'<button type="submit" name="save" class="govuk-visually-hidden" '
                f'tabindex="-1" aria-hidden="true">{escape(submit_label)}</button>'
            ),
            Fieldset(
                Field.text("title"),
                Field.textarea("description", rows=5),
                Field("department", context={"label_size": Size.for_label(Size.SMALL)}),
                Field.text("cpv", field_width=10),
                CPV_FINDER,
                Field.radios("contract_kind", legend_size=Size.SMALL),
                legend="About the work",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                HTML(
                    '<p class="govuk-body">Give each lot its estimated value over the whole '
                    "term. Leave a row blank to leave it out. Lots for areas of the council "
                    "can be made with the lot builder after saving.</p>"
                ),
                *self._lot_layout(),
                legend="Lots",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                Field.text("options_value", field_width=10),
                Field.radios("value_vat_basis", legend_size=Size.SMALL, inline=True),
                legend="Value",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                Field("contract_start", context={"legend_size": Size.for_legend(Size.SMALL)}),
                Field("contract_end", context={"legend_size": Size.for_legend(Size.SMALL)}),
                Field.text("max_lots_per_supplier", field_width=3),
                legend="Contract",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                Field.radios("reservation", legend_size=Size.SMALL),
                Field.checkbox("no_cross_border_interest", small=True),
                legend="Who may bid",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                Field("clarification_date", context={"legend_size": Size.for_legend(Size.SMALL)}),
                Field.text("clarification_time", field_width=5),
                Field("submission_date", context={"legend_size": Size.for_legend(Size.SMALL)}),
                Field.text("submission_time", field_width=5),
                legend="Deadlines (UK time)",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                HTML(
                    '<p class="govuk-body">The weights must add up to 100 before you publish. '
                    "Tick the one criterion that is the price: it is scored by formula.</p>"
                ),
                *self._criterion_layout(),
                legend="How bids will be evaluated",
                legend_size=Size.MEDIUM,
            ),
            Field(once.NAME),
            Submit("save", submit_label),
            novalidate=True,
        )

    @classmethod
    def from_opportunity(cls, opportunity: Opportunity, **kwargs: Any) -> OpportunityForm:
        """The form filled in with a draft's details, to edit it."""
        initial: dict[str, Any] = {
            name: getattr(opportunity, name)
            for name in [
                "title",
                "description",
                "cpv",
                "contract_kind",
                "options_value",
                "value_vat_basis",
                "contract_start",
                "contract_end",
                "max_lots_per_supplier",
                "reservation",
                "no_cross_border_interest",
            ]
        }
        initial["department"] = opportunity.department_id
        for prefix, moment in [
            ("clarification", opportunity.clarification_deadline),
            ("submission", opportunity.submission_deadline),
        ]:
            if moment is not None:
                local = timezone.localtime(moment, LONDON)
                initial[f"{prefix}_date"] = local.date()
                initial[f"{prefix}_time"] = f"{local:%H:%M}"
        lots = list(opportunity.lots.all())
        criteria = list(opportunity.criteria.all())
        for n, lot in enumerate(lots, start=1):
            initial[f"lot_title_{n}"] = lot.title
            initial[f"lot_value_{n}"] = lot.estimated_value
        for n, criterion in enumerate(criteria, start=1):
            initial[f"criterion_name_{n}"] = criterion.name
            initial[f"criterion_weight_{n}"] = criterion.weight
            initial[f"criterion_price_{n}"] = criterion.is_price
        initial["lot_rows"] = max(len(lots), 1)
        initial["criterion_rows"] = max(len(criteria) + 1, CRITERION_ROWS)
        return cls(initial=initial, **kwargs)

    def _deadline(self, prefix: str, words: str) -> datetime.datetime | None:
        day = self.cleaned_data.get(f"{prefix}_date")
        at = self.cleaned_data.get(f"{prefix}_time")
        if self.has_error(f"{prefix}_date") or self.has_error(f"{prefix}_time"):
            return None
        if not day:
            if at is not None:
                self.add_error(f"{prefix}_date", f"Enter the date of the {words}")
            return None
        if at is None:
            self.add_error(f"{prefix}_time", f"Enter the time of the {words}")
            return None
        try:
            moment = london_datetime(day, at)
        except ValidationError as exc:
            self.add_error(f"{prefix}_time", exc)
            return None
        if moment <= timezone.now():
            self.add_error(f"{prefix}_date", f"The {words} must be in the future")
            return None
        return moment

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["lots"] = self.clean_lots()
        data["criteria"] = self.clean_criteria()
        data["clarification_deadline"] = self._deadline("clarification", "deadline for questions")
        data["submission_deadline"] = self._deadline("submission", "deadline for bids")
        questions, bids = data["clarification_deadline"], data["submission_deadline"]
        if questions and bids and questions >= bids:
            self.add_error(
                "clarification_date",
                "The deadline for questions must be before the deadline for bids",
            )
        start, end = data.get("contract_start"), data.get("contract_end")
        if start and end and end < start:
            self.add_error("contract_end", "The contract must end after it starts")
        if problem := planned_start_problem(start, bids):
            self.add_error("contract_start", problem)
        if data.get("reservation", Reservation.NONE) != Reservation.NONE and not data.get(
            "no_cross_border_interest"
        ):
            self.add_error(
                "no_cross_border_interest",
                "Confirm there is no potential cross-border interest, or do not reserve the "
                "contract",
            )
        return data

    def service_fields(self) -> dict[str, Any]:
        """Keyword arguments for the services (call after ``is_valid``)."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "department": data["department"],
            "cpv": data["cpv"],
            "contract_kind": data["contract_kind"],
            "options_value": data["options_value"] or Decimal("0.00"),
            "value_vat_basis": data["value_vat_basis"],
            "contract_start": data["contract_start"],
            "contract_end": data["contract_end"],
            "max_lots_per_supplier": data["max_lots_per_supplier"],
            "reservation": data["reservation"],
            "no_cross_border_interest": bool(data["no_cross_border_interest"]),
            "clarification_deadline": data["clarification_deadline"],
            "submission_deadline": data["submission_deadline"],
        }
