"""The officers' opportunity pages, under ``/opportunities/`` (before the shared
list and detail pages of ``tenders.urls``)."""

from django.urls import path

from tenders import officer_views as views

urlpatterns = [
    path("new/", views.opportunity_new, name="opportunity_create"),
    path("<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("<int:pk>/lots/areas/", views.opportunity_lot_builder, name="opportunity_lot_builder"),
    path("<int:pk>/invite/", views.opportunity_invite, name="opportunity_invite"),
    path(
        "<int:pk>/invite/all-local/",
        views.opportunity_invite_all_local,
        name="opportunity_invite_all_local",
    ),
    path("<int:pk>/publish/", views.opportunity_publish_view, name="opportunity_publish"),
    path(
        "<int:pk>/documents/add/", views.opportunity_document_add, name="opportunity_document_add"
    ),
    path(
        "<int:pk>/questions/<int:clarification_pk>/answer/",
        views.opportunity_clarification_answer,
        name="clarification_answer",
    ),
    path("<int:pk>/override/", views.opportunity_override, name="opportunity_override"),
    path("<int:pk>/cancel/", views.opportunity_cancel_view, name="opportunity_cancel"),
    path("<int:pk>/deadline/", views.opportunity_extend, name="opportunity_extend"),
    path("<int:pk>/correct/", views.opportunity_correct, name="opportunity_correct"),
    path("<int:pk>/value/", views.opportunity_change_value_view, name="opportunity_change_value"),
]
