"""Receipt numbers and the status codes that go with them."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

# Receipt numbers avoid characters that are easy to confuse when read aloud or copied
# from paper (0/O/Q/D, 1/I/L, 2/Z, 5/S, 8/B, U/V, G/6).
RECEIPT_ALPHABET = "ACEFHJKMNPRTWXY34679"


def _random_code(length: int) -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(length))


def receipt_format(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def status_code_hash(code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"status:" + code.encode(), hashlib.sha256).hexdigest()


def receipt_normalize(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in text if ch in RECEIPT_ALPHABET)


def new_receipt_number() -> str:
    return receipt_format(_random_code(12))


def status_code_for(receipt_number: str) -> str:
    """The status code of a receipt, derived from the number with the server's secret:
    the completion page shows it and the mail task can compute it again, so the code never
    travels through the task broker and only its hash is stored."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), b"status-code:" + receipt_number.encode(), hashlib.sha256
    ).digest()
    n = int.from_bytes(digest, "big")
    out = []
    for _i in range(8):
        n, digit = divmod(n, len(RECEIPT_ALPHABET))
        out.append(RECEIPT_ALPHABET[digit])
    return "".join(out)
