"""Forms of the officers' opportunity pages.

Every form works without JavaScript. Repeated rows (lots, criteria) are plain
numbered fields; "Add another lot" posts the form back with one more row, and
a blank row is ignored. Deadlines are typed as a date and a 24-hour time in
UK time and converted with ``zoneinfo``, so British Summer Time is right.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import HTML, Button, Div, Field, Fieldset, Layout, Size, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from cpv.forms import CpvCodeField
from portal.models import BuyerOrganisation
from portal.uploads import ALLOWED_WORDS, MAX_BYTES
from suppliers.models import SupplierOrganisation
from tenders import rules
from tenders.models import (
    ClarificationVisibility,
    ContractKind,
    Opportunity,
    OpportunityStatus,
    ProcurementPolicy,
    Reservation,
    VatBasis,
)
from tenders.services import CriterionSpec, LotSpec

LONDON = ZoneInfo("Europe/London")
TEXT_MAX_LENGTH = 5000
MAX_ROWS = 50
LOT_ROWS = 2
CRITERION_ROWS = 3

CPV_FINDER = HTML(
    '<p class="govuk-body"><a class="govuk-link" href="{% url "cpv:find" %}" target="_blank" '
    'rel="noopener">Find a CPV code by words (opens in a new tab)</a></p>'
)


def _row_group(*fields: Any) -> Div:
    return Div(*fields, css_class="lt-form-row")


# --- Fields -------------------------------------------------------------------


class MoneyField(forms.DecimalField):
    """An amount in pounds and pence, typed as people write it: 150000,
    £150,000 or 150,000.00."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"})
        )
        super().__init__(**kwargs)
        self.error_messages.update(
            {
                "invalid": "Enter an amount in pounds, like 150000 or 150,000.00",
                "max_decimal_places": "Enter the amount to the nearest penny",
                "max_digits": "Enter an amount below £1,000,000,000,000",
                "max_whole_digits": "Enter an amount below £1,000,000,000,000",
                "min_value": "Enter an amount of £0 or more",
            }
        )

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str):
            value = value.strip().replace(",", "").replace(" ", "").removeprefix("£")
        return super().to_python(value)


class DateField(DateInputField):
    """The GOV.UK date input (day, month, year), each missing part named."""

    def __init__(self, *, required: bool = True, what: str = "the date", **kwargs: Any) -> None:
        super().__init__(required=required, require_all_fields=False, **kwargs)
        self.error_messages["required"] = f"Enter {what}"
        self.error_messages["incomplete"] = f"Enter {what} in full: day, month and year"

    def compress(self, data_list: Any) -> datetime.date | None:
        try:
            return super().compress(data_list)
        except ValidationError:
            raise ValidationError("Enter a real date, like 27 3 2026", code="invalid") from None


_TIME = re.compile(r"^\s*(\d{1,2})(?:[:.](\d{2}))?\s*$")


