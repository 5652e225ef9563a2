"""A form that makes something is acted on once (``FormSubmission``).

A page's form carries a key made when the page was drawn (``field()``, a
hidden input). Sent again with the same key — the browser's Back and the
button once more, a double tap, a replayed request — it makes nothing new:
the view is told where the first one went (``AlreadyDone``) and goes there.
The key is written in the same transaction as what the form made
(``remembering``), so a refused form can be sent again, and of two sent at
once the second finds the first's key and makes nothing (its transaction is
undone).

A form sent without a key (a page drawn before this, a script) is acted on
as before: the key protects people from their browser, not the portal from
its users.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.db import IntegrityError, transaction

from portal.models import FormSubmission, User

NAME = "submission"


def field() -> forms.UUIDField:
    """The hidden input a form that makes something carries (named ``NAME``):
    a new key each time its page is drawn, the sent one when it is drawn again."""
    return forms.UUIDField(required=False, widget=forms.HiddenInput, initial=uuid.uuid4)


class AlreadyDone(Exception):
    """The form was sent before: what it made is at ``url``."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def done_before(user: User, key: uuid.UUID | None) -> str | None:
    """Where what ``user``'s form with ``key`` made is, if it was sent before."""
    if key is None:
        return None
    return FormSubmission.objects.filter(user=user, key=key).values_list("url", flat=True).first()


@contextmanager
def remembering(user: User, key: uuid.UUID | None) -> Iterator[Callable[[str], None]]:
    """A transaction for what the form makes; call the function it gives with
    the address of what was made. Raises ``AlreadyDone`` when the form was
    sent before, before anything is made, or (undoing it all) when the same
    key was written meanwhile by another request."""
    if (before := done_before(user, key)) is not None:
        raise AlreadyDone(before)
    urls: list[str] = []
    try:
        with transaction.atomic():
            yield urls.append
            if key is not None and urls:
                with transaction.atomic():
                    FormSubmission.objects.create(user=user, key=key, url=urls[-1])
    except IntegrityError:
        url = done_before(user, key)
        if url is None:
            raise
        raise AlreadyDone(url) from None


def key_of(form: forms.Form) -> Any:
    """The form's key as sent (None without one)."""
    return form.cleaned_data.get(NAME)
