"""The in-portal inbox and email preferences: every role has them."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import Field
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import audit, events
from portal.forms import gds_helper
from portal.http import SignedInRequest
from portal.models import InboxMessage, User
from portal.paging import PAGE_SIZE


@require_GET
def inbox(request: SignedInRequest) -> HttpResponse:
    messages_qs = InboxMessage.objects.filter(recipient=request.user).only(
        "pk", "subject", "created_at", "read_at", "event"
    )
    page = Paginator(messages_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/inbox.html", {"page": page})


@require_GET
def inbox_message(request: SignedInRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(InboxMessage, pk=pk, recipient=request.user)
    if message.read_at is None:
        InboxMessage.objects.filter(pk=message.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    return render(request, "portal/inbox_message.html", {"message": message})


@require_POST
def inbox_mark_all_read(request: SignedInRequest) -> HttpResponse:
    count = InboxMessage.objects.filter(recipient=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    messages.success(request, f"Marked {count} message{'s' if count != 1 else ''} as read.")
    return redirect("inbox")


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["email_reminders", "email_digests"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.checkbox("email_reminders"),
            Field.checkbox("email_digests"),
            submit="Save preferences",
        )


@require_http_methods(["GET", "POST"])
def preferences(request: SignedInRequest) -> HttpResponse:
    user = request.user
    before = audit.snapshot(user, PreferencesForm.Meta.fields)
    form = PreferencesForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            audit.record(
                actor=user,
                action="user.preferences_changed",
                obj=user,
                changes=audit.diff(before, audit.snapshot(user, form.Meta.fields)),
            )
        messages.success(request, "Your email preferences have been saved.")
        return redirect("notification_preferences")
    mandatory = [event for event in events.EVENTS.values() if not event.optional]
    return render(request, "portal/preferences.html", {"form": form, "mandatory_events": mandatory})
