"""The council's bid pages under ``/opportunities/`` (before the shared list and
detail pages of ``tenders.urls``). Everything but the opening is 404 until two
officers have opened the box."""

from django.urls import path

from tenders import officer_bids as views

urlpatterns = [
    path("<int:pk>/bids/open/", views.box_open_view, name="box_open"),
    path("<int:pk>/lots/<int:lot_pk>/evaluation/", views.lot_evaluation, name="lot_evaluation"),
    path("<int:pk>/lots/<int:lot_pk>/award/", views.lot_award, name="lot_award"),
    path("<int:pk>/bids/<int:bid_pk>/", views.bid_detail, name="bid_detail"),
    path(
        "<int:pk>/bids/<int:bid_pk>/score/<int:criterion_pk>/",
        views.bid_score,
        name="bid_score",
    ),
    path("<int:pk>/bids/<int:bid_pk>/exclude/", views.bid_exclude_view, name="bid_exclude"),
    path(
        "<int:pk>/bids/<int:bid_pk>/files/<int:file_pk>/",
        views.bid_file_download,
        name="bid_file",
    ),
]
