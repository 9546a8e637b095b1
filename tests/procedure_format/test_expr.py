"""The expression language (forms_engine/procedure_format/expr/) and its browser twin (static/js/expr.js).

No database: everything here is pure Python, plus one node process for the agreement test.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import pickle
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from forms_engine.procedure_format.expr import (
    MAX_DEPTH,
    MAX_SOURCE_LENGTH,
    Expr,
    ExprError,
    check,
    evaluate,
    parse,
    truthy,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
EXPR_JS = REPO_ROOT / "static" / "js" / "expr.js"
TODAY = dt.date(2025, 4, 1)


def ev(source, answers=None, today=TODAY):
    return evaluate(parse(source), answers or {}, today)


def same(a, b) -> bool:
    """Equal as JSON values, but strict about bool versus number (True == 1 in Python)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        # Node prints a double above 2**53 as integer digits, which Python then reads as
        # an exact int: compare as the doubles both sides hold.
        if isinstance(a, float) or isinstance(b, float):
            return float(a) == float(b) or (a != a and b != b)
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


# =========================================================================================
# Parsing
# =========================================================================================


@pytest.mark.parametrize(
    "source",
    [
        "breed == 'other'",
        "vaccinated",
        "'paper_copy' in methods or 'electronic_copy' in methods",
        "requester_type == 'corporation'",
        "age(birth_date) >= 18",
        "len(children) > 0 and not has_spouse",
        "address.prefecture == '大阪府'",
        'name.kana_family != ""',
        "copies * 2 + 1",
        "x in ['a', \"b\"]",
        "x not in ['a']",
        "today() > deadline",
        "(a or b) and (c or d)",
        "-x < -1.5",
        "\n  a ==\n 1\n",
        "a\u3000==\u30001",  # ideographic space, as an IME types it
    ],
)
def test_valid_sources_parse(source):
    expr = parse(source)
    assert isinstance(expr, Expr)
    assert expr.source == source
    json.dumps(expr.to_json())  # JSON-able


def test_to_json_shapes():
    assert parse("a == 'x'").to_json() == {
        "op": "==",
        "args": [{"name": "a"}, {"lit": "x"}],
    }
    assert parse("name.family").to_json() == {"name": "name", "part": "family"}
    assert parse("[1, 'a', null]").to_json() == {"list": [{"lit": 1}, {"lit": "a"}, {"lit": None}]}
    assert parse("len(g)").to_json() == {"call": "len", "args": [{"name": "g"}]}
    assert parse("today()").to_json() == {"call": "today", "args": []}
    assert parse("not a").to_json() == {"op": "not", "args": [{"name": "a"}]}
    assert parse("-a").to_json() == {"op": "neg", "args": [{"name": "a"}]}
    assert parse("-3").to_json() == {"lit": -3}  # folded
    assert parse("a not in b").to_json()["op"] == "not in"
    # and/or are flattened into one node
    assert parse("a or b or (c or d)").to_json() == {
        "op": "or",
        "args": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}],
    }


def test_names_are_top_level_field_ids():
    expr = parse("name.kana_family == 'ヤマダ' and age(birth) > 3 or len(kids) in [x, y]")
    assert expr.names == frozenset({"name", "birth", "kids", "x", "y"})
    assert parse("true").names == frozenset()


@pytest.mark.parametrize(
    ("raw", "source", "value"),
    [(True, "true", True), (False, "false", False), (3, "3", 3), (2.5, "2.5", 2.5)],
)
def test_yaml_scalars(raw, source, value):
    expr = parse(raw)
    assert expr.source == source
    assert same(evaluate(expr, {}), value)


@pytest.mark.parametrize(
    "raw", [None, [], {}, dt.date(2020, 1, 1), float("nan"), 10**400, "", "   "]
)
def test_non_expressions_are_refused(raw):
    with pytest.raises(ExprError):
        parse(raw)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),  # left-associative
        ("12 / 3 / 2", 2),
        ("-2 * 3", -6),
        ("2 * -3", -6),
        ("- -4", 4),
        ("-(1 + 2)", -3),
        ("1 + 2 == 3", True),
        ("not 1 == 2", True),  # not binds looser than ==
        ("not true and false", False),  # (not true) and false
        ("true or false and false", True),  # and binds tighter than or
        ("not not 5", True),
    ],
)
def test_precedence(source, expected):
    assert same(ev(source), expected)


