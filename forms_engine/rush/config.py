"""Which procedures queue, and at what rate.

A procedure's own `rush:` (stored on its live version as `ProcedureVersion.rush`) and the
site-wide emergency switch `RUSH_ADMIT_PER_MINUTE` combine: the stricter rate wins. The
config is read through the shared cache (one small query on a miss, none on a hit), so the
waiting page costs no database query, and kept a second in each process."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

CACHE_PREFIX = "rush:cfg:"


@dataclass(frozen=True)
class RushConfig:
    key: str  # "p:<org>/<slug>" or "b:<org>/<slug>"
    admit_per_minute: int
    admission_minutes: int
    title: dict[str, str]  # {"ja": ..., "en": ...} for the waiting page

    @property
    def admit_per_second(self) -> float:
        return self.admit_per_minute / 60.0


def procedure_key(org: str, slug: str) -> str:
    return f"p:{org}/{slug}"


def bundle_key(org: str, slug: str) -> str:
    return f"b:{org}/{slug}"


def _stricter(a: dict[str, int] | None, b: dict[str, int] | None) -> dict[str, int] | None:
    if a is None:
        return b
    if b is None:
        return a
    return {
        "admit_per_minute": min(a["admit_per_minute"], b["admit_per_minute"]),
        "admission_minutes": min(a["admission_minutes"], b["admission_minutes"]),
    }


def _site_wide() -> dict[str, int] | None:
    rate = int(getattr(settings, "RUSH_ADMIT_PER_MINUTE", 0) or 0)
    if rate <= 0:
        return None
    return {"admit_per_minute": rate, "admission_minutes": settings.RUSH_ADMISSION_MINUTES}


def _from_database(key: str) -> dict[str, Any] | None:
    """{"rush": {...} or None, "title": {...}} of a live procedure or bundle, or None when
    there is none (the view answers 404 as before)."""
    from forms_engine import models as m

    kind, _sep, rest = key.partition(":")
    org, _sep, slug = rest.partition("/")
    if kind == "p":
        row = (
            m.Procedure.objects.filter(
                organization__slug=org, slug=slug, live_version__isnull=False
            )
            .values_list("live_version__rush", "live_version__title")
            .first()
        )
        if row is None:
            return None
        return {"rush": row[0], "title": row[1]}
    bundle = (
        m.Bundle.objects.filter(organization__slug=org, slug=slug, live_version__isnull=False)
        .values_list("live_version__procedure_slugs", "live_version__title")
        .first()
    )
    if bundle is None:
        return None
    rush = None
    for rate in m.Procedure.objects.filter(
        organization__slug=org, slug__in=bundle[0], live_version__isnull=False
    ).values_list("live_version__rush", flat=True):
        rush = _stricter(rush, rate)
    return {"rush": rush, "title": bundle[1]}


# Each process keeps what it read from the shared cache this long: at the 9:00 rush a
# worker asks Redis about once a second per procedure, not once per arrival (a round trip
# cost the start page a quarter of its CPU). A load forgets it at once in its own process;
# other workers follow within this second.
LOCAL_SECONDS = 1.0
MISSING_SECONDS = 1
_LOCAL_MAX = 1024
_local: dict[str, tuple[float, dict[str, Any]]] = {}


def _entry(key: str, load: bool = True) -> dict[str, Any] | None:
    """The kept entry of `key`; on a miss of both caches, read from the database when
    `load`, else None."""
    now = time.monotonic()
    kept = _local.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    entry: dict[str, Any] | None = cache.get(CACHE_PREFIX + key)
    if entry is None:
        if not load:
            return None
        found = _from_database(key)
        entry = found or {"rush": None, "title": {}, "missing": True}
        # An unknown procedure is remembered briefly only: one published a moment later
        # (the console, at opening time) must not run without its waiting room meanwhile.
        seconds = settings.RUSH_CONFIG_CACHE_SECONDS if found else MISSING_SECONDS
        cache.set(CACHE_PREFIX + key, entry, seconds)
    if len(_local) >= _LOCAL_MAX:
        _local.clear()  # bounded: a script asking for made-up slugs
    _local[key] = (now + LOCAL_SECONDS, entry)
    return entry


def rush_config_local_clear() -> None:
    """Forget what this process kept (tests)."""
    _local.clear()


def rush_config(key: str) -> RushConfig | None:
    """The waiting room of this procedure or bundle, or None when it does not queue."""
    entry = _entry(key)
    assert entry is not None  # loaded
    return _config(key, entry)


def rush_config_kept(key: str) -> RushConfig | None:
    """As rush_config, from this process's and the shared cache alone, never the
    database: also None when neither holds the procedure's entry (the caller then goes
    the way that may read it, behind the overload guard)."""
    entry = _entry(key, load=False)
    return None if entry is None else _config(key, entry)


def _config(key: str, entry: dict[str, Any]) -> RushConfig | None:
    if entry.get("missing"):
        return None  # no such procedure: the view answers 404, nobody queues for it
    rush = _stricter(entry["rush"], _site_wide())
    if rush is None:
        return None
    return RushConfig(
        key=key,
        admit_per_minute=rush["admit_per_minute"],
        admission_minutes=rush["admission_minutes"],
        title=entry["title"] or {},
    )


def rush_config_forget(keys: list[str]) -> None:
    """After a load: the next request reads the new `rush:` at once, in every worker."""
    cache.delete_many([CACHE_PREFIX + k for k in keys])
    for k in keys:
        _local.pop(k, None)
