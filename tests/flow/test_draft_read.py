"""The filing pages' draft read (forms_engine.pk_read): SQL compiled once per connection
must give what the ORM's own get() gives, for every field and the unpublished flag, and
still be one statement that Django's query tools see."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forms_engine import models as m
from forms_engine.pk_read import PrimaryKeyRead
from forms_engine.views import common

START = "/p/sample-city/dog-registration/"


def _started(client: Client) -> m.Draft:
    response = client.post(START)
    assert response.status_code == 302
    return m.Draft.objects.get(pk=response["Location"].split("/")[2])


def _fields(draft: m.Draft) -> dict:
    return {f.attname: getattr(draft, f.attname) for f in m.Draft._meta.concrete_fields}


@pytest.mark.parametrize("with_unpublished", [False, True])
def test_the_read_gives_what_the_orm_gives(loaded, with_unpublished):
    draft = _started(Client())
    m.Draft.objects.filter(pk=draft.pk).update(
        answers={"0": {"name": "山田 太郎", "count": 3, "items": ["a", "b"]}},
        pending={"0.owner": {"name": "<b>"}},
        save_to_profile=True,
    )
    reader = common._DRAFT_READ_WITH_UNPUBLISHED if with_unpublished else common._DRAFT_READ
    expected = m.Draft.objects.get(pk=draft.pk)
    read = reader.read(draft.pk)
    assert isinstance(read, m.Draft)
    assert _fields(read) == _fields(expected)
    assert read.answers["0"]["count"] == 3 and read.updated_at.tzinfo is not None
    assert read._state.adding is False and read._state.db == "default"
    assert read.pk == uuid.UUID(str(draft.pk))
    # The same reader, a string key (as a URL might give it): the same row.
    assert _fields(reader.read(str(draft.pk))) == _fields(expected)
    if with_unpublished:
        assert getattr(read, common._UNPUBLISHED) is False
    else:
        assert not hasattr(read, common._UNPUBLISHED)


def test_the_unpublished_flag_follows_the_procedure(loaded):
    draft = _started(Client())
    reader = common._DRAFT_READ_WITH_UNPUBLISHED
    assert getattr(reader.read(draft.pk), common._UNPUBLISHED) is False
    m.Procedure.objects.filter(slug="dog-registration").update(unpublished_at=timezone.now())
    assert getattr(reader.read(draft.pk), common._UNPUBLISHED) is True
    m.Procedure.objects.filter(slug="dog-registration").update(unpublished_at=None)
    assert getattr(reader.read(draft.pk), common._UNPUBLISHED) is False


def test_an_unknown_draft_is_none_and_the_page_a_404(loaded):
    assert common._DRAFT_READ.read(uuid.uuid4()) is None
    response = Client().get(f"/f/{uuid.uuid4()}/0/owner/")
    assert response.status_code == 404


def test_one_statement_that_query_tools_see(loaded):
    client = Client()
    draft = _started(client)
    url = f"/f/{draft.pk}/0/owner/"
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        common._DRAFT_READ_WITH_UNPUBLISHED.read(draft.pk)
    assert len(queries) == 1
    assert str(draft.pk) in queries[0]["sql"] or draft.pk.hex in queries[0]["sql"]


def test_another_browser_cannot_open_the_draft(loaded):
    draft = _started(Client())
    assert Client().get(f"/f/{draft.pk}/0/owner/").status_code == 404


def test_a_queryset_with_parameters_of_its_own_is_refused(db):
    reader = PrimaryKeyRead(
        m.Draft, lambda: m.Draft.objects.filter(status="open"), uuid.UUID(int=0)
    )
    with pytest.raises(ValueError, match="other parameters"):
        reader.read(uuid.uuid4())


def test_each_residents_page_shows_their_own_answers_only(loaded):
    """Two residents on the same page of the same procedure, one after the other in one
    process: what the page keeps between requests (the draft statement, the HTML around
    each field's answer) never carries one's answers, or an error, to the other."""
    from forms_engine import services
    from tests.factories import page_post

    pages = {}
    for who, family, town in (("a", "山田", "中央1-1"), ("b", "佐藤", "北町2-2")):
        client = Client()
        draft = _started(client)
        url = f"/f/{draft.pk}/0/owner/"
        page = services.version_spec(services.draft_versions(draft)[0]).pages[0]
        data = page_post(page)
        data.update({"f-name-family": family, "f-address-town": town})
        assert client.post(url, data).status_code == 302
        pages[who] = (client, url)
    a, b = (pages[w][0].get(pages[w][1]).content.decode() for w in ("a", "b"))
    assert 'value="山田"' in a and 'value="中央1-1"' in a
    assert "佐藤" not in a and "北町2-2" not in a
    assert 'value="佐藤"' in b and 'value="北町2-2"' in b
    assert "山田" not in b and "中央1-1" not in b
    # One posts a page with an error; the other's page afterwards shows none.
    client, url = pages["a"]
    assert client.post(url, {"f-name-family": ""}).status_code == 200
    again = pages["b"][0].get(pages["b"][1]).content.decode()
    assert "field--error" not in again and 'aria-invalid="true"' not in again
    assert _without_tokens(again) == _without_tokens(b)


def _without_tokens(html: str) -> str:
    """The page without its CSRF tokens (masked anew on every response)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_what_a_compiled_statement_cannot_keep_is_refused(db):
    """A lock, another database, prefetches or values() rows would be dropped silently
    by a statement compiled once: such querysets are refused when first compiled."""
    for make in (
        lambda: m.Draft.objects.select_for_update(),
        lambda: m.Draft.objects.using("default"),
        lambda: m.Draft.objects.prefetch_related("versions"),
        lambda: m.Draft.objects.values(),
    ):
        with pytest.raises(ValueError, match="plain queryset"):
            PrimaryKeyRead(m.Draft, make, uuid.UUID(int=0)).read(uuid.uuid4())


def test_a_finished_threads_connection_takes_its_statement_with_it(db):
    """Statements are kept per connection object (one per thread): once a thread and its
    connection are gone, nothing of them stays (`make run` serves each request in a new
    thread; on SQLite the converters point back at their connection, which a weak-key map
    kept alive for ever: this test fails that way when run on SQLite, `DATABASE_URL`
    unset; on PostgreSQL, as `make test` runs it, it holds the same property)."""
    import gc
    import threading
    import weakref

    reader = PrimaryKeyRead(m.Draft, m.Draft.objects.all, uuid.UUID(int=0))
    gone: list[weakref.ref] = []

    def in_a_thread() -> None:
        from django.db import connections

        assert reader.read(uuid.uuid4()) is None  # compiled and run on this connection
        gone.append(weakref.ref(connections["default"]))
        connections.close_all()

    for _ in range(3):
        thread = threading.Thread(target=in_a_thread)
        thread.start()
        thread.join()
    gc.collect()
    assert len(gone) == 3 and all(ref() is None for ref in gone)
