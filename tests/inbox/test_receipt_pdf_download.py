"""Staff download the resident's receipt PDF as it was stored: in scope only, audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from forms_engine import services
from forms_engine.storage import object_store
from inbox.models import AuditLog


def test_staff_in_scope_download_the_stored_receipt_pdf_audited(world):
    sub = world.submissions["city_env"]
    url = reverse("inbox:submission_receipt_pdf", args=[sub.pk])
    c = world.client("city_env")
    # Not made yet: nothing to download, and the detail page offers nothing.
    assert c.get(url).status_code == 404
    detail = reverse("inbox:submission_detail", args=[sub.pk])
    assert url not in c.get(detail).content.decode()
    doc = services.receipt_document_make(sub.pk)
    assert url in c.get(detail).content.decode()
    response = c.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"".join(object_store().open_stream(doc.key))
    row = AuditLog.objects.get(action="submission.receipt_pdf")
    assert row.submission_id == sub.pk and row.data == {}


@pytest.mark.parametrize(
    ("user", "target"),
    [("city_env", "city_cit"), ("city_env", "pref_dx"), ("pref_admin", "city_env")],
)
def test_a_receipt_pdf_out_of_scope_is_not_found_and_not_audited(world, user, target):
    sub = world.submissions[target]
    services.receipt_document_make(sub.pk)
    response = world.client(user).get(reverse("inbox:submission_receipt_pdf", args=[sub.pk]))
    assert response.status_code == 404
    assert not AuditLog.objects.filter(action="submission.receipt_pdf").exists()
