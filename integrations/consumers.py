"""The integrations room's outbox consumers (registered when imported, from ready())."""

from __future__ import annotations

from forms_engine import models as fm
from forms_engine.outbox import outbox_consumer
from forms_engine.topics import SUBMISSION_READY

from .deliveries import deliveries_create


@outbox_consumer("integrations.deliveries", topics={SUBMISSION_READY})
def deliveries_on_ready(event: fm.OutboxEvent) -> None:
    """A submission was handed on: its deliveries are created, in the transaction that
    records this event as consumed (so exactly once), and sent after it commits."""
    if event.submission_id is not None:
        deliveries_create(event.submission_id)
