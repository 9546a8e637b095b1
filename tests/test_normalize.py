"""forms_engine.normalize: examples for every function, the Japanese traps, and properties.

Characters whose identity matters are written as escapes: an editor or a paste can
silently normalise a compatibility ideograph, and then the test would prove nothing.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stdnum.jp import cn as stdnum_cn

from forms_engine import normalize as n
from forms_engine.normalize import Invalid

KAMI_COMPAT = "\ufa19"  # 神 CJK COMPATIBILITY IDEOGRAPH-FA19
KAMI_UNIFIED = "\u795e"  # 神 what NFKC would turn it into
SAKI = "\ufa11"  # 﨑 (unified despite its block; NFKC keeps it)
RAN_COMPAT = "\uf91d"  # 欄
COMPAT_SUPPLEMENT = "\U0002f800"  # 丽 CJK COMPATIBILITY IDEOGRAPH-2F800
YOSHI = "\U00020bb7"  # 𠮷 (tsuchi-yoshi, outside the BMP)
IVS_KATSU = "\u845b\U000e0100"  # 葛 + variation selector: a registered name glyph
WAVE_DASH = "\u301c"  # 〜
FULLWIDTH_TILDE = "\uff5e"  # ～
CIRCLED_ONE = "\u2460"  # ①
KABU = "\u3231"  # ㈱
IDEOGRAPHIC_SPACE = "\u3000"
CHOON = "\u30fc"  # ー

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def is_protected(ch: str) -> bool:
    cp = ord(ch)
    return cp > 0xFFFF or 0xF900 <= cp <= 0xFAFF


def invalid_code(fn, *args, **kwargs) -> str:
    with pytest.raises(Invalid) as info:
        fn(*args, **kwargs)
    return info.value.code


def widen(s: str) -> str:
    """ASCII digits and letters to their full-width forms."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in s)


# ------------------------------------------------------------------------------- module


def test_no_django_imports():
    package = Path(n.__file__).parent
    for path in [*sorted(package.glob("*.py")), package.parent / "postal.py"]:
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(name.split(".")[0] == "django" for name in names), path.name


def test_every_raised_code_has_a_message_and_every_message_is_used():
    modules = sorted(Path(n.__file__).parent.glob("*.py"))
    assert len(modules) > 1  # the package's modules, not only its __init__
    source = "\n".join(path.read_text(encoding="utf-8") for path in modules)
    raised = set(re.findall(r'Invalid\(\s*"([a-z_]+)"', source))
    passed = set(re.findall(r'\bas_text\([^,]+, "([a-z_]+)"', source))
    passed |= set(re.findall(r'_digits_part\([^)]*"([a-z_]+_invalid)"', source))
    assert raised | passed == set(n.MESSAGES)


def test_invalid_carries_code_params_and_message():
    exc = Invalid("bank_code_invalid", {"part": "bank_code"})
    assert isinstance(exc, ValueError)
    assert exc.code == "bank_code_invalid"
    assert exc.params == {"part": "bank_code"}
    assert exc.message == n.MESSAGES["bank_code_invalid"]
    assert Invalid("phone_invalid").params == {}


