"""organization.yaml: the organization's name, contact and departments."""

from __future__ import annotations

import re

from forms_engine.procedure_format.model import DepartmentSpec, LoadError, OrganizationSpec
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .checks import EMAIL_RE, read_yaml

ORGANIZATION_FILE = "organization.yaml"
ORGANIZATION_KEYS = ("name", "departments", "contact", "payment_account")
DEPARTMENT_KEYS = ("slug", "name", "email")
SLUG_RE = re.compile(r"^[a-z0-9-]{3,64}$")


def parse_organization(
    text: str | bytes, *, slug: str, rel_path: str
) -> tuple[OrganizationSpec | None, list[LoadError]]:
    check, data, content_hash, errors = read_yaml(text, rel_path)
    if check is None:
        return None, errors
    if data is None:
        return None, check.result()
    check.check_keys(data, (), ORGANIZATION_KEYS, ("name", "departments"))
    name = check.text(data["name"], ("name",)) if "name" in data else None
    contact = check.text(data["contact"], ("contact",)) if "contact" in data else None
    payment_account = None
    if "payment_account" in data:
        payment_account = check.string(data["payment_account"], ("payment_account",), "a name")
    departments: list[DepartmentSpec] = []
    if "departments" in data:
        seen: dict[str, int] = {}
        entries = check.sequence(data["departments"], ("departments",), "departments")
        for index, entry in enumerate(entries):
            path: KeyPath = ("departments", index)
            entry = check.mapping(entry, path, "a mapping {slug, name, email}")
            if entry is None:
                continue
            check.check_keys(entry, path, DEPARTMENT_KEYS, ("slug", "name"))
            dept_slug = None
            if "slug" in entry:
                dept_slug = check.string(entry["slug"], path + ("slug",), "a slug")
                if dept_slug is not None and not SLUG_RE.match(dept_slug):
                    check.error(
                        path + ("slug",),
                        f"{dept_slug!r} is not a slug: use 3 to 64 lower-case letters, "
                        "digits and hyphens",
                    )
                    dept_slug = None
                elif dept_slug is not None and dept_slug in seen:
                    check.error(
                        path + ("slug",),
                        f"duplicate department {dept_slug!r} (first on line {seen[dept_slug]})",
                    )
                    dept_slug = None
                elif dept_slug is not None:
                    seen[dept_slug] = check.doc.line(path + ("slug",))
            dept_name = check.text(entry["name"], path + ("name",)) if "name" in entry else None
            email = None
            if "email" in entry:
                email = check.string(entry["email"], path + ("email",), "an email address")
                if email is not None and not EMAIL_RE.match(email):
                    check.error(path + ("email",), f"{email!r} is not an email address")
                    email = None
            if dept_slug and dept_name:
                departments.append(DepartmentSpec(dept_slug, dept_name, email))
    if check.errors or name is None:
        return None, check.result()
    return (
        OrganizationSpec(
            slug=slug,
            name=name,
            departments=tuple(departments),
            source_path=rel_path,
            content_hash=content_hash,
            contact=contact,
            payment_account=payment_account,
        ),
        [],
    )
