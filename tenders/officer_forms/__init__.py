"""Forms of the officers' opportunity pages.

Every form works without JavaScript. Repeated rows (lots, criteria) are plain
numbered fields; "Add another lot" posts the form back with one more row, and
a blank row is ignored. Deadlines are typed as a date and a 24-hour time in
UK time and converted with ``zoneinfo``, so British Summer Time is right.
"""

from tenders.officer_forms.actions import (
    AnswerForm,
    CancelForm,
    ChangeValueForm,
    CorrectDetailsForm,
    DocumentForm,
    ExtendDeadlineForm,
    InviteForm,
    LotBuilderForm,
    OverrideForm,
    StatusFilterForm,
)
from tenders.officer_forms.fields import london_datetime, with_another_row
from tenders.officer_forms.opportunity import OpportunityForm

__all__ = [
    "AnswerForm",
    "CancelForm",
    "ChangeValueForm",
    "CorrectDetailsForm",
    "DocumentForm",
    "ExtendDeadlineForm",
    "InviteForm",
    "LotBuilderForm",
    "OpportunityForm",
    "OverrideForm",
    "StatusFilterForm",
    "london_datetime",
    "with_another_row",
]
