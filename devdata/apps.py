from django.apps import AppConfig


class DevdataConfig(AppConfig):
    """Demo data, council-scale data and the benchmarks: tools for people
    working on the portal, installed by ``make run``, the tests and the
    benchmarks, and never in production (``portal.settings``)."""

    name = "devdata"
    verbose_name = "Demo data, scale data and benchmarks"
