"""Personas and helpers for filing through the Django test client."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import TestCase

from forms_engine import models as m
from forms_engine import services
from tests.factories import page_post

PAGE_URL = re.compile(r"/f/(?P<draft>[0-9a-f-]{36})/(?P<position>\d+)/(?P<page>[a-z][a-z0-9_]*)/")


@pytest.fixture
def loaded(db):
    report = services.procedures_load(settings.PROCEDURES_DIR)
    assert report.errors == []
    return report


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


def page_spec(url: str):
    match = PAGE_URL.search(url)
    assert match, url
    draft = m.Draft.objects.get(pk=match["draft"])
    version = services.draft_versions(draft)[int(match["position"])]
    spec = services.version_spec(version)
    return draft, int(match["position"]), next(p for p in spec.pages if p.id == match["page"])


def walk_to_confirm(client, start_url: str, tweak=None, max_steps: int = 40) -> str:
    """Start a filing and post valid answers on every page; returns the confirm URL."""
    response = client.post(start_url)
    assert response.status_code == 302, response.content[:500]
    url = response["Location"]
    for _ in range(max_steps):
        if url.endswith("/confirm/"):
            return url
        assert client.get(url).status_code == 200
        _draft, position, page = page_spec(url)
        data = page_post(page)
        if tweak:
            data = tweak(position, page, data)
        response = client.post(url, data)
        assert response.status_code == 302, _errors(response)
        url = response["Location"]
    raise AssertionError("the filing did not reach the confirmation page")


def _errors(response) -> str:
    text = response.content.decode()
    found = re.findall(r'class="field__error"[^>]*>(.*?)</p>', text, re.S)
    return "page did not validate: " + " | ".join(found)


def file_completely(client, start_url: str, tweak=None):
    confirm = walk_to_confirm(client, start_url, tweak)
    assert client.get(confirm).status_code == 200
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(confirm)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"].endswith("/done/")
    done = client.get(response["Location"])
    assert done.status_code == 200
    draft_id = PAGE_URL.pattern and confirm.split("/")[2]
    return m.Draft.objects.get(pk=draft_id), done