# ------------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Compatibility ideographs and non-BMP name characters survive untouched.
        (KAMI_COMPAT + "田", KAMI_COMPAT + "田"),
        ("山" + SAKI, "山" + SAKI),
        (RAN_COMPAT, RAN_COMPAT),
        (COMPAT_SUPPLEMENT, COMPAT_SUPPLEMENT),
        (YOSHI + "野家", YOSHI + "野家"),
        (IVS_KATSU + "飾", IVS_KATSU + "飾"),
        # Width folding.
        ("ＡＢＣ ａｂｃ １２３！？＠", "ABC abc 123!?@"),
        ("\uff76\uff9e\uff77\uff9e \uff8a\uff9f", "ガギ パ"),  # ｶﾞｷﾞ ﾊﾟ
        ("\uff73\uff9e", "\u30f4"),  # ｳﾞ -> ヴ
        ("\uff71\uff9e", "ア\u309b"),  # ｱﾞ has no composed form: spacing ゛
        ("\uff61\uff62\uff63\uff64\uff65\uff70", "。「」、・ー"),
        ("か\u3099", "が"),  # decomposed (macOS) kana are composed
        # Kept as typed: enclosed, square and full-width currency characters.
        (CIRCLED_ONE + "２", CIRCLED_ONE + "2"),
        (KABU + "山田商事", KABU + "山田商事"),
        ("\u337b", "\u337b"),  # ㍻
        ("\uffe5１，０００", "\uffe51,000"),  # ￥1,000
        # Tilde and wave dash.
        (f"10時{FULLWIDTH_TILDE}12時", f"10時{WAVE_DASH}12時"),
        (f"10時{WAVE_DASH}12時", f"10時{WAVE_DASH}12時"),
        ("~user", "~user"),
        # Dashes.
        ("1ー2ー3", "1-2-3"),
        ("１ー２ー３", "1-2-3"),
        ("3丁目1‐2", "3丁目1-2"),
        ("1—2–3−4―5", "1-2-3-4-5"),
        ("ラーメン", "ラーメン"),
        ("ー1", "ー1"),
        ("A－B", "A-B"),
        # Spaces and invisible characters.
        ("山田" + IDEOGRAPHIC_SPACE + "太郎", "山田 太郎"),
        (IDEOGRAPHIC_SPACE + " 山田 " + IDEOGRAPHIC_SPACE, "山田"),
        ("a\u00a0b", "a b"),
        ("a\tb", "a b"),
        ("a\r\nb\nc", "a b c"),
        ("a\x00b\x07c\x7fd", "abcd"),
        ("a\u200bb\ufeffc\u202ed", "abcd"),
        ("\u2f24阪", "大阪"),  # Kangxi radical from a PDF copy
    ],
)
def test_normalize_text_examples(raw, expected):
    assert n.normalize_text(raw) == expected


def test_normalize_text_keeps_the_exact_code_points():
    out = n.normalize_text(KAMI_COMPAT + SAKI + YOSHI)
    assert [hex(ord(c)) for c in out] == ["0xfa19", "0xfa11", "0x20bb7"]
    assert KAMI_UNIFIED not in out
    # What full NFKC would have done (the reason for all this):
    assert unicodedata.normalize("NFKC", KAMI_COMPAT) == KAMI_UNIFIED


def test_normalize_text_multiline():
    raw = f"\r\n\n{IDEOGRAPHIC_SPACE}字下げの段落。 \r\n\r\n次の段落\t続き{IDEOGRAPHIC_SPACE}\n\n\n"
    assert n.normalize_text(raw, multiline=True) == (
        f"{IDEOGRAPHIC_SPACE}字下げの段落。\n\n次の段落 続き"
    )
    assert n.normalize_text("a\rb\u2028c", multiline=True) == "a\nb\nc"
    assert n.normalize_text(" \n \n", multiline=True) == ""


text_with_traps = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(
            [
                KAMI_COMPAT,
                SAKI,
                RAN_COMPAT,
                COMPAT_SUPPLEMENT,
                YOSHI,
                "\U000e0100",
                WAVE_DASH,
                FULLWIDTH_TILDE,
                CHOON,
                "\uff70",
                "\uff0d",
                "\u2212",
                "1",
                "２",
                "\uff76",
                "\uff9e",
                "\uff9f",
                "\u309b",
                "\u3099",
                "か",
                IDEOGRAPHIC_SPACE,
                " ",
                "\n",
                "\r",
                "\t",
                "\x00",
                "\u200b",
                CIRCLED_ONE,
                KABU,
                "\u2f24",
            ]
        ),
    ),
    max_size=40,
)


@FAST
@given(text_with_traps, st.booleans())
def test_normalize_text_is_idempotent(s, multiline):
    once = n.normalize_text(s, multiline=multiline)
    assert n.normalize_text(once, multiline=multiline) == once


@FAST
@given(text_with_traps, st.booleans())
def test_normalize_text_never_changes_compat_ideographs_or_non_bmp(s, multiline):
    out = n.normalize_text(s, multiline=multiline)
    assert [c for c in out if is_protected(c)] == [c for c in s if is_protected(c)]


