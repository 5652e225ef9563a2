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
        # A GET to one of its buttons' addresses: 404 unless the opportunity is the user's to see.
        from portal import post_only

        post_only.register_guard("tenders", selectors.guard_opportunity_address)
