"""A tree into nested closures, compiled once: conditions are evaluated on every page render
for every conditional field. What each operator does matches static/js/expr.js."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .functions import FUNCTIONS
from .nodes import Node
from .values import (
    ARITHMETIC,
    ORDERING,
    Fn,
    as_number,
    contains,
    equal,
    fix_number,
    normalise,
    truthy,
)


def compile_node(node: Node) -> Fn:
    kind = node.kind
    if kind == "lit":
        value = node.value
        return lambda a, t: value
    if kind == "name":
        return _compile_name(*node.value)
    args = [compile_node(arg) for arg in node.args]
    if kind == "list":
        if all(arg.kind == "lit" for arg in node.args):
            constant = [arg.value for arg in node.args]
            return lambda a, t: list(constant)
        return lambda a, t: [f(a, t) for f in args]
    if kind == "call":
        return FUNCTIONS[node.value].compile_call(args)
    return _compile_op(node, args)


def _compile_name(field_id: str, part: str | None) -> Fn:
    if part is None:
        return lambda a, t: normalise(a.get(field_id))

    def get_part(a: Mapping[str, Any], t: Any) -> Any:
        v = a.get(field_id)
        if isinstance(v, Mapping):
            return normalise(v.get(part))
        return None

    return get_part


def _compile_op(node: Node, args: list[Fn]) -> Fn:
    op = node.value
    if op == "and" or op == "or":
        return _compile_logic(op, args)
    if op == "not":
        (arg,) = args
        return lambda a, t: not truthy(arg(a, t))
    if op == "neg":
        (arg,) = args

        def negate(a: Mapping[str, Any], t: Any) -> Any:
            x = as_number(arg(a, t))
            return None if x is None else -x

        return negate
    left, right = args
    if op == "==" or op == "!=":
        return _compile_equality(op == "!=", left, right, node.args[1])
    if op in ORDERING:
        return _compile_ordering(ORDERING[op], left, right)
    if op == "in":
        return lambda a, t: contains(left(a, t), right(a, t))
    if op == "not in":
        return lambda a, t: not contains(left(a, t), right(a, t))
    return _compile_arithmetic(ARITHMETIC[op], left, right)


def _compile_logic(op: str, args: list[Fn]) -> Fn:
    # Like Python, and/or give back the deciding operand (`copies or 1` is a default).
    *first, last = args
    if op == "and":

        def conjunction(a: Mapping[str, Any], t: Any) -> Any:
            for f in first:
                v = f(a, t)
                if not truthy(v):
                    return v
            return last(a, t)

        return conjunction

    def disjunction(a: Mapping[str, Any], t: Any) -> Any:
        for f in first:
            v = f(a, t)
            if truthy(v):
                return v
        return last(a, t)

    return disjunction


def _compile_equality(negate: bool, left: Fn, right: Fn, right_node: Node) -> Fn:
    if right_node.kind == "lit" and type(right_node.value) is str:
        constant = right_node.value

        def equals_string(a: Mapping[str, Any], t: Any) -> Any:
            x = left(a, t)
            result = x == constant if type(x) is str else equal(x, constant)
            return result is not negate

        return equals_string
    if negate:
        return lambda a, t: not equal(left(a, t), right(a, t))
    return lambda a, t: equal(left(a, t), right(a, t))


def _compile_ordering(compare: Callable[[Any, Any], bool], left: Fn, right: Fn) -> Fn:
    def ordering(a: Mapping[str, Any], t: Any) -> Any:
        x = left(a, t)
        y = right(a, t)
        tx, ty = type(x), type(y)
        if tx is str:
            return ty is str and compare(x, y)
        if (tx is int or tx is float) and (ty is int or ty is float):
            return compare(x, y)
        return False

    return ordering


def _compile_arithmetic(apply: Callable[[Any, Any], Any], left: Fn, right: Fn) -> Fn:
    def arithmetic(a: Mapping[str, Any], t: Any) -> Any:
        x = as_number(left(a, t))
        y = as_number(right(a, t))
        if x is None or y is None:
            return None
        try:
            return fix_number(apply(x, y))
        except ArithmeticError:
            return None

    return arithmetic
