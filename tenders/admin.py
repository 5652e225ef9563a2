from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tenders.models import (
    Lot,
    Opportunity,
    PolicyBand,
    ProcurementPolicy,
    RouteCheck,
    StatutoryFigure,
)


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


class LotInline(admin.TabularInline):
    model = Lot
    extra = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    """Read-only: every change goes through the services, which run the
    threshold rule; admin is no way around it."""

    list_display = ["reference", "title", "buyer", "status", "route", "band_name", "created_at"]
    list_filter = ["status", "route", "buyer"]
    search_fields = ["reference", "title"]
    list_select_related = ["buyer"]
    inlines = [LotInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RouteCheck)
class RouteCheckAdmin(admin.ModelAdmin):
    list_display = ["checked_at", "buyer", "opportunity", "occasion", "route", "value_compared"]
    list_filter = ["route", "occasion", "buyer"]
    list_select_related = ["buyer", "opportunity"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StatutoryFigure)
class StatutoryFigureAdmin(admin.ModelAdmin):
    list_display = ["name", "effective_from", "amount", "to_check", "source"]
    list_filter = ["name"]
