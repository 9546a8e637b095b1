"""The queue's arithmetic, on Redis and in-process: tickets in arrival order, admissions at
the configured rate, and a quiet hour banks no admissions for the next rush."""

from __future__ import annotations

import pytest

from forms_engine.rush import counters as c

KEY = "p:test-org/quiet"


@pytest.fixture(params=["local", "redis"])
def queue(request, monkeypatch):
    if request.param == "local":
        local = c.LocalCounters()
        clock = [1000.0]
        monkeypatch.setattr(c.time, "monotonic", lambda: clock[0])

        def idle(seconds: float) -> None:
            clock[0] += seconds

        yield local, idle
        return
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    client.flushdb()
    remote = c.RedisCounters(client, "test:")

    def idle(seconds: float) -> None:  # move the state's clock back instead
        last = float(client.hget("test:" + KEY, "last"))
        client.hset("test:" + KEY, "last", repr(last - seconds))

    yield remote, idle
    client.flushdb()


def test_tickets_are_handed_out_in_order_and_admitted_at_the_rate(queue):
    q, idle = queue
    tickets = [q.advance(KEY, 1.0, take=True).ticket for _ in range(5)]
    assert tickets == [1, 2, 3, 4, 5]
    state = q.advance(KEY, 1.0, take=False)
    assert state.position(1) == 0  # one second's worth of burst
    assert state.position(2) >= 1 and state.position(5) >= 4
    idle(2.0)
    state = q.advance(KEY, 1.0, take=False)
    assert state.position(3) == 0 and state.position(4) >= 1


def test_a_quiet_hour_banks_no_admissions(queue):
    q, idle = queue
    q.advance(KEY, 1.0, take=True)
    idle(3600.0)
    admitted = [q.advance(KEY, 1.0, take=True) for _ in range(10)]
    in_at_once = [s for s in admitted if s.position(s.ticket) == 0]
    # After an hour without anyone, one second's worth (1) gets in at once, not 3,600.
    assert len(in_at_once) <= 2


def test_a_reset_queue_numbers_again_under_a_new_generation(queue):
    q, _idle = queue
    first = q.advance(KEY, 1.0, take=True)
    assert first.ticket == 1 and q.claim(KEY, first.generation, 1, 60)
    assert not q.claim(KEY, first.generation, 1, 60)  # a copy of ticket 1
    assert q.advance(KEY, 1.0, take=False).generation == first.generation
    q.reset(KEY)
    again = q.advance(KEY, 1.0, take=True)
    assert again.ticket == 1 and again.generation != first.generation
    # The new ticket 1 goes in once; the old queue's number is no claim on it.
    assert q.claim(KEY, again.generation, 1, 60)
    assert not q.claim(KEY, again.generation, 1, 60)
