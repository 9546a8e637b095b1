"""Export of the organization's procedures: a zip of the folder `load_procedures` reads."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from console import services
from console.auth import console_org, organization_admin_required
from inbox.audit import audit_log


@never_cache
@organization_admin_required
def export(request: HttpRequest) -> HttpResponse:
    org = console_org(request)
    body = services.export_zip(org)
    audit_log(request, "console.export", org, size=len(body))
    name = f"{org.slug}-procedures-{timezone.localdate():%Y%m%d}.zip"
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
