"""The navigation each role sees. Later features add their pages here."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from portal.models import Role, User
from portal.permissions import works_for_council


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    # Shown only to people who work for a council (not portal-wide admins).
    needs_council: bool = False

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_COMMON = [NavItem("Home", "home"), NavItem("Inbox", "inbox")]
_SUPPLIERS = NavItem("Suppliers", "supplier_directory")
_LOCALITY = NavItem("Locality", "locality", needs_council=True)
_POLICY = NavItem("Policy", "tenders:policy", needs_council=True)
# The list shows each role its own opportunities (tenders.views.shared dispatches by role).
_OPPORTUNITIES = NavItem("Opportunities", "tenders:opportunity_list", needs_council=True)
_AUDIT = NavItem("Audit", "transparency:index", needs_council=True)
# issue 18: the council's whole ledger (the ledger app's pages, by URL name only).
# Its first page is the real local share; the imports and the rest are its tabs
# (every /spending/ page shows the item as the current one).
_SPENDING = NavItem("Spending", "ledger:dashboard", needs_council=True)
_BY_ROLE: dict[str, list[NavItem]] = {
    Role.OFFICER: [_OPPORTUNITIES, _SUPPLIERS, _LOCALITY, _POLICY, _SPENDING],
    Role.SUPPLIER: [
        NavItem("Opportunities", "tenders:opportunity_list"),
        NavItem("Your organisation", "organisation"),
        NavItem("People", "people"),
    ],
    Role.AUDITOR: [_AUDIT, _OPPORTUNITIES, _SUPPLIERS, _LOCALITY, _POLICY, _SPENDING],
    Role.ADMIN: [
        _AUDIT,
        _OPPORTUNITIES,
        _SUPPLIERS,
        _LOCALITY,
        _POLICY,
        NavItem("Django admin", "admin:index"),
    ],
}
_ACCOUNT = [NavItem("Your account", "account")]


def items_for(user: User) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    council = works_for_council(user)
    by_role = [i for i in _BY_ROLE.get(user.role, []) if council or not i.needs_council]
    return _COMMON + by_role + _ACCOUNT
