"""Tenders data in Django admin: read-only. Every change goes through the
services, which run the threshold rule and audit; admin is no way around them."""

from __future__ import annotations

from django.contrib import admin

from portal.admin import ReadOnlyAdmin, ReadOnlyInline
from tenders.models import (
    Lot,
    Opportunity,
    PolicyBand,
    ProcurementPolicy,
    RouteCheck,
    StatutoryDate,
    StatutoryFigure,
)


class BandInline(ReadOnlyInline):
    model = PolicyBand


@admin.register(ProcurementPolicy)
class ProcurementPolicyAdmin(ReadOnlyAdmin):
    """Policies are versioned: a version that has decided anything is never edited."""

    list_display = ["buyer", "version", "effective_from", "local_threshold", "vat_basis"]
    list_filter = ["buyer"]
    inlines = [BandInline]


class LotInline(ReadOnlyInline):
    model = Lot


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "buyer", "status_now", "route", "band_name", "created_at"]
    list_filter = ["status", "route", "buyer"]
    search_fields = ["reference", "title"]
    list_select_related = ["buyer"]
    inlines = [LotInline]

    @admin.display(description="status")
    def status_now(self, opportunity: Opportunity) -> str:
        """At the moment of the request: an open one whose deadline has passed is closed."""
        return opportunity.current_status_label


@admin.register(RouteCheck)
class RouteCheckAdmin(ReadOnlyAdmin):
    list_display = ["checked_at", "buyer", "opportunity", "occasion", "route", "value_compared"]
    list_filter = ["route", "occasion", "buyer"]
    list_select_related = ["buyer", "opportunity"]


@admin.register(StatutoryFigure)
class StatutoryFigureAdmin(admin.ModelAdmin):
    list_display = ["name", "effective_from", "amount", "to_check", "source"]
    list_filter = ["name"]


@admin.register(StatutoryDate)
class StatutoryDateAdmin(admin.ModelAdmin):
    list_display = ["name", "effective_from", "to_check", "source"]
