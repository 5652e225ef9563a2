"""The request every page but sign-in receives.

``LoginRequiredMiddleware`` (settings) sends anyone not signed in to the
sign-in page before a view runs, unless the view is marked
``@login_not_required``; so a view without that mark only ever sees a
signed-in ``User``, and says so by taking a ``SignedInRequest``. Views that
also serve visitors keep ``HttpRequest`` and check ``user.is_authenticated``.
"""

from __future__ import annotations

from django.http import HttpRequest

from portal.models import User


class SignedInRequest(HttpRequest):
    """An ``HttpRequest`` whose ``user`` is a signed-in person (for type checking only)."""

    user: User
