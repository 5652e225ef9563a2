from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import transaction
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import audit, notifications, row_keys
from portal.admin_site import audited_password_change
from portal.models import (
    AuditEvent,
    BuyerOrganisation,
    DeliveryStatus,
    Department,
    LocalityDistrict,
    Notification,
    User,
)


def _staff(request: HttpRequest) -> User:
    """The member of staff using Django admin: its views let in no one else
    (``AdminSite.admin_view``), so anyone else is refused here too."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class KeptAdmin(admin.ModelAdmin):
    """Rows that are never deleted here: bids and their records hang from them,
    and Django admin's delete confirmation would list those (sealed or not)."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _KeyedChangeList(ChangeList):
    # The list of an UncountedAdmin (its get_changelist), the only one to use it.
    model_admin: UncountedAdmin

    def url_for_result(self, result: Any) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[self.model_admin.row_key(result)],
            current_app=self.model_admin.admin_site.name,
        )


class UncountedAdmin(ReadOnlyAdmin):
    """Rows some of which are hidden until a box is opened (``get_queryset``
    leaves them out). Their ids would show the gaps they leave, so rows are
    linked, selected and opened by their row key (``portal.row_keys``), never
    their id; lookups in the address may use only the list's own filters (not
    ids, nor positions or hashes of the audit chain); there are no pop-ups,
    which name rows by id."""

    change_form_template = "admin/portal/uncounted_change_form.html"
    object_history_template = "admin/portal/uncounted_object_history.html"

    def row_key(self, obj: Any) -> str:
        return row_keys.key_for(self.model, obj.pk)

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None):
        pk = row_keys.pk_for(self.model, object_id)
        if pk is None or from_field is not None:
            return None
        return self.get_queryset(request).filter(pk=pk).first()

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None):
        extra_context = {**(extra_context or {}), "row_key": object_id}
        return super().history_view(request, object_id, extra_context=extra_context)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _KeyedChangeList

    def action_checkbox(self, obj: Any) -> SafeString:
        attrs = {
            "class": "action-select",
            "aria-label": format_html(_("Select this object for an action - {}"), str(obj)),
        }
        checkbox = forms.CheckboxInput(attrs, lambda value: False)
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, self.row_key(obj))

    def response_action(self, request: HttpRequest, queryset: Any):
        post = request.POST.copy()
        keys = post.getlist(helpers.ACTION_CHECKBOX_NAME)
        ids = [row_keys.pk_for(self.model, key) for key in keys]
        post.setlist(helpers.ACTION_CHECKBOX_NAME, [str(pk) for pk in ids if pk is not None])
        # The stubs type request.POST as immutable; Django takes a replacement
        # QueryDict (this one, the row keys turned back into ids) like any attribute.
        request.POST = post  # type: ignore[assignment]
        return super().response_action(request, queryset)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        filters = {*self.list_filter, self.date_hierarchy}
        return lookup.split(LOOKUP_SEP)[0] in filters and super().lookup_allowed(
            lookup, value, request
        )

    def to_field_allowed(self, request: HttpRequest, to_field: str) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        if IS_POPUP_VAR in request.GET or IS_POPUP_VAR in request.POST:
            raise SuspiciousOperation("These rows are not chosen in pop-ups.")
        return super().changelist_view(request, extra_context=extra_context)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown with their parent, never changed here."""

    extra = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(KeptAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "buyer", "supplier", "is_active"]
    list_filter = ["role", "is_active", "buyer"]
    list_select_related = ["buyer", "supplier"]
    search_fields = ["email", "full_name"]
    autocomplete_fields = ["supplier"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "role", "buyer", "department", "supplier"]}),
        (
            "Access",
            {
                "fields": ["is_active", "is_staff", "is_superuser", "groups"],
                "description": "People are never deleted here, as their records stay with "
                "them. To switch someone off, untick Active and save: they can no longer "
                "sign in, and the change is recorded in the audit trail.",
            },
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "email",
                    "full_name",
                    "role",
                    "buyer",
                    "supplier",
                    "password1",
                    "password2",
                ],
            },
        )
    ]
    readonly_fields = ["last_login", "date_joined"]

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        """An administrator sets someone's password (or switches password
        sign-in off for them): audited, the person told, as any new password."""
        person = self.get_object(request, unquote(id))
        return audited_password_change(
            request,
            person,
            lambda: super(UserAdmin, self).user_change_password(request, id, form_url),
        )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            actor=_staff(request),
            action="user.changed" if change else "user.created",
            obj=obj,
            changes={
                name: [form.initial.get(name), form.cleaned_data.get(name)]
                for name in form.changed_data
                if "password" not in name
            },
            context={"via": "admin"},
        )


class DepartmentInline(admin.TabularInline):
    model = Department
    extra = 0


class LocalityInline(admin.TabularInline):
    model = LocalityDistrict
    extra = 0


@admin.register(BuyerOrganisation)
class BuyerOrganisationAdmin(KeptAdmin):
    list_display = ["name", "slug", "identifier_scheme", "identifier"]
    fieldsets = [
        (
            None,
            {
                "fields": ["name", "slug", "identifier_scheme", "identifier", "contact_email"],
                "description": "Councils are never deleted here: their opportunities, "
                "contracts and audit trail stay with them.",
            },
        )
    ]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [DepartmentInline, LocalityInline]


@admin.register(AuditEvent)
class AuditEventAdmin(UncountedAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_repr", "object_id"]
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest):
        # Bid events stay sealed until the box is opened, for administrators too.
        return audit.visible(super().get_queryset(request))


@admin.register(Notification)
class NotificationAdmin(UncountedAdmin):
    """Delivery of notifications: counts per event, failed rows and their errors."""

    change_list_template = "admin/portal/notification/change_list.html"
    list_display = [
        "created_at",
        "event",
        "channel",
        "recipient",
        "status",
        "attempts",
        "last_error",
        "sent_at",
    ]
    list_filter = ["status", "channel", "event"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__email", "event", "idempotency_key"]
    show_full_result_count = False
    actions = ["retry"]
    # A message's context holds its one-use links (a password reset, an
    # invitation to join, an unlock): never shown, to superusers either.
    exclude = ["context"]

    def get_queryset(self, request: HttpRequest):
        # Receipts would tell who bid before the box is opened.
        return notifications.visible(super().get_queryset(request))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {**(extra_context or {}), "summary": notifications.delivery_summary()}
        return super().changelist_view(request, extra_context=extra_context)

    def get_actions(self, request: HttpRequest):
        # ReadOnlyAdmin removes delete; retry needs only view permission plus staff.
        return {"retry": self.get_action("retry")}

    @admin.action(description="Retry the selected failed notifications")
    def retry(self, request: HttpRequest, queryset) -> None:
        ids = list(queryset.filter(status=DeliveryStatus.FAILED).values_list("pk", flat=True))
        count = notifications.retry(ids)
        audit.record(
            actor=_staff(request),
            action="notifications.retried",
            # As the administrator saw them: by their row keys (see UncountedAdmin).
            context={
                "count": count,
                "keys": [row_keys.key_for(Notification, pk) for pk in ids[:1000]],
            },
        )
        messages.success(request, f"{count} failed notification(s) queued again.")


class ResetOnlyDeviceAdmin(admin.ModelAdmin):
    """People set up their own authenticator app; an administrator can only
    see devices and delete one, which resets that person's two-factor set-up
    (they set up a new app at their next sign-in). Deleting is audited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _audit_reset(self, request: HttpRequest, device: Any) -> None:
        audit.record(
            actor=_staff(request),
            action="user.two_factor_reset",
            obj=device.user,
            context={"device": device.name, "via": "admin"},
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            self._audit_reset(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for device in queryset.select_related("user"):
                self._audit_reset(request, device)
            super().delete_queryset(request, queryset)


# django-otp registers its own admin for its devices; these replace them.
for _model, _base in [(TOTPDevice, TOTPDeviceAdmin), (StaticDevice, StaticDeviceAdmin)]:
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, type(f"Audited{_base.__name__}", (ResetOnlyDeviceAdmin, _base), {}))
