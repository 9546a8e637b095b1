"""A procedure with file fields for the direct upload tests, and a filing of it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services

ORGANIZATION = """\
name: {ja: 添付町, en: Upload Town}
contact: 添付町役場　電話 000-000-0000
departments:
  - {slug: general, name: {ja: 総務課, en: General Affairs}, email: general@upload.test.example}
"""

# A business-support style application: a large ledger, photos, a file per member.
PROCEDURE = """\
title: {ja: 事業支援申請, en: Business support}
department: general
contact_email: mail
attachments_total_max: 40MB
pages:
  - id: docs
    title: 書類
    fields:
      - {id: ledger, type: file, label: 台帳, accept: [pdf, zip, docx], max_size: 30MB, max_files: 2}
      - {id: photos, type: file, label: 写真, accept: [jpeg, png, heic], max_size: 1MB, max_files: 3}
      - id: members
        type: group
        label: 構成員
        repeat: {min: 1, max: 2}
        fields:
          - {id: member_doc, type: file, label: 書類, accept: [pdf], max_size: 1MB}
  - id: last
    title: 最後
    fields:
      - {id: mail, type: email, label: メール}
      - {id: note, type: text, label: メモ}
"""

# One large file and nothing else: the server-streamed path's memory is measured with it.
LARGE = """\
title: {ja: 台帳の提出, en: Ledger}
department: general
contact_email: mail
pages:
  - id: ledger
    title: 台帳
    fields:
      - {id: ledger, type: file, label: 台帳, accept: [pdf], max_size: 100MB, required: true}
      - {id: mail, type: email, label: メール}
"""

PAGE_KEY = "0.docs"


@pytest.fixture
def upload_town(db, tmp_path, settings):
    settings.RATE_LIMIT_ENABLED = False
    tree = tmp_path / "procedures"
    (tree / "upload-town").mkdir(parents=True)
    (tree / "upload-town" / "organization.yaml").write_text(ORGANIZATION, encoding="utf-8")
    (tree / "upload-town" / "business-support.yaml").write_text(PROCEDURE, encoding="utf-8")
    (tree / "upload-town" / "ledger.yaml").write_text(LARGE, encoding="utf-8")
    report = services.procedures_load(tree)
    assert report.errors == []
    return tree


@dataclass
class Filing:
    """A resident's filing on its page of files, and the upload endpoints of it."""

    client: Client
    draft: m.Draft
    page_url: str

    @property
    def uploads_url(self) -> str:
        return reverse("upload_begin", args=[self.draft.pk])

    def post(self, url: str, body: dict, **extra):
        return self.client.post(url, json.dumps(body), content_type="application/json", **extra)

    def begin(
        self, name: str, size: int, input: str = "f-ledger", type: str = "", page=PAGE_KEY, **extra
    ):
        return self.post(
            self.uploads_url,
            {"input": input, "page": page, "name": name, "size": size, "type": type},
            **extra,
        )

    def sign(self, attachment_id: str, numbers: list[int]) -> dict[int, str]:
        response = self.post(
            reverse("upload_parts", args=[self.draft.pk, attachment_id]), {"partNumbers": numbers}
        )
        assert response.status_code == 200, response.content
        return {int(n): url for n, url in response.json()["urls"].items()}

    def parts(self, attachment_id: str):
        return self.client.get(reverse("upload_parts", args=[self.draft.pk, attachment_id]))

    def complete(self, attachment_id: str, parts: list[dict]):
        return self.post(
            reverse("upload_complete", args=[self.draft.pk, attachment_id]), {"parts": parts}
        )

    def cancel(self, attachment_id: str):
        return self.client.delete(reverse("upload_cancel", args=[self.draft.pk, attachment_id]))

    def refresh(self) -> m.Draft:
        self.draft.refresh_from_db()
        return self.draft


def start_filing(client: Client) -> Filing:
    response = client.post(reverse("procedure_start", args=["upload-town", "business-support"]))
    url = response["Location"]
    assert re.search(r"/0/docs/$", url), url
    draft = m.Draft.objects.get(pk=url.split("/")[2])
    return Filing(client, draft, url)


@pytest.fixture
def filing(client, upload_town) -> Filing:
    return start_filing(client)


@pytest.fixture
def tree(upload_town) -> Path:
    return upload_town
