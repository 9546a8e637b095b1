from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from forms_engine.services import procedures_load


class Command(BaseCommand):
    help = (
        "Load a procedures tree into the database. A changed file becomes a new version; "
        "a broken file is reported and never replaces the live version."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", default=None)

    def handle(self, directory=None, **options):
        root = directory or settings.PROCEDURES_DIR
        report = procedures_load(root)
        for name in report.created:
            self.stdout.write(f"new version: {name}")
        if report.unchanged:
            self.stdout.write(f"unchanged: {len(report.unchanged)}")
        for error in report.errors:
            self.stderr.write(error)
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} error(s): broken files were not loaded "
                "(their live versions, if any, stay)"
            )
