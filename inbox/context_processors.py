"""The staff menu on staff pages: links by role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from .auth import is_verified
from .scope import StaffScope, staff_scope


def staff_nav(request: HttpRequest) -> dict[str, Any]:
    if not request.path.startswith("/staff/") or not is_verified(request.user):
        return {}
    scope = staff_scope(request.user)
    if not scope.is_staff_member:
        return {}
    items = [(reverse("inbox:submission_list"), _("Submissions"))]
    if scope.is_organization_admin:
        items += [
            (reverse("inbox:staff_list"), _("Staff")),
            (reverse("inbox:audit_list"), _("Audit log")),
        ]
    for extra in EXTRA_NAV_ITEMS:
        items += extra(scope)
    items.append((reverse("inbox:account"), _("My account")))
    return {
        "staff_nav": [
            {"url": url, "label": label, "current": request.path == url} for url, label in items
        ],
        "staff_scope": scope,
    }


# Other staff pages (the dashboard, exports) add their links here: scope -> [(url, label)].
EXTRA_NAV_ITEMS: list[Callable[[StaffScope], list[tuple[str, str]]]] = []