def test_equality_and_ordering_operators():
    a = {"n": 5, "s": "b"}
    assert ev("n == 5", a) is True
    assert ev("n != 5", a) is False
    assert ev("n < 6", a) is True
    assert ev("n <= 5", a) is True
    assert ev("n > 5", a) is False
    assert ev("n >= 5", a) is True
    assert ev("n == 5.0", a) is True
    assert ev("s < 'c' and s > 'a' and s >= 'b' and s <= 'b'", a) is True
    assert ev("'10' < '9'") is True  # text orders as text
    assert ev("n == '5'", a) is False  # no coercion between text and numbers
    assert ev("n < '6'", a) is False
    assert ev("true == 1") is False  # yes/no is not a number
    assert ev("true > false") is False  # booleans are not ordered
    assert ev("[1, 'a'] == [1, 'a']") is True
    assert ev("[1, 'a'] == ['a', 1]") is False
    assert ev("n", a) == 5


def test_arithmetic_operators():
    assert ev("7 + 3") == 10
    assert ev("7 - 10") == -3
    assert ev("7 * 3") == 21
    assert ev("7 / 2") == 3.5
    assert ev("6 / 3") == 2 and isinstance(ev("6 / 3"), int)
    assert ev("0.1 + 0.2") == 0.1 + 0.2
    assert ev("copies * 300", {"copies": 3}) == 900


def test_logic_operators_short_circuit_and_return_the_deciding_operand():
    assert ev("copies or 1", {}) == 1
    assert ev("copies or 1", {"copies": 4}) == 4
    assert ev("a and b", {"a": "x", "b": "y"}) == "y"
    assert ev("a and b", {"a": 0, "b": "y"}) == 0
    assert ev("not a", {"a": []}) is True
    # the right side is not evaluated when the left decides (1 / 0 would only give null)
    assert ev("false and 1 / 0") is False


def test_in_operator():
    a = {"methods": ["paper_copy", "email"], "note": "急ぎの申請"}
    assert ev("'paper_copy' in methods", a) is True
    assert ev("'fax' in methods", a) is False
    assert ev("'fax' not in methods", a) is True
    assert ev("'急ぎ' in note", a) is True  # substring of a text
    assert ev("1 in note", a) is False
    assert ev("x in ['a', 'b']", {"x": "b"}) is True
    assert ev("x in [1, 2]", {"x": 2.0}) is True
    assert ev("x in 3", {"x": 3}) is False


def test_null_rules():
    assert ev("x == null") is True
    assert ev("x != null") is False
    assert ev("null == null") is True
    assert ev("x + 1") == 1  # null is 0 in arithmetic
    assert ev("x * 5") == 0
    assert ev("-x") == 0
    assert ev("x < 1") is False  # ordering with null is false ...
    assert ev("x >= 0") is False
    assert ev("x > -1") is False
    assert ev("1 > null") is False
    assert ev("len(x)") == 0
    assert ev("'a' in x") is False
    assert ev("'a' not in x") is True
    assert ev("x") is None


def test_empty_answers_are_null():
    # An empty browser input and an unanswered stored field must behave the same.
    assert ev("x == null", {"x": ""}) is True
    assert ev("c == null", {"c": []}) is True
    assert ev("len(c)", {"c": []}) == 0
    assert ev("name.given == null", {"name": {"family": "山田", "given": ""}}) is True


def test_runtime_type_errors_give_null():
    assert ev("1 / 0") is None
    assert ev("x / y", {"x": 3}) is None  # y is null, so 0
    assert ev("(1 / 0) == null") is True
    assert ev("s + 1", {"s": "abc"}) is None
    assert ev("b * 2", {"b": True}) is None
    assert ev("-s", {"s": "abc"}) is None
    assert ev("len(n)", {"n": 3}) is None
    assert ev("age(n)", {"n": 3}) is None
    assert ev("age(s)", {"s": "not a date"}) is None


