from django.apps import AppConfig


class VerityConfig(AppConfig):
    name = "verity"
    verbose_name = "Verity"

