"""The core's outbox topics and their labels for people (the inbox timeline, the status
page). Outer rooms register the labels of their own topics in their `ready()`."""

from django.utils.translation import gettext_lazy as _

from .outbox import register_topic_label

SUBMISSION_COMPLETED = "submission.completed"
#: None of the submission's files waits for its scan any more.
SUBMISSION_FILES_READY = "submission.files_ready"
#: Complete, not awaiting a before-review payment, every file settled: it may be handed
#: on to the back office. Deliveries start from this topic only.
SUBMISSION_READY = "submission.ready"

register_topic_label(SUBMISSION_COMPLETED, _("Application submitted"))
register_topic_label(SUBMISSION_FILES_READY, _("Attached files checked"))
register_topic_label(SUBMISSION_READY, _("Handed on for processing"))
