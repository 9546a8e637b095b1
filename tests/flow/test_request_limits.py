"""Requests that cost the server work are bounded: starting drafts is rate-limited, and
the postal look-up refuses a large body before reading it."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.urls import reverse

from forms_engine import models as m

DOG = ("sample-city", "dog-registration")
BUNDLE = ("sample-city", "moving-in")


@pytest.fixture
def limited(settings):
    settings.RATE_LIMIT_ENABLED = True
    cache.clear()
    yield settings
    cache.clear()


def test_starting_drafts_is_rate_limited(client, loaded, limited):
    limited.RATE_LIMITS = dict(limited.RATE_LIMITS, start="3/600")
    url = reverse("procedure_start", args=list(DOG))
    codes = [client.post(url).status_code for _ in range(5)]
    assert codes == [302, 302, 302, 429, 429]
    assert m.Draft.objects.count() == 3


def test_starting_a_bundle_counts_against_the_same_limit(client, loaded, limited):
    limited.RATE_LIMITS = dict(limited.RATE_LIMITS, start="2/600")
    client.post(reverse("procedure_start", args=list(DOG)))
    client.post(reverse("bundle_start", args=list(BUNDLE)))
    response = client.post(reverse("bundle_start", args=list(BUNDLE)))
    assert response.status_code == 429
    assert response["Retry-After"] == "600"
    assert m.Draft.objects.count() == 2


def test_the_start_page_itself_is_not_limited(client, loaded, limited):
    limited.RATE_LIMITS = dict(limited.RATE_LIMITS, start="1/600")
    url = reverse("procedure_start", args=list(DOG))
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]


class CountingStream(io.BytesIO):
    """A request body that records how much of it was read."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1):
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def post_postal(client, body: bytes, stream=None):
    stream = stream or CountingStream(body)
    response = client.generic(
        "POST",
        reverse("postal_lookup"),
        CONTENT_TYPE="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": stream},
    )
    return response, stream


def test_the_postal_lookup_refuses_a_large_body_before_reading_it(client, db):
    body = b"code=" + b"1" * (1024 * 1024)
    response, stream = post_postal(client, body)
    assert response.status_code == 413
    assert stream.bytes_read == 0


def test_the_postal_lookup_still_answers_a_small_body(client, db):
    response, _stream = post_postal(client, b"code=540-0008")
    assert response.status_code == 200
    assert response.json()["results"][0]["city"] == "大阪市中央区"


def test_the_postal_lookup_still_checks_csrf_after_the_body_cap(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response, _stream = post_postal(strict, b"code=540-0008")
    assert response.status_code == 403
