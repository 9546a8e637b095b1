"""`normalize_text`: free text as typed by a Japanese user, and the decisions it takes.

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
30 combining marks are cut, since NFC sorts a run in quadratic time.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping

import jaconv

WAVE_DASH = "\u301c"  # 〜
FULLWIDTH_TILDE = "\uff5e"  # ～
IDEOGRAPHIC_SPACE = "\u3000"
PROLONGED_SOUND_MARK = "\u30fc"  # ー

# Hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus sign,
# box-drawing horizontal (offered by IMEs for "ー") and the prolonged sound mark.
_DASH_LOOKALIKES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500" + PROLONGED_SOUND_MARK
_DASH_BETWEEN_DIGITS = re.compile(f"(?<=[0-9])[{_DASH_LOOKALIKES}](?=[0-9])")
ANY_DASH = re.compile(f"[{_DASH_LOOKALIKES}]")

# Invisible format characters that only cause trouble in stored answers: zero-width space,
# zero-width no-break space/BOM, word joiner, soft hyphen, and the bidi embeddings,
# overrides and isolates (which can make a value display differently from what it is).
# ZWJ/ZWNJ and variation selectors (incl. IVS for name kanji) are kept on purpose.
_REMOVED_FORMAT = "\u200b\ufeff\u2060\u00ad\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# A half-width voiced mark that no kana before it takes: the combining mark to try, and
# the spacing one (which cp932 can encode) to write otherwise.
_HALFWIDTH_VOICED = {"\uff9e": ("\u3099", "\u309b"), "\uff9f": ("\u309a", "\u309c")}
_LEFTOVER_HALFWIDTH_VOICED = re.compile("([^\uff9e\uff9f]?)([\uff9e\uff9f])", re.S)
_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")
_FULLWIDTH_ASCII = re.compile("[\uff01-\uff5d]")
# CJK compatibility ideographs have canonical (not only compatibility) decompositions, so
# even NFC would replace them; non-BMP characters (𠮷 and the compatibility supplement
# U+2F800-U+2FA1F) are shielded as a whole so that nothing there can change.
_PROTECTED = re.compile("([\uf900-\ufaff\U00010000-\U0010ffff]+)")
# Unicode's stream-safe format allows 30 combining marks in a row; CPython's NFC sorts a
# run of marks in quadratic time, so longer runs (never typed, only crafted) are cut.
_MAX_COMBINING_RUN = 30


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


def voice(match: re.Match[str], marks: Mapping[str, tuple[str, str]]) -> str:
    """A character and the voiced mark after it (`match`): one composed character where
    Unicode has it (`marks` gives the combining mark to try), else the character and the
    spacing mark."""
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
        text = _LEFTOVER_HALFWIDTH_VOICED.sub(lambda m: voice(m, _HALFWIDTH_VOICED), text)
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
