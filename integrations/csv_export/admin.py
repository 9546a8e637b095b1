"""CSV runs in the admin (superusers), read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from integrations.csv_export.models import CsvRun

if TYPE_CHECKING:
    _RunAdmin = admin.ModelAdmin[CsvRun]
else:
    _RunAdmin = admin.ModelAdmin


@admin.register(CsvRun)
class CsvRunAdmin(_RunAdmin):
    """Read-only: runs are planned by the schedule and written by the workers
    (`manage.py csv_runs --rewrite RUN_ID` writes one again)."""

    list_display = (
        "id",
        "procedure",
        "integration_id",
        "scheduled_for",
        "state",
        "attempts",
        "rows",
        "replaced_characters",
        "last_error",
        "written_at",
    )
    list_filter = ("state", "integration_id")
    readonly_fields = [f.name for f in CsvRun._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
