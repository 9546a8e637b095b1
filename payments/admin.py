"""Read-only admin views of payment attempts, provider events and refunds (superusers;
staff act in the inbox)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Payment, ProviderEvent, Refund


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
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


@admin.register(Payment)
class PaymentAdmin(ReadOnly):
    list_display = ("submission", "attempt", "provider", "state", "amount", "created_at")
    list_filter = ("provider", "state")


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnly):
    list_display = ("event_id", "type", "outcome", "received_at")
    list_filter = ("type", "outcome")


@admin.register(Refund)
class RefundAdmin(ReadOnly):
    list_display = ("payment", "amount", "reference", "created_at")
