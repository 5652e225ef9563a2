from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tenders.models import PolicyBand, ProcurementPolicy


class BandInline(admin.TabularInline):
    model = PolicyBand
    extra = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProcurementPolicy)
class ProcurementPolicyAdmin(admin.ModelAdmin):
    """Policies are versioned: a version that has decided anything is never edited."""

    list_display = ["buyer", "version", "effective_from", "local_threshold", "vat_basis"]
    list_filter = ["buyer"]
    inlines = [BandInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
