"""The real URLs plus one view that fails, to check the 500 page."""

from django.urls import include, path


def broken_view(request):
    raise RuntimeError("database password is hunter2")


urlpatterns = [path("broken/", broken_view), path("", include("portal.urls"))]
