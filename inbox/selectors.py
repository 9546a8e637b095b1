"""The inbox list: one query function shared by the list page, the exports and the
benchmarks. Keyset pagination (no OFFSET, no COUNT over the table): a page costs one
query for its rows and one query for the (capped) counts per status, whatever its depth."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Value
from django.utils.translation import gettext_lazy as _

from forms_engine.models import Submission
from forms_engine.normalize import name_search_key
from forms_engine.services.receipts import RECEIPT_ALPHABET, receipt_format
from integrations.models import Delivery

from .scope import submissions_visible

PAGE_SIZE = 50
PAGE_SIZE_MAX = 200
_RECEIPT_SEPARATORS = re.compile(r"[\s\-‐−－]+")


@dataclass(frozen=True)
class InboxFilters:
    procedure_id: int | None = None
    status: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    payment_status: str = ""
    delivery_state: str = ""
    assigned_to_me: bool = False
    query: str = ""
    extra: dict[str, str] = field(default_factory=dict)


# Sort orders: name -> the ordering columns (the last one, the id, makes the key unique).
SORTS: dict[str, tuple[str, ...]] = {
    "newest": ("-submitted_at", "-id"),
    "oldest": ("submitted_at", "id"),
    "status": ("status", "-submitted_at", "-id"),
}
DEFAULT_SORT = "newest"

# Extra filters other parts may add: key -> function that narrows the queryset by the
# filter's value (with the values offered). Payment and delivery state are built in.
FilterFn = Callable[[QuerySet[Submission], str], QuerySet[Submission]]
EXTRA_FILTERS: dict[str, FilterFn] = {}
# The values each extra filter offers: key -> [(value, label)].
FILTER_CHOICES: dict[str, list[tuple[str, Any]]] = {}


def register_filter(key: str, fn: FilterFn, choices: list[tuple[str, Any]]) -> None:
    EXTRA_FILTERS[key] = fn
    FILTER_CHOICES[key] = choices


def receipt_query(text: str) -> str | None:
    """A typed receipt number or its beginning (any width or case, hyphens and spaces
    optional) as the prefix of stored numbers ("ACEF-HJ"); None when the text is not one
    (it is then searched as a name)."""
    code = _RECEIPT_SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())
    if not 4 <= len(code) <= 12 or any(ch not in RECEIPT_ALPHABET for ch in code):
        return None
    return receipt_format(code)


def _search(qs: QuerySet[Submission], text: str) -> QuerySet[Submission]:
    text = text.strip()[:100]
    if not text:
        return qs
    prefix = receipt_query(text)
    if prefix is not None:
        # A full number finds the submission and, in a bundle, its siblings (-1, -2...).
        return qs.filter(number__startswith=prefix)
    key = name_search_key(text)
    if not key:
        return qs.none()
    return qs.filter(name_search__contains=key)


def inbox_queryset(user: Any, filters: InboxFilters) -> QuerySet[Submission]:
    """The user's scope narrowed by every filter: the rows of the list and the exports."""
    qs = _scoped(user, filters)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs


def _scoped(user: Any, filters: InboxFilters) -> QuerySet[Submission]:
    """Scope and every filter but the status: what the counts per status are taken over."""
    qs = submissions_visible(user)
    if filters.procedure_id is not None:
        qs = qs.filter(procedure_id=filters.procedure_id)
    if filters.date_from is not None:
        qs = qs.filter(submitted_at__date__gte=filters.date_from)
    if filters.date_to is not None:
        qs = qs.filter(submitted_at__date__lte=filters.date_to)
    if filters.assigned_to_me:
        qs = qs.filter(assigned_to_id=getattr(user, "pk", None))
    if filters.payment_status in Submission.PaymentStatus.values:
        qs = qs.filter(payment_status=filters.payment_status)
    if filters.delivery_state:
        qs = _delivery_filter(qs, filters.delivery_state)
    for key, value in filters.extra.items():
        fn = EXTRA_FILTERS.get(key)
        if value and fn is not None:
            qs = fn(qs, value)
    return _search(qs, filters.query)


NO_DELIVERY = "none"


def delivery_choices() -> list[tuple[str, Any]]:
    return [(NO_DELIVERY, _("No delivery")), *Delivery.State.choices]


def _delivery_filter(qs: QuerySet[Submission], state: str) -> QuerySet[Submission]:
    """Submissions with a delivery in `state` (any of their integrations), or with none
    at all: an EXISTS per row, on the delivery's (submission, ...) index."""
    deliveries = Delivery.objects.filter(submission_id=OuterRef("pk"))
    if state == NO_DELIVERY:
        return qs.filter(~Exists(deliveries))
    if state not in Delivery.State.values:
        return qs
    return qs.filter(Exists(deliveries.filter(state=state)))


