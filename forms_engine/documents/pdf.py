"""The PDF of one submission: its answers in page order as the confirmation page showed
them (the core's `display_rows`, from the submission's own version), its attachments by
name and size, and its fee. The staff inbox offers it; the resident's receipt (issue 10)
renders its own template through `pdf_from_html`.

WeasyPrint is imported here only, and only when a PDF is rendered (its import takes about
a second and a lot of memory). Memory grows across renders unless the garbage collector
runs after each (docs/exports.md): `pdf_from_html` runs it. It grows too when each render
builds its own font configuration (fontconfig's and Pango's font maps are never given
back: about 0.25 MB a render, +78 MB over 200 receipts in `benchmarks/pdf_receipt.py`), so
one configuration serves every render of the process, under a lock: WeasyPrint's font
objects are not meant to be shared between threads rendering at once. Japanese text is set in
Noto Sans CJK JP (Debian's fonts-noto-cjk), embedded as a subset, so 𠮷 and 神 (U+FA19)
print as the resident wrote them.
"""

from __future__ import annotations

import gc
import threading
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation

from forms_engine import filekinds
from forms_engine import models as m
from forms_engine.fields import Ctx
from forms_engine.filing import FilingView, display_rows
from forms_engine.services import organization_get, procedure_version_get, version_spec

# The font every document names first: present wherever fonts-noto-cjk is installed.
DOCUMENT_FONT = "Noto Sans CJK JP"


_render_lock = threading.Lock()
_font_config: Any = None


def pdf_from_html(html: str) -> bytes:
    """A PDF from a complete HTML document (its styles inline; no URL is fetched)."""
    global _font_config
    import weasyprint  # noqa: PLC0415 - see the module docstring
    from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415

    with _render_lock:
        try:
            if _font_config is None:
                _font_config = FontConfiguration()
            document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
            return document.write_pdf(font_config=_font_config)  # type: ignore[no-any-return]
        finally:
            gc.collect()


def _no_fetch(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    # A document shows what the submission holds, never something fetched while rendering
    # (an answer is text, but a template mistake must not turn into a request).
    raise ValueError("documents fetch no URLs")


def submission_document_context(submission: m.Submission, lang: str) -> dict[str, Any]:
    """What the submission template shows, in `lang`."""
    version = procedure_version_get(submission.procedure_version_id)
    spec = version_spec(version)
    filed_on = timezone.localdate(submission.submitted_at)
    attachments = list(
        submission.attachments.order_by("created_at").only(
            "id", "original_name", "size", "status", "field_key", "created_at"
        )
    )
    states = {str(a.pk): a.status for a in attachments}
    # Conditions are decided as on the day it was filed (age() and today() with them).
    view = FilingView(specs=[spec], answers={"0": dict(submission.answers)}, today=filed_on)
    ctx = Ctx(lang=lang, today=filed_on, file_states=states)
    with translation.override(lang):
        pages = display_rows(view, 0, ctx)
        return {
            "lang": lang,
            "font": DOCUMENT_FONT,
            "submission": submission,
            "organization": organization_get(submission.organization_id),
            "title": spec.title.get(lang),
            "version": version.number,
            "status": submission.get_status_display(),
            "submitted_at": timezone.localtime(submission.submitted_at),
            "decided_at": timezone.localtime(submission.decided_at)
            if submission.decided_at
            else None,
            "pages": pages,
            "attachments": [
                {
                    "name": a.original_name,
                    "size": filekinds.format_size(a.size),
                    "state": a.get_status_display(),
                }
                for a in attachments
            ],
            "fee_lines": submission.fee_lines,
            "fee_total": submission.fee_total,
        }


def submission_pdf(submission: m.Submission, lang: str = "ja") -> bytes:
    """The PDF of one submission in `lang` (ja or en)."""
    context = submission_document_context(submission, lang)
    with translation.override(lang):
        html = render_to_string("documents/submission.html", context)
    return pdf_from_html(html)
