"""Standard Webhooks signatures (https://www.standardwebhooks.com/): the headers
`webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`, keyed with the base64-decoded secret after its `whsec_` prefix.
A receiver checks them with the official `standardwebhooks` library of its language."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SECRET_PREFIX = "whsec_"


class SecretInvalid(ValueError):
    pass


def secret_bytes(secret: str) -> bytes:
    """The key of a `whsec_<base64>` secret (the prefix optional, as in the libraries)."""
    text = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SecretInvalid("the webhook secret is not whsec_<base64>") from None
    if len(key) < 16:
        raise SecretInvalid("the webhook secret is shorter than 16 bytes")
    return key


def webhook_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(secret, msg_id, timestamp, body),
    }
