"""The queue of one procedure: tickets handed out in arrival order, and an admitted count
that advances at the configured rate. A ticket is admitted once it is at most the
admitted count, so residents are let in first come, first served.

The admitted count never runs more than one second's worth of admissions (at least one)
ahead of the tickets handed out: a quiet hour does not bank thousands of admissions for
the next burst, and while nobody waits, an arrival is admitted at once.

With Redis as the cache (`CACHE_URL=redis://...`) the state is one hash per procedure
changed by a Lua script (atomic, timed by the Redis server's clock), so every web worker
and every machine agrees on the order. Without Redis (the embedded default, one process)
the same arithmetic runs in this process under a lock: fine for `make run`, wrong for
several workers, each of which would admit at the full rate (`check --deploy` already
refuses a per-process cache in a deployment).

Each queue has a generation, fixed when its state is created: when the state is lost
(evicted, expired, reset), numbering starts again at 1 under a new generation. Tickets
(the resident's cookie) and the record of tickets that went in are per generation, so a
ticket of the old queue neither waits for a number the new queue may never reach nor
takes the place of the new queue's holder of the same number; its holder gets a new
ticket."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any

# The state of a procedure nobody visited for a day is dropped (tickets live 6 hours).
STATE_TTL_SECONDS = 24 * 3600

_LUA = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) + tonumber(now_t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local take = tonumber(ARGV[3])
local gen = redis.call('HGET', KEYS[1], 'gen')
if not gen then
  -- A queue from before generations (a deploy during a rush) keeps its numbers as
  -- generation '0', which the tickets it handed out carry implicitly.
  if redis.call('EXISTS', KEYS[1]) == 1 then gen = '0' else gen = now_t[1] .. '.' .. now_t[2] end
end
local issued = tonumber(redis.call('HGET', KEYS[1], 'issued') or '0')
local admitted = tonumber(redis.call('HGET', KEYS[1], 'admitted') or tostring(burst))
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or tostring(now))
if now > last then
  admitted = admitted + (now - last) * rate
  last = now
end
if admitted > issued + burst then admitted = issued + burst end
local ticket = 0
if take == 1 then
  issued = issued + 1
  ticket = issued
end
redis.call('HSET', KEYS[1], 'issued', issued, 'admitted', tostring(admitted), 'last', tostring(last),
           'gen', gen)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {ticket, tostring(admitted), issued, gen}
"""


@dataclass(frozen=True)
class QueueState:
    ticket: int  # the ticket handed out by this call, 0 when none was asked for
    admitted: float  # tickets up to this number are admitted
    issued: int  # tickets handed out so far
    generation: str  # this queue's numbering: changes when its state was lost or reset

    def position(self, ticket: int) -> int:
        """How many tickets are still to be admitted up to and including this one (0:
        admitted)."""
        return max(0, ticket - int(self.admitted))


def _burst(rate_per_second: float) -> float:
    return max(1.0, rate_per_second)


class RedisCounters:
    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.script = client.register_script(_LUA)

    def advance(self, key: str, rate_per_second: float, take: bool) -> QueueState:
        ticket, admitted, issued, generation = self.script(
            keys=[self.prefix + key],
            args=[repr(rate_per_second), repr(_burst(rate_per_second)), int(take),
                  STATE_TTL_SECONDS],
        )  # fmt: skip
        if isinstance(generation, bytes):
            generation = generation.decode()
        return QueueState(int(ticket), float(admitted), int(issued), str(generation))

    def claim(self, key: str, generation: str, ticket: int, ttl_seconds: int) -> bool:
        """True the first time ticket `ticket` of generation `generation` of `key` goes in;
        False for a copy of it."""
        name = f"{self.prefix}{key}:in:{generation}:{ticket}"
        return bool(self.client.set(name, 1, nx=True, ex=ttl_seconds))

    def release(self, key: str, generation: str, ticket: int) -> None:
        """Undo a claim whose admission never reached the resident (the start view
        failed): their ticket goes in on their next try."""
        self.client.delete(f"{self.prefix}{key}:in:{generation}:{ticket}")

    def reset(self, key: str) -> None:
        self.client.delete(self.prefix + key)


class LocalCounters:
    """One process's queues (no Redis): the same arithmetic under a lock, bounded by the
    number of procedures that have a waiting room."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.made = itertools.count(1)
        self.state: dict[str, list[float]] = {}  # key -> [issued, admitted, last]
        self.generation: dict[str, str] = {}  # key -> the generation of its state
        self.claimed: dict[str, set[int]] = {}  # key -> tickets of that generation that went in

    def advance(self, key: str, rate_per_second: float, take: bool) -> QueueState:
        now = time.monotonic()
        burst = _burst(rate_per_second)
        with self.lock:
            if key not in self.state:
                self.state[key] = [0.0, burst, now]
                self.generation[key] = f"{time.time_ns():x}.{next(self.made)}"
                self.claimed.pop(key, None)
            issued, admitted, last = self.state[key]
            if now > last:
                admitted += (now - last) * rate_per_second
                last = now
            admitted = min(admitted, issued + burst)
            ticket = 0
            if take:
                issued += 1
                ticket = int(issued)
            self.state[key] = [issued, admitted, last]
            generation = self.generation[key]
        return QueueState(ticket, admitted, int(issued), generation)

    def claim(self, key: str, generation: str, ticket: int, ttl_seconds: int) -> bool:
        with self.lock:
            if self.generation.get(key) != generation:
                return False  # a ticket of a queue that is gone
            claimed = self.claimed.setdefault(key, set())
            if ticket in claimed:
                return False
            claimed.add(ticket)
            return True

    def release(self, key: str, generation: str, ticket: int) -> None:
        with self.lock:
            if self.generation.get(key) == generation:
                self.claimed.get(key, set()).discard(ticket)

    def reset(self, key: str) -> None:
        with self.lock:
            self.state.pop(key, None)
            self.generation.pop(key, None)
            self.claimed.pop(key, None)


_local = LocalCounters()
_per_thread = threading.local()


def local_counters_clear() -> None:
    """Forget this process's queues (tests)."""
    with _local.lock:
        _local.state.clear()
        _local.generation.clear()
        _local.claimed.clear()


def counters() -> RedisCounters | LocalCounters:
    """Redis when the default cache is Django's Redis cache, else this process's. (Django
    gives each thread its own cache backend and connection pool; so does this.)"""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    real = caches["default"]
    if not isinstance(real, RedisCache):
        return _local
    found: RedisCounters | None = getattr(_per_thread, "counters", None)
    if found is None or getattr(_per_thread, "backend", None) is not real:
        client = real._cache.get_client(None, write=True)  # type: ignore[attr-defined]
        found = RedisCounters(client, real.make_key("rush:q:"))
        _per_thread.counters = found
        _per_thread.backend = real
    return found
