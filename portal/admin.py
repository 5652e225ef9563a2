from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from portal import audit
from portal.models import AuditEvent, BuyerOrganisation, Department, LocalityDistrict, User


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "buyer", "supplier", "is_active"]
    list_filter = ["role", "is_active", "buyer"]
    list_select_related = ["buyer", "supplier"]
    search_fields = ["email", "full_name"]
    autocomplete_fields = ["supplier"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "role", "buyer", "department", "supplier"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
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

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
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
class BuyerOrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "identifier"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [DepartmentInline, LocalityInline]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_repr", "object_id"]
    date_hierarchy = "at"
