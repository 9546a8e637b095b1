"""Text to bytes for a CSV file: utf-8, or cp932 for older Windows-based systems.

cp932 cannot hold every character a resident may type (𠮷 U+20BB7 in names, emoji, most
accented Latin letters). Such a character is written as the geta mark 〓 (U+3013, 0x81AC),
the traditional printers' substitute for a missing character, and counted; an export never
fails on a character. Variation selectors (U+FE00-FE0F, U+E0100-E01EF: a glyph variant of
the character before them) are dropped and counted: the base character is the nearest
cp932 has.

Python's cp932 codec already writes the JIS-table variants the way Windows shows them
(〜 U+301C and ～ U+FF5E both as 0x8160, − U+2212 as 0x817C, ‖ U+2016 as 0x8161,
¢ £ ¬ as 0x8191 0x8192 0x81CA). A few more characters a Mac or a web page gives us have a
cp932 twin Windows shows for them, and are written as that twin rather than 〓
(`CP932_TWINS`).
"""

from __future__ import annotations

import codecs
import threading
from dataclasses import dataclass, field
from typing import Final

#: What a character cp932 lacks becomes.
GETA: Final = "\u3013"

ENCODINGS: Final = ("utf-8", "cp932")

#: Characters with no cp932 code of their own but a twin that Windows shows for them.
CP932_TWINS: Final[dict[str, str]] = {
    "\u2014": "\u2015",  # EM DASH -> HORIZONTAL BAR (0x815C, the JIS dash as Windows reads it)
    "\u00a5": "\uffe5",  # YEN SIGN -> FULLWIDTH YEN SIGN (0x818F; 0x5C would be a backslash)
    "\u203e": "\uffe3",  # OVERLINE -> FULLWIDTH MACRON (0x8150)
    "\u00a6": "\uffe4",  # BROKEN BAR -> FULLWIDTH BROKEN BAR
    "\u00a0": " ",  # NO-BREAK SPACE -> SPACE
}
_TWIN_TABLE: Final = str.maketrans(CP932_TWINS)


def _is_variation_selector(ch: str) -> bool:
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


class _Counter(threading.local):
    replaced = 0


_COUNTER: Final = _Counter()
_ERRORS: Final = "denshi-csv-geta"


def _geta_handler(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):  # pragma: no cover - registered for encoding
        raise exc
    missing = exc.object[exc.start : exc.end]
    _COUNTER.replaced += len(missing)
    return "".join("" if _is_variation_selector(ch) else GETA for ch in missing), exc.end


codecs.register_error(_ERRORS, _geta_handler)


@dataclass
class TextEncoder:
    """Encodes the text of one file; `replaced` counts the characters cp932 could not hold
    (written as 〓, or dropped for variation selectors)."""

    encoding: str
    replaced: int = field(default=0)

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"unsupported CSV encoding {self.encoding!r}")

    def encode(self, text: str) -> bytes:
        if self.encoding == "utf-8":
            # Answers hold no lone surrogates (dropped when read); "replace" keeps a
            # stray one from ever stopping an export.
            return text.encode("utf-8", "replace") if not text.isascii() else text.encode()
        if text.isascii():
            return text.encode("ascii")
        text = text.translate(_TWIN_TABLE)
        _COUNTER.replaced = 0
        data = text.encode("cp932", _ERRORS)
        self.replaced += _COUNTER.replaced
        return data
