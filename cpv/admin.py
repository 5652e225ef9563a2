from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from cpv.models import CpvCode, CpvSynonym

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


if TYPE_CHECKING:
    _CpvSynonymAdminBase = admin.ModelAdmin[CpvSynonym]
else:
    _CpvSynonymAdminBase = admin.ModelAdmin


@admin.register(CpvSynonym)
class CpvSynonymAdmin(_CpvSynonymAdminBase):
    """A council's own words for CPV codes, searched by that council's people.

    The portal's own list (no council) comes from cpv/data/synonyms.csv and is
    replaced on every ``load_cpv``; change that file rather than those rows.
    """

    list_display = ["term", "code", "buyer"]
    list_filter = [("buyer", admin.EmptyFieldListFilter), "buyer"]
    list_select_related = ["code", "buyer"]
    search_fields = ["term", "code__code", "code__description"]
    autocomplete_fields = ["code"]
    fields = ["buyer", "term", "code"]
