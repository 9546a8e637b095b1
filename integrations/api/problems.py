"""Errors as RFC 9457 problem details (`application/problem+json`)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

PROBLEM_TYPE_BASE = "https://denshi-shinsei.example/problems/"


def problem(status: int, slug: str, title: str, detail: str = "", **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/problem+json",
    )
    response["Cache-Control"] = "no-store"
    return response
