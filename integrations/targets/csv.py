"""`type: csv`: a file of the submissions since the last run, written on a cron schedule
(Asia/Tokyo) to a destination. This module holds the check of its YAML keys and hands the
runs to `integrations.csv_export` (docs/csv-export.md)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from forms_engine.procedure_format.loader.checks import quote_list, suggest
from forms_engine.procedure_format.loader.cron import check_cron
from forms_engine.procedure_format.yamlsource import Path as KeyPath
from integrations.csv_export.columns import META_COLUMNS

from .base import IntegrationType
from .yaml_checks import literal_refused

if TYPE_CHECKING:
    from forms_engine.procedure_format.loader.checks import Entry
    from forms_engine.procedure_format.loader.pages import ProcedureCheck

CSV_ENCODINGS = ("utf-8", "cp932")
# The well-known columns: one list, the one the writer knows.
CSV_META_COLUMNS = META_COLUMNS


class CsvTarget(IntegrationType):
    key = "csv"
    required_keys: ClassVar[tuple[str, ...]] = ("schedule", "destination")
    optional_keys: ClassVar[tuple[str, ...]] = ("encoding", "columns")
    scheduled = True

    def scheduled_runs_due(self, now: datetime) -> list[int]:
        from integrations.csv_export.runs import csv_runs_tick

        return csv_runs_tick(now, self.key)

    def scheduled_run_write(self, run_id: int) -> str:
        from integrations.csv_export.runs import csv_run_write

        return csv_run_write(run_id)

    def check_config(
        self, p: ProcedureCheck, entry: Entry, path: KeyPath, config: dict[str, Any]
    ) -> None:
        c = p.c
        if "schedule" in entry:
            schedule = c.string(entry["schedule"], path + ("schedule",), "a cron schedule")
            if schedule is not None:
                problem = check_cron(schedule)
                if problem:
                    c.error(path + ("schedule",), problem)
                else:
                    config["schedule"] = schedule
        if "destination" in entry:
            destination = csv_destination(p, entry["destination"], path + ("destination",))
            if destination is not None:
                config["destination"] = destination
        config["encoding"] = "utf-8"
        if "encoding" in entry:
            encoding = c.choice(entry["encoding"], path + ("encoding",), CSV_ENCODINGS)
            if encoding is not None:
                config["encoding"] = encoding
        if "columns" in entry:
            config["columns"] = csv_columns(p, entry["columns"], path + ("columns",))


def csv_destination(p: ProcedureCheck, value: Any, path: KeyPath) -> str | None:
    c = p.c
    text = c.string(value, path, "env:NAME or a URL such as s3://bucket/prefix/")
    if text is None:
        return None
    if p.env_reference(text, path):
        return text
    # From the console, a literal file:// or s3:// destination would let an organization
    # write anywhere the worker can (any folder, another organization's bucket).
    if literal_refused(p, path, "destination"):
        return None
    parts = urlsplit(text)
    if not parts.scheme or not (parts.netloc or parts.path):
        c.error(path, f"{text!r} must be env:NAME or a URL such as s3://bucket/prefix/")
        return None
    if parts.password:
        c.error(path, "secrets must come from the environment: write env:NAME")
        return None
    return text


def csv_columns(p: ProcedureCheck, value: Any, path: KeyPath) -> tuple[str, ...]:
    c = p.c
    columns: list[str] = []
    known = [
        *CSV_META_COLUMNS,
        *(f.id for page in p.pages for f in page.fields if f.id and f.type != "static"),
    ]
    for index, item in enumerate(c.sequence(value, path, "columns")):
        item_path = path + (index,)
        name = c.string(item, item_path, "a column name")
        if name is None:
            continue
        target = p.fields.get(name)
        if name in CSV_META_COLUMNS:
            pass
        elif target is None:
            c.error(
                item_path,
                f"unknown column {name!r}{suggest(name, known)}: use a field id or one of "
                f"{quote_list(CSV_META_COLUMNS)}",
            )
            continue
        elif target.group is not None:
            c.error(
                item_path,
                f"field {name!r} is inside group {target.group.id!r}: name the group instead",
            )
            continue
        elif target.type == "static":
            c.error(item_path, f"field {name!r} is static and has no answer to export")
            continue
        if name in columns:
            c.error(item_path, f"column {name!r} is listed twice")
            continue
        columns.append(name)
    return tuple(columns)
