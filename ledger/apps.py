from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """The council's published spending (issue 18): every payment over £500 it
    publishes under the Local Government Transparency Code 2015, imported,
    matched to suppliers, and read as the real local share."""

    name = "ledger"
    verbose_name = "Council spending"

    def ready(self) -> None:
        # Registers the invitation to register (portal.events) and its task.
        from ledger import invitations  # noqa: F401