def _encode(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> list[Any] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or len(values) != len(SORTS[sort]):
        return None
    if not all(isinstance(v, str) for v in values):
        return None
    return values


def _after(qs: QuerySet[Submission], sort: str, values: list[Any]) -> QuerySet[Submission]:
    """Rows strictly after the cursor in the sort order (a row-value comparison written as
    nested ORs, which PostgreSQL runs as an index range)."""
    columns = SORTS[sort]
    parsed: list[Any] = []
    for column, value in zip(columns, values, strict=True):
        name = column.lstrip("-")
        if name == "submitted_at":
            try:
                parsed.append(dt.datetime.fromisoformat(value))
            except ValueError:
                return qs.none()
        else:
            parsed.append(value)
    condition = Q()
    for i in range(len(columns) - 1, -1, -1):
        name = columns[i].lstrip("-")
        op = "lt" if columns[i].startswith("-") else "gt"
        step = Q(**{f"{name}__{op}": parsed[i]})
        condition = step if i == len(columns) - 1 else step | (Q(**{name: parsed[i]}) & condition)
    return qs.filter(condition)


def _cursor_of(row: Submission, sort: str) -> str:
    values: list[str] = []
    for column in SORTS[sort]:
        value = getattr(row, column.lstrip("-"))
        values.append(value.isoformat() if isinstance(value, dt.datetime) else str(value))
    return _encode(values)


# Counts per status stop at this many: past it a tab shows "1,000+" (1,000件以上). Counting
# stops early on an index, so a tab costs at most COUNT_CAP + 1 index entries to read,
# however many rows the procedure holds (docs/performance.md: why capped, not exact).
COUNT_CAP = 1000


def status_counts(user: Any, filters: InboxFilters) -> dict[str, int]:
    """Submissions per status within the user's scope and the procedure filter only (the
    tabs show the whole workload of the procedure, whatever else the list is narrowed by).

    Each count is capped: COUNT_CAP + 1 means "more than COUNT_CAP" (`count_is_capped`).
    One query of a scalar subquery per status, each `LIMIT COUNT_CAP + 1` over a covering
    index (index-only scan), so a page costs the same whatever the table holds. Statuses
    with no submission are left out."""
    qs = submissions_visible(user)
    if filters.procedure_id is not None:
        qs = qs.filter(procedure_id=filters.procedure_id)
    if qs.query.is_empty():
        return {}
    statuses = list(Submission.Status.values)
    sql, params = status_counts_sql(qs, statuses)
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return {status: int(n) for status, n in zip(statuses, found, strict=True) if n}


def status_counts_sql(qs: QuerySet[Submission], statuses: list[str]) -> tuple[str, list[Any]]:
    """The one statement of `status_counts`: a capped count per status, in that order."""
    parts: list[str] = []
    params: list[Any] = []
    for i, status in enumerate(statuses):
        # Nothing of the row is selected: only the WHERE's columns (the scope's, the
        # procedure, the status) are read, and the covering indexes hold them all, so
        # each subquery is an index-only scan (tests/inbox/test_inbox_counts.py).
        capped = (
            qs.filter(status=status)
            .order_by()
            .annotate(one=Value(1, output_field=IntegerField()))
            .values("one")[: COUNT_CAP + 1]
        )
        sub_sql, sub_params = capped.query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sub_sql}) AS capped_{i})")
        params.extend(sub_params)
    return "SELECT " + ", ".join(parts), params


def count_is_capped(n: int) -> bool:
    return n > COUNT_CAP


def inbox_page(
    user: Any,
    filters: InboxFilters,
    sort: str = DEFAULT_SORT,
    cursor: str = "",
    *,
    size: int = PAGE_SIZE,
    with_counts: bool = True,
) -> tuple[list[Submission], str, dict[str, int]]:
    """One page of the user's inbox: (rows, the cursor of the next page or "", counts per
    status). Rows carry their procedure version (titles) and assignee: no query per row."""
    if sort not in SORTS:
        sort = DEFAULT_SORT
    size = max(1, min(size, PAGE_SIZE_MAX))
    qs = inbox_queryset(user, filters)
    if cursor:
        values = _decode(cursor, sort)
        qs = qs.none() if values is None else _after(qs, sort, values)
    rows = list(
        qs.select_related("procedure_version", "assigned_to")
        .defer("answers", "fee_lines", "procedure_version__source")
        .order_by(*SORTS[sort])[: size + 1]
    )
    next_cursor = _cursor_of(rows[size - 1], sort) if len(rows) > size else ""
    counts = status_counts(user, filters) if with_counts else {}
    return rows[:size], next_cursor, counts
