"""The load-time static check: the types of an expression against the procedure's fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms_engine.procedure_format.model import compound_parts

from .errors import suggest
from .expression import Expr
from .functions import FUNCTIONS
from .nodes import Node
from .values import ARITHMETIC, ORDERING, parse_iso

_DESCRIPTIONS = {
    "number": "a number",
    "string": "text",
    "date": "a date",
    "bool": "yes/no (true or false)",
    "list": "a checkboxes answer",
    "listlit": "a list",
    "group": "a group",
    "files": "files",
    "compound:name": "a name",
    "compound:address": "an address",
    "compound:bank_account": "a bank account",
    "null": "null",
}
_KNOWN_TYPES = frozenset(_DESCRIPTIONS) - {"listlit", "null"}


class _Type:
    __slots__ = ("kind", "literal", "items")

    def __init__(self, kind: str, literal: Any = None, items: tuple[_Type, ...] = ()):
        self.kind = kind  # a symbol type, "listlit", "null" or "any"
        self.literal = literal  # the value of a string literal, else None
        self.items = items  # element types of a list literal

    @property
    def family(self) -> str:
        return "list" if self.kind == "listlit" else self.kind

    @property
    def open(self) -> bool:
        return self.kind in ("any", "null")


_ANY = _Type("any")


def _is_iso_date(value: Any) -> bool:
    return parse_iso(value) is not None


class _Checker:
    def __init__(self, source: str, symbols: Mapping[str, str]):
        self.source = source
        self.symbols = symbols
        self.messages: list[str] = []

    def report(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)

    def text(self, node: Node) -> str:
        if node.kind == "name":
            field_id, part = node.value
            return f"'{field_id}'" if part is None else f"'{field_id}.{part}'"
        snippet = self.source[node.start : node.end].strip()
        if snippet:
            return f"'{snippet}'" if node.kind != "lit" else snippet
        return "the expression"

    def infer(self, node: Node) -> _Type:
        kind = node.kind
        if kind == "lit":
            v = node.value
            if v is None:
                return _Type("null")
            if type(v) is bool:
                return _Type("bool")
            if type(v) is str:
                return _Type("string", v)
            return _Type("number")
        if kind == "name":
            return self.infer_name(*node.value)
        if kind == "list":
            return _Type("listlit", items=tuple(self.infer(item) for item in node.args))
        if kind == "call":
            return self.infer_call(node)
        return self.infer_op(node)

    def infer_name(self, field_id: str, part: str | None) -> _Type:
        if field_id not in self.symbols:
            hint = f" (did you mean '{field_id}()'?)" if field_id in FUNCTIONS else ""
            hint = hint or suggest(field_id, self.symbols)
            self.report(f"unknown field '{field_id}'{hint}")
            return _ANY
        typ = self.symbols[field_id]
        if typ == "none":
            self.report(f"field '{field_id}' is static text and has no answer")
            return _ANY
        if part is None:
            return _Type(typ) if typ in _KNOWN_TYPES else _ANY
        if typ.startswith("compound:"):
            parts = compound_parts().get(typ.split(":", 1)[1])
            if parts is not None and part not in parts:
                self.report(
                    f"unknown part '{part}' of field '{field_id}'{suggest(part, parts)}: "
                    f"its parts are {', '.join(parts)}"
                )
            return _Type("string")
        what = _DESCRIPTIONS.get(typ, typ)
        self.report(
            f"field '{field_id}' is {what} and has no part '{part}': "
            "parts exist only for name, address and bank account fields"
        )
        return _ANY

    def infer_call(self, node: Node) -> _Type:
        name = node.value
        if name == "today":
            return _Type("date")
        arg_node = node.args[0]
        arg = self.infer(arg_node)
        if name == "len":
            if not arg.open and arg.family not in ("string", "list", "group", "files"):
                self.report(
                    f"len() counts characters of text, ticks of checkboxes, entries of a "
                    f"group or files, but {self.text(arg_node)} is {self.describe(arg)}"
                )
        elif not arg.open and arg.kind != "date":
            if arg.kind == "string" and arg.literal is not None:
                if not _is_iso_date(arg.literal):
                    self.report(self.not_a_date(arg.literal))
            else:
                self.report(
                    f"age() needs a date, but {self.text(arg_node)} is {self.describe(arg)}"
                )
        return _Type("number")

    @staticmethod
    def describe(t: _Type) -> str:
        return _DESCRIPTIONS.get(t.kind, "a value")

    @staticmethod
    def not_a_date(literal: str) -> str:
        return f"'{literal}' is not a date: write dates as YYYY-MM-DD, e.g. '2025-04-01'"

    def infer_op(self, node: Node) -> _Type:
        op = node.value
        types = [self.infer(arg) for arg in node.args]
        if op in ("and", "or"):
            kinds = {t.kind for t in types}
            return types[0] if len(kinds) == 1 else _ANY
        if op == "not":
            return _Type("bool")
        if op == "neg" or op in ARITHMETIC:
            symbol = "-" if op == "neg" else op
            for arg, t in zip(node.args, types, strict=True):
                if not t.open and t.kind != "number":
                    self.report(
                        f"'{symbol}' needs numbers, but {self.text(arg)} is {self.describe(t)}"
                    )
            return _Type("number")
        left, right = node.args
        lt, rt = types
        if op in ("==", "!="):
            self.check_equality(op, left, right, lt, rt)
        elif op in ORDERING:
            self.check_ordering(op, left, right, lt, rt)
        else:
            self.check_in(op, left, right, lt, rt)
        return _Type("bool")

    def compatible(self, a: _Type, b: _Type) -> bool | None:
        """True/False for ==, None when a date meets a string literal that is not a date."""
        if a.open or b.open or a.family == b.family:
            return True
        if {a.family, b.family} == {"date", "string"}:
            literal = a.literal if a.family == "string" else b.literal
            if literal is None:
                return False
            return True if _is_iso_date(literal) else None
        return False

    def check_equality(self, op: str, left: Node, right: Node, lt: _Type, rt: _Type) -> None:
        for field_node, other in ((left, right), (right, left)):
            empty = (other.kind == "lit" and other.value == "") or (
                other.kind == "list" and not other.args
            )
            if empty and field_node.kind == "name":
                shown = self.source[other.start : other.end].strip()
                self.report(
                    f"an empty answer is null: write '{self.text(field_node)[1:-1]} {op} null' "
                    f"instead of comparing with {shown}"
                )
                return
        ok = self.compatible(lt, rt)
        if ok is None:
            literal = lt.literal if lt.literal is not None else rt.literal
            self.report(self.not_a_date(literal))
        elif not ok:
            always = "false" if op == "==" else "true"
            self.report(
                f"{self.text(left)} is {self.describe(lt)} and {self.text(right)} is "
                f"{self.describe(rt)}, so '{op}' is always {always}"
            )

    def check_ordering(self, op: str, left: Node, right: Node, lt: _Type, rt: _Type) -> None:
        if lt.kind == "null" or rt.kind == "null":
            self.report(f"'{op}' with null is always false")
            return
        if lt.open or rt.open:
            return
        pair = {lt.family, rt.family}
        if len(pair) == 1 and pair <= {"number", "string", "date"}:
            return
        if pair == {"date", "string"}:
            literal = lt.literal if lt.family == "string" else rt.literal
            if literal is not None:
                if not _is_iso_date(literal):
                    self.report(self.not_a_date(literal))
                return
        self.report(
            f"cannot order {self.describe(lt)} and {self.describe(rt)} with '{op}': "
            f"{self.text(left)} {op} {self.text(right)}"
        )

    def check_in(self, op: str, left: Node, right: Node, lt: _Type, rt: _Type) -> None:
        if rt.open:
            return
        if rt.family == "string" or rt.kind == "list":
            # Text holds text; a checkboxes answer holds option values, which are text.
            element = _Type("string")
            if self.compatible(lt, element) is not True:
                self.report(
                    f"{self.text(left)} is {self.describe(lt)} but {self.text(right)} holds "
                    f"text, so '{op}' is always {'false' if op == 'in' else 'true'}"
                )
            return
        if rt.kind == "listlit":
            if lt.open or not rt.items:
                return
            if not any(self.compatible(lt, item) for item in rt.items):
                kinds = sorted({self.describe(item) for item in rt.items})
                self.report(
                    f"{self.text(left)} is {self.describe(lt)} but the list holds "
                    f"{' and '.join(kinds)}, so '{op}' is always "
                    f"{'false' if op == 'in' else 'true'}"
                )
            return
        self.report(
            f"'{op}' needs a list or text on the right, but {self.text(right)} is "
            f"{self.describe(rt)}"
        )


def check(expr: Expr, symbols: Mapping[str, str]) -> list[str]:
    """Load-time check against the field types of the procedure; [] when fine.

    `symbols` maps field id to "string" | "number" | "date" | "bool" | "list" | "group" |
    "files" | "compound:name" | "compound:address" | "compound:bank_account" | "none"."""
    checker = _Checker(expr.source, symbols)
    checker.infer(expr._node)
    return checker.messages
