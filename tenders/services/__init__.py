"""Every write to tenders data, one function each (see the modules)."""

from tenders.services.amendments import (
    document_add,
    opportunity_change_value,
    opportunity_correct_details,
    opportunity_extend_deadline,
)
from tenders.services.clarifications import clarification_answer, clarification_ask
from tenders.services.invitations import (
    intention_set,
    invite,
    invite_all_local_matches,
    matching_suppliers,
)
from tenders.services.opportunities import (
    CriterionSpec,
    LotSpec,
    OpportunityRefused,
    aggregation_override_record,
    close_due,
    lots_from_areas,
    opportunity_cancel,
    opportunity_close,
    opportunity_create,
    opportunity_publish,
    opportunity_update_draft,
)
from tenders.services.policy import BandSpec, policy_create
from tenders.services.routes import (
    NoPolicy,
    RouteRefused,
    RouteResult,
    check_route,
    opportunity_value,
    route_for,
)

__all__ = [
    "BandSpec",
    "CriterionSpec",
    "LotSpec",
    "NoPolicy",
    "OpportunityRefused",
    "RouteRefused",
    "RouteResult",
    "aggregation_override_record",
    "check_route",
    "clarification_answer",
    "clarification_ask",
    "close_due",
    "document_add",
    "intention_set",
    "invite",
    "invite_all_local_matches",
    "lots_from_areas",
    "matching_suppliers",
    "opportunity_cancel",
    "opportunity_change_value",
    "opportunity_close",
    "opportunity_correct_details",
    "opportunity_create",
    "opportunity_extend_deadline",
    "opportunity_publish",
    "opportunity_update_draft",
    "opportunity_value",
    "policy_create",
    "route_for",
]
