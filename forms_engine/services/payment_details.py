"""What the resident sees of a payment beyond the core's own fields (status, amounts,
dates): where to pay, and a konbini slip. The core knows nothing of how payments are
taken; the payments app registers the function that says it (`payment_details_register`,
in its AppConfig). With none registered, the status page shows the core's fields only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from forms_engine import models as m

PaymentDetails = dict[str, Any]
_builder: Callable[[m.Submission], PaymentDetails] | None = None


def payment_details_register(builder: Callable[[m.Submission], PaymentDetails]) -> None:
    global _builder
    _builder = builder


def payment_details(submission: m.Submission) -> PaymentDetails:
    """`pay_url` (a path where the resident pays now, or absent) and `konbini` (the slip:
    `voucher_url`, `expires_at`, `stores`), when the payments app says so."""
    if _builder is None or submission.payment_status == m.Submission.PaymentStatus.NONE:
        return {}
    return _builder(submission)
