"""Tenders data: the procurement policy, statutory figures, and opportunities."""

from tenders.models.opportunities import (
    Amendment,
    AmendmentKind,
    Clarification,
    ClarificationVisibility,
    ContractKind,
    Criterion,
    Intention,
    Invitation,
    Lot,
    Opportunity,
    OpportunityDocument,
    OpportunityStatus,
    Reservation,
    Route,
    RouteCheck,
)
from tenders.models.policy import (
    MONEY,
    PolicyBand,
    ProcurementPolicy,
    StatutoryFigure,
    VatBasis,
)

__all__ = [
    "MONEY",
    "Amendment",
    "AmendmentKind",
    "Clarification",
    "ClarificationVisibility",
    "ContractKind",
    "Criterion",
    "Intention",
    "Invitation",
    "Lot",
    "Opportunity",
    "OpportunityDocument",
    "OpportunityStatus",
    "PolicyBand",
    "ProcurementPolicy",
    "Reservation",
    "Route",
    "RouteCheck",
    "StatutoryFigure",
    "VatBasis",
]
