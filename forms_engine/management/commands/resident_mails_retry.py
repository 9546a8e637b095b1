from django.core.management.base import BaseCommand

from forms_engine.services import resident_mails_retry_failed


class Command(BaseCommand):
    help = (
        "Send the failed mails about reviews (returned, decided, withdrawn, messages) again: "
        "they become due at once and get a fresh round of retries."
    )

    def handle(self, **options):
        count = resident_mails_retry_failed()
        self.stdout.write(f"resident mails due again: {count}")