@FAST
@given(text_with_traps)
def test_normalize_text_one_line_has_no_controls_or_edges(s):
    out = n.normalize_text(s)
    assert out == out.strip()
    assert not any(unicodedata.category(c) == "Cc" for c in out)
    assert IDEOGRAPHIC_SPACE not in out and FULLWIDTH_TILDE not in out


def test_a_crafted_run_of_combining_marks_is_cut_to_thirty():
    # CPython's NFC sorts a run of marks in quadratic time; Unicode's stream-safe format
    # never needs more than 30 in a row, and nobody types more.
    marks = "\u0301\u0316" * 1000  # acute above, grave below: NFC reorders them
    out = n.normalize_text("a" + marks + "b")
    assert out.endswith("b")
    assert sum(1 for c in out if unicodedata.combining(c)) <= 30


def test_ordinary_combining_marks_are_kept():
    assert n.normalize_text("e\u0301") == "\u00e9"
    assert n.normalize_text("\u0e01\u0e34\u0e48") == "\u0e01\u0e34\u0e48"  # Thai: two marks


@FAST
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40), st.booleans())
def test_plain_ascii_is_normalised_as_any_text_is(s, multiline):
    # The fast path for ASCII gives what the general one would: a zero-width space
    # (removed) sends the same text down the general path.
    assert n.normalize_text(s, multiline) == n.normalize_text(s + "\u200b", multiline)


# ------------------------------------------------------------------------------- kana


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("やまだ" + IDEOGRAPHIC_SPACE + "たろう", "ヤマダ タロウ"),
        ("\uff94\uff8f\uff80\uff9e \uff80\uff9b\uff73", "ヤマダ タロウ"),  # ﾔﾏﾀﾞ ﾀﾛｳ
        ("\uff76\uff9e\uff6f\uff7a\uff73", "ガッコウ"),  # ｶﾞｯｺｳ
        ("か\u309b", "ガ"),  # spacing ゛ after a kana
        ("う\u309b", "ヴ"),
        ("は\u309c", "パ"),
        ("ゝゞ", "ヽヾ"),
        ("ヤマダ", "ヤマダ"),
        ("ゕゖ", "ヵヶ"),
    ],
)
def test_to_katakana_examples(raw, expected):
    assert n.to_katakana(raw) == expected


def test_to_katakana_maps_every_hiragana_letter():
    for cp in range(0x3041, 0x3097):
        assert n.to_katakana(chr(cp)) == chr(cp + 0x60), hex(cp)


@FAST
@given(text_with_traps)
def test_to_katakana_is_idempotent(s):
    once = n.to_katakana(s)
    assert n.to_katakana(once) == once


@FAST
@given(st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x3096), min_size=1))
def test_hiragana_always_validates_as_katakana(s):
    assert n.validate_katakana(s) == "".join(chr(ord(c) + 0x60) for c in s)


def test_validate_katakana():
    assert n.validate_katakana("ヤマダ・タロウ") == "ヤマダ・タロウ"
    assert n.validate_katakana("すずき" + IDEOGRAPHIC_SPACE + "はなこ") == "スズキ ハナコ"
    assert n.validate_katakana("") == ""
    for bad in ("山田", "yamada", "ヤマダ1", "ア\u309b", KAMI_COMPAT, None):
        assert invalid_code(n.validate_katakana, bad) == "kana_only"


