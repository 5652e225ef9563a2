from django.urls import path

from tenders import views

urlpatterns = [
    path("", views.opportunity_list, name="opportunity_list"),
    path("<int:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path(
        "<int:pk>/documents/<int:document_pk>/",
        views.document_download,
        name="opportunity_document",
    ),
]
