"""What an invited supplier fills in on an opportunity's page: a question for
the council, and whether it intends to bid."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import Field, Size, Submit
from django import forms

from portal.forms import gds_helper
from tenders.models import Intention

QUESTION_MAX = 5000


class QuestionForm(forms.Form):
    question = forms.CharField(
        label="Your question",
        help_text=(
            "The council may publish its answer to every invited supplier, without your "
            "organisation's name, or answer you privately if it concerns only you."
        ),
        max_length=QUESTION_MAX,
        widget=forms.Textarea,
        error_messages={
            "required": "Enter your question",
            "max_length": f"Your question must be {QUESTION_MAX:,} characters or fewer",
        },
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Drawn with the intention form inside the page's one <form>: each
        # button posts both (to its own view), so neither loses what was typed.
        self.helper = gds_helper(
            Field.textarea("question", label_size=Size.SMALL, rows=5, max_characters=QUESTION_MAX),
            Submit("ask", "Send your question", formaction=action),
            action=action,
            form_tag=False,
        )


INTENTION_CHOICES = [
    (Intention.YES, "Yes, we intend to bid"),
    (Intention.NO, "No, we do not intend to bid"),
]


class IntentionForm(forms.Form):
    intention = forms.ChoiceField(
        label="Do you intend to bid?",
        help_text="This helps the council plan. You can change your answer until the deadline.",
        choices=INTENTION_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you intend to bid"},
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.radios("intention", legend_size=Size.SMALL),
            Submit(
                "save_intention",
                "Save your answer",
                css_class="govuk-button--secondary",
                formaction=action,
            ),
            action=action,
            form_tag=False,  # inside the page's one <form>, with the question form
        )
