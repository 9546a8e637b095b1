"""Exports from the inbox: the filtered list as CSV (streamed, both encodings) and one
submission as PDF, each within the user's scope and audited."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest
from django.urls import reverse

from forms_engine import models as m
from inbox.models import AuditLog

from .conftest import make_submission

CSV_URL = reverse("inbox:submissions_csv")


def rows_of(response, encoding="utf-8") -> list[list[str]]:
    data = b"".join(response.streaming_content)
    text = data.decode("utf-8-sig" if encoding == "utf-8" else "cp932")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_csv_holds_the_reviewers_department_only(world):
    other_dept_number = world.submissions["city_cit"].number
    other_org_number = world.submissions["pref_dx"].number
    response = world.client("city_env").get(CSV_URL)
    assert response.status_code == 200
    assert response.streaming
    header, *rows = rows_of(response)
    numbers = {r[0] for r in rows}
    assert numbers == {world.submissions["city_env"].number}
    assert other_dept_number not in numbers and other_org_number not in numbers
    # Answers of the procedure's own version are columns (the name, part by part).
    cell = dict(zip(header, rows[0], strict=True))
    assert "山田" in cell.values()


def test_an_organization_admin_exports_the_whole_organization_and_nothing_more(world):
    response = world.client("city_admin").get(CSV_URL)
    _header, *rows = rows_of(response)
    assert {r[0] for r in rows} == {
        world.submissions["city_env"].number,
        world.submissions["city_cit"].number,
    }


def test_the_list_filters_apply_to_the_export(world):
    older = make_submission("sample-city", "dog-registration", status=m.Submission.Status.IN_REVIEW)
    client = world.client("city_env")
    _h, *rows = rows_of(client.get(CSV_URL, {"status": "in_review"}))
    assert [r[0] for r in rows] == [older.number]
    other = make_submission("sample-city", "dog-registration", family="田中", kana_family="タナカ")
    _h, *rows = rows_of(client.get(CSV_URL, {"procedure": str(other.procedure_id), "q": "たなか"}))
    assert [r[0] for r in rows] == [other.number]
    # A name search (kana) works the same as on the list page.
    _h, *rows = rows_of(client.get(CSV_URL, {"q": "やまだ"}))
    assert {r[0] for r in rows} == {older.number, world.submissions["city_env"].number}


def test_the_file_name_carries_no_personal_data_and_is_rfc_5987(world):
    response = world.client("city_env").get(CSV_URL, {"q": "山田"})
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E7%94%B3%E8%AB%8B%E4%B8%80%E8%A6%A7-" in disposition  # 申請一覧-
    assert "%E5%B1%B1%E7%94%B0" not in disposition and "山田" not in disposition
    b"".join(response.streaming_content)


def test_utf8_export_has_a_bom_and_cp932_replaces_and_counts(world):
    make_submission("sample-city", "dog-registration", family="𠮷田", given="\ufa19子")
    client = world.client("city_env")
    utf8 = b"".join(client.get(CSV_URL).streaming_content)
    assert utf8.startswith(b"\xef\xbb\xbf") and "𠮷田".encode() in utf8
    response = client.get(CSV_URL, {"encoding": "cp932"})
    assert response["Content-Type"] == "text/csv; charset=Shift_JIS"
    data = b"".join(response.streaming_content)
    assert not data.startswith(b"\xef\xbb\xbf")
    assert "〓田".encode("cp932") in data and "\ufa19子".encode("cp932") in data
    finished = AuditLog.objects.filter(action="submissions.export.finished").first()
    assert finished.data["encoding"] == "cp932"
    assert finished.data["replaced"] == 1 and finished.data["complete"] is True
    assert finished.data["rows"] == 2


def test_exports_are_audited_without_the_search_text(world):
    client = world.client("city_env")
    b"".join(client.get(CSV_URL, {"q": "やまだ", "status": "submitted"}).streaming_content)
    started = AuditLog.objects.get(action="submissions.export")
    assert started.actor_name == "city_env"
    assert started.data["status"] == "submitted" and started.data["searched"] is True
    assert "やまだ" not in str(started.data) and "ヤマダ" not in str(started.data)


def test_without_a_second_factor_nothing_is_exported(world, client):
    client.force_login(world.users["city_env"])
    response = client.get(CSV_URL)
    assert response.status_code == 302
    assert not AuditLog.objects.filter(action="submissions.export").exists()


def test_the_pdf_of_a_submission_in_scope_is_audited(world):
    sub = world.submissions["city_env"]
    response = world.client("city_env").get(reverse("inbox:submission_pdf", args=[sub.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f'filename="{sub.number}.pdf"' in response["Content-Disposition"]
    row = AuditLog.objects.get(action="submission.export")
    assert row.submission_id == sub.pk and row.data == {"format": "pdf"}


@pytest.mark.parametrize(
    ("user", "target"),
    [("city_env", "city_cit"), ("city_env", "pref_dx"), ("pref_admin", "city_env")],
)
def test_the_pdf_of_a_submission_out_of_scope_is_not_found(world, user, target):
    sub = world.submissions[target]
    response = world.client(user).get(reverse("inbox:submission_pdf", args=[sub.pk]))
    assert response.status_code == 404
    assert not AuditLog.objects.filter(action="submission.export").exists()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")
def test_the_pdf_shows_the_answers(world, tmp_path):
    sub = world.submissions["city_env"]
    pdf = world.client("city_env").get(reverse("inbox:submission_pdf", args=[sub.pk])).content
    (tmp_path / "a.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "a.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert sub.number in text and "山田" in text
