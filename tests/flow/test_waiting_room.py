"""The waiting room (待合室) in front of start pages: first come first served, counted in
Redis (or in-process without it), signed admissions, never for a resident with a draft,
never for staff or integration traffic; its page is light and needs no JavaScript."""

from __future__ import annotations

import shutil
import time

import pytest
from django.conf import settings as settings_module
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from forms_engine import services
from forms_engine.rush import counters, page, tickets
from forms_engine.rush.config import procedure_key
from tests.conftest import REPO_ROOT

ORG, SLUG = "sample-city", "dog-registration"
KEY = procedure_key(ORG, SLUG)
START = f"/p/{ORG}/{SLUG}/"
QUEUE = f"/p/{ORG}/{SLUG}/queue/"
REDIS_URL = "redis://127.0.0.1:6379/15"


def _load_with_rush(tmp_path, rate: int, extra: str = "") -> None:
    root = tmp_path / "procedures"
    shutil.copytree(REPO_ROOT / "procedures", root)
    path = root / "sample-city" / "dog-registration.yaml"
    text = path.read_text(encoding="utf-8")
    text += f"\nrush:\n  admit_per_minute: {rate}\n{extra}"
    path.write_text(text, encoding="utf-8")
    report = services.procedures_load(root)
    assert report.errors == []


@pytest.fixture(params=["local", "redis"])
def backend(request, settings):
    """Each test runs on the in-process queue and on Redis (db 15, emptied first)."""
    if request.param == "redis":
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
            }
        }
    cache.clear()
    counters.local_counters_clear()
    page.shell_cache_clear()
    yield request.param
    cache.clear()
    counters.local_counters_clear()


@pytest.fixture
def slow_rush(backend, tmp_path, db):
    """One admission a minute: the first arrival goes in, everyone after waits."""
    _load_with_rush(tmp_path, rate=1)


def _is_waiting(response) -> bool:
    return response.status_code == 200 and b'id="rush-status"' in response.content


def test_without_rush_nobody_queues(backend, db, settings):
    services.procedures_load(settings.PROCEDURES_DIR)
    for _ in range(5):
        response = Client().get(START)
        assert response.status_code == 200 and not _is_waiting(response)


def test_the_first_arrival_is_admitted_the_next_ones_wait_with_their_place(slow_rush):
    first, second, third = Client(), Client(), Client()
    admitted = first.get(START)
    assert admitted.status_code == 200 and not _is_waiting(admitted)
    assert b'name="_start"' in admitted.content or b"<form" in admitted.content

    waiting = second.get(START)
    assert _is_waiting(waiting)
    assert 'あなたの順番: <strong id="rush-position">1</strong>' in waiting.content.decode()
    assert _is_waiting(third.get(START))
    assert '<strong id="rush-position">2</strong>' in third.get(START).content.decode()
    # It reloads itself without JavaScript, is never stored by a shared cache, and says
    # what it is in Japanese first.
    assert waiting["Refresh"].endswith(f"url={START}")
    assert 5 <= int(waiting["Refresh"].split(";")[0]) <= page.REFRESH_MAX_SECONDS
    assert waiting["Cache-Control"] == "no-store"
    assert "<h1>待合室</h1>" in waiting.content.decode()
    assert len(waiting.content) < 10 * 1024
    # The admitted resident starts the filing as usual.
    started = first.post(START)
    assert started.status_code == 302 and "/f/" in started["Location"]


def test_the_waiting_page_in_english(slow_rush):
    Client().get(START)
    resident = Client()
    resident.cookies["django_language"] = "en"
    response = resident.get(START)
    assert _is_waiting(response)
    html = response.content.decode()
    assert "<h1>Waiting room</h1>" in html and 'lang="en"' in html
    assert "Your place in the queue" in html and "Dog registration" in html


def test_the_waiting_page_costs_no_database_query(slow_rush, django_assert_num_queries):
    Client().get(START)  # admitted; the procedure's rush is now in the cache
    with django_assert_num_queries(0):
        response = Client().get(START)
    assert _is_waiting(response)
    queued = Client()
    queued.get(START)
    with django_assert_num_queries(0):
        assert _is_waiting(queued.get(START))
        assert queued.get(QUEUE).json()["admitted"] is False


