from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "People, organisations and audit"

    def ready(self) -> None:
        from portal import planner, signals  # noqa: F401  (connect their receivers)


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django admin, with the portal's site as ``admin.site`` (``portal.admin_site``)."""

    default = False  # "portal" in INSTALLED_APPS is PortalConfig
    default_site = "portal.admin_site.PortalAdminSite"
