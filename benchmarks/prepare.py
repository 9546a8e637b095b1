"""What the benchmarks run against, made with the service's own code: the schema, the bench
procedures, filled-in drafts, and the cookies a browser would hold for them.

Imported by benchmarks/run.py once Django is set up with benchmarks.settings on the bench
database.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import transaction
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

from benchmarks.models import BenchRow
from forms_engine import models as m
from forms_engine import services
from forms_engine.views.common import SESSION_DRAFTS
from tests.factories import page_post

FILING = ("bench-city", "facility-booking")  # three pages
LONG_PAGE = ("bench-city", "business-survey")  # one page of 40 fields
LONG_PAGE_FIELDS = 40
LONG_PAGE_INPUTS = {"f-website": "https://www.example.jp/"}

_PAGE_URL = re.compile(r"^/f/(?P<draft>[0-9a-f-]{36})/(?P<position>\d+)/(?P<page>[a-z0-9_]+)/$")
_BATCH = 2000


class PrepareError(RuntimeError):
    pass


def schema_and_procedures(procedures: Path) -> list[str]:
    """Migrate the empty bench database (run_syncdb: the baseline's table has no migration)
    and load the bench procedures; returns what was loaded."""
    call_command("migrate", interactive=False, run_syncdb=True, verbosity=0)
    call_command("validate_procedures", str(procedures), stdout=io.StringIO())
    report = services.procedures_load(procedures)
    if report.errors:
        raise PrepareError("bench procedures did not load:\n" + "\n".join(report.errors))
    return report.created


def _expect(response, status: int, what: str) -> None:
    if response.status_code != status:
        text = response.content.decode(errors="replace")
        errors = re.findall(r'class="field__error"[^>]*>(.*?)</p>', text, re.S)
        detail = " | ".join(errors) if errors else text[:800]
        raise PrepareError(f"{what}: HTTP {response.status_code}, expected {status}: {detail}")


def fill_in(org: str, slug: str, overrides: dict | None = None) -> tuple[m.Draft, Client]:
    """Start a filing and post valid answers on every page through the real views, as a
    browser would, up to the confirmation page: the answers the benchmarks reuse come out
    of the service's own page processing, not out of a hand-written dict. `overrides`
    replaces inputs tests.factories cannot guess (a value matching a `pattern`)."""
    client = Client()
    response = client.post(f"/p/{org}/{slug}/")
    _expect(response, 302, f"start {org}/{slug}")
    url = response["Location"]
    for _page in range(20):
        if url.endswith("/confirm/"):
            break
        match = _PAGE_URL.match(url)
        if match is None:
            raise PrepareError(f"unexpected redirect to {url}")
        _expect(client.get(url), 200, f"GET {url}")
        draft = m.Draft.objects.get(pk=match["draft"])
        version = services.draft_versions(draft)[int(match["position"])]
        page = next(p for p in services.version_spec(version).pages if p.id == match["page"])
        data = page_post(page)
        data.update({k: v for k, v in (overrides or {}).items() if k in data})
        response = client.post(url, data)
        _expect(response, 302, f"POST {url}")
        url = response["Location"]
    else:
        raise PrepareError(f"{org}/{slug} did not reach its confirmation page")
    _expect(client.get(url), 200, f"GET {url}")
    draft = m.Draft.objects.get(pk=url.split("/")[2])
    problems = services.view_problems(services.draft_view(draft))
    if problems:
        raise PrepareError(f"{org}/{slug} is not complete at confirmation: {problems}")
    return draft, client


def session_cookies(draft_ids) -> list[str]:
    """The session key a browser holds after starting each of these drafts (one browser per
    draft), stored as the configured engine stores it: rows of the session table, which the
    cached_db engine reads on a cache miss. Bulk-inserted, like the drafts."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    expire = timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows = [
        Session(
            session_key=get_random_string(32, VALID_KEY_CHARS),
            session_data=store.encode({SESSION_DRAFTS: [str(d)]}),
            expire_date=expire,
        )
        for d in draft_ids
    ]
    Session.objects.bulk_create(rows)
    return [r.session_key for r in rows]


def csrf_pair() -> tuple[str, str]:
    """(csrftoken cookie, masked form token) as a rendered page hands them out."""
    request = RequestFactory().get("/")
    token = get_token(request)
    return request.META["CSRF_COOKIE"], token


def filing_drafts(template: m.Draft, count: int) -> list[tuple[str, str]]:
    """`count` open drafts answered like `template`, each with its own session cookie:
    (draft id, cookie). Bulk-inserted; only the completion is measured."""
    links = list(
        m.DraftVersion.objects.filter(draft=template).values_list("version_id", "position")
    )
    now = timezone.now()
    out: list[tuple[str, str]] = []
    with transaction.atomic():
        for start in range(0, count, _BATCH):
            drafts = [
                m.Draft(
                    id=uuid.uuid4(),
                    organization_id=template.organization_id,
                    answers=template.answers,
                    version_ids=template.version_ids,
                    created_at=now,
                    updated_at=now,
                )
                for _i in range(min(_BATCH, count - start))
            ]
            m.Draft.objects.bulk_create(drafts)
            m.DraftVersion.objects.bulk_create(
                [
                    m.DraftVersion(draft_id=d.id, version_id=version_id, position=position)
                    for d in drafts
                    for version_id, position in links
                ]
            )
            keys = session_cookies([d.id for d in drafts])
            out.extend(zip((str(d.id) for d in drafts), keys, strict=True))
    return out


def long_page(client: Client, draft: m.Draft) -> str:
    """URL of the 40-field page of `draft`, checked to render every field."""
    version = services.draft_versions(draft)[0]
    page = services.version_spec(version).pages[0]
    url = f"/f/{draft.pk}/0/{page.id}/"
    response = client.get(url)
    _expect(response, 200, f"GET {url}")
    rendered = len(re.findall(r'id="f-[a-z0-9_]+-field"', response.content.decode()))
    if len(page.fields) != LONG_PAGE_FIELDS or rendered != LONG_PAGE_FIELDS:
        raise PrepareError(
            f"{url}: {len(page.fields)} fields in the spec, {rendered} rendered; "
            f"expected {LONG_PAGE_FIELDS}"
        )
    return url


def counts(drafts: list[str] | None = None, payload: str | None = None) -> dict[str, int]:
    """What the benchmarks wrote, in one snapshot of the database (a completion committing
    between two counts must not make them disagree): filings of `drafts` (all drafts when
    None) and bench rows tagged `payload` (all when None)."""
    from django.db import connection

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        out = {"submissions": 0, "outbox": 0, "submitted_drafts": 0, "receipts": 0}
        # In slices: one query takes at most 65,535 parameters.
        slices = (
            [None]
            if drafts is None
            else [drafts[i : i + 10_000] for i in range(0, len(drafts), 10_000)]
        )
        for ids in slices:
            subs = m.Submission.objects.all()
            events = m.OutboxEvent.objects.filter(topic="submission.completed")
            done = m.Draft.objects.filter(status=m.Draft.Status.SUBMITTED)
            if ids is not None:
                subs = subs.filter(draft_id__in=ids)
                events = events.filter(submission__draft_id__in=ids)
                done = done.filter(pk__in=ids)
            out["submissions"] += subs.count()
            out["outbox"] += events.count()
            out["submitted_drafts"] += done.count()
            out["receipts"] += done.exclude(receipt=None).count()
        rows = BenchRow.objects.all()
        out["bench_rows"] = (rows if payload is None else rows.filter(payload=payload)).count()
    return out
