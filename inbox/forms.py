"""Forms of the staff pages (rendered by hand in the templates, in the design system)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from forms_engine.models import Department

from .models import StaffMembership


class DepartmentChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    # (generic in django-stubs only: no subscript at runtime)
    def label_from_instance(self, obj: Any) -> str:
        return _department_name(obj)


class MembershipForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=StaffMembership.Role.choices)
    department = DepartmentChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("None (organization admins)"),
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.filter(organization_id=organization_id).order_by("slug")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role, department = data.get("role"), data.get("department")
        if role == StaffMembership.Role.ORGANIZATION_ADMIN and department is not None:
            self.add_error("department", _("An organization admin has no department."))
        elif role and role != StaffMembership.Role.ORGANIZATION_ADMIN and department is None:
            self.add_error("department", _("Choose the department."))
        return data


def _department_name(department: Department) -> str:
    from forms_engine.models import localized

    return localized(department.name)


class StaffAddForm(MembershipForm):
    username = forms.CharField(label=_("User name"), max_length=150)
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        help_text=_("For a new account: the link to set its password is sent here."),
    )
    full_name = forms.CharField(label=_("Name (family name first)"), max_length=150, required=False)

    field_order = ["username", "email", "full_name", "role", "department"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        username = data.get("username", "")
        User = get_user_model()
        exists = User.objects.filter(**{User.USERNAME_FIELD: username}).exists()
        if username and not exists and not data.get("email"):
            self.add_error("email", _("A new account needs an email address."))
        return data
