"""Locust users of the `burst` benchmark (benchmarks/burst.py runs Locust headless with
this file). Each user is one resident: arrives once at the start page, waits in the
waiting room as a browser without JavaScript does (follows the `Refresh` header), and once
admitted files the three-page procedure (start, three pages, confirmation, completion).
Mode `capacity`: residents file again and again with no waiting room (closed loop), to
measure how many filings per second the server completes.

Settings come from the environment (set by burst.py):
    BURST_MODE      burst | capacity
    BURST_ANSWERS   JSON file {page_id: {input: value or [values]}} of valid answers
    BURST_OUT       JSON-lines file: one record per resident, written at the end
    BURST_WINDOW    seconds of arrivals; a resident still queued after it goes home
    BURST_START     path of the start page
"""

from __future__ import annotations

import gc
import json
import os
import random
import re
import time
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, events, task
from locust.exception import StopUser

MODE = os.environ.get("BURST_MODE", "burst")
ANSWERS = json.loads(open(os.environ["BURST_ANSWERS"], encoding="utf-8").read())
OUT = os.environ["BURST_OUT"]
WINDOW = float(os.environ.get("BURST_WINDOW", "60"))
# The whole run (the window, then the grace period): queued residents keep reloading the
# waiting page until its end, as residents in a real queue go on doing.
RUN = float(os.environ.get("BURST_RUN", str(WINDOW + 30)))
START = os.environ["BURST_START"]
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
RECEIPT = re.compile(r'id="receipt-number">([^<]+)<')
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# A 429 (the overload guard) is an answer: the resident tries again after Retry-After, at
# most this many times per request.
RETRIES = 20
# Seconds past the window by which Locust has spawned every resident (it starts spawning a
# moment after this file is imported).
SPAWN_MARGIN = 5.0
# A reload is sent only if its answer can come back before the run ends.
RELOAD_MARGIN = 3.0

records: list[dict] = []
began = time.monotonic()

# The load generator's own pauses would count as the server's slowness. Python's full
# collections walk every live object: with the thousands of queued residents of a 10x
# burst (400 MB) each took up to 0.5 s, every answer in flight then measured that much
# slower. Young collections still run; what survives is kept until the run ends.
gc.freeze()
gc.set_threshold(10_000, 50, 1_000_000)


class Lost(Exception):
    pass


