"""Every state change of the forms engine: one function per action (`<entity>_<action>`).

Views, commands and tasks stay thin and call these. Each submission state change writes
an OutboxEvent in the same transaction, so consumers never miss or invent one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from . import filekinds, normalize
from . import models as m
from .fields import FieldInvalid
from .filing import FEE_LIMIT, FilingView, fee_lines
from .procedure_format import loader
from .procedure_format.model import FieldSpec, OrganizationSpec, ProcedureSpec

log = logging.getLogger(__name__)

# Receipt numbers avoid characters that are easy to confuse when read aloud or copied
# from paper (0/O/Q/D, 1/I/L, 2/Z, 5/S, 8/B, U/V, G/6).
RECEIPT_ALPHABET = "ACEFHJKMNPRTWXY34679"


class FilingError(Exception):
    """A filing cannot go on; `code` says why (closed, full, not_open, ...)."""

    def __init__(self, code: str, message: str = "", step_key: str = ""):
        self.code = code
        self.step_key = step_key  # for "incomplete": the page to show ("0.owner")
        super().__init__(message or code)


# ---- procedures -------------------------------------------------------------------------


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _integration_types() -> tuple[str, ...]:
    return tuple(settings.INTEGRATION_TARGETS)


def procedures_load(root: Path | str) -> LoadReport:
    """Load a procedures tree into the database. A changed file becomes a new version; an
    unchanged one is left alone; a broken one never replaces the live version."""
    tree = loader.load_tree(Path(root), integration_types=_integration_types())
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
            integration_types=_integration_types(),
        )
        if spec is None:  # pragma: no cover - a stored version loaded cleanly once
            raise RuntimeError(f"stored version {version.pk} no longer parses: {errors[:3]}")
        _SPEC_CACHE[key] = spec
    return spec


# ---- acceptance window and capacity -----------------------------------------------------


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


# ---- drafts -----------------------------------------------------------------------------


def draft_start(
    versions: list[m.ProcedureVersion],
    *,
    bundle_version: m.BundleVersion | None = None,
    resident: m.Resident | None = None,
) -> m.Draft:
    for version in versions:
        state = procedure_acceptance(version_spec(version), version.procedure)
        if state != "open":
            raise FilingError(state)
    with transaction.atomic():
        draft = m.Draft.objects.create(
            organization=versions[0].procedure.organization,
            bundle_version=bundle_version,
            resident=resident,
            version_ids=[v.pk for v in versions],
        )
        m.DraftVersion.objects.bulk_create(
            [m.DraftVersion(draft=draft, version=v, position=i) for i, v in enumerate(versions)]
        )
        if resident is not None:
            draft_prefill(draft, resident)
    return draft


_VERSION_CACHE: dict[int, m.ProcedureVersion] = {}


def procedure_version_get(pk: int) -> m.ProcedureVersion:
    """A procedure version, loaded once per process: versions never change once loaded.
    Read only its own fields through it (ids, source, title): the related procedure's
    live version and count are mutable and must be read fresh."""
    version = _VERSION_CACHE.get(pk)
    if version is None:
        version = m.ProcedureVersion.objects.select_related(
            "procedure__organization", "department"
        ).get(pk=pk)
        _VERSION_CACHE[pk] = version
    return version


_ORGANIZATION_CACHE: dict[int, tuple[float, m.Organization]] = {}
ORGANIZATION_CACHE_SECONDS = 60


def organization_get(pk: int) -> m.Organization:
    """An organization for page chrome (name, footer contact), cached for a minute per
    process: a reloaded organization.yaml shows within that minute on every worker."""
    now = time.monotonic()
    hit = _ORGANIZATION_CACHE.get(pk)
    if hit is None or now - hit[0] > ORGANIZATION_CACHE_SECONDS:
        hit = (now, m.Organization.objects.defer("source").get(pk=pk))
        _ORGANIZATION_CACHE[pk] = hit
    return hit[1]


def caches_clear() -> None:
    """Forget the per-process caches (tests: a rolled-back database reuses ids)."""
    _VERSION_CACHE.clear()
    _SPEC_CACHE.clear()
    _ORGANIZATION_CACHE.clear()


def draft_versions(draft: m.Draft) -> list[m.ProcedureVersion]:
    """The versions a draft is pinned to, in order."""
    return [procedure_version_get(pk) for pk in draft.version_ids]


def draft_view(draft: m.Draft) -> FilingView:
    specs = [version_spec(v) for v in draft_versions(draft)]
    return FilingView(specs=specs, answers=draft.answers)


def draft_prefill(draft: m.Draft, resident: m.Resident) -> None:
    """Once-only: fields with a `profile` key that are not answered yet start from the
    resident's saved profile. Runs when a filing starts signed in, and at sign-in."""
    profile = resident.profile or {}
    view = draft_view(draft)
    for position, spec in enumerate(view.specs):
        answers = view.answers_of(position)
        for f in spec.iter_fields(include_group_children=False):
            if f.profile and f.profile in profile and f.id not in answers:
                answers[f.id] = profile[f.profile]
    draft.resident = resident
    draft.save(update_fields=["answers", "resident"])


