"""Normalisers and validators for form answers (pure Python, no Django).

Every validator returns the canonical value or raises `Invalid(code, params)`. The Django
layer maps `code` to a translated message; `MESSAGES` holds the English defaults.

Decisions on Japanese text (see `normalize_text`):

* Only *width* variants are folded with NFKC: full-width ASCII (Ａ１！) becomes ASCII,
  half-width katakana and punctuation (ｶﾞ｡｢) become full-width (ガ。「). Full NFKC is not
  applied: it would replace CJK compatibility ideographs (U+FA19 by U+795E, both read kami), the
  real characters of people's names, and would rewrite ① as "1" (so "①2" reads as "12"),
  ㈱ as "(株)" and ㍻ as "平成". Those enclosed/square characters are kept as typed; the
  parsers for numbers, phones and codes reject them instead of guessing.
* WAVE DASH 〜 U+301C and FULLWIDTH TILDE ～ U+FF5E both become 〜 U+301C: NFKC would make
  ～ an ASCII "~", which is not what a Japanese writer of "10時～12時" meant, and the two
  are the same key on Japanese IMEs (Windows produces ～, macOS 〜). ASCII "~" is kept.
* FULLWIDTH HYPHEN-MINUS － becomes "-" everywhere (plain NFKC). The other dash lookalikes
  (‐ ‑ ‒ – — ― − ─ and the prolonged sound mark ー) become "-" only *between two digits*
  ("1ー2ー3" is an address block, "03ー1234" a phone number); elsewhere ー is a long vowel
  and stays.
* The ideographic space U+3000 becomes an ASCII space in one-line values (names typed as
  "山田　太郎" compare equal to "山田 太郎" and strip cleanly). In multi-line values it is
  kept: a leading 　 is the paragraph indent (字下げ) of Japanese prose.
* Half-width ﾞ/ﾟ that cannot combine with the preceding character become the spacing ゛/゜
  (which cp932 can encode) rather than NFKC's combining U+3099/U+309A.
* Kangxi radicals (⼤ U+2F24) are mapped to the unified ideograph (大): they come from
  copying text out of PDFs and look identical, and nobody means the radical.

Work is linear in the input and done by C-level passes (str.translate, jaconv's tables for
kana and width, regular expressions), with a fast path for plain ASCII; runs of more than
30 combining marks are cut, since NFC sorts a run in quadratic time. The parsers of short
values (phones, codes, dates, numbers, email addresses) refuse an input far longer than
any real one before reading it.
"""

from __future__ import annotations

import calendar
import codecs
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import jaconv
from stdnum.jp import cn as _stdnum_cn

