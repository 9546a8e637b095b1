"""Taking a submission's fee: starting a checkout, applying what the provider says (the
return page, webhooks, reconciliation), offline payments staff record, refunds.

The submission's own payment state moves only through the core's services
(forms_engine.services.payment_*), which never go back from paid or refunded. An attempt
(Payment) settles once: paid, expired or cancelled; only money actually received moves an
attempt that expired or was cancelled (to paid). Expired or cancelled reports about an
older attempt never touch the submission, whose state follows its latest attempt.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from forms_engine import models as fm
from forms_engine import services as fs
from forms_engine.filing import fee_lines

from .accounts import Account, account_for, account_named
from .links import pay_token
from .models import Payment, Refund
from .providers import (
    CheckoutRequest,
    CheckoutState,
    LineItem,
    Provider,
    ProviderError,
    provider_get,
)

log = logging.getLogger(__name__)

PS = fm.Submission.PaymentStatus
UNSETTLED = (Payment.State.OPEN, Payment.State.AWAITING_KONBINI)


class PaymentRefused(Exception):
    """Why a payment cannot be started or a staff action cannot be done (a code)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _provider(payment: Payment) -> Provider:
    return provider_get(account_named(payment.provider, payment.account))


def spec_methods(submission: fm.Submission) -> list[str]:
    spec = fs.version_spec(submission.procedure_version)
    return list(spec.fee.methods) if spec.fee is not None else ["card"]


def checkout_lines(submission: fm.Submission, language: str) -> list[LineItem]:
    """The fee items that apply, evaluated again on the server from the submission's own
    version and answers (as of its filing day). When they do not add up to what is due
    (a fee staff set after review), one line for the amount due."""
    spec = fs.version_spec(submission.procedure_version)
    today = timezone.localdate(submission.submitted_at)
    lines = fee_lines(spec, submission.answers, language, today)
    items = [
        LineItem(str(line["label"]), int(line["amount"]), int(line["quantity"])) for line in lines
    ]
    if items and sum(i.unit_amount * i.quantity for i in items) == submission.payment_due_amount:
        return items
    with override(language):
        title = fm.localized(submission.procedure_version.title, language)
    return [LineItem(title, submission.payment_due_amount, 1)]


def payment_latest(submission: fm.Submission) -> Payment | None:
    return Payment.objects.filter(submission=submission).order_by("-attempt").first()


def _absolute(path: str, language: str) -> str:
    return f"{settings.SITE_URL}{path}?lang={language}"


def payment_start(submission_id: Any, language: str) -> Payment:
    """The checkout the resident pays through now: the open one if it is still good,
    otherwise a new attempt. The provider is asked with an idempotency key per
    submission and attempt, so a repeated or retried start never opens two checkouts."""
    with transaction.atomic():
        sub = (
            fm.Submission.objects.select_for_update()
            .select_related("organization", "procedure_version")
            .get(pk=submission_id)
        )
        if sub.payment_status in (PS.PAID, PS.PARTIALLY_REFUNDED, PS.REFUNDED):
            raise PaymentRefused("already_paid")
        if sub.payment_status == PS.NONE or sub.payment_due_amount <= 0:
            raise PaymentRefused("nothing_due")
        latest = payment_latest(sub)
        account = account_for(sub.organization)
        soon = timezone.now() + timedelta(minutes=2)
        if latest is not None and (
            latest.state == Payment.State.AWAITING_KONBINI
            or (
                latest.state == Payment.State.OPEN
                and latest.amount == sub.payment_due_amount
                and latest.provider == account.provider
                and (latest.expires_at is None or latest.expires_at > soon)
            )
        ):
            return _created(latest, sub, language)
        if latest is not None and latest.state == Payment.State.OPEN:
            # An open checkout for another amount, of another provider or about to
            # expire: stop it first. It may turn out paid (or a slip issued) meanwhile.
            _cancel_locked(latest)
            latest.refresh_from_db()
            if latest.state == Payment.State.PAID:
                raise PaymentRefused("already_paid")
            if latest.state == Payment.State.AWAITING_KONBINI:
                return latest
        payment = Payment.objects.create(
            submission=sub,
            attempt=(latest.attempt + 1) if latest else 1,
            provider=account.provider,
            account=account.name,
            amount=sub.payment_due_amount,
            methods=spec_methods(sub),
            language=language,
            # An offline attempt waits for staff, however long it takes.
            expires_at=None
            if account.provider == "offline"
            else timezone.now() + timedelta(minutes=settings.PAYMENT_CHECKOUT_MINUTES),
        )
        fs.payment_mark_awaiting(sub.pk, provider=payment.provider)
    return _created(payment, sub, language)


def _created(payment: Payment, sub: fm.Submission, language: str) -> Payment:
    """The attempt with its checkout opened at the provider (once: a retry after a
    failure uses the same idempotency key)."""
    if payment.state == Payment.State.OPEN and payment.reference is None:
        _checkout_create(payment, sub, language)
    return payment


