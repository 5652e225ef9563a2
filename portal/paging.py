"""Pages of long lists.

``CountedPaginator`` is a paginator told its count, so it does not ask the
database again. ``page_with_total`` reads one page of a queryset and the
number of rows in all with one query (``COUNT(*) OVER ()``): for searches,
where counting apart would run the whole search twice.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window


class CountedPaginator(Paginator):
    """A paginator told its count (already worked out), so it does not ask again."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @property
    def count(self) -> int:
        return self.known_count


def _number(value: Any) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def page_with_total(queryset: QuerySet, number: Any, per_page: int) -> Page:
    """Page ``number`` (1 when it is not a number; the last page when it is past
    the end) of ``queryset``, with the total, as ``Paginator.get_page`` does."""
    counted = queryset.annotate(rows_in_all=Window(Count("pk")))
    number = _number(number)
    rows = list(counted[(number - 1) * per_page : number * per_page])
    if rows:
        total = rows[0].rows_in_all
    else:
        total = queryset.count() if number > 1 else 0
        if total:  # past the end: the last page
            number = math.ceil(total / per_page)
            rows = list(counted[(number - 1) * per_page : number * per_page])
    paginator = CountedPaginator(queryset, per_page, count=total)
    return Page(rows, number if total else 1, paginator)
