from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from cpv.models import CpvCode


@admin.register(CpvCode)
class CpvCodeAdmin(admin.ModelAdmin):
    """Read-only: the list comes from the EU file through ``manage.py load_cpv``."""

    list_display = ["code", "description", "level"]
    list_filter = ["level"]
    search_fields = ["code", "description"]
    ordering = ["digits"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CpvCode | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CpvCode | None = None) -> bool:
        return False
