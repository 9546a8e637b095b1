"""The PDF of one submission (WeasyPrint): Japanese fonts embedded, the rare characters of
people's names drawn as real glyphs, answers in page order, attachments and fee."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from forms_engine import models as m
from forms_engine.documents.pdf import submission_pdf

from .conftest import make_submission

pytestmark = pytest.mark.skipif(
    shutil.which("pdffonts") is None, reason="poppler-utils missing (scripts/apt-ensure.sh)"
)

ANSWERS = {
    "title_text": "Annual report",
    "copies": 2,
    "color": "red",
    "extras": ["a"],
    "agree_news": True,
    "who": {"family": "𠮷田", "given": "\ufa19子", "kana_family": "ヨシダ", "kana_given": "ノリコ"},
    "docs": [{"id": "00000000-0000-0000-0000-000000000001", "name": "申請書.pdf", "size": 204800}],
    "ok": True,
}


def every_field(org) -> m.Procedure:
    return m.Procedure.objects.get(organization=org, slug="every-field")


def pdf_of(org, answers, tmp_path: Path, name: str) -> Path:
    sub = make_submission(
        every_field(org),
        answers,
        fee_total=700,
        fee_lines=[
            {"label": "基本料", "amount": 500, "quantity": 1, "subtotal": 500},
            {"label": "部数", "amount": 100, "quantity": 2, "subtotal": 200},
        ],
    )
    m.Attachment.objects.create(
        draft=sub.draft, submission=sub, field_key="docs", file="files/x",
        original_name="申請書.pdf", size=204800, content_type="application/pdf",
        status=m.Attachment.Status.CLEAN,
    )  # fmt: skip
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(submission_pdf(sub, "ja"))
    return path


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


def test_japanese_fonts_are_embedded(test_town, tmp_path):
    pdf = pdf_of(test_town, ANSWERS, tmp_path, "a")
    rows = run("pdffonts", str(pdf)).splitlines()[2:]
    assert rows, "no fonts in the PDF"
    # Columns: name type encoding emb sub uni object ID.
    fonts = [(r.split()[0], r.split()[-5]) for r in rows]
    assert any(name.split("+")[-1].startswith("Noto-Sans-CJK-JP") for name, _emb in fonts), fonts
    assert all(emb == "yes" for _name, emb in fonts), fonts


def test_answers_come_in_page_order_with_files_and_fee(test_town, tmp_path):
    pdf = pdf_of(test_town, ANSWERS, tmp_path, "a")
    text = run("pdftotext", "-layout", str(pdf), "-")
    order = ["件名", "部数", "色", "オプション", "氏名", "書類", "同意"]
    positions = [text.index(label) for label in order]
    assert positions == sorted(positions), text
    assert "Annual report" in text and "赤" in text
    # The rare characters are in the text layer as themselves (not NFKC'd to 神 U+795E).
    assert "𠮷田" in text and "\ufa19子" in text
    assert "申請書.pdf" in text and "200KB" in text
    assert "700" in text and "基本料" in text
    assert "static" not in text and "ご確認ください" not in text


def ink_box(png: Path) -> tuple[int, list[bytes]]:
    """The dark pixels of a PGM image: their count and the rows as bytes."""
    data = png.read_bytes()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P5"
    width, height = int(parts[1]), int(parts[2])
    pixels = parts[4]
    rows = [pixels[y * width : (y + 1) * width] for y in range(height)]
    return sum(1 for b in pixels if b < 128), rows


def raster(pdf: Path) -> tuple[int, list[bytes]]:
    out = pdf.with_suffix("")
    run("pdftoppm", "-gray", "-r", "100", "-f", "1", "-l", "1", str(pdf), str(out))
    (pgm,) = pdf.parent.glob(f"{out.name}-*.pgm")
    result = ink_box(pgm)
    pgm.unlink()
    return result


def test_rare_name_characters_are_real_glyphs_not_tofu(test_town, tmp_path):
    """Four PDFs that differ in one character of the name: 𠮷 (U+20BB7), 吉 (U+5409),
    神 (U+FA19), 神 (U+795E), and U+10FFFD, which no font has (its box is what a missing
    glyph looks like). Each real glyph differs from the missing one and from its everyday
    twin, in pixels and in ink (pango draws a missing glyph as a box with its hex code)."""

    def name_with(ch: str) -> dict:
        return {**ANSWERS, "who": {"family": ch * 4, "given": "子"}}

    pictures = {
        label: raster(pdf_of(test_town, name_with(ch), tmp_path, label))
        for label, ch in [
            ("yoshi", "\U00020bb7"),
            ("kichi", "\u5409"),
            ("kami_compat", "\ufa19"),
            ("kami", "\u795e"),
            ("missing", "\U0010fffd"),
        ]
    }
    ink = {k: v[0] for k, v in pictures.items()}
    rows = {k: v[1] for k, v in pictures.items()}
    for real, twin in (("yoshi", "kichi"), ("kami_compat", "kami")):
        assert rows[real] != rows["missing"], f"{real} is drawn as a missing glyph"
        assert rows[real] != rows[twin], f"{real} is drawn as {twin}"
        assert ink[real] != ink["missing"]
    # And a missing glyph does show as one here (the comparison above means something).
    assert rows["missing"] != rows["kichi"] and rows["missing"] != rows["kami"]