def _checkout_create(payment: Payment, sub: fm.Submission, language: str) -> None:
    provider = _provider(payment)
    token = pay_token(sub)
    expires_at = payment.expires_at or timezone.now() + timedelta(
        minutes=settings.PAYMENT_CHECKOUT_MINUTES
    )
    request = CheckoutRequest(
        amount=payment.amount,
        currency="jpy",
        line_items=checkout_lines(sub, language),
        methods=list(payment.methods),
        metadata={
            "receipt_number": sub.number,
            "submission_id": str(sub.pk),
            "payment_id": str(payment.pk),
        },
        success_url=_absolute(reverse("payments:returned", args=[token, payment.pk]), language),
        cancel_url=_absolute(reverse("payments:cancelled", args=[token, payment.pk]), language),
        expires_at=expires_at,
        idempotency_key=f"checkout-{sub.pk}-{payment.attempt}",
        locale=language,
    )
    if sum(i.unit_amount * i.quantity for i in request.line_items) != payment.amount:
        raise PaymentRefused("amount_mismatch")
    started = provider.checkout_create(request)
    Payment.objects.filter(pk=payment.pk).update(
        reference=started.reference,
        redirect_url=started.redirect_url or "",
        payment_reference=started.payment_reference,
        updated_at=timezone.now(),
    )
    payment.reference = started.reference
    payment.redirect_url = started.redirect_url or ""


def _is_latest(payment: Payment) -> bool:
    return not Payment.objects.filter(
        submission_id=payment.submission_id, attempt__gt=payment.attempt
    ).exists()


