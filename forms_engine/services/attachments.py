"""Attachments: files a resident uploads to a draft, checked by size and content.

Two ways in, one set of checks. A plain form post (no JavaScript, or local files) reaches
`attachment_store`: the server streams the upload to storage in chunks. A direct upload
goes from the browser to the object store (services.direct_uploads) and is checked when it
is completed, on the stored object. Either way the checks are those below: the real size
against `max_size` and `attachments_total_max`, the type by content (`attachment_inspect`)
against `accept`, and the file lands in quarantine until it is scanned."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from forms_engine import filecheck, filekinds, storage
from forms_engine import models as m
from forms_engine.fields import FieldInvalid
from forms_engine.procedure_format.model import FieldSpec

from .attachment_scans import attachment_scan_enqueue
from .errors import AttachmentNotStored
from .procedures import version_spec
from .selectors import draft_versions

log = logging.getLogger(__name__)

DEFAULT_MAX_SIZE = 10 * 1024 * 1024
# Files that take space in the procedure's total (refused and infected ones are gone).
_COUNTED = (
    m.Attachment.Status.UPLOADING,
    m.Attachment.Status.QUARANTINED,
    m.Attachment.Status.CLEAN,
    m.Attachment.Status.NOT_SCANNED,
)


def field_max_size(f: FieldSpec) -> int:
    return int(f.param("max_size", DEFAULT_MAX_SIZE))


def attachment_inspect(
    fileobj: BinaryIO, name: str, accept: Iterable[str], size: int | None = None
) -> str:
    """The kind of a file (one of the format's FILE_KINDS) told by its content, or
    FieldInvalid saying what was wrong and what would be accepted.

    `fileobj` is any seekable binary file: an upload on the server, or
    `object_store().ranged_file(key)` (ranged reads: the file is not downloaded). The
    checks are forms_engine.filecheck's: the type by content, programs, polyglots,
    archive and image bombs, reading a bounded part of the file."""
    if size is None:
        size = fileobj.seek(0, 2)
    try:
        return filecheck.inspect(fileobj, name, size, accept)
    except filecheck.FileRefused as refused:
        raise FieldInvalid(refused.message) from None
    finally:
        fileobj.seek(0)


def type_refusal(name: str, accept: Iterable[str]) -> str:
    return _("%(name)s is not one of the accepted file types (%(kinds)s).") % {
        "name": name,
        "kinds": ", ".join(k.upper() for k in accept) or "-",
    }


def size_refusal(name: str, max_size: int) -> str:
    return _("%(name)s is larger than %(size)s.") % {
        "name": name,
        "size": filekinds.format_size(max_size),
    }


def files_refusal(max_files: int) -> str:
    return ngettext(
        "You can attach %(n)s file only.", "You can attach %(n)s files at most.", max_files
    ) % {"n": max_files}


def attachment_limits_check(
    draft: m.Draft,
    position: int,
    f: FieldSpec,
    name: str,
    size: int,
    *,
    max_size: int | None = None,
    exclude: Any = None,
) -> None:
    """FieldInvalid when a file of `size` bytes may not join this draft: empty, over the
    field's max_size, or over the procedure's attachments_total_max with the files it
    already has (`exclude`: the attachment being checked itself)."""
    limit = field_max_size(f) if max_size is None else max_size
    if size > limit:
        raise FieldInvalid(size_refusal(name, limit))
    if size <= 0:
        raise FieldInvalid(_("%(name)s is empty.") % {"name": name})
    total_max = version_spec(draft_versions(draft)[position]).attachments_total_max
    if total_max:
        others = draft.attachments.filter(field_key__startswith=f"{position}.", status__in=_COUNTED)
        if exclude is not None:
            others = others.exclude(pk=exclude)
        used = sum(a.size for a in others)
        if used + size > total_max:
            raise FieldInvalid(
                _("The files of this application may be %(size)s in all.")
                % {"size": filekinds.format_size(total_max)}
            )


def attachment_store(draft: m.Draft, position: int, f: FieldSpec, upload) -> dict:
    """Store one file posted with the page (no JavaScript, or local files), checked by size
    and by content (not by name); returns the file value kept in the answers. The upload
    reached the server within the field's limit (forms_engine.uploads stops it there) and
    is streamed to storage in chunks, never whole in memory."""
    max_size = min(field_max_size(f), settings.UPLOAD_FILE_MAX_BYTES)
    attachment_limits_check(draft, position, f, upload.name, upload.size, max_size=max_size)
    kind = attachment_inspect(upload, upload.name, f.param("accept") or (), upload.size)
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
        status=m.Attachment.Status.QUARANTINED,
    )
    _file_save(attachment, upload)
    try:
        attachment.save()
    except BaseException:
        _file_discard(attachment.storage_key)
        raise
    attachment_scan_request(attachment)
    return attachment_value(attachment)


def attachment_value(attachment: m.Attachment) -> dict:
    """The file value kept in a draft's answers (and its pending page input)."""
    return {
        "id": str(attachment.id),
        "name": attachment.original_name,
        "size": attachment.size,
        "content_type": attachment.content_type,
    }


def attachment_scan_request(attachment: m.Attachment) -> None:
    """Hand a stored file (in quarantine) to the malware scan: it is promoted, or deleted
    and the resident told (services.attachment_scans)."""
    attachment_scan_enqueue(attachment)


def _file_save(attachment: m.Attachment, upload) -> None:
    """Stream the file to storage under a new random key; on failure nothing of it is left
    and AttachmentNotStored is raised (the caller keeps the page's answers)."""
    key = m.attachment_path(attachment, "")
    try:
        storage.object_store().upload_stream(key, upload, attachment.content_type)
    except storage.StorageError as exc:
        _file_discard(key)
        # Ids and the error code only: the file name is personal data.
        log.error(
            "attachment %s of draft %s not stored: %s", attachment.id, attachment.draft_id, exc
        )
        raise AttachmentNotStored from exc
    attachment.file.name = key


def _file_discard(key: str) -> None:
    if not key:
        return
    try:
        storage.object_store().delete(key)
    except storage.StorageError:  # nothing was written (read-only), or the store is gone
        log.warning("could not remove the partial file of an attachment", exc_info=True)


def attachment_remove(draft: m.Draft, attachment_id: str) -> None:
    """Remove a file the resident took back, wherever it is in the answers (a file field
    or a file field of a group entry), and from storage (an unfinished direct upload is
    aborted)."""
    try:
        attachment_id = str(uuid.UUID(str(attachment_id)))
    except ValueError:
        return
    with transaction.atomic():
        locked = m.Draft.objects.select_for_update().get(pk=draft.pk)
        locked.answers = _without_file(locked.answers, attachment_id)
        locked.pending = _without_file(locked.pending, attachment_id)
        locked.save(update_fields=["answers", "pending"])
        draft.answers, draft.pending = locked.answers, locked.pending
        # Locked: a scan promoting it at this moment moves it to another key first.
        attachment = (
            m.Attachment.objects.select_for_update()
            .filter(draft=draft, pk=attachment_id, submission__isnull=True)
            .first()
        )
        if attachment:
            key, upload_id = attachment.storage_key, attachment.upload_id
            attachment.delete()
            transaction.on_commit(lambda: attachment_forget(key, upload_id))


def attachment_forget(key: str, upload_id: str) -> None:
    """Remove a file from storage (aborting its multipart upload if it was unfinished),
    after its row is gone; a failure is logged and left for housekeeping."""
    store = storage.object_store()
    try:
        if upload_id:
            store.multipart_abort(key, upload_id)
        store.delete(key)
    except storage.StorageError:
        # Left for housekeeping (stale multipart uploads, keys without a row).
        log.warning("could not remove a file from storage", exc_info=True)


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
