"""Suppliers in Django admin: read-only. What a supplier is and where it is
based changes through the services (a council officer reviews it once a
council has verified the supplier, ADR 12); each council verifies for itself,
so an administrator approves only for their own council."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet

from portal.admin import ReadOnlyAdmin, ReadOnlyInline
from portal.http import SignedInRequest
from portal.permissions import works_for_council
from suppliers import services
from suppliers.models import (
    SupplierApproval,
    SupplierChange,
    SupplierOrganisation,
    SupplierSite,
    SupplierStatus,
)


class SiteInline(ReadOnlyInline):
    model = SupplierSite
    readonly_fields = ["district"]


class ApprovalInline(ReadOnlyInline):
    """Each council's own decision."""

    model = SupplierApproval
    fields = ["buyer", "status", "reason", "changed_at", "changed_by", "first_approved_at"]


@admin.register(SupplierOrganisation)
class SupplierOrganisationAdmin(ReadOnlyAdmin):
    list_display = ["legal_name", "companies_house_number", "is_sme", "is_vcse", "created_at"]
    list_filter = ["is_sme", "is_vcse"]
    search_fields = ["legal_name", "trading_name", "companies_house_number", "charity_number"]
    inlines = [ApprovalInline, SiteInline]
    actions = ["approve"]
    # A website typed without a scheme is https, as on the supplier's own form
    # (and Django 6's default; Django 5.2 warns on every admin page otherwise).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.action(description="Approve the selected suppliers for your council")
    def approve(self, request: SignedInRequest, queryset: QuerySet[SupplierOrganisation]) -> None:
        # Django admin lets in only signed-in staff, so ``request.user`` is a User.
        buyer = request.user.buyer if works_for_council(request.user) else None
        if buyer is None:
            messages.error(
                request, "Each council approves for itself; you administer the whole portal."
            )
            return
        approved, refused = 0, []
        for supplier in queryset:
            try:
                services.supplier_set_status(
                    supplier=supplier,
                    buyer=buyer,
                    status=SupplierStatus.APPROVED,
                    reason="Approved by an administrator in Django admin.",
                    by=request.user,
                )
            except services.StatusChangeRefused as exc:
                refused.append(str(exc))
            else:
                approved += 1
        messages.success(request, f"Approved {approved} supplier(s) for {buyer}.")
        for problem in refused:
            messages.warning(request, problem)


@admin.register(SupplierChange)
class SupplierChangeAdmin(ReadOnlyAdmin):
    """Changes suppliers asked for and their reviews (decided on the officers' pages)."""

    list_display = ["supplier", "kind", "status", "requested_at", "decided_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["supplier"]