# ------------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("09012345678", "090-1234-5678"),
        ("090-1234-5678", "090-1234-5678"),
        ("０９０－１２３４－５６７８", "090-1234-5678"),
        ("090 1234 5678", "090-1234-5678"),
        ("03ー1234ー5678", "03-1234-5678"),
        ("(03)1234-5678", "03-1234-5678"),
        ("03(1234)5678", "03-1234-5678"),
        ("（０６）６９４４－６０００", "06-6944-6000"),
        ("0312345678", "03-1234-5678"),
        ("0669446000", "06-6944-6000"),
        ("0120123456", "0120-123-456"),
        ("0570123456", "0570-123-456"),
        ("08001234567", "0800-123-4567"),
        ("05012345678", "050-1234-5678"),
        ("02012345678", "020-1234-5678"),
        ("07012345678", "070-1234-5678"),
        ("0422511234", "0422511234"),  # area-code length unknowable: digits only
        ("0422-51-1234", "0422-51-1234"),  # the user's grouping is kept
        ("042-251-1234", "042-251-1234"),
        ("03-12345678", "03-12345678"),
        ("0 3 1 2 3 4 5 6 7 8", "03-1234-5678"),  # not a grouping: canonical form
        ("0-90-1234-5678", "090-1234-5678"),
        ("+81 90 1234 5678", "090-1234-5678"),
        ("+81-3-1234-5678", "03-1234-5678"),
        ("+81 (0)3 1234 5678", "03-1234-5678"),
        ("+819012345678", "090-1234-5678"),
        ("＋８１　９０　１２３４　５６７８", "090-1234-5678"),
    ],
)
def test_normalize_phone_examples(raw, expected):
    assert n.normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1234",
        "0901234567",  # mobile prefix with 10 digits
        "031234567",  # 9 digits
        "031234567890",
        "0012345678",  # international prefix
        "06012345678",  # 060 is not an 11-digit service here
        "090-1234-567a",
        "+1 555 123 4567",
        "03-1234-5678 内線12",
        CIRCLED_ONE + "3-1234-5678",
        None,
    ],
)
def test_normalize_phone_rejects(raw):
    assert invalid_code(n.normalize_phone, raw) == "phone_invalid"


eleven_digit = st.tuples(
    st.sampled_from(["070", "080", "090", "050", "020", "0800"]), st.integers(0, 10**8 - 1)
).map(lambda t: (t[0] + str(t[1]).zfill(11 - len(t[0])))[:11])
ten_digit = (
    st.integers(1, 9)
    .flatmap(lambda d: st.integers(0, 10**8 - 1).map(lambda r: f"0{d}{r:08d}"))
    .filter(lambda d: not d.startswith(("070", "080", "090", "050", "020")))
)
PHONE_SEPARATORS = ["-", " ", "－", "ー", "‐", " - ", IDEOGRAPHIC_SPACE, "−"]


