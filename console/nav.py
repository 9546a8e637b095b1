"""The console's links in the staff menu: organization admins only."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from inbox.scope import StaffScope


def console_nav(scope: StaffScope) -> list[tuple[str, str]]:
    if not scope.is_organization_admin:
        return []
    return [
        (reverse("console:procedure_list"), _("Procedures")),
        (reverse("console:organization_settings"), _("Organization settings")),
    ]
