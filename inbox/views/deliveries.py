"""A submission's deliveries for staff: a dead delivery sent again by hand (after the
receiving side was fixed), audited. The list itself is in the detail page
(templates/inbox/detail/deliveries.html)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from forms_engine.models import Submission
from inbox.audit import audit_log
from inbox.auth import staff_required
from inbox.scope import submission_for_staff_or_404
from inbox.selectors import register_filter
from integrations.deliveries import delivery_retry
from integrations.models import Delivery


@never_cache
@require_POST
@staff_required
def delivery_retry_view(request: HttpRequest, submission_id: Any, delivery_id: Any) -> HttpResponse:
    submission = submission_for_staff_or_404(request.user, submission_id)
    try:
        delivery = submission.deliveries.get(pk=delivery_id)
    except (Delivery.DoesNotExist, ValueError):
        raise Http404 from None
    retried = delivery_retry(delivery.pk)
    audit_log(
        request,
        "delivery.retry",
        submission,
        delivery=str(delivery.pk),
        integration=delivery.integration_id,
        type=delivery.type,
        retried=retried,
    )
    url = reverse("inbox:submission_detail", args=[submission.pk])
    return HttpResponseRedirect(f"{url}#deliveries")


def _by_delivery_state(qs: QuerySet[Submission], value: str) -> QuerySet[Submission]:
    if value not in Delivery.State.values:
        return qs
    return qs.filter(Exists(Delivery.objects.filter(submission=OuterRef("pk"), state=value)))


# The inbox list's "Delivery" filter: submissions with a delivery in that state.
register_filter("delivery", _by_delivery_state, list(Delivery.State.choices))
