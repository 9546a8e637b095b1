from django.apps import AppConfig


class FormsEngineConfig(AppConfig):
    name = "forms_engine"
    verbose_name = "Forms engine"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the procedures system check)
            topics,  # noqa: F401  (the labels of the core's outbox topics)
        )
        from .services import receipt_mails  # noqa: F401  (an outbox consumer)