def test_residents_are_admitted_in_the_order_they_arrived(backend, tmp_path, db):
    _load_with_rush(tmp_path, rate=120)  # two a second, one second of burst
    residents = [Client() for _ in range(6)]
    order: list[int] = []
    for i, r in enumerate(residents):
        if not _is_waiting(r.get(START)):
            order.append(i)  # the burst: admitted on arrival
    assert len(order) < len(residents)
    deadline = time.monotonic() + 30
    while len(order) < len(residents) and time.monotonic() < deadline:
        # The later arrivals ask first every round: they must still not get in first.
        for i in reversed(range(len(residents))):
            if i in order:
                continue
            if not _is_waiting(residents[i].get(START)):
                order.append(i)
        time.sleep(0.05)
    assert order == list(range(len(residents)))


def test_the_place_in_the_queue_keeps_with_the_cookie_and_the_script_sees_it(slow_rush):
    Client().get(START)
    resident = Client()
    resident.get(START)
    for _ in range(3):  # reloading does not move the resident back
        assert '<strong id="rush-position">1</strong>' in resident.get(START).content.decode()
    status = resident.get(QUEUE).json()
    assert status["admitted"] is False and status["position"] == 1 and status["minutes"] >= 1
    # Someone without a ticket is told to go to the start page, which hands one out.
    assert Client().get(QUEUE).json() == {"admitted": True}


def _cookie(client) -> str:
    return client.cookies[tickets.cookie_name(KEY)].value


def test_a_forged_ticket_goes_to_the_end_of_the_queue(slow_rush):
    Client().get(START)
    behind = [Client() for _ in range(3)]
    for c in behind:
        c.get(START)
    cheat = Client()
    # Editing the signed value (a lower ticket, or an admission) does not verify.
    data = signing.loads(_cookie(behind[2]), salt=tickets.QUEUED_SALT)
    assert data["t"] == 4
    forged = signing.dumps({"k": KEY, "t": 1}, salt=tickets.QUEUED_SALT)[:-3] + "AAA"
    cheat.cookies[tickets.cookie_name(KEY)] = forged
    assert '<strong id="rush-position">4</strong>' in cheat.get(START).content.decode()
    # A real signature for another salt (a queued ticket replayed as an admission) or
    # another procedure is no better.
    other = Client()
    other.cookies[tickets.cookie_name(KEY)] = signing.dumps(
        {"k": "p:sample-city/child-allowance", "t": 1}, salt=tickets.ADMITTED_SALT
    )
    assert _is_waiting(other.get(START))
    garbage = Client()
    garbage.cookies[tickets.cookie_name(KEY)] = "x" * 5000
    assert _is_waiting(garbage.get(START))


def test_an_expired_admission_goes_to_the_end_of_the_queue(slow_rush, monkeypatch):
    Client().get(START)
    resident = Client()
    past = time.time() - 31 * 60  # admissions last 30 minutes by default
    with monkeypatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: past)
        expired = signing.dumps({"k": KEY, "t": 1}, salt=tickets.ADMITTED_SALT)
    resident.cookies[tickets.cookie_name(KEY)] = expired
    assert _is_waiting(resident.get(START))
    fresh = Client()
    fresh.cookies[settings_module.SESSION_COOKIE_NAME] = "fresh-session-key"
    fresh.cookies[tickets.cookie_name(KEY)] = signing.dumps(
        {"k": KEY, "t": 1, "s": tickets.session_hash("fresh-session-key")},
        salt=tickets.ADMITTED_SALT,
    )
    assert not _is_waiting(fresh.get(START))


def test_a_copied_queued_ticket_goes_in_once(slow_rush):
    """Copies of one queued cookie: the first to reach its turn goes in, the others get a
    new ticket at the end of the queue."""
    assert not _is_waiting(Client().get(START))  # ticket 1
    resident = Client()
    assert _is_waiting(resident.get(START))  # ticket 2
    copied = _cookie(resident)
    time.sleep(0.05)
    counters.counters().advance(KEY, 1000.0, take=False)  # time passes: 2 may go in
    assert not _is_waiting(Client().get(START))  # ticket 3 goes in; nobody waits now
    bot = Client()
    bot.cookies[tickets.cookie_name(KEY)] = copied
    assert not _is_waiting(resident.get(START))  # ticket 2, its first use
    response = bot.get(START)
    assert _is_waiting(response)  # ticket 2 again: a new ticket (4), behind
    assert '<strong id="rush-position">1</strong>' in response.content.decode()
    assert _cookie(bot) != copied


def test_after_the_queue_restarts_its_numbers_go_in_again(slow_rush):
    """The queue's state lost (evicted, expired, reset): numbering starts again at 1, and
    the new holder of a number that went in before is admitted, not taken for a copy."""
    assert not _is_waiting(Client().get(START))  # ticket 1 goes in
    counters.counters().reset(KEY)
    assert not _is_waiting(Client().get(START))  # ticket 1 of the new queue
    assert _is_waiting(Client().get(START))  # and the next one waits as usual


