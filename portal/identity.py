"""Who an email address names, and links that die with what they were for.

* ``normalise_email``: the one form in which email addresses are compared,
  everywhere (sign-in, registration, invitations, the uniqueness of
  accounts, the lockout). It is stored as ``User.email_key`` and matched
  exactly, so the database's own case rules never decide who an address is
  (PostgreSQL's ``UPPER`` maps the dotless ``ı`` to ``I``: ``iexact`` let
  ``admın@`` reach ``admin@``'s account).
* ``security_stamp``: a digest of an account's security state (password
  hash, switched on or off, email address, when it was confirmed). Signed
  into every emailed link, it stops the link working the moment any of
  those change: a password set or reset, an invitation used or withdrawn,
  a person removed.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare, salted_hmac


def normalise_email(value: str) -> str:
    """An email address as compared: Unicode NFKC (fullwidth ``ａ`` and other
    compatibility forms become plain letters), case-folded, and NFKC again
    (case folding can undo it: Unicode's NFKC_Casefold). Look-alikes that are
    different letters (``ı`` and ``i``) stay different."""
    text = unicodedata.normalize("NFKC", (value or "").strip())
    return unicodedata.normalize("NFKC", text.casefold())


def _state(user: Any) -> str:
    verified = user.email_verified_at.isoformat() if user.email_verified_at else ""
    return f"{user.pk}|{user.password}|{int(bool(user.is_active))}|{user.email}|{verified}"


def security_stamp(user: Any, purpose: str) -> str:
    """A digest of the person's security state, for a link made for ``purpose``."""
    return salted_hmac(f"portal.identity.stamp:{purpose}", _state(user)).hexdigest()[:32]


def stamp_matches(user: Any, purpose: str, stamp: object) -> bool:
    return isinstance(stamp, str) and constant_time_compare(stamp, security_stamp(user, purpose))


def same_state(before: Any, after: Any) -> bool:
    """Has nothing in the person's security state changed between two reads?"""
    return _state(before) == _state(after)


class ResetTokens(PasswordResetTokenGenerator):
    """Django's password reset links, which also die when the account is
    switched off (Django's own die when the password or email changes, or
    once used)."""

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{super()._make_hash_value(user, timestamp)}|{int(bool(user.is_active))}"


password_reset_tokens = ResetTokens()
