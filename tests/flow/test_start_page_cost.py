"""The start page, where every rush begins, stays cheap: one query, and never the stored
YAML of the version or its organization (the parsed spec is cached per version)."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def test_the_start_page_is_one_query_without_the_yaml_sources(loaded):
    client = Client()
    assert client.get("/p/sample-city/dog-registration/").status_code == 200  # warm caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/p/sample-city/dog-registration/")
    assert response.status_code == 200
    assert "犬の登録申請" in response.content.decode()
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert '"source"' not in queries[0]["sql"]


def test_the_bundle_start_page_reads_no_yaml_source(loaded):
    client = Client()
    assert client.get("/b/sample-city/moving-in/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/b/sample-city/moving-in/").status_code == 200
    assert queries, "the bundle and its procedures are read"
    assert all('"source"' not in q["sql"] for q in queries), [q["sql"] for q in queries]
