"""Procedures: loading the YAML tree into versions, the parsed spec of a stored version,
and whether a procedure accepts filings now."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from forms_engine import models as m
from forms_engine.procedure_format import loader
from forms_engine.procedure_format.model import OrganizationSpec, ProcedureSpec


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def procedures_load(root: Path | str) -> LoadReport:
    """Load a procedures tree into the database. A changed file becomes a new version; an
    unchanged one is left alone; a broken one never replaces the live version."""
    tree = loader.load_tree(Path(root))
    report = LoadReport(errors=[str(e) for e in tree.errors])
    with transaction.atomic():
        orgs: dict[str, m.Organization] = {}
        for slug, ospec in tree.organizations.items():
            orgs[slug] = _organization_upsert(ospec, Path(root))
        for (org_slug, slug), spec in sorted(tree.procedures.items()):
            org = orgs[org_slug]
            created = _procedure_version_upsert(org, spec, Path(root))
            (report.created if created else report.unchanged).append(f"{org_slug}/{slug}")
        for (org_slug, slug), bspec in sorted(tree.bundles.items()):
            bundle, _c = m.Bundle.objects.get_or_create(organization=orgs[org_slug], slug=slug)
            live = bundle.live_version
            if live and live.content_hash == bspec.content_hash:
                report.unchanged.append(f"{org_slug}/{slug}.bundle")
                continue
            version = bundle.versions.filter(content_hash=bspec.content_hash).first()
            if version is None:  # else: a file changed back to an earlier content
                version = m.BundleVersion.objects.create(
                    bundle=bundle,
                    number=_next_number(bundle.versions),
                    content_hash=bspec.content_hash,
                    source=(Path(root) / bspec.source_path).read_text(encoding="utf-8"),
                    title=dict(bspec.title.values),
                    description=dict(bspec.description.values) if bspec.description else None,
                    procedure_slugs=list(bspec.procedures),
                )
            bundle.live_version = version
            bundle.save(update_fields=["live_version"])
            report.created.append(f"{org_slug}/{slug}.bundle")
    # Every worker reads the new `rush:` (waiting room) at once, not after its cache expires.
    from forms_engine.rush.config import bundle_key, procedure_key, rush_config_forget

    rush_config_forget(
        [procedure_key(o, s) for o, s in tree.procedures]
        + [bundle_key(o, s) for o, s in tree.bundles]
    )
    return report


def _next_number(versions) -> int:
    """The number of the next version in a procedure's or bundle's history."""
    last = versions.order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def _organization_upsert(spec: OrganizationSpec, root: Path) -> m.Organization:
    source = (root / spec.source_path).read_text(encoding="utf-8")
    org, _c = m.Organization.objects.update_or_create(
        slug=spec.slug,
        defaults={
            "name": dict(spec.name.values),
            "contact": dict(spec.contact.values) if spec.contact else None,
            "payment_account": spec.payment_account or "",
            "content_hash": spec.content_hash,
            "source": source,
        },
    )
    for dspec in spec.departments:
        m.Department.objects.update_or_create(
            organization=org,
            slug=dspec.slug,
            defaults={"name": dict(dspec.name.values), "email": dspec.email or ""},
        )
    return org


def _procedure_version_upsert(org: m.Organization, spec: ProcedureSpec, root: Path) -> bool:
    procedure, _c = m.Procedure.objects.get_or_create(organization=org, slug=spec.slug)
    existing = procedure.versions.filter(content_hash=spec.content_hash).first()
    if existing:
        if procedure.live_version_id != existing.pk:
            procedure.live_version = existing
            procedure.save(update_fields=["live_version"])
            return True
        return False
    version = m.ProcedureVersion.objects.create(
        procedure=procedure,
        number=_next_number(procedure.versions),
        content_hash=spec.content_hash,
        source=(root / spec.source_path).read_text(encoding="utf-8"),
        rel_path=f"{org.slug}/{spec.slug}.yaml",
        title=dict(spec.title.values),
        department=m.Department.objects.get(organization=org, slug=spec.department),
        rush=dataclasses.asdict(spec.rush) if spec.rush else None,
    )
    procedure.live_version = version
    procedure.save(update_fields=["live_version"])
    return True


_SPEC_CACHE: dict[tuple[int, str], ProcedureSpec] = {}


def version_spec(version: m.ProcedureVersion) -> ProcedureSpec:
    """The parsed spec of a stored version (parsed once per process: versions never change)."""
    # Keyed by content too: a rolled-back test database may hand out the same id again.
    key = (version.pk, version.content_hash)
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        spec, errors = loader.parse_procedure(
            version.source,
            organization=None,
            org_slug=version.procedure.organization.slug,
            slug=version.procedure.slug,
            rel_path=version.rel_path,
        )
        if spec is None:  # pragma: no cover - a stored version loaded cleanly once
            raise RuntimeError(f"stored version {version.pk} no longer parses: {errors[:3]}")
        _SPEC_CACHE[key] = spec
    return spec


def version_spec_cache_clear() -> None:
    _SPEC_CACHE.clear()


def procedure_acceptance(spec: ProcedureSpec, procedure: m.Procedure | None = None) -> str:
    """'open', 'not_open' (before opens), 'closed' (after closes) or 'full' (capacity)."""
    now = timezone.now()
    acc = spec.accepting
    if acc.opens and now < acc.opens:
        return "not_open"
    if acc.closes and now >= acc.closes:
        return "closed"
    if acc.capacity is not None and procedure is not None and procedure.filed_count >= acc.capacity:
        return "full"
    return "open"
