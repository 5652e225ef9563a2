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
from ledger.views import payees as payee_views  # noqa: E402

urlpatterns += [
    path("payees/", payee_views.payees, name="payees"),
    path("payees/<int:pk>/", payee_views.payee, name="payee"),
    path("payees/<int:pk>/confirm/", payee_views.payee_confirm_view, name="payee_confirm"),
    path("payees/<int:pk>/reject/", payee_views.payee_reject_view, name="payee_reject"),
    path("payees/<int:pk>/unmatch/", payee_views.payee_unmatch_view, name="payee_unmatch"),
    path("payees/<int:pk>/invite/", payee_views.payee_invite_view, name="payee_invite"),
]

# --- Figures: the real local share, where it leaks, the network (ledger.views.figures)
from ledger.views import figures  # noqa: E402

urlpatterns += [
    path("", figures.dashboard, name="dashboard"),
    path("figures.csv", figures.dashboard_csv, name="dashboard_csv"),
    path("leakage/", figures.leakage, name="leakage"),
    path("leakage/draft/", figures.leak_draft, name="leak_draft"),
    path("leakage/categories/", figures.category_mappings, name="category_mappings"),
    path("network/", figures.network, name="network"),
    path("network/share/", figures.network_share, name="network_share"),
]
