"""Links to many objects of one kind, for long lists."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse


def url_for_pk(name: str, *before: int) -> Callable[[int], str]:
    """``reverse(name, args=[*before, pk])`` for many pks at the cost of one
    ``reverse``: a list that links each of its rows reverses the same pattern
    once per row otherwise (``{% url %}`` in a loop), a tenth of a long list's
    time. ``before``: the arguments every row shares (the opportunity of a
    list of its bids)."""
    marker = 987654321987
    prefix, suffix = reverse(name, args=[*before, marker]).split(str(marker))
    return lambda pk: f"{prefix}{int(pk)}{suffix}"
