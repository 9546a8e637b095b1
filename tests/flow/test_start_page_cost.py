"""The start page, where every rush begins, stays cheap: one query, and never the stored
YAML of the version or its organization (the parsed spec is cached per version)."""

from __future__ import annotations

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forms_engine import models as m
from forms_engine import services
from forms_engine.services import procedures


def _one_query_without_sources(client: Client) -> None:
    """The start page read with one query, neither YAML source in it."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/p/sample-city/dog-registration/")
    assert response.status_code == 200
    assert "犬の登録申請" in response.content.decode()
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert '"source"' not in queries[0]["sql"]


def test_the_start_page_is_one_query_without_the_yaml_sources(loaded):
    client = Client()
    assert client.get("/p/sample-city/dog-registration/").status_code == 200  # warm caches
    services.start_rows_forget()  # as in another worker, or a second later
    _one_query_without_sources(client)
    # Within the second the worker keeps the live row: the next newcomers cost no query.
    with CaptureQueriesContext(connection) as queries:
        assert Client().get("/p/sample-city/dog-registration/").status_code == 200
    assert len(queries) == 0, [q["sql"] for q in queries]


def test_the_full_start_view_reads_no_yaml_source_either(loaded):
    """The view a resident with a session gets (and a newcomer before the page is kept):
    one query for the procedure, its version's and organization's YAML left unread."""
    from forms_engine.views.start import newcomer_pages_clear

    client = Client()
    assert client.get("/p/sample-city/dog-registration/").status_code == 200  # warm caches
    services.start_rows_forget()
    newcomer_pages_clear()
    _one_query_without_sources(client)


def test_a_change_made_by_another_worker_shows_within_a_second(loaded, monkeypatch):
    """The kept row is at most START_ROW_SECONDS old: a procedure unpublished by another
    process (here: the row changed behind this one's back) shows closed a second later,
    and starting a filing reads the database at once."""
    clock = [1000.0]
    monkeypatch.setattr(procedures.time, "monotonic", lambda: clock[0])
    url = "/p/sample-city/dog-registration/"
    assert "受け付けていません" not in Client().get(url).content.decode()
    m.Procedure.objects.filter(organization__slug="sample-city", slug="dog-registration").update(
        unpublished_at=timezone.now()
    )
    assert Client().post(url).status_code == 200  # no filing starts
    assert not m.Draft.objects.exists()
    clock[0] += procedures.START_ROW_SECONDS + 0.01
    assert "受け付けていません" in Client().get(url).content.decode()


def test_the_bundle_start_page_reads_no_yaml_source(loaded):
    client = Client()
    assert client.get("/b/sample-city/moving-in/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/b/sample-city/moving-in/").status_code == 200
    assert queries, "the bundle and its procedures are read"
    assert all('"source"' not in q["sql"] for q in queries), [q["sql"] for q in queries]


def test_newcomers_get_the_kept_page_with_tokens_of_their_own(loaded):
    url = "/p/sample-city/dog-registration/"
    pages = []
    for _ in range(3):
        client = Client(enforce_csrf_checks=True)
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert len(tokens) == 2 and "\x00" not in html  # the language switch and Start
        pages.append((client, tokens, html))
    # The same page for everyone but the tokens, and each resident's tokens are their own.
    strip = [re.sub(r'value="[^"]{64}"', "", html) for _c, _t, html in pages]
    assert strip[0] == strip[1] == strip[2]
    assert pages[0][1] != pages[1][1]
    for client, tokens, _html in pages:
        started = client.post(url, {"csrfmiddlewaretoken": tokens[1]})
        assert started.status_code == 302 and "/f/" in started["Location"]
    # Someone with a session (here: a draft in progress) gets the page made for them.
    client = pages[0][0]
    assert "続きから" in client.get(url).content.decode()
    # And the English page is kept apart from the Japanese one.
    english = Client()
    english.cookies["django_language"] = "en"
    assert "Dog registration" in english.get(url).content.decode()
