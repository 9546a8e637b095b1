"""Direct upload: the browser sends a file straight to the object store as a presigned
multipart upload; the application server never holds its bytes.

    begin     -> an Attachment `uploading` with a multipart upload under a random key
    sign      -> presigned UploadPart URLs, each bound to its part's exact length
    parts     -> the parts the store holds (to resume after a dropped connection)
    complete  -> the store assembles the object; the server checks it (real size from the
                 store, type by content through ranged reads, totals) and it joins the
                 page's pending answer for its input, quarantined until scanned; or it is
                 refused and deleted
    cancel    -> abort an unfinished upload, or remove the file

Nothing the browser declares is trusted: the declared size only sizes the parts (a part
URL refuses a body of any other length) and is checked again, with the type, on the
stored object."""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from forms_engine import filekinds, storage
from forms_engine import models as m
from forms_engine.fields import FieldInvalid
from forms_engine.filing import FilingView, Step, raw_from_answers
from forms_engine.procedure_format.model import FieldSpec

from .attachments import (
    attachment_inspect,
    attachment_limits_check,
    attachment_scan_request,
    attachment_value,
    files_refusal,
    type_refusal,
)
from .selectors import draft_view

log = logging.getLogger(__name__)

# Parts one request may ask to sign (the uploader asks a few at a time).
SIGN_BATCH_MAX = 100
NAME_MAX = 255
_PAGE_RE = re.compile(r"(?P<position>[0-9]{1,3})\.(?P<page>[A-Za-z0-9_-]{1,100})")
_INPUT_RE = re.compile(r"f-(?P<field>[A-Za-z0-9_]{1,100})")
_GROUP_INPUT_RE = re.compile(
    r"f-(?P<group>[A-Za-z0-9_]{1,100})-(?P<entry>[0-9]{1,4})-(?P<child>[A-Za-z0-9_]{1,100})"
)
# File name extension -> kind, from what the browser is told to offer.
_EXTENSION_KINDS = {
    ext.lstrip("."): kind
    for kind, attr in filekinds.ACCEPT_ATTR.items()
    for ext in attr.split(",")
    if ext.startswith(".")
} | {
    # Other names phones and browsers give the same kinds (Chrome on Windows saves JPEGs
    # as .jfif; iPhones may say .heif).
    "jfif": "jpeg",
    "jpe": "jpeg",
    "heif": "heic",
}


