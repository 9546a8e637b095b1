"""`fee:`: when the fee is paid, by which methods, and its items with their conditions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from forms_engine.procedure_format.model import FeeItem, FeeSpec
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .checks import FileCheck
from .conditions import TYPE_WORDS, check_expression, outside_groups, result_type

if TYPE_CHECKING:
    from .pages import ProcedureCheck

FEE_KEYS = ("timing", "methods", "items")
FEE_ITEM_KEYS = ("label", "amount", "quantity", "when")
FEE_TIMINGS = ("before_review", "after_review")
PAYMENT_METHODS = ("card", "konbini")


def fee_of(p: ProcedureCheck, value: Any) -> FeeSpec | None:
    c = p.c
    path: KeyPath = ("fee",)
    entry = c.mapping(value, path, "a mapping {timing, methods, items}")
    if entry is None:
        return None
    c.check_keys(entry, path, FEE_KEYS, ("items",))
    timing = "before_review"
    if "timing" in entry:
        timing = c.choice(entry["timing"], path + ("timing",), FEE_TIMINGS) or timing
    methods: list[str] = list(PAYMENT_METHODS)
    if "methods" in entry:
        methods = []
        for index, item in enumerate(
            c.sequence(entry["methods"], path + ("methods",), "payment methods")
        ):
            method = c.choice(item, path + ("methods", index), PAYMENT_METHODS)
            if method is not None and method in methods:
                c.error(path + ("methods", index), f"{method!r} is listed twice")
            elif method is not None:
                methods.append(method)
    items: list[FeeItem] = []
    symbols = p.symbols()

    # The fee is worked out after the last page, so any field outside groups may be named.
    entries = c.sequence(entry["items"], path + ("items",), "fee items") if "items" in entry else []
    for index, item in enumerate(entries):
        item_path = path + ("items", index)
        item = c.mapping(item, item_path, "a fee item: a mapping {label, amount}")
        if item is None:
            continue
        c.check_keys(item, item_path, FEE_ITEM_KEYS, ("label", "amount"))
        label = c.text(item["label"], item_path + ("label",)) if "label" in item else None
        amount = None
        if "amount" in item:
            amount = yen_amount(c, item["amount"], item_path + ("amount",))
        quantity = when = None
        if "quantity" in item:
            quantity = c.expression(item["quantity"], item_path + ("quantity",))
            check_expression(p, quantity, item_path + ("quantity",), outside_groups)
            if quantity is not None:
                check_numeric(p, quantity, item_path + ("quantity",), symbols)
        if "when" in item:
            when = c.expression(item["when"], item_path + ("when",))
            check_expression(p, when, item_path + ("when",), outside_groups)
        if label is not None and amount is not None:
            items.append(
                FeeItem(
                    label=label,
                    amount=amount,
                    line=c.doc.line(item_path),
                    quantity=quantity,
                    when=when,
                )
            )
    return FeeSpec(timing=timing, methods=tuple(methods), items=tuple(items))


def yen_amount(c: FileCheck, value: Any, path: KeyPath) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        c.error(path, "must be a whole number of yen")
        return None
    if isinstance(value, float):
        c.error(path, "must be a whole number of yen: JPY has no decimals")
        return None
    if value < 0:
        c.error(path, "amount must not be negative")
        return None
    amount: int = value
    return amount


def check_numeric(
    p: ProcedureCheck, expression: Any, path: KeyPath, symbols: Mapping[str, str]
) -> None:
    """A quantity multiplies an amount of yen, so it must be a whole number."""
    tree = expression.to_json()
    kind = result_type(tree, symbols)
    if kind is not None and kind != "number":
        p.c.error(
            path,
            f"quantity must be a whole number (e.g. a number field or len(group)), "
            f"but it gives {TYPE_WORDS.get(kind, kind)}",
        )
    elif "name" in tree and "part" not in tree:
        target = p.fields.get(tree["name"])
        if (
            target is not None
            and target.type == "number"
            and not target.params.get("integer", True)
        ):
            p.c.error(
                path,
                f"quantity must be a whole number, but field {target.id!r} allows "
                "decimals (integer: false)",
            )
