"""Fixed-length codes: the postal code (郵便番号) and the corporate number (法人番号)."""

from __future__ import annotations

import re

from stdnum.jp import cn as _stdnum_cn

from .invalid import SHORT_VALUE_LIMIT, Invalid, as_text
from .text import ANY_DASH, normalize_text

_POSTAL_RE = re.compile(r"〒?\s*([0-9]{3})\s*-?\s*([0-9]{4})")


def normalize_postal_code(s: str) -> str:
    """ "540-8570", "５４０８５７０", "〒540-8570", "540 8570" -> "5408570"."""
    text = ANY_DASH.sub("-", normalize_text(as_text(s, "postal_invalid", limit=SHORT_VALUE_LIMIT)))
    m = _POSTAL_RE.fullmatch(text)
    if m is None:
        raise Invalid("postal_invalid")
    return m.group(1) + m.group(2)


def normalize_corporate_number(s: str) -> str:
    """13-digit 法人番号; the first digit is the check digit over the other twelve."""
    text = ANY_DASH.sub(
        "-", normalize_text(as_text(s, "corporate_number_length", limit=SHORT_VALUE_LIMIT))
    )
    digits = re.sub(r"[-\s]", "", text)
    if not re.fullmatch(r"[0-9]{13}", digits):
        raise Invalid("corporate_number_length")
    if _stdnum_cn.calc_check_digit(digits[1:]) != digits[0]:
        raise Invalid("corporate_number_checksum")
    return digits
