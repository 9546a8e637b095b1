"""The fee items that apply to a filing's answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms_engine.procedure_format import expr
from forms_engine.procedure_format.model import ProcedureSpec

from .conditions import eval_env, holds

# No procedure of a municipality charges a trillion yen: past this the answers are wrong.
FEE_LIMIT = 10**12


def fee_lines(spec: ProcedureSpec, answers: Mapping[str, Any], lang: str, today=None) -> list[dict]:
    """The fee items that apply, with quantity and subtotal (yen)."""
    if spec.fee is None:
        return []
    env = eval_env(spec, answers, today)
    lines = []
    for item in spec.fee.items:
        if item.when is not None and not holds(item.when, env, today):
            continue
        quantity = 1
        if item.quantity is not None:
            q = expr.evaluate(item.quantity, env, today)
            # Whole units; a total too large to charge is refused at completion
            # (FEE_LIMIT), never silently dropped.
            quantity = int(q) if isinstance(q, int | float) and q > 0 else 0
        if quantity <= 0:
            continue
        lines.append(
            {
                "label": item.label.get(lang),
                "label_i18n": dict(item.label.values),
                "amount": item.amount,
                "quantity": quantity,
                "subtotal": item.amount * quantity,
            }
        )
    return lines
