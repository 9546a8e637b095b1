"""The tree the parser builds, its depth bound and its JSON form for static/js/expr.js."""

from __future__ import annotations

from typing import Any

from .errors import ExprError

# Bounds parser recursion and the depth of the compiled closures, so a hostile file cannot
# exhaust the stack of whatever request happens to evaluate it.
MAX_DEPTH = 50


class Node:
    """kind: lit (value) | name (value = (field id, part or None)) | list (args)
    | op (value = operator, args) | call (value = function name, args)."""

    __slots__ = ("kind", "value", "args", "start", "end", "depth")

    def __init__(self, kind: str, value: Any, args: tuple[Node, ...], start: int, end: int):
        self.kind = kind
        self.value = value
        self.args = args
        self.start = start
        self.end = end
        self.depth: int = 1 + max((a.depth for a in args), default=0)
        if self.depth > MAX_DEPTH:
            raise ExprError(
                f"expression is nested too deeply (more than {MAX_DEPTH} levels)", start
            )

    def to_json(self) -> dict[str, Any]:
        if self.kind == "lit":
            return {"lit": self.value}
        if self.kind == "name":
            field_id, part = self.value
            return {"name": field_id} if part is None else {"name": field_id, "part": part}
        args = [a.to_json() for a in self.args]
        if self.kind == "list":
            return {"list": args}
        return {self.kind: self.value, "args": args}
