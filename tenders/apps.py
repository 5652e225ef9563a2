from django.apps import AppConfig


class TendersConfig(AppConfig):
    name = "tenders"
    verbose_name = "Tenders"

    def ready(self) -> None:
        # Registers the tenders notification events (portal.events).
        from tenders import services  # noqa: F401
