"""Private downloads: an uploaded file (an opportunity's document, a bid's
file) or a generated one (a bid receipt) is streamed by a view that has
checked who is asking, as an attachment, never from a public URL.

Browsers must not guess a type from the content (``nosniff``: an uploaded
file could otherwise be run as a page of this site), and nothing between the
server and the person may keep a copy (``private, no-store``).
"""

from __future__ import annotations

from typing import TypeVar

from django.http import FileResponse
from django.http.response import HttpResponseBase

from portal.models import StoredFile

R = TypeVar("R", bound=HttpResponseBase)


def kept_private(response: R) -> R:
    """``response`` with the headers every private download carries."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def private_file(stored: StoredFile) -> FileResponse:
    """Stream ``stored`` as an attachment under the name it was uploaded with,
    with the type checked at upload. The caller has decided who may have it."""
    response = FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=stored.original_name,
        content_type=stored.content_type,
    )
    return kept_private(response)
