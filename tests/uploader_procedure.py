"""The business-support style of procedure the uploader's tests file: a large ledger (up to
1 GB) and phone photos shrunk in the browser; a second page without files."""

from __future__ import annotations

import pytest

from forms_engine import services
from tests.storage.conftest import ORGANIZATION

# The business-support style of procedure: a large ledger and phone photos.
PROCEDURE = """\
title: {ja: 事業支援申請, en: Business support}
department: general
contact_email: mail
attachments_total_max: 2GB
pages:
  - id: docs
    title: {ja: 書類, en: Documents}
    fields:
      - {id: ledger, type: file, label: {ja: 会計帳簿, en: Ledger}, accept: [pdf, zip], max_size: 1GB, max_files: 3}
      - {id: photos, type: file, label: {ja: 店舗の写真, en: Photos of the shop}, accept: [jpeg, png, heic], max_size: 2MB, max_files: 5, resize_images: 1600}
  - id: contact
    title: {ja: 連絡先, en: Contact}
    fields:
      - {id: mail, type: email, label: {ja: メールアドレス, en: Email}, required: true}
"""


@pytest.fixture(name="business_support")
def business_support_fixture(transactional_db, settings, tmp_path):
    """The procedure loaded (from a folder of its own); rate limits off."""
    settings.RATE_LIMIT_ENABLED = False
    tree = tmp_path / "procedures" / "upload-town"
    tree.mkdir(parents=True)
    (tree / "organization.yaml").write_text(ORGANIZATION, encoding="utf-8")
    (tree / "business-support.yaml").write_text(PROCEDURE, encoding="utf-8")
    report = services.procedures_load(tree.parent)
    assert report.errors == []