@FAST
@given(st.one_of(eleven_digit, ten_digit), st.data())
def test_normalize_phone_accepts_any_valid_number_in_any_form(digits, data):
    cuts = sorted(data.draw(st.sets(st.integers(1, len(digits) - 1), max_size=3)))
    groups = [digits[i:j] for i, j in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    seps = [data.draw(st.sampled_from(PHONE_SEPARATORS)) for _ in groups[1:]]
    raw = groups[0] + "".join(s + g for s, g in zip(seps, groups[1:], strict=True))
    if len(groups) > 1 and data.draw(st.booleans()):
        raw = f"({groups[0]})" + raw[len(groups[0]) :]
    if data.draw(st.booleans()):
        raw = widen(raw)
    out = n.normalize_phone(raw)
    assert re.fullmatch(r"[0-9]+(-[0-9]+)*", out)
    assert out.replace("-", "") == digits
    # The +81 form names the same number.
    assert n.normalize_phone("+81 " + digits[1:]).replace("-", "") == digits


# ------------------------------------------------------------------------------- postal


@pytest.mark.parametrize(
    "raw",
    [
        "540-8570",
        "５４０８５７０",
        "〒540-8570",
        "540 8570",
        "〒 ５４０－８５７０",
        "540ー8570",
        "5408570",
    ],
)
def test_normalize_postal_code(raw):
    assert n.normalize_postal_code(raw) == "5408570"


@pytest.mark.parametrize(
    "raw", ["", "540857", "54085700", "54-08570", "540-857O", "〒", "abc-defg", None]
)
def test_normalize_postal_code_rejects(raw):
    assert invalid_code(n.normalize_postal_code, raw) == "postal_invalid"


@FAST
@given(
    st.integers(0, 10**7 - 1).map(lambda i: f"{i:07d}"),
    st.sampled_from(["", "-", " ", "－", "ー", "‐", IDEOGRAPHIC_SPACE]),
    st.sampled_from(["", "〒", "〒 "]),
    st.booleans(),
)
def test_postal_code_formats(digits, sep, mark, wide):
    raw = mark + digits[:3] + sep + digits[3:]
    assert n.normalize_postal_code(widen(raw) if wide else raw) == digits


# ------------------------------------------------------------------------------- 法人番号


def test_corporate_number_examples():
    assert n.normalize_corporate_number("5835678256246") == "5835678256246"
    assert n.normalize_corporate_number("5-8356-7825-6246") == "5835678256246"
    assert n.normalize_corporate_number("５８３５６７８２５６２４６") == "5835678256246"
    assert invalid_code(n.normalize_corporate_number, "2835678256246") == (
        "corporate_number_checksum"
    )
    for bad in ("583567825624", "58356782562460", "583567825624X", "", None):
        assert invalid_code(n.normalize_corporate_number, bad) == "corporate_number_length"


bodies = st.integers(0, 10**12 - 1).map(lambda i: f"{i:012d}")


@FAST
@given(bodies)
def test_corporate_number_with_computed_check_digit_is_valid(body):
    number = stdnum_cn.calc_check_digit(body) + body
    assert n.normalize_corporate_number(number) == number


@FAST
@given(bodies, st.integers(0, 12), st.integers(1, 9))
def test_corporate_number_single_digit_change_is_invalid(body, position, delta):
    number = stdnum_cn.calc_check_digit(body) + body
    new_digit = str((int(number[position]) + delta) % 10)
    # The check is a sum modulo 9, so swapping 0 and 9 in the body is invisible to it.
    assume(not (position > 0 and {number[position], new_digit} == {"0", "9"}))
    changed = number[:position] + new_digit + number[position + 1 :]
    assert invalid_code(n.normalize_corporate_number, changed) == "corporate_number_checksum"


def test_corporate_number_blind_spot_is_the_0_9_swap():
    body = "000000000001"
    number = stdnum_cn.calc_check_digit(body) + body
    swapped = number[:1] + "9" + number[2:]
    assert n.normalize_corporate_number(swapped) == swapped


# ------------------------------------------------------------------------------- bank


def test_bank_account_normalised():
    assert n.normalize_bank_account("０００５", "１２３", "普通", "１２３４", "ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ") == {
        "bank_code": "0005",
        "branch_code": "123",
        "account_type": "ordinary",
        "number": "0001234",
        "holder": "カ）ヤマダショウジ",
    }
    out = n.normalize_bank_account(
        "0001", "001", "checking", "7654321", "やまだ" + IDEOGRAPHIC_SPACE + " たろう"
    )
    assert out["account_type"] == "checking"
    assert out["number"] == "7654321"
    assert out["holder"] == "ヤマダ タロウ"
    assert n.normalize_bank_account("0001", "001", "当座", "1", "abc 12.-/ー")["holder"] == (
        "ＡＢＣ １２．-／ー"
    )
    # Kana without a half-width form become the plain kana the bank records.
    assert n.normalize_bank_account("0001", "001", "ordinary", "1", "ヱビス")["holder"] == "エビス"


@pytest.mark.parametrize(
    ("args", "code", "part"),
    [
        (("123", "001", "ordinary", "1", "ヤマダ"), "bank_code_invalid", "bank_code"),
        (("12345", "001", "ordinary", "1", "ヤマダ"), "bank_code_invalid", "bank_code"),
        (("0001", "01", "ordinary", "1", "ヤマダ"), "bank_branch_code_invalid", "branch_code"),
        (("0001", "001", "savings", "1", "ヤマダ"), "bank_account_type_invalid", "account_type"),
        (("0001", "001", "ordinary", "", "ヤマダ"), "bank_number_invalid", "number"),
        (("0001", "001", "ordinary", "12345678", "ヤマダ"), "bank_number_invalid", "number"),
        (("0001", "001", "ordinary", "1", "山田太郎"), "bank_holder_invalid", "holder"),
        (("0001", "001", "ordinary", "1", "ヤマダ・タロウ"), "bank_holder_invalid", "holder"),
        (("0001", "001", "ordinary", "1", ""), "bank_holder_invalid", "holder"),
        (("0001", "001", "ordinary", "1", None), "bank_holder_invalid", "holder"),
    ],
)
def test_bank_account_errors_name_their_part(args, code, part):
    with pytest.raises(Invalid) as info:
        n.normalize_bank_account(*args)
    assert info.value.code == code
    assert info.value.params == {"part": part}


# ------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("raw", "integer", "expected"),
    [
        ("1234", True, 1234),
        ("１２３４", True, 1234),
        ("1,234,567", True, 1234567),
        ("１，２３４", True, 1234),
        ("－５", True, -5),
        ("−5", True, -5),
        ("+7", True, 7),
        ("3.0", True, 3),
        ("3.5", False, 3.5),
        (".5", False, 0.5),
        ("-1,000.25", False, -1000.25),
        (" 42 ", True, 42),
    ],
)
def test_normalize_number(raw, integer, expected):
    value = n.normalize_number(raw, integer=integer)
    assert value == expected
    assert type(value) is (int if integer else float)


