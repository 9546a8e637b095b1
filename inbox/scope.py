"""What a member of staff may see: the submissions of their departments, or of their whole
organization for an organization admin. Every staff view reads submissions through here,
and anything outside the scope answers 404 (never 403: its existence is not told)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from forms_engine.models import Submission

from .models import StaffMembership

_CACHE_ATTR = "_inbox_staff_scope"


@dataclass(frozen=True)
class StaffScope:
    """A user's memberships, read once per request."""

    organization_id: int | None
    department_ids: frozenset[int]
    roles: frozenset[str]

    @property
    def is_staff_member(self) -> bool:
        return self.organization_id is not None

    @property
    def is_organization_admin(self) -> bool:
        return StaffMembership.Role.ORGANIZATION_ADMIN in self.roles

    @property
    def is_department_admin(self) -> bool:
        return StaffMembership.Role.DEPARTMENT_ADMIN in self.roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


_NOBODY = StaffScope(None, frozenset(), frozenset())


def staff_scope(user: Any) -> StaffScope:
    """The memberships of `user` (cached on the user object for the request). An inactive
    or anonymous user, or one whose memberships span two organizations (never created by
    the services, but refused all the same), has none."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return _NOBODY
    cached = getattr(user, _CACHE_ATTR, None)
    if isinstance(cached, StaffScope):
        return cached
    rows = list(
        StaffMembership.objects.filter(user_id=user.pk).values_list(
            "organization_id", "department_id", "role"
        )
    )
    organizations = {org for org, _dept, _role in rows}
    if len(organizations) != 1:
        scope = _NOBODY
    else:
        scope = StaffScope(
            organization_id=organizations.pop(),
            department_ids=frozenset(dept for _org, dept, _role in rows if dept is not None),
            roles=frozenset(role for _org, _dept, role in rows),
        )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def staff_scope_forget(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def submissions_visible(user: Any) -> QuerySet[Submission]:
    """The submissions `user` may see: an organization admin's whole organization, or the
    departments of the user's memberships within it; none for anybody else."""
    scope = staff_scope(user)
    if scope.organization_id is None:
        return Submission.objects.none()
    qs = Submission.objects.filter(organization_id=scope.organization_id)
    if scope.is_organization_admin:
        return qs
    return qs.filter(department_id__in=sorted(scope.department_ids))


def submission_for_staff_or_404(user: Any, submission_id: Any) -> Submission:
    """The submission if `user` may see it, else 404 (also for a malformed id)."""
    try:
        pk = uuid.UUID(str(submission_id))
    except ValueError:
        raise Http404 from None
    try:
        return submissions_visible(user).select_related("procedure_version").get(pk=pk)
    except Submission.DoesNotExist:
        raise Http404 from None
