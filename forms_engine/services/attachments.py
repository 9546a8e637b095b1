"""Attachments: files a resident uploads to a draft, checked by size and content."""

from __future__ import annotations

import errno
import hashlib
import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from forms_engine import filecheck, filekinds
from forms_engine import models as m
from forms_engine.fields import FieldInvalid
from forms_engine.procedure_format.model import FieldSpec

from .errors import AttachmentNotStored
from .procedures import version_spec
from .selectors import draft_versions

log = logging.getLogger(__name__)


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
    accept = f.param("accept") or ()
    try:
        # Type by content, programs, polyglots, archive and image bombs: one module
        # for every path that completes an upload.
        kind = filecheck.inspect(upload, upload.name, upload.size, accept)
    except filecheck.FileRefused as refused:
        raise FieldInvalid(refused.message) from None
    finally:
        upload.seek(0)
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
    _file_save(attachment, upload)
    try:
        attachment.save()
    except BaseException:
        _file_discard(attachment.file.storage, attachment.file.name)
        raise
    return {
        "id": str(attachment.id),
        "name": attachment.original_name,
        "size": attachment.size,
        "content_type": attachment.content_type,
    }


def _file_save(attachment: m.Attachment, upload) -> None:
    """Write the file to storage; on failure remove whatever part of it was written and
    raise AttachmentNotStored (the caller keeps the page's answers)."""
    # The key is drawn once (upload_to draws a new random key at every call) and written
    # through the storage itself, in chunks: FieldFile.save would draw another key.
    name = m.attachment_path(attachment, "")
    storage = attachment.file.storage
    try:
        attachment.file.name = storage.save(name, upload)
    except OSError as exc:
        _file_discard(storage, name)
        # Ids and the error code only: the file name is personal data.
        log.error(
            "attachment %s of draft %s not stored: %s",
            attachment.id,
            attachment.draft_id,
            errno.errorcode.get(exc.errno or 0, type(exc).__name__),
        )
        raise AttachmentNotStored from exc


def _file_discard(storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:  # nothing was written (read-only), or the store is gone: say so
        log.warning("could not remove the partial file of an attachment", exc_info=True)


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