def _draft_lock_open(draft: m.Draft, *fields: str) -> m.Draft | None:
    """The draft re-read under its row lock (inside a transaction), or None once it is
    submitted: a late save must not write into a completed filing."""
    locked = m.Draft.objects.select_for_update().only("status", *fields).get(pk=draft.pk)
    return locked if locked.status == m.Draft.Status.OPEN else None


def draft_save_page(
    draft: m.Draft, step_key: str, position: int, values: dict[str, Any], page_field_ids: list[str]
) -> None:
    """Store the cleaned answers of one page: fields of the page not in `values` (hidden
    ones) are removed, so a hidden answer is never kept. The draft is re-read under its
    lock, so two tabs saving different pages do not overwrite each other."""
    with transaction.atomic():
        locked = _draft_lock_open(draft, "answers", "pending")
        if locked is None:
            return
        answers = locked.answers.setdefault(str(position), {})
        for fid in page_field_ids:
            if fid in values and values[fid] is not None:
                answers[fid] = values[fid]
            else:
                answers.pop(fid, None)
        locked.pending.pop(step_key, None)
        now = timezone.now()
        m.Draft.objects.filter(pk=draft.pk).update(
            answers=locked.answers, pending=locked.pending, updated_at=now
        )
    draft.answers, draft.pending, draft.updated_at = locked.answers, locked.pending, now


def draft_save_pending(
    draft: m.Draft, step_key: str, raw: dict[str, Any], *, unless_changed_since: str = ""
) -> None:
    """Keep what was typed on a page that is not valid yet (Back, save for later, add an
    entry): nothing typed is lost. `unless_changed_since` (the draft's `updated_at` when
    the page was shown) makes it a no-op if anything was saved since: the browser's
    keep-on-leave must not bring back older typing over a newer save from another tab."""
    with transaction.atomic():
        locked = _draft_lock_open(draft, "pending", "updated_at")
        if locked is None:
            return
        if unless_changed_since and locked.updated_at.isoformat() != unless_changed_since:
            return
        locked.pending[step_key] = _jsonable(raw)
        now = timezone.now()
        m.Draft.objects.filter(pk=draft.pk).update(pending=locked.pending, updated_at=now)
    draft.pending, draft.updated_at = locked.pending, now


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        # A file input's raw value is {"kept": [...], "new": [uploads]}: the uploads are
        # stored already (kept), the file objects themselves cannot be kept.
        is_file = "kept" in value
        return {
            k: _jsonable(v) for k, v in value.items() if not (is_file and k in ("new", "refused"))
        }
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return None


def attachment_store(draft: m.Draft, position: int, f: FieldSpec, upload) -> dict:
    """Store one uploaded file of a draft, checked by size and by content (not by name);
    returns the file value kept in the answers. First cut: through the server into the
    default storage; the direct-to-storage issue replaces the transport, not this shape."""
    max_size = f.param("max_size", 10 * 1024 * 1024)
    if upload.size > max_size:
        raise FieldInvalid(
            _("%(name)s is larger than %(size)s.")
            % {"name": upload.name, "size": filekinds.format_size(max_size)}
        )
    if upload.size == 0:
        raise FieldInvalid(_("%(name)s is empty.") % {"name": upload.name})
    head = upload.read(8192)
    upload.seek(0)
    zip_names = None
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(upload) as zf:
                infos = zf.infolist()
                if len(infos) > 10_000:  # a listing that large is a zip bomb, not a document
                    raise zipfile.BadZipFile("too many entries")
                zip_names = [i.filename for i in infos]
        except zipfile.BadZipFile:
            raise FieldInvalid(
                _("%(name)s is damaged and cannot be opened.") % {"name": upload.name}
            ) from None
        finally:
            upload.seek(0)
    kind = normalize.sniff_file_kind(head, upload.name, zip_names)
    accept = f.param("accept") or ()
    if kind is None or (accept and not normalize.file_matches_accept(kind, accept)):
        raise FieldInvalid(
            _("%(name)s is not one of the accepted file types (%(kinds)s).")
            % {"name": upload.name, "kinds": ", ".join(k.upper() for k in accept) or "-"}
        )
    total_max = version_spec(draft_versions(draft)[position]).attachments_total_max
    if total_max:
        used = sum(a.size for a in draft.attachments.filter(field_key__startswith=f"{position}."))
        if used + upload.size > total_max:
            raise FieldInvalid(
                _("The files of this application may be %(size)s in all.")
                % {"size": filekinds.format_size(total_max)}
            )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = m.Attachment(
        draft=draft,
        field_key=f"{position}.{f.id}",
        original_name=upload.name[:255],
        size=upload.size,
        kind=kind,
        content_type=filekinds.CONTENT_TYPES.get(kind, "application/octet-stream"),
        sha256=digest.hexdigest(),
    )
    attachment.file.save(str(attachment.id), upload, save=False)
    attachment.save()
    return {
        "id": str(attachment.id),
        "name": attachment.original_name,
        "size": attachment.size,
        "content_type": attachment.content_type,
    }


