"""A real HTTP receiver of webhooks on a loopback port, as a back-office system would run
one: it records every request, verifies it with the official `standardwebhooks` library,
and applies each message once (deduplicated by webhook-id, as the README tells receivers
to). Its answers can be scripted (status codes, Retry-After, holding a request open)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int
    at: float = field(default_factory=time.monotonic)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, secret: str = SECRET, port: int = 0) -> None:
        self.secret = secret
        self.requests: list[Received] = []
        self.applied: dict[str, Any] = {}  # webhook-id -> payload, applied once
        self.script: list[tuple[int, dict[str, str]]] = []  # answers to give first
        self.hold = threading.Event()  # while clear and holding: requests wait
        self.holding = False
        self.held = threading.Event()  # set when a request is being held
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if receiver.holding:
                    receiver.held.set()
                    receiver.hold.wait(60)
                status, extra = receiver._answer(headers, body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/submissions"

    def _answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        try:
            payload = Webhook(self.secret).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            payload, verified = None, False
        with self.lock:
            status, extra = self.script.pop(0) if self.script else (200, {})
            if not verified:
                status, extra = 401, {}
            self.requests.append(Received(headers, body, verified, status))
            if 200 <= status < 300 and headers["webhook-id"] not in self.applied:
                self.applied[headers["webhook-id"]] = payload
        return status, extra

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()
