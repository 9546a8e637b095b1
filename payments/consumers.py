"""The payments app reads the core's outbox: the `payment.*` events the core writes when
staff set a fee, a fee is paid (the resident's receipt) or a refund is made call for a mail to the resident. The mail leaves in
its own task once the consumer's transaction commits (so it is sent once per event)."""

from __future__ import annotations

from django.db import transaction

from forms_engine import models as fm

MAIL_TOPICS = frozenset(
    {"payment.amount_set", "payment.paid", "payment.refunded", "payment.partially_refunded"}
)


def payment_mails(event: fm.OutboxEvent) -> None:
    if event.topic not in MAIL_TOPICS:
        return
    from .tasks import payment_mail_send

    event_id = event.pk
    transaction.on_commit(lambda: payment_mail_send.delay(event_id))


# A submission withdrawn or rejected (contract 4, i9b) no longer asks for money: its open
# checkout or konbini slip is stopped.
CLOSING_TOPICS = frozenset({"submission.withdrawn", "submission.rejected"})


def payment_close(event: fm.OutboxEvent) -> None:
    if event.topic not in CLOSING_TOPICS or event.submission_id is None:
        return
    from .services import payments_close

    payments_close(event.submission_id)
