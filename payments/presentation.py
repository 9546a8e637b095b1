"""What the core's status and done pages show of a payment (the hook
forms_engine.services.payment_details): the pay link while something is due, the
konbini slip while it waits at a store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from forms_engine import models as fm

from .links import pay_path
from .models import Payment

PS = fm.Submission.PaymentStatus
PAYABLE = (PS.AWAITING, PS.EXPIRED, PS.CANCELLED, PS.AWAITING_KONBINI)


def konbini_view(konbini: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored slip details for a template (the deadline as a datetime)."""
    if not konbini:
        return None
    view = dict(konbini)
    if isinstance(view.get("expires_at"), int):
        view["expires_at"] = datetime.fromtimestamp(view["expires_at"], tz=UTC)
    return view


def payment_details(sub: fm.Submission) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if sub.payment_status in PAYABLE and sub.payment_due_amount > 0:
        details["pay_url"] = pay_path(sub)
    if sub.payment_status == PS.AWAITING_KONBINI:
        latest = Payment.objects.filter(submission=sub).order_by("-attempt").first()
        if latest is not None and latest.state == Payment.State.AWAITING_KONBINI:
            details["konbini"] = konbini_view(latest.konbini)
    refunds = list(
        Payment.objects.filter(submission=sub, refunds__isnull=False)
        .values_list("refunds__amount", "refunds__reason", "refunds__created_at")
        .order_by("refunds__created_at")
    )
    if refunds:
        details["refunds"] = [
            {"amount": amount, "reason": reason, "created_at": created}
            for amount, reason, created in refunds
        ]
    return details
