"""Every page of the council's spending ledger, ``ledger:<name>``, under
``spending/`` (mounted by ``portal.urls``). Each group names its view module."""

from django.urls import URLPattern, path  # noqa: F401

app_name = "ledger"

urlpatterns: list[URLPattern] = []

# --- Imports: upload, columns, preview, progress, withdraw (ledger.views.imports)

# --- Payees: matching and inviting (ledger.views.payees)

# --- Figures: the real local share, where it leaks, the network (ledger.views.figures)
