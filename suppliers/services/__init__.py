"""Every write to supplier data, one function each (see the modules)."""

from suppliers.services.organisations import (
    ProfileRefused,
    SiteSpec,
    StatusChangeRefused,
    site_add,
    site_remove,
    site_update,
    supplier_create,
    supplier_set_status,
    supplier_update,
)
from suppliers.services.people import (
    PeopleRefused,
    Registration,
    colleague_invite,
    colleague_join,
    colleague_remove,
    colleague_set_role,
    email_verify,
    send_verification,
    supplier_register,
)

__all__ = [
    "PeopleRefused",
    "ProfileRefused",
    "Registration",
    "SiteSpec",
    "StatusChangeRefused",
    "colleague_invite",
    "colleague_join",
    "colleague_remove",
    "colleague_set_role",
    "email_verify",
    "send_verification",
    "site_add",
    "site_remove",
    "site_update",
    "supplier_create",
    "supplier_register",
    "supplier_set_status",
    "supplier_update",
]