def test_a_ticket_from_before_the_queue_restarted_does_not_wait_forever(slow_rush):
    """A resident queued when the state was lost holds a number the new queue may never
    reach (it admits at most one second's worth beyond its own tickets): they get a new
    ticket instead, and the script is told to reload the start page to get it."""
    assert not _is_waiting(Client().get(START))  # ticket 1
    queued = [Client() for _ in range(3)]
    for c in queued:
        assert _is_waiting(c.get(START))  # tickets 2, 3, 4
    counters.counters().reset(KEY)
    assert queued[1].get(QUEUE).json() == {"admitted": True}
    old = _cookie(queued[1])
    assert not _is_waiting(queued[2].get(START))  # ticket 1 of the new queue: in
    response = queued[1].get(START)  # ticket 2 of the new queue: first in line
    assert '<strong id="rush-position">1</strong>' in response.content.decode()
    assert _cookie(queued[1]) != old


def test_a_copied_admission_admits_nobody_in_another_session(slow_rush):
    """One admitted cookie copied to many clients: each other session is queued (at the
    end, as with no cookie), never an error; the admitted resident stays admitted."""
    admitted = Client()
    assert not _is_waiting(admitted.get(START))
    session_key = admitted.cookies[settings_module.SESSION_COOKIE_NAME].value
    assert session_key
    copied = admitted.cookies[tickets.cookie_name(KEY)].value
    positions = []
    for _ in range(3):
        bot = Client()
        bot.cookies[tickets.cookie_name(KEY)] = copied
        response = bot.get(START)
        assert _is_waiting(response)
        positions.append(response.content.decode().split('id="rush-position">')[1][:1])
        # It now holds a queued ticket of its own, not the copied admission.
        assert bot.cookies[tickets.cookie_name(KEY)].value != copied
    assert positions == ["1", "2", "3"]
    # With another session of its own: still not admitted.
    stranger = Client()
    stranger.cookies[settings_module.SESSION_COOKIE_NAME] = "someone-elses-session"
    stranger.cookies[tickets.cookie_name(KEY)] = copied
    assert _is_waiting(stranger.get(START))
    # An admission from before the binding (no session hash) counts as none, too.
    old = Client()
    old.cookies[settings_module.SESSION_COOKIE_NAME] = session_key
    old.cookies[tickets.cookie_name(KEY)] = signing.dumps(
        {"k": KEY, "t": 1}, salt=tickets.ADMITTED_SALT
    )
    assert _is_waiting(old.get(START))
    # The admitted resident goes on, and starts the filing.
    assert not _is_waiting(admitted.get(START))
    started = admitted.post(START)
    assert started.status_code == 302 and "/f/" in started["Location"]


def test_a_resident_with_a_draft_never_queues(slow_rush):
    resident = Client()
    assert not _is_waiting(resident.get(START))
    started = resident.post(START)
    assert started.status_code == 302
    for _ in range(3):
        Client().get(START)  # the queue grows behind them
    # Their admission is gone (cleared, or expired): their open draft still lets them in.
    del resident.cookies[tickets.cookie_name(KEY)]
    again = resident.get(START)
    assert again.status_code == 200 and not _is_waiting(again)
    assert resident.get(started["Location"]).status_code == 200
    # A draft of another procedure is no pass for this one.
    other = Client()
    assert other.post("/p/sample-city/child-allowance/").status_code == 302
    assert _is_waiting(other.get(START))


def test_staff_and_integration_traffic_never_queue(slow_rush, settings, django_user_model):
    settings.RUSH_ADMIT_PER_MINUTE = 1  # the emergency switch: every procedure queues
    for _ in range(3):
        Client().get(START)
    staff = Client()
    user = django_user_model.objects.create_superuser("operator", "op@example.jp", "pw-123456!")
    staff.force_login(user)
    for path in ("/admin/", "/admin/forms_engine/submission/", "/staff/"):
        assert not _is_waiting(staff.get(path)), path
    for path in ("/api/postal/", "/payments/stripe/webhook/", "/healthz/live", "/status/"):
        assert not _is_waiting(Client().get(path)), path
        assert not _is_waiting(Client().post(path, {})), path