def attachment_remove(draft: m.Draft, attachment_id: str) -> None:
    """Remove a file the resident took back, wherever it is in the answers (a file field
    or a file field of a group entry), and from storage."""
    try:
        attachment_id = str(uuid.UUID(str(attachment_id)))
    except ValueError:
        return
    with transaction.atomic():
        locked = m.Draft.objects.select_for_update().get(pk=draft.pk)
        locked.answers = _without_file(locked.answers, attachment_id)
        locked.save(update_fields=["answers"])
        draft.answers = locked.answers
        attachment = m.Attachment.objects.filter(
            draft=draft, pk=attachment_id, submission__isnull=True
        ).first()
        if attachment:
            attachment.delete()
            transaction.on_commit(lambda: attachment.file.delete(save=False))


def _without_file(value: Any, attachment_id: str) -> Any:
    if isinstance(value, dict):
        return {k: _without_file(v, attachment_id) for k, v in value.items()}
    if isinstance(value, list):
        return [
            _without_file(v, attachment_id)
            for v in value
            if not (isinstance(v, dict) and v.get("id") == attachment_id and "size" in v)
        ]
    return value


# ---- receipts and completion ------------------------------------------------------------


def _random_code(length: int) -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(length))


def receipt_format(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def status_code_hash(code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"status:" + code.encode(), hashlib.sha256).hexdigest()


def receipt_normalize(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in text if ch in RECEIPT_ALPHABET)


@dataclass
class Completion:
    receipt: m.Receipt
    status_code: str | None  # shown once; None when this call found the filing already done
    submissions: list[m.Submission]


def submission_complete(
    draft_id, *, save_to_profile: bool = False, language: str = "ja"
) -> Completion:
    """Complete a draft: one receipt, one submission per procedure, each with an outbox
    event, all in one transaction. Idempotent: a double tap returns the first result."""
    for attempt in range(3):
        try:
            return _complete(draft_id, save_to_profile, language)
        except IntegrityError:
            # A receipt number already taken (one in 20^12): the whole transaction rolled
            # back, so drawing a new number and trying again files exactly once.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _complete(draft_id, save_to_profile: bool, language: str) -> Completion:
    with transaction.atomic():
        draft = m.Draft.objects.select_for_update().get(pk=draft_id)
        if draft.status == m.Draft.Status.SUBMITTED:
            receipt = draft.receipt
            return Completion(receipt, None, list(receipt.submissions.order_by("number")))
        versions = draft_versions(draft)
        view = draft_view(draft)
        view.apply_shared()
        problems = view_problems(view)
        if problems:
            raise FilingError("incomplete", problems[0], step_key=problems[0].split(":")[0])
        _acceptance_claim(versions)

        number = _receipt_number()
        status_code = status_code_for(number)
        receipt = m.Receipt.objects.create(
            number=number,
            status_code_hash=status_code_hash(status_code),
            bundle_version_id=draft.bundle_version_id,
            language=language,
        )
        submissions = []
        file_ids: list[str] = []
        for position, version in enumerate(versions):
            spec = version_spec(version)
            answers = view.visible_answers(position)
            lines = fee_lines(spec, answers, "ja")
            total = sum(line["subtotal"] for line in lines)
            if total > FEE_LIMIT:
                raise FilingError("fee_invalid")
            awaiting = spec.fee is not None and spec.fee.timing == "before_review" and total > 0
            status = (
                m.Submission.Status.AWAITING_PAYMENT if awaiting else m.Submission.Status.SUBMITTED
            )
            number = receipt.number if len(versions) == 1 else f"{receipt.number}-{position + 1}"
            sub = m.Submission.objects.create(
                receipt=receipt,
                number=number,
                draft=draft,
                organization_id=version.procedure.organization_id,
                department_id=version.department_id,
                procedure_id=version.procedure_id,
                procedure_version_id=version.pk,
                status=status,
                answers=answers,
                contact_email=answers.get(spec.contact_email, ""),
                fee_total=total,
                fee_lines=lines,
            )
            # Only files that are part of the answers go with the submission: a file
            # uploaded for a field that later became hidden is dropped with its answer.
            ids = _file_ids(spec, answers)
            if ids:
                m.Attachment.objects.filter(draft=draft, pk__in=ids).update(submission=sub)
                file_ids.extend(ids)
            m.OutboxEvent.objects.create(
                topic="submission.completed",
                submission=sub,
                payload={"submission": str(sub.pk), "status": status, "fee_total": total},
            )
            submissions.append(sub)
        if save_to_profile and draft.resident_id:
            _profile_save(draft.resident, view)
        if any(f.type == "file" for v in versions for f in version_spec(v).iter_fields()):
            orphans = list(m.Attachment.objects.filter(draft=draft).exclude(pk__in=file_ids))
            for orphan in orphans:
                orphan.delete()
            transaction.on_commit(lambda: [o.file.delete(save=False) for o in orphans])
        m.Draft.objects.filter(pk=draft.pk).update(
            status=m.Draft.Status.SUBMITTED, receipt=receipt, pending={}, updated_at=timezone.now()
        )
        draft.status, draft.receipt = m.Draft.Status.SUBMITTED, receipt
        # The receipt mail leaves the request: a polling task sends it (see receipt_mails_send).
        transaction.on_commit(_receipt_mails_kick)
    return Completion(receipt, status_code, submissions)


def _acceptance_claim(versions: list[m.ProcedureVersion]) -> None:
    """Check the acceptance window of each procedure now and take a place where it has a
    capacity. The window and capacity are the procedure's rules now, read from its live
    version; the pages stay those of the version the filing started on."""
    live = dict(
        m.Procedure.objects.filter(pk__in=[v.procedure_id for v in versions]).values_list(
            "pk", "live_version_id"
        )
    )
    # Rows are locked in procedure order, so two bundles naming the same procedures in
    # another order cannot deadlock.
    for version in sorted(versions, key=lambda v: v.procedure_id):
        live_id = live.get(version.procedure_id) or version.pk
        spec = version_spec(procedure_version_get(live_id))
        state = procedure_acceptance(spec)
        if state != "open":
            raise FilingError(state)
        if spec.accepting.capacity is not None:
            # The row lock serialises concurrent completions of this procedure; the count
            # is checked and raised under it.
            procedure = m.Procedure.objects.select_for_update().get(pk=version.procedure_id)
            if procedure.filed_count >= spec.accepting.capacity:
                raise FilingError("full")
            m.Procedure.objects.filter(pk=procedure.pk).update(
                filed_count=procedure.filed_count + 1
            )


def _receipt_mails_kick() -> None:
    """Embedded default (tasks in-process): send the mail now. With a broker, Celery beat
    runs the task every few seconds (CELERY_BEAT_SCHEDULE) and the request does nothing."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return
    try:
        receipt_mails_send()
    except Exception:  # the filing is committed; the next run sends what is left
        log.exception("receipt mails failed")


def _file_ids(spec: ProcedureSpec, answers: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    for page in spec.pages:
        for f in page.fields:
            value = answers.get(f.id)
            if f.type == "file":
                ids.extend(v["id"] for v in value or [] if isinstance(v, dict) and "id" in v)
            elif f.type == "group":
                for entry in value or []:
                    for c in f.fields:
                        if c.type == "file":
                            items = (entry or {}).get(c.id) or []
                            ids.extend(v["id"] for v in items if isinstance(v, dict) and "id" in v)
    return ids


def _receipt_number() -> str:
    return receipt_format(_random_code(12))


def status_code_for(receipt_number: str) -> str:
    """The status code of a receipt, derived from the number with the server's secret:
    the completion page shows it and the mail task can compute it again, so the code never
    travels through the task broker and only its hash is stored."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), b"status-code:" + receipt_number.encode(), hashlib.sha256
    ).digest()
    n = int.from_bytes(digest, "big")
    out = []
    for _i in range(8):
        n, digit = divmod(n, len(RECEIPT_ALPHABET))
        out.append(RECEIPT_ALPHABET[digit])
    return "".join(out)


