"""The resident's receipt PDF (申請控え): fonts embedded, text extractable in page order
with the receipt number, the filing time in both calendars, attachments and fee, the page
count, 𠮷 and 神 (U+FA19) drawn as real glyphs, the QR code decoding to the status page,
and a 5,000-character answer laid out in seconds."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import segno
from django.utils import timezone

from forms_engine import models as m
from forms_engine.documents.receipt import qr_svg, receipt_pdf, status_url, wareki_label

from .conftest import make_submission
from .test_pdf import ANSWERS, every_field, ink_box

pytestmark = pytest.mark.skipif(
    shutil.which("pdffonts") is None, reason="poppler-utils missing (scripts/test-setup.sh)"
)

FILED = timezone.make_aware(dt.datetime(2026, 11, 30, 9, 15))


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120).stdout


@pytest.fixture
def sub(test_town):
    s = make_submission(
        every_field(test_town),
        ANSWERS,
        fee_total=700,
        fee_lines=[
            {"label": "基本料", "amount": 500, "quantity": 1, "subtotal": 500},
            {"label": "部数", "amount": 100, "quantity": 2, "subtotal": 200},
        ],
        submitted_at=FILED,
        payment_status=m.Submission.PaymentStatus.PAID,
        payment_due_amount=700,
        paid_amount=700,
        paid_at=FILED + dt.timedelta(minutes=5),
    )
    m.Attachment.objects.create(
        draft=s.draft, submission=s, field_key="docs", file="files/x",
        original_name="申請書.pdf", size=204800, content_type="application/pdf",
        status=m.Attachment.Status.CLEAN,
    )  # fmt: skip
    return s


def write(sub, tmp_path: Path, name: str, lang: str = "ja") -> Path:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(receipt_pdf(sub, lang))
    return path


def pages(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(pdf)), re.M).group(1))


def test_fonts_are_embedded_and_the_text_is_extractable_in_page_order(sub, tmp_path):
    pdf = write(sub, tmp_path, "r")
    rows = run("pdffonts", str(pdf)).splitlines()[2:]
    fonts = [(r.split()[0], r.split()[-5]) for r in rows]
    assert any(n.split("+")[-1].startswith("Noto-Sans-CJK-JP") for n, _e in fonts), fonts
    assert all(emb == "yes" for _n, emb in fonts), fonts

    text = run("pdftotext", "-layout", str(pdf), "-")
    flat = re.sub(r"\s+", "", text)
    assert "テスト町" in text  # the organization
    assert "申請控え" in text and "すべての項目" in text
    assert sub.receipt.number in text
    # The filing time in the western calendar and in 和暦.
    assert "2026-11-30 09:15" in text and "令和8年11月30日" in text
    # Every answer in page order, as on the confirmation page.
    order = ["件名", "部数", "色", "オプション", "氏名", "書類", "同意"]
    positions = [text.index(label) for label in order]
    assert positions == sorted(positions), text
    assert "Annual report" in text and "𠮷田" in text and "\ufa19子" in text
    assert "申請書.pdf" in flat and "200KB" in flat
    assert "基本料" in text and "700" in text and "支払い済み" in flat
    assert pages(pdf) == 2  # the every-field filing fills two A4 pages


def test_the_english_receipt_names_the_era_in_english(sub, tmp_path):
    text = run("pdftotext", "-layout", str(write(sub, tmp_path, "en", "en")), "-")
    assert "Application receipt" in text and "2026-11-30 09:15 (Reiwa 8)" in text
    assert "申請控え" not in text
    assert wareki_label(dt.date(2019, 5, 1), "en") == "Reiwa 1"
    assert wareki_label(dt.date(2019, 4, 30), "ja") == "平成31年4月30日"


def test_rare_name_characters_are_real_glyphs_on_the_receipt(sub, tmp_path):
    """The same submission (same QR code, number and time) rendered with one character of
    the name changed: 𠮷 and 神 (U+FA19) differ from a missing glyph (U+10FFFD, which no
    font has) and from their everyday twins 吉 and 神 (U+795E)."""

    def picture(ch: str, label: str):
        sub.answers = {**ANSWERS, "who": {"family": ch * 4, "given": "子"}}
        pdf = write(sub, tmp_path, label)
        out = tmp_path / label
        run("pdftoppm", "-gray", "-r", "100", "-f", "1", "-l", "1", str(pdf), str(out))
        (pgm,) = tmp_path.glob(f"{label}-*.pgm")
        return ink_box(pgm)

    pictures = {
        label: picture(ch, label)
        for label, ch in [
            ("yoshi", "\U00020bb7"),
            ("kichi", "\u5409"),
            ("kami_compat", "\ufa19"),
            ("kami", "\u795e"),
            ("missing", "\U0010fffd"),
        ]
    }
    rows = {k: v[1] for k, v in pictures.items()}
    ink = {k: v[0] for k, v in pictures.items()}
    for real, twin in (("yoshi", "kichi"), ("kami_compat", "kami")):
        assert rows[real] != rows["missing"], f"{real} is drawn as a missing glyph"
        assert rows[real] != rows[twin], f"{real} is drawn as {twin}"
        assert ink[real] != ink["missing"]
    assert rows["missing"] != rows["kichi"]


def test_the_qr_code_leads_to_the_status_page(sub, tmp_path, settings):
    url = status_url(sub)
    assert url == f"{settings.SITE_URL}/status/{sub.pk}/"
    # The SVG on the receipt is segno's encoding of exactly that URL.
    svg = qr_svg(url)
    assert svg.startswith("<svg") and svg == segno.make(url, error="m", micro=False).svg_inline(
        scale=3, border=2, dark="#000", light="#fff", omitsize=False
    )
    if shutil.which("zbarimg") is None:  # scripts/test-setup.sh installs zbar-tools
        pytest.fail("zbarimg missing: run scripts/test-setup.sh apt")
    pdf = write(sub, tmp_path, "qr")
    run(
        "pdftoppm",
        "-gray",
        "-r",
        "200",
        "-f",
        "1",
        "-l",
        "1",
        "-png",
        str(pdf),
        str(tmp_path / "qr"),
    )
    (png,) = tmp_path.glob("qr-*.png")
    decoded = run("zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png))
    assert decoded.strip() == url


def test_a_5000_character_answer_renders_in_seconds_and_whole(sub, tmp_path):
    long = ("申請の理由を詳しく書きます。" * 400)[:4990] + "おわりの文字です"
    assert len(long) >= 5000 - 2
    sub.answers = {**ANSWERS, "note": long}
    started = time.perf_counter()
    pdf = write(sub, tmp_path, "long")
    elapsed = time.perf_counter() - started
    # Seconds, not minutes (the figures are in `make bench`: pdf_receipt); the bound is
    # wide for a loaded machine, and catches layout that goes quadratic.
    assert elapsed < 30, elapsed
    text = re.sub(r"\s+", "", run("pdftotext", str(pdf), "-"))
    assert "おわりの文字です" in text
    assert text.count("申請の理由を詳しく書きます。") >= 350
    assert pages(pdf) >= 3
