"""`manage.py deliveries_retry [ID ...] [--all-dead]`: send dead deliveries again, after
the receiving side was fixed (same webhook-id, a fresh round of attempts)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.deliveries import delivery_retry
from integrations.models import Delivery


class Command(BaseCommand):
    help = "Send dead deliveries again (by id, or every dead one with --all-dead)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", help="delivery ids")
        parser.add_argument("--all-dead", action="store_true", help="every dead delivery")

    def handle(self, *args: Any, **options: Any) -> None:
        ids = list(options["ids"])
        if options["all_dead"]:
            ids += [
                str(pk)
                for pk in Delivery.objects.filter(state=Delivery.State.DEAD).values_list(
                    "pk", flat=True
                )
            ]
        if not ids:
            raise CommandError("name delivery ids, or --all-dead")
        retried = sum(1 for delivery_id in ids if delivery_retry(delivery_id))
        self.stdout.write(f"{retried} of {len(ids)} deliveries sent again")