def test_parts_of_compound_answers():
    a = {
        "name": {
            "family": "山田",
            "given": "太郎",
            "kana_family": "ヤマダ",
            "kana_given": "タロウ",
        },
        "address": {"prefecture": "大阪府", "city": "大阪市中央区", "town": "大手前2-1-22"},
        "count": 3,
    }
    assert ev("name.kana_family == 'ヤマダ'", a) is True
    assert ev("address.prefecture", a) == "大阪府"
    assert ev("address.building", a) is None  # missing part
    assert ev("bank.holder", a) is None  # missing field
    assert ev("count.family", a) is None  # not a compound at runtime
    assert ev("name == null", a) is False


def test_dates():
    birth = dt.date(2007, 4, 2)
    a = {"birth": birth, "deadline": dt.date(2025, 4, 1)}
    assert ev("birth < '2008-01-01'", a) is True
    assert ev("birth == '2007-04-02'", a) is True
    assert ev("birth >= '2007-04-03'", a) is False
    assert ev("deadline == today()", a) is True
    assert ev("birth < deadline", a) is True
    assert ev("today()") == "2025-04-01"
    # a datetime (not expected, but harmless) is read as its date
    assert ev("d == '2020-05-06'", {"d": dt.datetime(2020, 5, 6, 23, 59)}) is True


@pytest.mark.parametrize(
    ("birth", "today", "years"),
    [
        ("2007-04-01", dt.date(2025, 4, 1), 18),  # birthday today
        ("2007-04-02", dt.date(2025, 4, 1), 17),  # birthday tomorrow
        ("2007-03-31", dt.date(2025, 4, 1), 18),
        ("2004-02-29", dt.date(2025, 2, 28), 20),
        ("2004-02-29", dt.date(2025, 3, 1), 21),
        ("2004-02-29", dt.date(2024, 2, 29), 20),
        ("2030-01-01", dt.date(2025, 4, 1), -5),  # a future date: negative, not an error
    ],
)
def test_age(birth, today, years):
    assert evaluate(parse("age(b)"), {"b": dt.date.fromisoformat(birth)}, today) == years
    assert evaluate(parse("age(b)"), {"b": birth}, today) == years  # ISO text works too
    assert evaluate(parse(f"age('{birth}')"), {}, today) == years


def test_age_and_today_default_to_the_date_in_japan():
    jst = dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).date()
    before = evaluate(parse("today()"), {})
    assert before in (jst.isoformat(), (jst + dt.timedelta(days=1)).isoformat())
    assert evaluate(parse("age(b)"), {"b": dt.date(2000, 1, 1)}) >= 25


def test_len():
    assert ev("len(g)", {"g": [{"child_name": "a"}, {"child_name": "b"}]}) == 2
    assert ev("len(f)", {"f": [{"id": "1", "name": "a.pdf", "size": 3, "content_type": "x"}]}) == 1
    assert ev("len(c)", {"c": ["a", "b", "c"]}) == 3
    assert ev("len(s)", {"s": "山田😀"}) == 3  # characters, not UTF-16 units
    assert ev("len(null)") == 0
    assert ev("len('')") == 0


def test_truthy():
    for value in (None, False, 0, 0.0, "", [], {}, float("nan")):
        assert truthy(value) is False, value
    for value in (True, 1, -1, 0.5, "a", [0], {"a": 1}, dt.date(2020, 1, 1)):
        assert truthy(value) is True, value


def test_large_numbers_behave_like_javascript_doubles():
    assert ev("9007199254740993") == float(2**53)  # rounded as in the browser
    assert isinstance(ev("x + 0", {"x": 2**80}), float)
    assert ev("x * 2", {"x": 10**400}) is None  # beyond a double: null, not OverflowError
    assert ev("x * x", {"x": 1e200}) is None  # infinity is not a quantity


def test_expr_is_hashable_comparable_and_picklable():
    a, b = parse("x == 1"), parse("x == 1")
    assert a == b and hash(a) == hash(b) and a != parse("x == 2")
    restored = pickle.loads(pickle.dumps(a))
    assert restored == a and evaluate(restored, {"x": 1}) is True
    assert pickle.loads(pickle.dumps(parse(True))) == parse(True)
    assert repr(a) == "Expr('x == 1')"