@pytest.mark.parametrize(
    ("raw", "integer", "code"),
    [
        ("3.5", True, "number_not_integer"),
        ("0.1", True, "number_not_integer"),
        ("", True, "number_invalid"),
        ("-", True, "number_invalid"),
        ("1,5", False, "number_invalid"),
        ("12,34", True, "number_invalid"),
        ("1e5", True, "number_invalid"),
        ("10円", True, "number_invalid"),
        (CIRCLED_ONE, True, "number_invalid"),
        ("NaN", False, "number_invalid"),
    ],
)
def test_normalize_number_rejects(raw, integer, code):
    assert invalid_code(n.normalize_number, raw, integer=integer) == code


# ------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("year", "expected_year"),
    [
        ("1985", 1985),
        ("１９８５", 1985),
        ("1985年", 1985),
        ("令和8", 2026),
        ("R8", 2026),
        ("r8", 2026),
        ("Ｒ８", 2026),
        ("令和８年", 2026),
        ("令和元年", 2019),
        ("令和元", 2019),
        ("R元", 2019),
        ("平成31", 2019),
        ("H31", 2019),
        ("H.31", 2019),
        ("\u337b31", 2019),  # ㍻31
        ("平成33", 2021),  # old era printed on documents issued before 2019
        ("昭和60", 1985),
        ("S60", 1985),
        ("昭和 64", 1989),
        ("大正15", 1926),
        ("明治45", 1912),
    ],
)
def test_parse_date_parts_years(year, expected_year):
    assert n.parse_date_parts(year, "4", "1") == date(expected_year, 4, 1)


def test_parse_date_parts_month_and_day_forms():
    assert n.parse_date_parts("令和8", "１１月", "２６日") == date(2026, 11, 26)
    assert n.parse_date_parts("2024", "02", "29") == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("year", "month", "day"),
    [
        ("2023", "2", "29"),
        ("2026", "13", "1"),
        ("2026", "0", "1"),
        ("85", "1", "1"),
        ("令和0", "1", "1"),
        ("X8", "1", "1"),
        ("令和", "1", "1"),
        ("", "1", "1"),
        ("2026", "", "1"),
        ("2026", "1", "一"),
        (None, "1", "1"),
    ],
)
def test_parse_date_parts_rejects(year, month, day):
    assert invalid_code(n.parse_date_parts, year, month, day) == "date_invalid"


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 11, 26), "令和8年11月26日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1912, 7, 29), "明治45年7月29日"),
    ],
)
def test_wareki(d, expected):
    assert n.wareki(d) == expected
    assert expected.startswith(n.wareki_year(d))


@FAST
@given(st.dates(min_value=date(1927, 1, 1), max_value=date(2030, 12, 31)))
def test_wareki_round_trip(d):
    assert n.parse_date_parts(n.wareki_year(d), str(d.month), str(d.day)) == d
    era, year = re.fullmatch(r"(..)(.+)年", n.wareki_year(d)).groups()
    assert n.parse_date_parts(era + year, f"{d.month}月", f"{d.day}日") == d


