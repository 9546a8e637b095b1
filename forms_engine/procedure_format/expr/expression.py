"""Expr, the parsed expression, with the two ways in and out: parse() and evaluate()."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from .compiler import compile_node
from .errors import ExprError
from .functions import FUNCTIONS
from .nodes import Node
from .parser import Parser
from .values import normalise

MAX_SOURCE_LENGTH = 500

_JST = timezone(timedelta(hours=9))  # Japan has no daylight saving time


class Expr:
    """A parsed expression. Immutable; compare and hash by source text."""

    __slots__ = ("source", "names", "_input", "_node", "_fn", "_needs_today")

    source: str
    names: frozenset[str]

    def __init__(self, source: str, raw: Any, node: Node):
        self.source = source
        self._input = raw
        self._node = node
        self._fn = compile_node(node)
        names: set[str] = set()
        calls: set[str] = set()
        _collect(node, names, calls)
        self.names = frozenset(names)
        self._needs_today = any(FUNCTIONS[name].reads_today for name in calls)

    def to_json(self) -> dict[str, Any]:
        """The tree for static/js/expr.js: {"lit": v} | {"name": id, "part"?: p} |
        {"list": [..]} | {"op": op, "args": [..]} | {"call": fn, "args": [..]}, where op is
        one of == != < <= > >= in "not in" + - * / and or not neg."""
        return self._node.to_json()

    def __repr__(self) -> str:
        return f"Expr({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def __reduce__(self) -> tuple[Callable[[str], Expr], tuple[str]]:
        # Closures do not pickle; parsing again is cheap and gives the same expression.
        return (parse, (self._input,))


def _collect(node: Node, names: set[str], calls: set[str]) -> None:
    if node.kind == "name":
        names.add(node.value[0])
    elif node.kind == "call":
        calls.add(node.value)
    for arg in node.args:
        _collect(arg, names, calls)


def parse(source: Any) -> Expr:
    """Parse an expression; YAML may also hand over a bool or a number (`show_if: true`)."""
    if isinstance(source, bool):
        return Expr("true" if source else "false", source, Node("lit", source, (), 0, 0))
    if isinstance(source, int | float):
        if isinstance(source, float) and not math.isfinite(source):
            raise ExprError("expected an expression, not an infinite number")
        value = normalise(source) if isinstance(source, int) else source
        if not math.isfinite(value):
            raise ExprError("number is too large")
        return Expr(str(source), source, Node("lit", value, (), 0, 0))
    if not isinstance(source, str):
        raise ExprError(f"expected an expression (text), not {type(source).__name__}")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExprError(f"expression is longer than {MAX_SOURCE_LENGTH} characters")
    if not source.strip():
        raise ExprError("empty expression", 0)
    return Expr(source, source, Parser(source).parse())


def _today_in_japan() -> date:
    return datetime.now(_JST).date()


def evaluate(expr: Expr, answers: Mapping[str, Any], today: date | None = None) -> Any:
    """The value of `expr` over `answers` (date answers as datetime.date).

    Never raises: a runtime type error or a division by zero gives null for that
    operation, and anything unforeseen in odd answers gives None for the whole."""
    if today is None and expr._needs_today:
        today = _today_in_japan()
    try:
        return expr._fn(answers if answers is not None else {}, today)
    except Exception:
        return None