def test_simple_comparison_is_fast():
    expr = parse("breed == 'other'")
    answers = {"breed": "other"}
    n = 20000
    start = time.perf_counter()
    for _ in range(n):
        evaluate(expr, answers)
    per_call = (time.perf_counter() - start) / n
    assert per_call < 20e-6, f"{per_call * 1e6:.1f} µs per evaluation"  # ~0.3 µs typical


# =========================================================================================
# Rejected inputs
# =========================================================================================


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os')",
        "a.__class__",
        "().__class__",
        "''.__class__",
        "x[0]",
        "x['a']",
        "lambda: 1",
        "import os",
        "a ** 2",
        "a; b",
        "a = 1",
        "a && b",
        "a || b",
        "!a",
        "a is null",
        "True",
        "None",
        "exec('1')",
        "eval('1')",
        "getattr(a, 'b')",
        "foo(1)",
        "len()",
        "len(a, b)",
        "age()",
        "today(1)",
        "a(1)",
        "(a)(1)",
        "a.b.c",
        "len(a).b",
        "'a'.upper",
        "a == b == c",
        "a < b < c",
        "a in b in c",
        "a == not b",
        "- not a",
        "a not b",
        "1e5",
        "1.",
        ".5",
        "1_000",
        "'unterminated",
        "'bad \\q escape'",
        "(a",
        "a)",
        "[1, 2",
        "()",
        "a ==",
        "and",
        "a b",
        "a if b else c",
        "{'a': 1}",
        "a @ b",
        "`a`",
        "$a",
        "ａ == 1",  # full-width
        "Vaccinated",
    ],
)
def test_unsafe_or_invalid_sources_are_syntax_errors(source):
    with pytest.raises(ExprError) as info:
        parse(source)
    assert info.value.message
    assert info.value.offset is None or 0 <= info.value.offset <= len(source)


def test_error_messages_are_helpful():
    def message(source):
        with pytest.raises(ExprError) as info:
            parse(source)
        return info.value

    err = message("a = 1")
    assert "'=='" in err.message and err.offset == 2
    assert str(err).endswith("(at character 3)")
    assert "'and'" in message("a && b").message
    assert "'true'" in message("True").message
    assert "chained" in message("1 < a < 3").message
    assert "unknown function 'lenn'" in message("lenn(x)").message
    assert "did you mean 'len'" in message("lenn(x)").message
    assert "takes 1 argument" in message("age(a, b)").message
    assert "subscripts" in message("x[0]").message


