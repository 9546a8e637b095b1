"""Access to the console: signed in with both factors and an organization admin. Other
staff get 403 (they are staff, the console is not for their role); anybody else goes to
the staff sign-in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404

from forms_engine.models import Organization
from inbox.auth import is_verified, login_redirect
from inbox.scope import staff_scope

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def organization_admin_required(func: View) -> View:
    """The view gets the admin's organization as `request.console_org`."""

    @wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not is_verified(user):
            return login_redirect(request)
        scope = staff_scope(user)
        if not scope.is_staff_member:
            return login_redirect(request)
        if not scope.is_organization_admin or scope.organization_id is None:
            raise PermissionDenied
        request.console_org = get_object_or_404(  # type: ignore[attr-defined]
            Organization, pk=scope.organization_id
        )
        return func(request, *args, **kwargs)

    return cast(View, wrapper)


def console_org(request: HttpRequest) -> Organization:
    org: Organization = request.console_org  # type: ignore[attr-defined]
    return org
