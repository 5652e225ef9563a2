"""Tenders data in Django admin: read-only. Every change goes through the
services, which run the threshold rule and audit; admin is no way around them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models

from portal.admin import ReadOnlyAdmin, ReadOnlyInline
from portal.fields import NumberField
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


class RecordedRouteFilter(admin.ChoicesFieldListFilter):
    """The stored route, named as what it is: the route last recorded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "route last recorded"


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdmin):
    # The route and band stored are those last recorded (at drafting, publishing
    # or award); the portal's pages decide a live opportunity's on today's facts.
    list_display = [
        "reference",
        "title",
        "buyer",
        "status_now",
        "route_recorded",
        "band_recorded",
        "created_at",
    ]
    list_filter = ["status", ("route", RecordedRouteFilter), "buyer"]
    search_fields = ["reference", "title"]
    list_select_related = ["buyer"]
    inlines = [LotInline]

    @admin.display(description="route last recorded", ordering="route")
    def route_recorded(self, opportunity: Opportunity) -> str:
        return opportunity.get_route_display()

    @admin.display(description="band last recorded", ordering="band_name")
    def band_recorded(self, opportunity: Opportunity) -> str:
        return opportunity.band_name

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
    # An amount of "2e5" is not £200,000 (portal.fields.NumberField).
    formfield_overrides = {models.DecimalField: {"form_class": NumberField}}


@admin.register(StatutoryDate)
class StatutoryDateAdmin(admin.ModelAdmin):
    list_display = ["name", "effective_from", "to_check", "source"]
