"""The waiting room's gate in front of the start pages of procedures and bundles, and the
place-in-queue endpoint its script polls (forms_engine/rush/ holds the parts).

Only start pages queue: that is where a filing (a draft) begins. Pages of a filing in
progress, the status page, staff (`/staff/`, `/admin/`) and integration traffic (`/api/`,
webhooks) never pass this gate. A resident who already has an open draft of the procedure
(in their session) goes through without a ticket, whatever their cookie says."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from forms_engine import models as m
from forms_engine.rush import counters, page, tickets
from forms_engine.rush.config import RushConfig, bundle_key, procedure_key, rush_config

from .common import SESSION_DRAFTS

View = Callable[..., HttpResponse]


def _key(kind: str, org: str, slug: str) -> str:
    return procedure_key(org, slug) if kind == "p" else bundle_key(org, slug)


def _urls(kind: str, org: str, slug: str) -> tuple[str, str]:
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


def waiting_room(kind: str) -> Callable[[View], View]:
    """Put a start view (`kind` "p" procedure, "b" bundle) behind its waiting room."""

    def decorate(view: View) -> View:
        @wraps(view)
        def gated(request: HttpRequest, org: str, slug: str) -> HttpResponse:
            key = _key(kind, org, slug)
            config = rush_config(key)
            if config is None:
                return view(request, org, slug)
            current = tickets.read(request, key, config.admission_minutes)
            if current is not None and current.admitted:
                return view(request, org, slug)
            if _has_open_draft(request, kind, org, slug):
                return view(request, org, slug)
            queue = counters.counters()
            state = queue.advance(key, config.admit_per_second, take=current is None)
            if current is not None and current.generation != state.generation:
                # A ticket of a queue whose state was lost or reset since: its number
                # means nothing in the new numbering. A new ticket, as with no cookie.
                current = None
                state = queue.advance(key, config.admit_per_second, take=True)
            ticket = current.ticket if current is not None else state.ticket
            position = state.position(ticket)
            ttl = settings.RUSH_TICKET_HOURS * 3600
            if position == 0 and not queue.claim(key, state.generation, ticket, ttl):
                # This number went in already: a copy of someone's queued cookie takes a
                # new ticket at the end of the queue, as with no cookie.
                current = None
                state = queue.advance(key, config.admit_per_second, take=True)
                ticket = state.ticket
                position = state.position(ticket)
                if position == 0:
                    queue.claim(key, state.generation, ticket, ttl)
            if position == 0:
                response = view(request, org, slug)
                if response.status_code < 400:
                    tickets.write(
                        response,
                        key,
                        ticket,
                        admitted=True,
                        minutes=config.admission_minutes,
                        session_key=_session_key(request),
                    )
                return response
            start_url, status_url = _urls(kind, org, slug)
            response = page.waiting_response(config, position, start_url, status_url)
            if current is None:
                tickets.write(
                    response, key, ticket, admitted=False, minutes=0, generation=state.generation
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