def test_deep_nesting_is_refused():
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("(" * 200 + "1" + ")" * 200)
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("-" * 400 + "1")
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("not " * 100 + "a")
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("[" * 100 + "]" * 100)
    with pytest.raises(ExprError, match="nested too deeply"):
        parse(" + ".join(["1"] * (MAX_DEPTH + 5)))
    # and/or chains are flat, so long ones are fine
    assert ev(" or ".join(["a"] * 100)) is None
    nested = "(" * (MAX_DEPTH // 2) + "1" + ")" * (MAX_DEPTH // 2)
    assert ev(nested) == 1


def test_huge_input_is_refused():
    with pytest.raises(ExprError, match="longer than"):
        parse("a or " * 200 + "b")
    with pytest.raises(ExprError, match="longer than"):
        parse("'" + "x" * 10_000 + "'")
    assert parse("'" + "x" * (MAX_SOURCE_LENGTH - 2) + "'")
    with pytest.raises(ExprError):
        parse("9" * 400 + ".5")  # a number too large for a double
    with pytest.raises(ExprError):
        parse("9" * 400)


# =========================================================================================
# Static check
# =========================================================================================

SYMBOLS = {
    "vaccinated": "bool",
    "name": "compound:name",
    "address": "compound:address",
    "bank": "compound:bank_account",
    "copies": "number",
    "breed": "string",
    "birth": "date",
    "methods": "list",
    "children": "group",
    "photos": "files",
    "notice": "none",
}


@pytest.mark.parametrize(
    "source",
    [
        "vaccinated",
        "breed == 'other' and copies > 2",
        "name.kana_family != null",
        "address.prefecture == '大阪府'",
        "bank.account_type == 'ordinary'",
        "age(birth) >= 18",
        "birth < '2008-04-01'",
        "birth >= today()",
        "len(children) + len(photos) + len(methods) + len(breed) > 0",
        "'a' in methods and 'x' in breed and breed in ['a', 'b']",
        "copies * 2 - -1 / 3",
        "copies or 1",
        "not vaccinated",
        "copies == null",
        "methods == ['a', 'b']",
        "true",
    ],
)
def test_check_accepts_well_typed_expressions(source):
    assert check(parse(source), SYMBOLS) == []


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("vacinated", "unknown field 'vacinated' (did you mean 'vaccinated'?)"),
        ("zzz == 1", "unknown field 'zzz'"),
        ("name.foo == 'a'", "unknown part 'foo' of field 'name'"),
        ("address.prefectur", "did you mean 'prefecture'?"),
        ("copies.family", "has no part 'family'"),
        ("len(copies) > 1", "'copies' is a number"),
        ("len(birth)", "len()"),
        ("len(vaccinated)", "len()"),
        ("age(breed) > 3", "age() needs a date"),
        ("age(copies)", "age() needs a date"),
        ("breed + 1", "'+' needs numbers, but 'breed' is text"),
        ("methods * 2", "'*' needs numbers"),
        ("-breed", "'-' needs numbers"),
        ("children / 2", "needs numbers"),
        ("vaccinated + 1", "needs numbers"),
        ("birth - 1", "needs numbers"),
        ("breed < 3", "cannot order text and a number"),
        ("'a' > 1", "cannot order text and a number"),
        ("vaccinated > false", "cannot order"),
        ("copies < null", "with null is always false"),
        ("3 in copies", "'in' needs a list or text"),
        ("'a' in children", "'in' needs a list or text"),
        ("copies in methods", "always false"),
        ("copies in ['a', 'b']", "always false"),
        ("notice == 1", "static text and has no answer"),
        ("copies == 'a'", "always false"),
        ("vaccinated == 'true'", "always false"),
        ("birth < 'tomorrow'", "is not a date"),
        ("birth == '2020-02-30'", "is not a date"),
        ("birth == breed", "always false"),
        ("breed == ''", "write 'breed == null'"),
        ("methods != []", "write 'methods != null'"),
        ("today == 1", "did you mean 'today()'?"),
    ],
)
def test_check_reports(source, fragment):
    messages = check(parse(source), SYMBOLS)
    assert messages, source
    assert any(fragment in m for m in messages), messages


def test_check_reports_exact_unknown_field_wording_and_every_problem_once():
    assert check(parse("vacinated"), {"other": "bool"}) == ["unknown field 'vacinated'"]
    messages = check(parse("zz or zz or len(copies) or yy"), SYMBOLS)
    assert messages[0] == "unknown field 'zz'"
    assert len(messages) == 3


# =========================================================================================
# Properties
# =========================================================================================

TYPED_FIELDS = {
    "n": "number",
    "m": "number",
    "s": "string",
    "t": "string",
    "d": "date",
    "b": "bool",
    "c": "list",
    "g": "group",
    "f": "files",
    "nm": "compound:name",
}
FIELD_IDS = sorted(TYPED_FIELDS) + ["missing"]
NAME_PARTS = ["family", "given", "kana_family", "kana_given"]
ALPHABET = "abcAZ09- 山ー～😀'\"\\\n"

numbers = st.one_of(
    st.integers(-1000, 1000),
    st.integers(-(10**6), 10**6).map(lambda k: k / 4),
)
texts = st.text(alphabet=ALPHABET, max_size=5)
iso_dates = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))

literal_nodes = st.one_of(
    numbers.map(lambda v: {"lit": v}),
    texts.map(lambda v: {"lit": v}),
    iso_dates.map(lambda d: {"lit": d.isoformat()}),
    st.sampled_from([True, False, None]).map(lambda v: {"lit": v}),
)
leaf_nodes = st.one_of(
    literal_nodes,
    st.sampled_from(FIELD_IDS).map(lambda n: {"name": n}),
    st.sampled_from(NAME_PARTS).map(lambda p: {"name": "nm", "part": p}),
    st.just({"call": "today", "args": []}),
)
BINARY_OPS = ["==", "!=", "<", "<=", ">", ">=", "in", "not in", "+", "-", "*", "/"]


