"""The waiting page: light (no database, no session, under 2 KB before compression), in the
resident's language, refreshing itself without JavaScript (a `Refresh` header) and more
often with `static/js/waiting.js`, which asks `.../queue/` for the resident's place.

The page is rendered once per language and procedure (title and URLs) and kept in a small
per-process cache; each response only fills in the resident's numbers. The response itself
is `no-store`: it carries the resident's place and, for a newcomer, their ticket cookie."""

from __future__ import annotations

import json
import math
from functools import lru_cache

from django.http import HttpResponse
from django.template import loader
from django.utils import translation

from .config import RushConfig

# The page (no JavaScript) reloads after the estimated wait, within these bounds; the
# script asks for the place more often, within its own. A resident whose turn is near
# comes back when it is due; one far back comes back once a minute (their wait is shown in
# minutes), not every few seconds: at the 9:00 rush the waiting pages of thousands of
# queued residents are most of the server's requests (docs/performance.md, the bursts).
REFRESH_MIN_SECONDS, REFRESH_MAX_SECONDS = 5, 60
# Every pause is longer than gunicorn's keepalive (2 s), so an idle connection is closed
# before the client sends on it again, never at that moment.
POLL_MIN_SECONDS, POLL_MAX_SECONDS = 3, 20


def wait_seconds(position: int, config: RushConfig) -> float:
    return position / config.admit_per_second


def wait_minutes(position: int, config: RushConfig) -> int:
    return max(1, math.ceil(wait_seconds(position, config) / 60))


def refresh_seconds(position: int, config: RushConfig) -> int:
    wait = wait_seconds(position, config)
    return int(min(REFRESH_MAX_SECONDS, max(REFRESH_MIN_SECONDS, wait)))


def poll_seconds(position: int, config: RushConfig) -> int:
    wait = wait_seconds(position, config)
    return int(min(POLL_MAX_SECONDS, max(POLL_MIN_SECONDS, wait / 2)))


@lru_cache(maxsize=512)  # languages x procedures with a waiting room: bounded
def _shell(language: str, title: str, start_url: str, status_url: str) -> str:
    with translation.override(language):
        return loader.get_template("forms_engine/waiting.html").render(
            {"title": title, "start_url": start_url, "status_url": status_url}
        )


def shell_cache_clear() -> None:
    _shell.cache_clear()


def _title(config: RushConfig, language: str) -> str:
    return config.title.get(language) or config.title.get("ja") or ""


def waiting_response(
    config: RushConfig, position: int, start_url: str, status_url: str, language: str = ""
) -> HttpResponse:
    """The page in `language` (default: the active one)."""
    language = language or translation.get_language() or "ja"
    body = (
        _shell(language, _title(config, language), start_url, status_url)
        .replace("@@POSITION@@", str(position))
        .replace("@@MINUTES@@", str(wait_minutes(position, config)))
        .replace("@@POLL@@", str(poll_seconds(position, config)))
    )
    response = HttpResponse(body)
    response["Refresh"] = f"{refresh_seconds(position, config)}; url={start_url}"
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response


def status_response(position: int | None, config: RushConfig | None) -> HttpResponse:
    """The script's answer: {"admitted": true} (go to the start page: admitted, or no
    valid ticket, which the start page hands out), else the place and wait."""
    if position is None or config is None or position == 0:
        data: dict[str, object] = {"admitted": True}
    else:
        data = {
            "admitted": False,
            "position": position,
            "minutes": wait_minutes(position, config),
            "poll": poll_seconds(position, config),
        }
    response = HttpResponse(json.dumps(data), content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response
