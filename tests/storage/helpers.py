"""What the storage tests share: a browser-like HTTP client for presigned URLs."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def http(method: str, url: str, data: bytes | None = None, headers: dict | None = None) -> Answer:
    """One request as a browser makes it with a presigned URL: no AWS credentials, no SDK."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers), exc.read())


def put_part(url: str, data: bytes) -> str:
    """PUT one part to its presigned URL; the ETag the browser must send back."""
    answer = http("PUT", url, data)
    assert answer.status == 200, (answer.status, answer.body[:300])
    return answer.headers["ETag"]
