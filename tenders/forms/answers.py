"""The bid form of an opportunity with a questionnaire (issue 17): the bid's
own fields (the price when the lot has no pricing schedule, the declarations,
a file of the bid as a whole) and, drawn by the bid page's template, an answer
per question (a yes/no for a pass/fail question), a file per question that
asks for documents, and a rate per pricing line. Nothing here decides whether
the answers are complete or the rates allowed: the services do."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.core.files.uploadedfile import UploadedFile

from portal.fields import MoneyField
from portal.forms import gds_helper
from tenders.forms.bid import BidForm
from tenders.models import Bid
from tenders.services import BidQuestions, negative_rate

YES_NO = [("yes", "Yes"), ("no", "No")]
# An answer may be long; the word limit is the question's, checked by the server.
ANSWER_MAX_CHARS = 50_000


class QuestionnaireBidForm(BidForm):
    def __init__(self, *args: Any, action: str, questions: BidQuestions, **kwargs: Any) -> None:
        super().__init__(*args, action=action, **kwargs)
        self.questions = questions
        if questions.lines:
            del self.fields["price"]  # the schedule's total is the price
        for item in questions.questions:
            q = item.question
            if item.is_pass_fail:
                self.fields[f"confirm_{q.pk}"] = forms.ChoiceField(
                    label=f"Question {q.number}: yes or no",
                    choices=YES_NO,
                    widget=forms.RadioSelect,
                    required=False,
                    error_messages={"invalid_choice": "Choose yes or no"},
                )
            self.fields[f"answer_{q.pk}"] = forms.CharField(
                label=f"Question {q.number}: your answer",
                widget=forms.Textarea,
                required=False,
                strip=False,
                max_length=ANSWER_MAX_CHARS,
                error_messages={
                    "max_length": f"Question {q.number}: the answer is too long to save"
                },
            )
            if q.document_names:
                self.fields[f"file_{q.pk}"] = forms.FileField(
                    label=f"Question {q.number}: add a document",
                    required=False,
                    error_messages={"empty": "The selected file is empty"},
                )
        for line_item in questions.lines:
            line = line_item.line
            self.fields[f"rate_{line.pk}"] = MoneyField(
                what=f"the rate for line {line.number}",
                # A rate per hour or visit: a contract's "like 150,000.00" misleads.
                example="35.50",
                label=f"Rate for line {line.number}: {line.description} (£ per {line.unit})",
                required=False,
                # Refused here too, so that it is said at the rate with the
                # form's other errors; the words are the service's.
                error_messages={"min_value": negative_rate(line)},
            )
        layout = [Field.text("price", label_size=Size.MEDIUM, field_width=10)]
        if questions.lines:
            layout = []
        self.helper = gds_helper(
            *layout,
            Field.checkboxes("declarations", legend_size=Size.MEDIUM),
            Field("file", context={"label_size": Size.for_label(Size.MEDIUM)}),
            form_tag=False,
        )

    @classmethod
    def for_questionnaire(
        cls, bid: Bid | None, questions: BidQuestions, *, action: str, vat_basis: str = ""
    ) -> QuestionnaireBidForm:
        """The form filled in with what the supplier saved last."""
        initial: dict[str, Any] = {}
        if bid is not None:
            initial = {
                "price": bid.draft_price,
                "declarations": [key for key, ticked in bid.draft_declarations.items() if ticked],
            }
        for item in questions.questions:
            initial[f"answer_{item.question.pk}"] = item.text
            if item.is_pass_fail and item.confirmed is not None:
                initial[f"confirm_{item.question.pk}"] = "yes" if item.confirmed else "no"
        for line_item in questions.lines:
            if line_item.rate is not None:
                initial[f"rate_{line_item.line.pk}"] = line_item.rate.rate
        return cls(action=action, questions=questions, initial=initial, vat_basis=vat_basis)

    def answers(self) -> dict[int, tuple[str, bool | None]]:
        result = {}
        for item in self.questions.questions:
            pk = item.question.pk
            choice = self.cleaned_data.get(f"confirm_{pk}")
            confirmed = {"yes": True, "no": False}.get(choice or "")
            result[pk] = (self.cleaned_data.get(f"answer_{pk}") or "", confirmed)
        return result

    def rates(self) -> dict[int, Decimal | None]:
        return {
            item.line.pk: self.cleaned_data.get(f"rate_{item.line.pk}")
            for item in self.questions.lines
        }

    def uploads(self) -> dict[int, UploadedFile]:
        """The files chosen for questions (question id: file)."""
        chosen = {}
        for item in self.questions.questions:
            upload = self.cleaned_data.get(f"file_{item.question.pk}")
            if upload:
                chosen[item.question.pk] = upload
        return chosen
