"""Companies House and charity numbers: checked for shape, stored normalised."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# 8 digits (England and Wales companies, written with leading zeros), or a
# two-letter prefix and 6 digits (SC Scotland, NI Northern Ireland, OC LLP, ...).
_COMPANY = re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6}|R0\d{6})$")
# England and Wales: 6 or 7 digits (a linked charity adds -N); Scotland SC + 6
# digits; Northern Ireland NIC + 6 digits (older ones XN/XR + 5 or 6 digits).
_CHARITY = re.compile(r"^(?:\d{6,7}(?:-\d{1,2})?|SC\d{6}|NIC\d{6}|X[NR]\d{5,6})$")


def normalise_company_number(value: str) -> str:
    """``"1234567"`` → ``"01234567"``; ``"sc 123456"`` → ``"SC123456"``."""
    compact = re.sub(r"\s+", "", (value or "").upper())
    if not compact:
        return ""
    if compact.isdigit() and 6 <= len(compact) < 8:
        compact = compact.zfill(8)
    if not _COMPANY.match(compact):
        raise ValidationError(
            "Enter a Companies House number in the correct format, like 01234567 or SC123456",
            code="invalid_company_number",
        )
    return compact


def normalise_charity_number(value: str) -> str:
    compact = re.sub(r"\s+", "", (value or "").upper())
    if not compact:
        return ""
    if not _CHARITY.match(compact):
        raise ValidationError(
            "Enter a charity number in the correct format, like 1123456, SC012345 or NIC100000",
            code="invalid_charity_number",
        )
    return compact
