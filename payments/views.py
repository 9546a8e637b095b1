"""The resident's pay pages (reached by a pay link) and Stripe's webhook endpoint."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from forms_engine import models as fm
from forms_engine.middleware import csp
from forms_engine.ratelimit import ratelimit

from .accounts import webhook_secrets
from .links import submission_for_token
from .models import Payment
from .presentation import konbini_view
from .providers import ProviderError
from .providers.stripe_provider import webhook_event
from .services import (
    PaymentRefused,
    checkout_lines,
    payment_cancel,
    payment_latest,
    payment_start,
    payment_sync,
)
from .webhooks import EventMismatch, EventRefused, stripe_event_handle

log = logging.getLogger(__name__)

PS = fm.Submission.PaymentStatus


def _language(request: HttpRequest) -> str:
    """The resident's language: `?lang=` on links we send (mail, Stripe's return), else
    the page's language."""
    chosen = request.GET.get("lang", "")
    if chosen in dict(settings.LANGUAGES):
        translation.activate(chosen)
        request.LANGUAGE_CODE = chosen
        return chosen
    return (translation.get_language() or "ja").split("-")[0]


def _checkout_csp(response: HttpResponse) -> HttpResponse:
    """Pages with a Pay button: the form's answer redirects to the provider's Checkout
    page, which the browser checks against form-action."""
    origin = settings.STRIPE_CHECKOUT_ORIGIN
    if origin:
        response["Content-Security-Policy"] = csp().replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    return response


def _submission(token: str) -> fm.Submission:
    sub = submission_for_token(token)
    if sub is None:
        raise Http404
    return sub


def _context(sub: fm.Submission, token: str, language: str, **extra: Any) -> dict[str, Any]:
    latest = payment_latest(sub)
    return {
        "token": token,
        "sub": sub,
        "title": fm.localized(sub.procedure_version.title, language),
        "lines": checkout_lines(sub, language) if sub.payment_due_amount else [],
        "payment": latest,
        "konbini": konbini_view(latest.konbini)
        if latest and latest.state == Payment.State.AWAITING_KONBINI
        else None,
        "paid": sub.payment_status in (PS.PAID, PS.PARTIALLY_REFUNDED, PS.REFUNDED),
        "payable": sub.payment_status in (PS.AWAITING, PS.EXPIRED, PS.CANCELLED)
        and sub.payment_due_amount > 0,
        "lang": language,
        **extra,
    }


@ratelimit("pay")  # type: ignore[untyped-decorator]
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, token: str) -> HttpResponseBase:
    sub = _submission(token)
    language = _language(request)
    if request.method == "POST":
        try:
            payment = payment_start(sub.pk, language)
        except PaymentRefused:
            return redirect(f"{request.path}?lang={language}")
        except ProviderError:
            log.warning("checkout not started for submission %s", sub.pk)
            sub.refresh_from_db()
            return _checkout_csp(
                render(
                    request,
                    "payments/pay.html",
                    _context(sub, token, language, error=True),
                    status=503,
                )
            )
        if payment.redirect_url and payment.state == Payment.State.OPEN:
            # To the provider's own page: card data never reaches this service.
            return redirect(payment.redirect_url, permanent=False)
        sub.refresh_from_db()
        return render(request, "payments/pay.html", _context(sub, token, language, started=True))
    return _checkout_csp(render(request, "payments/pay.html", _context(sub, token, language)))


def returned(request: HttpRequest, token: str, payment_id: Any) -> HttpResponse:
    """Back from Checkout: ask the provider at once (the webhook may come later)."""
    sub = _submission(token)
    language = _language(request)
    payment = Payment.objects.filter(pk=payment_id, submission=sub).first()
    if payment is None:
        raise Http404
    try:
        payment_sync(payment, source="return")
    except ProviderError:
        log.warning("payment %s: state not read on return", payment.pk)
    sub.refresh_from_db()
    return render(request, "payments/returned.html", _context(sub, token, language))


def cancelled(request: HttpRequest, token: str, payment_id: Any) -> HttpResponse:
    sub = _submission(token)
    language = _language(request)
    payment = Payment.objects.filter(pk=payment_id, submission=sub).first()
    if payment is None:
        raise Http404
    payment_cancel(payment)
    sub.refresh_from_db()
    return _checkout_csp(render(request, "payments/cancelled.html", _context(sub, token, language)))


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    # Keyed by whose endpoint each is: the event is applied only to that account's payments.
    secrets = webhook_secrets()
    signature = request.headers.get("Stripe-Signature", "")
    if not secrets or not signature:
        return HttpResponse("refused", status=400, content_type="text/plain")
    try:
        event, signer = webhook_event(request.body, signature, secrets)
    except ProviderError:
        return HttpResponse("refused", status=400, content_type="text/plain")
    try:
        outcome = stripe_event_handle(event, signer)
    except EventMismatch:
        # Logged (ids and a reason code only) where it was found.
        return HttpResponse("refused", status=400, content_type="text/plain")
    except EventRefused:
        log.info("stripe event %s refused: unknown", event.get("id"))
        return HttpResponse("unknown", status=400, content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")


__all__ = ["cancelled", "pay", "returned", "stripe_webhook"]
