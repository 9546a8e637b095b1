from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from forms_engine.outbox import register_topic_label

        from . import consumers  # noqa: F401  (registers the outbox consumers)
        from .api import consumers as api_consumers  # noqa: F401  (the pull API's feed)
        from .deliveries import TOPIC_DEAD, TOPIC_DELIVERED, TOPIC_RETRIED
        from .registry import integration_types_load

        integration_types_load()
        # Without beat (the embedded default): deliveries due again are sent from the
        # serving process's background threads (forms_engine/background.py).
        from forms_engine.background import background_periodic

        from .deliveries import deliveries_enqueue_due

        background_periodic("deliveries_enqueue_due", deliveries_enqueue_due)
        register_topic_label(TOPIC_DELIVERED, _("Delivered to a back-office system"))
        register_topic_label(TOPIC_DEAD, _("Delivery to a back-office system failed"))
        register_topic_label(TOPIC_RETRIED, _("Delivery sent again by staff"))
