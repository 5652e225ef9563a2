from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from cpv.models import CpvCode

if TYPE_CHECKING:
    _CpvCodeAdminBase = admin.ModelAdmin[CpvCode]
else:  # ModelAdmin takes no type argument at run time (django-stubs only)
    _CpvCodeAdminBase = admin.ModelAdmin


@admin.register(CpvCode)
class CpvCodeAdmin(_CpvCodeAdminBase):
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