class Resident(FastHttpUser):
    # One request at a time per resident, as a person with a browser.
    concurrency = 1

    def on_start(self) -> None:
        self.record = {
            "arrived": time.monotonic() - began,
            "waiting_pages": 0,
            "admitted_after": None,
            "receipt": None,
            "draft": None,
            "pages": {},
            "status_5xx": 0,
            "status_429": 0,
            "error": None,
            "gone_home": False,
            "first_ms": None,
            "first_status": None,
            "admitted_late": False,
            "finished": None,
        }
        records.append(self.record)

    def _timed(self, name: str, method: str, path: str, **kw):
        for _attempt in range(RETRIES):
            t0 = time.perf_counter()
            with self.client.request(
                method, path, name=name, allow_redirects=False, catch_response=True, **kw
            ) as r:
                elapsed = (time.perf_counter() - t0) * 1000
                if r.status_code >= 500 or r.status_code == 0:
                    self.record["status_5xx"] += r.status_code >= 500
                    r.failure(f"HTTP {r.status_code}")
                    raise Lost(f"{name}: HTTP {r.status_code}")
                if self.record["first_ms"] is None:
                    # The first answer, whatever it is: a 429 first is counted apart (it is
                    # neither the resident's filing nor the waiting page).
                    self.record["first_ms"] = round(elapsed, 2)
                    self.record["first_status"] = r.status_code
                if r.status_code == 429:
                    self.record["status_429"] += 1
                    r.success()
                    self._pause(float(r.headers.get("Retry-After") or 1))
                    continue
                r.success()
                self.record["pages"].setdefault(name, []).append(round(elapsed, 2))
                return r
        raise Lost(f"{name}: still 429 after {RETRIES} tries")

    def _expect(self, r, status: int, what: str) -> None:
        if r.status_code != status:
            # Which page came instead, for the report: the waiting page, or another.
            seen = " (the waiting page)" if 'id="rush-status"' in (r.text or "") else ""
            raise Lost(f"{what}: HTTP {r.status_code}{seen}, expected {status}")

    def _token(self, r) -> str:
        found = TOKEN.search(r.text or "")
        if not found:
            raise Lost("no CSRF token on the page")
        return found.group(1)

    def _file(self, start_response) -> None:
        r = start_response
        r = self._timed("start POST", "POST", START, data=urlencode(
            {"csrfmiddlewaretoken": self._token(r)}), headers=FORM)  # fmt: skip
        self._expect(r, 302, "start")
        url = r.headers["Location"]
        self.record["draft"] = url.split("/")[2]
        for n in range(1, 10):
            if url.endswith("/confirm/"):
                break
            page_id = url.rstrip("/").split("/")[-1]
            r = self._timed(f"page {n} GET", "GET", url)
            self._expect(r, 200, f"page {n}")
            data = {**ANSWERS[page_id], "csrfmiddlewaretoken": self._token(r)}
            r = self._timed(f"page {n} POST", "POST", url, data=urlencode(data, doseq=True),
                            headers=FORM)  # fmt: skip
            self._expect(r, 302, f"page {n} POST")
            url = r.headers["Location"]
        r = self._timed("confirm GET", "GET", url)
        self._expect(r, 200, "confirm")
        r = self._timed("confirm POST", "POST", url, data=urlencode(
            {"csrfmiddlewaretoken": self._token(r)}), headers=FORM)  # fmt: skip
        self._expect(r, 302, "confirm POST")
        r = self._timed("done GET", "GET", r.headers["Location"])
        self._expect(r, 200, "done")
        found = RECEIPT.search(r.text or "")
        if not found:
            raise Lost("no receipt number on the completion page")
        self.record["receipt"] = found.group(1).strip()
        self.record["finished"] = time.monotonic() - began

    @task
    def arrive_and_file(self) -> None:
        if MODE == "burst":
            # Locust starts users in batches, floor(rate) of them at once about every
            # second: residents arrive through the second instead, at the same rate, not as
            # a pulse of hundreds of requests in the same millisecond.
            gevent.sleep(random.uniform(0.0, 1.0))
            self.record["arrived"] = time.monotonic() - began
        try:
            r = self._timed("start GET", "GET", START)
            while r.status_code == 200 and 'id="rush-status"' in (r.text or ""):
                self.record["waiting_pages"] += 1
                refresh = float((r.headers.get("Refresh") or "5").split(";")[0])
                if time.monotonic() - began + refresh > RUN - RELOAD_MARGIN:
                    # Their next reload would come after the run: still queued at the end
                    # (they saw the waiting page: not lost).
                    self.record["gone_home"] = True
                    self._leave()
                self._pause(refresh)
                r = self._timed("waiting page", "GET", START)
            if time.monotonic() - began > WINDOW and 'id="rush-status"' not in (r.text or ""):
                # Let in after the arrivals' window: home, not into a filing that the end of
                # the run would cut short (which would count as lost). Their admission goes
                # unused, as a resident's who left the queue.
                self.record["gone_home"] = self.record["admitted_late"] = True
                self._leave()
            self._expect(r, 200, "start page")
            self.record["admitted_after"] = time.monotonic() - began - self.record["arrived"]
            self._file(r)
        except Lost as exc:
            self.record["error"] = str(exc)
        if MODE == "capacity":
            if time.monotonic() - began > WINDOW:
                raise StopUser()
            self.client.cookiejar.clear()
            self.on_start()  # the next resident on this connection
            return
        self._leave()

    def _leave(self) -> None:
        """This resident is done (filed, or went home). While residents still arrive, the
        user stays, asleep: Locust replaces a user that stops while it is still spawning
        (it spawns up to the count of live users), and each replacement would be one more
        arrival than the rate says (a quarter more in a 2x burst)."""
        left = WINDOW + SPAWN_MARGIN - (time.monotonic() - began)
        if left > 0:
            self._pause(left)
        raise StopUser()

    def _pause(self, seconds: float) -> None:
        """Wait as a browser does between pages: the server closes an idle connection after
        2 s (gunicorn's keepalive) and the browser then closes its end. Locust's client
        would keep its end open until its next request, and thousands of queued residents
        would hold thousands of local ports (28,000 here), which slowed every new
        connection near the end of a 10x burst."""
        self.client.client.close()
        gevent.sleep(seconds)


@events.quitting.add_listener
def _write(environment, **_kw) -> None:
    with open(OUT, "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")
