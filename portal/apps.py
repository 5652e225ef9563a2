from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "People, organisations and audit"

    def ready(self) -> None:
        from portal import signals  # noqa: F401  (connects sign-in auditing)
