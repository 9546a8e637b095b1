"""Field types validate again on the server, whatever the browser sent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from forms_engine.fields import FIELD_TYPES, Ctx, FieldInvalid
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
