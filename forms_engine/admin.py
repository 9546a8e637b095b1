"""Django admin for operators of the embedded default: read-mostly views of what the
YAML loaded and what was filed. Procedures change through YAML (load_procedures), never
here; the staff inbox with per-department access is a separate issue."""

from django.contrib import admin

from . import models as m


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


# The virus check of each file: its state and, for staff only, what the scan found (the
# signature of an infected file, or why clamd gave no verdict yet). Files waiting in
# quarantine long after their upload mean clamd is unreachable (`manage.py
# attachments_scan` tries them again).
ATTACHMENT_SCAN_FIELDS = (
    "original_name",
    "size",
    "kind",
    "status",
    "scan_detail",
    "scanned_at",
    "created_at",
)


class AttachmentInline(admin.TabularInline):
    model = m.Attachment
    fields = ATTACHMENT_SCAN_FIELDS
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(m.Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ("number", "procedure", "department", "status", "fee_total", "submitted_at")
    list_filter = ("status", "organization", "department")
    search_fields = ("number",)
    date_hierarchy = "submitted_at"
    inlines = [AttachmentInline]


@admin.register(m.Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "submission", "status", "scan_detail", "scanned_at", "size", "created_at")
    list_filter = ("status",)
    search_fields = ("submission__number", "scan_detail")
    date_hierarchy = "created_at"
    # The storage key is no business of the admin page; the file name is shown, not linked.
    exclude = ("file", "upload_id", "sha256")


@admin.register(m.OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "topic", "submission", "created_at", "processed_at", "attempts")
    list_filter = ("topic",)
