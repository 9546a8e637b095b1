"""The webhook target: a signed, versioned JSON payload that the official
`standardwebhooks` library verifies; transient failures retried with backoff under the
same webhook-id, permanent ones dead at once; each attempt logged without personal data."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from forms_engine import models as m
from integrations.deliveries import delivery_retry, delivery_retry_delay, delivery_send
from integrations.models import Delivery

from .conftest import CARD_BYTES
from .receiver import SECRET

# Every test here runs on both paths of a delivery's writes (conftest.delivery_path).
pytestmark = pytest.mark.usefixtures("delivery_path")


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_webhook_is_delivered_signed_and_verified_by_the_official_library(
    child_delivery, receiver, client
):
    assert delivery_send(child_delivery.pk) == "delivered"
    (request,) = receiver.requests
    assert request.verified
    assert request.webhook_id == child_delivery.idempotency_key
    # Verified again here, with the official library, from the raw request.
    payload = Webhook(SECRET).verify(request.body, request.headers)
    assert request.headers["webhook-signature"].startswith("v1,")
    sub = child_delivery.submission
    data = payload["data"]
    assert payload["type"] == "submission.ready" and data["payload_version"] == "1"
    assert data["submission"]["receipt_number"] == sub.number
    assert data["procedure"]["slug"] == "child-allowance"
    assert data["procedure"]["version"] == sub.procedure_version.number
    assert data["answers"]["name"]["label"] == {"ja": "氏名", "en": "Name"}
    assert data["answers"]["name"]["value"] == sub.answers["name"]
    kids = data["answers"]["kids"]
    assert kids["fields"]["kid_name"]["label"]["ja"] == "氏名"
    assert kids["value"][0]["kid_name"] == sub.answers["kids"][0]["kid_name"]
    assert data["answers"]["insurance_card"]["value"] == [data["attachments"][0]["id"]]
    assert data["payment"] is None  # no fee in this procedure
    (attachment,) = data["attachments"]
    assert attachment["size"] == len(CARD_BYTES)
    assert attachment["sha256"] == hashlib.sha256(CARD_BYTES).hexdigest()
    assert attachment["url_expires_at"]
    # The short-lived URL serves the very file.
    downloaded = client.get(attachment["url"].removeprefix("http://127.0.0.1:8000"))
    assert downloaded.status_code == 200
    assert (
        hashlib.sha256(b"".join(downloaded.streaming_content)).hexdigest() == (attachment["sha256"])
    )
    child_delivery.refresh_from_db()
    assert child_delivery.state == "delivered" and child_delivery.delivered_at
    event = sub.events.get(topic="delivery.delivered")
    assert event.payload["integration"] == "benefits-system"
    (attempt,) = child_delivery.attempt_log.all()
    assert (attempt.number, attempt.status_code, attempt.error_kind) == (1, 200, "")


def test_the_payload_carries_the_payment_of_a_paid_submission(child_delivery, receiver):
    m.Submission.objects.filter(pk=child_delivery.submission_id).update(
        fee_total=3000, payment_status="paid", paid_amount=3000, paid_at=timezone.now()
    )
    delivery_send(child_delivery.pk)
    payment = receiver.requests[0].json()["data"]["payment"]
    assert payment["status"] == "paid" and payment["paid_amount"] == 3000
    assert payment["fee_total"] == 3000 and payment["paid_at"]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_transient_failure_is_retried_later_under_the_same_webhook_id(
    child_delivery, receiver, status
):
    receiver.script = [(status, {})]
    assert delivery_send(child_delivery.pk) == "retrying"
    child_delivery.refresh_from_db()
    assert child_delivery.last_status == status
    assert child_delivery.last_error == f"http_{status}"
    assert child_delivery.next_attempt_at > timezone.now() + timedelta(seconds=10)
    assert delivery_send(child_delivery.pk) == "retrying"  # not due: nothing sent
    assert len(receiver.requests) == 1
    make_due(child_delivery)
    assert delivery_send(child_delivery.pk) == "delivered"
    first, second = receiver.requests
    assert first.webhook_id == second.webhook_id == child_delivery.idempotency_key
    assert second.verified
    assert len(receiver.applied) == 1
    assert [a.error_kind for a in child_delivery.attempt_log.all()] == [f"http_{status}", ""]


def test_retry_after_is_honoured(child_delivery, receiver):
    receiver.script = [(429, {"Retry-After": "600"})]
    delivery_send(child_delivery.pk)
    child_delivery.refresh_from_db()
    assert child_delivery.next_attempt_at >= timezone.now() + timedelta(seconds=590)


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_any_other_4xx_is_dead_at_once(child_delivery, receiver, status, caplog):
    receiver.script = [(status, {})]
    with caplog.at_level(logging.INFO):
        assert delivery_send(child_delivery.pk) == "dead"
    child_delivery.refresh_from_db()
    assert (child_delivery.state, child_delivery.attempts) == ("dead", 1)
    make_due(child_delivery)
    assert delivery_send(child_delivery.pk) == "dead"  # no retry of its own
    assert len(receiver.requests) == 1
    # The log says which delivery and why, never what was filed.
    text = " ".join(r.getMessage() for r in caplog.records)
    assert str(child_delivery.pk) in text and f"http_{status}" in text
    for value in _answer_strings(child_delivery.submission):
        assert value not in text


def test_a_dead_delivery_retried_by_hand_is_delivered_once_with_the_same_id(
    child_delivery, receiver
):
    receiver.script = [(400, {})]
    assert delivery_send(child_delivery.pk) == "dead"
    assert delivery_retry(child_delivery.pk) is True
    assert delivery_retry(child_delivery.pk) is False  # not dead any more
    assert delivery_send(child_delivery.pk) == "delivered"
    assert [r.webhook_id for r in receiver.requests] == [child_delivery.idempotency_key] * 2
    assert len(receiver.applied) == 1
    assert child_delivery.attempt_log.count() == 2


def test_after_the_last_attempt_a_delivery_is_dead(child_delivery, receiver, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    receiver.script = [(503, {})] * 3
    for _ in range(2):
        assert delivery_send(child_delivery.pk) == "retrying"
        make_due(child_delivery)
    assert delivery_send(child_delivery.pk) == "dead"
    assert len(receiver.requests) == 3


def test_a_receiver_that_does_not_answer_in_time_is_retried(child_delivery, receiver, settings):
    settings.DELIVERY_READ_TIMEOUT = 0.3
    receiver.holding = True
    assert delivery_send(child_delivery.pk) == "retrying"
    receiver.hold.set()
    child_delivery.refresh_from_db()
    assert child_delivery.last_error == "timeout"
    assert child_delivery.attempt_log.get().duration_ms >= 300


def test_a_receiver_that_is_down_is_retried(child_delivery, receiver):
    receiver.close()  # nothing listens on its port any more
    assert delivery_send(child_delivery.pk) == "retrying"
    child_delivery.refresh_from_db()
    assert child_delivery.last_error == "connection"


def test_retry_delays_grow_exponentially_with_jitter_up_to_a_cap(settings):
    settings.DELIVERY_RETRY_FIRST_SECONDS = 10
    settings.DELIVERY_RETRY_MAX_SECONDS = 1000
    for attempts, base in [(1, 10), (2, 20), (3, 40), (8, 1000), (30, 1000)]:
        delays = {delivery_retry_delay(attempts).total_seconds() for _ in range(20)}
        assert all(base / 2 <= d <= base for d in delays)
        assert len(delays) > 1  # jitter
    assert delivery_retry_delay(1, retry_after=500).total_seconds() >= 500


def test_the_attempt_log_and_the_delivery_hold_no_personal_data(child_delivery, receiver):
    receiver.script = [(503, {})]
    delivery_send(child_delivery.pk)
    child_delivery.refresh_from_db()
    stored = " ".join(
        str(v)
        for row in [
            *child_delivery.attempt_log.values(),
            Delivery.objects.filter(pk=child_delivery.pk).values()[0],
        ]
        for v in row.values()
    )
    for value in _answer_strings(child_delivery.submission):
        assert value not in stored


def _answer_strings(sub: m.Submission) -> list[str]:
    found: list[str] = []

    def walk(value):
        if isinstance(value, str) and len(value) >= 3:
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk({k: v for k, v in sub.answers.items() if k != "insurance_card"})
    return [v for v in found if not v.isdigit() and v not in ("true", "false", "yes", "no")]


def test_the_poller_queues_a_retry_as_soon_as_it_is_due(
    child_delivery, receiver, settings, monkeypatch
):
    from integrations import deliveries

    settings.DELIVERY_REQUEUE_SECONDS = 300
    queued: list = []
    monkeypatch.setattr(deliveries, "deliveries_enqueue", queued.extend)
    Delivery.objects.filter(pk=child_delivery.pk).update(enqueued_at=timezone.now())
    assert deliveries.deliveries_enqueue_due() == 0  # just queued: not again
    receiver.script = [(503, {})]
    assert delivery_send(child_delivery.pk) == "retrying"
    assert deliveries.deliveries_enqueue_due() == 0  # not due yet
    make_due(child_delivery)
    assert deliveries.deliveries_enqueue_due() == 1  # due: queued at once
    assert queued == [child_delivery.pk]
    assert deliveries.deliveries_enqueue_due() == 0  # and only once


def test_a_fault_of_ours_is_retried_and_logged_without_its_message(
    child_delivery, receiver, monkeypatch, caplog
):
    def broken(delivery):
        raise ValueError(f"cannot read {delivery.submission.answers['name']}")

    monkeypatch.setattr("integrations.webhooks.send.webhook_payload", broken)
    with caplog.at_level(logging.INFO):
        assert delivery_send(child_delivery.pk) == "retrying"
    child_delivery.refresh_from_db()
    assert child_delivery.last_error == "ValueError"
    text = " ".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "ValueError" in text and "cannot read" not in text
    for value in _answer_strings(child_delivery.submission):
        assert value not in text
