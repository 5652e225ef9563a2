"""Recording who took the evaluation report away (issue 17)."""

from __future__ import annotations

from portal import audit
from portal.models import User
from tenders.models import Opportunity


def report_downloaded(*, opportunity: Opportunity, by: User) -> None:
    """Audit the download of ``opportunity``'s evaluation report as a PDF."""
    audit.record(
        actor=by,
        action="report.downloaded",
        obj=opportunity,
        context={"reference": opportunity.reference},
    )
