from django.apps import AppConfig


class CpvConfig(AppConfig):
    name = "cpv"
    verbose_name = "CPV codes"
