"""Bank accounts in the form of zengin (全銀) transfer records: codes, type, number and
the holder's name in katakana."""

from __future__ import annotations

import re

from .invalid import SHORT_VALUE_LIMIT, TEXT_VALUE_LIMIT, Invalid, as_text
from .kana import to_katakana
from .text import ANY_DASH, PROLONGED_SOUND_MARK, normalize_text

_ACCOUNT_TYPES = {
    "ordinary": "ordinary",
    "普通": "ordinary",
    "普通預金": "ordinary",
    "checking": "checking",
    "当座": "checking",
    "当座預金": "checking",
}
# Katakana that the zengin (全銀) half-width set can express: ァ..ヴ without ヮ ヰ ヱ.
_HOLDER_KANA = "\u30a1-\u30ed\u30ef\u30f2-\u30f4"
_HOLDER_RE = re.compile(f"[{_HOLDER_KANA}\u30fc\uff21-\uff3a\uff10-\uff19（）．／ \\-]+")
# Kana with no half-width form are written with the plain kana in bank records.
_HOLDER_KANA_FOLD = str.maketrans("\u30ee\u30f0\u30f1\u30f5\u30f6", "ワイエカケ")
_HOLDER_SYMBOLS = str.maketrans({"(": "（", ")": "）", ".": "．", "/": "／"})


def _normalize_holder(holder: str) -> str:
    holder = as_text(holder, "bank_holder_invalid", {"part": "holder"}, limit=TEXT_VALUE_LIMIT)
    text = ANY_DASH.sub(
        lambda m: m.group(0) if m.group(0) == PROLONGED_SOUND_MARK else "-", to_katakana(holder)
    )
    text = text.translate(_HOLDER_KANA_FOLD).translate(_HOLDER_SYMBOLS)
    # Zengin records use upper-case letters; full-width keeps the holder one script width.
    text = "".join(
        chr(ord(ch.upper()) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text
    )
    text = re.sub(" +", " ", text)
    if not _HOLDER_RE.fullmatch(text):
        raise Invalid("bank_holder_invalid", {"part": "holder"})
    return text


def _digits_part(value: str, length: int, code: str, part: str) -> str:
    text = normalize_text(as_text(value, code, {"part": part}, limit=SHORT_VALUE_LIMIT))
    if not re.fullmatch(f"[0-9]{{{length}}}", text):
        raise Invalid(code, {"part": part})
    return text


def normalize_bank_account(
    bank_code: str, branch_code: str, account_type: str, number: str, holder: str
) -> dict[str, str]:
    """Canonical bank account answer; each part raises its own code with `params["part"]`.

    `holder` becomes full-width katakana with full-width upper-case Ａ-Ｚ, ０-９ and
    （）．／, ASCII "-" and single ASCII spaces; small kana are kept as typed.
    """
    bank = _digits_part(bank_code, 4, "bank_code_invalid", "bank_code")
    branch = _digits_part(branch_code, 3, "bank_branch_code_invalid", "branch_code")
    kind = isinstance(account_type, str) and _ACCOUNT_TYPES.get(
        normalize_text(account_type).lower()
    )
    if not kind:
        raise Invalid("bank_account_type_invalid", {"part": "account_type"})
    num = normalize_text(
        as_text(number, "bank_number_invalid", {"part": "number"}, limit=SHORT_VALUE_LIMIT)
    )
    if not re.fullmatch(r"[0-9]{1,7}", num):
        raise Invalid("bank_number_invalid", {"part": "number"})
    return {
        "bank_code": bank,
        "branch_code": branch,
        "account_type": kind,
        "number": num.zfill(7),
        "holder": _normalize_holder(holder),
    }
