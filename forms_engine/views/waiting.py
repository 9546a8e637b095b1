"""The waiting room's gate in front of the start pages of procedures and bundles, and the
place-in-queue endpoint its script polls (forms_engine/rush/ holds the parts).

Only start pages queue: that is where a filing (a draft) begins. Pages of a filing in
progress, the status page, staff (`/staff/`, `/admin/`) and integration traffic (`/api/`,
webhooks) never pass this gate. A resident who already has an open draft of the procedure
(in their session) goes through without a ticket, whatever their cookie says.

Two doors, one decision. `waiting_room` decorates the start views and decides for every
request that reaches them. `WaitingRoomMiddleware`, high in the middleware stack, answers
the requests that make up a rush before the rest of the stack runs: a GET of a start page
from a browser without a session (newcomers and queued residents: the waiting page never
makes a session) and the script's place-in-queue GETs. Where it finds the resident at the
front of the queue it hands its reading to the view's gate, which claims the ticket after
the overload guard has let the request through, so a 429 never costs an admission."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache, wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_script_prefix, resolve, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from forms_engine import models as m
from forms_engine.middleware import chosen_language
from forms_engine.rush import counters, page, tickets
from forms_engine.rush.config import (
    RushConfig,
    bundle_key,
    procedure_key,
    rush_config,
    rush_config_kept,
)

from .common import SESSION_DRAFTS

View = Callable[..., HttpResponse]


def _key(kind: str, org: str, slug: str) -> str:
    return procedure_key(org, slug) if kind == "p" else bundle_key(org, slug)


def _urls(kind: str, org: str, slug: str) -> tuple[str, str]:
    """The start page and queue endpoint, as the waiting page links them."""
    return _urls_under(get_script_prefix(), kind, org, slug)


@lru_cache(maxsize=1024)  # procedures and bundles with a waiting room: bounded
def _urls_under(prefix: str, kind: str, org: str, slug: str) -> tuple[str, str]:
    name = "procedure" if kind == "p" else "bundle"
    return (
        reverse(f"{name}_start", args=[org, slug]),
        reverse(f"{name}_queue", args=[org, slug]),
    )


def _has_open_draft(request: HttpRequest, kind: str, org: str, slug: str) -> bool:
    """An open draft of this procedure (or bundle) remembered in the session. Reads the
    session only when the browser sent one, so a newcomer costs no query."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    ids = request.session.get(SESSION_DRAFTS) or []
    if not ids:
        return False
    drafts = m.Draft.objects.filter(pk__in=ids, status=m.Draft.Status.OPEN, organization__slug=org)
    if kind == "b":
        return drafts.filter(bundle_version__bundle__slug=slug).exists()
    return drafts.filter(bundle_version__isnull=True, versions__procedure__slug=slug).exists()


SESSION_ADMITTED = "rush_admitted"


def _session_key(request: HttpRequest) -> str:
    """The session's key, the session created (and its cookie set) when there is none
    yet: an admission is bound to it (forms_engine/rush/tickets.py)."""
    session = request.session
    if session.session_key is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        # A value in it: the session middleware then sets the cookie on the response.
        session[SESSION_ADMITTED] = True
        session.save()
    assert session.session_key is not None
    return session.session_key


@dataclass(frozen=True)
class Place:
    """A resident's place in a queue, as read by one request."""

    key: str
    config: RushConfig
    ticket: int
    generation: str
    position: int  # 0: at the front (admitted once the ticket is claimed)
    new: bool  # the ticket was handed out by this request (its cookie held no valid one)


def _place(key: str, config: RushConfig, current: tickets.Pass | None) -> Place:
    """The place of the resident holding `current` (a queued ticket, or None: a new ticket
    at the end of the queue)."""
    queue = counters.counters()
    state = queue.advance(key, config.admit_per_second, take=current is None)
    if current is not None and current.generation != state.generation:
        # A ticket of a queue whose state was lost or reset since: its number means
        # nothing in the new numbering. A new ticket, as with no cookie.
        current = None
        state = queue.advance(key, config.admit_per_second, take=True)
    ticket = current.ticket if current is not None else state.ticket
    return Place(key, config, ticket, state.generation, state.position(ticket), current is None)


def _claim(place: Place) -> Place:
    """A place at the front goes in once: the ticket is claimed. A copy of someone's
    ticket that went in already takes a new ticket at the end of the queue, as with no
    cookie."""
    queue = counters.counters()
    ttl = settings.RUSH_TICKET_HOURS * 3600
    if queue.claim(place.key, place.generation, place.ticket, ttl):
        return place
    state = queue.advance(place.key, place.config.admit_per_second, take=True)
    place = replace(
        place,
        ticket=state.ticket,
        generation=state.generation,
        position=state.position(state.ticket),
        new=True,
    )
    if place.position == 0:
        queue.claim(place.key, place.generation, place.ticket, ttl)
    return place


def _release(place: Place) -> None:
    counters.counters().release(place.key, place.generation, place.ticket)


def _write_queued(response: HttpResponse, place: Place) -> None:
    tickets.write(
        response, place.key, place.ticket, admitted=False, minutes=0, generation=place.generation
    )


def _waiting(kind: str, org: str, slug: str, place: Place, language: str = "") -> HttpResponse:
    start_url, status_url = _urls(kind, org, slug)
    response = page.waiting_response(place.config, place.position, start_url, status_url, language)
    if place.new:
        _write_queued(response, place)
    return response


# The resident's place as last read for this request: by WaitingRoomMiddleware for the
# view's gate, then by the gate for the middleware's way back.
PLACE_ATTR = "_rush_place"


