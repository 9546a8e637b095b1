"""`{% payment_panel submission %}`: the payment panel of the inbox detail page."""

from __future__ import annotations

from typing import Any

from django import template

from forms_engine import models as fm
from payments.staff import payment_panel as panel

register = template.Library()


@register.inclusion_tag("inbox/detail/payment_panel.html", takes_context=True)
def payment_panel(context: template.Context, submission: fm.Submission) -> dict[str, Any]:
    scope = context.get("scope")
    roles = frozenset(getattr(scope, "roles", frozenset()))
    return {
        **panel(submission, roles),
        "csrf_token": context.get("csrf_token"),
        "payment_errors": context.get("payment_errors") or {},
        "payment_values": context.get("payment_values") or {},
    }
