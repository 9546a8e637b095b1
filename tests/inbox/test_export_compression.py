"""Downloads from the inbox through the response compression (forms_engine.compression):
the streamed CSV is gzipped as it streams and still finishes its audit; the PDF is not
compressed at all."""

from __future__ import annotations

import csv
import gzip
import io

from django.urls import reverse

from inbox.models import AuditLog

CSV_URL = reverse("inbox:submissions_csv")
BROWSER = "gzip, deflate, br, zstd"


def test_the_streamed_csv_goes_out_gzipped_whole_and_audited(world):
    client = world.client("city_env")
    response = client.get(CSV_URL, {"encoding": "cp932"}, HTTP_ACCEPT_ENCODING=BROWSER)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Type"] == "text/csv; charset=Shift_JIS"
    data = gzip.decompress(b"".join(response.streaming_content))
    _header, *rows = list(csv.reader(io.StringIO(data.decode("cp932"), newline="")))
    assert [r[0] for r in rows] == [world.submissions["city_env"].number]
    finished = AuditLog.objects.get(action="submissions.export.finished")
    assert finished.data["complete"] is True and finished.data["rows"] == 1


def test_the_pdf_of_a_submission_is_not_compressed(world):
    sub = world.submissions["city_env"]
    response = world.client("city_env").get(
        reverse("inbox:submission_pdf", args=[sub.pk]), HTTP_ACCEPT_ENCODING=BROWSER
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert not response.has_header("Content-Encoding")
    assert response.content.startswith(b"%PDF-")
