from django.core.management.base import BaseCommand

from forms_engine.services import attachments_quarantined_rescan


class Command(BaseCommand):
    help = (
        "Scan every file still in quarantine again (after clamd was unreachable longer "
        "than the task's retries, or in the embedded default where nothing retries)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="scan here and now instead of sending tasks to the scans queue",
        )

    def handle(self, **options):
        count = attachments_quarantined_rescan(in_process=options["in_process"])
        self.stdout.write(f"files in quarantine handed to the scanner: {count}")
