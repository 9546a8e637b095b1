"""Pull-API tokens in the admin (superusers): created here or with
`manage.py api_token_create`; the token is shown once, after saving, and can be revoked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations.api.models import ApiToken
from integrations.api.tokens import TOKEN_PREFIX, api_token_create, api_token_revoke

if TYPE_CHECKING:
    _TokenForm = forms.ModelForm[ApiToken]
    _TokenAdmin = admin.ModelAdmin[ApiToken]
else:
    _TokenForm = forms.ModelForm
    _TokenAdmin = admin.ModelAdmin


class ApiTokenForm(_TokenForm):
    class Meta:
        model = ApiToken
        fields = ("name", "organization", "departments", "expires_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        organization = data.get("organization")
        departments = data.get("departments") or []
        if organization is not None and any(
            d.organization_id != organization.pk for d in departments
        ):
            raise forms.ValidationError(
                _("Every department must belong to the token's organization.")
            )
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(_TokenAdmin):
    form = ApiTokenForm
    list_display = (
        "name",
        "organization",
        "prefix",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_filter = ("organization",)
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A token is never edited (its scope is what it was created with): revoke it and
        # create another.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        row, token = api_token_create(
            name=obj.name,
            organization=obj.organization,
            departments=form.cleaned_data["departments"],
            expires_at=obj.expires_at,
        )
        obj.pk = row.pk
        obj.token_hash = row.token_hash
        obj.prefix = row.prefix
        assert token.startswith(TOKEN_PREFIX)
        messages.warning(
            request,
            _("The token, shown only now (copy it into the back-office system): %(token)s")
            % {"token": token},
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # api_token_create set the departments already.
        return None

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for row in queryset:
            api_token_revoke(row)
        messages.success(request, _("Revoked %(count)d tokens.") % {"count": queryset.count()})
