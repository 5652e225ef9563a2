"""Forms of the evaluation panel's pages (ADR 14): naming the panel, a
member's declaration of interest, an evaluator's marks for a bid and the
moderator's for a bid. The marking forms are drawn question by question
with ``govuk_field`` between the supplier's answers; nothing here decides
what is allowed (``tenders.services.panel`` does)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from crispy_forms_gds.layout import Field, Size, Submit
from django import forms

from portal.forms import gds_helper
from portal.models import User
from tenders.forms.fields import TEXT_MAX_LENGTH
from tenders.models import MARK_SCALE, TOP_MARK, Question, QuestionKind

MARK_CHOICES = [(str(n), f"{n}: {meaning}") for n, meaning in MARK_SCALE.items()]
PASS_CHOICES = [("pass", "Pass"), ("fail", "Fail")]


class PanelForm(forms.Form):
    """The officers who evaluate, the one who moderates, and the spread."""

    evaluators = forms.MultipleChoiceField(
        label="Evaluators",
        widget=forms.CheckboxSelectMultiple,
        help_text="At least two officers of the council. Each marks every answer on their own.",
        error_messages={"required": "Choose at least two evaluators"},
    )
    moderator = forms.ChoiceField(
        label="Moderator",
        widget=forms.RadioSelect,
        help_text="Agrees one mark per answer once every evaluator has finished. "
        "The moderator may also evaluate.",
        error_messages={"required": "Choose the moderator"},
    )
    spread = forms.TypedChoiceField(
        label="Spread allowed without a reason",
        coerce=int,
        choices=[(str(n), str(n)) for n in range(TOP_MARK + 1)],
        widget=forms.RadioSelect,
        initial="1",
        help_text="Where the evaluators' marks for an answer are further apart than this "
        "(on the 0 to 5 scale), the moderator gives a reason for the agreed mark.",
        error_messages={"required": "Choose the spread"},
    )

    def __init__(self, *args: Any, officers: Iterable[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(o.pk), o.full_name) for o in officers]
        # ``fields`` is typed as plain Fields; these are the choice fields above.
        evaluators = cast(forms.MultipleChoiceField, self.fields["evaluators"])
        moderator = cast(forms.ChoiceField, self.fields["moderator"])
        evaluators.choices = choices
        moderator.choices = choices
        self.helper = gds_helper(
            Field.checkboxes("evaluators", legend_size=Size.SMALL, small=True),
            Field.radios("moderator", legend_size=Size.SMALL, small=True),
            Field.radios("spread", legend_size=Size.SMALL, small=True, inline=True),
            Submit("panel", "Save the panel"),
        )

    def clean_evaluators(self) -> list[str]:
        chosen: list[str] = self.cleaned_data["evaluators"]
        if len(chosen) < 2:
            raise forms.ValidationError("Choose at least two evaluators")
        return chosen


class RemoveMemberForm(forms.Form):
    """Take one member off the panel, with the reason (posted to the panel page)."""

    member = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Why are they taken off the panel?",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="Recorded in the opportunity's history. Their marks no longer count.",
        error_messages={"required": "Give the reason for taking them off the panel"},
    )

    def __init__(self, *args: Any, name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if name:
            self.fields["reason"].label = f"Why is {name} taken off the panel?"
        self.helper = gds_helper(
            "member",
            Field.textarea("reason", rows=2, label_size=Size.SMALL),
            Submit("remove", "Take them off the panel", css_class="govuk-button--warning"),
        )


class DeclarationForm(forms.Form):
    conflict = forms.ChoiceField(
        label="Do you have a conflict of interest with any of these bidders?",
        widget=forms.RadioSelect,
        choices=[("no", "No, I have no conflict of interest"), ("yes", "Yes, I have a conflict")],
        error_messages={"required": "Say whether you have a conflict of interest"},
    )
    details = forms.CharField(
        label="If you have a conflict: with whom, and why",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="A conflict takes you off the panel: an officer names someone else.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.radios("conflict", legend_size=Size.SMALL),
            Field.textarea("details", rows=3, label_size=Size.SMALL),
            Submit("declare", "Make the declaration"),
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("conflict") == "yes" and not (data.get("details") or "").strip():
            self.add_error("details", "Say with whom you have a conflict of interest, and why")
        return data


class MarksForm(forms.Form):
    """A mark (0–5) or pass/fail and a comment for every question of one bid;
    with ``moderating`` a reason too. A question left wholly blank is not
    saved (marks can be saved as one goes); a mark without a comment, or a
    comment without a mark, is an error."""

    def __init__(
        self, *args: Any, questions: list[Question], moderating: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.moderating = moderating
        for q in questions:
            if q.kind == QuestionKind.QUALITY:
                self.fields[f"q{q.pk}_mark"] = forms.ChoiceField(
                    label=f"Question {q.number}: mark",
                    choices=MARK_CHOICES,
                    widget=forms.RadioSelect,
                    required=False,
                )
            else:
                self.fields[f"q{q.pk}_passed"] = forms.ChoiceField(
                    label=f"Question {q.number}: pass or fail",
                    choices=PASS_CHOICES,
                    widget=forms.RadioSelect,
                    required=False,
                )
            self.fields[f"q{q.pk}_comment"] = forms.CharField(
                label=f"Question {q.number}: comment",
                required=False,
                max_length=TEXT_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text="Why this mark: the supplier reads the moderated comment.",
            )
            if moderating:
                self.fields[f"q{q.pk}_reason"] = forms.CharField(
                    label=f"Question {q.number}: reason for the moderated mark",
                    required=False,
                    max_length=TEXT_MAX_LENGTH,
                    widget=forms.Textarea(attrs={"rows": 2}),
                    help_text="Needed where the evaluators' marks differ by more than the spread.",
                )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for q in self.questions:
            key = f"q{q.pk}_mark" if q.kind == QuestionKind.QUALITY else f"q{q.pk}_passed"
            chosen = data.get(key)
            comment = (data.get(f"q{q.pk}_comment") or "").strip()
            if chosen and not comment:
                self.add_error(f"q{q.pk}_comment", f"Write a comment on question {q.number}")
            if comment and not chosen:
                what = "a mark from 0 to 5" if q.kind == QuestionKind.QUALITY else "pass or fail"
                self.add_error(key, f"Choose {what} for question {q.number}")
        return data

    def entries(self) -> list[tuple[Question, int | None, bool | None, str, str]]:
        """(question, mark, passed, comment, reason) of every question filled in."""
        data = self.cleaned_data
        rows = []
        for q in self.questions:
            comment = (data.get(f"q{q.pk}_comment") or "").strip()
            if not comment:
                continue
            mark = data.get(f"q{q.pk}_mark")
            passed = data.get(f"q{q.pk}_passed")
            rows.append(
                (
                    q,
                    int(mark) if mark else None,
                    None if not passed else passed == "pass",
                    comment,
                    (data.get(f"q{q.pk}_reason") or "").strip(),
                )
            )
        return rows

    def field_of(self, question: Question, what: str) -> forms.BoundField:
        return self[f"q{question.pk}_{what}"]
