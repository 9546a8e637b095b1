"""Organization settings: departments and their notification addresses, the contact text,
and staff invitations by mail."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from console import services
from console.auth import console_org, organization_admin_required
from console.forms import ContactForm, DepartmentFormSet, InvitationForm
from forms_engine import services as core
from inbox.audit import audit_log
from inbox.staff import StaffChangeRefused, staff_create


def _forms(request: HttpRequest, bound: bool) -> tuple[ContactForm, Any, list[Any]]:
    org = console_org(request)
    spec = core.organization_spec(org)
    (contact_ja, contact_en), rows = services.organization_rows(spec) if spec else (("", ""), [])
    if bound:
        return ContactForm(request.POST), DepartmentFormSet(request.POST, prefix="dept"), []
    contact = ContactForm(initial={"contact_ja": contact_ja, "contact_en": contact_en})
    departments = DepartmentFormSet(
        initial=[
            {"slug": r.slug, "name_ja": r.name_ja, "name_en": r.name_en, "email": r.email}
            for r in rows
        ],
        prefix="dept",
    )
    return contact, departments, []


def _render(
    request: HttpRequest,
    contact: ContactForm,
    departments: Any,
    invitation: InvitationForm,
    load_errors: list[Any],
    status: int = 200,
) -> HttpResponse:
    org = console_org(request)
    spec = core.organization_spec(org)
    existing = {row.slug for row in services.organization_rows(spec)[1]} if spec else set()
    return render(
        request,
        "console/organization_settings.html",
        {
            "org": org,
            "contact": contact,
            "departments": departments,
            "existing_slugs": existing,
            "invitation": invitation,
            "load_errors": load_errors,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@organization_admin_required
def organization_settings(request: HttpRequest) -> HttpResponse:
    org = console_org(request)
    invitation = InvitationForm(organization_id=org.pk)
    if request.method == "GET":
        contact, departments, _e = _forms(request, bound=False)
        return _render(request, contact, departments, invitation, [])
    contact, departments, _e = _forms(request, bound=True)
    if not (contact.is_valid() and departments.is_valid()):
        return _render(request, contact, departments, invitation, [], status=400)
    spec = core.organization_spec(org)
    kept = {r.slug for r in services.organization_rows(spec)[1]} if spec else set()
    rows = [
        services.DepartmentRow(d["slug"], d["name_ja"], d.get("name_en", ""), d.get("email", ""))
        for d in departments.cleaned_data
        if d.get("slug")
    ]
    # A department is never removed here: submissions and staff belong to it.
    missing = kept - {r.slug for r in rows}
    if missing:
        messages.error(
            request,
            _("A department cannot be removed: %(slugs)s") % {"slugs": ", ".join(sorted(missing))},
        )
        return _render(request, contact, departments, invitation, [], status=400)
    before = org.content_hash
    errors = services.organization_settings_save(
        org, contact.cleaned_data["contact_ja"], contact.cleaned_data["contact_en"], rows
    )
    if errors:
        return _render(request, contact, departments, invitation, errors, status=400)
    org.refresh_from_db()
    audit_log(
        request,
        "console.settings_save",
        org,
        version_hash=org.content_hash,
        previous_hash=before,
        departments=len(rows),
    )
    messages.success(request, _("The organization settings were saved."))
    return HttpResponseRedirect(reverse("console:organization_settings"))


@require_http_methods(["POST"])
@organization_admin_required
def staff_invite(request: HttpRequest) -> HttpResponse:
    org = console_org(request)
    invitation = InvitationForm(request.POST, organization_id=org.pk)
    if invitation.is_valid():
        data = invitation.cleaned_data
        try:
            user = staff_create(
                username=data["username"],
                email=data["email"],
                full_name=data["full_name"],
                organization_id=org.pk,
                role=data["role"],
                department=data["department"],
                language=(get_language() or "ja")[:2],
            )
        except StaffChangeRefused:
            invitation.add_error("username", _("This account cannot be invited."))
        else:
            audit_log(
                request,
                "console.invite",
                user,
                role=data["role"],
                department=data["department"].pk,
            )
            messages.success(request, _("The invitation was sent by mail."))
            return HttpResponseRedirect(reverse("console:organization_settings"))
    contact, departments, _e = _forms(request, bound=False)
    return _render(request, contact, departments, invitation, [], status=400)
