"""Which pages load the direct uploader: only a page with a file input marked for direct
upload (S3 storage configured) gets static/js/uploader.js, its stylesheet and its texts;
every other page, and every page with local files, stays as light as before. And what a page
with the uploader weighs, compressed, with everything it loads."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import translation

from forms_engine.templatetags.uploader import ELEMENT_ID, uploader_texts_dict
from tests.uploader_procedure import business_support_fixture  # noqa: F401 - a fixture

# Everything a phone downloads for the page of files with the uploader, gzip-compressed.
PAGE_GZIP_BUDGET = 120 * 1024


@pytest.fixture
def page_of_files(business_support) -> tuple[Client, str]:
    client = Client()
    response = client.post(reverse("procedure_start", args=["upload-town", "business-support"]))
    assert response.status_code == 302
    return client, response["Location"]


def loads_uploader(html: str) -> bool:
    return "js/uploader" in html or f'id="{ELEMENT_ID}"' in html or "css/uploader" in html


def assets(html: str) -> list[str]:
    """The stylesheets and scripts a page loads from /static/."""
    return re.findall(r'(?:src|href)="/static/([^"]+\.(?:js|css))"', html)


def test_with_local_files_no_page_loads_the_uploader(page_of_files):
    client, url = page_of_files
    html = client.get(url).content.decode()
    assert 'type="file"' in html and "data-upload-url" not in html
    assert not loads_uploader(html)


@pytest.mark.s3
def test_only_the_page_with_a_direct_upload_input_loads_the_uploader(s3_settings, page_of_files):
    client, url = page_of_files
    html = client.get(url).content.decode()
    assert "data-upload-url" in html
    assert {"js/uploader.js", "css/uploader.css"} <= set(assets(html))
    # Its texts, translated for the resident, in a JSON data block (no inline script).
    block = re.search(rf'<script id="{ELEMENT_ID}" type="application/json">(.*?)</script>', html)
    with translation.override("ja"):
        assert json.loads(block[1]) == uploader_texts_dict()
    assert json.loads(block[1])["cancel"] == "キャンセル"  # Japanese first

    # The next page has no file field: no uploader there, nor on the home page.
    response = client.post(url, {"_action": "next"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not loads_uploader(client.get(response["Location"]).content.decode())
    assert not loads_uploader(client.get(reverse("home")).content.decode())


@pytest.mark.s3
def test_the_page_with_the_uploader_weighs_little_compressed(s3_settings, page_of_files):
    client, url = page_of_files
    html = client.get(url).content
    files = assets(html.decode())
    assert "js/uploader.js" in files
    sizes = {"page": len(gzip.compress(html, 9))}
    for name in files:
        with open(finders.find(name), "rb") as f:
            sizes[name] = len(gzip.compress(f.read(), 9))
    total = sum(sizes.values())
    print(f"\npage with the uploader, gzip: {total} bytes {sizes}")
    assert total < PAGE_GZIP_BUDGET, sizes
