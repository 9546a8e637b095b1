"""A submission's page (answers from its own version, files with their scan state,
previews, the history) and the audit log (rows for each audited action, append-only,
no answer values, readable by organization admins of the organization only)."""

from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse

from forms_engine import models as m
from forms_engine.outbox import outbox_emit
from inbox.audit import AuditDataRefused, audit_log
from inbox.models import AuditLog, AuditLogImmutable
from tests.factories import pdf_bytes, png_bytes

from .conftest import make_submission

A = m.Attachment.Status
SECRET_ANSWERS = {
    "family": "秘密川",
    "given": "答子",
    "kana_family": "ヒミツカワ",
    "kana_given": "コタエコ",
}


def attach(sub, status=A.CLEAN, kind="png", data=None, name="写真.png"):
    data = data if data is not None else (png_bytes() if kind == "png" else pdf_bytes())
    a = m.Attachment(
        draft=sub.draft,
        submission=sub,
        field_key="photo",
        original_name=name,
        size=len(data),
        kind=kind,
        content_type="image/png" if kind == "png" else "application/pdf",
        status=status,
    )
    a.file.save("x", ContentFile(data), save=False)
    a.save()
    return a


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def test_the_page_renders_the_answers_from_the_submissions_own_version(world):
    sub = world.submissions["city_env"]
    old_version = sub.procedure_version
    # A newer version of the procedure with another title does not change this page.
    m.ProcedureVersion.objects.create(
        procedure=sub.procedure,
        number=old_version.number + 1,
        content_hash="other",
        source=old_version.source.replace("犬の登録申請", "犬の登録（新）"),
        rel_path=old_version.rel_path,
        title={"ja": "犬の登録（新）"},
        department=old_version.department,
    )
    text = (
        world.client("city_env")
        .get(reverse("inbox:submission_detail", args=[sub.pk]))
        .content.decode()
    )
    assert "犬の登録申請" in text and "犬の登録（新）" not in text
    # In the page order of the version: the owner's page comes before the dog's.
    assert text.index("飼い主の情報") < text.index("犬の情報")


def test_files_show_their_scan_state_and_only_deliverable_ones_open(world, media):
    sub = world.submissions["city_env"]
    clean = attach(sub, A.CLEAN)
    pdf = attach(sub, A.NOT_SCANNED, kind="pdf", name="証明書.pdf")
    waiting = attach(sub, A.QUARANTINED)
    infected = attach(sub, A.INFECTED)
    client = world.client("city_env")
    text = client.get(reverse("inbox:submission_detail", args=[sub.pk])).content.decode()
    assert "Scanned: no malware found" in text or "ウイルス" in text or "スキャン" in text
    preview = reverse("inbox:attachment_preview", args=[sub.pk, clean.pk])
    assert preview in text
    assert reverse("inbox:attachment_preview", args=[sub.pk, waiting.pk]) not in text

    image = client.get(preview)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"].startswith("inline;")
    assert "sandbox" in image["Content-Security-Policy"]
    assert b"".join(image.streaming_content) == png_bytes()
    pdf_preview = client.get(reverse("inbox:attachment_preview", args=[sub.pk, pdf.pk]))
    assert pdf_preview.status_code == 200 and pdf_preview["Content-Type"] == "application/pdf"

    for never in (waiting, infected):
        assert (
            client.get(reverse("inbox:attachment_preview", args=[sub.pk, never.pk])).status_code
            == 404
        )
        assert (
            client.post(reverse("inbox:attachment_download", args=[sub.pk, never.pk])).status_code
            == 404
        )
    download = client.post(reverse("inbox:attachment_download", args=[sub.pk, clean.pk]))
    assert download.status_code == 302
    assert list(
        AuditLog.objects.filter(action__startswith="attachment.")
        .values_list("action", flat=True)
        .order_by("id")
    ) == [
        "attachment.preview",
        "attachment.preview",
        "attachment.download",
    ]
    row = AuditLog.objects.get(action="attachment.download")
    assert row.object_id == str(clean.pk) and row.submission_number == sub.number
    assert "写真" not in json.dumps(row.data, ensure_ascii=False)


