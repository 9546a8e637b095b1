"""Celery tasks of the payments app: reconciliation (beat) and the resident's mails."""

from __future__ import annotations

import logging

from celery import shared_task

from forms_engine import models as fm

from .mails import amount_set_mail, paid_mail, refund_mail
from .models import Refund
from .services import payments_reconcile as _reconcile

log = logging.getLogger(__name__)


@shared_task(name="payments.tasks.payments_reconcile")
def payments_reconcile() -> int:
    return _reconcile()


@shared_task(
    name="payments.tasks.payment_mail_send",
    autoretry_for=(OSError,),
    retry_backoff=60,
    max_retries=10,
)
def payment_mail_send(event_id: int) -> bool:
    """The mail an outbox event calls for (sent outside any transaction)."""
    event = fm.OutboxEvent.objects.select_related("submission__receipt").filter(pk=event_id).first()
    if event is None or event.submission is None:
        return False
    sub = event.submission
    if event.topic == "payment.amount_set":
        message = amount_set_mail(sub)
    elif event.topic == "payment.paid":
        message = paid_mail(sub, int(event.payload.get("amount", 0)))
    elif event.topic in ("payment.refunded", "payment.partially_refunded"):
        # The reason is on the refund record (the outbox payload holds no free text).
        refund = Refund.objects.filter(
            pk=event.payload.get("refund"), payment__submission=sub
        ).first()
        message = refund_mail(
            sub, int(event.payload.get("amount", 0)), refund.reason if refund else ""
        )
    else:
        return False
    if message is None:
        return False
    message.send()
    return True
