"""Procedures: loading the YAML tree into versions, the parsed spec of a stored version,
and whether a procedure accepts filings now."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from forms_engine import models as m
from forms_engine.procedure_format import loader
from forms_engine.procedure_format.loader.checks import FILE_PATH, read_yaml
from forms_engine.procedure_format.loader.organizations import ORGANIZATION_FILE, SLUG_RE
from forms_engine.procedure_format.model import LoadError, OrganizationSpec, ProcedureSpec


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
            source = (Path(root) / spec.source_path).read_text(encoding="utf-8")
            created = _procedure_version_upsert(org, spec, source)
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
    start_rows_forget()
    return report


def _next_number(versions) -> int:
    """The number of the next version in a procedure's or bundle's history."""
    last = versions.order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def _organization_upsert(spec: OrganizationSpec, root: Path) -> m.Organization:
    source = (root / spec.source_path).read_text(encoding="utf-8")
    return _organization_source_upsert(spec, source)


def _organization_source_upsert(spec: OrganizationSpec, source: str) -> m.Organization:
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


def _procedure_version_upsert(org: m.Organization, spec: ProcedureSpec, source: str) -> bool:
    """Make `spec` (parsed from `source`) the live version: the version with the same
    content hash if there is one (unchanged text never makes a new version), else a new
    one. True when the live version changed."""
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
        source=source,
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


class StartRow(NamedTuple):
    procedure_id: int
    unpublished_at: datetime | None
    filed_count: int
    version_id: int
    content_hash: str


# What a newcomer's start page (forms_engine/views/start.py) depends on that changes while
# a version is live: which version is live, the procedure's unpublished mark and its filing
# count (its state). One row read with a fixed statement (building the ORM query for the
# view's full rows cost the app more CPU than the rest of the view), kept START_ROW_SECONDS
# in each process: at the 9:00 rush a worker reads it about once a second, not once per
# arrival. The services that change it in this process forget it at once; other workers
# see the change within that second. Starting a filing (the POST) always reads the
# database, so a page a second late never lets a filing start that should not.
START_ROW_SECONDS = 1.0
_START_ROWS_MAX = 1024
_START_ROWS: dict[tuple[str, str], tuple[float, StartRow | None]] = {}
_START_SQL: list[str] = []


def _start_sql() -> str:
    if not _START_SQL:
        from django.db import connection

        q = connection.ops.quote_name
        proc, org, ver = m.Procedure._meta, m.Organization._meta, m.ProcedureVersion._meta

        def col(meta: Any, name: str) -> str:
            return q(meta.get_field(name).column)

        _START_SQL.append(
            f"SELECT p.{col(proc, 'id')}, p.{col(proc, 'unpublished_at')}, "
            f"p.{col(proc, 'filed_count')}, v.{col(ver, 'id')}, v.{col(ver, 'content_hash')} "
            f"FROM {q(proc.db_table)} p "
            f"JOIN {q(org.db_table)} o ON o.{col(org, 'id')} = p.{col(proc, 'organization')} "
            f"JOIN {q(ver.db_table)} v ON v.{col(ver, 'id')} = p.{col(proc, 'live_version')} "
            f"WHERE o.{col(org, 'slug')} = %s AND p.{col(proc, 'slug')} = %s"
        )
    return _START_SQL[0]


def start_row(org: str, slug: str) -> StartRow | None:
    """The live procedure `org/slug` as its start page needs it (None: no live version),
    at most START_ROW_SECONDS old."""
    from django.db import connection

    now = time.monotonic()
    kept = _START_ROWS.get((org, slug))
    if kept is not None and kept[0] > now:
        return kept[1]
    with connection.cursor() as cursor:
        cursor.execute(_start_sql(), [org, slug])
        found = cursor.fetchone()
    row = StartRow(*found) if found is not None else None
    if len(_START_ROWS) >= _START_ROWS_MAX:
        _START_ROWS.clear()  # bounded: a script asking for made-up slugs
    _START_ROWS[(org, slug)] = (now + START_ROW_SECONDS, row)
    return row


def start_rows_forget() -> None:
    _START_ROWS.clear()


def cached_version_spec(version_id: int, content_hash: str) -> ProcedureSpec | None:
    """The parsed spec of a version if this process has parsed it already, else None."""
    return _SPEC_CACHE.get((version_id, content_hash))


def version_spec_cache_clear() -> None:
    _SPEC_CACHE.clear()
    start_rows_forget()


def procedure_acceptance(spec: ProcedureSpec, procedure: m.Procedure | None = None) -> str:
    """'open', 'unpublished' (taken down by its organization), 'not_open' (before opens),
    'closed' (after closes) or 'full' (capacity)."""
    if procedure is not None and procedure.unpublished_at is not None:
        return "unpublished"
    now = timezone.now()
    acc = spec.accepting
    if acc.opens and now < acc.opens:
        return "not_open"
    if acc.closes and now >= acc.closes:
        return "closed"
    if acc.capacity is not None and procedure is not None and procedure.filed_count >= acc.capacity:
        return "full"
    return "open"


# ---- publishing from text (the staff console) ------------------------------------------


class ProcedureSourceInvalid(Exception):
    """The text has errors: it may be kept as a draft, never published."""

    def __init__(self, errors: list[LoadError]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


def organization_spec(org: m.Organization) -> OrganizationSpec | None:
    """The organization's stored organization.yaml, parsed (None if it no longer parses)."""
    spec, _errors = loader.parse_organization(
        org.source, slug=org.slug, rel_path=f"{org.slug}/{ORGANIZATION_FILE}"
    )
    return spec


