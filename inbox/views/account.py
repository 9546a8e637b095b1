"""Staff sign-in: password (counted by django-axes), then the second factor: a TOTP code
from an authenticator app, enrolled here by QR code, or a single-use backup code."""

from __future__ import annotations

import time
from typing import Any

import segno
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from forms_engine.ratelimit import client_address
from inbox.audit import audit_log
from inbox.auth import is_verified
from inbox.middleware import SEEN_AT, SIGNED_IN_AT
from inbox.scope import staff_scope
from inbox.throttle import login_wait_seconds

from .common import safe_next

BACKUP_CODE_COUNT = 10
TOKEN_MAX_LENGTH = 16


def may_sign_in(user: Any) -> bool:
    """Staff members and the operators of the Django admin."""
    return bool(user.is_active and (user.is_staff or staff_scope(user).is_staff_member))


def _with_next(name: str, next_url: str) -> str:
    return reverse(name) + "?" + urlencode({"next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def staff_login(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request)
    user = request.user
    if user.is_authenticated and may_sign_in(user):
        if is_verified(user):
            return HttpResponseRedirect(next_url)
        return HttpResponseRedirect(_with_next(_second_step(user), next_url))
    error = ""
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "")[:150]
        password = request.POST.get("password", "")[:1024]
        wait = login_wait_seconds(username, client_address(request))
        if not username or not password:
            error = _("Enter your user name and password.")
        elif wait:
            error = _("Too many failed sign-ins. Wait %(seconds)s seconds, then try again.") % {
                "seconds": wait
            }
        else:
            found = authenticate(request, username=username, password=password)
            if found is not None and may_sign_in(found):
                login(request, found)
                request.session[SIGNED_IN_AT] = request.session[SEEN_AT] = int(time.time())
                return HttpResponseRedirect(_with_next(_second_step(found), next_url))
            error = _("The user name or password is not correct.")
    return render(
        request,
        "inbox/login.html",
        {"error": error, "username": username, "next": next_url},
        status=400 if error else 200,
    )


def _second_step(user: Any) -> str:
    confirmed = list(devices_for_user(user, confirmed=True))
    return "inbox:otp_verify" if confirmed else "inbox:otp_setup"


@never_cache
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = safe_next(request)
    if not user.is_authenticated or not may_sign_in(user):
        return HttpResponseRedirect(_with_next("inbox:login", next_url))
    if is_verified(user):
        return HttpResponseRedirect(next_url)
    devices = list(devices_for_user(user, confirmed=True))
    if not devices:
        return HttpResponseRedirect(_with_next("inbox:otp_setup", next_url))
    error = ""
    if request.method == "POST":
        token = "".join(request.POST.get("token", "").split())[:TOKEN_MAX_LENGTH]
        device = _device_matching(devices, token)
        if device is not None:
            otp_login(request, device)
            audit_log(request, "signin.otp_ok", device=_kind(device))
            return HttpResponseRedirect(next_url)
        audit_log(request, "signin.otp_failed")
        error = _("The code is not correct or has expired. Enter the current code.")
    return render(
        request,
        "inbox/otp_verify.html",
        {"error": error, "next": next_url},
        status=400 if error else 200,
    )


def _device_matching(devices: list[Any], token: str) -> Any:
    if not token:
        return None
    for device in devices:
        allowed, _details = device.verify_is_allowed()
        if allowed and device.verify_token(token):
            return device
    return None


def _kind(device: Any) -> str:
    return "totp" if isinstance(device, TOTPDevice) else "backup_code"


@never_cache
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrolment: a TOTP secret shown as a QR code (and as text), confirmed by one code
    from the app; then ten single-use backup codes, shown once."""
    user = request.user
    next_url = safe_next(request)
    if not user.is_authenticated or not may_sign_in(user):
        return HttpResponseRedirect(_with_next("inbox:login", next_url))
    if list(devices_for_user(user, confirmed=True)):
        return HttpResponseRedirect(_with_next("inbox:otp_verify", next_url))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    error = ""
    if request.method == "POST":
        token = "".join(request.POST.get("token", "").split())[:TOKEN_MAX_LENGTH]
        allowed, _details = device.verify_is_allowed()
        if token and allowed and device.verify_token(token):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = backup_codes_replace(user)
            otp_login(request, device)
            audit_log(request, "otp.enrolled")
            return render(request, "inbox/backup_codes.html", {"codes": codes, "next": next_url})
        error = _("The code is not correct or has expired. Enter the current code.")
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=5, border=2, title=_("QR code for your authenticator app"))
    return render(
        request,
        "inbox/otp_setup.html",
        {
            "qr_svg": svg,
            "secret": _grouped(_base32(device.bin_key)),
            "error": error,
            "next": next_url,
        },
        status=400 if error else 200,
    )


def backup_codes_replace(user: Any) -> list[str]:
    """New single-use backup codes for `user` (the old ones stop working)."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name="backup", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def _base32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode().rstrip("=")


def _grouped(text: str) -> str:
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@require_POST
def staff_logout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_log(request, "signout")
    logout(request)
    return HttpResponseRedirect(reverse("inbox:login"))
