"""The portal's Django admin site (the default ``admin.site``, set by
``portal.apps.PortalAdminConfig``).

It is Django's own, except that a password changed here (one's own, under
"Change password") goes through the portal's service like any other new
password: audited, its owner told, unconfirmed authenticator set-ups
deleted (``portal.services.password_changed``). ``portal.admin`` does the
same for an administrator setting someone else's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse

from portal import services
from portal.models import User

ResponseT = TypeVar("ResponseT", bound=HttpResponseBase)


def audited_password_change(
    request: HttpRequest, person: User | None, change: Callable[[], ResponseT]
) -> ResponseT:
    """Run one of Django admin's password views (``change``) for ``person``;
    if it set them a new password, record it as the portal does, in the same
    transaction, with the administrator using admin as the one who did it."""
    if person is None or request.method != "POST":
        return change()
    if not isinstance(request.user, User):  # admin lets in only signed-in staff
        raise PermissionDenied
    with transaction.atomic():
        rows = User.objects.select_for_update().filter(pk=person.pk)
        before = rows.values_list("password", flat=True).first()
        response = change()
        after = User.objects.filter(pk=person.pk).first()
        if after is not None and after.password != before:
            services.password_changed(user=after, by=request.user, via="admin")
    return response


class PortalAdminSite(admin.AdminSite):
    site_header = "Local Tenders administration"
    site_title = "Local Tenders admin"

    def password_change(self, request: HttpRequest, extra_context: Any = None) -> TemplateResponse:
        user = request.user if isinstance(request.user, User) else None
        return audited_password_change(
            request,
            user,
            lambda: super(PortalAdminSite, self).password_change(request, extra_context),
        )