def procedure_source_check(
    org: m.Organization, slug: str, source: str
) -> tuple[ProcedureSpec | None, list[LoadError]]:
    """Check a procedure file's text as `validate_procedures` checks
    `<org>/<slug>.yaml` next to the organization's stored organization.yaml: the same
    errors, in the same words, with the same file, line and key path.

    The text comes from the console, so it is untrusted (`SourceTrust.console`): its
    `env:NAME` references must be the organization's own (`ORG_<SLUG>_*`) and the
    integration types refuse literal destinations; an `integrations:` entry identical to
    one of the live version's is accepted as already trusted (see `_live_integrations`)."""
    rel = f"{org.slug}/{slug}.yaml"
    errors: list[LoadError] = []
    organization = organization_spec(org)
    if organization is None:
        errors.append(
            LoadError(rel, 1, FILE_PATH, f"not loaded: {org.slug}/{ORGANIZATION_FILE} has errors")
        )
    if not SLUG_RE.match(slug):
        errors.append(
            LoadError(
                rel,
                1,
                FILE_PATH,
                f"file name {slug!r} is not a valid slug: use 3 to 64 lower-case ASCII "
                "letters, digits and hyphens",
            )
        )
    spec, parse_errors = loader.parse_procedure(
        source.encode("utf-8", "surrogatepass"),
        organization=organization,
        org_slug=org.slug,
        slug=slug,
        rel_path=rel,
        trust=loader.SourceTrust.console(org.slug, _live_integrations(org, slug)),
    )
    errors.extend(parse_errors)
    return (spec if not errors else None), errors


def _live_integrations(org: m.Organization, slug: str) -> list[Any]:
    """The `integrations:` entries of the procedure's live version, as written: the
    operator loaded them (or the console accepted them), so publishing them again
    unchanged from the console stays possible even with names outside `ORG_<SLUG>_*`."""
    procedure = (
        m.Procedure.objects.filter(organization=org, slug=slug)
        .select_related("live_version")
        .first()
    )
    if procedure is None or procedure.live_version is None:
        return []
    _check, data, _hash, _errors = read_yaml(
        procedure.live_version.source.encode("utf-8", "surrogatepass"), f"{org.slug}/{slug}.yaml"
    )
    entries = data.get("integrations") if isinstance(data, dict) else None
    return list(entries) if isinstance(entries, list) else []


def procedure_publish(
    org: m.Organization, slug: str, source: str
) -> tuple[m.ProcedureVersion, bool]:
    """Publish a procedure file's text: the same rule as `procedures_load` (a new version
    only when the content hash is new; an earlier content becomes live again) and the
    procedure accepts filings again. Raises ProcedureSourceInvalid with every error.
    Returns (the live version, whether it changed)."""
    spec, errors = procedure_source_check(org, slug, source)
    if spec is None:
        raise ProcedureSourceInvalid(errors)
    with transaction.atomic():
        m.Organization.objects.select_for_update().get(pk=org.pk)
        changed = _procedure_version_upsert(org, spec, source)
        procedure = m.Procedure.objects.select_related("live_version").get(
            organization=org, slug=slug
        )
        if procedure.unpublished_at is not None:
            procedure.unpublished_at = None
            procedure.save(update_fields=["unpublished_at"])
            changed = True
    start_rows_forget()
    assert procedure.live_version is not None
    return procedure.live_version, changed


def procedure_unpublish(procedure: m.Procedure) -> bool:
    """Stop new filings of a procedure; its drafts in progress can no longer be submitted
    (their pages say so). False when it was unpublished already."""
    updated = m.Procedure.objects.filter(pk=procedure.pk, unpublished_at__isnull=True).update(
        unpublished_at=timezone.now()
    )
    procedure.refresh_from_db(fields=["unpublished_at"])
    start_rows_forget()
    return bool(updated)


def organization_source_save(org: m.Organization, source: str) -> list[LoadError]:
    """Replace the organization's organization.yaml with `source` (its departments are
    updated; a department no longer listed stays, as a load leaves it). Every error, or
    [] when saved."""
    spec, errors = loader.parse_organization(
        source.encode("utf-8", "surrogatepass"),
        slug=org.slug,
        rel_path=f"{org.slug}/{ORGANIZATION_FILE}",
    )
    if spec is None or errors:
        return errors
    with transaction.atomic():
        _organization_source_upsert(spec, source)
    org.refresh_from_db()
    return []
