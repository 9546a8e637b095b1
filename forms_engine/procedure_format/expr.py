"""The expression language of procedure files: `show_if`, fee `when` and fee `quantity`.

Source text is tokenized and parsed by hand (a Pratt parser) into a small tree; nothing is
ever handed to Python's eval, compile or ast. The tree is then compiled once into nested
closures, because conditions are evaluated on every page render for every conditional
field. `Expr.to_json()` gives the same tree to the browser evaluator (static/js/expr.js),
which must agree with `evaluate` here; tests/procedure_format/test_expr.py checks that with node.

Runtime values are the ones JSON can carry, so that the server and the browser see the
same thing: a date answer is read as its ISO string "YYYY-MM-DD" (ISO dates order
correctly as strings, and the browser only has strings), and an empty answer ("" or [])
is read as null, since an empty browser input and an unanswered stored field must agree.
Integers beyond 2**53 become floats, as they would in JavaScript.
"""

from __future__ import annotations

import difflib
import functools
import math
import operator
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from .model import compound_parts

__all__ = ["Expr", "ExprError", "check", "evaluate", "parse", "truthy"]

MAX_SOURCE_LENGTH = 500
# Bounds parser recursion and the depth of the compiled closures, so a hostile file cannot
# exhaust the stack of whatever request happens to evaluate it.
MAX_DEPTH = 50

FUNCTIONS: dict[str, int] = {"age": 1, "len": 1, "today": 0}
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})

# JavaScript numbers are doubles: past this, integers are rounded there, so they are here.
_MAX_SAFE_INT = 2**53

_JST = timezone(timedelta(hours=9))  # Japan has no daylight saving time


class ExprError(Exception):
    """A syntax error or a static error in an expression; `offset` is a 0-based index."""

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message, offset)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at character {self.offset + 1})"


# ---------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------

_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_WORD_RE = re.compile(r"[A-Za-z0-9_]+")
_TWO_CHAR_OPS = frozenset({"==", "!=", "<=", ">="})
_ONE_CHAR_OPS = frozenset("<>+-*/()[],.")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_HINTS = {
    "=": "use '==' to compare",
    "!": "use 'not'",
    "&": "use 'and'",
    "|": "use 'or'",
    "**": "'**' is not supported",
    "True": "write 'true'",
    "False": "write 'false'",
    "None": "write 'null'",
}


class _Token:
    __slots__ = ("kind", "value", "start", "end")

    def __init__(self, kind: str, value: Any, start: int, end: int):
        self.kind = kind  # "num" | "str" | "name" | "op" | "end"
        self.value = value
        self.start = start
        self.end = end

    def is_op(self, *values: str) -> bool:
        return self.kind == "op" and self.value in values

    def is_keyword(self, *values: str) -> bool:
        return self.kind == "name" and self.value in values

    def describe(self) -> str:
        if self.kind == "end":
            return "end of expression"
        if self.kind == "str":
            return "a string"
        return f"'{self.value}'"


def _number_value(text: str, offset: int) -> int | float:
    value: int | float
    if "." in text:
        value = float(text)
    else:
        value = int(text)
        if value > _MAX_SAFE_INT:
            value = float(text)  # rounds like JavaScript; gives inf rather than overflowing
    if not math.isfinite(value):
        raise ExprError(f"number {text[:20]}... is too large", offset)
    return value


