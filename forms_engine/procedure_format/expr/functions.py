"""The built-in functions, as one table: name -> arity, whether the function reads today's
date, and how a call of it is compiled. static/js/expr.js implements the same functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .values import Fn, iso, parse_iso


def _length(v: Any) -> int | None:
    if v is None:
        return 0
    t = type(v)
    if t is str or t is list or t is tuple:
        return len(v)
    return None


def _age(v: Any, today: date) -> int | None:
    born = parse_iso(v)
    if born is None:
        return None
    # The everyday reckoning: one year older on the birthday (29 Feb: on 1 Mar).
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _compile_age(args: list[Fn]) -> Fn:
    (arg,) = args
    return lambda a, t: _age(arg(a, t), t)


def _compile_len(args: list[Fn]) -> Fn:
    (arg,) = args
    return lambda a, t: _length(arg(a, t))


def _compile_today(args: list[Fn]) -> Fn:
    return lambda a, t: iso(t)


@dataclass(frozen=True)
class Function:
    arity: int
    reads_today: bool  # evaluate() then takes today's date in Japan when it is given none
    compile_call: Callable[[list[Fn]], Fn]  # the call's closure from its arguments' closures


FUNCTIONS: dict[str, Function] = {
    "age": Function(arity=1, reads_today=True, compile_call=_compile_age),
    "len": Function(arity=1, reads_today=False, compile_call=_compile_len),
    "today": Function(arity=0, reads_today=True, compile_call=_compile_today),
}

_CALLS = [f"{name}()" for name in sorted(FUNCTIONS)]
# For messages: "age(), len() and today()".
LISTING = ", ".join(_CALLS[:-1]) + " and " + _CALLS[-1]
