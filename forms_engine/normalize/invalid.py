"""`Invalid`, the one error of the normalisers, its English messages, and the gate every
parser reads its input through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MESSAGES: dict[str, str] = {
    "kana_only": "Use full-width katakana only.",
    "phone_invalid": "Enter a Japanese phone number, for example 03-1234-5678 or 090-1234-5678.",
    "postal_invalid": "Enter a 7-digit postal code, for example 540-8570.",
    "corporate_number_length": "Enter the 13-digit corporate number.",
    "corporate_number_checksum": "This corporate number is not valid. Check the digits.",
    "bank_code_invalid": "Enter the 4-digit bank code.",
    "bank_branch_code_invalid": "Enter the 3-digit branch code.",
    "bank_account_type_invalid": "Choose ordinary or checking.",
    "bank_number_invalid": "Enter the account number (up to 7 digits).",
    "bank_holder_invalid": (
        "Enter the account holder in katakana; letters A-Z, digits, spaces and ( ) . ー / - "
        "are also allowed."
    ),
    "number_invalid": "Enter a number.",
    "number_not_integer": "Enter a whole number.",
    "number_too_large": "Enter a number with at most 15 digits.",
    "date_invalid": "Enter a valid date.",
    "email_invalid": "Enter a valid email address, for example name@example.jp.",
}

#: Characters a short value (phone number, postal code, date part, bank code, number) may
#: have before it is refused unread, and the same for a bank account holder's name.
SHORT_VALUE_LIMIT = 64
TEXT_VALUE_LIMIT = 256


class Invalid(ValueError):
    """A value that cannot be accepted; `code` is a key of `MESSAGES`."""

    def __init__(self, code: str, params: Mapping[str, Any] | None = None) -> None:
        self.code = code
        self.params: dict[str, Any] = dict(params or {})
        super().__init__(code, self.params)

    @property
    def message(self) -> str:
        template = MESSAGES.get(self.code, self.code)
        return template.format_map(_KeepMissing(self.params))

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class _KeepMissing(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def as_text(
    value: object, code: str, params: Mapping[str, Any] | None = None, *, limit: int = 0
) -> str:
    # Form data is always str, but JSON drafts and API callers can send anything.
    if not isinstance(value, str):
        raise Invalid(code, params)
    # A short value (a phone number, a code) far longer than any real one is refused
    # unread, whoever calls: normalising is linear, but a megabyte still costs a second.
    if limit and len(value) > limit:
        raise Invalid(code, params)
    return value
