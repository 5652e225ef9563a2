"""The project's URLs plus the benchmark's baseline page.

Only the portal that the benchmarks start uses it (``devdata.bench.settings``);
``portal.urls`` never routes the baseline, so production never serves it.
"""

from django.urls import path

from devdata.bench.views import baseline
from portal.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("bench/baseline/", baseline, name="bench_baseline"),
    *project_urlpatterns,
]
