from django.apps import AppConfig


class SuppliersConfig(AppConfig):
    name = "suppliers"
    verbose_name = "Suppliers"

    def ready(self) -> None:
        from portal import audit
        from suppliers import selectors

        # What suppliers adds to each role's home page and a council's audit view.
        selectors.register_home_sections()
        audit.register_council_scope(selectors.council_supplier_events)
