"""One webhook POST: the payload built, signed (Standard Webhooks), sent to the checked
address with timeouts, and the answer sorted into delivered, worth a retry, or dead.

urllib3 (the HTTP layer under `requests`) is used directly: its connection pools take the
address to connect to apart from the host name used for the Host header, TLS SNI and the
certificate check, which is what pinning the checked address takes. No redirect is
followed (it could lead anywhere), and nothing of the answer is kept but its status.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import certifi
import urllib3
from django.conf import settings
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from integrations.targets.base import DeliveryError

from .addresses import Destination, destination_resolve
from .payload import webhook_payload
from .signing import SecretInvalid, webhook_headers

if TYPE_CHECKING:
    from integrations.models import Delivery

USER_AGENT = "denshi-shinsei-webhooks/1"


def webhook_send(delivery: Delivery, config: dict[str, Any]) -> int:
    """POST the delivery's payload; its status code when 2xx, else DeliveryError."""
    destination = destination_resolve(str(config["url"]))
    body = json.dumps(webhook_payload(delivery), ensure_ascii=False, separators=(",", ":"))
    data = body.encode()
    try:
        headers = webhook_headers(
            str(config["secret"]), delivery.idempotency_key, int(time.time()), data
        )
    except SecretInvalid:
        raise DeliveryError("secret_invalid") from None
    headers.update(
        {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "host": _host_header(destination),
        }
    )
    status, retry_after = _post(destination, data, headers)
    return _judge(status, retry_after)


#: Open connections kept per thread (a worker thread sends one delivery at a time), keyed
#: by the checked address they go to together with the name they speak to: a pool only
#: ever connects to the address of its key, so pinning holds for a reused connection too,
#: and a name that now resolves elsewhere gets a pool (and a connection) of its own.
_POOLS = threading.local()
POOLS_PER_THREAD = 16

PoolKey = tuple[str, str, int, str]


def _pool(destination: Destination) -> urllib3.HTTPConnectionPool:
    pools: OrderedDict[PoolKey, urllib3.HTTPConnectionPool] | None = getattr(_POOLS, "pools", None)
    if pools is None:
        pools = _POOLS.pools = OrderedDict()
    key = (destination.scheme, destination.address, destination.port, destination.host)
    pool = pools.get(key)
    if pool is not None:
        pools.move_to_end(key)
        return pool
    timeout = _timeout()
    if destination.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            destination.address,
            destination.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            server_hostname=destination.host,
            assert_hostname=destination.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            destination.address, destination.port, timeout=timeout, retries=False, maxsize=1
        )
    pools[key] = pool
    while len(pools) > POOLS_PER_THREAD:
        pools.popitem(last=False)[1].close()
    return pool


def _timeout() -> urllib3.Timeout:
    return urllib3.Timeout(
        connect=settings.DELIVERY_CONNECT_TIMEOUT, read=settings.DELIVERY_READ_TIMEOUT
    )


def _pool_drop(destination: Destination) -> None:
    """After a failure: no connection of that pool is reused (it may be half-broken)."""
    pools = getattr(_POOLS, "pools", None)
    if pools is not None:
        key = (destination.scheme, destination.address, destination.port, destination.host)
        pool = pools.pop(key, None)
        if pool is not None:
            pool.close()


def pools_close() -> None:
    """Close this thread's kept connections (tests; a worker thread that ends)."""
    pools = getattr(_POOLS, "pools", None)
    while pools:
        pools.popitem()[1].close()


def _post(destination: Destination, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST on a kept connection to the checked address (HTTP keep-alive: a connection
    per thread and destination, reused while the receiver keeps it open; urllib3 checks a
    kept connection is still open before reusing it)."""
    pool = _pool(destination)
    ok = False
    try:
        response = pool.urlopen(
            "POST",
            destination.path,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            timeout=_timeout(),
        )
        try:
            # Read a little of the answer (a receiver may wait for it to be read), keep none.
            response.read(64 * 1024)
        finally:
            response.release_conn()
        ok = True
        return response.status, response.headers.get("retry-after", "")
    except NewConnectionError:  # before its base class ConnectTimeoutError: refused, unreachable
        raise DeliveryError("connection") from None
    except (ConnectTimeoutError, ReadTimeoutError):
        raise DeliveryError("timeout") from None
    except SSLError:
        raise DeliveryError("tls") from None
    except (ProtocolError, ConnectionError):
        raise DeliveryError("connection") from None
    except HTTPError as exc:
        # urllib3 wraps timeouts in a MaxRetryError even with retries=False on some paths.
        reason = getattr(exc, "reason", None)
        if isinstance(reason, ConnectTimeoutError | ReadTimeoutError) and not isinstance(
            reason, NewConnectionError
        ):
            raise DeliveryError("timeout") from None
        raise DeliveryError("connection") from None
    finally:
        if not ok:
            _pool_drop(destination)


def _judge(status: int, retry_after: str) -> int:
    if 200 <= status < 300:
        return status
    kind = f"http_{status}"
    if status == 429 or status >= 500:
        raise DeliveryError(kind, status=status, retry_after=retry_after_seconds(retry_after))
    # Other 4xx (and a redirect, not followed): the same request will be refused again.
    raise DeliveryError(kind, status=status, permanent=True)


def retry_after_seconds(value: str) -> float | None:
    """Retry-After as delay-seconds or an HTTP date; None when absent or unreadable."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _host_header(destination: Destination) -> str:
    default = 443 if destination.scheme == "https" else 80
    host = f"[{destination.host}]" if ":" in destination.host else destination.host
    return host if destination.port == default else f"{host}:{destination.port}"
