"""The council's side of opportunities: the list, the page of one opportunity,
writing and editing a draft, the lot builder, inviting suppliers, publishing,
answering questions and amending an open opportunity.

``tenders.views`` sends council users here for the list and the page of one
opportunity. Everything else is for the buyer's procurement officers: the
council's auditors and administrators see the pages read-only (and get 403
from the actions), suppliers and other councils' people get 404. Every change
goes through ``tenders.services``; their refusals become GOV.UK error
messages, and the form keeps what was typed.
"""

from tenders.officer_views.actions import (
    opportunity_cancel_view,
    opportunity_change_value_view,
    opportunity_clarification_answer,
    opportunity_correct,
    opportunity_document_add,
    opportunity_extend,
    opportunity_override,
    opportunity_publish_view,
)
from tenders.officer_views.invitations import (
    invite_candidates,
    opportunity_invite,
    opportunity_invite_all_local,
)
from tenders.officer_views.pages import (
    council_opportunities,
    opportunity_detail,
    opportunity_edit,
    opportunity_list,
    opportunity_lot_builder,
    opportunity_new,
)

__all__ = [
    "council_opportunities",
    "invite_candidates",
    "opportunity_cancel_view",
    "opportunity_change_value_view",
    "opportunity_clarification_answer",
    "opportunity_correct",
    "opportunity_detail",
    "opportunity_document_add",
    "opportunity_edit",
    "opportunity_extend",
    "opportunity_invite",
    "opportunity_invite_all_local",
    "opportunity_list",
    "opportunity_lot_builder",
    "opportunity_new",
    "opportunity_override",
    "opportunity_publish_view",
]
