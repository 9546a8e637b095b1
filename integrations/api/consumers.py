"""The pull API's outbox consumer: a submission handed on (`submission.ready`) joins the
feed, in the transaction that records the event consumed (so exactly once)."""

from __future__ import annotations

from forms_engine import models as fm
from forms_engine.outbox import outbox_consumer
from forms_engine.topics import SUBMISSION_READY

from .feed import feed_append


@outbox_consumer("integrations.pull_feed", topics={SUBMISSION_READY})
def feed_on_ready(event: fm.OutboxEvent) -> None:
    if event.submission_id is not None:
        feed_append(event.submission_id)
