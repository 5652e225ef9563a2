from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from suppliers import services
from suppliers.models import SupplierOrganisation, SupplierSite, SupplierStatus


class SiteInline(admin.TabularInline):
    model = SupplierSite
    extra = 0
    readonly_fields = ["district"]


@admin.register(SupplierOrganisation)
class SupplierOrganisationAdmin(admin.ModelAdmin):
    list_display = ["legal_name", "companies_house_number", "status", "is_sme", "is_vcse"]
    list_filter = ["status", "is_sme", "is_vcse"]
    search_fields = ["legal_name", "trading_name", "companies_house_number", "charity_number"]
    # Status changes go through the service, which keeps the reason and audits.
    readonly_fields = ["status", "status_reason", "created_at"]
    inlines = [SiteInline]
    actions = ["approve"]

    @admin.action(description="Approve the selected suppliers")
    def approve(self, request: HttpRequest, queryset: QuerySet[SupplierOrganisation]) -> None:
        for supplier in queryset:
            services.supplier_set_status(
                supplier=supplier,
                status=SupplierStatus.APPROVED,
                reason="Approved by an administrator in Django admin.",
                by=request.user,
            )
        messages.success(request, f"Approved {queryset.count()} supplier(s).")
