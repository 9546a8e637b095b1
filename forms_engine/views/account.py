"""The resident's sign-in by one-time mail link, resume links and logout."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from forms_engine import services
from forms_engine.middleware import SESSION_RESIDENT_EPOCH
from forms_engine.ratelimit import ratelimit

from .common import (
    SESSION_RESIDENT,
    _continue_url,
    _error,
    _lang,
    _remember_draft,
    posted_email,
    same_site_path,
)


def login_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "forms_engine/login_sent.html", {})


@require_http_methods(["GET", "POST"])
def resume(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows a button: mail scanners that open links must not use up the token.
    if request.method == "GET":
        return render(request, "forms_engine/resume.html", {})
    draft = services.draft_resume(token)
    if draft is None:
        return _error(
            request,
            _("This link cannot be used"),
            _(
                "The link has expired or was already used. Start again from the procedure list, or ask for a new link."
            ),
        )
    # A new session key whenever the browser gains a filing: a key planted before (session
    # fixation) or copied earlier must not open it.
    request.session.cycle_key()
    _remember_draft(request, draft)
    return redirect(_continue_url(draft))


@ratelimit("login_link")
@require_http_methods(["GET", "POST"])
def login_request(request: HttpRequest) -> HttpResponse:
    error = ""
    email = ""
    if request.method == "POST":
        email, error = posted_email(request.POST.get("email", ""))
        if not error:
            services.resident_login_link_send(email, _lang())
            return redirect("login_sent")
    next_url = request.GET.get("next") or request.POST.get("next") or ""
    request.session["login_next"] = next_url if same_site_path(next_url) else ""
    return render(request, "forms_engine/login.html", {"email": email, "error": error})


@require_http_methods(["GET", "POST"])
def login_confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        # Say whose account this is: a link someone else forwarded signs in as them.
        email = services.token_email("login", token)
        return render(request, "forms_engine/login_confirm.html", {"email": email})
    resident = services.resident_login(token)
    if resident is None:
        return _error(
            request,
            _("This link cannot be used"),
            _("The sign-in link has expired or was already used. Ask for a new one."),
        )
    # A new session key on every sign-in: a key planted or copied before must not be signed in.
    request.session.cycle_key()
    request.session[SESSION_RESIDENT] = resident.pk
    request.session[SESSION_RESIDENT_EPOCH] = resident.session_epoch
    # Filings started before signing in stay with this browser only: signing in never
    # hands them to an account (the link may be someone else's). New ones are prefilled.
    next_url = request.session.pop("login_next", "")
    return redirect(next_url if same_site_path(next_url) else "home")


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    # flush() deletes the session on the server, so every copy of the cookie stops working
    # (its filings, its sign-in, a status code on screen), and hands out a new empty one.
    request.session.flush()
    return redirect("home")
