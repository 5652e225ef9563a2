from django.urls import path

from cpv import views

app_name = "cpv"

urlpatterns = [
    path("", views.find, name="find"),
    path("search/", views.search, name="search"),
]
