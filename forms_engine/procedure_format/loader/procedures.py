"""A procedure file: its top-level keys, checked section by section into a ProcedureSpec."""

from __future__ import annotations

from collections.abc import Iterable

from forms_engine.procedure_format.model import (
    AcceptingSpec,
    LoadError,
    OrganizationSpec,
    PageSpec,
    ProcedureSpec,
)

from .accepting import accepting_of
from .checks import TRUSTED, SourceTrust, quote_list, read_yaml, suggest
from .conditions import check_conditions
from .fees import fee_of
from .integrations import integrations_of, known_integration_types
from .pages import ProcedureCheck
from .references import check_fills, contact_email_of
from .rush import rush_of

PROCEDURE_KEYS = (
    "title",
    "department",
    "description",
    "login",
    "accepting",
    "contact_email",
    "pages",
    "fee",
    "integrations",
    "retention_days",
    "attachments_total_max",
    "rush",
)
LOGIN_CHOICES = ("none", "optional", "required")


def parse_procedure(
    text: str | bytes,
    *,
    organization: OrganizationSpec | None,
    org_slug: str,
    slug: str,
    rel_path: str,
    integration_types: Iterable[str] | None = None,
    trust: SourceTrust = TRUSTED,
) -> tuple[ProcedureSpec | None, list[LoadError]]:
    """Check one procedure file. `organization` None skips the department check (used to
    rebuild an old version from its stored source). `trust`: where the text comes from
    (the operator's procedures tree by default; the console passes
    `SourceTrust.console(org_slug)`)."""
    check, data, content_hash, errors = read_yaml(text, rel_path)
    if check is None:
        return None, errors
    if data is None:
        return None, check.result()
    c = check
    p = ProcedureCheck(
        check,
        known_integration_types(None if integration_types is None else tuple(integration_types)),
        trust,
    )
    c.check_keys(data, (), PROCEDURE_KEYS, ("title", "department", "contact_email", "pages"))

    title = c.text(data["title"], ("title",)) if "title" in data else None
    description = c.text(data["description"], ("description",)) if "description" in data else None
    department = None
    if "department" in data:
        department = c.string(data["department"], ("department",), "a department slug")
        if department is not None and organization is not None:
            known = [d.slug for d in organization.departments]
            if department not in known:
                c.error(
                    ("department",),
                    f"unknown department {department!r}{suggest(department, known)}; "
                    f"departments of {organization.slug}: {quote_list(known)}",
                )
                department = None
    login = "none"
    if "login" in data:
        login = c.choice(data["login"], ("login",), LOGIN_CHOICES) or login
    accepting = accepting_of(c, data["accepting"]) if "accepting" in data else AcceptingSpec()
    retention_days = 1825
    if "retention_days" in data:
        retention_days = (
            c.integer(data["retention_days"], ("retention_days",), minimum=1) or retention_days
        )
    attachments_total_max = None
    if "attachments_total_max" in data:
        attachments_total_max = c.size(data["attachments_total_max"], ("attachments_total_max",))

    rush = rush_of(c, data["rush"]) if "rush" in data else None

    if "pages" in data:
        p.pages_of(data["pages"])
    contact_email = contact_email_of(p, data["contact_email"]) if "contact_email" in data else None
    check_conditions(p)
    check_fills(p)
    fee = fee_of(p, data["fee"]) if "fee" in data else None
    integrations = integrations_of(p, data["integrations"]) if "integrations" in data else ()

    if c.errors or None in (title, department, contact_email):
        return None, c.result()
    pages = tuple(
        PageSpec(
            id=page.id or "",
            title=page.title,  # type: ignore[arg-type]
            line=page.line,
            fields=tuple(f.build() for f in page.fields),
            show_if=page.show_if,
        )
        for page in p.pages
    )
    return (
        ProcedureSpec(
            organization=org_slug,
            slug=slug,
            title=title,  # type: ignore[arg-type]
            department=department,  # type: ignore[arg-type]
            contact_email=contact_email,  # type: ignore[arg-type]
            pages=pages,
            source_path=rel_path,
            content_hash=content_hash,
            description=description,
            login=login,
            accepting=accepting,
            fee=fee,
            integrations=integrations,
            retention_days=retention_days,
            attachments_total_max=attachments_total_max,
            rush=rush,
        ),
        [],
    )
