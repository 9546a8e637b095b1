"""Refund part or all of a paid fee, through the provider that took it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments.providers import ProviderError
from payments.services import PaymentRefused, payment_refund

from ._staff import actor_id, add_common, submission_get


class Command(BaseCommand):
    help = "Refund a paid fee: NUMBER AMOUNT --reason TEXT [--staff USER]"

    def add_arguments(self, parser: CommandParser) -> None:
        add_common(parser)
        parser.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        sub = submission_get(options["number"])
        try:
            payment_refund(
                sub.pk,
                amount=options["amount"],
                reason=options["reason"],
                actor=actor_id(options["staff"]),
            )
        except PaymentRefused as exc:
            raise CommandError(exc.code) from exc
        except ProviderError as exc:
            raise CommandError(f"the provider refused: {exc}") from exc
        self.stdout.write(f"{sub.number}: refunded {options['amount']} yen")
