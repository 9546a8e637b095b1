"""The CSV file itself: encoding and its replacement rule, columns and flattening, the
writer, the schedule. No database: rows are built here."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from datetime import UTC, datetime

import pytest

from forms_engine.procedure_format.model import FieldSpec, PageSpec, ProcedureSpec, Text
from integrations.csv_export.columns import SubmissionRow, column_plan, value_cell
from integrations.csv_export.encoding import GETA, TextEncoder
from integrations.csv_export.schedule import next_fire_after
from integrations.csv_export.writer import csv_write


def spec_with(*fields: tuple[str, str]) -> ProcedureSpec:
    return ProcedureSpec(
        organization="town",
        slug="proc",
        title=Text({"ja": "手続"}),
        department="general",
        contact_email="mail",
        pages=(
            PageSpec(
                id="p",
                title=Text({"ja": "頁"}),
                line=1,
                fields=tuple(
                    FieldSpec(id=i, type=t, label=Text({"ja": i}), line=1) for i, t in fields
                ),
            ),
        ),
        source_path="x.yaml",
        content_hash="0" * 64,
    )


def row(answers, **kw) -> SubmissionRow:
    base = dict(
        number="R-0001",
        submitted_at=datetime(2026, 11, 30, 15, 30, 5, 123456, tzinfo=UTC),
        status="submitted",
        procedure="proc",
        version=2,
        department="general",
        answers=answers,
    )
    base.update(kw)
    return SubmissionRow(**base)


# --- encoding ---------------------------------------------------------------------------


def test_cp932_writes_characters_it_lacks_as_geta_and_counts_them():
    enc = TextEncoder("cp932")
    data = enc.encode("吉田𠮷野😀さん")
    assert data.decode("cp932") == f"吉田{GETA}野{GETA}さん"
    assert enc.replaced == 2
    enc.encode("é")
    assert enc.replaced == 3


def test_cp932_writes_the_wave_dash_minus_and_friends_as_windows_shows_them():
    enc = TextEncoder("cp932")
    # U+301C (a Mac's 〜) and U+FF5E (Windows' ～) are one code in cp932: 0x8160.
    assert enc.encode("\u301c") == b"\x81\x60" == enc.encode("\uff5e")
    assert enc.encode("\u2212") == b"\x81\x7c"  # − minus sign, as Windows' －
    assert enc.encode("\u2016") == b"\x81\x61"  # ‖
    assert enc.encode("\u00a2\u00a3\u00ac") == b"\x81\x91\x81\x92\x81\xca"
    # Not in Python's table: the em dash is the JIS dash 0x815C (Windows' U+2015), the yen
    # sign the full-width yen (0x5C would read as a backslash).
    assert enc.encode("\u2014") == b"\x81\x5c"
    assert enc.encode("\u00a5") == "￥".encode("cp932")
    assert enc.replaced == 0


def test_cp932_drops_variation_selectors_and_keeps_the_base_character():
    enc = TextEncoder("cp932")
    assert enc.encode("葛\U000e0100飾") == "葛飾".encode("cp932")
    assert enc.replaced == 1


def test_utf8_keeps_every_character():
    enc = TextEncoder("utf-8")
    assert enc.encode("𠮷😀〜").decode() == "𠮷😀〜"
    assert enc.replaced == 0


def test_unknown_encoding_is_refused():
    with pytest.raises(ValueError):
        TextEncoder("latin-1")


# --- columns ------------------------------------------------------------------------------


def test_compound_fields_expand_into_one_column_per_part():
    spec = spec_with(("who", "name"), ("addr", "address"), ("copies", "number"))
    plan = column_plan(["receipt_number", "who", "addr", "copies"], spec)
    assert plan.header == (
        "receipt_number",
        "who.family",
        "who.given",
        "who.kana_family",
        "who.kana_given",
        "addr.prefecture",
        "addr.city",
        "addr.town",
        "addr.building",
        "copies",
    )
    cells = plan.row(
        row(
            {
                "who": {
                    "family": "山田",
                    "given": "太郎",
                    "kana_family": "ヤマダ",
                    "kana_given": "",
                },
                "addr": {
                    "prefecture": "大阪府",
                    "city": "大阪市",
                    "town": "大手前1",
                    "building": "",
                },
                "copies": 3,
            }
        )
    )
    assert cells == ["R-0001", "山田", "太郎", "ヤマダ", "", "大阪府", "大阪市", "大手前1", "", "3"]


def test_lists_and_groups_are_one_cell_of_json_and_plain_values_are_predictable():
    spec = spec_with(
        ("methods", "checkboxes"),
        ("docs", "file"),
        ("helpers", "group"),
        ("ok", "yes_no"),
        ("weight", "number"),
        ("when", "date"),
        ("note", "textarea"),
    )
    plan = column_plan(
        [
            "submitted_at",
            "status",
            "procedure",
            "version",
            "department",
            "methods",
            "docs",
            "helpers",
            "ok",
            "weight",
            "when",
            "note",
            "missing_in_this_version",
        ],
        spec,
    )
    files = [{"id": "a1", "name": "申請書.pdf", "size": 10, "content_type": "application/pdf"}]
    helpers = [{"helper_name": {"family": "佐藤"}, "helper_role": "lead"}]
    cells = plan.row(
        row(
            {
                "methods": ["view", "paper_copy"],
                "docs": files,
                "helpers": helpers,
                "ok": False,
                "weight": 0.00001,
                "when": "2026-12-01",
                "note": "一行目\n二行目",
            }
        )
    )
    assert cells[:5] == ["2026-12-01T00:30:05+09:00", "submitted", "proc", "2", "general"]
    assert json.loads(cells[5]) == ["view", "paper_copy"]
    assert cells[5] == '["view","paper_copy"]'
    assert json.loads(cells[6]) == files
    assert json.loads(cells[7]) == helpers
    assert cells[8:] == ["0", "0.00001", "2026-12-01", "一行目\n二行目", ""]


def test_text_a_spreadsheet_would_run_as_a_formula_gets_a_quote():
    assert value_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert value_cell("+81") == "'+81"
    assert value_cell("-1") == "'-1"
    assert value_cell("@x") == "'@x"
    assert value_cell(-1) == "-1"  # a number answer is a number
    assert value_cell("山田") == "山田"


def test_a_field_that_became_compound_keeps_an_old_plain_answer_in_its_first_part():
    spec = spec_with(("who", "name"))
    plan = column_plan(["who"], spec)
    assert plan.row(row({"who": "山田太郎"})) == ["山田太郎", "", "", ""]


# --- the writer ---------------------------------------------------------------------------


def test_the_writer_writes_rfc4180_with_a_header_and_reports_what_it_wrote():
    spec = spec_with(("who", "name"), ("note", "textarea"))
    plan = column_plan(["receipt_number", "who", "note"], spec)
    rows = [
        row({"who": {"family": "𠮷田", "given": "花子"}, "note": 'say "hi", ok'}, number="R-1"),
        row({"who": {"family": "髙橋", "given": "〜"}, "note": "a\nb"}, number="R-2"),
    ]
    out = io.BytesIO()
    written = csv_write(out, plan, rows, "cp932")
    data = out.getvalue()
    assert written.rows == 2 and written.size == len(data) and written.replaced == 1
    import hashlib

    assert written.sha256 == hashlib.sha256(data).hexdigest()
    assert data.startswith(
        b"receipt_number,who.family,who.given,who.kana_family,who.kana_given,note\r\n"
    )
    parsed = list(csv.reader(io.StringIO(data.decode("cp932"), newline="")))
    assert parsed[1] == ["R-1", f"{GETA}田", "花子", "", "", 'say "hi", ok']
    assert parsed[2] == ["R-2", "髙橋", "～", "", "", "a\nb"]


def test_the_writer_streams_rows_in_bounded_memory():
    spec = spec_with(("who", "name"), ("note", "textarea"))
    plan = column_plan(["receipt_number", "who", "note"], spec)
    answers = {"who": {"family": "山田", "given": "太郎"}, "note": "あ" * 200}

    def rows(n):
        for i in range(n):
            yield row(answers, number=f"R-{i}")

    class Sink(io.RawIOBase):
        size = 0

        def write(self, b):
            self.size += len(b)
            return len(b)

    tracemalloc.start()
    sink = Sink()
    written = csv_write(sink, plan, rows(20_000), "cp932")  # type: ignore[arg-type]
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert written.rows == 20_000 and sink.size > 8_000_000
    # The file is over 8 MB; the writer holds one block of rows at a time.
    assert peak < 3_000_000, peak


# --- the schedule -------------------------------------------------------------------------


def tokyo(*args) -> datetime:
    from integrations.csv_export.columns import TOKYO

    return datetime(*args, tzinfo=TOKYO)


def test_the_schedule_fires_in_tokyo_time():
    # 02:00 Tokyo is 17:00 UTC the day before.
    after = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert next_fire_after("0 2 * * *", after) == tokyo(2026, 12, 1, 2, 0)
    assert next_fire_after("0 2 * * *", tokyo(2026, 12, 1, 2, 0)) == tokyo(2026, 12, 2, 2, 0)


def test_the_schedule_reads_weekdays_and_ranges_as_celery_does():
    # 2026-12-05 is a Saturday: "1-5" (Monday to Friday) skips to Monday the 7th.
    assert next_fire_after("30 1 * * 1-5", tokyo(2026, 12, 4, 2, 0)) == tokyo(2026, 12, 7, 1, 30)
    assert next_fire_after("*/15 22-2 * * *", tokyo(2026, 12, 4, 2, 50)) == tokyo(
        2026, 12, 4, 22, 0
    )
    assert next_fire_after("0 0 29 2 *", tokyo(2026, 3, 1, 0, 0)) == tokyo(2028, 2, 29, 0, 0)
