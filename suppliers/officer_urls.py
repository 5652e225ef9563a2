"""The council's supplier pages, under ``/suppliers/``."""

from django.urls import path

from suppliers import officer_views

urlpatterns = [
    path("", officer_views.directory, name="supplier_directory"),
    path("<int:pk>/", officer_views.detail, name="supplier_detail"),
    path("<int:pk>/status/", officer_views.change_status, name="supplier_status"),
    path("changes/", officer_views.changes, name="supplier_changes"),
    path("changes/<int:pk>/decide/", officer_views.change_decide, name="supplier_change_decide"),
    path("approve/", officer_views.bulk_approve, name="supplier_bulk_approve"),
]
