"""Pages of long lists.

``CountedPaginator`` is a paginator told its count, so it does not ask the
database again. ``page_with_total`` reads one page of a queryset and the
number of rows in all with one query (``COUNT(*) OVER ()``): for searches,
where counting apart would run the whole search twice. ``page_counted_apart``
also reads a page and its total in one query, the total as a subquery of the
filters alone: for pages whose rows join other tables for their columns,
which ``COUNT(*) OVER ()`` would join for every row, not the page's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Func, IntegerField, QuerySet, Subquery, Window


class CountedPaginator(Paginator):
    """A paginator told its count (already worked out), so it does not ask again."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @property
    def count(self) -> int:
        return self.known_count


# How many rows a list page shows: every long list of the portal (20, like
# GOV.UK's own search pages; the full-tender register shows 50).
PAGE_SIZE = 20

# COUNT(*) as a plain function, not an aggregate, so that Django does not
# group a query (or subquery) that selects it by its rows.
COUNT_ALL = Func(template="COUNT(*)", output_field=IntegerField())


def page_number(value: Any) -> int:
    """The page asked for: 1 when it is not a positive number."""
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def page_with_total(queryset: QuerySet, number: Any, per_page: int) -> Page:
    """Page ``number`` (1 when it is not a number; the last page when it is past
    the end) of ``queryset``, with the total, as ``Paginator.get_page`` does."""
    counted = queryset.annotate(rows_in_all=Window(Count("pk")))
    number = page_number(number)
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


def page_counted_apart(
    queryset: QuerySet, number: Any, per_page: int, columns: Callable[[QuerySet], QuerySet]
) -> Page:
    """Page ``number`` of ``queryset`` (as ``page_with_total``), its rows read
    as ``columns(rows)`` makes them (e.g. ``.values(...)`` across joins), with
    the total counted by a subquery of ``queryset``'s filters alone, in the
    same query. Each row carries the total as ``rows_in_all``."""
    counted = queryset.order_by().values(in_all=COUNT_ALL).values("in_all")
    number = page_number(number)

    def read(number: int) -> list:
        rows = queryset[(number - 1) * per_page : number * per_page]
        return list(columns(rows).annotate(rows_in_all=Subquery(counted)))

    rows = read(number)
    if rows:
        first = rows[0]
        total = first["rows_in_all"] if isinstance(first, dict) else first.rows_in_all
    else:
        total = queryset.count() if number > 1 else 0
        if total:  # past the end: the last page
            number = math.ceil(total / per_page)
            rows = read(number)
    paginator = CountedPaginator(queryset, per_page, count=total)
    return Page(rows, number if total else 1, paginator)