from .procedure_format.model import FILE_KINDS

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


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _as_text(
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


# --------------------------------------------------------------------------- text

WAVE_DASH = "\u301c"  # 〜
FULLWIDTH_TILDE = "\uff5e"  # ～
IDEOGRAPHIC_SPACE = "\u3000"
PROLONGED_SOUND_MARK = "\u30fc"  # ー

# Hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus sign,
# box-drawing horizontal (offered by IMEs for "ー") and the prolonged sound mark.
_DASH_LOOKALIKES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500" + PROLONGED_SOUND_MARK
_DASH_BETWEEN_DIGITS = re.compile(f"(?<=[0-9])[{_DASH_LOOKALIKES}](?=[0-9])")
_ANY_DASH = re.compile(f"[{_DASH_LOOKALIKES}]")

# Invisible format characters that only cause trouble in stored answers: zero-width space,
# zero-width no-break space/BOM, word joiner, soft hyphen, and the bidi embeddings,
# overrides and isolates (which can make a value display differently from what it is).
# ZWJ/ZWNJ and variation selectors (incl. IVS for name kanji) are kept on purpose.
_REMOVED_FORMAT = "\u200b\ufeff\u2060\u00ad\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# A half-width voiced mark that no kana before it takes: the combining mark to try, and
# the spacing one (which cp932 can encode) to write otherwise.
_HALFWIDTH_VOICED = {"\uff9e": ("\u3099", "\u309b"), "\uff9f": ("\u309a", "\u309c")}
_SPACING_VOICED = {"\u309b": "\u3099", "\u309c": "\u309a"}
_LEFTOVER_HALFWIDTH_VOICED = re.compile("([^\uff9e\uff9f]?)([\uff9e\uff9f])", re.S)
_SPACING_VOICED_AFTER = re.compile("([^\u309b\u309c]?)([\u309b\u309c])", re.S)
_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")
_FULLWIDTH_ASCII = re.compile("[\uff01-\uff5d]")
# CJK compatibility ideographs have canonical (not only compatibility) decompositions, so
# even NFC would replace them; non-BMP characters (𠮷 and the compatibility supplement
# U+2F800-U+2FA1F) are shielded as a whole so that nothing there can change.
_PROTECTED = re.compile("([\uf900-\ufaff\U00010000-\U0010ffff]+)")
# Unicode's stream-safe format allows 30 combining marks in a row; CPython's NFC sorts a
# run of marks in quadratic time, so longer runs (never typed, only crafted) are cut.
_MAX_COMBINING_RUN = 30


#: Characters a short value (phone number, postal code, date part, bank code, number) may
#: have before it is refused unread, and the same for a bank account holder's name.
SHORT_VALUE_LIMIT = 64
TEXT_VALUE_LIMIT = 256


def _is_protected(ch: str) -> bool:
    """Characters that must reach the output exactly as typed (see `_PROTECTED`)."""
    cp = ord(ch)
    return cp > 0xFFFF or 0xF900 <= cp <= 0xFAFF


def _fold_tables() -> tuple[dict[int, str | None], dict[int, str | None]]:
    """What `normalize_text` turns single characters into, for one-line and multi-line
    values, derived from the Unicode database once. Width variants that jaconv folds
    (full-width ASCII, half-width katakana and their voiced marks) are not in here."""
    common: dict[int, str | None] = {}
    for cp in [*range(0x20), *range(0x7F, 0xA0), *range(0xD800, 0xE000)]:
        common[cp] = None  # controls and lone surrogates (category Cc/Cs)
    for cp in range(0x110000):
        if unicodedata.category(chr(cp)) == "Zs":
            common[cp] = " "
    common.update(dict.fromkeys(map(ord, _REMOVED_FORMAT)))
    common[ord("\t")] = " "  # deleting it would glue two words together
    # NFKC for what else is a width variant, and for Kangxi radicals (⼤ U+2F24 is 大 copied
    # out of a PDF; nobody means the radical). U+FFE0-U+FFE6 (￥ ￣ ...) are left alone:
    # NFKC turns ￥ into U+00A5, which cp932 cannot encode, and ￣ into a space plus a
    # combining macron.
    for cp in [0xFF5F, 0xFF60, *range(0xFFA0, 0xFFDD), *range(0xFFE8, 0xFFEF)]:
        common[cp] = unicodedata.normalize("NFKC", chr(cp))
    for cp in range(0x2E80, 0x2FE0):
        common[cp] = unicodedata.normalize("NFKC", chr(cp))
    common[ord(FULLWIDTH_TILDE)] = WAVE_DASH
    one_line = {**common, **dict.fromkeys(map(ord, _LINE_BREAKS), " ")}
    one_line[ord(IDEOGRAPHIC_SPACE)] = " "
    multiline = {**common, **dict.fromkeys(map(ord, _LINE_BREAKS), "\n")}
    multiline[ord(IDEOGRAPHIC_SPACE)] = IDEOGRAPHIC_SPACE  # the indent of a paragraph
    return one_line, multiline


_FOLD_ONE_LINE, _FOLD_MULTILINE = _fold_tables()
# Plain ASCII (most answers) needs only its controls handled: no table of the whole of
# Unicode, no NFC, no dash lookalikes.
_ASCII_ONE_LINE = {cp: v for cp, v in _FOLD_ONE_LINE.items() if cp < 0x80}
_ASCII_MULTILINE = {cp: v for cp, v in _FOLD_MULTILINE.items() if cp < 0x80}


@functools.cache
def _combining_run() -> re.Pattern[str]:
    """Runs of more than _MAX_COMBINING_RUN characters that NFC reorders: those with a
    combining class, and those that decompose into one (Tibetan U+0F73)."""
    marks = [
        cp
        for cp in range(0x300, 0x1E950)
        if unicodedata.combining(chr(cp))
        or (
            (d := unicodedata.decomposition(chr(cp)))
            and not d.startswith("<")
            and unicodedata.combining(chr(int(d.split()[0], 16)))
        )
    ]
    ranges: list[list[int]] = []
    for cp in marks:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    members = "".join(f"{chr(a)}-{chr(b)}" if a != b else chr(a) for a, b in ranges)
    return re.compile(f"[{members}]{{{_MAX_COMBINING_RUN + 1},}}")


def _voice(match: re.Match[str], marks: Mapping[str, tuple[str, str]]) -> str:
    prev, mark = match.group(1), match.group(2)
    combining, spacing = marks[mark]
    if prev and not _is_protected(prev):
        composed = unicodedata.normalize("NFC", prev + combining)
        if len(composed) == 1:
            return composed
    return prev + spacing


def _nfc_unprotected(s: str) -> str:
    if not _PROTECTED.search(s):
        return unicodedata.normalize("NFC", s)
    # re.split with a group: protected runs are at the odd indexes.
    parts = _PROTECTED.split(s)
    return "".join(
        part if i % 2 else unicodedata.normalize("NFC", part) for i, part in enumerate(parts)
    )


def _fold(s: str, multiline: bool) -> str:
    """Width, spaces, controls and composition of a non-ASCII text; linear in its length."""
    text = s.translate(_FOLD_MULTILINE if multiline else _FOLD_ONE_LINE)
    if _FULLWIDTH_ASCII.search(text):
        # Ａ１！ -> A1!; the ideographic space stays (one-line values lost it above).
        text = jaconv.z2h(text, ignore=IDEOGRAPHIC_SPACE, kana=False, ascii=True, digit=True)
    if _HALFWIDTH_KANA.search(text):
        text = jaconv.h2z(text, kana=True, ascii=False, digit=False)  # ｶﾞ｡ -> ガ。
        text = _LEFTOVER_HALFWIDTH_VOICED.sub(lambda m: _voice(m, _HALFWIDTH_VOICED), text)
    text = _combining_run().sub(lambda m: m.group(0)[:_MAX_COMBINING_RUN], text)
    text = _nfc_unprotected(text)
    return _DASH_BETWEEN_DIGITS.sub("-", text)


def normalize_text(s: str, multiline: bool = False) -> str:
    """Normalise free text as typed by a Japanese user (see the module docstring).

    One-line values are stripped; line breaks and tabs become spaces. Multi-line values
    keep "\\n" line breaks (CRLF/CR folded), lose trailing whitespace on every line and
    leading/trailing blank lines, but keep the first line's indentation (字下げ).

    Linear in the length of `s`: one pass of C-level translations and regular
    expressions, and for plain ASCII only the first of them.
    """
    s = s.replace("\r\n", "\n")
    if s.isascii():
        text = s.translate(_ASCII_MULTILINE if multiline else _ASCII_ONE_LINE)
    else:
        text = _fold(s, multiline)
    if not multiline:
        return text.strip()
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


# --------------------------------------------------------------------------- kana

_KATAKANA_RE = re.compile("[\u30a1-\u30fe\u31f0-\u31ff ]*")


def to_katakana(s: str) -> str:
    """Hiragana to katakana after `normalize_text` (which already widens half-width kana).

    A spacing ゛/゜ written after a kana is combined with it (か゛ -> ガ) when such a
    character exists; the iteration marks ゝゞ become ヽヾ.
    """
    text = jaconv.hira2kata(normalize_text(s))
    if "\u309b" in text or "\u309c" in text:
        marks = {k: (v, k) for k, v in _SPACING_VOICED.items()}
        text = _SPACING_VOICED_AFTER.sub(lambda m: _voice(m, marks), text)
    return text


def validate_katakana(s: str) -> str:
    """`to_katakana`, then only full-width katakana, ー, ・, ヽヾ and spaces may remain."""
    text = to_katakana(_as_text(s, "kana_only"))
    if not _KATAKANA_RE.fullmatch(text):
        raise Invalid("kana_only")
    return text


# --------------------------------------------------------------------------- phone

# 11-digit numbers: mobile (070/080/090), IP phone (050), M2M/pager (020) and 0800 free
# dial (covered by the 080 prefix). Every other 0[1-9] number has 10 digits.
_ELEVEN_DIGIT_PREFIXES = ("070", "080", "090", "050", "020")
_FOUR_THREE_THREE = ("0120", "0570", "0180", "0990")
_PHONE_CHARS = re.compile(r"[0-9\-\s()]+")
_PHONE_SPLIT = re.compile(r"[-\s()]+")
_TRUNK_ZERO = re.compile(r"^[\s-]*\(\s*0\s*\)")


def _canonical_phone(digits: str) -> str:
    # Only prefixes whose split is fixed get hyphens: for other landlines the area code
    # is 2-5 digits and depends on the exchange (042-3xx vs 0422-xx), which needs the full
    # MIC table; a wrong split would look authoritative, so those stay digits only.
    if len(digits) == 11:
        if digits.startswith("0800"):
            return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if digits[:4] in _FOUR_THREE_THREE:
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    if digits[:2] in ("03", "06"):
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
    return digits


def _valid_phone_digits(digits: str) -> bool:
    if not digits.isascii() or not digits.isdigit():
        return False
    if len(digits) == 11:
        return digits.startswith(_ELEVEN_DIGIT_PREFIXES)
    if len(digits) == 10:
        return (
            digits[0] == "0" and digits[1] != "0" and not digits.startswith(_ELEVEN_DIGIT_PREFIXES)
        )
    return False


def normalize_phone(s: str) -> str:
    """A Japanese phone number as hyphenated ASCII.

    Accepts hyphens, spaces and parentheses ("(03)1234-5678", "03(1234)5678"), full- or
    half-width, and "+81" with or without the "(0)" trunk prefix. When the input has
    separators their grouping is kept; without them see `_canonical_phone`.
    """
    text = _ANY_DASH.sub("-", normalize_text(_as_text(s, "phone_invalid", limit=SHORT_VALUE_LIMIT)))
    international = text.startswith("+")
    if international:
        m = re.match(r"\+\s*81", text)
        if m is None:
            raise Invalid("phone_invalid")
        text = _TRUNK_ZERO.sub(" ", text[m.end() :], count=1)
    if not _PHONE_CHARS.fullmatch(text):
        raise Invalid("phone_invalid")
    groups = [g for g in _PHONE_SPLIT.split(text) if g]
    if not groups:
        raise Invalid("phone_invalid")
    if international and not groups[0].startswith("0"):
        groups[0] = "0" + groups[0]
    digits = "".join(groups)
    if not _valid_phone_digits(digits):
        raise Invalid("phone_invalid")
    # Keep the writer's grouping when it looks like one (prefix of 2-5 digits, then one or
    # two groups); "0 90 1234 5678" or a digit-by-digit spacing gets the canonical form.
    if 2 <= len(groups) <= 3 and 2 <= len(groups[0]) <= 5:
        return "-".join(groups)
    return _canonical_phone(digits)


# --------------------------------------------------------------------------- codes

_POSTAL_RE = re.compile(r"〒?\s*([0-9]{3})\s*-?\s*([0-9]{4})")


def normalize_postal_code(s: str) -> str:
    """ "540-8570", "５４０８５７０", "〒540-8570", "540 8570" -> "5408570"."""
    text = _ANY_DASH.sub(
        "-", normalize_text(_as_text(s, "postal_invalid", limit=SHORT_VALUE_LIMIT))
    )
    m = _POSTAL_RE.fullmatch(text)
    if m is None:
        raise Invalid("postal_invalid")
    return m.group(1) + m.group(2)


def normalize_corporate_number(s: str) -> str:
    """13-digit 法人番号; the first digit is the check digit over the other twelve."""
    text = _ANY_DASH.sub(
        "-", normalize_text(_as_text(s, "corporate_number_length", limit=SHORT_VALUE_LIMIT))
    )
    digits = re.sub(r"[-\s]", "", text)
    if not re.fullmatch(r"[0-9]{13}", digits):
        raise Invalid("corporate_number_length")
    if _stdnum_cn.calc_check_digit(digits[1:]) != digits[0]:
        raise Invalid("corporate_number_checksum")
    return digits


# --------------------------------------------------------------------------- bank

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
    holder = _as_text(holder, "bank_holder_invalid", {"part": "holder"}, limit=TEXT_VALUE_LIMIT)
    text = _ANY_DASH.sub(
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
    text = normalize_text(_as_text(value, code, {"part": part}, limit=SHORT_VALUE_LIMIT))
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
        _as_text(number, "bank_number_invalid", {"part": "number"}, limit=SHORT_VALUE_LIMIT)
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


# --------------------------------------------------------------------------- numbers

_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.[0-9]*)?")


NUMBER_LIMIT = Decimal(10) ** 15


def normalize_number(s: str, integer: bool = True) -> int | float:
    """Half/full-width digits, thousands commas ("1,234" only: "1,5" is refused rather
    than read as 15), full-width minus; "3.0" counts as the integer 3."""
    if isinstance(s, str) and len(s) > SHORT_VALUE_LIMIT:
        raise Invalid("number_too_large")
    text = _ANY_DASH.sub("-", normalize_text(_as_text(s, "number_invalid")))
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


# --------------------------------------------------------------------------- dates

# (name, letter, first day, abbreviations). Meiji counts from 1868-01-25 (Gregorian for
# 慶応4年1月1日, to which the era was made retroactive); Japan used the lunisolar
# calendar until 1872, so month/day of wareki before 1873 are only nominal.
_ERAS: tuple[tuple[str, str, date, tuple[str, ...]], ...] = (
    ("令和", "R", date(2019, 5, 1), ("令", "\u32ff")),  # ㋿
    ("平成", "H", date(1989, 1, 8), ("平", "\u337b")),  # ㍻
    ("昭和", "S", date(1926, 12, 25), ("昭", "\u337c")),  # ㍼
    ("大正", "T", date(1912, 7, 30), ("大", "\u337d")),  # ㍽
    ("明治", "M", date(1868, 1, 25), ("明", "\u337e")),  # ㍾
)
_ERA_START_YEAR: dict[str, int] = {}
for _name, _letter, _start, _abbrs in _ERAS:
    for _key in (_name, _letter, _letter.lower(), *_abbrs):
        _ERA_START_YEAR[_key] = _start.year
_ERA_ALTERNATION = "|".join(sorted(map(re.escape, _ERA_START_YEAR), key=len, reverse=True))
_ERA_YEAR_RE = re.compile(rf"({_ERA_ALTERNATION})\.?\s*([0-9]{{1,2}}|元)\s*年?")
_WESTERN_YEAR_RE = re.compile(r"([1-9][0-9]{3})\s*年?")
_MONTH_RE = re.compile(r"([0-9]{1,2})\s*月?")
_DAY_RE = re.compile(r"([0-9]{1,2})\s*日?")


def _parse_year(year: str) -> int:
    text = normalize_text(_as_text(year, "date_invalid", limit=SHORT_VALUE_LIMIT))
    m = _WESTERN_YEAR_RE.fullmatch(text)
    if m:
        return int(m.group(1))
    m = _ERA_YEAR_RE.fullmatch(text)
    if m is None:
        raise Invalid("date_invalid")
    n = 1 if m.group(2) == "元" else int(m.group(2))
    if n < 1:
        raise Invalid("date_invalid")
    # Years past an era's end are accepted on purpose: documents issued before an era
    # change keep printing the old era (a licence valid until 平成33年 means 2021).
    return _ERA_START_YEAR[m.group(1)] + n - 1


def parse_date_parts(year: str, month: str, day: str) -> date:
    """A date from three inputs; the year is western ("1985") or Japanese ("令和8",
    "R8", "H31", "昭和60年", "令和元年")."""
    y = _parse_year(year)
    m = _MONTH_RE.fullmatch(
        normalize_text(_as_text(month, "date_invalid", limit=SHORT_VALUE_LIMIT))
    )
    d = _DAY_RE.fullmatch(normalize_text(_as_text(day, "date_invalid", limit=SHORT_VALUE_LIMIT)))
    if m is None or d is None:
        raise Invalid("date_invalid")
    try:
        return date(y, int(m.group(1)), int(d.group(1)))
    except ValueError as exc:
        raise Invalid("date_invalid") from exc


def _era_of(d: date) -> tuple[str, int] | None:
    for name, _letter, start, _abbrs in _ERAS:
        if d >= start:
            return name, d.year - start.year + 1
    return None


def wareki_year(d: date) -> str:
    """ "令和8年", "令和元年"; before Meiji the western "1850年"."""
    era = _era_of(d)
    if era is None:
        return f"{d.year}年"
    name, n = era
    return f"{name}{'元' if n == 1 else n}年"


def wareki(d: date) -> str:
    """ "令和8年11月26日" (the era in force on that day)."""
    return f"{wareki_year(d)}{d.month}月{d.day}日"


def _add_months(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 + months
    year, month0 = divmod(total, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


def resolve_date_bound(
    kind: str, date_iso: str | None, amount: int, unit: str, today: date
) -> date:
    """The concrete date of a `DateBound`; a month/year offset landing on a missing day
    (Feb 29 - 18y, Mar 31 + 1m) takes the last day of that month."""
    if kind == "date":
        if not date_iso:
            raise ValueError("a date bound needs date_iso")
        return date.fromisoformat(date_iso)
    if kind == "today":
        return today
    if kind == "offset":
        if unit == "d":
            return today + timedelta(days=amount)
        if unit == "m":
            return _add_months(today, amount)
        if unit == "y":
            return _add_months(today, 12 * amount)
        raise ValueError(f"unknown date offset unit {unit!r}")
    raise ValueError(f"unknown date bound kind {kind!r}")


# --------------------------------------------------------------------------- email

#: The longest address SMTP can deliver (RFC 5321 path limit, less the angle brackets).
EMAIL_MAX_LENGTH = 254

# dot-atom characters; consecutive dots and a dot before "@" are allowed on purpose:
# docomo and au issued such addresses until 2009 and they still receive mail.
_EMAIL_LOCAL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}")
_DNS_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def normalize_email(s: str) -> str:
    """NFKC (full-width ＠ and letters), "。" as ".", syntax check; only the domain is
    lower-cased (the local part is case-sensitive by the standard). Internationalised
    domains are accepted and kept in Unicode; non-ASCII local parts are refused."""
    raw = _as_text(s, "email_invalid", limit=2 * EMAIL_MAX_LENGTH)
    text = unicodedata.normalize("NFKC", raw).strip().replace("。", ".")
    if text.count("@") != 1 or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise Invalid("email_invalid")
    local, domain = text.split("@")
    domain = domain.lower()
    if not _EMAIL_LOCAL_RE.fullmatch(local):
        raise Invalid("email_invalid")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise Invalid("email_invalid") from exc
    labels = ascii_domain.split(".")
    if (
        len(labels) < 2
        or not all(_DNS_LABEL_RE.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
        or len(local) + 1 + len(ascii_domain) > EMAIL_MAX_LENGTH
    ):
        raise Invalid("email_invalid")
    return f"{local}@{domain}"


# --------------------------------------------------------------------------- sizes

_SIZE_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_SIZE_RE = re.compile(r"\s*([0-9]+)\s*([KMGT]?B)?\s*", re.IGNORECASE)


def parse_size(s: str | int) -> int:
    """ "20MB", "2GB", "500KB", "10 MB", "1024" or an int -> bytes, binary units
    (1 MB = 1024 * 1024). Units are case-insensitive; decimals, "MiB" and sizes <= 0 raise
    ValueError."""
    if isinstance(s, bool):
        raise ValueError(f"not a size: {s!r}")
    if isinstance(s, int):
        value = s
    elif isinstance(s, str):
        m = _SIZE_RE.fullmatch(s)
        if m is None:
            raise ValueError(f"not a size: {s!r}")
        value = int(m.group(1)) * _SIZE_UNITS[(m.group(2) or "").upper()]
    else:
        raise ValueError(f"not a size: {s!r}")
    if value <= 0:
        raise ValueError(f"a size must be positive: {s!r}")
    return value


def format_size_exact(n: int) -> str:
    """The largest unit that states `n` exactly: 20971520 -> "20MB"."""
    for unit in ("TB", "GB", "MB", "KB"):
        mult = _SIZE_UNITS[unit]
        if n % mult == 0:
            return f"{n // mult}{unit}"
    return f"{n}B"


# --------------------------------------------------------------------------- files

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_HEIF_GENERIC_BRANDS = frozenset({b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
# C0 controls that never occur in text files; tab, LF, VT, FF, CR and ^Z (DOS end of
# file) do. None of these bytes can be part of a UTF-8 or cp932 multibyte sequence.
_BINARY_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1A), *range(0x1B, 0x20), 0x7F])


def _ftyp_brands(head: bytes) -> set[bytes]:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return set()
    box_end = min(int.from_bytes(head[0:4], "big"), len(head))
    brands = {head[8:12]}
    brands.update(head[i : i + 4] for i in range(16, box_end - 3, 4))
    return brands


def _decodes(head: bytes, encoding: str) -> bool:
    # final=False: `head` may end in the middle of a multibyte character.
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def sniff_file_kind(head: bytes, name: str, zip_names: Iterable[str] | None = None) -> str | None:
    """The kind of a file (one of FILE_KINDS) from its first bytes, or None.

    The content decides; the name only tells csv from txt. For a zip the caller passes
    the member names (`zipfile.ZipFile(f).namelist()`) to recognise docx/xlsx; without
    them a zip is just "zip". PDFs must start with "%PDF-"; empty files are None.
    """
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    brands = _ftyp_brands(head)
    if brands:
        if brands & _HEIC_BRANDS:
            return "heic"
        if head[8:12] in _HEIF_GENERIC_BRANDS and not brands & _AVIF_BRANDS:
            return "heic"
        return None
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        names = set(zip_names or ())
        if "word/vbaProject.bin" in names or "xl/vbaProject.bin" in names:
            return None  # docm/xlsm carry macros: not the docx/xlsx the field asked for
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        return "zip"
    if not head or len(head.translate(None, _BINARY_BYTES)) != len(head):
        return None
    if _decodes(head, "utf-8") or _decodes(head, "cp932"):
        return "csv" if name.lower().endswith(".csv") else "txt"
    return None


def file_matches_accept(kind: str | None, accept: Iterable[str] | None) -> bool:
    """Whether a sniffed kind is allowed by a field's `accept` list (empty: any kind).

    A csv is also a txt (it is plain text), so `accept: [txt]` takes .csv files; the
    reverse does not hold, and a docx/xlsx is not accepted as a "zip".
    """
    if kind is None:
        return False
    allowed = set(accept or ())
    if not allowed:
        return kind in FILE_KINDS
    return kind in allowed or (kind == "csv" and "txt" in allowed)
