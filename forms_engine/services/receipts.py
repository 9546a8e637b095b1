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


def _secret_keys() -> list[str]:
    """The current key first, then the ones it replaced: while a key is rotated
    (SECRET_KEY_FALLBACKS), codes issued under an old key keep working."""
    return [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]


def status_code_hash(code: str, key: str | None = None) -> str:
    secret = (key or settings.SECRET_KEY).encode()
    return hmac.new(secret, b"status:" + code.encode(), hashlib.sha256).hexdigest()


def status_code_matches(code: str, stored_hash: str) -> bool:
    """Whether `code` is the one `stored_hash` was made from, under the current key or a
    fallback (every key is tried, so the time taken says nothing)."""
    matches = [hmac.compare_digest(stored_hash, status_code_hash(code, k)) for k in _secret_keys()]
    return any(matches)


def receipt_status_code(number: str, stored_hash: str) -> str:
    """The status code the resident was shown for a receipt: derived again with the key
    that issued it, which may be a fallback by now."""
    for key in _secret_keys():
        code = status_code_for(number, key)
        if hmac.compare_digest(stored_hash, status_code_hash(code, key)):
            return code
    # Its key was dropped from SECRET_KEY_FALLBACKS: a code from the current key would
    # not open the status page, so no code is better than a wrong one.
    raise LookupError("the key that issued this status code is no longer configured")


#: The most characters a typed receipt number or status code may have: 12 (or 8) code
#: characters with room for hyphens, spaces and a bundle suffix. Longer input is refused
#: before NFKC and the per-character loop read it (a 9 MB number took 1.25 s).
RECEIPT_INPUT_MAX_LENGTH = 64


def receipt_input_too_long(text: str | None) -> bool:
    return len(text or "") > RECEIPT_INPUT_MAX_LENGTH


def receipt_normalize(text: str) -> str:
    """A typed receipt number or status code as its code characters; "" for input past
    RECEIPT_INPUT_MAX_LENGTH (which matches nothing), unread."""
    import unicodedata

    if receipt_input_too_long(text):
        return ""
    text = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in text if ch in RECEIPT_ALPHABET)


def new_receipt_number() -> str:
    return receipt_format(_random_code(12))


def status_code_for(receipt_number: str, key: str | None = None) -> str:
    """The status code of a receipt, derived from the number with the server's secret:
    the completion page shows it and the mail task can compute it again, so the code never
    travels through the task broker and only its hash is stored."""
    secret = (key or settings.SECRET_KEY).encode()
    digest = hmac.new(secret, b"status-code:" + receipt_number.encode(), hashlib.sha256).digest()
    n = int.from_bytes(digest, "big")
    out = []
    for _i in range(8):
        n, digit = divmod(n, len(RECEIPT_ALPHABET))
        out.append(RECEIPT_ALPHABET[digit])
    return "".join(out)
