from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        from forms_engine import services

        from . import consumers, presentation

        services.payment_details_register(presentation.payment_details)
        try:
            from forms_engine.outbox import (  # type: ignore[import-not-found,unused-ignore]
                outbox_consumer,
            )
        except ImportError:  # TEMPORARY: until i8core's OUTBOX-API-READY is merged
            return
        outbox_consumer("payments.mails", topics=set(consumers.MAIL_TOPICS))(
            consumers.payment_mails
        )