def test_the_history_lists_outbox_events_with_labels_and_actor_names(world):
    sub = world.submissions["city_env"]
    reviewer = world.users["city_env"]
    reviewer.last_name, reviewer.first_name = "審査", "太郎"
    reviewer.save()
    outbox_emit("submission.completed", submission=sub)
    outbox_emit(
        "test.something", submission=sub, actor=reviewer.pk, reason="書類の写真が不鮮明です"
    )
    text = (
        world.client("city_env")
        .get(reverse("inbox:submission_detail", args=[sub.pk]))
        .content.decode()
    )
    assert "審査 太郎" in text
    assert "書類の写真が不鮮明です" in text
    from forms_engine.outbox import topic_label

    assert topic_label("submission.completed") in text


def test_audited_actions_never_hold_answer_values(world, media):
    sub = make_submission(
        family=SECRET_ANSWERS["family"],
        given=SECRET_ANSWERS["given"],
        kana_family=SECRET_ANSWERS["kana_family"],
        kana_given=SECRET_ANSWERS["kana_given"],
        answers={"dog_name": "ポチ秘密"},
    )
    a = attach(sub, name="秘密の写真.png")
    client = world.client("city_env")
    client.get(reverse("inbox:submission_detail", args=[sub.pk]))
    client.get(reverse("inbox:attachment_preview", args=[sub.pk, a.pk]))
    client.post(reverse("inbox:attachment_download", args=[sub.pk, a.pk]))
    client.get(reverse("inbox:submission_list"), {"q": "秘密川"})
    rows = list(AuditLog.objects.values())
    assert {r["action"] for r in rows} >= {
        "submission.view",
        "attachment.preview",
        "attachment.download",
    }
    dump = json.dumps(rows, default=str, ensure_ascii=False)
    for value in (*SECRET_ANSWERS.values(), "ポチ秘密", "秘密の写真", "resident@example.jp"):
        assert value not in dump


def test_audit_details_are_short_scalars_only(world):
    with pytest.raises(AuditDataRefused):
        audit_log(None, "test", answers={"name": "x"})
    row = audit_log(None, "test", note="x" * 1000)
    assert len(row.data["note"]) == 200


def test_the_audit_log_is_append_only_in_the_model_and_in_the_database(world):
    row = audit_log(None, "test.one")
    row.action = "changed"
    with pytest.raises(AuditLogImmutable):
        row.save()
    with pytest.raises(AuditLogImmutable):
        row.delete()
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.filter(pk=row.pk).update(action="changed")
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.all().delete()
    if connection.vendor == "postgresql":
        from django.db import DatabaseError, transaction

        for sql in ("UPDATE inbox_auditlog SET action = 'x'", "DELETE FROM inbox_auditlog"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(sql)
    assert AuditLog.objects.get(pk=row.pk).action == "test.one"


def test_organization_admins_read_their_organizations_audit_log_only(world):
    city = world.submissions["city_env"]
    pref = world.submissions["pref_dx"]
    world.client("city_env").get(reverse("inbox:submission_detail", args=[city.pk]))
    world.client("pref_dx").get(reverse("inbox:submission_detail", args=[pref.pk]))
    admin = world.client("city_admin")

    text = admin.get(reverse("inbox:audit_list")).content.decode()
    assert city.number in text and pref.number not in text
    assert "city_env" in text and "pref_dx" not in text
    filtered = admin.get(reverse("inbox:audit_list"), {"action": "signin"}).content.decode()
    assert city.number not in filtered
    by_number = admin.get(reverse("inbox:audit_list"), {"number": city.number}).content.decode()
    assert city.number in by_number
    assert world.client("city_env").get(reverse("inbox:audit_list")).status_code == 404
    assert world.client("city_env_admin").get(reverse("inbox:audit_list")).status_code == 404
