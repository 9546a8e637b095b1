"""The console's pages answer for an organization admin, and what they show."""

from __future__ import annotations

from django.urls import reverse

from console.models import ProcedureDraft


def test_procedures_page_lists_every_procedure_with_state_window_filings_and_link(world):
    client = world.client("city_admin")
    response = client.get(reverse("console:procedure_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "dog-registration" in body and "resident-moving-in" in body
    assert "dx-seminar" not in body  # the other organization's
    assert reverse("procedure_start", args=["sample-city", "dog-registration"]) in body
    assert "公開中" in body


def test_new_from_blank_template_is_valid_and_opens_the_editor(world):
    client = world.client("city_admin")
    response = client.post(
        reverse("console:procedure_new"), {"slug": "new-thing", "start": "blank"}
    )
    draft = ProcedureDraft.objects.get(slug="new-thing")
    assert response.status_code == 302
    assert response["Location"] == reverse("console:draft_edit", args=[draft.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'id="check-ok"' in page.content.decode()


def test_a_procedure_never_published_is_listed_as_a_draft(world):
    client = world.client("city_admin")
    client.post(reverse("console:procedure_new"), {"slug": "not-yet", "start": "blank"})
    body = client.get(reverse("console:procedure_list")).content.decode()
    row = body[body.index('data-slug="not-yet"') :]
    row = row[: row.index("</tr>")]
    assert "下書き" in row


def test_new_as_a_copy_and_from_an_uploaded_file(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from forms_engine import models as m

    client = world.client("city_admin")
    dog = m.Procedure.objects.get(organization__slug="sample-city", slug="dog-registration")
    other = m.Procedure.objects.get(organization__slug="osaka-pref", slug="dx-seminar")
    # Another organization's procedure cannot be copied.
    refused = client.post(
        reverse("console:procedure_new"),
        {"slug": "stolen", "start": "copy", "copy_of": str(other.pk)},
    )
    assert refused.status_code == 400
    assert not ProcedureDraft.objects.filter(slug="stolen").exists()
    client.post(
        reverse("console:procedure_new"),
        {"slug": "dog-copy", "start": "copy", "copy_of": str(dog.pk)},
    )
    assert ProcedureDraft.objects.get(slug="dog-copy").text == dog.live_version.source

    text = "title: アップロード\r\ndepartment: citizens\r\n"
    upload = SimpleUploadedFile("x.yaml", ("\ufeff" + text).encode("utf-8"))
    client.post(
        reverse("console:procedure_new"), {"slug": "uploaded", "start": "upload", "upload": upload}
    )
    assert ProcedureDraft.objects.get(slug="uploaded").text == text.replace("\r\n", "\n")
    bad = SimpleUploadedFile("x.yaml", "題名".encode("shift_jis"))
    response = client.post(
        reverse("console:procedure_new"), {"slug": "sjis-file", "start": "upload", "upload": bad}
    )
    assert response.status_code == 400


def test_a_new_draft_cannot_take_the_name_of_a_live_procedure(world):
    client = world.client("city_admin")
    response = client.post(
        reverse("console:procedure_new"), {"slug": "dog-registration", "start": "blank"}
    )
    assert response.status_code == 400
    assert not ProcedureDraft.objects.exists()
    # The other organization's names are free.
    response = client.post(
        reverse("console:procedure_new"), {"slug": "dx-seminar", "start": "blank"}
    )
    assert response.status_code == 302
