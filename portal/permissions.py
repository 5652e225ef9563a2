"""Who works for which council, and what each role of a council may read or do.

The roles are spelled here once; views, navigation and the apps' selectors
ask these functions. Each council's people see only their own council's
records; an administrator of the whole portal belongs to no council (ADR 8)
and sees council pages through Django admin only.

Only the core's own models are used (the core imports no app): questions
about an app's objects pass the object's council (``buyer``), as a
``BuyerOrganisation`` or its id.
"""

from __future__ import annotations

from django.http import Http404

from portal.models import BuyerOrganisation, Role, User

# The people of a council: its procurement officers, its auditors and its
# administrators (an administrator may also be the whole portal's, with no council).
COUNCIL_ROLES = frozenset({Role.OFFICER, Role.AUDITOR, Role.ADMIN})
# Who reads a council's records on the audit pages: auditors and administrators.
READER_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})
# Who reads opened bids: the officers who evaluate and the auditors who check
# them; a council's administrators run the portal, they do not evaluate.
BID_READER_ROLES = frozenset({Role.OFFICER, Role.AUDITOR})
# Who decides whether a supplier is approved for the council.
VERIFIER_ROLES = frozenset({Role.OFFICER, Role.ADMIN})

Buyer = BuyerOrganisation | int


def _buyer_id(buyer: Buyer | None) -> int | None:
    return buyer.pk if isinstance(buyer, BuyerOrganisation) else buyer


def _of(user: User, buyer: Buyer | None) -> bool:
    """Does ``user`` belong to the council ``buyer`` (never true for no council)?"""
    buyer_id = _buyer_id(buyer)
    return buyer_id is not None and user.buyer_id == buyer_id


def is_council_staff(user: User) -> bool:
    """An officer, auditor or administrator (administrators of the whole portal too)."""
    return user.role in COUNCIL_ROLES


def works_for_council(user: User) -> bool:
    """Council staff who belong to a council (not an administrator of the whole portal)."""
    return is_council_staff(user) and user.buyer_id is not None


def council_of(user: User) -> BuyerOrganisation:
    """The council ``user`` works for; 404 for suppliers and for administrators
    of the whole portal (they have no council, so no council page is theirs)."""
    if not is_council_staff(user) or user.buyer is None:
        raise Http404("No such page.")
    return user.buyer


def officer_of_council(user: User, buyer: Buyer | None) -> bool:
    """A procurement officer of ``buyer``: changes its opportunities, evaluates and awards."""
    return user.role == Role.OFFICER and _of(user, buyer)


def administrator_of_council(user: User, buyer: Buyer | None) -> bool:
    """An administrator of ``buyer``: changes its policy and its locality."""
    return user.role == Role.ADMIN and _of(user, buyer)


def may_read_council(user: User, buyer: Buyer | None) -> bool:
    """Auditors and administrators of ``buyer`` read its records (the audit pages)."""
    return user.role in READER_ROLES and _of(user, buyer)


def may_read_bids(user: User, buyer: Buyer | None) -> bool:
    """Officers and auditors of ``buyer`` read its opened bids."""
    return user.role in BID_READER_ROLES and _of(user, buyer)


def may_verify_suppliers(user: User, buyer: Buyer | None) -> bool:
    """Officers and administrators of ``buyer`` approve or suspend suppliers for it."""
    return user.role in VERIFIER_ROLES and _of(user, buyer)


def may_review_flags(user: User, buyer: Buyer | None) -> bool:
    """Auditors of ``buyer`` mark its flags as reviewed (administrators read them)."""
    return user.role == Role.AUDITOR and _of(user, buyer)
