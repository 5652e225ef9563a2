"""A council's procurement policy and its "full tender required" register,
under ``/council/policy/``."""

from django.urls import path

from tenders import policy_views

urlpatterns = [
    path("", policy_views.policy, name="policy"),
    path("new/", policy_views.policy_new, name="policy_new"),
    path("full-tender/", policy_views.full_tender_register, name="full_tender_register"),
    path("full-tender.csv", policy_views.full_tender_register_csv, name="full_tender_register_csv"),
]
