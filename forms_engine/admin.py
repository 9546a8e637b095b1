"""Django admin for operators of the embedded default: read-mostly views of what the
YAML loaded and what was filed. Procedures change through YAML (load_procedures), never
here; the staff inbox with per-department access is a separate issue."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import filekinds, services
from . import models as m
from .ratelimit import client_address


class ReadOnlyAdmin(admin.ModelAdmin):
    # Superusers only: submissions of every organization are here, and staff of one
    # organization must never see another's (the staff inbox scopes them by department).
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(m.Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ("slug", "display_name", "payment_account")


@admin.register(m.Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ("organization", "slug", "email")
    list_filter = ("organization",)


class VersionInline(admin.TabularInline):
    model = m.ProcedureVersion
    fields = ("number", "content_hash", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(m.Procedure)
class ProcedureAdmin(ReadOnlyAdmin):
    list_display = ("organization", "slug", "live_version", "filed_count")
    list_filter = ("organization",)
    inlines = [VersionInline]


@admin.register(m.ProcedureVersion)
class ProcedureVersionAdmin(ReadOnlyAdmin):
    list_display = ("procedure", "number", "content_hash", "created_at")
    list_filter = ("procedure__organization",)


@admin.register(m.Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    # A receipt mail that failed shows here (filter by mail status) and in the log; send
    # failed ones again with `manage.py receipt_mails_retry`.
    list_display = (
        "number",
        "created_at",
        "mail_status",
        "mail_attempts",
        "mail_next_attempt_at",
        "mail_error",
        "mailed_at",
    )
    list_filter = ("mail_status",)
    search_fields = ("number",)
    exclude = ("status_code_hash",)


def download_button(attachment: m.Attachment) -> str:
    """A button that asks for the file (POST, with the admin form's CSRF token: every
    download is audited, so no cross-site link may count one), or why there is none."""
    if attachment.submission_id is None or not services.attachment_is_deliverable(attachment):
        return attachment.get_status_display()
    url = reverse("admin:forms_engine_attachment_download", args=[attachment.pk])
    return format_html(
        '<button type="submit" class="button" formaction="{}" formmethod="post" '
        "formnovalidate>{}</button>",
        url,
        _("Download"),
    )


class AttachmentInline(admin.TabularInline):
    model = m.Attachment
    fk_name = "submission"
    fields = ("original_name", "kind", "file_size", "status", "scan_detail", "download")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Size"))
    def file_size(self, obj: m.Attachment) -> str:
        return filekinds.format_size(obj.size)

    @admin.display(description=gettext_lazy("Download"))
    def download(self, obj: m.Attachment) -> str:
        return download_button(obj)


@admin.register(m.Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ("number", "procedure", "department", "status", "fee_total", "submitted_at")
    list_filter = ("status", "organization", "department")
    search_fields = ("number",)
    date_hierarchy = "submitted_at"
    inlines = [AttachmentInline]


@admin.register(m.OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "topic", "submission", "created_at")
    list_filter = ("topic",)


@admin.register(m.OutboxConsumption)
class OutboxConsumptionAdmin(ReadOnlyAdmin):
    """Each consumer's progress on each event: failed rows are listed here (then
    `manage.py outbox_retry`)."""

    list_display = ("id", "consumer", "event", "state", "attempts", "last_error", "next_attempt_at")
    list_filter = ("state", "consumer")


@admin.register(m.Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    """The files of submissions, until the staff inbox (issue 9) shows them by department.
    Files of drafts still being filed are the resident's own and are not listed."""

    list_display = (
        "original_name",
        "submission",
        "kind",
        "file_size",
        "status",
        "scan_detail",
        "scanned_at",
        "created_at",
        "download",
    )
    list_filter = ("status", "kind")
    search_fields = ("submission__number", "scan_detail")
    list_select_related = ("submission",)
    # The storage key is no business of the admin page; the file name is shown, not linked.
    exclude = ("file", "upload_id", "page_key", "input_name", "sha256")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(submission__isnull=False)

    @admin.display(description=gettext_lazy("Size"))
    def file_size(self, obj: m.Attachment) -> str:
        return filekinds.format_size(obj.size)

    @admin.display(description=gettext_lazy("Download"))
    def download(self, obj: m.Attachment) -> str:
        return download_button(obj)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(require_POST(self.download_view)),
                name="forms_engine_attachment_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Record the download, then send the browser to a short-lived URL of the file
        (presigned for S3, a ticket for local files). 404 for a file not deliverable."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            attachment = self.get_queryset(request).filter(pk=object_id).first()
        except ValidationError:
            attachment = None
        if attachment is None:
            raise Http404
        try:
            url = services.attachment_download_url(
                attachment, user=request.user, address=client_address(request)
            )
        except services.AttachmentNotDeliverable:
            raise Http404 from None
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response


@admin.register(m.DownloadAudit)
class DownloadAuditAdmin(ReadOnlyAdmin):
    list_display = ("downloaded_at", "username", "submission_number", "attachment_ref", "address")
    list_filter = ("downloaded_at",)
    search_fields = ("username", "submission_number", "attachment_ref")
    date_hierarchy = "downloaded_at"
