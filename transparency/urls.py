from django.urls import path

from transparency import flag_views, ocds_views, views

app_name = "transparency"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register.csv", views.register_csv, name="register_csv"),
    path("invitations-to-tender/", views.invitations, name="invitations"),
    path("invitations-to-tender.csv", views.invitations_csv, name="invitations_csv"),
    path("local-spend/", views.dashboard, name="dashboard"),
    path("opportunities/<int:pk>/history/", views.opportunity_history, name="opportunity_history"),
    path("suppliers/<int:pk>/history/", views.supplier_history, name="supplier_history"),
    path("flags/", flag_views.flags, name="flags"),
    path(
        "opportunities/<int:pk>/ocds.json",
        ocds_views.opportunity_release,
        name="opportunity_ocds",
    ),
    path(
        "ocds/<slug:buyer>/<str:first>/<str:last>/releases.json",
        ocds_views.council_releases,
        name="council_ocds",
    ),
    path("", views.index_page, name="index"),
    path("local-spend.csv", views.dashboard_csv, name="dashboard_csv"),
    path("flags.csv", flag_views.flags_csv, name="flags_csv"),
    path("flags/<slug:kind>/<int:record>/review/", flag_views.flag_review, name="flag_review"),
]
