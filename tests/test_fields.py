"""Field types validate again on the server, whatever the browser sent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from forms_engine.fields import FIELD_TYPE_CLASSES, FIELD_TYPES, Ctx, FieldInvalid
from forms_engine.procedure_format.model import DateBound, FieldSpec, Option, Text


def spec(type_, **params):
    options = params.pop("options", ())
    return FieldSpec(
        id="x",
        type=type_,
        label=Text({"ja": "項目", "en": "Item"}),
        line=1,
        required=params.pop("required", True),
        options=tuple(Option(v, Text({"ja": v})) for v in options),
        params=params,
    )


def clean(f, raw, **ctx):
    with translation.override("ja"):
        return FIELD_TYPES[f.type].clean(f, raw, Ctx(**ctx))


def errors_of(f, raw, **ctx) -> dict:
    with pytest.raises(FieldInvalid) as info:
        clean(f, raw, **ctx)
    return info.value.errors


def test_a_name_keeps_compatibility_ideographs_and_turns_hiragana_readings_into_katakana():
    f = spec("name", kana="required")
    value = clean(
        f, {"family": "\ufa19田", "given": "太郎", "kana_family": "かみた", "kana_given": "ﾀﾛｳ"}
    )
    assert value == {
        "family": "\ufa19田",
        "given": "太郎",
        "kana_family": "カミタ",
        "kana_given": "タロウ",
    }


def test_a_required_reading_is_asked_for_part_by_part():
    f = spec("name", kana="required")
    errors = errors_of(
        f, {"family": "山田", "given": "", "kana_family": "", "kana_given": "タロウ"}
    )
    assert set(errors) == {"__-given", "__-kana_family"}


def test_text_is_normalised_before_its_length_is_checked():
    f = spec("text", max_length=5)
    assert clean(f, "ＡＢＣ１２") == "ABC12"
    assert errors_of(f, "ＡＢＣ１２３")


def test_checkbox_limits_and_unknown_values_are_refused():
    f = spec("checkboxes", options=("a", "b", "c"), min_selected=1, max_selected=2)
    assert clean(f, ["c", "a"]) == ["a", "c"]
    assert errors_of(f, ["a", "b", "c"])
    assert errors_of(f, ["a", "zzz"])
    assert errors_of(f, [])


def test_a_select_refuses_a_value_that_is_not_an_option():
    assert errors_of(spec("select", options=("a",)), "b")


def test_dates_respect_offset_bounds_and_accept_era_years():
    today = dt.date(2026, 11, 26)
    f = spec("date", max=DateBound(kind="offset", amount=-18, unit="y"), era=True)
    assert clean(f, {"year": "昭和60", "month": "4", "day": "1"}, today=today) == "1985-04-01"
    assert errors_of(f, {"year": "2010", "month": "1", "day": "1"}, today=today)
    assert errors_of(f, {"year": "2001", "month": "2", "day": "30"}, today=today)


def test_bank_accounts_are_checked_part_by_part():
    f = spec("bank_account")
    value = clean(
        f,
        {
            "bank_code": "０００１",
            "branch_code": "001",
            "account_type": "ordinary",
            "number": "12345",
            "holder": "やまだ たろう",
        },
    )
    assert value["number"] == "0012345" and value["holder"].startswith("ヤマダ")
    errors = errors_of(
        f,
        {
            "bank_code": "1",
            "branch_code": "001",
            "account_type": "ordinary",
            "number": "1",
            "holder": "ヤマダ",
        },
    )
    assert "__-bank_code" in errors


def test_a_consent_must_be_ticked_even_when_not_marked_required():
    assert errors_of(spec("consent", required=False), "")


def test_rendered_fields_tie_errors_and_help_to_the_input():
    f = FieldSpec(id="phone", type="tel", label=Text({"ja": "電話番号"}), line=1, required=True)
    html = FIELD_TYPES["tel"].render(f, "12", "f-phone", {"f-phone": ["エラーです"]}, Ctx())
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="f-phone-help f-phone-error"' in html
    assert 'id="f-phone-error"' in html
    assert '<label class="field__label" for="f-phone">' in html


def test_rendering_escapes_what_a_resident_typed():
    f = spec("text")
    html = FIELD_TYPES["text"].render(f, '"><script>alert(1)</script>', "f-x", {}, Ctx())
    assert "<script>" not in html


@pytest.mark.parametrize(
    ("type_", "part"),
    [
        ("bank_account", "bank_code"),
        ("bank_account", "holder"),
        ("address", "city"),
        ("name", "given"),
    ],
)
def test_each_part_of_a_compound_answer_ties_its_error_to_its_input(type_, part):
    f = spec(type_, kana="none") if type_ == "name" else spec(type_)
    html = FIELD_TYPES[type_].render(f, {}, "f-x", {f"f-x-{part}": ["エラーです"]}, Ctx())
    assert f'id="f-x-{part}-error"' in html
    assert (
        f'name="f-x-{part}" value="" aria-describedby="f-x-{part}-error" aria-invalid="true"'
        in html
    )


# ---- bounded work ----------------------------------------------------------------------

HUGE = "9" * 1_000_000


def huge_post(f, name="f-x") -> dict:
    """Every input a field of this type reads, each one a megabyte long."""
    parts = {
        "name": ("family", "given", "kana_family", "kana_given"),
        "address": ("prefecture", "city", "town", "building"),
        "bank_account": ("bank_code", "branch_code", "account_type", "number", "holder"),
        "date": ("year", "month", "day"),
    }.get(f.type)
    if parts:
        return {f"{name}-{p}": HUGE for p in parts}
    return {name: HUGE}


class _Post(dict):
    def getlist(self, key):
        value = self.get(key, [])
        return value if isinstance(value, list) else [value]


ANSWERING_TYPES = sorted(set(FIELD_TYPES) - {"file", "static", "group"})


def spec_of(type_):
    if type_ in ("select", "radio", "checkboxes"):
        return spec(type_, options=("a", "bb"))
    return spec(type_, kana="optional") if type_ == "name" else spec(type_)


@pytest.mark.parametrize("type_", ANSWERING_TYPES)
def test_every_type_refuses_a_huge_input_before_normalising_it(
    type_, monkeypatch, replace_in_normalize
):
    def never(*args, **kwargs):
        raise AssertionError("the normaliser ran")

    for function in ("normalize_text", "normalize_email", "to_katakana"):
        replace_in_normalize(function, never)
    for cls in FIELD_TYPE_CLASSES.values():  # types holding their normaliser (email, tel)
        if getattr(cls, "normalizer", None) is not None:
            monkeypatch.setattr(cls, "normalizer", staticmethod(never))
    f = spec_of(type_)
    raw = HUGE if type_ != "checkboxes" else [HUGE]
    if type_ in ("name", "address", "bank_account", "date"):
        raw = {k.rsplit("-", 1)[1]: v for k, v in huge_post(f).items()}
    assert errors_of(f, raw)


@pytest.mark.parametrize("type_", ANSWERING_TYPES)
def test_what_is_kept_of_a_huge_input_is_small(type_):
    f = spec_of(type_)
    data = _Post(huge_post(f))
    if type_ == "checkboxes":
        data = _Post({"f-x": [HUGE] * 5000})
    raw = FIELD_TYPES[type_].extract(f, data, "f-x", Ctx())
    assert len(repr(raw)) < 25_000
    assert errors_of(f, raw)  # and it is still refused, not cut into something valid


def test_a_too_long_part_of_a_compound_answer_is_tied_to_its_input():
    errors = errors_of(spec("address"), {"prefecture": "大阪府", "city": "x" * 1000, "town": "1"})
    assert set(errors) == {"__-city"}


def test_a_checkbox_list_longer_than_its_options_is_cut_when_read():
    f = spec("checkboxes", options=("a", "b"))
    raw = FIELD_TYPES["checkboxes"].extract(f, _Post({"f-x": ["a"] * 5000}), "f-x", Ctx())
    assert len(raw) == 3


def test_a_group_reads_no_more_entries_than_its_ceiling_whatever_is_posted():
    from forms_engine.procedure_format.model import MAX_GROUP_ENTRIES

    child = spec("text")
    group = FieldSpec(
        id="g",
        type="group",
        label=Text({"ja": "グループ"}),
        line=1,
        fields=(child,),
        params={"repeat_max": 10**9},
    )
    data = _Post({"f-g-count": str(10**9)})
    assert len(FIELD_TYPES["group"].extract(group, data, "f-g", Ctx())) == MAX_GROUP_ENTRIES


def test_a_long_but_valid_input_is_not_refused_for_what_normalising_removes():
    # Half-width ｶﾞ is two characters typed, one kept: the raw limit leaves room for that.
    f = spec("kana", max_length=10)
    assert clean(f, "\uff76\uff9e" * 10) == "ガ" * 10


@pytest.fixture
def watchdog():
    """Turns a match that would never end into a failure (it is not a timing check: the
    linear engine answers in microseconds, a backtracking one in years)."""
    import signal

    class NeverEnds(Exception):
        pass

    def stop(signum, frame):
        raise NeverEnds("the pattern is still running after 20 s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 20)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_a_pattern_that_backtracks_exponentially_is_answered_in_linear_time(watchdog):
    f = spec("text", pattern="([A-Za-z0-9]+)*", max_length=100)
    assert clean(f, "a" * 60 + "B") == "a" * 60 + "B"
    assert errors_of(f, "a" * 60 + "!") == {"": ["入力の形式を確認してください。"]}


@pytest.mark.parametrize(
    ("type_", "default"), [("text", 1000), ("textarea", 10_000), ("kana", 200)]
)
def test_a_field_without_max_length_is_held_to_its_types_default_after_normalising(type_, default):
    f = spec(type_)
    letter = "ア" if type_ == "kana" else "a"
    assert clean(f, letter * default) == letter * default
    # Past the default but within the raw allowance (twice the limit and some room), the
    # same message as a max_length from the file.
    assert errors_of(f, letter * (default + 1)) == {
        "": [f"{default}文字以内で入力してください（現在{default + 1}文字）。"]
    }
