from django.apps import AppConfig


class FormsEngineConfig(AppConfig):
    name = "forms_engine"
    verbose_name = "Forms engine"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the procedures system check)
            consumers,  # noqa: F401  (the core's own outbox consumers: resident mails)
            topics,  # noqa: F401  (the labels of the core's outbox topics)
        )
        from .services import receipt_mails  # noqa: F401  (an outbox consumer)

        _background_periodic_register()


def _background_periodic_register() -> None:
    """The embedded default's stand-in for beat (forms_engine/background.py): the outbox's
    leftovers (failed consumers due again, kicks lost) and the resident mails due."""
    from .background import background_periodic
    from .outbox import outbox_dispatch
    from .services.resident_mails import resident_mails_send

    background_periodic("outbox_dispatch", outbox_dispatch)
    background_periodic("resident_mails_send", resident_mails_send)
