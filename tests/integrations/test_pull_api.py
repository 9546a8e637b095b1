"""The pull API: tokens, scope, cursor paging, downloads, problem+json, rate limit."""

from __future__ import annotations

import io
import re
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from forms_engine import models as m
from integrations.api.feed import cursor_decode, cursor_encode, feed_append
from integrations.api.models import ApiToken, FeedEntry
from integrations.api.tokens import api_token_create, token_hash

from .conftest import DOGS, RECORDS, live_version, make_submission, records_answers

pytestmark = pytest.mark.django_db


def token_for(department: m.Department, **kw) -> str:
    _row, token = api_token_create(
        name="records-db", organization=department.organization, departments=[department], **kw
    )
    return token


def auth(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def records(loaded):
    version = live_version(*RECORDS)
    subs = [make_submission(version, records_answers(i)) for i in range(5)]
    for s in subs:
        feed_append(s.pk)
    return version, subs


@pytest.fixture
def dogs(loaded):
    version = live_version(*DOGS)
    sub = make_submission(version, {"name": {"family": "犬"}})
    feed_append(sub.pk)
    return version, sub


def test_the_command_prints_a_token_once_and_stores_only_its_hash(records):
    version, _subs = records
    out = io.StringIO()
    dept = version.department
    call_command(
        "api_token_create",
        "records-db",
        "--department",
        f"{dept.organization.slug}/{dept.slug}",
        stdout=out,
        stderr=io.StringIO(),
    )
    token = out.getvalue().strip()
    assert token.startswith("dsk_") and len(token) > 40
    row = ApiToken.objects.get()
    assert row.token_hash == token_hash(token) and token not in row.token_hash
    assert list(row.departments.all()) == [dept]


def test_pages_through_ready_submissions_of_its_departments_with_a_cursor(client, records, dogs):
    version, subs = records
    token = token_for(version.department)
    first = client.get("/api/v1/submissions?limit=2", **auth(token))
    assert first.status_code == 200, first.content
    assert first["Content-Type"] == "application/json"
    assert "Set-Cookie" not in first and not first.cookies
    body = first.json()
    assert [i["receipt_number"] for i in body["items"]] == [s.number for s in subs[:2]]
    assert body["has_more"] is True
    item = body["items"][0]
    assert item["answers"]["name"]["family"] == "山田"
    assert item["labels"]["name"] == "氏名（法人の場合は担当者）"
    assert item["procedure"] == {
        "slug": "records-disclosure",
        "version": version.number,
        "title": "行政文書公開請求",
    }
    numbers = [i["receipt_number"] for i in body["items"]]
    cursor = body["next_cursor"]
    while True:
        page = client.get(f"/api/v1/submissions?limit=2&cursor={cursor}", **auth(token)).json()
        numbers += [i["receipt_number"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert numbers == [s.number for s in subs]
    # Nothing new: the same cursor comes back, and later brings what is new.
    empty = client.get(f"/api/v1/submissions?cursor={cursor}", **auth(token)).json()
    assert empty == {"items": [], "next_cursor": cursor, "has_more": False}
    late = make_submission(version, records_answers(9))
    feed_append(late.pk)
    again = client.get(f"/api/v1/submissions?cursor={cursor}", **auth(token)).json()
    assert [i["receipt_number"] for i in again["items"]] == [late.number]


def test_another_departments_token_sees_nothing_and_gets_404_for_their_ids(client, records, dogs):
    version, subs = records
    _dog_version, dog = dogs
    dog_token = token_for(_dog_version.department)
    listing = client.get("/api/v1/submissions", **auth(dog_token)).json()
    assert [i["id"] for i in listing["items"]] == [str(dog.pk)]
    response = client.get(f"/api/v1/submissions/{subs[0].pk}", **auth(dog_token))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert client.get(f"/api/v1/submissions/{dog.pk}", **auth(dog_token)).status_code == 200


def test_a_submission_not_ready_yet_is_not_served(client, records):
    version, _subs = records
    waiting = make_submission(version, records_answers(7))  # no feed entry yet
    token = token_for(version.department)
    assert client.get(f"/api/v1/submissions/{waiting.pk}", **auth(token)).status_code == 404
    numbers = [
        i["receipt_number"]
        for i in client.get("/api/v1/submissions", **auth(token)).json()["items"]
    ]
    assert waiting.number not in numbers


@pytest.mark.parametrize("kind", ["missing", "malformed", "unknown", "expired", "revoked"])
def test_bad_or_expired_tokens_get_401_problem(client, records, kind):
    version, _subs = records
    headers = {}
    if kind == "malformed":
        headers = {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}
    elif kind == "unknown":
        headers = auth("dsk_" + "x" * 43)
    elif kind == "expired":
        headers = auth(
            token_for(version.department, expires_at=timezone.now() - timedelta(seconds=1))
        )
    elif kind == "revoked":
        token = token_for(version.department)
        ApiToken.objects.update(revoked_at=timezone.now())
        headers = auth(token)
    response = client.get("/api/v1/submissions", **headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["title"] == "Unauthorized"


def test_invalid_parameters_and_methods_are_problems(client, records):
    version, _subs = records
    token = token_for(version.department)
    for query in (
        "cursor=%%%",
        "cursor=v1.1!",
        "limit=0",
        "limit=201",
        "limit=x",
    ):
        response = client.get(f"/api/v1/submissions?{query}", **auth(token))
        assert response.status_code == 400, query
        assert response["Content-Type"] == "application/problem+json"
    response = client.post("/api/v1/submissions", **auth(token))
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


def test_the_rate_limit_counts_per_token(client, records, settings):
    version, _subs = records
    settings.RATE_LIMIT_ENABLED = True
    settings.API_RATE_LIMIT = "3/60"
    from django.core.cache import cache

    cache.clear()
    one, two = token_for(version.department), token_for(version.department)
    codes = [client.get("/api/v1/submissions", **auth(one)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/api/v1/submissions", **auth(one))
    assert (
        limited["Content-Type"] == "application/problem+json" and int(limited["Retry-After"]) >= 1
    )
    assert client.get("/api/v1/submissions", **auth(two)).status_code == 200


def test_files_come_with_short_lived_urls_only_when_deliverable_and_each_is_audited(
    client, records, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    version, subs = records
    sub = subs[0]
    from forms_engine import storage

    storage.object_store().upload_stream(
        "files/abc", io.BytesIO(b"%PDF-1.4 test"), "application/pdf"
    )
    clean = m.Attachment.objects.create(
        draft=sub.draft,
        submission=sub,
        field_key="0.reference",
        file="files/abc",
        original_name="参考資料.pdf",
        size=13,
        kind="pdf",
        content_type="application/pdf",
        sha256="a" * 64,
        status=m.Attachment.Status.CLEAN,
    )
    m.Attachment.objects.create(
        draft=sub.draft,
        submission=sub,
        field_key="0.reference",
        file="quarantine/x",
        original_name="未検査.pdf",
        size=5,
        kind="pdf",
        content_type="application/pdf",
        status=m.Attachment.Status.INFECTED,
    )
    token = token_for(version.department)
    # The list names the files but hands out no URL.
    listed = client.get("/api/v1/submissions", **auth(token)).json()["items"][0]["attachments"]
    assert {a["name"] for a in listed} == {"参考資料.pdf", "未検査.pdf"}
    assert all(a["download_url"] is None for a in listed)
    assert m.DownloadAudit.objects.count() == 0

    detail = client.get(f"/api/v1/submissions/{sub.pk}", **auth(token)).json()
    by_name = {a["name"]: a for a in detail["attachments"]}
    assert by_name["未検査.pdf"]["download_url"] is None
    url = by_name["参考資料.pdf"]["download_url"]
    assert url.startswith("http://testserver/") and by_name["参考資料.pdf"]["field"] == "reference"
    assert by_name["参考資料.pdf"]["download_expires_in"] == settings.STAFF_DOWNLOAD_URL_SECONDS
    assert "参考資料" not in url
    fetched = client.get(url.removeprefix("http://testserver"))
    assert fetched.status_code == 200 and b"".join(fetched.streaming_content) == b"%PDF-1.4 test"
    audit = m.DownloadAudit.objects.get()
    assert audit.attachment == clean and audit.username.startswith("api:") and audit.user is None


def test_the_cursor_is_opaque_and_checked():
    assert cursor_decode(cursor_encode(12345)) == 12345
    assert cursor_decode(None) == 0
    assert cursor_encode(7) == "v1.7"
    for bad in ("", "v1.-1", "v2.1", "v1.", "v1.1x", "v1." + "9" * 19, "!!"):
        with pytest.raises(ValueError):
            cursor_decode(bad)


@pytest.mark.django_db(transaction=True)
def test_feed_numbers_become_visible_in_commit_order(loaded):
    """A feed entry whose transaction commits late never appears behind a cursor that has
    moved past it: the second append waits until the first commits."""
    version = live_version(*RECORDS)
    first, second = (make_submission(version, records_answers(i)) for i in range(2))
    first_inside = threading.Event()
    release_first = threading.Event()
    second_done = threading.Event()
    errors: list[BaseException] = []

    def slow_first():
        try:
            with transaction.atomic():
                feed_append(first.pk)
                first_inside.set()
                release_first.wait(10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def quick_second():
        try:
            feed_append(second.pk)
            second_done.set()
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    a = threading.Thread(target=slow_first)
    a.start()
    assert first_inside.wait(10)
    b = threading.Thread(target=quick_second)
    b.start()
    # While the first is uncommitted, the second cannot be numbered and committed ahead.
    assert not second_done.wait(1.0)
    assert list(FeedEntry.objects.values_list("submission_id", flat=True)) == []
    release_first.set()
    a.join(10)
    b.join(10)
    assert not errors, errors
    ordered = list(FeedEntry.objects.order_by("id").values_list("submission_id", flat=True))
    assert ordered == [first.pk, second.pk]


def test_an_administrator_creates_a_token_in_the_admin_and_sees_it_once(
    client, admin_user, records
):
    from tests.staff import login_verified

    admin_client = login_verified(client, admin_user)
    version, _subs = records
    dept = version.department
    response = admin_client.post(
        "/admin/integrations/apitoken/add/",
        {"name": "records-db", "organization": dept.organization_id, "departments": [dept.pk]},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(msg) for msg in response.context["messages"]]
    (token,) = re.findall(r"dsk_[A-Za-z0-9_-]{43}", " ".join(shown))
    row = ApiToken.objects.get()
    assert row.token_hash == token_hash(token) and list(row.departments.all()) == [dept]
    listing = admin_client.get("/admin/integrations/apitoken/").content.decode()
    assert token not in listing and row.prefix in listing
    # A department of another organization is refused.
    other = m.Department.objects.exclude(organization=dept.organization).first()
    refused = admin_client.post(
        "/admin/integrations/apitoken/add/",
        {"name": "x", "organization": dept.organization_id, "departments": [other.pk]},
    )
    assert refused.status_code == 200 and ApiToken.objects.count() == 1
