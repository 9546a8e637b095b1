"""The CSV export of a list of submissions: columns by each row's own version, compound
answers flattened by the documented rule, both encodings, streamed in chunks."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition
from django.utils import translation

from forms_engine import models as m
from forms_engine.documents import csv_export
from forms_engine.documents.csv_export import CsvExport
from forms_engine.documents.flatten import FLATTENERS
from forms_engine.fields import FIELD_TYPES

from .conftest import make_submission

EVERY_ANSWER = {
    "title_text": "Annual report",
    "note": "一行目\n二行目",
    "copies": 3,
    "weight": 1.5,
    "mail": "taro@example.jp",
    "tel": "0612345678",
    "when": "2026-12-24",
    "color": "blue",
    "extras": ["c", "a"],
    "agree_news": False,
    "who": {"family": "𠮷田", "given": "太郎", "kana_family": "ヨシダ", "kana_given": "タロウ"},
    "zip": "5400008",
    "addr": {"prefecture": "大阪府", "city": "大阪市中央区", "town": "大手前1-1", "building": ""},
    "account": {
        "bank_code": "0001",
        "branch_code": "001",
        "account_type": "ordinary",
        "number": "1234567",
        "holder": "ヨシダ　タロウ",
    },
    "helpers": [
        {
            "helper_name": {
                "family": "山田",
                "given": "花子",
                "kana_family": "ヤマダ",
                "kana_given": "ハナコ",
            },
            "helper_role": "lead",
            "helper_doc": [{"id": "x", "name": "委任状.pdf", "size": 2048}],
        },
    ],  # fmt: skip
    "docs": [
        {"id": "a", "name": "a.png", "size": 10},
        {"id": "b", "name": "b.pdf", "size": 3 << 20},
    ],
    "ok": True,
}


def read(export: CsvExport, encoding: str) -> list[list[str]]:
    data = b"".join(export)
    text = data.decode("utf-8-sig" if encoding == "utf-8" else "cp932")
    return list(csv.reader(io.StringIO(text, newline="")))


def every_field(test_town) -> m.Procedure:
    return m.Procedure.objects.get(organization=test_town, slug="every-field")


def test_every_field_type_has_a_flattener():
    assert set(FLATTENERS) == set(FIELD_TYPES)


def test_columns_follow_the_documented_rule_for_every_field_type(test_town):
    make_submission(every_field(test_town), EVERY_ANSWER, number="AAAA-BBBB-CCCC", fee_total=800)
    with translation.override("ja"):
        export = CsvExport(m.Submission.objects.all(), encoding="utf-8", lang="ja")
        header, row = read(export, "utf-8")
    cell = dict(zip(header, row, strict=True))
    assert header[:8] == [
        "受付番号", "手続き", "版", "状態", "申請日時", "決定日時", "支払状況", "手数料（円）"
    ]  # fmt: skip
    with translation.override("ja"):
        assert cell["支払状況"] == str(m.Submission.PaymentStatus.NONE.label)
    assert cell["受付番号"] == "AAAA-BBBB-CCCC"
    assert cell["手続き"] == "すべての項目" and cell["版"] == "1"
    with translation.override("ja"):
        assert cell["状態"] == str(m.Submission.Status.SUBMITTED.label)
    assert cell["手数料（円）"] == "800"
    # Static fields have no column; one column per plain field, in page order.
    assert "ご確認ください。" not in header
    assert (
        header.index("件名")
        < header.index("備考")
        < header.index("色")
        < header.index("氏名（姓）")
    )
    assert cell["備考"] == "一行目\n二行目"
    assert cell["部数"] == "3" and cell["重さ"] == "1.5"
    assert cell["希望日"] == "2026-12-24" and cell["生年月日"] == ""
    # Choices by their labels; checkboxes joined in option order.
    assert cell["色"] == "青" and cell["サイズ"] == ""
    assert cell["オプション"] == "A、C"
    assert cell["お知らせを受け取りますか"] == "いいえ"
    # Compound answers: a column per part.
    assert cell["氏名（姓）"] == "𠮷田" and cell["氏名（名）"] == "太郎"
    assert cell["氏名（セイ）"] == "ヨシダ" and cell["氏名（メイ）"] == "タロウ"
    assert cell["住所（都道府県）"] == "大阪府" and cell["住所（市区町村）"] == "大阪市中央区"
    assert cell["口座（口座の種類）"] == "普通" and cell["口座（口座番号（7桁以内））"] == "1234567"
    assert cell["口座（金融機関コード（4桁））"] == "0001"
    # A group: its fields' columns for every possible entry (repeat max 3).
    assert cell["補助者 1: 氏名（姓）"] == "山田"
    assert cell["補助者 1: 役割"] == "代表"
    assert cell["補助者 1: 書類"] == "委任状.pdf (2KB)"
    assert "補助者 3: 氏名（姓）" in header and cell["補助者 2: 氏名（姓）"] == ""
    assert "補助者 4: 氏名（姓）" not in header
    # Files by name and size, one per line; consent.
    assert cell["書類"] == "a.png (10B)\nb.pdf (3MB)"
    assert cell["同意"] == "同意済み"


def test_rows_of_two_versions_each_read_their_own_version(test_town, tmp_path, settings):
    import shutil

    from forms_engine import services

    procedure = every_field(test_town)
    old = procedure.live_version
    make_submission(procedure, {"title_text": "Old one", "copies": 1}, number="OLD1-0000-0000")
    tree = tmp_path / "procedures"
    shutil.copytree(settings.BASE_DIR / "tests" / "fixtures" / "procedures", tree)
    path = tree / "test-town" / "every-field.yaml"
    path.write_text(
        path.read_text()
        .replace("label: 件名,", "label: 表題,")
        .replace(
            "- {id: note, type: textarea",
            "- {id: memo, type: text, label: メモ}\n      - {id: note, type: textarea",
        )
    )
    assert services.procedures_load(tree).errors == []
    procedure.refresh_from_db()
    assert procedure.live_version_id != old.pk
    make_submission(procedure, {"title_text": "New one", "memo": "新しい", "copies": 2},
                    number="NEW1-0000-0000")  # fmt: skip

    with translation.override("ja"):
        header, *rows = read(CsvExport(m.Submission.objects.order_by("number")), "utf-8")
    by_number = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    # The newest version names a shared column; a field only the new version has is
    # empty for the old rows.
    assert "表題" in header and "件名" not in header
    assert by_number["OLD1-0000-0000"]["表題"] == "Old one"
    assert by_number["NEW1-0000-0000"]["表題"] == "New one"
    assert by_number["NEW1-0000-0000"]["メモ"] == "新しい"
    assert by_number["OLD1-0000-0000"]["メモ"] == ""
    assert by_number["OLD1-0000-0000"]["版"] == "1" and by_number["NEW1-0000-0000"]["版"] == "2"


def test_two_procedures_get_their_own_columns(test_town):
    make_submission(every_field(test_town), {"title_text": "X"}, number="P1")
    pets = m.Procedure.objects.get(organization=test_town, slug="pet-survey")
    make_submission(pets, {}, number="P2")
    with translation.override("ja"):
        header, *_rows = read(CsvExport(m.Submission.objects.all()), "utf-8")
    assert "すべての項目 / 件名" in header


def test_utf8_starts_with_a_bom_once_and_ends_lines_with_crlf(test_town):
    for i in range(3):
        make_submission(every_field(test_town), {"title_text": f"T{i}"})
    data = b"".join(CsvExport(m.Submission.objects.all(), encoding="utf-8", chunk_rows=1))
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert data.endswith(b"\r\n")
    data.decode("utf-8")


def test_cp932_is_byte_exact_and_counts_what_it_replaced(test_town):
    answers = {"title_text": "〜𠮷−—", "who": {"family": "\ufa19田", "given": "😀"}}
    make_submission(every_field(test_town), answers, number="CP93-2000-0000")
    export = CsvExport(m.Submission.objects.all(), encoding="cp932")
    with translation.override("ja"):
        data = b"".join(export)
    assert not data.startswith(b"\xef\xbb\xbf")
    row = data.split(b"\r\n")[1]
    # 〜 -> 0x8160, 𠮷 -> 〓, − -> 0x817C, — -> ― (0x815C); 神 (U+FA19) kept as 0xEE62.
    assert b",\x81\x60\x81\xac\x81\x7c\x81\x5c," in row
    assert b",\xeeb\x93c," in row and b",\x81\xac," in row
    assert export.replaced == 2 and export.rows == 1 and export.finished


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_defused(test_town):
    make_submission(
        every_field(test_town),
        {"title_text": '=HYPERLINK("http://x")', "note": "@SUM(A1)", "copies": -1, "weight": 2},
    )
    with translation.override("ja"):
        header, row = read(CsvExport(m.Submission.objects.all()), "utf-8")
    cell = dict(zip(header, row, strict=True))
    assert cell["件名"] == '\'=HYPERLINK("http://x")'
    assert cell["備考"] == "'@SUM(A1)"
    assert cell["部数"] == "-1"  # a number field's value is a number, not a formula


def test_rows_are_encoded_as_they_are_read_not_gathered_first(test_town, monkeypatch):
    procedure = every_field(test_town)
    for i in range(25):
        make_submission(procedure, {"title_text": "T" * 2000, "note": f"{i}"})
    monkeypatch.setattr(csv_export, "FLUSH_CHARS", 1)  # hand each row on as it is written
    export = CsvExport(m.Submission.objects.order_by("number"), chunk_rows=5)
    pieces = iter(export)
    first = next(pieces)
    assert first.startswith(b"\xef\xbb\xbf") and export.rows == 1
    rest = list(pieces)
    assert export.rows == 25 and len(rest) == 25 and export.finished


def test_a_download_closed_half_way_still_reports_what_was_sent(test_town):
    procedure = every_field(test_town)
    for _i in range(3):
        make_submission(procedure, {"title_text": "T"})
    done = []
    export = CsvExport(m.Submission.objects.all(), chunk_rows=1, on_done=done.append)
    pieces = iter(export)
    next(pieces)
    pieces.close()
    assert done == [export] and not export.finished


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_on_postgresql_rows_come_from_a_server_side_cursor_in_chunks(test_town, monkeypatch):
    """psycopg's named cursor fetches `chunk_rows` rows per round trip: the list is never
    read whole into memory."""
    import psycopg

    procedure = every_field(test_town)
    for _i in range(12):
        make_submission(procedure, {"title_text": "T"})
    sizes: list[int] = []
    original = psycopg.ServerCursor.fetchmany

    def spy(self, size=0):
        rows = original(self, size)
        sizes.append(len(rows))
        return rows

    monkeypatch.setattr(psycopg.ServerCursor, "fetchmany", spy)
    export = CsvExport(m.Submission.objects.all(), chunk_rows=5)
    b"".join(export)
    assert export.rows == 12
    assert sizes[:3] == [5, 5, 2], sizes


def test_headers_are_in_the_export_language_whatever_is_active_when_it_is_read(test_town):
    make_submission(every_field(test_town), {"title_text": "X"})
    export = CsvExport(m.Submission.objects.all(), lang="en")
    with translation.override("ja"):
        header, _row = read(export, "utf-8")
    assert header[:2] == ["Receipt number", "Procedure"]
    assert "Every field" in _row
