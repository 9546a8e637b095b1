"""Managing an organization's staff (services; the views are in views/staff.py): add a
user (an existing account, or a new one that sets its password through a mailed link),
change role and department, deactivate. Every change is audited by the view calling it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import override

from forms_engine.models import Department

from .models import StaffMembership
from .scope import staff_scope_forget

R = StaffMembership.Role


class StaffChangeRefused(Exception):
    """The change would move a user across organizations or leave a role without its
    department (or give a department to an organization admin)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class StaffRow:
    user: Any
    role: str
    role_label: str
    department: Department | None
    enrolled: bool


def staff_of_organization(organization_id: int) -> list[StaffRow]:
    """Everybody with a membership in the organization (one row per membership)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    memberships = list(
        StaffMembership.objects.filter(organization_id=organization_id)
        .select_related("user", "department")
        .order_by("user__username", "role")
    )
    enrolled = set(
        TOTPDevice.objects.filter(
            user_id__in=[ms.user_id for ms in memberships], confirmed=True
        ).values_list("user_id", flat=True)
    )
    return [
        StaffRow(
            ms.user, ms.role, str(ms.get_role_display()), ms.department, ms.user_id in enrolled
        )
        for ms in memberships
    ]


def _check(organization_id: int, role: str, department: Department | None) -> None:
    if role not in R.values:
        raise StaffChangeRefused("role")
    if role == R.ORGANIZATION_ADMIN:
        if department is not None:
            raise StaffChangeRefused("department_not_allowed")
    elif department is None or department.organization_id != organization_id:
        raise StaffChangeRefused("department_required")


def staff_membership_set(
    user: Any, organization_id: int, role: str, department: Department | None
) -> StaffMembership:
    """Give `user` exactly this role in the organization (replacing their memberships
    there). Refused for a user who belongs to another organization."""
    _check(organization_id, role, department)
    if user.is_superuser:
        # The operators of the whole service are no organization's staff: an organization
        # admin could otherwise take one in and deactivate it.
        raise StaffChangeRefused("superuser")
    with transaction.atomic():
        if (
            StaffMembership.objects.filter(user=user)
            .exclude(organization_id=organization_id)
            .exists()
        ):
            raise StaffChangeRefused("other_organization")
        StaffMembership.objects.filter(user=user, organization_id=organization_id).delete()
        membership = StaffMembership.objects.create(
            user=user, organization_id=organization_id, role=role, department=department
        )
    staff_scope_forget(user)
    return membership


def staff_create(
    *,
    username: str,
    email: str,
    full_name: str,
    organization_id: int,
    role: str,
    department: Department | None,
    language: str = "ja",
) -> Any:
    """A new staff account without a password: a mail to its own address carries a link
    to set one (valid for PASSWORD_RESET_TIMEOUT). The second factor is enrolled at the
    first sign-in."""
    _check(organization_id, role, department)
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(username=username, email=email)
        user.set_unusable_password()
        family, _sep, given = full_name.strip().partition(" ")
        user.last_name, user.first_name = family[:150], given[:150]
        user.save()
        staff_membership_set(user, organization_id, role, department)
    transaction.on_commit(lambda: password_link_send(user, language))
    return user


def password_link(user: Any) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.SITE_URL}{reverse('inbox:password_set', args=[uid, token])}"


def password_link_send(user: Any, language: str = "ja") -> None:
    with override(language):
        subject = _("Set your password for the staff inbox")
        body = _(
            "An account was created for you on the staff inbox.\n\n"
            "User name: %(username)s\n\n"
            "Set your password with this link (it works once, for a few days):\n%(link)s\n\n"
            "At your first sign-in you also set up a code from an authenticator app."
        ) % {"username": user.get_username(), "link": password_link(user)}
    send_mail(subject, body, None, [user.email])


def staff_active_set(user: Any, active: bool) -> None:
    """Deactivate (or reactivate) an account: a deactivated user cannot sign in, and their
    open sessions stop working at their next request (Django checks is_active)."""
    type(user).objects.filter(pk=user.pk).update(is_active=active)
    user.is_active = active
    staff_scope_forget(user)


def staff_second_factor_reset(user: Any) -> None:
    """Remove every second-factor device of `user` (a lost phone): the next sign-in
    enrols a new one after the password. Their open sessions end too (they were verified
    with a device that no longer exists)."""
    from django_otp import devices_for_user

    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