def _extend(children):
    return st.one_of(
        st.tuples(st.sampled_from(BINARY_OPS), children, children).map(
            lambda t: {"op": t[0], "args": [t[1], t[2]]}
        ),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3)).map(
            lambda t: {"op": t[0], "args": t[1]}
        ),
        st.tuples(st.sampled_from(["not", "neg"]), children).map(
            lambda t: {"op": t[0], "args": [t[1]]}
        ),
        st.tuples(st.sampled_from(["len", "age"]), children).map(
            lambda t: {"call": t[0], "args": [t[1]]}
        ),
        st.lists(children, max_size=3).map(lambda items: {"list": items}),
    )


ast_nodes = st.recursive(leaf_nodes, _extend, max_leaves=10)


def canonical(node):
    """The tree the parser builds: negated number literals folded, and/or flattened."""
    if "args" in node:
        args = [canonical(a) for a in node["args"]]
        op = node.get("op")
        if op == "neg" and "lit" in args[0] and type(args[0]["lit"]) in (int, float):
            return {"lit": -args[0]["lit"]}
        if op in ("and", "or"):
            flat = []
            for a in args:
                flat.extend(a["args"] if a.get("op") == op else [a])
            args = flat
        return {**node, "args": args}
    if "list" in node:
        return {"list": [canonical(a) for a in node["list"]]}
    return node


PRECEDENCE = {"or": 10, "and": 20, "not": 30, "+": 50, "-": 50, "*": 60, "/": 60, "neg": 70}
for _op in ["==", "!=", "<", "<=", ">", ">=", "in", "not in"]:
    PRECEDENCE[_op] = 40
ATOM = 80


def quote(text: str, q: str) -> str:
    escaped = text.replace("\\", "\\\\").replace(q, "\\" + q).replace("\n", "\\n")
    return q + escaped + q


def to_source(node, full: bool, quote_char: str = "'") -> tuple[str, int]:
    """Source text for a tree: with as few parentheses as precedence allows, or with all."""

    def wrap(child, minimum):
        text, prec = to_source(child, full, quote_char)
        if prec < minimum or (full and prec < ATOM):
            return f"({text})"
        return text

    if "lit" in node:
        v = node["lit"]
        if v is None or isinstance(v, bool):
            return {None: "null", True: "true", False: "false"}[v], ATOM
        if isinstance(v, str):
            return quote(v, quote_char), ATOM
        if v < 0 or (isinstance(v, float) and math.copysign(1, v) < 0):
            return f"-{abs(v)!r}", PRECEDENCE["neg"]
        return repr(v), ATOM
    if "name" in node:
        return node["name"] + (f".{node['part']}" if "part" in node else ""), ATOM
    if "list" in node:
        return "[" + ", ".join(wrap(a, 0) for a in node["list"]) + "]", ATOM
    if "call" in node:
        return node["call"] + "(" + ", ".join(wrap(a, 0) for a in node["args"]) + ")", ATOM
    op, args = node["op"], node["args"]
    prec = PRECEDENCE[op]
    if op == "not":
        return f"not {wrap(args[0], prec)}", prec
    if op == "neg":
        return f"-{wrap(args[0], prec)}", prec
    if op in ("and", "or"):
        return f" {op} ".join(wrap(a, prec + 1) for a in args), prec
    if prec == 40:  # comparisons do not chain
        return f"{wrap(args[0], prec + 1)} {op} {wrap(args[1], prec + 1)}", prec
    return f"{wrap(args[0], prec)} {op} {wrap(args[1], prec + 1)}", prec


