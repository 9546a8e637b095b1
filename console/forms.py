"""The console's forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from forms_engine.models import Department, Procedure, localized
from forms_engine.procedure_format.loader.organizations import SLUG_RE
from inbox.models import StaffMembership

from .services import SOURCE_MAX_CHARS

# Upload of a YAML file: more than the largest text the console takes is refused.
UPLOAD_MAX_BYTES = SOURCE_MAX_CHARS * 4


class SlugChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Procedure) -> str:
        return obj.slug


class DepartmentNameField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Department) -> str:
        return localized(obj.name)


class NewProcedureForm(forms.Form):
    START_CHOICES = [
        ("blank", _("From the blank template")),
        ("copy", _("As a copy of a procedure")),
        ("upload", _("From a YAML file")),
    ]

    slug = forms.CharField(
        label=_("File name (slug)"),
        max_length=64,
        help_text=_("3 to 64 lower-case letters, digits and hyphens, e.g. dog-registration."),
    )
    start = forms.ChoiceField(
        label=_("Start"), choices=START_CHOICES, widget=forms.RadioSelect, initial="blank"
    )
    copy_of = SlugChoiceField(
        label=_("Procedure to copy"), queryset=Procedure.objects.none(), required=False
    )
    upload = forms.FileField(label=_("YAML file"), required=False)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization_id = organization_id
        field = self.fields["copy_of"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Procedure.objects.filter(
            organization_id=organization_id, live_version__isnull=False
        ).order_by("slug")

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"].strip()
        if not SLUG_RE.match(slug):
            raise forms.ValidationError(_("Use 3 to 64 lower-case letters, digits and hyphens."))
        # A new draft must not silently replace a live procedure when it is published.
        if Procedure.objects.filter(organization_id=self.organization_id, slug=slug).exists():
            raise forms.ValidationError(
                _("A procedure with this file name exists: edit it from its page.")
            )
        return slug

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start = data.get("start")
        if start == "copy" and not data.get("copy_of"):
            self.add_error("copy_of", _("Choose the procedure to copy."))
        if start == "upload":
            upload = data.get("upload")
            if upload is None:
                self.add_error("upload", _("Choose a YAML file."))
            elif upload.size > UPLOAD_MAX_BYTES:
                self.add_error("upload", _("The file is too large."))
            else:
                raw = upload.read()
                try:
                    data["upload_text"] = raw.decode("utf-8").removeprefix("\ufeff")
                except UnicodeDecodeError:
                    self.add_error("upload", _("The file is not UTF-8 text."))
                else:
                    if len(data["upload_text"]) > SOURCE_MAX_CHARS:
                        self.add_error("upload", _("The file is too large."))
        return data


class SourceForm(forms.Form):
    text = forms.CharField(
        label=_("Procedure file (YAML)"),
        max_length=SOURCE_MAX_CHARS,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "code"}),
    )


class ContactForm(forms.Form):
    contact_ja = forms.CharField(
        label=_("Contact (Japanese)"), required=False, max_length=1000, widget=forms.Textarea
    )
    contact_en = forms.CharField(
        label=_("Contact (English)"), required=False, max_length=1000, widget=forms.Textarea
    )


class DepartmentForm(forms.Form):
    slug = forms.CharField(label=_("Slug"), max_length=64, required=False)
    name_ja = forms.CharField(label=_("Name (Japanese)"), max_length=200, required=False)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    email = forms.EmailField(label=_("Notification address"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("slug") and not data.get("name_ja"):
            self.add_error("name_ja", _("A department needs a Japanese name."))
        if data.get("slug") and not SLUG_RE.match(data["slug"]):
            self.add_error("slug", _("Use 3 to 64 lower-case letters, digits and hyphens."))
        return data


DepartmentFormSet = forms.formset_factory(DepartmentForm, extra=1, max_num=100)


class InvitationForm(forms.Form):
    ROLE_CHOICES = [
        (StaffMembership.Role.REVIEWER, _("Reviewer")),
        (StaffMembership.Role.DEPARTMENT_ADMIN, _("Department admin")),
    ]
    username = forms.CharField(label=_("User name"), max_length=150)
    email = forms.EmailField(label=_("Email address"))
    full_name = forms.CharField(label=_("Name (family name first)"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    department = DepartmentNameField(label=_("Department"), queryset=Department.objects.none())

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.filter(organization_id=organization_id).order_by("slug")

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        User = get_user_model()
        if User.objects.filter(**{User.USERNAME_FIELD: username}).exists():
            raise forms.ValidationError(_("This user name is taken: choose another."))
        return username
