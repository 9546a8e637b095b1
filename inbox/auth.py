"""Access to staff pages: signed in, second factor verified, a staff membership."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse

from .scope import staff_scope

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def login_redirect(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("inbox:login") + "?" + urlencode({"next": request.get_full_path()})
    )


def is_verified(user: Any) -> bool:
    """Signed in and past the second factor (django_otp's middleware sets `is_verified`)."""
    check = getattr(user, "is_verified", None)
    return bool(getattr(user, "is_authenticated", False) and callable(check) and check())


def staff_required(view: View | None = None, *, roles: tuple[str, ...] = ()) -> Any:
    """Staff pages: anybody not signed in with both factors goes to the sign-in page (which
    leads an account without a second factor to its enrolment first); a signed-in user
    without a membership too. With `roles`, a member without one of them gets 404: an
    admin page does not exist for a reviewer."""

    def decorator(func: View) -> View:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not is_verified(user):
                return login_redirect(request)
            scope = staff_scope(user)
            if not scope.is_staff_member:
                return login_redirect(request)
            if roles and not scope.has_role(*roles):
                raise Http404
            return func(request, *args, **kwargs)

        return cast(View, wrapper)

    if view is not None:
        return decorator(view)
    return decorator