def answer_for(kind: str):
    absent = st.one_of(st.none(), st.just(""), st.just([]))
    strategies = {
        "number": numbers,
        "string": st.one_of(texts, iso_dates.map(dt.date.isoformat)),
        "date": iso_dates,
        "bool": st.booleans(),
        "list": st.lists(st.sampled_from(["a", "b", "山"]), max_size=3, unique=True),
        "group": st.lists(st.fixed_dictionaries({"k": numbers}), max_size=3),
        "files": st.lists(
            st.fixed_dictionaries(
                {"id": texts, "name": texts, "size": st.integers(0, 10**6), "content_type": texts}
            ),
            max_size=2,
        ),
        "compound:name": st.fixed_dictionaries({p: texts for p in NAME_PARTS}),
    }
    return st.one_of(absent, strategies[kind])


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(NAME_PARTS), inner)
    ),
    max_leaves=6,
)


@st.composite
def answer_dicts(draw):
    """Mostly the stored shapes; sometimes any JSON value, as a changed procedure may leave."""
    answers = {}
    for field_id, kind in TYPED_FIELDS.items():
        if draw(st.booleans()):
            answers[field_id] = draw(
                st.one_of(answer_for(kind), answer_for(kind), answer_for(kind), json_values)
            )
    return answers


def parse_or_skip(source: str) -> Expr:
    try:
        return parse(source)
    except ExprError as err:
        # Only the size limits may refuse a generated tree.
        assert "longer than" in err.message or "nested too deeply" in err.message, err
        assume(False)
        raise


@settings(max_examples=150, deadline=None)
@given(ast_nodes, answer_dicts(), st.sampled_from(["'", '"']), iso_dates)
def test_property_source_round_trip(node, answers, quote_char, today):
    expected = canonical(node)
    minimal = parse_or_skip(to_source(node, full=False, quote_char=quote_char)[0])
    full = parse_or_skip(to_source(node, full=True, quote_char=quote_char)[0])
    assert json.dumps(minimal.to_json()) == json.dumps(expected)
    assert json.dumps(full.to_json()) == json.dumps(expected)
    assert same(evaluate(minimal, answers, today), evaluate(full, answers, today))


class Hostile:
    def __eq__(self, other):
        raise RuntimeError("boom")

    def __hash__(self):
        return 0

    def __bool__(self):
        raise RuntimeError("boom")

    def __len__(self):
        raise RuntimeError("boom")


anything = st.recursive(
    st.one_of(
        json_scalars,
        st.integers(),
        st.floats(),
        st.dates(),
        st.datetimes(),
        st.binary(max_size=3),
        st.just(Hostile()),
        st.just(object()),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.sampled_from(NAME_PARTS), st.integers()), inner),
        st.frozensets(st.integers(), max_size=2),
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ast_nodes,
    st.dictionaries(st.sampled_from(FIELD_IDS + ["other"]), anything),
    st.one_of(st.none(), iso_dates),
)
def test_property_evaluate_never_raises(node, answers, today):
    expr = parse_or_skip(to_source(node, full=False)[0])
    evaluate(expr, answers, today)
    # Not only thanks to the catch-all: for JSON-shaped answers nothing reaches it.
    json_answers = {k: v for k, v in answers.items() if _json_shaped(v)}
    expr._fn(json_answers, today or TODAY)


def _json_shaped(v) -> bool:
    if v is None or isinstance(v, bool | int | float | str | dt.date):
        return True
    if isinstance(v, list):
        return all(_json_shaped(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _json_shaped(x) for k, x in v.items())
    return False


TOKENS = [
    "a",
    "name",
    ".",
    "family",
    "__class__",
    "(",
    ")",
    "[",
    "]",
    ",",
    "'x'",
    '"y',
    "1",
    "2.5",
    "-",
    "+",
    "*",
    "/",
    "**",
    "==",
    "=",
    "<",
    ">=",
    "!",
    "and",
    "or",
    "not",
    "in",
    "true",
    "null",
    "len",
    "age",
    "today",
    "lambda",
    ":",
    ";",
    "\\",
    "\n",
    "ｘ",
]


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=80),
        st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join),
        st.lists(st.sampled_from(TOKENS), max_size=30).map("".join),
    )
)
def test_property_parse_raises_only_expr_error(text):
    try:
        expr = parse(text)
    except ExprError as err:
        assert isinstance(err.message, str) and err.message
        assert err.offset is None or 0 <= err.offset <= len(text)
        return
    json.dumps(expr.to_json())
    check(expr, TYPED_FIELDS)