class TimeField(forms.CharField):
    """A time on the 24-hour clock: 9:30, 09:30, 17.00 or 17."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 5)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> datetime.time | None:
        text = super().clean(value)
        if not text:
            return None
        match = _TIME.match(text)
        hour = int(match.group(1)) if match else 99
        minute = int(match.group(2) or 0) if match else 99
        if hour > 23 or minute > 59:
            raise ValidationError("Enter a time on the 24-hour clock, like 09:30 or 17:00")
        return datetime.time(hour, minute)


def london_datetime(day: datetime.date, at: datetime.time) -> datetime.datetime:
    """``day`` at ``at`` in UK time, as an aware datetime (BST or GMT as on that day).

    A time the clocks skip (01:00–01:59 on the last Sunday of March) does not
    exist and is refused; a time that happens twice (the last Sunday of
    October) is the first, in BST.
    """
    naive = datetime.datetime.combine(day, at)
    aware = naive.replace(tzinfo=LONDON)
    if aware.astimezone(datetime.UTC).astimezone(LONDON).replace(tzinfo=None) != naive:
        raise ValidationError(
            f"{at:%H:%M} does not exist in the UK on {day:%-d %B %Y}: the clocks go forward "
            "an hour at 1am. Choose another time"
        )
    return aware


def with_another_row(
    form_class: type[forms.Form], data: Mapping[str, Any], **kwargs: Any
) -> forms.Form | None:
    """After "Add another lot" (or criterion): the form again, unbound so that
    no errors show yet, with what was typed and one more row. ``None`` when
    neither button was pressed."""
    adding = [name for name in ("add_lot", "add_criterion") if name in data]
    if not adding:
        return None
    probe = form_class(data=data, **kwargs)
    initial = {
        name: field.widget.value_from_datadict(data, {}, probe.add_prefix(name))
        for name, field in probe.fields.items()
    }
    if "add_lot" in adding:
        initial["lot_rows"] = probe.lot_count + 1
    if "add_criterion" in adding:
        initial["criterion_rows"] = probe.criterion_count + 1
    return form_class(initial=initial, **kwargs)


# --- Rows of lots and criteria ---------------------------------------------------


class LotRows(forms.Form):
    """Numbered lot rows: title and estimated value. Blank rows are ignored."""

    lot_rows = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def _add_lot_fields(self, rows: int) -> None:
        self.lot_count = rows
        for n in range(1, rows + 1):
            self.fields[f"lot_title_{n}"] = forms.CharField(
                label=f"Lot {n} title", max_length=200, required=False
            )
            self.fields[f"lot_value_{n}"] = MoneyField(
                label=f"Lot {n} estimated value (£)",
                required=False,
                help_text="The whole term, for this lot" if n == 1 else "",
            )

    def _lot_layout(self) -> list[Any]:
        rows = [
            _row_group(
                Field.text(f"lot_title_{n}", label_size=Size.SMALL),
                Field.text(f"lot_value_{n}", label_size=Size.SMALL, field_width=10),
            )
            for n in range(1, self.lot_count + 1)
        ]
        return [Field("lot_rows"), *rows, Button.secondary("add_lot", "Add another lot")]

    def clean_lots(self) -> list[LotSpec]:
        data = self.cleaned_data
        lots = []
        for n in range(1, self.lot_count + 1):
            title = (data.get(f"lot_title_{n}") or "").strip()
            value = data.get(f"lot_value_{n}")
            typed_value = (self.data.get(self.add_prefix(f"lot_value_{n}")) or "").strip()
            if not title and not typed_value:
                continue
            if not title:
                self.add_error(f"lot_title_{n}", f"Enter the title of lot {n}")
            if value is None and not self.has_error(f"lot_value_{n}"):
                self.add_error(f"lot_value_{n}", f"Enter the estimated value of lot {n}")
            if title and value is not None:
                lots.append(LotSpec(title=title, estimated_value=value))
        row_errors = any(
            self.has_error(f"lot_{part}_{n}")
            for n in range(1, self.lot_count + 1)
            for part in ("title", "value")
        )
        if not lots and not row_errors:
            self.add_error("lot_title_1", "Add at least one lot, with its estimated value")
        return lots


class CriterionRows(forms.Form):
    """Numbered evaluation criteria: name, weight, whether it is price."""

    criterion_rows = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def _add_criterion_fields(self, rows: int) -> None:
        self.criterion_count = rows
        for n in range(1, rows + 1):
            self.fields[f"criterion_name_{n}"] = forms.CharField(
                label=f"Criterion {n} name", max_length=200, required=False
            )
            self.fields[f"criterion_weight_{n}"] = forms.IntegerField(
                label=f"Criterion {n} weight (%)",
                required=False,
                min_value=0,
                max_value=100,
                widget=forms.TextInput(attrs={"inputmode": "numeric"}),
                error_messages={
                    "invalid": f"Enter the weight of criterion {n} as a whole number, 0 to 100",
                    "min_value": f"Enter the weight of criterion {n} as a whole number, 0 to 100",
                    "max_value": f"Enter the weight of criterion {n} as a whole number, 0 to 100",
                },
            )
            self.fields[f"criterion_price_{n}"] = forms.BooleanField(
                label=f"Criterion {n} is the price (scored by formula)", required=False
            )

    def _criterion_layout(self) -> list[Any]:
        rows = [
            _row_group(
                Field.text(f"criterion_name_{n}", label_size=Size.SMALL),
                Field.text(f"criterion_weight_{n}", label_size=Size.SMALL, field_width=3),
                Field.checkbox(f"criterion_price_{n}", small=True),
            )
            for n in range(1, self.criterion_count + 1)
        ]
        return [
            Field("criterion_rows"),
            *rows,
            Button.secondary("add_criterion", "Add another criterion"),
        ]

    def clean_criteria(self) -> list[CriterionSpec]:
        data = self.cleaned_data
        criteria = []
        for n in range(1, self.criterion_count + 1):
            name = (data.get(f"criterion_name_{n}") or "").strip()
            weight = data.get(f"criterion_weight_{n}")
            typed_weight = (self.data.get(self.add_prefix(f"criterion_weight_{n}")) or "").strip()
            if not name and not typed_weight:
                continue
            if not name:
                self.add_error(f"criterion_name_{n}", f"Enter the name of criterion {n}")
            if weight is None and not self.has_error(f"criterion_weight_{n}"):
                self.add_error(
                    f"criterion_weight_{n}",
                    f"Enter the weight of criterion {n} as a whole number, 0 to 100",
                )
            if name and weight is not None:
                criteria.append(
                    CriterionSpec(
                        name=name, weight=weight, is_price=bool(data.get(f"criterion_price_{n}"))
                    )
                )
        prices = [n for n in range(1, self.criterion_count + 1) if data.get(f"criterion_price_{n}")]
        if len(prices) > 1:
            self.add_error(f"criterion_price_{prices[1]}", "Only one criterion can be the price")
        return criteria


def _filled(form: forms.Form, *prefixes: str) -> int:
    """The highest row number with something in it (0 for none)."""
    source = form.data if form.is_bound else form.initial
    starts = tuple((form.add_prefix(p) if form.is_bound else p) + "_" for p in prefixes)
    numbers = [
        int(key.rsplit("_", 1)[1])
        for key, value in source.items()
        if key.startswith(starts)
        and key.rsplit("_", 1)[1].isdigit()
        and value not in (None, "", [], False)
    ]
    return min(max(numbers, default=0), MAX_ROWS)


def _rows_wanted(form: forms.Form, name: str, default: int, at_least: int) -> int:
    """How many rows to show: what the page had, one more after "Add another",
    and never fewer than the rows already filled."""
    source = form.data if form.is_bound else form.initial
    try:
        rows = int(source.get(form.add_prefix(name) if form.is_bound else name) or default)
    except (TypeError, ValueError):
        rows = default
    return max(1, min(MAX_ROWS, max(rows, at_least)))


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
    department = forms.ModelChoiceField(
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
        what="the date of the deadline for questions",
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
        what="the date of the deadline for bids",
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
        submit_label: str = "Save and check the route",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.buyer = buyer
        self.fields["department"].queryset = buyer.departments.all()
        self.fields["department"].widget.attrs["class"] = "govuk-select"
        if policy is not None:
            basis = policy.get_vat_basis_display()
            self.fields["value_vat_basis"].help_text = (
                f"{buyer.name}'s policy compares values {basis}; other figures are converted "
                f"at {rules.percent(policy.vat_rate_percent)} VAT."
            )
        self._add_lot_fields(
            _rows_wanted(self, "lot_rows", LOT_ROWS, _filled(self, "lot_title", "lot_value"))
        )
        self._add_criterion_fields(
            _rows_wanted(
                self,
                "criterion_rows",
                CRITERION_ROWS,
                _filled(self, "criterion_name", "criterion_weight"),
            )
        )
        self.initial.setdefault("lot_rows", self.lot_count)
        self.initial.setdefault("criterion_rows", self.criterion_count)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
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
            Submit("save", submit_label),
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
        if day and at is None:
            self.add_error(f"{prefix}_time", f"Enter the time of the {words}")
            return None
        if at is not None and not day:
            self.add_error(f"{prefix}_date", f"Enter the date of the {words}")
            return None
        if not day:
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
        data = super().clean()
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


# --- The list --------------------------------------------------------------------


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any status"), *OpportunityStatus.choices]
        self.fields["status"].widget.attrs["class"] = "govuk-select"
        self.helper = FormHelper()
        self.helper.form_method = "get"


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
        help_text="Over the whole term. The lots replace those the draft has now.",
        error_messages={"required": "Enter the estimated value of each lot"},
    )

    def __init__(self, *args: Any, districts: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["areas"].choices = [(d, d) for d in districts]
        self.fields["areas"].error_messages["invalid_choice"] = (
            "Choose areas from the council's locality"
        )
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Field.text("title"),
            Field.text("value_each", field_width=10),
            Field.checkboxes("areas", legend_size=Size.SMALL, small=True),
            Submit("save", "Make the lots"),
        )


# --- Inviting suppliers ----------------------------------------------------------


class InviteForm(forms.Form):
    """Suppliers ticked on the invite page (the page draws the checkboxes in its
    table) and, for a non-local one, why it should be invited."""

    suppliers = forms.ModelMultipleChoiceField(
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
        self.fields["suppliers"].queryset = matches
        self.helper = FormHelper()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
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
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.layout = Layout(
            Field("file", context={"label_size": Size.for_label(Size.SMALL)}),
            Submit("upload", "Upload document", css_class="govuk-button--secondary"),
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

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Field.textarea("answer", rows=4, label_size=Size.SMALL),
            Field.radios("visibility", legend_size=Size.SMALL, small=True),
            Submit("answer_submit", "Send answer"),
        )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling it?",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="Invited suppliers are told, with this reason.",
        error_messages={"required": "Give the reason for cancelling: invited suppliers see it"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Field.textarea("reason", rows=4, label_size=Size.SMALL),
            Submit("cancel", "Cancel the opportunity", css_class="govuk-button--warning"),
        )


class ExtendDeadlineForm(forms.Form):
    submission_date = DateField(label="New deadline for bids", what="the date of the new deadline")
    submission_time = TimeField(
        label="Time of the new deadline for bids",
        help_text="UK time, 24-hour clock, like 12:00",
        error_messages={"required": "Enter the time of the new deadline"},
    )
    clarification_date = DateField(
        label="New deadline for questions (optional)",
        required=False,
        what="the date of the new deadline for questions",
    )
    clarification_time = TimeField(label="Time of the new deadline for questions", required=False)
    reason = forms.CharField(
        label="Why is it extended?",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="Invited suppliers are told, with this reason.",
        error_messages={"required": "Give the reason: invited suppliers are told"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Field("submission_date", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field.text("submission_time", field_width=5),
            Field("clarification_date", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field.text("clarification_time", field_width=5),
            Field.textarea("reason", rows=3, label_size=Size.SMALL),
            Submit("extend", "Extend the deadline"),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["submission_deadline"] = None
        data["clarification_deadline"] = None
        for prefix, words in [
            ("submission", "new deadline"),
            ("clarification", "new deadline for questions"),
        ]:
            day, at = data.get(f"{prefix}_date"), data.get(f"{prefix}_time")
            if self.has_error(f"{prefix}_date") or self.has_error(f"{prefix}_time"):
                continue
            if day and at is None:
                self.add_error(f"{prefix}_time", f"Enter the time of the {words}")
            elif at is not None and not day:
                self.add_error(f"{prefix}_date", f"Enter the date of the {words}")
            elif day:
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
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Field.text("title"),
            Field.textarea("description", rows=6),
            Field.textarea("summary", rows=2),
            Submit("correct", "Save the correction"),
        )


class ChangeValueForm(LotRows):
    """New lots and values of an open opportunity; the rule runs again."""

    options_value = MoneyField(
        label="Value of options and extensions (£)",
        required=False,
        help_text="Leave it as it is, or 0 for none.",
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
        filled = _filled(self, "lot_title", "lot_value")
        self._add_lot_fields(_rows_wanted(self, "lot_rows", 1, filled))
        self.initial.setdefault("lot_rows", self.lot_count)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Fieldset(*self._lot_layout(), legend="Lots", legend_size=Size.MEDIUM),
            Field.text("options_value", field_width=10),
            Field.textarea("summary", rows=2),
            Submit("change", "Change the value"),
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
        data = super().clean()
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
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Field.textarea("justification", rows=4, label_size=Size.SMALL),
            Submit("override", "Record that the work is separate"),
        )
