"""What the console does, one function per action. Publishing goes through the core's
`procedure_publish` (the content-hash rule of `procedures_load`); the console adds its own
records (drafts, who published) and nothing else."""

from __future__ import annotations

import difflib
import hashlib
import io
import zipfile
from dataclasses import dataclass
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from forms_engine import models as m
from forms_engine import services
from forms_engine.procedure_format.model import LoadError, OrganizationSpec, Text

from .models import ProcedureDraft, Publication

# The largest procedure file the console takes (the biggest sample is about 15 kB).
SOURCE_MAX_CHARS = 500_000


def text_hash(text: str) -> str:
    """The content hash the loader gives this text (sha256 of its UTF-8 bytes)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def source_clean(text: str) -> str:
    """The text as a file holds it: browsers post a textarea with CRLF line ends; a file
    ends with one newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n") + "\n" if text.strip() else ""


def blank_template(org: m.Organization) -> str:
    """A small valid procedure for the organization: a name and an e-mail address."""
    department = (
        m.Department.objects.filter(organization=org).order_by("pk").values_list("slug", flat=True)
    ).first() or "department-slug"
    return (
        "title: {ja: 新しい手続き, en: New procedure}\n"
        f"department: {department}\n"
        "description:\n"
        "  ja: この手続きの説明を書いてください。\n"
        "  en: Describe this procedure.\n"
        "contact_email: email\n"
        "pages:\n"
        "  - id: applicant\n"
        "    title: {ja: 申請者, en: Applicant}\n"
        "    fields:\n"
        "      - id: name\n"
        "        type: name\n"
        "        label: {ja: 氏名, en: Name}\n"
        "        required: true\n"
        "        kana: required\n"
        "      - id: email\n"
        "        type: email\n"
        "        label: {ja: メールアドレス, en: Email address}\n"
        "        required: true\n"
    )


def draft_create(
    org: m.Organization,
    user: Any,
    slug: str,
    text: str,
    base_version: m.ProcedureVersion | None = None,
) -> ProcedureDraft:
    now = timezone.now()
    return ProcedureDraft.objects.create(
        organization=org,
        slug=slug,
        text=source_clean(text),
        base_version=base_version,
        author=user,
        created_at=now,
        updated_at=now,
    )


def draft_save(draft: ProcedureDraft, text: str, user: Any) -> None:
    draft.text = source_clean(text)
    draft.author = user
    draft.updated_at = timezone.now()
    draft.save(update_fields=["text", "author", "updated_at"])


def draft_check(draft: ProcedureDraft) -> list[LoadError]:
    _spec, errors = services.procedure_source_check(draft.organization, draft.slug, draft.text)
    return errors


@dataclass(frozen=True)
class Published:
    version: m.ProcedureVersion
    changed: bool


def draft_publish(draft: ProcedureDraft, user: Any) -> Published:
    """Publish the draft's text (raises services.ProcedureSourceInvalid with every error).
    Unchanged text makes no new version and no history row."""
    with transaction.atomic():
        version, changed = services.procedure_publish(draft.organization, draft.slug, draft.text)
        if changed:
            Publication.objects.create(
                procedure=version.procedure,
                version=version,
                action=Publication.Action.PUBLISH,
                content_hash=version.content_hash,
                actor=user,
                actor_name=user.get_username(),
            )
    return Published(version, changed)


def procedure_republish(procedure: m.Procedure, user: Any) -> Published:
    """Publish the live version's text again (after an unpublish): the same version, and
    the procedure accepts filings again."""
    live = procedure.live_version
    assert live is not None
    with transaction.atomic():
        version, changed = services.procedure_publish(
            procedure.organization, procedure.slug, live.source
        )
        if changed:
            Publication.objects.create(
                procedure=procedure,
                version=version,
                action=Publication.Action.PUBLISH,
                content_hash=version.content_hash,
                actor=user,
                actor_name=user.get_username(),
            )
    return Published(version, changed)


def procedure_unpublish(procedure: m.Procedure, user: Any) -> bool:
    with transaction.atomic():
        changed = services.procedure_unpublish(procedure)
        if changed and procedure.live_version is not None:
            Publication.objects.create(
                procedure=procedure,
                version=procedure.live_version,
                action=Publication.Action.UNPUBLISH,
                content_hash=procedure.live_version.content_hash,
                actor=user,
                actor_name=user.get_username(),
            )
    return changed