# =========================================================================================
# The browser evaluator agrees with this one
# =========================================================================================

NODE_DRIVER = r"""
const E = require(process.argv[1]);
const rl = require("readline").createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const c = JSON.parse(line);
  let out;
  try {
    const v = E.evaluateStrict(c.ast, c.answers, c.today);
    out = { ok: v === undefined ? "undefined" : v };
    // JSON.stringify would turn Infinity and NaN into null, hiding them.
    if (typeof v === "number" && !isFinite(v)) out = { ok: "non-finite " + v };
  } catch (e) {
    out = { error: String(e && e.stack) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
});
"""


class NodeEvaluator:
    def __init__(self):
        self.process = subprocess.Popen(
            ["node", "-e", NODE_DRIVER, str(EXPR_JS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def evaluate(self, ast, answers, today: str):
        line = json.dumps({"ast": ast, "answers": answers, "today": today}, ensure_ascii=False)
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        assert "error" not in reply, reply["error"]
        return reply["ok"]

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def node_evaluator():
    if shutil.which("node") is None:
        pytest.skip("node is not installed: cannot run static/js/expr.js")
    evaluator = NodeEvaluator()
    yield evaluator
    evaluator.close()


def browser_answers(answers):
    """What the page holds: dates as ISO strings."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in answers.items()}


def python_result_as_json(value):
    return json.loads(json.dumps(value, allow_nan=False))


AGREEMENT_CASES = [
    ("'paper_copy' in methods", {"methods": ["paper_copy"]}),
    ("x == null", {"x": ""}),
    ("len(c)", {"c": []}),
    ("s < t", {"s": "😀", "t": "～"}),  # code point order, not UTF-16 order
    ("len(s)", {"s": "a😀山"}),
    ("age(d)", {"d": dt.date(2004, 2, 29)}),
    ("age('2000-02-30')", {}),
    ("age('0000-01-01')", {}),
    ("d < '2020-01-01'", {"d": dt.date(2019, 12, 31)}),
    ("d == today()", {"d": TODAY}),
    ("1 / 0 == null", {}),
    ("0 * -5", {}),
    ("7 / 2", {}),
    ("x * x", {"x": 1e200}),
    ("x + 1", {"x": 2**53}),
    ("nm.family == null", {"nm": {"family": ""}}),
    ("nm.family", {"nm": ["not", "a", "dict"]}),
    ("constructor", {}),
    ("nm.family", {"nm": {}}),
    ("true == 1", {}),
    ("[1, [2, 'a']] == [1.0, [2, 'a']]", {}),
    ("g == g", {"g": [{"k": 1, "j": 2}]}),
    ("x or 'default'", {"x": 0}),
    ("x and 3", {"x": {"a": 1}}),
    ("not x", {"x": {}}),
    ("'' in s", {"s": "abc"}),
    ("-x", {"x": 0}),
    ("s < 5", {"s": "0"}),  # no coercion between text and numbers
    ("s >= null", {"s": "a"}),
    ("n > s", {"n": 10, "s": "9"}),
    ("1 in s", {"s": "a1"}),
    ("null in s", {"s": "null"}),
    ("c in c", {"c": ["a"]}),
    ("b == 1", {"b": True}),
    ("b + 1", {"b": True}),
]


def test_js_agrees_on_chosen_cases(node_evaluator):
    for source, answers in AGREEMENT_CASES:
        expr = parse(source)
        py = python_result_as_json(evaluate(expr, answers, TODAY))
        js = node_evaluator.evaluate(expr.to_json(), browser_answers(answers), TODAY.isoformat())
        assert same(py, js), (source, answers, py, js)


@settings(max_examples=400, deadline=None)
@given(ast_nodes, answer_dicts(), iso_dates)
def test_property_js_agrees_with_python(node_evaluator, node, answers, today):
    expr = parse_or_skip(to_source(node, full=False)[0])
    py = python_result_as_json(evaluate(expr, answers, today))
    js = node_evaluator.evaluate(expr.to_json(), browser_answers(answers), today.isoformat())
    assert same(py, js), (expr.source, answers, py, js)