def _tokenize(src: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
            continue
        if "a" <= c <= "z":
            m = _NAME_RE.match(src, i)
            assert m is not None
            tokens.append(_Token("name", m.group(), i, m.end()))
            i = m.end()
            continue
        if "0" <= c <= "9":
            m = _NUMBER_RE.match(src, i)
            assert m is not None
            j = m.end()
            if j < n and (src[j].isalnum() or src[j] in "_."):
                word = _WORD_RE.match(src, i)
                bad = word.group() if word and word.end() > j else src[i : j + 1]
                raise ExprError(f"invalid number '{bad}': write digits, e.g. 12 or 0.5", i)
            tokens.append(_Token("num", _number_value(m.group(), i), i, j))
            i = j
            continue
        if c == "'" or c == '"':
            i = _read_string(src, i, tokens)
            continue
        two = src[i : i + 2]
        if two in _TWO_CHAR_OPS:
            tokens.append(_Token("op", two, i, i + 2))
            i += 2
            continue
        if two == "**":
            raise ExprError(_HINTS["**"], i)
        if c in _ONE_CHAR_OPS:
            tokens.append(_Token("op", c, i, i + 1))
            i += 1
            continue
        raise ExprError(_bad_character(src, i), i)
    tokens.append(_Token("end", None, n, n))
    return tokens


def _read_string(src: str, start: int, tokens: list[_Token]) -> int:
    quote = src[start]
    parts: list[str] = []
    i, n = start + 1, len(src)
    while i < n:
        c = src[i]
        if c == quote:
            tokens.append(_Token("str", "".join(parts), start, i + 1))
            return i + 1
        if c == "\\":
            nxt = src[i + 1 : i + 2]
            if nxt not in _ESCAPES:
                raise ExprError(
                    "unknown escape in string: only \\\\, \\', \\\", \\n and \\t are allowed", i
                )
            parts.append(_ESCAPES[nxt])
            i += 2
            continue
        parts.append(c)
        i += 1
    raise ExprError("unterminated string: add the closing quote", start)


def _bad_character(src: str, i: int) -> str:
    c = src[i]
    m = _WORD_RE.match(src, i)
    if m:
        word = m.group()
        if word in _HINTS:
            return f"unknown name '{word}': {_HINTS[word]}"
        return (
            f"invalid name '{word}': field ids start with a lower-case letter and use "
            "only a-z, 0-9 and _"
        )
    if "\uff01" <= c <= "\uff5e":
        return f"full-width character '{c}': write half-width characters outside quotes"
    for pattern in ("&", "|", "!", "="):
        if c == pattern:
            return f"unexpected '{c}': {_HINTS[pattern]}"
    return f"unexpected character '{c}'"


# ---------------------------------------------------------------------------------------
# Tree
# ---------------------------------------------------------------------------------------


class _Node:
    """kind: lit (value) | name (value = (field id, part or None)) | list (args)
    | op (value = operator, args) | call (value = function name, args)."""

    __slots__ = ("kind", "value", "args", "start", "end", "depth")

    def __init__(self, kind: str, value: Any, args: tuple[_Node, ...], start: int, end: int):
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

    def to_json(self) -> dict:
        if self.kind == "lit":
            return {"lit": self.value}
        if self.kind == "name":
            field_id, part = self.value
            return {"name": field_id} if part is None else {"name": field_id, "part": part}
        args = [a.to_json() for a in self.args]
        if self.kind == "list":
            return {"list": args}
        return {self.kind: self.value, "args": args}


# Binding powers, loosest first: or < and < not < comparison/in < + - < * / < unary minus
# < call, part and subscript (the last two only to give a clear error).
_OR_BP = 10
_AND_BP = 20
_NOT_BP = 30
_CMP_BP = 40
_ADD_BP = 50
_MUL_BP = 60
_UNARY_BP = 70
_POSTFIX_BP = 80
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_INFIX_BP = {
    "==": _CMP_BP,
    "!=": _CMP_BP,
    "<": _CMP_BP,
    "<=": _CMP_BP,
    ">": _CMP_BP,
    ">=": _CMP_BP,
    "+": _ADD_BP,
    "-": _ADD_BP,
    "*": _MUL_BP,
    "/": _MUL_BP,
    ".": _POSTFIX_BP,
    "(": _POSTFIX_BP,
    "[": _POSTFIX_BP,
}
_KEYWORD_BP = {"or": _OR_BP, "and": _AND_BP, "in": _CMP_BP, "not": _CMP_BP}


def _suggest(word: str, candidates) -> str:
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Parser:
    def __init__(self, src: str):
        self.src = src
        self.tokens = _tokenize(src)
        self.pos = 0
        self.level = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def expect_op(self, value: str, what: str) -> _Token:
        tok = self.advance()
        if not tok.is_op(value):
            raise ExprError(f"expected '{value}' {what}, found {tok.describe()}", tok.start)
        return tok

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise ExprError("empty expression", 0)
        node = self.expression(0)
        tok = self.peek()
        if tok.kind != "end":
            raise ExprError(self.unexpected(tok), tok.start)
        return node

    @staticmethod
    def unexpected(tok: _Token) -> str:
        if tok.is_keyword("is"):
            return "unexpected 'is': use '==' or '!='"
        if tok.kind in ("name", "num", "str"):
            return f"unexpected {tok.describe()}: expected an operator such as == or and"
        return f"unexpected {tok.describe()}"

    @staticmethod
    def binding_power(tok: _Token) -> int:
        if tok.kind == "op":
            return _INFIX_BP.get(tok.value, 0)
        if tok.kind == "name":
            return _KEYWORD_BP.get(tok.value, 0)
        return 0

    def expression(self, rbp: int) -> _Node:
        self.level += 1
        if self.level > MAX_DEPTH:
            raise ExprError(
                f"expression is nested too deeply (more than {MAX_DEPTH} levels)",
                self.peek().start,
            )
        left = self.prefix(rbp)
        while True:
            tok = self.peek()
            if self.binding_power(tok) <= rbp:
                break
            self.advance()
            left = self.infix(left, tok)
        self.level -= 1
        return left

    def prefix(self, rbp: int) -> _Node:
        tok = self.advance()
        if tok.kind in ("num", "str"):
            return _Node("lit", tok.value, (), tok.start, tok.end)
        if tok.kind == "name":
            return self.prefix_name(tok, rbp)
        if tok.is_op("-"):
            operand = self.expression(_UNARY_BP)
            if operand.kind == "lit" and type(operand.value) in (int, float):
                return _Node("lit", -operand.value, (), tok.start, operand.end)
            return _Node("op", "neg", (operand,), tok.start, operand.end)
        if tok.is_op("("):
            if self.peek().is_op(")"):
                raise ExprError("empty parentheses", tok.start)
            inner = self.expression(0)
            self.expect_op(")", "to close '('")
            return inner
        if tok.is_op("["):
            items = self.arguments("]", tok)
            return _Node("list", None, tuple(items), tok.start, self.tokens[self.pos - 1].end)
        if tok.kind == "end":
            raise ExprError("unexpected end of expression", tok.start)
        raise ExprError(self.unexpected(tok), tok.start)

    def prefix_name(self, tok: _Token, rbp: int) -> _Node:
        word = tok.value
        if word == "true" or word == "false":
            return _Node("lit", word == "true", (), tok.start, tok.end)
        if word == "null":
            return _Node("lit", None, (), tok.start, tok.end)
        if word == "not":
            if rbp > _NOT_BP:
                raise ExprError("put 'not ...' in parentheses here", tok.start)
            operand = self.expression(_NOT_BP)
            return _Node("op", "not", (operand,), tok.start, operand.end)
        if word in KEYWORDS:
            raise ExprError(f"unexpected '{word}'", tok.start)
        if self.peek().is_op("("):
            return self.call(tok)
        return _Node("name", (word, None), (), tok.start, tok.end)

    def call(self, tok: _Token) -> _Node:
        name = tok.value
        if name not in FUNCTIONS:
            raise ExprError(
                f"unknown function '{name}'{_suggest(name, FUNCTIONS)}: "
                "the functions are age(), len() and today()",
                tok.start,
            )
        opening = self.advance()
        args = self.arguments(")", opening)
        arity = FUNCTIONS[name]
        if len(args) != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise ExprError(
                f"{name}() takes {arity} {plural}, not {len(args)}",
                tok.start,
            )
        return _Node("call", name, tuple(args), tok.start, self.tokens[self.pos - 1].end)

    def arguments(self, closing: str, opening: _Token) -> list[_Node]:
        items: list[_Node] = []
        while not self.peek().is_op(closing):
            items.append(self.expression(0))
            if self.peek().is_op(","):
                self.advance()
                continue
            if not self.peek().is_op(closing):
                tok = self.peek()
                raise ExprError(
                    f"expected ',' or '{closing}' to close '{opening.value}', "
                    f"found {tok.describe()}",
                    tok.start,
                )
        self.advance()
        return items

    def infix(self, left: _Node, tok: _Token) -> _Node:
        op = tok.value
        if tok.kind == "name":
            if op in ("and", "or"):
                right = self.expression(_KEYWORD_BP[op])
                args: list[_Node] = []
                for side in (left, right):
                    # and/or are associative, so one flat node is equivalent and shallower.
                    if side.kind == "op" and side.value == op:
                        args.extend(side.args)
                    else:
                        args.append(side)
                return _Node("op", op, tuple(args), left.start, right.end)
            if op == "not":
                nxt = self.advance()
                if not nxt.is_keyword("in"):
                    raise ExprError("expected 'in' after 'not'", nxt.start)
                op = "not in"
            return self.comparison(left, op)
        if op in _COMPARISONS:
            return self.comparison(left, op)
        if op in ("+", "-", "*", "/"):
            right = self.expression(_INFIX_BP[op])
            return _Node("op", op, (left, right), left.start, right.end)
        if op == ".":
            return self.part(left, tok)
        if op == "[":
            raise ExprError("subscripts such as x[0] are not supported", tok.start)
        raise ExprError("only the functions age(), len() and today() can be called", tok.start)

    def comparison(self, left: _Node, op: str) -> _Node:
        right = self.expression(_CMP_BP)
        nxt = self.peek()
        if (nxt.kind == "op" and nxt.value in _COMPARISONS) or nxt.is_keyword("in", "not"):
            raise ExprError("comparisons cannot be chained: join them with 'and'", nxt.start)
        return _Node("op", op, (left, right), left.start, right.end)

    def part(self, left: _Node, dot: _Token) -> _Node:
        if left.kind != "name" or left.value[1] is not None:
            raise ExprError("'.' can only follow a field id, as in address.prefecture", dot.start)
        tok = self.advance()
        if tok.kind != "name" or tok.value in KEYWORDS:
            raise ExprError(f"expected a part name after '.', found {tok.describe()}", tok.start)
        return _Node("name", (left.value[0], tok.value), (), left.start, tok.end)


# ---------------------------------------------------------------------------------------
# Runtime values and operations (mirrored in static/js/expr.js)
# ---------------------------------------------------------------------------------------


def _iso(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _normalise(v: Any) -> Any:
    """An answer as expressions see it: JSON-like, empty == null, dates as ISO strings."""
    t = type(v)
    if t is str or t is list:
        return v if v else None
    if t is int:
        if -_MAX_SAFE_INT <= v <= _MAX_SAFE_INT:
            return v
        try:
            return float(v)
        except OverflowError:  # JSON.parse gives Infinity for these
            return math.inf if v > 0 else -math.inf
    if t is tuple:
        return list(v) if v else None
    if isinstance(v, date):
        return _iso(v)
    return v


def truthy(value: Any) -> bool:
    """null, false, 0, "" and [] (and an empty mapping, and NaN) are false."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    t = type(value)
    if t is int:
        return value != 0
    if t is float:
        return value == value and value != 0.0
    if t is str or t is list or t is tuple or t is dict:
        return len(value) > 0
    if isinstance(value, Mapping):
        return len(value) > 0
    return True


def _eq(x: Any, y: Any) -> bool:
    if x is None or y is None:
        return x is y
    tx, ty = type(x), type(y)
    if tx is bool or ty is bool:
        return tx is ty and x is y
    if (tx is int or tx is float) and (ty is int or ty is float):
        return x == y
    if tx is str and ty is str:
        return x == y
    if isinstance(x, date) or isinstance(y, date):
        x = _iso(x) if isinstance(x, date) else x
        y = _iso(y) if isinstance(y, date) else y
        return type(x) is str and type(y) is str and x == y
    if (tx is list or tx is tuple) and (ty is list or ty is tuple):
        return len(x) == len(y) and all(_eq(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, Mapping) and isinstance(y, Mapping):
        return x.keys() == y.keys() and all(_eq(x[k], y[k]) for k in x)
    return False


def _contains(needle: Any, container: Any) -> bool:
    t = type(container)
    if t is list or t is tuple:
        return any(_eq(needle, item) for item in container)
    if t is str:
        return type(needle) is str and needle in container
    return False


def _fix_number(r: Any) -> Any:
    if type(r) is int:
        if -_MAX_SAFE_INT <= r <= _MAX_SAFE_INT:
            return r
        return float(r)  # OverflowError is caught by the caller
    if r is None or math.isfinite(r):
        return r
    return None


def _divide(x: int | float, y: int | float) -> int | float | None:
    if y == 0:
        return None
    if type(x) is int and type(y) is int and x % y == 0:
        return x // y
    return x / y


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
}
_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _as_number(v: Any) -> Any:
    """null counts as 0; anything but a number is None (a runtime type error)."""
    if v is None:
        return 0
    t = type(v)
    if t is int or t is float:
        return v
    return None


_ISO_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _parse_iso(v: Any) -> date | None:
    if type(v) is not str:
        return None
    return _parse_iso_string(v)


@functools.lru_cache(maxsize=1024)  # age() of the same birth date runs on every render
def _parse_iso_string(v: str) -> date | None:
    m = _ISO_DATE_RE.fullmatch(v)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _len(v: Any) -> int | None:
    if v is None:
        return 0
    t = type(v)
    if t is str or t is list or t is tuple:
        return len(v)
    return None


def _age(v: Any, today: date) -> int | None:
    born = _parse_iso(v)
    if born is None:
        return None
    # The everyday reckoning: one year older on the birthday (29 Feb: on 1 Mar).
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# ---------------------------------------------------------------------------------------
# Compilation to closures
# ---------------------------------------------------------------------------------------

_Fn = Callable[[Mapping[str, Any], Any], Any]


def _compile(node: _Node) -> _Fn:
    kind = node.kind
    if kind == "lit":
        value = node.value
        return lambda a, t: value
    if kind == "name":
        return _compile_name(*node.value)
    args = [_compile(arg) for arg in node.args]
    if kind == "list":
        if all(arg.kind == "lit" for arg in node.args):
            constant = [arg.value for arg in node.args]
            return lambda a, t: list(constant)
        return lambda a, t: [f(a, t) for f in args]
    if kind == "call":
        return _compile_call(node.value, args)
    return _compile_op(node, args)


def _compile_name(field_id: str, part: str | None) -> _Fn:
    normalise = _normalise
    if part is None:
        return lambda a, t: normalise(a.get(field_id))

    def get_part(a, t):
        v = a.get(field_id)
        if isinstance(v, Mapping):
            return normalise(v.get(part))
        return None

    return get_part


def _compile_call(name: str, args: list[_Fn]) -> _Fn:
    if name == "today":
        return lambda a, t: _iso(t)
    (arg,) = args
    if name == "len":
        return lambda a, t: _len(arg(a, t))
    return lambda a, t: _age(arg(a, t), t)


def _compile_op(node: _Node, args: list[_Fn]) -> _Fn:
    op = node.value
    if op == "and" or op == "or":
        return _compile_logic(op, args)
    if op == "not":
        (arg,) = args
        return lambda a, t: not truthy(arg(a, t))
    if op == "neg":
        (arg,) = args

        def negate(a, t):
            x = _as_number(arg(a, t))
            return None if x is None else -x

        return negate
    left, right = args
    if op == "==" or op == "!=":
        return _compile_equality(op == "!=", left, right, node.args[1])
    if op in _ORDERING:
        return _compile_ordering(_ORDERING[op], left, right)
    if op == "in":
        return lambda a, t: _contains(left(a, t), right(a, t))
    if op == "not in":
        return lambda a, t: not _contains(left(a, t), right(a, t))
    return _compile_arithmetic(_ARITHMETIC[op], left, right)


def _compile_logic(op: str, args: list[_Fn]) -> _Fn:
    # Like Python, and/or give back the deciding operand (`copies or 1` is a default).
    *first, last = args
    if op == "and":

        def conjunction(a, t):
            for f in first:
                v = f(a, t)
                if not truthy(v):
                    return v
            return last(a, t)

        return conjunction

    def disjunction(a, t):
        for f in first:
            v = f(a, t)
            if truthy(v):
                return v
        return last(a, t)

    return disjunction


def _compile_equality(negate: bool, left: _Fn, right: _Fn, right_node: _Node) -> _Fn:
    if right_node.kind == "lit" and type(right_node.value) is str:
        constant = right_node.value

        def equals_string(a, t):
            x = left(a, t)
            result = x == constant if type(x) is str else _eq(x, constant)
            return result is not negate

        return equals_string
    if negate:
        return lambda a, t: not _eq(left(a, t), right(a, t))
    return lambda a, t: _eq(left(a, t), right(a, t))


def _compile_ordering(compare: Callable[[Any, Any], bool], left: _Fn, right: _Fn) -> _Fn:
    def ordering(a, t):
        x = left(a, t)
        y = right(a, t)
        tx, ty = type(x), type(y)
        if tx is str:
            return ty is str and compare(x, y)
        if (tx is int or tx is float) and (ty is int or ty is float):
            return compare(x, y)
        return False

    return ordering


def _compile_arithmetic(apply: Callable[[Any, Any], Any], left: _Fn, right: _Fn) -> _Fn:
    def arithmetic(a, t):
        x = _as_number(left(a, t))
        y = _as_number(right(a, t))
        if x is None or y is None:
            return None
        try:
            return _fix_number(apply(x, y))
        except ArithmeticError:
            return None

    return arithmetic


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


class Expr:
    """A parsed expression. Immutable; compare and hash by source text."""

    __slots__ = ("source", "names", "_input", "_node", "_fn", "_needs_today")

    source: str
    names: frozenset[str]

    def __init__(self, source: str, raw: Any, node: _Node):
        self.source = source
        self._input = raw
        self._node = node
        self._fn = _compile(node)
        names: set[str] = set()
        calls: set[str] = set()
        _collect(node, names, calls)
        self.names = frozenset(names)
        self._needs_today = bool(calls & {"age", "today"})

    def to_json(self) -> dict:
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

    def __reduce__(self):
        # Closures do not pickle; parsing again is cheap and gives the same expression.
        return (parse, (self._input,))


def _collect(node: _Node, names: set[str], calls: set[str]) -> None:
    if node.kind == "name":
        names.add(node.value[0])
    elif node.kind == "call":
        calls.add(node.value)
    for arg in node.args:
        _collect(arg, names, calls)


def parse(source: Any) -> Expr:
    """Parse an expression; YAML may also hand over a bool or a number (`show_if: true`)."""
    if isinstance(source, bool):
        return Expr("true" if source else "false", source, _Node("lit", source, (), 0, 0))
    if isinstance(source, int | float):
        if isinstance(source, float) and not math.isfinite(source):
            raise ExprError("expected an expression, not an infinite number")
        value = _normalise(source) if isinstance(source, int) else source
        if not math.isfinite(value):
            raise ExprError("number is too large")
        return Expr(str(source), source, _Node("lit", value, (), 0, 0))
    if not isinstance(source, str):
        raise ExprError(f"expected an expression (text), not {type(source).__name__}")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExprError(f"expression is longer than {MAX_SOURCE_LENGTH} characters")
    if not source.strip():
        raise ExprError("empty expression", 0)
    return Expr(source, source, _Parser(source).parse())


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


# ---------------------------------------------------------------------------------------
# Static check
# ---------------------------------------------------------------------------------------

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
    return _parse_iso(value) is not None


class _Checker:
    def __init__(self, source: str, symbols: Mapping[str, str]):
        self.source = source
        self.symbols = symbols
        self.messages: list[str] = []

    def report(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)

    def text(self, node: _Node) -> str:
        if node.kind == "name":
            field_id, part = node.value
            return f"'{field_id}'" if part is None else f"'{field_id}.{part}'"
        snippet = self.source[node.start : node.end].strip()
        if snippet:
            return f"'{snippet}'" if node.kind != "lit" else snippet
        return "the expression"

    def infer(self, node: _Node) -> _Type:
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
            hint = hint or _suggest(field_id, self.symbols)
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
                    f"unknown part '{part}' of field '{field_id}'{_suggest(part, parts)}: "
                    f"its parts are {', '.join(parts)}"
                )
            return _Type("string")
        what = _DESCRIPTIONS.get(typ, typ)
        self.report(
            f"field '{field_id}' is {what} and has no part '{part}': "
            "parts exist only for name, address and bank account fields"
        )
        return _ANY

    def infer_call(self, node: _Node) -> _Type:
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

    def infer_op(self, node: _Node) -> _Type:
        op = node.value
        types = [self.infer(arg) for arg in node.args]
        if op in ("and", "or"):
            kinds = {t.kind for t in types}
            return types[0] if len(kinds) == 1 else _ANY
        if op == "not":
            return _Type("bool")
        if op == "neg" or op in _ARITHMETIC:
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
        elif op in _ORDERING:
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

    def check_equality(self, op: str, left: _Node, right: _Node, lt: _Type, rt: _Type) -> None:
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

    def check_ordering(self, op: str, left: _Node, right: _Node, lt: _Type, rt: _Type) -> None:
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

    def check_in(self, op: str, left: _Node, right: _Node, lt: _Type, rt: _Type) -> None:
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
