"""Source text of an expression into tokens; most syntax errors with a hint are found here."""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import ExprError
from .values import MAX_SAFE_INT

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})

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


class Token:
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
        if value > MAX_SAFE_INT:
            value = float(text)  # rounds like JavaScript; gives inf rather than overflowing
    if not math.isfinite(value):
        raise ExprError(f"number {text[:20]}... is too large", offset)
    return value


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
            continue
        if "a" <= c <= "z":
            m = _NAME_RE.match(src, i)
            assert m is not None
            tokens.append(Token("name", m.group(), i, m.end()))
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
            tokens.append(Token("num", _number_value(m.group(), i), i, j))
            i = j
            continue
        if c == "'" or c == '"':
            i = _read_string(src, i, tokens)
            continue
        two = src[i : i + 2]
        if two in _TWO_CHAR_OPS:
            tokens.append(Token("op", two, i, i + 2))
            i += 2
            continue
        if two == "**":
            raise ExprError(_HINTS["**"], i)
        if c in _ONE_CHAR_OPS:
            tokens.append(Token("op", c, i, i + 1))
            i += 1
            continue
        raise ExprError(_bad_character(src, i), i)
    tokens.append(Token("end", None, n, n))
    return tokens


def _read_string(src: str, start: int, tokens: list[Token]) -> int:
    quote = src[start]
    parts: list[str] = []
    i, n = start + 1, len(src)
    while i < n:
        c = src[i]
        if c == quote:
            tokens.append(Token("str", "".join(parts), start, i + 1))
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
