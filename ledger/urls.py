"""Every page of the council's spending ledger, ``ledger:<name>``, under
``spending/`` (mounted by ``portal.urls``). Each group names its view module."""

from django.urls import URLPattern, path

from ledger.views import imports

app_name = "ledger"

urlpatterns: list[URLPattern] = []

# --- Imports: upload, columns, preview, progress, withdraw (ledger.views.imports)
urlpatterns += [
    path("imports/", imports.imports, name="imports"),
    path("imports/new/", imports.import_new, name="import_new"),
    path("imports/<int:pk>/", imports.import_columns, name="import_columns"),
    path("imports/<int:pk>/progress.json", imports.import_progress, name="import_progress"),
    path("imports/<int:pk>/refused/", imports.import_refused, name="import_refused"),
    path("imports/<int:pk>/withdraw/", imports.import_withdraw_view, name="import_withdraw"),
]

# --- Payees: matching and inviting (ledger.views.payees)

# --- Figures: the real local share, where it leaks, the network (ledger.views.figures)
