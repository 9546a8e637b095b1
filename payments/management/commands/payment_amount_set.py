"""Set or confirm the fee due after review; the resident is mailed a pay link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments.services import PaymentRefused, payment_amount_set

from ._staff import actor_id, add_common, submission_get


class Command(BaseCommand):
    help = "Set the fee due after review: NUMBER AMOUNT [--staff USER]"

    def add_arguments(self, parser: CommandParser) -> None:
        add_common(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        sub = submission_get(options["number"])
        try:
            payment_amount_set(sub.pk, amount=options["amount"], actor=actor_id(options["staff"]))
        except PaymentRefused as exc:
            raise CommandError(exc.code) from exc
        self.stdout.write(f"{sub.number}: {options['amount']} yen due")
