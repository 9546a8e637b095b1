"""Past what a worker can run at once, a request is answered 429 within the bounded wait
(Retry-After, a tiny translated page), never left to time out; the liveness probe still
answers."""

from __future__ import annotations

import threading
import time

from django.test import RequestFactory

from forms_engine.overload import ConcurrencyGuardMiddleware


def _guard(settings, limit: int, wait: float):
    settings.OVERLOAD_MAX_CONCURRENT = limit
    settings.OVERLOAD_WAIT_SECONDS = wait
    entered = threading.Event()
    release = threading.Event()

    def view(request):
        from django.http import HttpResponse

        if request.path == "/slow/":
            entered.set()
            release.wait(10)
        return HttpResponse("ok")

    return ConcurrencyGuardMiddleware(view), entered, release


def test_a_request_past_the_limit_gets_429_within_the_wait(settings):
    guard, entered, release = _guard(settings, limit=1, wait=0.3)
    rf = RequestFactory()
    busy = threading.Thread(target=lambda: guard(rf.get("/slow/")))
    busy.start()
    try:
        assert entered.wait(5)
        began = time.monotonic()
        response = guard(rf.get("/p/sample-city/dog-registration/"))
        elapsed = time.monotonic() - began
        assert response.status_code == 429
        assert response["Retry-After"] == str(settings.OVERLOAD_RETRY_AFTER)
        assert 0.25 <= elapsed < 1.0
        html = response.content.decode()
        assert "<h1>ただいま混み合っています</h1>" in html and len(html) < 4096
        english = rf.get("/")
        english.COOKIES["django_language"] = "en"
        assert "<h1>The service is busy</h1>" in guard(english).content.decode()
        # A busy worker is alive: the liveness probe is never refused.
        assert guard(rf.get("/healthz/live")).status_code == 200
    finally:
        release.set()
        busy.join(5)
    # The slot is free again.
    assert guard(rf.get("/")).status_code == 200


def test_a_request_waiting_for_a_slot_gets_it_when_one_frees(settings):
    guard, entered, release = _guard(settings, limit=1, wait=3)
    rf = RequestFactory()
    busy = threading.Thread(target=lambda: guard(rf.get("/slow/")))
    busy.start()
    assert entered.wait(5)
    threading.Timer(0.2, release.set).start()
    assert guard(rf.get("/")).status_code == 200
    busy.join(5)


def test_no_limit_by_default(settings):
    guard, entered, release = _guard(settings, limit=0, wait=0.1)
    rf = RequestFactory()
    busy = threading.Thread(target=lambda: guard(rf.get("/slow/")))
    busy.start()
    try:
        assert entered.wait(5)
        assert guard(rf.get("/")).status_code == 200
    finally:
        release.set()
        busy.join(5)