def waiting_room(kind: str) -> Callable[[View], View]:
    """Put a start view (`kind` "p" procedure, "b" bundle) behind its waiting room."""

    def decorate(view: View) -> View:
        @wraps(view)
        def gated(request: HttpRequest, org: str, slug: str) -> HttpResponse:
            key = _key(kind, org, slug)
            place: Place | None = getattr(request, PLACE_ATTR, None)
            if place is None or place.key != key:
                config = rush_config(key)
                if config is None:
                    return view(request, org, slug)
                current = tickets.read(request, key, config.admission_minutes)
                if current is not None and current.admitted:
                    return view(request, org, slug)
                if _has_open_draft(request, kind, org, slug):
                    return view(request, org, slug)
                place = _place(key, config, current)
            if place.position == 0:
                place = _claim(place)
            # For WaitingRoomMiddleware: a response that carries neither this resident's
            # admission nor their place (an error) gets their ticket there.
            setattr(request, PLACE_ATTR, place)
            if place.position > 0:
                return _waiting(kind, org, slug, place)
            try:
                response = view(request, org, slug)
            except BaseException:
                _release(place)  # the admission never reaches them: their turn stays
                raise
            if response.status_code >= 400:
                _release(place)
                return response
            tickets.write(
                response,
                key,
                place.ticket,
                admitted=True,
                minutes=place.config.admission_minutes,
                session_key=_session_key(request),
            )
            return response

        return gated

    return decorate


def _status(request: HttpRequest, kind: str, org: str, slug: str) -> HttpResponse:
    key = _key(kind, org, slug)
    config: RushConfig | None = rush_config(key)
    if config is None:
        return page.status_response(None, None)
    current = tickets.read(request, key, config.admission_minutes)
    if current is None or current.admitted:
        return page.status_response(None, config)
    state = counters.counters().advance(key, config.admit_per_second, take=False)
    if current.generation != state.generation:
        return page.status_response(None, config)  # a ticket of a queue that is gone
    return page.status_response(state.position(current.ticket), config)


@require_GET
def procedure_queue(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    return _status(request, "p", org, slug)


@require_GET
def bundle_queue(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    return _status(request, "b", org, slug)


# ---- the early door ------------------------------------------------------------------------

_ROUTES = {
    "procedure_start": ("p", False),
    "bundle_start": ("b", False),
    "procedure_queue": ("p", True),
    "bundle_queue": ("b", True),
}


@lru_cache(maxsize=1024)  # paths asked for are the attacker's choice: bounded
def _route(urlconf: str, path: str) -> tuple[str, bool, str, str] | None:
    """(kind, is the queue endpoint, org, slug) of a start page or queue path, else None."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    found = _ROUTES.get(match.url_name or "")
    if found is None or match.namespace:
        return None
    return (*found, match.kwargs["org"], match.kwargs["slug"])


class WaitingRoomMiddleware:
    """The waiting page and the place-in-queue answer, served before the overload guard
    and the rest of the middleware (sessions, CSRF, authentication, messages: none of
    which such a request uses). At the 9:00 rush these are most requests: each costs a
    Redis round trip and a signature, and is never refused with a 429 (the page already
    says when to come back). Everything else, and every request from a browser with a
    session (it may have a draft, which the view's gate reads from the database), goes
    down the stack as before. What the skipped middleware add to such a response is
    added here (tests/flow/test_waiting_room.py compares both doors)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method != "GET"
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            # `?lang=` switches the language and sets its cookie: LanguageMiddleware's
            # work. Other queries (a shared link's `fbclid`, `utm_source`) change nothing.
            or (request.META.get("QUERY_STRING") and "lang" in request.GET)
        ):
            return self._down(request)
        route = _route(settings.ROOT_URLCONF, request.path_info)
        if route is None:
            return self.get_response(request)
        request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it: 400 otherwise
        kind, is_queue, org, slug = route
        key = _key(kind, org, slug)
        config = rush_config_kept(key)
        if config is None:
            # No waiting room, no such procedure, or not in the caches: the view's gate,
            # behind the overload guard, reads the database if it must.
            return self._down(request)
        language = chosen_language(request)  # LanguageMiddleware's, which runs later
        if is_queue:
            return self._finish(_status(request, kind, org, slug), language)
        # Without a session no admission verifies (it is bound to one): a ticket or none.
        current = tickets.read(request, key, config.admission_minutes)
        place = _place(key, config, current)
        if place.position > 0:
            return self._finish(_waiting(kind, org, slug, place, language), language)
        # At the front: the view's gate claims the ticket once the overload guard lets the
        # request through.
        setattr(request, PLACE_ATTR, place)
        return self._down(request)

    def _down(self, request: HttpRequest) -> HttpResponse:
        """The rest of the stack. A new ticket handed out for this request (here or by the
        view's gate) always reaches the resident: on a response that carries no admission
        (a 429 of the guard, an error after which the gate undid its claim) it is their
        queued ticket, still at the front for their next try."""
        response = self.get_response(request)
        place: Place | None = getattr(request, PLACE_ATTR, None)
        if (
            place is not None
            and place.new
            and (tickets.cookie_name(place.key) not in response.cookies)
        ):
            _write_queued(response, place)
        return response

    @staticmethod
    def _finish(response: HttpResponse, language: str) -> HttpResponse:
        """What the middleware below would add to this response: LanguageMiddleware's
        Content-Language and Vary, XFrameOptionsMiddleware's header, CommonMiddleware's
        Content-Length."""
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        response.headers.setdefault("Content-Length", str(len(response.content)))
        return response
