"""Exports: the filtered list as CSV (UTF-8 with a BOM for Excel, or cp932), streamed,
and the PDF of one submission. Both read through the user's scope and are audited."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from forms_engine import services
from forms_engine.documents.csv_export import CsvExport
from forms_engine.documents.encodings import CSV_ENCODINGS
from forms_engine.documents.pdf import submission_pdf
from forms_engine.storage.base import content_disposition
from inbox import selectors
from inbox.audit import audit_log
from inbox.auth import staff_required
from inbox.scope import submission_for_staff_or_404
from inbox.views.submissions import filters_from


def _lang() -> str:
    return (get_language() or "ja").split("-")[0]


def _filter_details(filters: selectors.InboxFilters) -> dict[str, Any]:
    """The filters of an export for its audit row: ids, states and dates; the search text
    is left out (it may be a resident's name), only whether there was one."""
    return {
        "procedure": filters.procedure_id,
        "status": filters.status,
        "from": filters.date_from.isoformat() if filters.date_from else None,
        "to": filters.date_to.isoformat() if filters.date_to else None,
        "payment": filters.payment_status,
        "delivery": filters.delivery_state,
        "mine": filters.assigned_to_me,
        "searched": bool(filters.query.strip()),
    }


@never_cache
@require_GET
@staff_required
def submissions_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The list as the user filtered it (the list page's query string), every page of it,
    in the list's order. `encoding`: utf-8 (default, with a BOM) or cp932."""
    encoding = request.GET.get("encoding", "utf-8")
    if encoding not in CSV_ENCODINGS:
        encoding = "utf-8"
    filters = filters_from(request.GET)
    sort = request.GET.get("sort", selectors.DEFAULT_SORT)
    if sort not in selectors.SORTS:
        sort = selectors.DEFAULT_SORT
    queryset = selectors.inbox_queryset(request.user, filters).order_by(*selectors.SORTS[sort])
    details = _filter_details(filters)
    # Written before the first byte leaves: an export stopped half way is audited too.
    audit_log(request, "submissions.export", format="csv", encoding=encoding, **details)

    def finished(export: CsvExport) -> None:
        # How it ended: rows sent, and characters the encoding could not hold (cp932).
        audit_log(
            request,
            "submissions.export.finished",
            format="csv",
            encoding=encoding,
            rows=export.rows,
            replaced=export.replaced,
            complete=export.finished,
        )

    export = CsvExport(queryset, encoding=encoding, lang=_lang(), on_done=finished)
    response = StreamingHttpResponse(
        iter(export),
        content_type=f"text/csv; charset={'Shift_JIS' if encoding == 'cp932' else 'utf-8'}",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    # No personal data in the name: what it is and when it was made.
    response["Content-Disposition"] = content_disposition(f"申請一覧-{stamp}.csv")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@require_GET
@staff_required
def submission_pdf_download(request: HttpRequest, submission_id: Any) -> HttpResponse:
    submission = submission_for_staff_or_404(request.user, submission_id)
    audit_log(request, "submission.export", submission, format="pdf")
    pdf = submission_pdf(submission, _lang())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(f"{submission.number}.pdf")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@require_GET
@staff_required
def submission_receipt_pdf(request: HttpRequest, submission_id: Any) -> StreamingHttpResponse:
    """The receipt PDF (申請控え) the resident was given, as stored: scoped and audited."""
    submission = submission_for_staff_or_404(request.user, submission_id)
    document = services.receipt_document_get(submission.pk)
    if document is None:
        raise Http404
    audit_log(request, "submission.receipt_pdf", submission)
    response = StreamingHttpResponse(
        services.receipt_document_stream(document), content_type="application/pdf"
    )
    response["Content-Length"] = str(document.size)
    response["Content-Disposition"] = content_disposition(
        services.receipt_document_filename(submission, _lang())
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
