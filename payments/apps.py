from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        from forms_engine import services

        from . import checks, consumers, presentation  # noqa: F401  (checks: registers)

        services.payment_details_register(presentation.payment_details)
        from forms_engine.outbox import outbox_consumer

        outbox_consumer("payments.mails", topics=set(consumers.MAIL_TOPICS))(
            consumers.payment_mails
        )
        outbox_consumer("payments.close", topics=set(consumers.CLOSING_TOPICS))(
            consumers.payment_close
        )
