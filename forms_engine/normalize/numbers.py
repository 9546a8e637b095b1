"""Numbers as typed: full-width digits, thousands commas, a full-width minus."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .invalid import SHORT_VALUE_LIMIT, Invalid, as_text
from .text import ANY_DASH, normalize_text

_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.[0-9]*)?")


NUMBER_LIMIT = Decimal(10) ** 15


def normalize_number(s: str, integer: bool = True) -> int | float:
    """Half/full-width digits, thousands commas ("1,234" only: "1,5" is refused rather
    than read as 15), full-width minus; "3.0" counts as the integer 3."""
    if isinstance(s, str) and len(s) > SHORT_VALUE_LIMIT:
        raise Invalid("number_too_large")
    text = ANY_DASH.sub("-", normalize_text(as_text(s, "number_invalid")))
    if not _NUMBER_RE.fullmatch(text) or not re.search(r"[0-9]", text):
        raise Invalid("number_invalid")
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern excludes these
        raise Invalid("number_invalid") from exc
    # Beyond 15 digits a number is a typo, and no longer exact in a browser (2^53) or a
    # float; it also keeps fee arithmetic far from the database's integer limits.
    if abs(value) >= NUMBER_LIMIT:
        raise Invalid("number_too_large")
    if integer:
        if value != value.to_integral_value():
            raise Invalid("number_not_integer")
        return int(value)
    return float(value)
