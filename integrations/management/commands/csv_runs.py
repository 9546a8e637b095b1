"""Plan the csv runs that are due and write them now (what beat's tick does), or write
one run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.csv_export.models import CsvRun
from integrations.csv_export.runs import csv_run_write, csv_runs_tick


class Command(BaseCommand):
    help = (
        "Plan the csv runs whose schedule has fired and write every run due now; "
        "--rewrite RUN_ID writes that run again (the same file, byte for byte)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rewrite", type=int, metavar="RUN_ID", help="write this run again")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rewrite"] is not None:
            if not CsvRun.objects.filter(pk=options["rewrite"]).exists():
                raise CommandError(f"no csv run {options['rewrite']}")
            runs = [options["rewrite"]]
            rewrite = True
        else:
            runs = csv_runs_tick()
            rewrite = False
        for run_id in runs:
            state = csv_run_write(run_id, rewrite=rewrite)
            self.stdout.write(f"csv run {run_id}: {state}")
        if not runs:
            self.stdout.write("no csv run due")
