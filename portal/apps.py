from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "People, organisations and audit"

    def ready(self) -> None:
        from portal import planner, signals  # noqa: F401  (connect their receivers)
