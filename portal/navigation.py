"""The navigation each role sees. Later features add their pages here."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from portal.models import Role, User


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_COMMON = [NavItem("Home", "home"), NavItem("Inbox", "inbox")]
_BY_ROLE: dict[str, list[NavItem]] = {
    Role.OFFICER: [],
    Role.SUPPLIER: [],
    Role.AUDITOR: [],
    Role.ADMIN: [NavItem("Django admin", "admin:index")],
}
_ACCOUNT = [NavItem("Your account", "account")]


def items_for(user: User) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return _COMMON + _BY_ROLE.get(user.role, []) + _ACCOUNT
