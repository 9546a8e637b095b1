"""A model instance by primary key, read with SQL the ORM compiled once per connection.

Every filing page reads its draft (docs/performance.md, "The 40-field page"). Building that
statement with the ORM on each request (cloning the queryset, resolving the filter,
compiling the annotation and the SELECT list) cost three times the instructions of
running it and decoding the row. `PrimaryKeyRead` has the ORM compile the very queryset
it would run, once for each database connection, and then only executes it; what the ORM
does with the row is done the same way: the columns' converters (JSON decoding, SQLite's
datetimes and UUIDs), `Model.from_db`, the annotations set as attributes.

The statement goes through the connection's own cursor, so query logging, execute
wrappers and the tests that count queries see it as any other. Only the primary key is a
parameter: the queryset given must have no other parameter (checked when it is compiled).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Columns of the model's fields: their attnames in SELECT order, and where they are.
    init_list: list[str]
    start: int
    end: int
    # (annotation name, column) pairs.
    annotations: list[tuple[str, int]]
    # (column, converters, expression) for each column that has converters.
    converters: list[tuple[int, list[Callable[..., Any]], Any]]


def converted(
    row: Sequence[Any],
    converters: Iterable[tuple[int, Iterable[Callable[..., Any]], Any]],
    connection: BaseDatabaseWrapper,
) -> list[Any]:
    """A result row with each column's converters applied as the ORM applies them
    (`(position, converters, expression)`, from a compiler's get_converters), for
    statements run outside the ORM."""
    values = list(row)
    for position, column_converters, expression in converters:
        value = values[position]
        for convert in column_converters:
            value = convert(value, expression, connection)
        values[position] = value
    return values


class PrimaryKeyRead(Generic[M]):
    """`read(pk)`: the instance `queryset().get(pk=pk)` would return, or None.

    `queryset` makes a queryset of `model` (called when a connection first needs the
    statement); `sample_pk` is any valid primary key: the statement is compiled with it
    and run with the real one in its place."""

    def __init__(self, model: type[M], queryset: Callable[[], QuerySet[M]], sample_pk: Any):
        self._model = model
        self._queryset = queryset
        self._sample_pk = sample_pk
        # Kept on each connection object (one per thread), since converters are bound to a
        # connection's operations: a finished thread's connection takes its statements with
        # it. (Not a weak-key map here: on SQLite the converters refer back to their
        # connection, so an entry would keep its own key alive for ever.)
        self._slot = f"_pk_read_{id(self):x}"

    def _compile(self, alias: str, connection: BaseDatabaseWrapper) -> _Compiled:
        queryset = self._queryset().filter(pk=self._sample_pk)
        model = self._model
        if queryset.model is not model:
            raise ValueError(f"PrimaryKeyRead: a queryset of {model.__name__} expected")
        # What a compiled statement cannot keep: a lock (select_for_update checks for a
        # transaction only while compiling), another database, prefetches, values() rows.
        if (
            queryset.query.select_for_update
            or getattr(queryset, "_db", None) is not None
            or bool(getattr(queryset, "_prefetch_related_lookups", None))
            or queryset._iterable_class is not ModelIterable
        ):
            raise ValueError(
                "PrimaryKeyRead: a plain queryset of model instances only (no "
                "select_for_update, using, prefetch_related or values)"
            )
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        sample = model._meta.pk.get_db_prep_value(self._sample_pk, connection)
        if list(params) != [sample]:
            raise ValueError(f"PrimaryKeyRead: the queryset has other parameters: {params!r}")
        select, klass_info = compiler.select, compiler.klass_info
        if klass_info is None or klass_info.get("related_klass_infos"):
            raise ValueError("PrimaryKeyRead: a queryset of one model, no select_related")
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        expressions = [s[0] for s in select[: compiler.col_count]]
        return _Compiled(
            sql=sql,
            init_list=[s[0].target.attname for s in select[start:end]],
            start=start,
            end=end,
            annotations=list(compiler.annotation_col_map.items()),
            converters=[
                (column, list(converters), expression)
                for column, (converters, expression) in compiler.get_converters(expressions).items()
            ],
        )

    def read(self, pk: Any) -> M | None:
        model = self._model
        alias = router.db_for_read(model)
        connection = connections[alias]
        compiled: _Compiled | None = connection.__dict__.get(self._slot)
        if compiled is None:
            compiled = self._compile(alias, connection)
            connection.__dict__[self._slot] = compiled
        param = model._meta.pk.get_db_prep_value(pk, connection)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, [param])
            row = cursor.fetchone()
        if row is None:
            return None
        values = converted(row, compiled.converters, connection)
        instance = model.from_db(alias, compiled.init_list, values[compiled.start : compiled.end])
        for name, column in compiled.annotations:
            setattr(instance, name, values[column])
        return instance
