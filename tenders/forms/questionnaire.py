"""Forms of the questionnaire pages: a question (where it belongs, its text,
guidance, word limit, weight and the documents to attach), a line of the
pricing schedule, and copying from an earlier opportunity. The rules are
the service's (``tenders.services.questionnaire``); these forms read what was
typed, with the same words for what is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from crispy_forms_gds.layout import Field, Size
from django import forms

from portal.fields import NumberField
from portal.forms import TextSubmit, gds_helper
from tenders.forms.fields import TEXT_MAX_LENGTH
from tenders.models import Criterion, Lot, Opportunity, PricingLine, Question, QuestionKind
from tenders.services.questionnaire import (
    CHOOSE_KIND,
    CHOOSE_LOT,
    DESCRIPTION_TOO_LONG,
    ENTER_DESCRIPTION,
    ENTER_TEXT,
    ENTER_UNIT,
    QUANTITY,
    TEXT_TOO_LONG,
    UNIT_TOO_LONG,
    WEIGHT_QUALITY,
    WORD_LIMIT,
)

NOT_MARKED = QuestionKind.PASS_FAIL.value  # the ``place`` of a pass/fail question
MAX_WORD_LIMIT = 100_000


class QuestionForm(forms.Form):
    """A question; ``place`` says both its kind and, for a quality question,
    the criterion it is marked under."""

    place = forms.ChoiceField(
        label="How is the answer judged?",
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE_KIND, "invalid_choice": CHOOSE_KIND},
    )
    text = forms.CharField(
        label="Question",
        max_length=1000,
        widget=forms.Textarea,
        error_messages={"required": ENTER_TEXT, "max_length": TEXT_TOO_LONG},
    )
    guidance = forms.CharField(
        label="Guidance (optional)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="What a good answer covers. Suppliers read it with the question.",
        error_messages={"max_length": "The guidance must be 5,000 characters or fewer"},
    )
    word_limit = forms.IntegerField(
        label="Word limit (optional)",
        required=False,
        max_value=MAX_WORD_LIMIT,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text="Leave empty for no limit. Words are counted as words separated by spaces.",
        error_messages={
            "invalid": WORD_LIMIT,
            "max_value": "Enter a word limit of 100,000 or fewer",
        },
    )
    weight = forms.IntegerField(
        label="Weight within its criterion (quality questions only)",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text="From 1 to 100: the weights of a criterion's questions must add up to 100. "
        "Leave empty for a pass or fail question.",
        error_messages={"invalid": WEIGHT_QUALITY},
    )
    documents = forms.CharField(
        label="Documents to attach (optional)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="One a line, like: Insurance certificate",
        error_messages={"max_length": "The list of documents must be 5,000 characters or fewer"},
    )

    def __init__(
        self,
        *args: Any,
        criteria: Sequence[Criterion],
        submit_label: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = {f"c{c.pk}": c for c in criteria if not c.is_price}
        choices = [(key, f"Marked for quality, under {c.name}") for key, c in self.criteria.items()]
        choices.append((NOT_MARKED, "Pass or fail: answered with the bid, judged after opening"))
        cast(forms.ChoiceField, self.fields["place"]).choices = choices
        self.helper = gds_helper(
            Field.radios("place", legend_size=Size.SMALL),
            Field.textarea("text", rows=3, label_size=Size.SMALL),
            Field.textarea("guidance", rows=3, label_size=Size.SMALL),
            Field.text("word_limit", field_width=5, label_size=Size.SMALL),
            Field.text("weight", field_width=3, label_size=Size.SMALL),
            Field.textarea("documents", rows=2, label_size=Size.SMALL),
            TextSubmit("save", submit_label),
            novalidate=True,
        )

    @classmethod
    def initial_of(cls, question: Question) -> dict[str, Any]:
        place = f"c{question.criterion_id}" if question.criterion_id else NOT_MARKED
        return {
            "place": place,
            "text": question.text,
            "guidance": question.guidance,
            "word_limit": question.word_limit,
            "weight": question.weight if question.kind == QuestionKind.QUALITY else None,
            "documents": question.documents,
        }

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        place = data["place"]
        quality = place != NOT_MARKED
        return {
            "kind": QuestionKind.QUALITY if quality else QuestionKind.PASS_FAIL,
            "criterion": self.criteria.get(place),
            "text": data["text"],
            "guidance": data["guidance"],
            "word_limit": data["word_limit"],
            "weight": data["weight"] if quality else (data["weight"] or 0),
            "documents": data["documents"],
        }


# Where the service's messages go on the question form.
QUESTION_FIELD_OF = {"kind": "place", "criterion": "place"}

EVERY_LOT = ""


class PricingLineForm(forms.Form):
    description = forms.CharField(
        label="What is priced",
        max_length=300,
        help_text="Like: Deep clean of the main hall",
        error_messages={"required": ENTER_DESCRIPTION, "max_length": DESCRIPTION_TOO_LONG},
    )
    unit = forms.CharField(
        label="Unit",
        max_length=50,
        help_text="Like: hour, visit or month",
        error_messages={"required": ENTER_UNIT, "max_length": UNIT_TOO_LONG},
    )
    quantity = NumberField(
        label="Quantity",
        max_digits=12,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="How many units. The supplier gives a rate per unit; the line's total is "
        "the quantity times the rate.",
        error_messages={
            "required": QUANTITY,
            "invalid": QUANTITY,
            "max_digits": QUANTITY,
            "max_decimal_places": QUANTITY,
            "max_whole_digits": QUANTITY,
        },
    )
    lot = forms.ChoiceField(
        label="Lot",
        required=False,
        error_messages={"invalid_choice": CHOOSE_LOT},
    )

    def __init__(self, *args: Any, lots: Sequence[Lot], submit_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lots = {str(lot.pk): lot for lot in lots}
        layout: list[Any] = [
            Field.text("description", label_size=Size.SMALL),
            Field.text("unit", field_width=10, label_size=Size.SMALL),
            Field.text("quantity", field_width=10, label_size=Size.SMALL),
        ]
        if len(lots) > 1:
            cast(forms.ChoiceField, self.fields["lot"]).choices = [
                (EVERY_LOT, "Every lot"),
                *((str(lot.pk), f"Lot {lot.number}: {lot.title}") for lot in lots),
            ]
            layout.append(Field.select("lot", label_size=Size.SMALL))
        else:
            del self.fields["lot"]
        self.helper = gds_helper(*layout, TextSubmit("save", submit_label), novalidate=True)

    @classmethod
    def initial_of(cls, line: PricingLine) -> dict[str, Any]:
        return {
            "description": line.description,
            "unit": line.unit,
            "quantity": line.quantity,
            "lot": str(line.lot_id) if line.lot_id else EVERY_LOT,
        }

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        quantity: Decimal = data["quantity"]
        return {
            "description": data["description"],
            "unit": data["unit"],
            "quantity": quantity,
            "lot": self.lots.get(data.get("lot") or ""),
        }


class CopyForm(forms.Form):
    source = forms.ChoiceField(
        label="Copy the questions and pricing lines of",
        error_messages={
            "required": "Choose the opportunity to copy from",
            "invalid_choice": "Choose the opportunity to copy from",
        },
    )

    def __init__(
        self, *args: Any, sources: Sequence[Opportunity], action: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sources = {str(o.pk): o for o in sources}
        cast(forms.ChoiceField, self.fields["source"]).choices = [
            ("", "Choose an opportunity"),
            *((str(o.pk), f"{o.reference} {o.title}") for o in sources),
        ]
        self.helper = gds_helper(
            Field.select("source", label_size=Size.SMALL),
            TextSubmit("copy", "Copy into this questionnaire"),
            action=action,
            novalidate=True,
        )

    def source_opportunity(self) -> Opportunity:
        return self.sources[self.cleaned_data["source"]]