def procedure_state(procedure: m.Procedure) -> str:
    """'published', 'closed' (unpublished) or 'draft' (no version yet)."""
    if procedure.live_version_id is None:
        return "draft"
    return "closed" if procedure.unpublished_at is not None else "published"


# ---- version history --------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "hunk", "ctx", "head"
    text: str


def version_diff(a: m.ProcedureVersion, b: m.ProcedureVersion) -> list[DiffLine]:
    """A unified diff of two versions' files, line by line (the template escapes it)."""
    lines = difflib.unified_diff(
        a.source.splitlines(),
        b.source.splitlines(),
        fromfile=f"v{a.number}",
        tofile=f"v{b.number}",
        lineterm="",
    )
    out = []
    for line in lines:
        if line.startswith(("+++", "---")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append(DiffLine(kind, line))
    return out


# ---- export -----------------------------------------------------------------------------


def export_zip(org: m.Organization) -> bytes:
    """The organization's folder as `load_procedures` reads it: organization.yaml, each
    procedure's live version as `<slug>.yaml` and each bundle's as `<slug>.bundle.yaml`,
    byte for byte the text that was loaded (so the content hashes match)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{org.slug}/organization.yaml", org.source.encode("utf-8"))
        procedures = m.Procedure.objects.filter(
            organization=org, live_version__isnull=False
        ).select_related("live_version")
        for procedure in procedures.order_by("slug"):
            assert procedure.live_version is not None
            archive.writestr(
                f"{org.slug}/{procedure.slug}.yaml", procedure.live_version.source.encode("utf-8")
            )
        bundles = m.Bundle.objects.filter(
            organization=org, live_version__isnull=False
        ).select_related("live_version")
        for bundle in bundles.order_by("slug"):
            assert bundle.live_version is not None
            archive.writestr(
                f"{org.slug}/{bundle.slug}.bundle.yaml",
                bundle.live_version.source.encode("utf-8"),
            )
    return buffer.getvalue()


# ---- organization settings --------------------------------------------------------------


@dataclass
class DepartmentRow:
    slug: str
    name_ja: str
    name_en: str
    email: str


def _text_value(ja: str, en: str) -> Any:
    return {"ja": ja, "en": en} if en else ja


def _text_parts(text: Text | None) -> tuple[str, str]:
    if text is None:
        return "", ""
    return text.values.get("ja", ""), text.values.get("en", "")


def organization_rows(spec: OrganizationSpec) -> tuple[tuple[str, str], list[DepartmentRow]]:
    contact = _text_parts(spec.contact)
    rows = [DepartmentRow(d.slug, *_text_parts(d.name), d.email or "") for d in spec.departments]
    return contact, rows


def organization_yaml(
    spec: OrganizationSpec, contact_ja: str, contact_en: str, departments: list[DepartmentRow]
) -> str:
    """organization.yaml with the console's settings: the name and payment account stay as
    the file has them."""
    data: dict[str, Any] = {"name": _text_value(*_text_parts(spec.name))}
    if contact_ja or contact_en:
        data["contact"] = _text_value(contact_ja, contact_en)
    if spec.payment_account:
        data["payment_account"] = spec.payment_account
    data["departments"] = [
        {
            "slug": d.slug,
            "name": _text_value(d.name_ja, d.name_en),
            **({"email": d.email} if d.email else {}),
        }
        for d in departments
    ]
    dumped: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    return dumped


def organization_settings_save(
    org: m.Organization, contact_ja: str, contact_en: str, departments: list[DepartmentRow]
) -> list[LoadError]:
    """Write the settings as the organization's organization.yaml (checked as a load checks
    it); every error, or [] when saved."""
    spec = services.organization_spec(org)
    if spec is None:
        return [
            LoadError(f"{org.slug}/organization.yaml", 1, "(file)", "the stored file has errors")
        ]
    source = organization_yaml(spec, contact_ja, contact_en, departments)
    return services.organization_source_save(org, source)