def test_the_site_wide_switch_queues_every_procedure(backend, db, settings):
    services.procedures_load(settings.PROCEDURES_DIR)
    settings.RUSH_ADMIT_PER_MINUTE = 1
    url = "/p/sample-city/child-allowance/"
    assert not _is_waiting(Client().get(url))
    assert _is_waiting(Client().get(url))
    assert Client().get("/p/sample-city/no-such-procedure/").status_code == 404
    bundle = reverse("bundle_start", args=["sample-city", "moving-in"])
    assert not _is_waiting(Client().get(bundle))
    assert _is_waiting(Client().get(bundle))


def test_a_procedure_published_from_the_console_queues_at_once(backend, db, settings):
    """Asked for before it existed (a resident early at opening time), then published
    through the console's service with a waiting room: the next arrival already sees the
    room, in this worker and (through the shared cache) in every other."""
    from forms_engine.rush import config as rush_config_module
    from forms_engine.rush.config import rush_config

    services.procedures_load(settings.PROCEDURES_DIR)
    from forms_engine import models as m

    org = m.Organization.objects.get(slug=ORG)
    key = procedure_key(ORG, "opening-day")
    assert rush_config(key) is None  # not there yet (remembered a moment)
    source = (REPO_ROOT / "procedures" / ORG / f"{SLUG}.yaml").read_text(encoding="utf-8")
    source += "\nrush:\n  admit_per_minute: 1\n"
    # What the console may name: this organization's variables only.
    source = source.replace("env:ANIMAL_DB_", "env:ORG_SAMPLE_CITY_ANIMAL_DB_")
    services.procedure_publish(org, "opening-day", source)
    assert rush_config(key) is not None
    rush_config_module.rush_config_local_clear()  # another worker: the shared cache
    assert rush_config(key) is not None


# ---- the early door (WaitingRoomMiddleware) ----------------------------------------------

EARLY_DOOR = "forms_engine.views.waiting.WaitingRoomMiddleware"


def _comparable(response) -> tuple:
    """A waiting page or queue answer without what differs between two residents: their
    numbers in the body, the cookie's signed value, the date."""
    import re

    body = re.sub(rb"\d+", b"N", response.content)
    headers = {k: v for k, v in response.headers.items() if k not in ("Set-Cookie", "Date")}
    headers["Content-Length"] = "N"
    headers["Refresh"] = re.sub(r"\d+", "N", headers.get("Refresh", ""))
    cookies = {
        name: {k: v for k, v in morsel.items() if v} for name, morsel in response.cookies.items()
    }
    return response.status_code, body, headers, cookies


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_early_door_answers_as_the_whole_stack_does(slow_rush, settings, language):
    """The waiting page and the queue answer from the middleware carry the same headers,
    cookies and page as the view's gate gives them through the whole stack (a middleware
    added below the early door later and changing such responses fails this test)."""
    assert EARLY_DOOR in settings.MIDDLEWARE
    Client().get(START)  # admitted: everyone after waits

    def newcomer_and_queued() -> tuple:
        resident = Client()
        resident.cookies["django_language"] = language
        first = resident.get(START)
        assert _is_waiting(first) and tickets.cookie_name(KEY) in first.cookies
        again = resident.get(START)
        assert _is_waiting(again) and not again.cookies
        return _comparable(first), _comparable(again), _comparable(resident.get(QUEUE))

    early = newcomer_and_queued()
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != EARLY_DOOR]
    assert newcomer_and_queued() == early


def test_a_429_after_the_early_door_does_not_cost_the_place(slow_rush, monkeypatch):
    """A newcomer found at the front by the early door, then refused by the overload
    guard, keeps the ticket that request handed out: their next try goes in, before
    those who arrived while they waited."""
    Client().get(QUEUE)  # the procedure's rush is in the caches (no ticket taken)
    with monkeypatch.context() as patched:
        _refusing_guard(patched)
        first = Client()
        response = first.get(START)
        assert response.status_code == 429
        assert tickets.cookie_name(KEY) in response.cookies  # their ticket, at the front
    later = Client()
    assert _is_waiting(later.get(START))  # arrived meanwhile: behind them
    admitted = first.get(START)
    assert admitted.status_code == 200 and not _is_waiting(admitted)
    assert first.post(START).status_code == 302
    assert _is_waiting(later.get(START))


def test_a_browser_with_a_session_goes_through_the_view_gate(slow_rush, monkeypatch):
    """The early door leaves a browser that has a session to the view's gate, which reads
    the session for a draft: a resident with a draft is never queued by the door."""
    from forms_engine.views import waiting

    resident = Client()
    resident.get(START)
    assert resident.post(START).status_code == 302  # a draft, and a session
    del resident.cookies[tickets.cookie_name(KEY)]
    calls = []
    real = waiting._place
    monkeypatch.setattr(waiting, "_place", lambda *a: calls.append(a) or real(*a))
    again = resident.get(START)
    assert again.status_code == 200 and not _is_waiting(again)
    assert calls == []  # the draft let them in before any queue was read


