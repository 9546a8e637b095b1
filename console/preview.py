"""The resident's pages of a draft, filed as a dry run: the answers live in the staff
member's session only, so a preview writes no Draft, Submission, Receipt, Attachment,
outbox event, mail, payment or delivery. Pure logic over the session; the views are in
views/preview.py."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest

from forms_engine.filing import FilingView
from forms_engine.procedure_format.model import FieldSpec, ProcedureSpec

SESSION_KEY = "console_preview"
# Previews kept per session (one per draft being previewed).
KEPT = 5


def _jsonable(value: Any) -> Any:
    """What the session (JSON) can hold of a page's input: an uploaded file object is
    dropped."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        if isinstance(value, dict):
            return {str(k): _jsonable(v) for k, v in value.items() if _is_plain(v)}
        if isinstance(value, list):
            return [_jsonable(v) for v in value if _is_plain(v)]
        return None


def _is_plain(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return isinstance(value, dict | list)
    return True


class PreviewState:
    """The dry run of one draft in the session: answers and pending input per page,
    forgotten when the draft's text changes (the pages may have changed)."""

    def __init__(self, request: HttpRequest, draft_id: int, content_hash: str):
        self.request = request
        self.key = str(draft_id)
        store = request.session.get(SESSION_KEY, {})
        state = store.get(self.key)
        if not state or state.get("hash") != content_hash:
            state = {"hash": content_hash, "answers": {}, "pending": {}}
        self.state: dict[str, Any] = state

    @property
    def answers(self) -> dict[str, dict[str, Any]]:
        answers: dict[str, dict[str, Any]] = self.state["answers"]
        return answers

    @property
    def pending(self) -> dict[str, Any]:
        pending: dict[str, Any] = self.state["pending"]
        return pending

    def view(self, spec: ProcedureSpec) -> FilingView:
        return FilingView([spec], json.loads(json.dumps(self.answers)))

    def save_page(self, step_key: str, values: dict[str, Any], page_field_ids: list[str]) -> None:
        answers = self.answers.setdefault("0", {})
        for fid in page_field_ids:
            if fid in values and values[fid] is not None:
                answers[fid] = _jsonable(values[fid])
            else:
                answers.pop(fid, None)
        self.pending.pop(step_key, None)
        self.save()

    def save_pending(self, step_key: str, raw: dict[str, Any]) -> None:
        self.pending[step_key] = _jsonable(raw)
        self.save()

    def save(self) -> None:
        store = dict(self.request.session.get(SESSION_KEY, {}))
        store.pop(self.key, None)
        store[self.key] = self.state
        while len(store) > KEPT:
            store.pop(next(iter(store)))
        self.request.session[SESSION_KEY] = store

    def forget(self) -> None:
        store = dict(self.request.session.get(SESSION_KEY, {}))
        store.pop(self.key, None)
        self.request.session[SESSION_KEY] = store


def dry_run_upload(f: FieldSpec, upload: Any) -> dict[str, Any]:
    """A file posted in a preview: named in the answers, never stored or scanned."""
    return {
        "id": f"preview-{uuid.uuid4()}",
        "name": str(upload.name)[:255],
        "size": int(upload.size or 0),
        "content_type": "application/octet-stream",
    }
