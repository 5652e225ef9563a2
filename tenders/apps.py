from django.apps import AppConfig


class TendersConfig(AppConfig):
    name = "tenders"
    verbose_name = "Tenders"

    def ready(self) -> None:
        # Registers the tenders notification events (portal.events).
        from tenders import export, sealing, selectors, services  # noqa: F401

        sealing.register()
        selectors.register_sections()
        export.register()