class UploadRefused(Exception):
    """A direct upload request that cannot be honoured; `message` is for the resident (in
    their language), `status` the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        self.message = message
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class FileInput:
    """A file input of a visible page of a draft."""

    step: Step
    field: FieldSpec
    name: str  # f-<field> or f-<group>-<entry>-<child>
    group: FieldSpec | None = None
    entry: int = 0

    @property
    def page_key(self) -> str:
        return self.step.key


def file_input_find(view: FilingView, page_key: str, input_name: str) -> FileInput | None:
    """The file input `input_name` of the page `page_key` ("<position>.<page id>"), when
    that page is visible in this draft; None otherwise."""
    match = _PAGE_RE.fullmatch(page_key or "")
    if match is None:
        return None
    step = next(
        (s for s in view.steps() if s.key == page_key),
        None,
    )
    if step is None:
        return None
    if m_ := _INPUT_RE.fullmatch(input_name or ""):
        for f in step.page.fields:
            if f.type == "file" and f.id == m_["field"]:
                return FileInput(step, f, input_name)
    if g := _GROUP_INPUT_RE.fullmatch(input_name or ""):
        for f in step.page.fields:
            if f.type != "group" or f.id != g["group"]:
                continue
            entry = int(g["entry"])
            if entry >= f.param("repeat_max", 10):
                return None
            for c in f.fields:
                if c.type == "file" and c.id == g["child"]:
                    return FileInput(step, c, input_name, group=f, entry=entry)
    return None


def display_name(name: Any) -> str:
    """The resident's file name, for display only: no control characters or path, bounded.
    Japanese names are kept as they are."""
    text = str(name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return text[:NAME_MAX] or "file"


def _name_kind_accepted(name: str, accept: tuple[str, ...]) -> bool:
    """Whether the name's extension is of an accepted kind (the content decides at
    completion; this only spares the resident a useless upload)."""
    if not accept or "." not in name.strip("."):
        return True  # no extension to go by: the content decides, as on the form path
    kind = _EXTENSION_KINDS.get(name.rsplit(".", 1)[-1].lower())
    return kind is not None and (kind in accept or (kind == "csv" and "txt" in accept))


def _input_files(draft: m.Draft, fi: FileInput) -> list[dict]:
    """The files the input holds now: from what is pending on its page, else its answers."""
    pending = draft.pending.get(fi.page_key)
    source = pending if pending is not None else draft.answers.get(str(fi.step.position), {})
    if fi.group is None:
        value = source.get(fi.field.id)
    else:
        entries = source.get(fi.group.id) or []
        entry = entries[fi.entry] if fi.entry < len(entries) else {}
        value = (entry or {}).get(fi.field.id)
    if isinstance(value, dict):
        value = value.get("kept")
    return [v for v in (value or []) if isinstance(v, dict)]


def part_count(size: int) -> int:
    return max(1, math.ceil(size / storage.PART_SIZE))


def part_length(size: int, number: int) -> int:
    """The exact length of part `number` (1-based) of a file of `size` bytes."""
    return min(storage.PART_SIZE, size - (number - 1) * storage.PART_SIZE)


def attachment_upload_begin(
    draft: m.Draft, page_key: str, input_name: str, name: Any, size: Any, content_type: Any
) -> m.Attachment:
    store = storage.object_store()
    if not store.supports_direct_upload or not settings.DIRECT_UPLOAD:
        raise UploadRefused(_("Files are sent with the page here."), status=404)
    view = draft_view(draft)
    fi = file_input_find(view, page_key, input_name)
    if fi is None:
        raise UploadRefused(_("This page has no such file field."), status=404)
    name = display_name(name)
    if isinstance(size, bool) or not isinstance(size, int):
        raise UploadRefused(_("The file's size is missing."))
    accept = tuple(fi.field.param("accept") or ())
    max_files = fi.field.param("max_files", 1)
    if part_count(size) > storage.MAX_PARTS:
        raise UploadRefused(_("%(name)s is too large.") % {"name": name})
    if not _name_kind_accepted(name, accept):
        raise UploadRefused(type_refusal(name, accept))
    key = m.attachment_path(m.Attachment(), "")
    with transaction.atomic():
        # One begin at a time per draft: two tabs cannot both take the last free place.
        locked = m.Draft.objects.select_for_update().get(pk=draft.pk)
        if locked.status != m.Draft.Status.OPEN:
            raise UploadRefused(_("This application has already been submitted."), status=409)
        try:
            attachment_limits_check(locked, fi.step.position, fi.field, name, size)
        except FieldInvalid as exc:
            raise UploadRefused(_first_message(exc)) from None
        uploading = locked.attachments.filter(
            page_key=page_key, input_name=input_name, status=m.Attachment.Status.UPLOADING
        ).count()
        if len(_input_files(locked, fi)) + uploading >= max_files:
            raise UploadRefused(files_refusal(max_files))
        try:
            # Never the declared type: the object is served with the type its checked
            # content has (download_url), and a stored text/html must not be possible.
            upload_id = store.multipart_create(key, "application/octet-stream")
        except storage.StorageError as exc:
            log.error("direct upload not begun for draft %s: %s", draft.pk, exc)
            raise UploadRefused(
                _("The file cannot be received now. Try again later."), 503
            ) from exc
        attachment = m.Attachment(
            draft=locked,
            field_key=f"{fi.step.position}.{fi.field.id}",
            page_key=page_key,
            input_name=input_name,
            original_name=name,
            size=size,
            content_type=str(content_type or "application/octet-stream")[:100],
            status=m.Attachment.Status.UPLOADING,
            upload_id=upload_id,
        )
        attachment.file.name = key
        attachment.save()
    return attachment


# What a completion leaves: stored and joined to the page (then scanned, and promoted or
# deleted by the scan). `refused` is not among them: its refusal was the answer.
_COMPLETED = frozenset(
    {
        m.Attachment.Status.QUARANTINED,
        m.Attachment.Status.CLEAN,
        m.Attachment.Status.NOT_SCANNED,
        m.Attachment.Status.INFECTED,
    }
)


def _first_message(exc: FieldInvalid) -> str:
    return next((msg for msgs in exc.errors.values() for msg in msgs), "")


def _uploading(draft: m.Draft, attachment_id: Any) -> m.Attachment:
    attachment = _of_draft(draft, attachment_id)
    if attachment.status != m.Attachment.Status.UPLOADING:
        raise UploadRefused(_("This upload is finished."), status=409)
    return attachment


def _of_draft(draft: m.Draft, attachment_id: Any, *, lock: bool = False) -> m.Attachment:
    rows = m.Attachment.objects.filter(draft=draft, pk=attachment_id, submission__isnull=True)
    attachment = (rows.select_for_update() if lock else rows).first()
    if attachment is None:
        raise UploadRefused(_("There is no such upload."), status=404)
    return attachment


def attachment_upload_sign(draft: m.Draft, attachment_id: Any, part_numbers: Any) -> dict[int, str]:
    """Presigned UploadPart URLs for these part numbers, each bound to its part's exact
    length from the declared size: the store refuses any other body."""
    attachment = _uploading(draft, attachment_id)
    count = part_count(attachment.size)
    if (
        not isinstance(part_numbers, list)
        or not 0 < len(part_numbers) <= SIGN_BATCH_MAX
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in part_numbers)
        or not all(1 <= n <= count for n in part_numbers)
    ):
        raise UploadRefused(_("The upload asked for parts the file does not have."))
    store = storage.object_store()
    numbers = sorted(set(part_numbers))
    return store.multipart_sign_parts(
        attachment.storage_key,
        attachment.upload_id,
        numbers,
        settings.DIRECT_UPLOAD_PART_URL_SECONDS,
        part_sizes={n: part_length(attachment.size, n) for n in numbers},
    )


def attachment_upload_parts(draft: m.Draft, attachment_id: Any) -> list[storage.Part]:
    attachment = _uploading(draft, attachment_id)
    try:
        return storage.object_store().multipart_list_parts(
            attachment.storage_key, attachment.upload_id
        )
    except storage.StorageError as exc:
        raise UploadRefused(_("The upload cannot be resumed. Send the file again."), 409) from exc


def attachment_upload_complete(draft: m.Draft, attachment_id: Any, parts: Any) -> m.Attachment:
    """Assemble the object, check it as stored, and let it join the page's answer; or
    refuse it (UploadRefused), deleting the object and keeping the row as `refused`.
    Completing a completed upload again answers with the file as it is now (`quarantined`,
    or what its scan made of it meanwhile), joining nothing again: the browser asks again
    when the answer to the first completion was lost on the way.

    The whole completion holds the draft's lock and then the attachment's (the order
    attachment_remove, the scan's discard and submission take them in, so none of them
    can deadlock with it): two completions of the same upload arriving together run one
    after the other, and the second finds the first one's result; a cancel runs before or
    after it, never in between."""
    refusal: UploadRefused | None = None
    with transaction.atomic():
        locked = m.Draft.objects.select_for_update().get(pk=draft.pk)
        attachment = _of_draft(draft, attachment_id, lock=True)
        if attachment.status in _COMPLETED:
            return attachment
        if attachment.status != m.Attachment.Status.UPLOADING:
            raise UploadRefused(_("This upload is finished."), status=409)
        if (
            not isinstance(parts, list)
            or not 0 < len(parts) <= storage.MAX_PARTS
            or not all(
                isinstance(p, dict)
                and isinstance(p.get("PartNumber"), int)
                and isinstance(p.get("ETag"), str)
                and len(p["ETag"]) <= 200
                for p in parts
            )
        ):
            raise UploadRefused(_("The upload is incomplete. Send the file again."))
        store = storage.object_store()
        key = attachment.storage_key
        try:
            store.multipart_complete(
                key,
                attachment.upload_id,
                [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts],
            )
        except storage.ObjectMissing:
            # Assembled before, but its completion never finished: the object is there.
            if not store.exists(key):
                raise UploadRefused(
                    _("The upload is incomplete. Send the file again."), 409
                ) from None
        except storage.StorageError as exc:
            raise UploadRefused(_("The upload is incomplete. Send the file again."), 409) from exc
        fi = file_input_find(draft_view(locked), attachment.page_key, attachment.input_name)
        try:
            if fi is None:
                raise FieldInvalid(_("This page has no such file field."))
            _check_stored(locked, fi, attachment, store)
        except FieldInvalid as exc:
            refusal = UploadRefused(_first_message(exc))
        except storage.StorageError as exc:
            log.error("direct upload %s not checked: %s", attachment.pk, exc)
            refusal = UploadRefused(_("The file cannot be received now. Try again later."), 503)
        if refusal is None and fi is not None and not _join_page(locked, fi, attachment):
            refusal = UploadRefused(files_refusal(fi.field.param("max_files", 1)))
        if refusal is not None:
            _refuse(attachment, store)
    # Raised once the refusal is committed (inside the block it would be rolled back).
    if refusal is not None:
        raise refusal
    draft.pending = locked.pending
    attachment_scan_request(attachment)
    return attachment


def _check_stored(
    draft: m.Draft, fi: FileInput, attachment: m.Attachment, store: storage.ObjectStore
) -> None:
    """The checks on the object as the store holds it, whatever the browser declared."""
    name = attachment.original_name
    size = store.size(attachment.storage_key)
    attachment_limits_check(draft, fi.step.position, fi.field, name, size, exclude=attachment.pk)
    with store.ranged_file(attachment.storage_key) as f:
        kind = attachment_inspect(f, name, fi.field.param("accept") or ())
    attachment.size = size
    attachment.kind = kind
    attachment.content_type = filekinds.CONTENT_TYPES.get(kind, "application/octet-stream")


def _refuse(attachment: m.Attachment, store: storage.ObjectStore) -> None:
    """Delete the object and mark the row `refused`; only an upload still being completed
    (the caller holds its lock): a joined or removed file is never refused afterwards."""
    if not _still_uploading(attachment):
        return
    try:
        store.delete(attachment.storage_key)
    except storage.StorageError:
        log.warning("could not delete a refused upload", exc_info=True)
    attachment.status = m.Attachment.Status.REFUSED
    attachment.upload_id = ""
    attachment.save(update_fields=["status", "upload_id", "size", "kind", "content_type"])


def _still_uploading(attachment: m.Attachment) -> bool:
    return m.Attachment.objects.filter(
        pk=attachment.pk, status=m.Attachment.Status.UPLOADING
    ).exists()


def _join_page(locked: m.Draft, fi: FileInput, attachment: m.Attachment) -> bool:
    """Add the file to the page's pending input for its input, as a posted file would be
    kept (so Next, Back and the page without JavaScript see it); False when the input is
    full by now. The caller holds the draft's lock and the attachment's. The draft's
    `updated_at` is left alone: typing kept on leaving the page is not a stale overwrite
    because a file arrived (that typing carries the file too)."""
    if locked.status != m.Draft.Status.OPEN or not _still_uploading(attachment):
        return False
    if len(_input_files(locked, fi)) >= fi.field.param("max_files", 1):
        return False
    raw = locked.pending.get(fi.page_key)
    if raw is None:
        raw = raw_from_answers(draft_view(locked), fi.step)
    value = attachment_value(attachment)
    if fi.group is None:
        slot = raw.get(fi.field.id)
        if not isinstance(slot, dict):
            slot = raw[fi.field.id] = {"kept": list(slot or [])}
    else:
        entries = raw.get(fi.group.id)
        if not isinstance(entries, list):
            entries = raw[fi.group.id] = []
        while len(entries) <= fi.entry:
            entries.append({})
        entry = entries[fi.entry] if isinstance(entries[fi.entry], dict) else {}
        entries[fi.entry] = entry
        slot = entry.get(fi.field.id)
        if not isinstance(slot, dict):
            slot = entry[fi.field.id] = {"kept": list(slot or [])}
    slot.setdefault("kept", []).append(value)
    slot.pop("new", None)
    locked.pending[fi.page_key] = raw
    m.Draft.objects.filter(pk=locked.pk).update(pending=locked.pending)
    attachment.status = m.Attachment.Status.QUARANTINED
    attachment.upload_id = ""
    attachment.save(update_fields=["status", "upload_id", "size", "kind", "content_type"])
    return True


def attachment_upload_cancel(draft: m.Draft, attachment_id: Any) -> None:
    """Abort an unfinished upload, or remove a stored file as the page's remove button does."""
    from .attachments import attachment_remove

    attachment = _of_draft(draft, attachment_id)
    attachment_remove(draft, str(attachment.pk))


def attachment_status_text(attachment: m.Attachment) -> str:
    return str(m.Attachment.Status(attachment.status).label)
