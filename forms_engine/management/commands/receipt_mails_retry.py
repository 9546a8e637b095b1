from django.core.management.base import BaseCommand

from forms_engine.services import receipt_mails_retry_failed


class Command(BaseCommand):
    help = (
        "Send the failed receipt mails again (after fixing the mail server or the cause "
        "logged): they become due at once and get a fresh round of retries."
    )

    def handle(self, **options):
        count = receipt_mails_retry_failed()
        self.stdout.write(f"receipt mails due again: {count}")
