"""Text encodings for CSV files opened in spreadsheets: UTF-8 with a byte order mark (so
Excel reads it as UTF-8), and cp932 (Shift_JIS as Windows has it) for older systems.

cp932 cannot hold every character residents type. The rule (docs/exports.md), applied
to each character cp932 cannot encode as it is:

1. Characters whose Windows look-alike has the same JIS code become that character, and
   are not counted as lost: — EM DASH (U+2014) -> ― (U+2015), ¦ (U+00A6) -> ￤ (U+FFE4),
   the non-breaking hyphen (U+2011) -> ‐ (U+2010), the no-break space (U+00A0) -> space.
   (Python's cp932 already writes 〜 U+301C as ～, − U+2212 as －, ‖ U+2016 as ∥ and
   ¢ £ ¬ as ￠ ￡ ￢: the bytes Windows shows as those characters.)
2. Variation selectors (U+FE00-FE0F, U+E0100-E01EF: the glyph variant of the kanji before
   them) are dropped, counted.
3. A character whose compatibility decomposition, without its combining marks, is in cp932
   becomes that (NFKD): an accented Latin letter its plain letter (é -> e, Å -> A), a
   ligature its letters (ﬁ -> fi); counted.
4. Anything else becomes 〓 (U+3013, GETA MARK, the sign Japanese typesetting uses for a
   character it lacks), counted: 𠮷 (U+20BB7), emoji, Hangul, most accented capitals.

`replaced` counts the characters changed by rules 2-4. Nothing here ever raises on a
character.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

GETA = "〓"

# Rule 1: same JIS code, Windows' character.
CP932_EQUIVALENTS = str.maketrans(
    {
        "\u2014": "\u2015",
        "\u00a6": "\uffe4",
        "\u2011": "\u2010",
        "\u00a0": " ",
    }
)


def _is_variation_selector(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


@dataclass
class Encoder:
    """Encodes text for a CSV file; `replaced` counts the characters it had to change."""

    name: str
    bom: bytes = b""
    replaced: int = field(default=0)

    def encode(self, text: str) -> bytes:
        return text.encode(self.name)


@dataclass
class Cp932Encoder(Encoder):
    name: str = "cp932"

    def encode(self, text: str) -> bytes:
        try:
            return text.encode("cp932")
        except UnicodeEncodeError:
            pass
        text = text.translate(CP932_EQUIVALENTS)
        out = bytearray()
        for ch in text:
            try:
                out += ch.encode("cp932")
                continue
            except UnicodeEncodeError:
                pass
            self.replaced += 1
            if _is_variation_selector(ch):
                continue
            base = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            try:
                out += base.encode("cp932") if base and base != ch else GETA.encode("cp932")
            except UnicodeEncodeError:
                out += GETA.encode("cp932")
        return bytes(out)


def csv_encoder(encoding: str) -> Encoder:
    """A new encoder (each counts its own replacements) for one of CSV_ENCODINGS."""
    if encoding not in CSV_ENCODINGS:
        raise ValueError(f"unknown CSV encoding {encoding!r}")
    return CSV_ENCODINGS[encoding]()


def _utf8_bom() -> Encoder:
    return Encoder(name="utf-8", bom=b"\xef\xbb\xbf")


CSV_ENCODINGS: dict[str, Callable[[], Encoder]] = {
    "utf-8": _utf8_bom,
    "cp932": Cp932Encoder,
}
