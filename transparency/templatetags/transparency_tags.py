"""Small filters for the local-spend tables."""

from __future__ import annotations

from typing import Any

from django import template

from transparency.local_spend import Figures

register = template.Library()


@register.filter
def dictget(mapping: dict, key: str) -> Any:
    return mapping.get(key)


def _percent(value) -> str:
    return "–" if value is None else f"{value}%"


@register.filter
def value_share(figures: Figures, kind: str) -> str:
    """The share of awarded value going to ``kind`` of supplier, as "42.3%"."""
    return _percent(figures.value_share(kind))


@register.filter
def count_share(figures: Figures, kind: str) -> str:
    """The share of contracts going to ``kind`` of supplier, as "42.3%"."""
    return _percent(figures.count_share(kind))
