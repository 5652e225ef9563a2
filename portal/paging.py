"""Pages of long lists.

``CountedPaginator`` is a paginator told its count, so it does not ask the
database again. ``page_with_total`` reads one page of a queryset and the
number of rows in all with one query (``COUNT(*) OVER ()``): for searches,
where counting apart would run the whole search twice. ``read_page`` is what
they and the pages that read their rows with plain SQL share: page ``N`` as
``Paginator.get_page`` gives it, from one read of the rows and their total.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Func, IntegerField, QuerySet, Window


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

# The largest OFFSET a database takes (a signed 64-bit integer, on SQLite and
# PostgreSQL alike): a page further on is past the end of any list.
MAX_OFFSET = 2**63 - 1

# COUNT(*) as a plain function, not an aggregate, so that Django does not
# group a query (or subquery) that selects it by its rows.
COUNT_ALL = Func(template="COUNT(*)", output_field=IntegerField())


def page_number(value: Any) -> int:
    """The page asked for: 1 when it is not a positive number."""
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def read_page(
    number: Any,
    per_page: int,
    read: Callable[[int, int], tuple[list, int]],
    count: Callable[[], int],
) -> Page:
    """Page ``number`` as ``Paginator.get_page`` gives it (1 when it is not a
    number, and, unlike it, when it is 0 or less; the last page when it is
    past the end). ``read(offset, limit)``
    gives the rows and the number of rows in all (0 when there are no rows);
    ``count()`` is asked only for a page past the end."""
    number = page_number(number)
    offset = (number - 1) * per_page
    rows, total = read(offset, per_page) if offset <= MAX_OFFSET - per_page else ([], 0)
    if not rows:
        total = count() if number > 1 else 0
        if total:  # past the end: the last page
            number = math.ceil(total / per_page)
            rows, total = read((number - 1) * per_page, per_page)
    return Page(rows, number if total else 1, CountedPaginator(rows, per_page, count=total))


def rows_with_total(queryset: QuerySet, offset: int, limit: int) -> tuple[list, int]:
    """Rows ``offset`` to ``offset + limit`` of ``queryset`` and how many it has
    in all (0 when there are no rows), in one query."""
    rows = list(queryset.annotate(rows_in_all=Window(Count("pk")))[offset : offset + limit])
    return rows, (rows[0].rows_in_all if rows else 0)


def page_with_total(queryset: QuerySet, number: Any, per_page: int) -> Page:
    """Page ``number`` of ``queryset`` with the total, in one query (``read_page``)."""

    def read(offset: int, limit: int) -> tuple[list, int]:
        return rows_with_total(queryset, offset, limit)

    return read_page(number, per_page, read, queryset.count)
