"""The core's own outbox consumers (registered when imported, from ready())."""

from __future__ import annotations

from forms_engine import models as m
from forms_engine.outbox import outbox_consumer
from forms_engine.services.resident_mails import MAIL_TOPICS, resident_mail_queue


@outbox_consumer("forms_engine.resident_mails", topics=set(MAIL_TOPICS))
def resident_mails_on_review(event: m.OutboxEvent) -> None:
    """A step of the review: its mail to the resident is queued in the transaction that
    records this event as consumed (so once), and sent by its own task after it commits
    (services.resident_mails, retried like the receipt mails)."""
    resident_mail_queue(event)
