"""Create a pull-API token for a back-office system and print it, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from forms_engine.models import Department, Organization
from integrations.api.tokens import api_token_create


class Command(BaseCommand):
    help = (
        "Create a read-only pull-API token for one back-office system and the departments "
        "it may read (ORG/DEPARTMENT, repeatable). The token is printed once; only its "
        "hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the back-office system, e.g. animal-db")
        parser.add_argument(
            "--department",
            action="append",
            required=True,
            metavar="ORG/DEPARTMENT",
            help="a department the token reads, as organization/department slugs",
        )
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="days until the token expires"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        departments = []
        organizations = set()
        for item in options["department"]:
            org_slug, _sep, dept_slug = item.partition("/")
            department = Department.objects.filter(
                organization__slug=org_slug, slug=dept_slug
            ).first()
            if department is None:
                raise CommandError(f"no department {item!r} (write organization/department)")
            departments.append(department)
            organizations.add(department.organization_id)
        if len(organizations) != 1:
            raise CommandError("every department of a token must belong to one organization")
        days = options["expires_in_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-in-days must be 1 or more")
        row, token = api_token_create(
            name=options["name"],
            organization=Organization.objects.get(pk=organizations.pop()),
            departments=departments,
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        self.stderr.write(
            f"Token #{row.pk} for {row.name}: keep it now, it is not shown again "
            "(send it as Authorization: Bearer <token>)."
        )
        self.stdout.write(token)
