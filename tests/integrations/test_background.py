"""The embedded default (no broker): the work a filing kicks on commit runs in background
threads of the serving process, so the resident's completion page never waits for a
back-office receiver; retries happen there too, without beat."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from forms_engine import models as m
from forms_engine.background import background_stop
from integrations.models import Delivery
from tests.flow.conftest import walk_to_confirm

from .conftest import CHILD, with_card

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def in_background(settings, loaded, child_webhook, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.TASKS_IN_BACKGROUND = True
    settings.BACKGROUND_PERIODIC_SECONDS = 0.2
    settings.DELIVERY_RETRY_FIRST_SECONDS = 0.2
    settings.DELIVERY_RETRY_MAX_SECONDS = 0.5
    try:
        yield child_webhook
    finally:
        child_webhook.hold.set()
        background_stop()


def _file(client) -> tuple[m.Submission, float]:
    """A child allowance filed; the submission and the seconds its final POST took."""
    confirm = walk_to_confirm(client, reverse("procedure_start", args=list(CHILD)), with_card)
    start = time.monotonic()
    response = client.post(confirm)
    took = time.monotonic() - start
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"].endswith("/done/")
    draft_id = confirm.split("/")[2]
    return m.Submission.objects.get(draft_id=draft_id), took


def _wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_filing_never_waits_for_a_receiver_that_does_not_answer(client, in_background):
    receiver = in_background
    receiver.holding = True  # every request waits until the test lets it go
    sub, took = _file(client)

    # Well under a second on a quiet machine; the bound is generous for a loaded one, and
    # far below the webhook's timeouts (5 s + 30 s) that the request used to wait for.
    assert took < 5.0, f"the filing took {took:.1f} s"
    # The delivery is on its way, in a background thread, held by the receiver.
    assert receiver.held.wait(60), "the delivery never reached the receiver"
    assert not receiver.applied
    receiver.hold.set()
    assert _wait_for(
        lambda: Delivery.objects.filter(submission=sub, state=Delivery.State.DELIVERED).exists()
    )
    assert len(receiver.applied) == 1


def test_the_embedded_default_retries_due_deliveries_without_beat(client, in_background):
    receiver = in_background
    receiver.script = [(503, {}), (503, {})]  # down at first
    sub, _ = _file(client)

    # Only the background ticker can send it again (no beat, no worker, no command).
    assert _wait_for(
        lambda: Delivery.objects.filter(submission=sub, state=Delivery.State.DELIVERED).exists()
    ), [r.status for r in receiver.requests]
    delivery = Delivery.objects.get(submission=sub)
    assert delivery.attempt_count == 3
    assert [r.status for r in receiver.requests] == [503, 503, 200]
    assert len({r.webhook_id for r in receiver.requests}) == 1
    assert len(receiver.applied) == 1


def test_a_periodic_job_cancelled_by_a_stop_runs_again_after_a_restart(settings):
    """A pool stopped while a periodic job waited in its queue cancels it before its
    `finally` runs: the next pool must not take that job for still running."""
    from forms_engine import background

    settings.TASKS_IN_BACKGROUND = True
    settings.BACKGROUND_PERIODIC_SECONDS = 0.05
    ran = []
    background._PERIODIC["test-job"] = background._Periodic("test-job", lambda: ran.append(1))
    try:
        background._PERIODIC["test-job"].running = True  # as a cancelled run leaves it
        background.background_stop()
        background.background_start()
        assert _wait_for(lambda: len(ran) > 0, seconds=10)
    finally:
        background.background_stop()
        del background._PERIODIC["test-job"]