@pytest.mark.parametrize(
    ("kind", "iso", "amount", "unit", "today", "expected"),
    [
        ("date", "2026-04-01", 0, "d", date(2026, 11, 26), date(2026, 4, 1)),
        ("today", None, 0, "d", date(2026, 11, 26), date(2026, 11, 26)),
        ("offset", None, -18, "y", date(2026, 11, 26), date(2008, 11, 26)),
        ("offset", None, -18, "y", date(2024, 2, 29), date(2006, 2, 28)),
        ("offset", None, 4, "y", date(2024, 2, 29), date(2028, 2, 29)),
        ("offset", None, 30, "d", date(2026, 12, 15), date(2027, 1, 14)),
        ("offset", None, 1, "m", date(2026, 1, 31), date(2026, 2, 28)),
        ("offset", None, -2, "m", date(2026, 1, 15), date(2025, 11, 15)),
    ],
)
def test_resolve_date_bound(kind, iso, amount, unit, today, expected):
    assert n.resolve_date_bound(kind, iso, amount, unit, today) == expected


def test_resolve_date_bound_rejects_unknown_kinds():
    with pytest.raises(ValueError):
        n.resolve_date_bound("week", None, 1, "d", date(2026, 1, 1))
    with pytest.raises(ValueError):
        n.resolve_date_bound("offset", None, 1, "w", date(2026, 1, 1))


# ------------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("taro@example.jp", "taro@example.jp"),
        (" Taro.Yamada@Example.CO.JP ", "Taro.Yamada@example.co.jp"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
        ("taro@example。jp", "taro@example.jp"),
        ("taro+tag@sub.example.lg.jp", "taro+tag@sub.example.lg.jp"),
        ("taro..yamada.@docomo.ne.jp", "taro..yamada.@docomo.ne.jp"),  # pre-2009 mobile
        ("a@例え.テスト", "a@例え.テスト"),
    ],
)
def test_normalize_email(raw, expected):
    assert n.normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "taro",
        "taro@",
        "@example.jp",
        "taro@localhost",
        "ta ro@example.jp",
        "taro@exa mple.jp",
        "taro@@example.jp",
        "a@b@example.jp",
        "taro@-example.jp",
        "taro@example..jp",
        "taro@example.jp.",
        "taro@1.2.3.4",
        "太郎@example.jp",
        "taro@example.jp\n",
        "x" * 65 + "@example.jp",
        None,
    ],
)
def test_normalize_email_rejects(raw):
    if raw == "taro@example.jp\n":
        # Surrounding whitespace is stripped, so this one is fine.
        assert n.normalize_email(raw) == "taro@example.jp"
        return
    assert invalid_code(n.normalize_email, raw) == "email_invalid"


@pytest.mark.parametrize(
    "call",
    [
        lambda v: n.normalize_phone(v),
        lambda v: n.normalize_postal_code(v),
        lambda v: n.normalize_corporate_number(v),
        lambda v: n.normalize_number(v),
        lambda v: n.parse_date_parts(v, "1", "1"),
        lambda v: n.parse_date_parts("2000", v, "1"),
        lambda v: n.normalize_bank_account(v, "001", "ordinary", "1", "ヤマダ"),
        lambda v: n.normalize_bank_account("0001", "001", "ordinary", "1", v),
        lambda v: n.normalize_email(v + "@example.jp"),
    ],
)
def test_a_short_value_far_longer_than_any_real_one_is_refused_unread(call, replace_in_normalize):
    def guard(real):
        def guarded(*args, **kwargs):
            assert all(len(a) < 1000 for a in args if isinstance(a, str)), "normalised"
            return real(*args, **kwargs)

        return guarded

    class GuardedUnicodedata:
        normalize = staticmethod(guard(unicodedata.normalize))

        def __getattr__(self, name):
            return getattr(unicodedata, name)

    replace_in_normalize("normalize_text", guard(n.normalize_text))
    replace_in_normalize("unicodedata", GuardedUnicodedata())
    with pytest.raises(Invalid):
        call("1" * 1_000_000)


# ------------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20MB", 20 * 1024**2),
        ("2GB", 2 * 1024**3),
        ("500KB", 500 * 1024),
        ("10 MB", 10 * 1024**2),
        ("10mb", 10 * 1024**2),
        ("1TB", 1024**4),
        ("123B", 123),
        ("1048576", 1048576),
        (4096, 4096),
    ],
)
def test_parse_size(raw, expected):
    assert n.parse_size(raw) == expected


