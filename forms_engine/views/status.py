"""The status page: a receipt number and its status code."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from forms_engine import models as m
from forms_engine import services
from forms_engine.ratelimit import ratelimit

from .common import _lang, payment_context


@ratelimit("status")
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    context: dict = {"number": "", "error": ""}
    if request.method == "POST":
        number = request.POST.get("number", "")
        code = request.POST.get("code", "")
        # Only what a receipt number can be goes back into the input.
        context["number"] = number[: services.RECEIPT_INPUT_MAX_LENGTH]
        too_long = max(len(number), len(code)) > services.RECEIPT_INPUT_MAX_LENGTH
        given = not too_long and number.strip() and code.strip()
        receipt = services.receipt_lookup(number, code) if given else None
        if too_long:
            context["error"] = _("No application matches this receipt number and status code.")
        elif not given:
            context["error"] = _("Enter the receipt number and the status code.")
        elif receipt is None:
            context["error"] = _("No application matches this receipt number and status code.")
        else:
            lang = _lang()
            context["receipt"] = receipt
            context["submissions"] = [
                {
                    "number": s.number,
                    "title": m.localized(s.procedure_version.title, lang),
                    "status": s.get_status_display(),
                    "submitted_at": s.submitted_at,
                    **payment_context(s),
                }
                for s in receipt.submissions.select_related("procedure_version").order_by("number")
            ]
    return render(request, "forms_engine/status.html", context)
