"""Tokens into a tree: a hand-written Pratt parser, with the error messages of the syntax."""

from __future__ import annotations

from .errors import ExprError, suggest
from .functions import FUNCTIONS, LISTING
from .nodes import MAX_DEPTH, Node
from .tokens import KEYWORDS, Token, tokenize

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


class Parser:
    def __init__(self, src: str):
        self.src = src
        self.tokens = tokenize(src)
        self.pos = 0
        self.level = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def expect_op(self, value: str, what: str) -> Token:
        tok = self.advance()
        if not tok.is_op(value):
            raise ExprError(f"expected '{value}' {what}, found {tok.describe()}", tok.start)
        return tok

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExprError("empty expression", 0)
        node = self.expression(0)
        tok = self.peek()
        if tok.kind != "end":
            raise ExprError(self.unexpected(tok), tok.start)
        return node

    @staticmethod
    def unexpected(tok: Token) -> str:
        if tok.is_keyword("is"):
            return "unexpected 'is': use '==' or '!='"
        if tok.kind in ("name", "num", "str"):
            return f"unexpected {tok.describe()}: expected an operator such as == or and"
        return f"unexpected {tok.describe()}"

    @staticmethod
    def binding_power(tok: Token) -> int:
        if tok.kind == "op":
            return _INFIX_BP.get(tok.value, 0)
        if tok.kind == "name":
            return _KEYWORD_BP.get(tok.value, 0)
        return 0

    def expression(self, rbp: int) -> Node:
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

    def prefix(self, rbp: int) -> Node:
        tok = self.advance()
        if tok.kind in ("num", "str"):
            return Node("lit", tok.value, (), tok.start, tok.end)
        if tok.kind == "name":
            return self.prefix_name(tok, rbp)
        if tok.is_op("-"):
            operand = self.expression(_UNARY_BP)
            if operand.kind == "lit" and type(operand.value) in (int, float):
                return Node("lit", -operand.value, (), tok.start, operand.end)
            return Node("op", "neg", (operand,), tok.start, operand.end)
        if tok.is_op("("):
            if self.peek().is_op(")"):
                raise ExprError("empty parentheses", tok.start)
            inner = self.expression(0)
            self.expect_op(")", "to close '('")
            return inner
        if tok.is_op("["):
            items = self.arguments("]", tok)
            return Node("list", None, tuple(items), tok.start, self.tokens[self.pos - 1].end)
        if tok.kind == "end":
            raise ExprError("unexpected end of expression", tok.start)
        raise ExprError(self.unexpected(tok), tok.start)

    def prefix_name(self, tok: Token, rbp: int) -> Node:
        word = tok.value
        if word == "true" or word == "false":
            return Node("lit", word == "true", (), tok.start, tok.end)
        if word == "null":
            return Node("lit", None, (), tok.start, tok.end)
        if word == "not":
            if rbp > _NOT_BP:
                raise ExprError("put 'not ...' in parentheses here", tok.start)
            operand = self.expression(_NOT_BP)
            return Node("op", "not", (operand,), tok.start, operand.end)
        if word in KEYWORDS:
            raise ExprError(f"unexpected '{word}'", tok.start)
        if self.peek().is_op("("):
            return self.call(tok)
        return Node("name", (word, None), (), tok.start, tok.end)

    def call(self, tok: Token) -> Node:
        name = tok.value
        if name not in FUNCTIONS:
            raise ExprError(
                f"unknown function '{name}'{suggest(name, FUNCTIONS)}: the functions are {LISTING}",
                tok.start,
            )
        opening = self.advance()
        args = self.arguments(")", opening)
        arity = FUNCTIONS[name].arity
        if len(args) != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise ExprError(
                f"{name}() takes {arity} {plural}, not {len(args)}",
                tok.start,
            )
        return Node("call", name, tuple(args), tok.start, self.tokens[self.pos - 1].end)

    def arguments(self, closing: str, opening: Token) -> list[Node]:
        items: list[Node] = []
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

    def infix(self, left: Node, tok: Token) -> Node:
        op = tok.value
        if tok.kind == "name":
            if op in ("and", "or"):
                right = self.expression(_KEYWORD_BP[op])
                args: list[Node] = []
                for side in (left, right):
                    # and/or are associative, so one flat node is equivalent and shallower.
                    if side.kind == "op" and side.value == op:
                        args.extend(side.args)
                    else:
                        args.append(side)
                return Node("op", op, tuple(args), left.start, right.end)
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
            return Node("op", op, (left, right), left.start, right.end)
        if op == ".":
            return self.part(left, tok)
        if op == "[":
            raise ExprError("subscripts such as x[0] are not supported", tok.start)
        raise ExprError(f"only the functions {LISTING} can be called", tok.start)

    def comparison(self, left: Node, op: str) -> Node:
        right = self.expression(_CMP_BP)
        nxt = self.peek()
        if (nxt.kind == "op" and nxt.value in _COMPARISONS) or nxt.is_keyword("in", "not"):
            raise ExprError("comparisons cannot be chained: join them with 'and'", nxt.start)
        return Node("op", op, (left, right), left.start, right.end)

    def part(self, left: Node, dot: Token) -> Node:
        if left.kind != "name" or left.value[1] is not None:
            raise ExprError("'.' can only follow a field id, as in address.prefecture", dot.start)
        tok = self.advance()
        if tok.kind != "name" or tok.value in KEYWORDS:
            raise ExprError(f"expected a part name after '.', found {tok.describe()}", tok.start)
        return Node("name", (left.value[0], tok.value), (), left.start, tok.end)