def view_problems(view: FilingView) -> list[str]:
    """Re-validate every visible page of the filing; messages for what is missing."""
    from .fields import Ctx
    from .filing import process_page

    problems = []
    for step in view.steps():
        answers = view.answers_of(step.position)
        data = _as_post(view, step, answers)
        ctx = Ctx(lang="ja", files=data.pop("__files__"))
        result = process_page(view, step, data, ctx)
        if result.errors:
            problems.append(f"{step.key}: {sorted(result.errors)[0]}")
        else:
            for fid, value in result.values.items():
                if value is None:
                    answers.pop(fid, None)  # unanswered is absent, as when the page was saved
                else:
                    answers[fid] = value
    return problems


def _as_post(view: FilingView, step, answers: dict[str, Any]) -> dict[str, Any]:
    """The stored answers of a page as the POST data that would have produced them."""
    from .fields import FIELD_TYPES

    data: dict[str, Any] = {}
    files: dict[str, list] = {}

    def put(f, value, name):
        ftype = FIELD_TYPES[f.type]
        raw = ftype.to_raw(f, value)
        if f.type == "file":
            files[name] = list(value or [])
        elif f.type == "group":
            data[f"{name}-count"] = str(len(raw))
            for i, entry in enumerate(value or []):
                for c in f.fields:
                    put(c, (entry or {}).get(c.id), f"{name}-{i}-{c.id}")
        elif isinstance(raw, dict):
            for part, v in raw.items():
                data[f"{name}-{part}"] = v
        else:
            data[name] = raw

    for f in step.page.fields:
        put(f, answers.get(f.id), f"f-{f.id}")
    data["__files__"] = files
    return _MultiDict(data)


