"""Files of the local store, handed out through short-lived download tickets
(`LocalStore.download_url`): the embedded default's stand-in for a presigned S3 URL."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from forms_engine import storage
from forms_engine.storage.local import LocalStore, ticket_take


@require_GET
def local_file(request: HttpRequest, ticket: str) -> FileResponse:
    found = ticket_take(ticket)
    store = storage.object_store()
    if found is None or not isinstance(store, LocalStore):
        raise Http404
    try:
        f = store.ranged_file(found["key"])
    except storage.StorageError:
        raise Http404 from None
    # The type of the checked content, as the S3 store's presigned URL serves it.
    response = FileResponse(f, content_type=found.get("type") or "application/octet-stream")
    response["Content-Disposition"] = storage.content_disposition(found["name"])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
