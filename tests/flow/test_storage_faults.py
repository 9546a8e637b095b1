"""A media folder that is full or read-only: the resident is told in their language, what
they typed is kept, and no partial file is left behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from forms_engine import models as m
from forms_engine.storage import local as local_store
from tests.factories import page_post, pdf_bytes

from .conftest import page_spec

DOG = ("sample-city", "dog-registration")

MESSAGES = {
    "ja": "ファイルを保存できませんでした",
    "en": "The file could not be stored",
}


def failing_storage(error: int):
    """The local store's chunked copy failing as a full disk (after writing part of the
    file) or a read-only one (before writing anything) does."""

    def _copy(fileobj, out):
        if error == errno.ENOSPC:
            out.write(fileobj.read(10))
            out.flush()
        raise OSError(error, os.strerror(error))

    return _copy


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def dog_page(client, loaded, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first = client.post(reverse("procedure_start", args=list(DOG)))["Location"]
    _draft, _position, page = page_spec(first)
    url = client.post(first, page_post(page))["Location"]
    assert url.endswith("/dog/")
    return url


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS], ids=["full", "read-only"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_file_that_cannot_be_stored_is_explained_and_the_typing_is_kept(
    client, dog_page, settings, tmp_path, monkeypatch, error, language
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    monkeypatch.setattr(local_store, "_copy", failing_storage(error))
    response = client.post(
        dog_page,
        {
            "f-dog_name": "ポチ",
            "f-vaccinated": "yes",
            "f-vaccination_certificate": SimpleUploadedFile(
                "certificate.pdf", pdf_bytes(), content_type="application/pdf"
            ),
        },
    )
    assert response.status_code == 503
    assert response["Retry-After"]
    assert MESSAGES[language] in response.content.decode()
    assert stored_files(tmp_path) == []
    assert not m.Attachment.objects.exists()
    monkeypatch.undo()
    assert 'value="ポチ"' in client.get(dog_page).content.decode()


def test_a_file_that_cannot_be_stored_on_save_for_later_keeps_the_typing_too(
    client, dog_page, tmp_path, monkeypatch
):
    monkeypatch.setattr(local_store, "_copy", failing_storage(errno.ENOSPC))
    response = client.post(
        dog_page,
        {
            "_action": "save",
            "f-dog_name": "ポチ",
            "f-vaccinated": "yes",
            "f-vaccination_certificate": SimpleUploadedFile(
                "certificate.pdf", pdf_bytes(), content_type="application/pdf"
            ),
        },
    )
    assert response.status_code == 503
    assert stored_files(tmp_path) == []
    monkeypatch.undo()
    assert 'value="ポチ"' in client.get(dog_page).content.decode()


def test_a_stored_file_whose_row_cannot_be_written_is_removed_again(
    client, dog_page, tmp_path, monkeypatch
):
    from django.db import DatabaseError

    def broken_save(self, *args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(m.Attachment, "save", broken_save)
    with pytest.raises(DatabaseError):
        client.post(
            dog_page,
            {
                "f-dog_name": "ポチ",
                "f-vaccinated": "yes",
                "f-vaccination_certificate": SimpleUploadedFile(
                    "certificate.pdf", pdf_bytes(), content_type="application/pdf"
                ),
            },
        )
    assert stored_files(tmp_path) == []