@pytest.mark.parametrize("backend", ["redis"], indirect=True)
def test_with_redis_down_the_start_page_is_the_outage_page(slow_rush):
    """The queue cannot be counted: the 503 page with Retry-After, not everyone let in and
    not a bare 500 (the early door's errors go to handler500 as the views' do)."""
    from django.test import override_settings

    Client().get(START)  # the procedure's rush is kept by this worker for a second
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    with override_settings(CACHES=down):
        response = Client(raise_request_exception=False).get(START)
    assert response.status_code == 503 and response["Retry-After"]


def _refusing_guard(patched) -> None:
    """The overload guard answers every request it sees with its 429."""
    from forms_engine import overload

    refused = lambda self, request: overload.too_many_requests(request)  # noqa: E731
    patched.setattr(overload.ConcurrencyGuardMiddleware, "__call__", refused)


def test_the_early_door_reads_no_database_before_the_guard(
    slow_rush, monkeypatch, django_assert_num_queries
):
    """An unknown procedure (a flood of made-up slugs) or one no cache holds yet is left to
    the view's gate behind the guard: the door itself never queries."""
    _refusing_guard(monkeypatch)
    with django_assert_num_queries(0):
        assert Client().get("/p/sample-city/no-such-thing-1/").status_code == 429
        assert Client().get("/p/sample-city/no-such-thing-1/queue/").status_code == 429


def test_an_error_after_the_claim_keeps_the_turn(slow_rush, monkeypatch):
    """The start view failing (here its database) when a resident's turn came: the claim
    is undone, and their next try goes in before those who came meanwhile."""
    from django.db import OperationalError

    from forms_engine.views import start

    def broken(*a, **k):
        raise OperationalError("the database is away")

    first = Client(raise_request_exception=False)
    with monkeypatch.context() as patched:
        patched.setattr(start, "_newcomer_page_lookup", broken)
        assert first.get(START).status_code == 503
    later = Client()
    assert _is_waiting(later.get(START))
    again = first.get(START)
    assert again.status_code == 200 and not _is_waiting(again)
    assert _is_waiting(later.get(START))


def test_the_early_door_checks_the_host_and_the_embedded_key(slow_rush, settings):
    Client().get(START)  # admitted: everyone after waits
    assert Client(HTTP_HOST="evil.example").get(START).status_code == 400
    assert Client(HTTP_HOST="evil.example").get(QUEUE).status_code == 400
    assert settings.SECRET_KEY == settings.EMBEDDED_SECRET_KEY  # the test settings' key
    assert Client(REMOTE_ADDR="203.0.113.7").get(START).status_code == 403
    assert _is_waiting(Client().get(START))


def test_a_shared_link_with_a_query_is_answered_by_the_early_door(
    backend, db, settings, monkeypatch
):
    """At 9:00 many arrive from a shared link (`?fbclid=...`, `?utm_source=...`): they get
    the waiting page like everyone else, never a 429; `?lang=en` still switches the
    language (LanguageMiddleware, down the stack)."""
    from forms_engine import services

    settings.RUSH_ADMIT_PER_MINUTE = 1
    services.procedures_load(settings.PROCEDURES_DIR)
    bundle = "/b/sample-city/moving-in/"
    assert not _is_waiting(Client().get(bundle))
    with monkeypatch.context() as patched:
        _refusing_guard(patched)
        assert _is_waiting(Client().get(bundle))
        assert _is_waiting(Client().get(bundle + "?utm_source=line"))
        assert Client().get(bundle + "?lang=en").status_code == 429
    english = Client().get(bundle + "?lang=en")
    assert _is_waiting(english) and english["Content-Language"] == "en"
    assert english.cookies["django_language"].value == "en"


def test_the_waiting_page_links_follow_the_script_prefix(db):
    from django.urls import set_script_prefix

    from forms_engine.views import waiting

    try:
        set_script_prefix("/")
        assert waiting._urls("p", "x-org", "x-slug")[0] == "/p/x-org/x-slug/"
        set_script_prefix("/denshi/")
        assert waiting._urls("p", "x-org", "x-slug") == (
            "/denshi/p/x-org/x-slug/",
            "/denshi/p/x-org/x-slug/queue/",
        )
    finally:
        set_script_prefix("/")
