"""Where a resident pays: the core shows a "Pay" link on the status and done pages for a
submission awaiting payment, but knows nothing of how payments are taken. The payments app
registers the function that makes the link (`payment_link_register`, in its AppConfig);
with none registered there is no link.
"""

from __future__ import annotations

from collections.abc import Callable

from forms_engine import models as m

_builder: Callable[[m.Submission], str | None] | None = None


def payment_link_register(builder: Callable[[m.Submission], str | None]) -> None:
    global _builder
    _builder = builder


def payment_link(submission: m.Submission) -> str | None:
    """The URL (a path) where the resident pays this submission now, or None."""
    if _builder is None:
        return None
    if submission.payment_status not in (
        m.Submission.PaymentStatus.AWAITING,
        m.Submission.PaymentStatus.EXPIRED,
        m.Submission.PaymentStatus.CANCELLED,
        m.Submission.PaymentStatus.AWAITING_KONBINI,
    ):
        return None
    if submission.payment_due_amount <= 0:
        return None
    return _builder(submission)
