"""`manage.py validate_procedures [DIR]`: check procedure files without loading them.

Prints every error as `file:line key.path: message` on stderr, then a summary, and exits
with status 1 when there is any error, so it can guard a CI step or a deploy.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from forms_engine.procedure_format.loader import load_tree


class Command(BaseCommand):
    help = "Check a procedures directory and report every error with its file and line."

    # The system checks load settings.PROCEDURES_DIR too and would stop on its errors
    # before this command could print them (or check another directory).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "directory",
            nargs="?",
            help="procedures directory (default: settings.PROCEDURES_DIR)",
        )

    def handle(self, *args, **options):
        root = Path(options["directory"] or settings.PROCEDURES_DIR)
        tree = load_tree(root)  # every registered integration type

        for error in tree.errors:
            self.stderr.write(str(error))
        checked = (
            len(tree.organizations)
            + len(tree.procedures)
            + len(tree.bundles)
            + len(tree.broken_files)
        )
        if tree.errors:
            raise CommandError(
                f"{_count(checked, 'file')} checked, {_count(len(tree.errors), 'error')} "
                f"in {_count(len(tree.broken_files), 'file')}",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(f"{_count(checked, 'file')} checked, no errors: {root} is valid")
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
