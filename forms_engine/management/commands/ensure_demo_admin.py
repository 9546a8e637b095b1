import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

DEMO_CODE_COUNT = 5


def demo_codes_replace(user) -> list[str]:
    """Fresh single-use sign-in codes for a demo account (the second factor the admin
    and the staff pages ask for), replacing the ones printed before."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name="demo", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(DEMO_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


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
        codes = demo_codes_replace(user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo admin: {settings.SITE_URL}/admin/  user: {username}  "
                f"password: {password if user.check_password(password) else '(changed by you)'}  "
                f"one-time codes (each works once): {' '.join(codes)}"
            )
        )
