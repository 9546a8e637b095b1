"""The core's outbox topics and their labels for people (the inbox timeline, the status
page). Outer rooms register the labels of their own topics in their `ready()`."""

from django.utils.translation import gettext_lazy as _

from .outbox import register_topic_label
from .services.review import TOPIC_LABELS as REVIEW_TOPIC_LABELS

SUBMISSION_COMPLETED = "submission.completed"
#: None of the submission's files waits for its scan any more.
SUBMISSION_FILES_READY = "submission.files_ready"
#: Complete, not awaiting a before-review payment, every file settled: it may be handed
#: on to the back office. Deliveries start from this topic only.
SUBMISSION_READY = "submission.ready"

register_topic_label(SUBMISSION_COMPLETED, _("Application submitted"))
register_topic_label(SUBMISSION_FILES_READY, _("Attached files checked"))
register_topic_label(SUBMISSION_READY, _("Handed on for processing"))

# The review workflow's topics (submission.review_started, .returned, ...).
for _topic, _label in REVIEW_TOPIC_LABELS.items():
    register_topic_label(_topic, _label)

# A submission's payment state (forms_engine.services.payment_state).
PAYMENT_AWAITING = "payment.awaiting"
PAYMENT_AWAITING_KONBINI = "payment.awaiting_konbini"
PAYMENT_PAID = "payment.paid"
PAYMENT_EXPIRED = "payment.expired"
PAYMENT_CANCELLED = "payment.cancelled"
PAYMENT_REFUNDED = "payment.refunded"
PAYMENT_PARTIALLY_REFUNDED = "payment.partially_refunded"
#: Staff set (or confirmed) the fee due after review.
PAYMENT_AMOUNT_SET = "payment.amount_set"

register_topic_label(PAYMENT_AWAITING, _("Payment requested"))
register_topic_label(PAYMENT_AWAITING_KONBINI, _("Payment slip issued for a convenience store"))
register_topic_label(PAYMENT_PAID, _("Fee paid"))
register_topic_label(PAYMENT_EXPIRED, _("Payment expired"))
register_topic_label(PAYMENT_CANCELLED, _("Payment cancelled"))
register_topic_label(PAYMENT_REFUNDED, _("Fee refunded"))
register_topic_label(PAYMENT_PARTIALLY_REFUNDED, _("Fee partly refunded"))
register_topic_label(PAYMENT_AMOUNT_SET, _("Fee set by staff"))
