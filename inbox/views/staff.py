"""An organization admin's pages for the organization's staff: list, add, change,
deactivate. Users outside the admin's organization answer 404."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from forms_engine.models import Department
from inbox.audit import audit_log
from inbox.auth import staff_required
from inbox.forms import MembershipForm, StaffAddForm
from inbox.models import StaffMembership
from inbox.scope import staff_scope
from inbox.staff import (
    StaffChangeRefused,
    staff_active_set,
    staff_create,
    staff_membership_set,
    staff_of_organization,
    staff_second_factor_reset,
)

ORG_ADMIN = (StaffMembership.Role.ORGANIZATION_ADMIN,)

# One message for every account that cannot join: whether a user name exists in another
# organization is not told.
REFUSED = gettext_lazy("This account cannot be added to your organization.")


def _org(request: HttpRequest) -> int:
    organization_id = staff_scope(request.user).organization_id
    assert organization_id is not None  # staff_required let a member in
    return organization_id


@never_cache
@require_http_methods(["GET"])
@staff_required(roles=ORG_ADMIN)
def staff_list(request: HttpRequest) -> HttpResponse:
    return render(request, "inbox/staff_list.html", {"rows": staff_of_organization(_org(request))})


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required(roles=ORG_ADMIN)
def staff_add(request: HttpRequest) -> HttpResponse:
    organization_id = _org(request)
    form = StaffAddForm(request.POST or None, organization_id=organization_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: data["username"]}).first()
        department: Department | None = data["department"]
        try:
            if user is None:
                user = staff_create(
                    username=data["username"],
                    email=data["email"],
                    full_name=data["full_name"],
                    organization_id=organization_id,
                    role=data["role"],
                    department=department,
                    language=(get_language() or "ja")[:2],
                )
                created = True
            else:
                staff_membership_set(user, organization_id, data["role"], department)
                created = False
        except StaffChangeRefused:
            form.add_error("username", str(REFUSED))
        else:
            audit_log(
                request,
                "staff.add",
                user,
                created=created,
                role=data["role"],
                department=department.pk if department else None,
            )
            return HttpResponseRedirect(reverse("inbox:staff_list"))
    return render(
        request, "inbox/staff_add.html", {"form": form}, status=400 if form.errors else 200
    )


def _member_or_404(request: HttpRequest, user_id: int) -> Any:
    organization_id = _org(request)
    User = get_user_model()
    user = User.objects.filter(
        pk=user_id, staff_memberships__organization_id=organization_id
    ).first()
    if user is None:
        raise Http404
    return user


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required(roles=ORG_ADMIN)
def staff_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    organization_id = _org(request)
    member = _member_or_404(request, user_id)
    current = StaffMembership.objects.filter(user=member, organization_id=organization_id).first()
    initial = {"role": current.role, "department": current.department_id} if current else {}
    form = MembershipForm(
        request.POST if request.POST.get("_action") == "role" else None,
        organization_id=organization_id,
        initial=initial,
    )
    error = ""
    if request.method == "POST":
        action = request.POST.get("_action")
        if action == "role" and form.is_valid():
            department = form.cleaned_data["department"]
            staff_membership_set(member, organization_id, form.cleaned_data["role"], department)
            audit_log(
                request,
                "staff.change",
                member,
                role=form.cleaned_data["role"],
                department=department.pk if department else None,
            )
            return HttpResponseRedirect(reverse("inbox:staff_list"))
        if action == "reset_second_factor":
            staff_second_factor_reset(member)
            audit_log(request, "staff.second_factor_reset", member)
            return HttpResponseRedirect(reverse("inbox:staff_list"))
        if action in ("deactivate", "activate"):
            if member.pk == request.user.pk:
                error = _("You cannot deactivate your own account.")
            else:
                staff_active_set(member, action == "activate")
                audit_log(request, f"staff.{action}", member)
                return HttpResponseRedirect(reverse("inbox:staff_list"))
    return render(
        request,
        "inbox/staff_edit.html",
        {"member": member, "form": form, "error": error},
        status=400 if (form.errors or error) else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def password_set(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link a new staff account is mailed: set the password once (Django's reset
    tokens: valid for PASSWORD_RESET_TIMEOUT, void once the password changed)."""
    User = get_user_model()
    try:
        user = User.objects.get(pk=int(urlsafe_base64_decode(uidb64).decode()))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not user.is_active or not default_token_generator.check_token(user, token):
        return render(request, "inbox/password_set.html", {"invalid": True}, status=404)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit_log(request, "staff.password_set", user, actor=user)
        return HttpResponseRedirect(reverse("inbox:login"))
    return render(
        request, "inbox/password_set.html", {"form": form}, status=400 if form.errors else 200
    )