def payment_apply(payment_id: Any, state: CheckoutState, source: str) -> bool:
    """Apply what the provider says of an attempt. Returns whether anything changed."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        now = timezone.now()
        info: dict[str, Any] = {
            "provider": payment.provider,
            "payment": str(payment.pk),
            "source": source,
        }
        if state.state == Payment.State.PAID:
            if payment.state == Payment.State.PAID:
                return False
            if state.amount_paid != payment.amount or state.currency.lower() != payment.currency:
                # Not what this attempt asked for: never counted as paid. Staff look into
                # it at the provider (ids only in the log: no personal data).
                log.warning(
                    "payment %s: provider reports a payment of another amount or currency "
                    "(%s); not applied",
                    payment.pk,
                    source,
                )
                return False
            payment.state = Payment.State.PAID
            payment.settled_at = now
            if state.payment_reference:
                payment.payment_reference = state.payment_reference
            payment.updated_at = now
            payment.save()
            if not fs.payment_mark_paid(payment.submission_id, amount=payment.amount, **info):
                # Paid twice (two attempts both paid): staff must refund one; say so.
                log.warning("payment %s paid while its submission was paid already", payment.pk)
            return True
        if payment.state not in UNSETTLED:
            return False
        if state.state == Payment.State.AWAITING_KONBINI:
            changed = payment.state != state.state or (state.konbini and not payment.konbini)
            if not changed:
                return False
            payment.state = Payment.State.AWAITING_KONBINI
            payment.konbini = state.konbini or payment.konbini
            if state.payment_reference:
                payment.payment_reference = state.payment_reference
            payment.updated_at = now
            payment.save()
            if _is_latest(payment):
                fs.payment_mark_awaiting_konbini(payment.submission_id, **info)
            return True
        if state.state in (Payment.State.EXPIRED, Payment.State.CANCELLED):
            payment.state = state.state
            payment.settled_at = now
            payment.updated_at = now
            payment.save()
            if _is_latest(payment):
                if state.state == Payment.State.EXPIRED:
                    fs.payment_mark_expired(payment.submission_id, **info)
                else:
                    fs.payment_mark_cancelled(payment.submission_id, **info)
            return True
        return False


def payment_sync(payment: Payment, source: str = "sync") -> bool:
    """Ask the provider about an attempt and apply the answer."""
    if payment.reference is None:
        return False
    state = _provider(payment).checkout_state(payment.reference)
    Payment.objects.filter(pk=payment.pk).update(checked_at=timezone.now())
    if state is None:
        return False
    return payment_apply(payment.pk, state, source)


def _cancel_locked(payment: Payment) -> None:
    if payment.reference:
        _provider(payment).checkout_cancel(payment.reference)
        state = _provider(payment).checkout_state(payment.reference)
        if state is not None and state.state in (
            Payment.State.PAID,
            Payment.State.AWAITING_KONBINI,
        ):
            payment_apply(payment.pk, state, "cancel")
            return
    payment_apply(payment.pk, CheckoutState(Payment.State.CANCELLED), "cancel")


def payment_cancel(payment: Payment) -> None:
    """The resident came back from the checkout without paying: stop that checkout at the
    provider (so it cannot be paid later) and say so; a new one may be started."""
    if payment.state != Payment.State.OPEN:
        return
    try:
        _cancel_locked(payment)
    except ProviderError:
        log.warning("payment %s: checkout not cancelled at the provider", payment.pk)


def payments_reconcile() -> int:
    """Ask the provider about every attempt that has waited PAYMENT_RECONCILE_AFTER_MINUTES
    without a final state (a lost webhook). Returns how many changed."""
    cutoff = timezone.now() - timedelta(minutes=settings.PAYMENT_RECONCILE_AFTER_MINUTES)
    due = (
        Payment.objects.filter(state__in=UNSETTLED, reference__isnull=False, updated_at__lt=cutoff)
        .exclude(provider="offline")
        .exclude(checked_at__gt=cutoff)
        .order_by("updated_at")
    )
    changed = 0
    for payment in due[:500]:
        try:
            changed += payment_sync(payment, source="reconcile")
        except ProviderError:
            log.warning("payment %s: provider not reachable for reconciliation", payment.pk)
    return changed


# Staff actions (the inbox, management commands).


def payment_record_offline(submission_id: Any, *, amount: int, actor: int | None) -> Payment:
    """A member of staff received the fee at the counter or by transfer."""
    if amount <= 0:
        raise PaymentRefused("amount_invalid")
    with transaction.atomic():
        sub = fm.Submission.objects.select_for_update().get(pk=submission_id)
        if sub.payment_status in (PS.PAID, PS.PARTIALLY_REFUNDED, PS.REFUNDED):
            raise PaymentRefused("already_paid")
        latest = payment_latest(sub)
        now = timezone.now()
        payment = Payment.objects.create(
            submission=sub,
            attempt=(latest.attempt + 1) if latest else 1,
            provider="offline",
            account=account_for(sub.organization).name,
            amount=amount,
            state=Payment.State.PAID,
            settled_at=now,
            recorded_by_id=actor,
        )
        if latest is not None and latest.state in UNSETTLED:
            # The checkout or konbini slip left open is not needed any more: stopped at the
            # provider once this commits, so that it cannot be paid a second time.
            Payment.objects.filter(pk=latest.pk).update(
                state=Payment.State.CANCELLED, settled_at=now, updated_at=now
            )
            if latest.reference:
                transaction.on_commit(lambda: _void(latest))
        fs.payment_mark_paid(
            sub.pk, amount=amount, actor=actor, provider="offline", payment=str(payment.pk)
        )
    return payment


def payments_close(submission_id: Any) -> int:
    """The submission asks for no money any more (withdrawn, rejected): its unsettled
    attempts are cancelled, here and (once this commits) at the provider."""
    closed = 0
    for payment in Payment.objects.filter(submission_id=submission_id, state__in=UNSETTLED):
        if payment_apply(payment.pk, CheckoutState(Payment.State.CANCELLED), "closed"):
            closed += 1
            if payment.reference:
                transaction.on_commit(lambda p=payment: _void(p))  # type: ignore[misc]
    return closed


def _void(payment: Payment) -> None:
    try:
        _provider(payment).checkout_void(str(payment.reference))
    except ProviderError:
        # Paid at the store meanwhile: the webhook records it (a double payment, which
        # the inbox shows as two paid attempts, for staff to refund one).
        log.warning("payment %s: not voided at the provider", payment.pk)


def payment_amount_set(submission_id: Any, *, amount: int, actor: int | None) -> None:
    """Staff set or confirm the fee due after review; the resident is mailed a pay link
    (payments.consumers on `payment.amount_set`)."""
    try:
        fs.payment_due_set(submission_id, amount=amount, actor=actor)
    except fs.PaymentStateError as exc:
        raise PaymentRefused(str(exc)) from exc


def payment_refund(submission_id: Any, *, amount: int, reason: str, actor: int | None) -> Refund:
    """Give back part or all of what was paid, through the provider that took it."""
    reason = reason.strip()
    if not reason:
        raise PaymentRefused("reason_required")
    with transaction.atomic():
        sub = fm.Submission.objects.select_for_update().get(pk=submission_id)
        if sub.payment_status not in (PS.PAID, PS.PARTIALLY_REFUNDED):
            raise PaymentRefused("not_paid")
        if amount <= 0 or amount > sub.paid_amount - sub.refunded_amount:
            raise PaymentRefused("amount_invalid")
        payment = (
            Payment.objects.select_for_update()
            .filter(submission=sub, state=Payment.State.PAID)
            .order_by("-settled_at")
            .first()
        )
        if payment is None:
            raise PaymentRefused("not_paid")
        number = Refund.objects.filter(payment__submission=sub).count() + 1
        key = f"refund-{sub.pk}-{number}"
        reference = _provider(payment).refund_create(payment.payment_reference, amount, reason, key)
        refund = Refund.objects.create(
            payment=payment,
            amount=amount,
            reason=reason,
            reference=reference,
            idempotency_key=key,
            created_by_id=actor,
        )
        fs.payment_mark_refunded(
            sub.pk,
            amount=amount,
            reason=reason,
            actor=actor,
            provider=payment.provider,
            refund=refund.pk,
        )
    return refund


def account_of(submission: fm.Submission) -> Account:
    return account_for(submission.organization)
