"""Conditions (`show_if`, and the fee's `when` and `quantity`): which fields each may
name (scope and order), their types, and circles between conditions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from forms_engine.procedure_format import expr as expr_lang
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .drafts import FieldDraft

if TYPE_CHECKING:
    from .pages import ProcedureCheck

#: Why a condition may not name a field here, or None when it may.
Scope = Callable[[FieldDraft], str | None]


def check_expression(p: ProcedureCheck, expression: Any, path: KeyPath, allowed: Scope) -> None:
    """Check the names in scope (`allowed(field)` says why a field may not be named
    here, or None), then the types."""
    if expression is None:
        return
    scope_errors = False
    for name in sorted(expression.names):
        target = p.fields.get(name)
        if target is None:
            continue  # the checker reports unknown names
        reason = allowed(target)
        if reason:
            p.c.error(path, reason)
            scope_errors = True
    # One explanation per condition is enough: a field out of scope, or one whose type
    # is already refused, would only add confusing type errors.
    if scope_errors or expression.names & p.untyped:
        return
    for message in expr_lang.check(expression, p.symbols()):
        p.c.error(path, message)


def outside_groups(target: FieldDraft) -> str | None:
    """Scope of a condition outside groups: a field inside a group has many values."""
    if target.group is not None:
        return (
            f"field {target.id!r} is inside group {target.group.id!r}, which has one "
            f"value per entry: name the group instead, e.g. len({target.group.id})"
        )
    return None


def check_conditions(p: ProcedureCheck) -> None:
    """The show_if of every page and field, then circles between them."""
    page_name = {i: (page.id or f"pages[{i}]") for i, page in enumerate(p.pages)}

    for index, page in enumerate(p.pages):

        def for_page(target: FieldDraft, index: int = index) -> str | None:
            reason = outside_groups(target)
            if reason:
                return reason
            if target.page == index:
                return (
                    f"a page's show_if cannot use field {target.id!r} of the same page: "
                    "it is decided before the page is answered"
                )
            if target.page > index:
                return (
                    f"a page's show_if cannot use field {target.id!r} of a later page "
                    f"({page_name[target.page]!r})"
                )
            return None

        check_expression(p, page.show_if, page.path + ("show_if",), for_page)

        for draft in page.fields:
            check_field_condition(p, draft, page_name)
            for child in draft.children:
                check_field_condition(p, child, page_name)

    check_cycles(p)


def check_field_condition(
    p: ProcedureCheck, draft: FieldDraft, page_name: Mapping[int, str]
) -> None:
    def for_field(target: FieldDraft) -> str | None:
        if target is draft:
            return "a field's show_if cannot use the field itself"
        if target.group is not None and target.group is not draft.group:
            if draft.group is None:
                return outside_groups(target)
            return (
                f"field {target.id!r} belongs to group {target.group.id!r}; a show_if "
                f"inside group {draft.group.id!r} may use that group's fields and fields "
                "outside groups"
            )
        if target.page > draft.page:
            return (
                f"field {target.id!r} is on a later page ({page_name[target.page]!r}), "
                "so it has no answer yet"
            )
        return None

    if draft.show_if is None:
        return
    check_expression(p, draft.show_if, draft.path + ("show_if",), for_field)


def check_cycles(p: ProcedureCheck) -> None:
    """Conditions of fields shown together must not depend on each other in a circle."""
    edges: dict[str, list[str]] = {}
    drafts: dict[str, FieldDraft] = {}
    for page in p.pages:
        for draft in page.fields:
            for f in [draft, *draft.children]:
                if f.id is None or f.show_if is None:
                    continue
                drafts[f.id] = f
                edges[f.id] = [
                    n
                    for n in sorted(f.show_if.names)
                    if n in p.fields
                    and n != f.id
                    and p.fields[n].page == f.page
                    and p.fields[n].group is f.group
                ]
    reported: set[frozenset[str]] = set()
    for start in edges:
        cycle = find_cycle(start, edges)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            p.c.error(
                drafts[start].path + ("show_if",),
                "conditions depend on each other in a circle: " + " -> ".join([*cycle, cycle[0]]),
            )


def find_cycle(start: str, edges: Mapping[str, list[str]]) -> list[str] | None:
    """A path start -> ... -> start through `edges`, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    visited: set[str] = set()
    while stack:
        node, trail = stack.pop()
        for nxt in edges.get(node, ()):
            if nxt == start:
                return trail
            if nxt not in visited:
                visited.add(nxt)
                stack.append((nxt, [*trail, nxt]))
    return None


_ARITHMETIC_OPS = frozenset({"+", "-", "*", "/", "neg"})
TYPE_WORDS = {
    "string": "text",
    "date": "a date",
    "bool": "yes/no",
    "list": "a list",
    "group": "a group",
    "files": "files",
    "compound:name": "a name",
    "compound:address": "an address",
    "compound:bank_account": "a bank account",
}


def result_type(node: Mapping[str, Any], symbols: Mapping[str, str]) -> str | None:
    """The type an expression tree (Expr.to_json()) yields, or None when it cannot be told."""
    if "lit" in node:
        value = node["lit"]
        if value is None:
            return None
        if isinstance(value, bool):
            return "bool"
        return "string" if isinstance(value, str) else "number"
    if "name" in node:
        return "string" if "part" in node else symbols.get(node["name"])
    if "list" in node:
        return "list"
    if "call" in node:
        return "date" if node["call"] == "today" else "number"
    op = node.get("op")
    if op in _ARITHMETIC_OPS:
        return "number"
    if op in ("and", "or"):
        kinds = {result_type(arg, symbols) for arg in node.get("args", ())}
        return kinds.pop() if len(kinds) == 1 else None
    return "bool" if op is not None else None