@pytest.mark.parametrize(
    "raw", ["20 MiBs", "20MiB", "-1MB", "0MB", "0", 0, -5, "1.5GB", "", "MB", "20 M B", True, None]
)
def test_parse_size_rejects(raw):
    with pytest.raises(ValueError):
        n.parse_size(raw)


@FAST
@given(st.integers(1, 2**50))
def test_parse_size_round_trips_through_format(size):
    text = n.format_size_exact(size)
    assert n.parse_size(text) == size


@FAST
@given(
    st.integers(1, 10**6),
    st.sampled_from(["B", "KB", "MB", "GB", "TB"]),
    st.sampled_from(["", " "]),
    st.booleans(),
)
def test_parse_size_units(amount, unit, space, lower):
    text = f"{amount}{space}{unit.lower() if lower else unit}"
    assert (
        n.parse_size(text)
        == amount * {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}[unit]
    )


# ------------------------------------------------------------------------------- files


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = b"ftyp" + major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (len(body) + 4).to_bytes(4, "big") + body + b"\x00\x00\x00\x08meta"


@pytest.mark.parametrize(
    ("head", "name", "zip_names", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "scan.bin", None, "pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "photo.png", None, "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "x", None, "png"),
        (ftyp(b"heic", b"mif1", b"heic"), "IMG_0001.HEIC", None, "heic"),
        (ftyp(b"mif1", b"mif1", b"heic"), "a.heic", None, "heic"),
        (ftyp(b"msf1", b"msf1"), "a.heic", None, "heic"),
        (ftyp(b"avif", b"mif1", b"miaf"), "a.avif", None, None),
        (ftyp(b"mif1", b"mif1", b"avif"), "a.avif", None, None),
        (ftyp(b"isom", b"mp41"), "movie.mp4", None, None),
        (b"PK\x03\x04\x14\x00", "a.docx", ["[Content_Types].xml", "word/document.xml"], "docx"),
        (b"PK\x03\x04\x14\x00", "a.xlsx", ["[Content_Types].xml", "xl/workbook.xml"], "xlsx"),
        (b"PK\x03\x04\x14\x00", "a.docm", ["word/document.xml", "word/vbaProject.bin"], None),
        (b"PK\x03\x04\x14\x00", "a.zip", ["a.txt"], "zip"),
        (b"PK\x03\x04\x14\x00", "a.docx", None, "zip"),
        (b"PK\x05\x06" + b"\x00" * 18, "empty.zip", [], "zip"),
        ("氏名,住所\n山田,大阪\n".encode(), "list.CSV", None, "csv"),
        ("氏名,住所\r\n山田,大阪\r\n".encode("cp932"), "list.csv", None, "csv"),
        ("\ufeff氏名\n".encode(), "memo.txt", None, "txt"),
        ("メモ".encode("cp932"), "memo", None, "txt"),
        ("あいう".encode()[:-1], "cut.txt", None, "txt"),  # head ends inside a character
        (b"\x00\x01\x02\x03", "data.csv", None, None),
        ("abc".encode("utf-16"), "u16.txt", None, None),
        (b'\x1b$B$"\x1b(B', "jis.txt", None, None),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old.doc", None, None),
        (b"GIF89a\x01\x00", "a.gif", None, None),
        (b"\x80\x81\xff\xfe\xfd", "bin.txt", None, None),
        (b"", "empty.txt", None, None),
    ],
)
def test_sniff_file_kind(head, name, zip_names, expected):
    assert n.sniff_file_kind(head, name, zip_names) == expected


def test_file_matches_accept():
    assert n.file_matches_accept("pdf", ["pdf", "jpeg"])
    assert not n.file_matches_accept("png", ["pdf", "jpeg"])
    assert n.file_matches_accept("csv", ["txt"])
    assert not n.file_matches_accept("txt", ["csv"])
    assert not n.file_matches_accept("docx", ["zip"])
    assert n.file_matches_accept("heic", [])
    assert n.file_matches_accept("zip", None)
    assert not n.file_matches_accept(None, ["pdf"])
    assert not n.file_matches_accept(None, [])
    assert not n.file_matches_accept("exe", [])
