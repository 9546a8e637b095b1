import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the demo admin account of the embedded default (refused outside it)."

    def handle(self, **options):
        if not settings.EMBEDDED:
            raise CommandError("the demo admin exists only in the embedded default")
        username = os.environ.get("DEMO_ADMIN_USER", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "demo-admin-2026")
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo admin: {settings.SITE_URL}/admin/  user: {username}  "
                f"password: {password if user.check_password(password) else '(changed by you)'}"
            )
        )
