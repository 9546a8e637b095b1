"""Bounded uploads: a request brings files only for the inputs of its page, each within its
field's limit, all within the page's own total and the site-wide cap; whatever is refused is
discarded while it arrives, never written in full, and the resident keeps what was typed."""

from __future__ import annotations

from collections import Counter

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test import Client
from django.urls import reverse

from forms_engine import models as m
from tests.factories import page_post, png_bytes

from .conftest import page_spec

DOG = ("sample-city", "dog-registration")
CERTIFICATE = "f-vaccination_certificate"  # max_size 20MB, max_files 3


@pytest.fixture
def stored(monkeypatch, settings, tmp_path):
    """Bytes of file parts that reached memory or the temporary folder, per input name."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    seen: Counter[str] = Counter()
    memory_chunk = MemoryFileUploadHandler.receive_data_chunk
    temporary_chunk = TemporaryFileUploadHandler.receive_data_chunk

    def in_memory(self, raw_data, start):
        if self.activated:
            seen[self.field_name] += len(raw_data)
        return memory_chunk(self, raw_data, start)

    def to_disk(self, raw_data, start):
        seen[self.field_name] += len(raw_data)
        return temporary_chunk(self, raw_data, start)

    monkeypatch.setattr(MemoryFileUploadHandler, "receive_data_chunk", in_memory)
    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", to_disk)
    return seen


def certificate_page(client) -> tuple[str, dict]:
    """The dog page with the certificate input, and a valid post of it."""
    url = client.post(reverse("procedure_start", args=list(DOG)))["Location"]
    _d, _p, page = page_spec(url)
    url = client.post(url, page_post(page))["Location"]
    _d, _p, page = page_spec(url)
    data = page_post(page)
    data["f-dog_name"] = "ポチ"
    return url, data


def photo(name: str, size: int) -> SimpleUploadedFile:
    content = png_bytes()
    return SimpleUploadedFile(name, content + b"\x00" * (size - len(content)), "image/png")


def test_file_parts_for_inputs_the_page_does_not_have_never_reach_memory_or_disk(
    client, loaded, stored
):
    url, data = certificate_page(client)
    for i in range(30):
        data[f"f-invented{i}"] = photo(f"big{i}.png", 200_000)

    response = client.post(url, data)

    assert response.status_code == 302  # the page itself was fine
    assert {name for name in stored if name.startswith("f-invented")} == set()
    assert stored[CERTIFICATE] > 0
    assert m.Attachment.objects.count() == 1


def test_many_files_under_the_pages_own_input_stop_at_the_pages_total(
    client, loaded, stored, settings
):
    settings.UPLOAD_FILE_MAX_BYTES = 100_000  # the certificate: 3 files of 100 kB at most
    url, data = certificate_page(client)
    data[CERTIFICATE] = [photo(f"scan{i}.png", 90_000) for i in range(30)]

    response = client.post(url, data)

    assert response.status_code == 200
    assert stored[CERTIFICATE] <= 3 * 100_000
    html = response.content.decode()
    assert f"{CERTIFICATE}-error" in html
    assert 'value="ポチ"' in html  # nothing typed is lost


def test_a_file_over_its_fields_max_size_is_discarded_while_it_arrives(client, loaded, stored):
    url, data = certificate_page(client)
    data[CERTIFICATE] = photo("huge.png", 21 * 1024 * 1024)

    response = client.post(url, data)

    assert response.status_code == 200
    assert stored[CERTIFICATE] <= 20 * 1024 * 1024
    html = response.content.decode()
    assert "huge.png" in html and "20MB" in html
    assert 'value="ポチ"' in html
    assert m.Attachment.objects.count() == 0


def test_the_site_wide_cap_bounds_the_files_of_every_request(client, loaded, stored, settings):
    settings.UPLOAD_FILE_MAX_BYTES = 100_000
    settings.UPLOAD_REQUEST_MAX_BYTES = 150_000  # below the page's own 300 kB
    url, data = certificate_page(client)
    data[CERTIFICATE] = [photo(f"scan{i}.png", 90_000) for i in range(3)]

    response = client.post(url, data)

    assert response.status_code == 200
    assert sum(stored.values()) <= 150_000
    html = response.content.decode()
    assert f"{CERTIFICATE}-error" in html
    assert "scan1.png" in html and "scan2.png" in html  # named in the field's error
    assert 'value="ポチ"' in html
    assert m.Attachment.objects.count() == 1  # the first one fitted and is kept


def test_pages_without_file_inputs_take_no_files(client, loaded, stored):
    start = client.post(reverse("procedure_start", args=list(DOG)))["Location"]
    response = client.post(
        start, {"_action": "save", "f-name-family": "山田", "f-name": photo("x.png", 200_000)}
    )
    assert response.status_code == 302
    assert sum(stored.values()) == 0
    assert 'value="山田"' in client.get(start).content.decode()


def test_other_endpoints_take_no_files(client, db, stored, mailoutbox):
    response = client.post(
        reverse("login"), {"email": "a@example.jp", "attachment": photo("x.png", 200_000)}
    )
    assert response.status_code == 302
    assert sum(stored.values()) == 0


def test_the_filing_page_still_refuses_a_post_without_its_csrf_token(client, loaded):
    url, data = certificate_page(client)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[
        settings.SESSION_COOKIE_NAME
    ].value
    assert strict.post(url, data).status_code == 403
    assert m.Attachment.objects.count() == 0

    strict.get(url)  # a page hands out the token
    token = strict.cookies[settings.CSRF_COOKIE_NAME].value
    data[CERTIFICATE] = photo("scan.png", 1_000)
    assert strict.post(url, {**data, "csrfmiddlewaretoken": token}).status_code == 302
