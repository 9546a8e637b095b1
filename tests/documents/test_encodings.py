"""CSV encodings: UTF-8 with a BOM, and cp932 with the documented replacement rule."""

from __future__ import annotations

import pytest

from forms_engine.documents.encodings import GETA, csv_encoder


def test_utf8_carries_a_bom_and_every_character():
    enc = csv_encoder("utf-8")
    assert enc.bom == b"\xef\xbb\xbf"
    text = "𠮷野 神 〜 — é"
    assert enc.encode(text) == text.encode("utf-8")
    assert enc.replaced == 0


def test_cp932_writes_what_it_can_hold_byte_exact():
    enc = csv_encoder("cp932")
    assert enc.bom == b""
    # 髙 and 神 (U+FA19) are IBM extension kanji Windows has; ① ㈱ are NEC specials.
    assert enc.encode("山田 髙橋 \ufa19 ① ㈱") == (
        b"\x8eR\x93c \xee\xe0\x8b\xb4 \xeeb \x87@ \x87\x8a"
    )
    assert enc.replaced == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Python's cp932 writes these as the bytes Windows shows as their look-alikes:
        # not lost, not counted.
        ("〜", b"\x81\x60"),  # WAVE DASH -> 0x8160, shown as ～ on Windows
        ("～", b"\x81\x60"),
        ("−", b"\x81\x7c"),  # MINUS SIGN -> 0x817C (－)
        ("‖", b"\x81\x61"),
        ("¢£¬", b"\x81\x91\x81\x92\x81\xca"),
        # Rule 1: the same JIS code, Windows' character.
        ("—", b"\x81\x5c"),  # EM DASH -> ― (U+2015)
        ("¦", b"\xee\xfa"),  # -> ￤
        ("a\u00a0b", b"a b"),
    ],
)
def test_cp932_look_alikes_are_written_as_windows_shows_them_and_not_counted(text, expected):
    enc = csv_encoder("cp932")
    assert enc.encode(text) == expected
    assert enc.replaced == 0


def test_cp932_replaces_what_it_lacks_with_geta_and_counts_each():
    enc = csv_encoder("cp932")
    geta = GETA.encode("cp932")
    assert geta == b"\x81\xac"
    out = enc.encode("𠮷田さん😀")
    assert out == geta + "田さん".encode("cp932") + geta
    assert enc.replaced == 2
    # The count runs across calls (one export, many chunks).
    enc.encode("한")
    assert enc.replaced == 3


def test_cp932_drops_accents_and_variation_selectors_counting_them():
    enc = csv_encoder("cp932")
    assert enc.encode("José Müller") == b"Jose Muller"
    assert enc.replaced == 2
    # 葛 with an ideographic variation selector: the kanji stays, the selector goes.
    assert enc.encode("葛\U000e0100飾") == "葛飾".encode("cp932")
    assert enc.replaced == 3


def test_cp932_never_raises_on_any_character():
    enc = csv_encoder("cp932")
    every = "".join(chr(c) for c in range(0x20, 0x30000, 7) if not 0xD800 <= c <= 0xDFFF)
    out = enc.encode(every)
    assert out.decode("cp932")  # valid cp932 throughout
    assert enc.replaced > 0


def test_an_unknown_encoding_is_refused():
    with pytest.raises(ValueError):
        csv_encoder("latin-1")
