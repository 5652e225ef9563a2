"""CSV downloads that spreadsheets open safely: UTF-8 with a byte order
mark, streamed row by row, and no cell that a spreadsheet would run."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse


def cell(text: str) -> str:
    """Text a spreadsheet would run as a formula starts with an apostrophe."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


class _Echo:
    """A file-like object whose ``write`` hands back what it was given."""

    def write(self, value: str) -> str:
        return value


def _lines(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte order mark, so that spreadsheets read "£" as UTF-8.
    yield "\ufeff" + writer.writerow(columns)
    for row in rows:
        yield writer.writerow(row)


def download(
    columns: Sequence[str], rows: Iterable[Sequence[str]], filename: str
) -> StreamingHttpResponse:
    """A CSV attachment of ``rows`` (produced lazily, so a large register
    never sits in memory)."""
    response = StreamingHttpResponse(_lines(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
