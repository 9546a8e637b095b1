from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from . import consumers  # noqa: F401  (registers the outbox consumers)
        from .api import consumers as api_consumers  # noqa: F401  (the pull API's feed)
        from .registry import integration_types_load

        integration_types_load()
