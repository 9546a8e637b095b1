"""Deliveries in the admin (superusers): the list filtered by state and type, each
delivery's attempts, and an action that sends dead ones again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .deliveries import delivery_retry
from .models import Delivery, DeliveryAttempt


class SuperuserReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeliveryAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = DeliveryAttempt
    fields = ("number", "started_at", "duration_ms", "status_code", "error_kind")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(SuperuserReadOnly):
    list_display = (
        "submission",
        "integration_id",
        "type",
        "state",
        "attempts",
        "last_status",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("state", "type")
    search_fields = ("submission__number", "integration_id", "idempotency_key")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["retry_dead"]

    @admin.action(description=_("Retry the selected dead deliveries"))
    def retry_dead(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        retried = sum(1 for pk in queryset.values_list("pk", flat=True) if delivery_retry(pk))
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                retried,
            )
            % {"count": retried},
            messages.SUCCESS,
        )


# The pull API's tokens and the csv runs have their admin beside their code.
from integrations.api import admin as api_admin  # noqa: E402, F401
from integrations.csv_export import admin as csv_admin  # noqa: E402, F401
