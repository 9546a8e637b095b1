"""A local Stripe-like HTTP peer for the payment tests.

The real `stripe` library talks to it over HTTP (settings.STRIPE_API_BASE). It implements
the endpoints the payments app calls, records every request, and refuses (400, the way
Stripe answers) a request that breaks what we promise Stripe: an idempotency key on every
create, currency `jpy` on every line, the methods and metadata expected, the amount
expected. It also serves a stand-in for the hosted Checkout page (for the browser test):
"pay" completes the session and redirects to its success URL, "cancel" to its cancel URL.

Tests drive what happens at Stripe's side with `complete`, `complete_konbini`,
`konbini_paid`, `konbini_expired` and `expire`, and build the events Stripe would send
with `event`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


def form_decode(body: str) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt_is_index = not last and parts[i + 1].isdigit()
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    if node[index] is None:
                        node[index] = [] if nxt_is_index else {}
                    node = node[index]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if nxt_is_index else {})
    return root


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, Any]


@dataclass
class Expectations:
    """What the next checkout must ask for (None: not checked)."""

    amount: int | None = None
    methods: list[str] | None = None
    receipt_number: str | None = None
    submission_id: str | None = None
    api_key: str | None = None
    connected_account: str | None = None


@dataclass
class StripePeer:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    expect: Expectations = field(default_factory=Expectations)
    refusals: list[str] = field(default_factory=list)
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.sessions.clear()
            self.intents.clear()
            self.refunds.clear()
            self.idempotent.clear()
            self.refusals.clear()
            self.expect = Expectations()
            self.down = False

    # What happens at Stripe's side.

    def _intent(self, session: dict[str, Any], status: str) -> dict[str, Any]:
        pi_id = f"pi_test_{next(self.counter)}"
        intent = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": session["amount_total"],
            "amount_received": session["amount_total"] if status == "succeeded" else 0,
            "currency": "jpy",
            "status": status,
            "metadata": session["metadata"],
            "next_action": None,
        }
        self.intents[pi_id] = intent
        session["payment_intent"] = pi_id
        return intent

    def complete(self, session_id: str) -> None:
        """The resident paid by card."""
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid")
            self._intent(session, "succeeded")

    def complete_konbini(self, session_id: str) -> dict[str, Any]:
        """The resident chose konbini: a slip is issued, nothing paid yet."""
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="unpaid")
            intent = self._intent(session, "requires_action")
            intent["next_action"] = {
                "type": "konbini_display_details",
                "konbini_display_details": {
                    "expires_at": int(time.time()) + 3 * 86400,
                    "hosted_voucher_url": f"{self.url}/vouchers/{intent['id']}",
                    "stores": {
                        "familymart": {"confirmation_number": "12345", "payment_code": "123456"},
                        "lawson": {"confirmation_number": "67890", "payment_code": None},
                    },
                },
            }
            return intent

    def konbini_paid(self, session_id: str) -> None:
        with self.lock:
            session = self.sessions[session_id]
            session["payment_status"] = "paid"
            intent = self.intents[session["payment_intent"]]
            intent.update(status="succeeded", amount_received=intent["amount"], next_action=None)

    def konbini_expired(self, session_id: str) -> None:
        with self.lock:
            session = self.sessions[session_id]
            intent = self.intents[session["payment_intent"]]
            intent.update(status="canceled", next_action=None)

    def expire(self, session_id: str) -> None:
        with self.lock:
            self.sessions[session_id]["status"] = "expired"

    def event(self, event_type: str, session_id: str, event_id: str | None = None) -> str:
        """The JSON body of the event Stripe would send now about this session."""
        with self.lock:
            obj = json.loads(json.dumps(self.sessions[session_id]))
        return json.dumps(
            {
                "id": event_id or f"evt_test_{next(self.counter)}",
                "object": "event",
                "type": event_type,
                "created": int(time.time()),
                "livemode": False,
                "api_version": "2024-06-20",
                "data": {"object": obj},
            }
        )

    def checkout_requests(self) -> list[Recorded]:
        return [
            r for r in self.requests if r.method == "POST" and r.path == "/v1/checkout/sessions"
        ]

    # The HTTP side.

    def _refuse(self, message: str) -> tuple[int, dict[str, Any]]:
        self.refusals.append(message)
        return 400, {"error": {"type": "invalid_request_error", "message": message}}

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: str
    ) -> tuple[int, dict[str, Any]]:
        params = form_decode(body) if method == "POST" else dict(parse_qsl(urlsplit(path).query))
        path = urlsplit(path).path
        with self.lock:
            self.requests.append(Recorded(method, path, headers, params))
            if self.down:
                return 500, {"error": {"type": "api_error", "message": "down"}}
            expected_key = self.expect.api_key
            if expected_key and headers.get("authorization") != f"Bearer {expected_key}":
                return 401, {"error": {"type": "invalid_request_error", "message": "bad key"}}
            if self.expect.connected_account and (
                headers.get("stripe-account") != self.expect.connected_account
            ):
                return self._refuse("wrong connected account")
            if method == "POST":
                key = headers.get("idempotency-key")
                if not key:
                    return self._refuse("no idempotency key on a create")
                if key in self.idempotent:
                    seen_body, seen_response = self.idempotent[key]
                    if seen_body != body:
                        return self._refuse("idempotency key reused with other parameters")
                    return 200, seen_response
            status, response = self._route(method, path, params)
            if method == "POST" and status == 200:
                self.idempotent[headers["idempotency-key"]] = (body, response)
            return status, response

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._session_create(params)
        match = re.fullmatch(r"/v1/checkout/sessions/(cs_[\w]+)(/expire)?", path)
        if match:
            session = self.sessions.get(match[1])
            if session is None:
                return 404, {"error": {"type": "invalid_request_error", "message": "no such"}}
            if match[2]:
                if method != "POST":
                    return self._refuse("expire is a POST")
                if session["status"] != "open":
                    return self._refuse("only an open session can be expired")
                session["status"] = "expired"
            return 200, json.loads(json.dumps(session))
        match = re.fullmatch(r"/v1/payment_intents/(pi_[\w]+)(/cancel)?", path)
        if match:
            intent = self.intents.get(match[1])
            if intent is None:
                return 404, {"error": {"type": "invalid_request_error", "message": "no such"}}
            if match[2]:
                if method != "POST":
                    return self._refuse("cancel is a POST")
                if intent["status"] not in ("requires_action", "requires_payment_method"):
                    return self._refuse("this payment intent cannot be canceled")
                intent.update(status="canceled", next_action=None)
            return 200, json.loads(json.dumps(intent))
        if method == "POST" and path == "/v1/refunds":
            return self._refund_create(params)
        return 404, {"error": {"type": "invalid_request_error", "message": f"no route {path}"}}

    def _session_create(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if params.get("mode") != "payment":
            return self._refuse("mode must be payment")
        lines = params.get("line_items") or []
        if not lines:
            return self._refuse("no line items")
        total = 0
        for line in lines:
            price = line.get("price_data") or {}
            if price.get("currency") != "jpy":
                return self._refuse("currency must be jpy")
            unit = price.get("unit_amount", "")
            if not str(unit).isdigit() or int(unit) <= 0:
                return self._refuse("unit_amount must be a positive integer (yen)")
            if not (price.get("product_data") or {}).get("name"):
                return self._refuse("line item without a name")
            total += int(unit) * int(line.get("quantity", "1"))
        methods = params.get("payment_method_types") or []
        if not methods or not set(methods) <= {"card", "konbini"}:
            return self._refuse("payment_method_types must be card and/or konbini")
        exp = self.expect
        if exp.amount is not None and total != exp.amount:
            return self._refuse(f"amount {total} is not {exp.amount}")
        if exp.methods is not None and methods != exp.methods:
            return self._refuse(f"methods {methods} are not {exp.methods}")
        metadata = params.get("metadata") or {}
        for name in ("receipt_number", "submission_id", "payment_id"):
            if not metadata.get(name):
                return self._refuse(f"metadata.{name} missing")
        if exp.receipt_number is not None and metadata["receipt_number"] != exp.receipt_number:
            return self._refuse("wrong receipt number in metadata")
        if exp.submission_id is not None and metadata["submission_id"] != exp.submission_id:
            return self._refuse("wrong submission id in metadata")
        for name in ("success_url", "cancel_url"):
            if not str(params.get(name, "")).startswith("http"):
                return self._refuse(f"{name} must be absolute")
        expires = int(params.get("expires_at", "0"))
        if not time.time() + 29 * 60 <= expires <= time.time() + 24 * 3600 + 60:
            return self._refuse("expires_at must be 30 minutes to 24 hours away")
        if "konbini" in methods and not (params.get("payment_method_options") or {}).get("konbini"):
            return self._refuse("konbini options missing")
        session_id = f"cs_test_{next(self.counter)}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"{self.url}/checkout/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": total,
            "currency": "jpy",
            "mode": "payment",
            "payment_method_types": methods,
            "metadata": metadata,
            "client_reference_id": params.get("client_reference_id"),
            "payment_intent": None,
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "expires_at": expires,
            "locale": params.get("locale"),
        }
        self.sessions[session_id] = session
        return 200, json.loads(json.dumps(session))

    def _refund_create(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return self._refuse("no succeeded payment intent to refund")
        amount = int(params.get("amount", intent["amount_received"]))
        done = sum(
            r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"]
        )
        if amount <= 0 or done + amount > intent["amount_received"]:
            return self._refuse("refund larger than what is left")
        refund_id = f"re_test_{next(self.counter)}"
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "currency": "jpy",
            "payment_intent": intent["id"],
            "status": "succeeded",
            "reason": params.get("reason"),
        }
        self.refunds[refund_id] = refund
        return 200, refund

    # The stand-in for the hosted Checkout page (browser test).

    def checkout_page(self, session_id: str) -> str:
        session = self.sessions.get(session_id)
        if session is None:
            return "<p>no such session</p>"
        return (
            '<!doctype html><html lang="en"><head><title>Checkout</title>'
            '<link rel="icon" href="data:,"></head><body><main>'
            f"<h1>Pay {session['amount_total']} JPY</h1>"
            f'<form method="post" action="/checkout/{session_id}/pay">'
            '<button type="submit" id="peer-pay">Pay</button></form>'
            f'<a id="peer-cancel" href="{session["cancel_url"]}">Cancel</a></main></body></html>'
        )


def serve(peer: StripePeer) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", f"req_{next(peer.counter)}")
            self.end_headers()
            self.wfile.write(body)

        def _api(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            path = self.path
            if path.startswith("/checkout/"):
                return self._page(method, path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, response = peer.handle(method, path, headers, body)
            self._answer(status, json.dumps(response).encode(), "application/json")

        def _page(self, method: str, path: str) -> None:
            match = re.fullmatch(r"/checkout/(cs_\w+)(/pay)?", path)
            if not match:
                return self._answer(404, b"", "text/plain")
            if method == "POST" and match[2]:
                peer.complete(match[1])
                self.send_response(303)
                self.send_header("Location", peer.sessions[match[1]]["success_url"])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._answer(200, peer.checkout_page(match[1]).encode(), "text/html; charset=utf-8")

        def do_GET(self) -> None:  # noqa: N802
            self._api("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._api("POST")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    peer.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
