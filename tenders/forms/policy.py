"""The council administrator's form for a new version of the procurement policy.

A new version is refused when its local threshold is above the statutory
threshold in force on its effective date for any kind of contract (the lowest
of goods, services, works and light-touch): the council's own rules may set a
lower threshold than the law, never a higher one.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, cast

from crispy_forms_gds.layout import Field, Fieldset, Size
from django import forms
from django.core.exceptions import ValidationError

from portal.fields import MoneyField, NumberField
from portal.forms import gds_helper
from tenders.forms.fields import DateField
from tenders.models import ProcurementPolicy, VatBasis
from tenders.rules import money
from tenders.services import BandSpec
from tenders.statutory import threshold_problem

MAX_BANDS = 12


VAT_CHOICES = [
    (VatBasis.INCLUSIVE, "Including VAT (as the statutory thresholds are)"),
    (VatBasis.EXCLUSIVE, "Excluding VAT"),
]
CPV_DIGIT_CHOICES = [
    (2, "2 digits: the same division (for example 45 construction work)"),
    (3, "3 digits: the same group (usual)"),
    (4, "4 digits: the same class"),
    (5, "5 digits: the same category"),
    (6, "6 digits"),
    (7, "7 digits"),
    (8, "8 digits: the same code"),
]


def _percent_field(label: str, what: str, *, help_text: str) -> NumberField:
    return NumberField(
        label=label,
        help_text=help_text,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
        error_messages={
            "required": f"Enter {what} as a percentage",
            "invalid": f"Enter {what} as a number, like 60",
            "min_value": f"Enter {what} of 0 or more",
            "max_value": f"Enter {what} of 100 or less",
            "max_decimal_places": f"Enter {what} with at most 2 digits after the point",
            "max_digits": f"Enter {what} as a number, like 60",
            "max_whole_digits": f"Enter {what} as a number, like 60",
        },
    )


class PolicyForm(forms.Form):
    effective_from = DateField(
        label="In force from",
        what="the date the new version comes into force",
        help_text=(
            "The first day (UK time) the new version applies, for example 1 4 2027. It must be "
            "today or later, and after the date of the latest version: a new version never "
            "changes the rules that decided earlier work."
        ),
    )
    local_threshold = MoneyField(
        label="Local threshold",
        what="the local threshold",
        min_value=Decimal("0.01"),
        help_text=(
            "At or above this estimated value the work must go to full tender. It must not be "
            "above the statutory threshold in force on that date."
        ),
    )
    vat_basis = forms.ChoiceField(
        label="The threshold and bands are",
        choices=VAT_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the threshold includes VAT"},
    )
    vat_rate_percent = NumberField(
        label="VAT rate (%)",
        help_text="Used to convert estimates entered on the other basis.",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
        error_messages={
            "required": "Enter the VAT rate",
            "invalid": "Enter the VAT rate as a number, like 20",
            "min_value": "The VAT rate cannot be negative",
            "max_value": "The VAT rate must be 100 or less",
            "max_decimal_places": "Enter the VAT rate with at most 2 digits after the point",
            "max_digits": "Enter the VAT rate as a number, like 20",
            "max_whole_digits": "Enter the VAT rate as a number, like 20",
        },
    )
    aggregation_window_days = forms.IntegerField(
        label="Add up work of the same category over this many days",
        help_text="Usually 365: work must not be split to stay under the threshold.",
        min_value=1,
        max_value=3650,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
        error_messages={
            "required": "Enter the number of days over which work is added up",
            "invalid": "Enter the number of days as a whole number, like 365",
            "min_value": "Enter at least 1 day",
            "max_value": "Enter at most 3,650 days (10 years)",
        },
    )
    aggregation_cpv_digits = forms.TypedChoiceField(
        label="Work is the same category when its CPV codes share",
        choices=CPV_DIGIT_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how many CPV digits make the same category"},
    )
    local_spend_target_percent = _percent_field(
        "Target for this version (%)",
        "the target",
        help_text="The share of awarded value to spend with local suppliers while this "
        "version is in force, for example 40.",
    )
    local_spend_goal_percent = _percent_field(
        "Goal (%)",
        "the goal",
        help_text="The share the council is working towards, for example 60.",
    )
    standstill_days = forms.IntegerField(
        label="Standstill after the letters (days)",
        help_text=(
            "No standstill is required by law below the threshold. With a number of days, a lot "
            "is awarded only after that many calendar days, counted from the day after the "
            "letters of intention are sent and ending at midnight UK time (weekends and bank "
            "holidays count). 0 for none."
        ),
        min_value=0,
        max_value=60,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
        error_messages={
            "required": "Enter the standstill in days, or 0 for none",
            "invalid": "Enter the standstill as a whole number of days, like 10",
            "min_value": "The standstill cannot be negative",
            "max_value": "Enter a standstill of at most 60 days",
        },
    )
    notes = forms.CharField(
        label="Notes (optional)",
        help_text="For example, the decision that changed the rules.",
        required=False,
        max_length=2000,
        widget=forms.Textarea,
    )

    def __init__(
        self,
        *args: Any,
        latest: ProcurementPolicy | None,
        today: datetime.date,
        **kwargs: Any,
    ) -> None:
        self.latest = latest
        self.today = today
        if latest is not None:
            kwargs.setdefault(
                "initial",
                {
                    "local_threshold": latest.local_threshold,
                    "vat_basis": latest.vat_basis,
                    "vat_rate_percent": latest.vat_rate_percent,
                    "aggregation_window_days": latest.aggregation_window_days,
                    "aggregation_cpv_digits": latest.aggregation_cpv_digits,
                    "local_spend_target_percent": latest.local_spend_target_percent,
                    "local_spend_goal_percent": latest.local_spend_goal_percent,
                    "standstill_days": latest.standstill_days,
                },
            )
        else:
            kwargs.setdefault(
                "initial",
                {
                    "vat_basis": VatBasis.INCLUSIVE,
                    "vat_rate_percent": Decimal("20.00"),
                    "aggregation_window_days": 365,
                    "aggregation_cpv_digits": 3,
                    "local_spend_target_percent": Decimal("40.00"),
                    "local_spend_goal_percent": Decimal("60.00"),
                    "standstill_days": 0,
                },
            )
        super().__init__(*args, **kwargs)
        # Drawn inside the page's own <form>, with the bands' formset.
        self.helper = gds_helper(
            Field("effective_from", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field.text("local_threshold", field_width=10),
            Field.radios("vat_basis", legend_size=Size.SMALL),
            Field.text("vat_rate_percent", field_width=4),
            Fieldset(
                Field.text("aggregation_window_days", field_width=4),
                Field.radios("aggregation_cpv_digits", legend_size=Size.SMALL, small=True),
                legend="No splitting",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                Field.text("local_spend_target_percent", field_width=4),
                Field.text("local_spend_goal_percent", field_width=4),
                legend="Local spend",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                Field.text("standstill_days", field_width=4),
                legend="Awarding",
                legend_size=Size.MEDIUM,
            ),
            Field.textarea("notes", rows=3),
            form_tag=False,
        )

    def clean_effective_from(self) -> datetime.date:
        day = self.cleaned_data["effective_from"]
        if day < self.today:
            raise ValidationError(
                f"The date must be today ({self.today:%-d %B %Y}) or later: a new version "
                "cannot change the rules for work already decided"
            )
        if self.latest is not None and day <= self.latest.effective_from:
            raise ValidationError(
                f"The date must be after {self.latest.effective_from:%-d %B %Y}, when version "
                f"{self.latest.version} comes into force"
            )
        return day

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        day, threshold = data.get("effective_from"), data.get("local_threshold")
        basis, rate = data.get("vat_basis"), data.get("vat_rate_percent")
        if day is None or threshold is None or basis is None or rate is None:
            return data
        problem = threshold_problem(
            threshold=threshold, vat_basis=basis, vat_rate_percent=rate, on=day
        )
        if problem:
            self.add_error("local_threshold", problem)
        return data

    def policy_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "effective_from": data["effective_from"],
            "local_threshold": data["local_threshold"],
            "vat_basis": data["vat_basis"],
            "vat_rate_percent": data["vat_rate_percent"],
            "aggregation_window_days": data["aggregation_window_days"],
            "aggregation_cpv_digits": data["aggregation_cpv_digits"],
            "local_spend_target_percent": data["local_spend_target_percent"],
            "local_spend_goal_percent": data["local_spend_goal_percent"],
            "standstill_days": data["standstill_days"],
            "notes": data["notes"].strip(),
        }


def _count_field(label: str, what: str, minimum: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=minimum,
        max_value=1000,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "spellcheck": "false", "class": "govuk-input--width-3"}
        ),
        error_messages={
            "invalid": f"Enter {what} as a whole number",
            "min_value": f"Enter {what} of at least {minimum}",
            "max_value": f"Enter {what} of 1,000 or fewer",
        },
    )


class BandForm(forms.Form):
    """One row of the bands table. A row left wholly blank is ignored."""

    name = forms.CharField(
        label="Name",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-20"}),
        error_messages={"max_length": "Write the name in 100 characters or fewer"},
    )
    lower_bound = MoneyField(
        label="From £",
        what="the amount the band starts from",
        required=False,
        min_value=Decimal("0"),
    )
    min_invited = _count_field("Suppliers to invite", "the number of suppliers to invite", 1)
    min_local = _count_field("Of them local", "the number of local suppliers", 0)
    requires_tender_pack = forms.BooleanField(label="Full tender pack", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lower_bound"].widget.attrs["class"] = "govuk-input--width-10"

    @property
    def row(self) -> str:
        if self.prefix is None:  # the formset gives each row its prefix, like "bands-0"
            raise ValueError("A band row is only ever part of the bands formset")
        return f"Band row {int(self.prefix.rsplit('-', 1)[-1]) + 1}"

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        typed = [data.get(name) for name in ("name", "lower_bound", "min_invited", "min_local")]
        self.blank = (
            not self.errors
            and all(v in (None, "") for v in typed)
            and not data.get("requires_tender_pack")
        )
        if self.blank:
            return data
        missing = {
            "name": "enter the band's name",
            "lower_bound": "enter the amount the band starts from, like 10000",
            "min_invited": "enter how many suppliers must be invited",
            "min_local": "enter how many of them must be local",
        }
        for name, message in missing.items():
            if name not in self.errors and data.get(name) in (None, ""):
                self.add_error(name, f"{self.row}: {message}")
        invited, local = data.get("min_invited"), data.get("min_local")
        if invited is not None and local is not None and local > invited:
            self.add_error(
                "min_local",
                f"{self.row}: the local suppliers ({local}) cannot be more than the suppliers "
                f"invited ({invited})",
            )
        return data

    def spec(self) -> BandSpec:
        data = self.cleaned_data
        return BandSpec(
            name=data["name"].strip(),
            lower_bound=data["lower_bound"],
            min_invited=data["min_invited"],
            min_local=data["min_local"],
            requires_tender_pack=bool(data["requires_tender_pack"]),
        )


class BaseBandFormSet(forms.BaseFormSet):
    """The bands below the threshold; ``threshold`` is set before validating."""

    threshold: Decimal | None = None

    def used(self) -> list[BandForm]:
        return [form for form in self.forms if not getattr(form, "blank", True)]

    def clean(self) -> None:
        if any(self.errors):
            return
        used = self.used()
        if not used:
            raise ValidationError("Add at least one band, the first starting at £0")
        seen: dict[Decimal, BandForm] = {}
        for form in used:
            bound = form.cleaned_data["lower_bound"]
            if bound in seen:
                form.add_error(
                    "lower_bound",
                    f"{form.row}: another band also starts at {money(bound)}; each band must "
                    "start at a different amount",
                )
            seen[bound] = form
            if self.threshold is not None and bound >= self.threshold:
                form.add_error(
                    "lower_bound",
                    f"{form.row}: it starts at {money(bound)}, which is not below the local "
                    f"threshold of {money(self.threshold)}; at or above the threshold the work "
                    "goes to full tender",
                )
        lowest = min(seen)
        if lowest != 0:
            raise ValidationError(
                f"The first band must start at £0.00: the lowest band starts at {money(lowest)}"
            )

    def band_specs(self) -> list[BandSpec]:
        """The bands typed, lowest first (the order the rows were typed in does not matter)."""
        return sorted((form.spec() for form in self.used()), key=lambda band: band.lower_bound)


# The stubs type ``formset_factory`` as returning ``type[BaseFormSet[_F]]``, not
# a subclass of the ``formset`` given (a stub gap): this is a BaseBandFormSet.
BandFormSet = cast(
    "type[BaseBandFormSet]",
    forms.formset_factory(
        BandForm, formset=BaseBandFormSet, extra=3, max_num=MAX_BANDS, validate_max=True
    ),
)


def band_initial(policy: ProcurementPolicy | None) -> list[dict[str, Any]]:
    """The rows to start from: the latest version's bands."""
    if policy is None:
        return [{"name": "Single quote", "lower_bound": Decimal("0.00")}]
    return [
        {
            "name": band.name,
            "lower_bound": band.lower_bound,
            "min_invited": band.min_invited,
            "min_local": band.min_local,
            "requires_tender_pack": band.requires_tender_pack,
        }
        for band in policy.bands.all()
    ]
