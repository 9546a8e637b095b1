"""What staff see of a submission's payment (the inbox detail page's payment panel): its
state, amounts and dates, each attempt and refund, and which actions the staff member may
take now."""

from __future__ import annotations

from typing import Any

from forms_engine import models as fm
from forms_engine import services as fs

from .models import Payment, Refund
from .presentation import konbini_view

PS = fm.Submission.PaymentStatus
# Refunds give money back: department and organization admins only.
REFUND_ROLES = ("department_admin", "organization_admin")


def payment_panel(submission: fm.Submission, roles: frozenset[str]) -> dict[str, Any]:
    payments = list(
        Payment.objects.filter(submission=submission)
        .select_related("recorded_by")
        .order_by("attempt")
    )
    refunds = list(
        Refund.objects.filter(payment__submission=submission)
        .select_related("created_by")
        .order_by("created_at")
    )
    spec = fs.version_spec(submission.procedure_version)
    timing = spec.fee.timing if spec.fee is not None else ""
    status = submission.payment_status
    open_to_pay = status in (PS.NONE, PS.AWAITING, PS.EXPIRED, PS.CANCELLED, PS.AWAITING_KONBINI)
    latest = payments[-1] if payments else None
    return {
        "submission": submission,
        "has_fee": spec.fee is not None or status != PS.NONE,
        "timing": timing,
        "payments": payments,
        "refunds": refunds,
        "konbini": konbini_view(latest.konbini)
        if latest is not None and latest.state == Payment.State.AWAITING_KONBINI
        else None,
        "can_record": open_to_pay and (submission.payment_due_amount > 0 or timing),
        "can_set_amount": timing == "after_review"
        and status in (PS.NONE, PS.AWAITING, PS.EXPIRED, PS.CANCELLED),
        "can_refund": status in (PS.PAID, PS.PARTIALLY_REFUNDED)
        and bool(roles.intersection(REFUND_ROLES)),
        "refundable": submission.paid_amount - submission.refunded_amount,
    }
