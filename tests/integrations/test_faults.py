"""Faults with the real parts: a Redis server of the test's own, real Celery worker and
beat processes, a real HTTP receiver that records what it gets and applies each message
once (by webhook-id). Every filed submission arrives, and its effect happens once."""

from __future__ import annotations

import contextlib

import pytest
from django.db import connection
from django.urls import reverse

from forms_engine import models as m
from integrations.models import Delivery
from tests.flow.conftest import walk_to_confirm

from .conftest import CHILD, env_set
from .receiver import SECRET, Receiver
from .workers import RedisServer, beat, wait_for, worker, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


def database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@contextlib.contextmanager
def broker_for_this_process(settings, url: str):
    """Requests of this test process send their tasks to `url` (as the web processes of
    a deployment do); the Celery app's cached connection pools are dropped around it."""
    from config.celery import app

    def drop_pools() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    drop_pools()
    try:
        yield
    finally:
        drop_pools()


class Site:
    """Redis, a worker and beat, a receiver; the child allowance's webhook pointed at it."""

    def __init__(self, tmp_path, settings):
        self.tmp = tmp_path
        self.settings = settings
        self.redis = RedisServer(tmp_path / "redis")
        self.receiver = Receiver()
        self.env = worker_env(
            database_url(),
            self.redis.url,
            BENEFITS_URL=self.receiver.url,
            BENEFITS_SECRET=SECRET,
            MEDIA_ROOT=str(tmp_path / "media"),
            # A kept connection outlives any test here (a busy machine may take a minute).
            DB_CONN_MAX_AGE="3600",
        )
        self.workers: list = []
        self.beat = None

    def start(self) -> None:
        self.redis.start()
        self.beat = beat(self.env, self.tmp)
        self.start_worker()

    def start_worker(self):
        process = worker(self.env, self.tmp / f"worker-{len(self.workers)}.log")
        self.workers.append(process)
        return process

    @property
    def processes(self) -> list:
        return [*self.workers, *([self.beat] if self.beat else [])]

    def close(self) -> None:
        for process in self.processes:
            process.stop()
        self.redis.stop()
        self.receiver.close()


@pytest.fixture
def site(tmp_path, settings, loaded):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DELIVERY_ALLOW_LOOPBACK = True
    s = Site(tmp_path, settings)
    s.start()
    with (
        env_set(BENEFITS_URL=s.receiver.url, BENEFITS_SECRET=SECRET),
        broker_for_this_process(settings, s.redis.url),
    ):
        yield s
    s.close()


def file_child(client) -> m.Submission:
    """A child allowance filed through the pages (its file stored, scanned "not scanned"
    by the worker: no clamd is configured)."""
    from .conftest import with_card

    client.cookies.clear()
    confirm = walk_to_confirm(client, reverse("procedure_start", args=list(CHILD)), with_card)
    response = client.post(confirm)
    assert response.status_code == 302 and response["Location"].endswith("/done/")
    return m.Draft.objects.get(pk=confirm.split("/")[2]).submissions.get()


def delivered(sub: m.Submission) -> bool:
    return Delivery.objects.filter(submission=sub, state="delivered").exists()


def test_a_worker_killed_in_the_middle_of_a_delivery_leaves_it_delivered_with_one_effect(
    client, site
):
    site.receiver.holding = True  # the receiver holds the first request open
    sub = file_child(client)
    wait_for(site.receiver.held.is_set, "no delivery reached the receiver", site.processes)
    delivery = Delivery.objects.get(submission=sub)
    assert delivery.state == "delivering"
    site.workers[0].kill()  # SIGKILL, mid-request
    site.receiver.holding = False
    site.receiver.hold.set()  # the receiver answers (to nobody) and applies it
    site.start_worker()
    wait_for(lambda: delivered(sub), "never delivered after the kill", site.processes)
    requests = site.receiver.requests
    assert len(requests) >= 2  # the killed attempt, and the one after it
    assert {r.webhook_id for r in requests} == {delivery.idempotency_key}
    assert all(r.verified for r in requests)
    assert list(site.receiver.applied) == [delivery.idempotency_key]  # one effect


def test_filings_succeed_while_redis_is_down_and_are_delivered_once_it_is_back(client, site):
    site.redis.stop()
    subs = [file_child(client) for _ in range(3)]  # each request answered, nothing lost
    for sub in subs:
        assert sub.events.filter(topic="submission.completed").exists()
        assert m.OutboxConsumption.objects.filter(event__submission=sub).exists()
    assert not Delivery.objects.exists()  # nothing could run: no broker
    site.redis.start()  # the same port: worker and beat reconnect
    wait_for(
        lambda: all(delivered(s) for s in subs),
        "not all delivered after Redis came back",
        site.processes,
        timeout=90,
    )
    keys = set(Delivery.objects.values_list("idempotency_key", flat=True))
    assert set(site.receiver.applied) == keys and len(keys) == 3
    assert Delivery.objects.filter(submission__in=subs).count() == 3


def test_a_receiver_down_for_a_while_gets_the_delivery_once_it_is_back(client, site):
    port = site.receiver.port
    site.receiver.close()  # nothing listens there now
    sub = file_child(client)
    wait_for(
        lambda: Delivery.objects.filter(submission=sub, attempts__gte=2).exists(),
        "not retried",
        site.processes,
    )
    assert Delivery.objects.get(submission=sub).last_error == "connection"
    site.receiver = Receiver(port=port)  # back, on the same address
    wait_for(lambda: delivered(sub), "never delivered", site.processes)
    delivery = Delivery.objects.get(submission=sub)
    assert list(site.receiver.applied) == [delivery.idempotency_key]
    kinds = list(delivery.attempt_log.values_list("error_kind", flat=True))
    assert kinds[-1] == "" and set(kinds[:-1]) == {"connection"}


def test_a_receiver_answering_400_makes_it_dead_at_once_and_a_retry_by_hand_delivers_it(
    client, site
):
    from django.core.management import call_command

    site.receiver.script = [(400, {})]
    sub = file_child(client)
    wait_for(
        lambda: Delivery.objects.filter(submission=sub, state="dead").exists(),
        "not dead",
        site.processes,
    )
    delivery = Delivery.objects.get(submission=sub)
    assert delivery.attempts == 1 and delivery.last_status == 400
    assert site.receiver.applied == {}
    # The receiving side is fixed; staff retry it.
    call_command("deliveries_retry", str(delivery.pk), stdout=open("/dev/null", "w"))  # noqa: SIM115
    wait_for(lambda: delivered(sub), "never delivered after the retry", site.processes)
    assert list(site.receiver.applied) == [delivery.idempotency_key]
    assert len(site.receiver.requests) == 2


def test_a_worker_keeps_its_database_connection_from_task_to_task(client, site):
    """Celery's Django fixup would close it around every task (a new PostgreSQL backend
    each time, config/celery.py): the worker's backends stay the same from one filing's
    tasks (scan, hand-on, delivery) to the next's."""

    def worker_backends() -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
            )
            return {pid for (pid,) in cursor.fetchall()}

    first = file_child(client)
    wait_for(lambda: delivered(first), "never delivered", site.processes)
    before = worker_backends()
    assert before  # the worker's connection, kept
    later = [file_child(client) for _ in range(2)]
    wait_for(lambda: all(delivered(s) for s in later), "never delivered", site.processes)
    assert worker_backends() == before
