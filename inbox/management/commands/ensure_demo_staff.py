"""Demo staff of the embedded default (`make run`): an organization admin of the sample
organization and a reviewer for each of two of its departments, with printed sign-in
details: password and fresh single-use codes for the second step. Refused outside the
embedded default, like ensure_demo_admin."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from forms_engine.models import Department, Organization
from inbox.models import StaffMembership
from inbox.otp import static_codes_replace
from inbox.staff import staff_membership_set

R = StaffMembership.Role
DEMO_ORGANIZATION = "sample-city"
# (user name, family name, given name, role, department slug)
DEMO_STAFF = [
    ("demo-org-admin", "管理", "花子", R.ORGANIZATION_ADMIN, None),
    ("demo-citizens", "市民", "一郎", R.REVIEWER, "citizens"),
    ("demo-environment", "環境", "次郎", R.REVIEWER, "environment"),
]
DEMO_CODE_COUNT = 5


class Command(BaseCommand):
    help = "Create the demo staff of the embedded default and print how to sign in."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("the demo staff exist only in the embedded default")
        organization = Organization.objects.filter(slug=DEMO_ORGANIZATION).first()
        if organization is None:
            raise CommandError(f"load the procedures first: no organization {DEMO_ORGANIZATION}")
        password = os.environ.get("DEMO_STAFF_PASSWORD", "demo-staff-2026")
        User = get_user_model()
        lines = [f"Demo staff: {settings.SITE_URL}/staff/  (password, then one of the codes)"]
        for username, family, given, role, dept_slug in DEMO_STAFF:
            department = (
                Department.objects.get(organization=organization, slug=dept_slug)
                if dept_slug
                else None
            )
            user, created = User.objects.get_or_create(
                username=username, defaults={"last_name": family, "first_name": given}
            )
            if created:
                user.set_password(password)
                user.save()
            staff_membership_set(user, organization.pk, role, department)
            codes = static_codes_replace(user, "demo", DEMO_CODE_COUNT)
            shown = password if user.check_password(password) else "(changed by you)"
            where = dept_slug or "whole organization"
            lines.append(
                f"  {role} ({where}): user: {username}  password: {shown}  "
                f"one-time codes (each works once): {' '.join(codes)}"
            )
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
