"""Read-only selectors (`<entity>_get/_list` and the like): nothing here changes state.

Procedure versions never change once loaded, so they are cached per process; an
organization is cached for a minute (its name and contact show in page chrome)."""

from __future__ import annotations

import time

from forms_engine import models as m
from forms_engine.filing import FilingView

from .procedures import version_spec, version_spec_cache_clear
from .receipts import (
    receipt_format,
    receipt_input_too_long,
    receipt_normalize,
    status_code_hash,
    status_code_matches,
)

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
    version_spec_cache_clear()
    _ORGANIZATION_CACHE.clear()
    from forms_engine.rush.config import rush_config_local_clear

    rush_config_local_clear()


def draft_versions(draft: m.Draft) -> list[m.ProcedureVersion]:
    """The versions a draft is pinned to, in order."""
    return [procedure_version_get(pk) for pk in draft.version_ids]


def draft_view(draft: m.Draft) -> FilingView:
    specs = [version_spec(v) for v in draft_versions(draft)]
    return FilingView(specs=specs, answers=draft.answers)


def receipt_lookup(number: str, code: str) -> m.Receipt | None:
    if receipt_input_too_long(number) or receipt_input_too_long(code):
        return None  # no receipt has such a number: refused before anything reads it
    number = receipt_format(receipt_normalize(number))
    receipt = m.Receipt.objects.filter(number=number).first()
    expected = receipt.status_code_hash if receipt else status_code_hash("x" * 8)
    ok = status_code_matches(receipt_normalize(code), expected)
    return receipt if receipt and ok else None


# --- attachments -----------------------------------------------------------------------------

# The states in which a file may be opened by anyone (staff, exports, deliveries): scanned
# clean, or stored where no scanner is configured (said openly as "not scanned").
DELIVERABLE_STATUSES = frozenset({m.Attachment.Status.CLEAN, m.Attachment.Status.NOT_SCANNED})
# The states a submission waits on before it is handed on.
WAITING_STATUSES = (m.Attachment.Status.UPLOADING, m.Attachment.Status.QUARANTINED)


def attachment_is_deliverable(attachment: m.Attachment) -> bool:
    """No person or system may open a file that is not deliverable."""
    return attachment.status in DELIVERABLE_STATUSES


def submission_files_ready(submission: m.Submission) -> bool:
    """No file of the submission is still uploading or waiting for its scan."""
    return not submission.attachments.filter(status__in=WAITING_STATUSES).exists()


def draft_file_states(draft: m.Draft) -> dict[str, str]:
    """The state of each file of a draft (attachment id -> Attachment.Status value), for
    the page and the confirmation page."""
    return {
        str(pk): status
        for pk, status in m.Attachment.objects.filter(draft=draft).values_list("pk", "status")
    }


def draft_files_removed_by_scan(draft: m.Draft) -> list[m.Attachment]:
    """Files of a draft the scan deleted (malware found, or not scannable whole), oldest
    first: the resident is told, by the file's own name, on its page and on the
    confirmation page. Refusals at completion are told at once, by the upload itself."""
    return list(
        m.Attachment.objects.filter(
            draft=draft,
            status__in=(m.Attachment.Status.INFECTED, m.Attachment.Status.REFUSED),
            scanned_at__isnull=False,
        )
        .only("id", "field_key", "original_name", "status")
        .order_by("created_at")
    )