class _MultiDict(dict):
    def getlist(self, key):
        value = self.get(key, [])
        return value if isinstance(value, list) else [value]


def _profile_save(resident: m.Resident, view: FilingView) -> None:
    profile = dict(resident.profile or {})
    saved: set[str] = set()
    for position, spec in enumerate(view.specs):
        answers = view.visible_answers(position)
        for f in spec.iter_fields(include_group_children=False):
            # The first field asking a key speaks for the resident (a later one sharing the
            # key may be a contact person's): it alone is saved back.
            if f.profile and f.profile not in saved and answers.get(f.id) is not None:
                profile[f.profile] = answers[f.id]
                saved.add(f.profile)
    resident.profile = profile
    resident.save(update_fields=["profile"])


def receipt_mails_send(limit: int = 200) -> int:
    """Send the receipt mails not sent yet; returns how many went out. Safe to run in
    parallel (rows are locked, others skipped) and again after a failure: a receipt is
    marked only once its mail was handed to the mail server (at least once, in order)."""
    sent = 0
    pending = list(
        m.Receipt.objects.filter(mailed_at__isnull=True, mail_attempts__lt=RECEIPT_MAIL_ATTEMPTS)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for receipt_id in pending:
        try:
            with transaction.atomic():
                receipt = (
                    m.Receipt.objects.select_for_update(skip_locked=True)
                    .filter(pk=receipt_id, mailed_at__isnull=True)
                    .first()
                )
                if receipt is None:
                    continue
                _receipt_mail(receipt)
                m.Receipt.objects.filter(pk=receipt.pk).update(mailed_at=timezone.now())
        except Exception:  # the next run tries again; one bad receipt holds back no other
            attempts = _mail_attempt_count(receipt_id)
            if attempts >= RECEIPT_MAIL_ATTEMPTS:
                log.error(
                    "receipt mail of receipt %s failed %s times; giving up", receipt_id, attempts
                )
            else:
                log.warning(
                    "receipt mail of receipt %s failed; will retry", receipt_id, exc_info=True
                )
            continue
        sent += 1
    return sent


RECEIPT_MAIL_ATTEMPTS = 8


def _mail_attempt_count(receipt_id: int) -> int:
    m.Receipt.objects.filter(pk=receipt_id).update(mail_attempts=F("mail_attempts") + 1)
    return m.Receipt.objects.filter(pk=receipt_id).values_list("mail_attempts", flat=True)[0]


def _receipt_mail(receipt: m.Receipt) -> None:
    """Mail the applicant the receipt number and status code, in their language."""
    language = receipt.language or "ja"
    status_code = status_code_for(receipt.number)
    subs = list(receipt.submissions.select_related("procedure_version").order_by("number"))
    if not subs or not subs[0].contact_email:
        return
    with override(language):
        titles = "\n".join(
            f"- {m.localized(s.procedure_version.title, language)} ({s.number})" for s in subs
        )
        body = _(
            "Thank you. We received your application.\n\n"
            "Receipt number: %(number)s\nStatus code: %(code)s\n\n%(titles)s\n\n"
            "Check the status at %(url)s with the receipt number and the status code.\n"
        ) % {
            "number": receipt.number,
            "code": status_code,
            "titles": titles,
            "url": f"{settings.SITE_URL}/status/",
        }
        unpaid = [s for s in subs if s.status == m.Submission.Status.AWAITING_PAYMENT]
        if unpaid:
            body += "\n" + _(
                "Payment of %(amount)s yen is needed to complete this application. "
                "We will send you the payment instructions."
            ) % {"amount": f"{sum(s.fee_total for s in unpaid):,}"}
        subject = _("Application received (%(number)s)") % {"number": receipt.number}
    send_mail(subject, body, None, [subs[0].contact_email])


def receipt_lookup(number: str, code: str) -> m.Receipt | None:
    number = receipt_format(receipt_normalize(number))
    receipt = m.Receipt.objects.filter(number=number).first()
    expected = receipt.status_code_hash if receipt else status_code_hash("x" * 8)
    ok = hmac.compare_digest(expected, status_code_hash(receipt_normalize(code)))
    return receipt if receipt and ok else None


# ---- one-time links ---------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(purpose: str, email: str, *, draft: m.Draft | None = None) -> str:
    token = secrets.token_urlsafe(32)
    max_age = settings.LOGIN_TOKEN_MAX_AGE if purpose == "login" else settings.RESUME_TOKEN_MAX_AGE
    m.OneTimeToken.objects.create(
        token_hash=_token_hash(token),
        purpose=purpose,
        email=email,
        draft=draft,
        expires_at=timezone.now() + timedelta(seconds=max_age),
    )
    return token


def token_email(purpose: str, token: str) -> str | None:
    """The address a still valid token was sent to, without using it up."""
    row = m.OneTimeToken.objects.filter(
        token_hash=_token_hash(token),
        purpose=purpose,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()
    return row.email if row else None


def token_use(purpose: str, token: str) -> m.OneTimeToken | None:
    """Consume a one-time token: valid once, before it expires."""
    with transaction.atomic():
        row = (
            m.OneTimeToken.objects.select_for_update()
            .filter(token_hash=_token_hash(token), purpose=purpose)
            .first()
        )
        if row is None or row.used_at is not None or row.expires_at < timezone.now():
            return None
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        return row


def _link_mail(email: str, language: str, subject: str, text: str, path: str) -> None:
    """Mail a one-time link (sign-in, resume) in the resident's language."""
    with override(language):
        body = _(text) % {"url": f"{settings.SITE_URL}{path}"}
        send_mail(_(subject), body, None, [email])


def resident_login_link_send(email: str, language: str) -> None:
    _link_mail(
        email,
        language,
        gettext_noop("Your sign-in link"),
        gettext_noop(
            "Open this link to sign in to the online application service. "
            "It works once, for 30 minutes.\n\n%(url)s\n\n"
            "If you did not ask for it, ignore this mail."
        ),
        f"/login/{token_create('login', email)}/",
    )


def resident_login(token: str) -> m.Resident | None:
    row = token_use("login", token)
    if row is None:
        return None
    resident, _c = m.Resident.objects.get_or_create(email=row.email)
    resident.last_login_at = timezone.now()
    resident.save(update_fields=["last_login_at"])
    return resident


def draft_resume_link_send(draft: m.Draft, email: str, language: str) -> None:
    _link_mail(
        email,
        language,
        gettext_noop("Continue your application"),
        gettext_noop(
            "Your application is saved. Open this link to continue where you left off "
            "(valid for 30 days, once):\n\n%(url)s\n"
        ),
        f"/resume/{token_create('resume', email, draft=draft)}/",
    )


def draft_resume(token: str) -> m.Draft | None:
    row = token_use("resume", token)
    if row is None or row.draft is None or row.draft.status != m.Draft.Status.OPEN:
        return None
    return row.draft
