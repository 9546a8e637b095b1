"""Staff payment actions on a submission (the inbox detail page's payment panel): record a
payment received at the counter or by transfer, set the fee due after review, refund.
Each is scoped (404 outside the user's scope), audited, and done through payments'
services, which move the core's payment state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from forms_engine.models import Submission
from inbox.audit import audit_log
from inbox.auth import staff_required
from inbox.scope import staff_scope, submission_for_staff_or_404
from payments.providers import ProviderError
from payments.services import (
    PaymentRefused,
    payment_amount_set,
    payment_record_offline,
    payment_refund,
)
from payments.staff import REFUND_ROLES

from .submissions import detail_context


def _messages() -> dict[str, str]:
    return {
        "amount_invalid": _("Enter an amount in yen within what can be charged or refunded."),
        "already_paid": _("This fee has been paid already."),
        "konbini_pending": _(
            "A convenience store slip for the current amount is still open. Wait until it "
            "is paid or expires."
        ),
        "not_paid": _("Nothing has been paid that could be refunded."),
        "reason_required": _("Enter the reason for the refund."),
        "provider": _("The payment service refused or could not be reached. Nothing was changed."),
        "forbidden": _("Only department and organization admins may refund."),
    }


def _amount(text: str) -> int | None:
    text = text.strip().replace(",", "").replace("円", "")
    return int(text) if text.isdigit() and len(text) <= 12 else None


def _done(submission: Submission) -> HttpResponse:
    url = reverse("inbox:submission_detail", args=[submission.pk]) + "#payment"
    return redirect(url)


def _failed(
    request: HttpRequest, submission: Submission, form: str, code: str, values: dict[str, Any]
) -> HttpResponse:
    context = detail_context(request, submission)
    context["payment_errors"] = {"form": form, "message": _messages().get(code, code)}
    context["payment_values"] = values
    return render(request, "inbox/submission_detail.html", context, status=400)


def _act(
    request: HttpRequest,
    submission_id: Any,
    form: str,
    values: dict[str, Any],
    action: Callable[[Submission, int], object],
    audit: str,
    audit_data: dict[str, Any],
) -> HttpResponseBase:
    submission = submission_for_staff_or_404(request.user, submission_id)
    amount = _amount(request.POST.get("amount", ""))
    if amount is None or amount <= 0:
        return _failed(request, submission, form, "amount_invalid", values)
    try:
        action(submission, amount)
    except PaymentRefused as exc:
        return _failed(request, submission, form, exc.code, values)
    except ProviderError:
        return _failed(request, submission, form, "provider", values)
    audit_log(request, audit, submission, amount=amount, **audit_data)
    return _done(submission)


@staff_required
@require_POST
def payment_record(request: HttpRequest, submission_id: Any) -> HttpResponseBase:
    actor = request.user.pk
    return _act(
        request,
        submission_id,
        "record",
        {"record_amount": request.POST.get("amount", "")[:20]},
        lambda sub, amount: payment_record_offline(sub.pk, amount=amount, actor=actor),
        "payment.record",
        {},
    )


@staff_required
@require_POST
def payment_amount(request: HttpRequest, submission_id: Any) -> HttpResponseBase:
    actor = request.user.pk
    return _act(
        request,
        submission_id,
        "amount",
        {"amount": request.POST.get("amount", "")[:20]},
        lambda sub, amount: payment_amount_set(sub.pk, amount=amount, actor=actor),
        "payment.amount_set",
        {},
    )


@staff_required
@require_POST
def payment_refund_view(request: HttpRequest, submission_id: Any) -> HttpResponseBase:
    actor = request.user.pk
    reason = request.POST.get("reason", "")[:1000]
    values = {"refund_amount": request.POST.get("amount", "")[:20], "reason": reason}
    if not staff_scope(request.user).has_role(*REFUND_ROLES):
        submission = submission_for_staff_or_404(request.user, submission_id)
        return _failed(request, submission, "refund", "forbidden", values)
    return _act(
        request,
        submission_id,
        "refund",
        values,
        lambda sub, amount: payment_refund(sub.pk, amount=amount, reason=reason, actor=actor),
        "payment.refund",
        # The reason is staff's free text and may name a person: it is kept on the refund
        # record only, never in the append-only audit log.
        {"reason_given": bool(reason.strip()), "reason_length": len(reason.strip())},
    )
