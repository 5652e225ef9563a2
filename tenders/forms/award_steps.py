"""Forms of the award steps: the letters of intention to award a lot, and
recording and resolving a challenge. Each posts to its own URL and works
without JavaScript."""

from __future__ import annotations

from typing import Any, cast

from crispy_forms_gds.layout import Field, Size, Submit
from django import forms

from portal import once
from portal.forms import gds_helper
from tenders.forms.fields import TEXT_MAX_LENGTH
from tenders.models import Lot


class IntentionForm(forms.Form):
    reasons = forms.CharField(
        label="Reasons for the intended award",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="Every bidder reads these reasons in their letter of intention.",
        error_messages={"required": "Write the reasons for the intended award"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.textarea("reasons", rows=4, label_size=Size.SMALL),
            Submit("send", "Send the letters of intention"),
            novalidate=True,
        )


class ChallengeForm(forms.Form):
    lot = forms.ChoiceField(
        label="Which lot does it challenge?",
        required=False,
        help_text="A challenge to the whole opportunity pauses the award of every lot.",
    )
    details = forms.CharField(
        label="The challenge",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="Who challenged, when it arrived and what it says.",
        error_messages={"required": "Write who challenged, when it arrived and what it says"},
    )
    # Recorded once, however often the form is sent (portal.once).
    submission = once.field()

    def __init__(self, *args: Any, lots: list[Lot], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lots = {str(lot.pk): lot for lot in lots}
        field = cast(forms.ChoiceField, self.fields["lot"])
        field.choices = [("", "The whole opportunity")] + [
            (str(lot.pk), f"Lot {lot.number}: {lot.title}") for lot in lots
        ]
        self.helper = gds_helper(
            Field.select("lot", label_size=Size.SMALL),
            Field.textarea("details", rows=4, label_size=Size.SMALL),
            Field(once.NAME),
            Submit("record", "Record the challenge"),
            novalidate=True,
        )

    def chosen_lot(self) -> Lot | None:
        return self.lots.get(self.cleaned_data.get("lot") or "")


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label="How was the challenge resolved?",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        help_text="Once resolved, the awards it paused may go ahead.",
        error_messages={"required": "Write how the challenge was resolved"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.textarea("resolution", rows=4, label_size=Size.SMALL),
            Submit("resolve", "Record the resolution"),
            novalidate=True,
        )
