"""The resident's receipt (申請控え) of one submission as a PDF: the organization, the
procedure and its version, the receipt number, the filing time in the western calendar and
in 和暦, every answer in page order as the confirmation page showed it, the attachments by
name and size, the fee and its payment, and a QR code of the submission's status page.

It reuses the submission document's context (`pdf.submission_document_context`: the
confirmation page's rows from the submission's own version) and `pdf_from_html` (the one
WeasyPrint entry, which fetches no URL). The QR code is drawn by segno as inline SVG, so
nothing is fetched or rasterised. The status code is never printed: the page behind the QR
code asks for it (or for the resident's sign-in).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from forms_engine import models as m
from forms_engine.normalize.dates import wareki

from .pdf import pdf_from_html, submission_document_context

#: Romanised era names for the English receipt ("Reiwa 8").
_ERA_EN = {"令和": "Reiwa", "平成": "Heisei", "昭和": "Showa", "大正": "Taisho", "明治": "Meiji"}
_WAREKI_RE = re.compile(r"^(\D+?)(元|\d+)年")


def status_url(submission: m.Submission) -> str:
    """The submission's status page: its id only (no number, code or answer)."""
    return str(settings.SITE_URL) + reverse("status_submission", args=[submission.pk])


def wareki_label(day: date, lang: str) -> str:
    """ "令和8年11月30日" in Japanese, "Reiwa 8" (the era year) in English."""
    text = wareki(day)
    if lang == "ja":
        return text
    match = _WAREKI_RE.match(text)
    if match is None or match.group(1) not in _ERA_EN:
        return ""
    year = "1" if match.group(2) == "元" else match.group(2)
    return f"{_ERA_EN[match.group(1)]} {year}"


def qr_svg(url: str) -> str:
    """The QR code of `url` as an inline <svg> element (error correction M)."""
    qr = segno.make(url, error="m", micro=False)
    svg: str = qr.svg_inline(scale=3, border=2, dark="#000", light="#fff", omitsize=False)
    return svg


def receipt_document_context(submission: m.Submission, lang: str) -> dict[str, Any]:
    context = submission_document_context(submission, lang)
    filed = timezone.localtime(submission.submitted_at)
    url = status_url(submission)
    receipt = submission.receipt
    with translation.override(lang):
        context.update(
            {
                "receipt_number": receipt.number,
                "filed_at": filed,
                "filed_wareki": wareki_label(filed.date(), lang),
                "status_url": url,
                "qr_svg": qr_svg(url),
                "payment_status": submission.get_payment_status_display(),
                "payment_due": submission.payment_due_amount,
                "paid_amount": submission.paid_amount,
                "paid_at": timezone.localtime(submission.paid_at) if submission.paid_at else None,
                "has_payment": submission.payment_status != m.Submission.PaymentStatus.NONE,
            }
        )
    return context


def receipt_html(submission: m.Submission, lang: str) -> str:
    context = receipt_document_context(submission, lang)
    with translation.override(lang):
        return render_to_string("documents/receipt.html", context)


def receipt_pdf(submission: m.Submission, lang: str = "ja") -> bytes:
    """The receipt PDF of one submission in `lang` (ja or en)."""
    return pdf_from_html(receipt_html(submission, lang))
