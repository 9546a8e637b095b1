"""Organizations, procedure versions, drafts, submissions, receipts and the outbox.

State changes go through forms_engine.services; models hold data and small derived
properties only.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def localized(value: dict | str | None, language: str | None = None) -> str:
    """A stored Text value ({"ja": ..., "en": ...}) in the active language, falling back to ja."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    language = (language or get_language() or "ja").split("-")[0]
    return value.get(language) or value.get("ja") or ""


class Organization(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.JSONField()
    contact = models.JSONField(null=True, blank=True)
    payment_account = models.CharField(max_length=64, blank=True)
    content_hash = models.CharField(max_length=64)
    source = models.TextField()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return localized(self.name)

    @property
    def display_name(self) -> str:
        return localized(self.name)

    @property
    def display_contact(self) -> str:
        return localized(self.contact)


class Department(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="departments"
    )
    slug = models.SlugField(max_length=64)
    name = models.JSONField()
    email = models.EmailField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="department_unique_slug")
        ]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.slug}"


class Procedure(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="procedures"
    )
    slug = models.SlugField(max_length=64)
    live_version = models.ForeignKey(
        "ProcedureVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Completed filings, for `accepting.capacity` (updated under a row lock).
    filed_count = models.PositiveIntegerField(default=0)
    # Unpublished (set by an organization admin in the console): no new filings, and the
    # drafts in progress say so and cannot be submitted. Publishing again clears it.
    unpublished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="procedure_unique_slug")
        ]
        ordering = ["organization__slug", "slug"]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.slug}"


class ProcedureVersion(models.Model):
    """One loaded content of a procedure file. Old versions stay: drafts and submissions
    always render with the version they were started under."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    source = models.TextField()
    rel_path = models.CharField(max_length=300)
    title = models.JSONField()
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # The spec's `rush:` ({"admit_per_minute": N, "admission_minutes": M}) or null: read by
    # the waiting room without parsing `source` (forms_engine/rush/).
    rush = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="version_unique_number"),
            models.UniqueConstraint(
                fields=["procedure", "content_hash"], name="version_unique_hash"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure} v{self.number}"

    @property
    def display_title(self) -> str:
        return localized(self.title)


class Bundle(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="bundles")
    slug = models.SlugField(max_length=64)
    live_version = models.ForeignKey(
        "BundleVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="bundle_unique_slug")
        ]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.slug} (bundle)"


class BundleVersion(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    source = models.TextField()
    title = models.JSONField()
    description = models.JSONField(null=True, blank=True)
    procedure_slugs = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bundle", "number"], name="bundle_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.bundle} v{self.number}"

    @property
    def display_title(self) -> str:
        return localized(self.title)


class Resident(models.Model):
    """A resident who signed in with a one-time mail link (once-only profile)."""

    email = models.EmailField(unique=True)
    profile = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)
    # Sessions signed in as this resident carry the epoch they were signed in at; "sign
    # out everywhere" raises it, and ResidentSessionMiddleware ends every older session.
    session_epoch = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"resident #{self.pk}"


class Draft(models.Model):
    """A filing in progress, kept on the server so an idle hour or the Back button loses
    nothing. One draft covers one procedure, or every procedure of a bundle."""

    class Status(models.TextChoices):
        OPEN = "open", _("In progress")
        SUBMITTED = "submitted", _("Submitted")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # The procedure versions this filing was started under, in order (pinned for its life).
    versions: models.ManyToManyField[ProcedureVersion, DraftVersion] = models.ManyToManyField(
        ProcedureVersion, through="DraftVersion", related_name="+"
    )
    bundle_version = models.ForeignKey(
        BundleVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The same pins as `versions`, in order, written once with them (services.draft_start):
    # every page reads them without a join, while DraftVersion keeps the versions
    # protected from deletion. The two must name the same versions: the pages' unpublished
    # check reads DraftVersion (views/common.py), the rest reads version_ids.
    version_ids = models.JSONField(default=list)
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts"
    )
    # {"<position>": {field_id: value}}: cleaned answers per procedure of the filing.
    answers = models.JSONField(default=dict, blank=True)
    # {"<position>.<page_id>": raw input}: what was typed on a page that did not validate yet.
    pending = models.JSONField(default=dict, blank=True)
    save_to_profile = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    receipt = models.ForeignKey(
        "Receipt", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"draft {self.pk}"


class DraftVersion(models.Model):
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="draft_versions")
    version = models.ForeignKey(ProcedureVersion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["draft", "position"], name="draft_version_position")
        ]

    def __str__(self) -> str:
        return f"{self.draft_id} #{self.position}"


class Receipt(models.Model):
    """What the resident keeps: the receipt number (one per filing, shared by every
    submission of a bundle) and the hash of the separate status code."""

    number = models.CharField(max_length=20, unique=True)
    status_code_hash = models.CharField(max_length=128)
    bundle_version = models.ForeignKey(
        BundleVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class MailStatus(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Mail sent")
        NO_ADDRESS = "no_address", _("No address to send to")
        FAILED = "failed", _("Mail failed")

    # The receipt mail is sent by a task that polls for receipts due a mail, so a filing
    # never waits for mail. A mail outage delays the mail (retried with growing delays
    # over two days); a mail that cannot be sent is left "failed", never dropped silently.
    language = models.CharField(max_length=8, default="ja")
    mail_status = models.CharField(
        max_length=16, choices=MailStatus.choices, default=MailStatus.PENDING
    )
    mail_next_attempt_at = models.DateTimeField(default=timezone.now)
    mail_attempts = models.PositiveSmallIntegerField(default=0)
    # The kind of the last error (an exception class), never its message: it may hold
    # the address.
    mail_error = models.CharField(max_length=100, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["mail_next_attempt_at", "id"],
                name="receipt_mail_due_idx",
                condition=models.Q(mail_status="pending"),
            )
        ]

    def __str__(self) -> str:
        return self.number


class Submission(models.Model):
    class Status(models.TextChoices):
        # The values are stored and sent in outbox payloads: the labels may change, the
        # values may not. The review workflow (forms_engine.services.review) moves a
        # submission between them through its transition table only.
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        SUBMITTED = "submitted", _("Received")
        IN_REVIEW = "in_review", _("In review")
        RETURNED = "returned", _("Returned for correction")
        RESUBMITTED = "resubmitted", _("Corrected and resubmitted")
        ACCEPTED = "accepted", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class ClientKind(models.TextChoices):
        # The kind of device the filing was completed on (forms_engine.client_kind), for
        # the staff dashboard; the User-Agent header itself is never stored.
        PHONE = "phone", _("Phone")
        TABLET = "tablet", _("Tablet")
        DESKTOP = "desktop", _("Computer")
        UNKNOWN = "unknown", _("Unknown device")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="submissions")
    # Unique per submission: the receipt number, or receipt-N inside a bundle.
    number = models.CharField(max_length=24, unique=True)
    draft = models.ForeignKey(Draft, on_delete=models.PROTECT, related_name="submissions")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="submissions")
    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="submissions"
    )
    status = models.CharField(max_length=24, choices=Status.choices)
    answers = models.JSONField()
    contact_email = models.EmailField()
    fee_total = models.PositiveBigIntegerField(default=0)
    fee_lines = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    client_kind = models.CharField(
        max_length=8, choices=ClientKind.choices, default=ClientKind.UNKNOWN
    )
    # When it was approved or rejected (the dashboard's time to decision); null before.
    decided_at = models.DateTimeField(null=True, blank=True)
    # The member of staff handling it (the staff inbox's "assigned to me"); null: nobody.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The resident's name and its reading as search keys (normalize.name_search_text),
    # written at completion: staff find a filing by kanji, katakana or hiragana. A trigram
    # index (PostgreSQL, migration 0010_submission_inbox_fields) keeps the search fast.
    name_search = models.CharField(max_length=1000, blank=True, default="")

    class PaymentStatus(models.TextChoices):
        NONE = "none", _("No payment")
        AWAITING = "awaiting", _("Awaiting payment")
        AWAITING_KONBINI = "awaiting_konbini", _("Awaiting payment at a convenience store")
        PAID = "paid", _("Paid")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")
        EXPIRED = "expired", _("Payment expired")
        CANCELLED = "cancelled", _("Payment cancelled")

    # Changed only through forms_engine.services.payment_state (each change is an outbox
    # event); how it was paid (checkout sessions, provider events, refunds) is in payments/.
    payment_status = models.CharField(
        max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.NONE, db_index=True
    )
    # What the resident owes (yen): fee_total for a fee before review; the amount staff
    # set for a fee after review (0 until then).
    payment_due_amount = models.PositiveBigIntegerField(default=0)
    paid_amount = models.PositiveBigIntegerField(default=0)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_amount = models.PositiveBigIntegerField(default=0)
    payment_status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [
            # The staff inbox's counts per status (capped, inbox.selectors.status_counts)
            # read these by index-only scans: the scope's columns (organization,
            # department) ride along in each index, so no row of the table is visited.
            models.Index(
                fields=["department", "status", "submitted_at"],
                include=["organization"],
                name="submission_inbox_idx",
            ),
            models.Index(fields=["organization", "status"], name="submission_org_status_idx"),
            # The staff inbox's pages: newest first within a scope, the id breaking ties
            # (keyset pagination).
            models.Index(
                fields=["department", "submitted_at", "id"], name="submission_dept_date_idx"
            ),
            models.Index(
                fields=["organization", "submitted_at", "id"], name="submission_org_date_idx"
            ),
            models.Index(
                fields=["procedure", "status", "submitted_at", "id"],
                include=["department", "organization"],
                name="submission_proc_status_idx",
            ),
            # Receipt number prefixes (LIKE 'ABCD-%') on PostgreSQL whatever the collation.
            models.Index(
                fields=["number"],
                name="submission_number_prefix_idx",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.number


class SubmissionMessage(models.Model):
    """A message from staff to the resident, shown on the status page and mailed. A return
    for correction and a rejection carry theirs (`kind`)."""

    class Kind(models.TextChoices):
        MESSAGE = "message", _("Message")
        RETURN = "return", _("Request for correction")
        REJECTION = "rejection", _("Reason for rejection")

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MESSAGE)
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"message #{self.pk}"


class SubmissionNote(models.Model):
    """An internal note of staff on a submission: never shown or mailed to the resident."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note #{self.pk}"


class SubmissionRevision(models.Model):
    """One return for correction (差戻し): the fields the reviewer named and, once the
    resident resubmitted, their answers before and after. Rows are only added and then
    completed once, so every round of corrections stays auditable."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="revisions")
    # Field ids of the submission's own procedure version, in page order.
    fields = models.JSONField()
    message = models.ForeignKey(
        SubmissionMessage, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    # {field id: answer} before and after the correction (absent: it had no answer). Other
    # answers a correction changed (hidden by a condition now) are in `previous` too.
    previous_answers = models.JSONField(default=dict, blank=True)
    corrected_answers = models.JSONField(default=dict, blank=True)
    resubmitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"revision #{self.pk}"


class ResidentMail(models.Model):
    """A mail to the resident about their submission (returned, resubmission received,
    decision, withdrawal, a message), queued by the outbox consumer in the transaction that
    consumed the event and sent by a polling task with the receipt mail's retries."""

    class Kind(models.TextChoices):
        RETURNED = "returned", _("Returned for correction")
        RESUBMITTED = "resubmitted", _("Correction received")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawal confirmed")
        MESSAGE = "message", _("Message from the office")

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="resident_mails"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The message the mail is about (returned, rejected, message), if any.
    message = models.ForeignKey(
        SubmissionMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The outbox event it was made for: one mail per event, whatever retries happen.
    event_id = models.BigIntegerField(unique=True)
    language = models.CharField(max_length=8, default="ja")
    mail_status = models.CharField(
        max_length=16, choices=Receipt.MailStatus.choices, default=Receipt.MailStatus.PENDING
    )
    mail_next_attempt_at = models.DateTimeField(default=timezone.now)
    mail_attempts = models.PositiveSmallIntegerField(default=0)
    mail_error = models.CharField(max_length=100, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["mail_next_attempt_at", "id"],
                name="resident_mail_due_idx",
                condition=models.Q(mail_status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} mail #{self.pk}"


class ReceiptDocument(models.Model):
    """The 申請控え (receipt PDF) of one submission, made once by a task after filing and
    stored in the object store under a random key (no number, name or answer in it)."""

    submission = models.OneToOneField(
        Submission, on_delete=models.CASCADE, related_name="receipt_document"
    )
    key = models.CharField(max_length=200, unique=True)
    size = models.PositiveIntegerField()
    language = models.CharField(max_length=8, default="ja")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"receipt document #{self.pk}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # No personal data (file names) in storage keys, and nothing guessable either: a random
    # key per file, apart from the attachment's id (which the browser sees). Every file
    # lands in quarantine/ and is moved to files/ once it is scanned (or said not scanned).
    return f"{Attachment.QUARANTINE_PREFIX}{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file of a draft. `file.name` is its storage key (`storage_key`); the resident's own
    file name is `original_name`, for display only."""

    QUARANTINE_PREFIX = "quarantine/"
    FILES_PREFIX = "files/"

    class Status(models.TextChoices):
        # A direct upload begun (a multipart upload in the store), not completed yet.
        UPLOADING = "uploading", _("Uploading")
        # Stored and checked, waiting for the malware scan.
        QUARANTINED = "quarantined", _("Waiting for the malware scan")
        CLEAN = "clean", _("Scanned: no malware found")
        # Deleted from storage; the row stays so the resident can be told.
        INFECTED = "infected", _("Malware found: removed")
        # No scanner configured: said openly, never called clean.
        NOT_SCANNED = "not_scanned", _("Not scanned for malware")
        # Failed a check at completion (size, type, archive); the file is deleted.
        REFUSED = "refused", _("Refused")
        # The submission's retention ended: the file is deleted, the row says so.
        DELETED = "deleted", _("Deleted at the end of its retention")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="attachments")
    submission = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    field_key = models.CharField(max_length=200)
    # The page (`<position>.<page id>`) and file input (`f-<field>` or
    # `f-<group>-<entry>-<child>`) it was attached through: a direct upload joins that
    # input's pending answer when it is completed.
    page_key = models.CharField(max_length=200, blank=True)
    input_name = models.CharField(max_length=200, blank=True)
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=16, blank=True)
    content_type = models.CharField(max_length=100)
    # Empty for a direct upload (the server never holds its bytes); the scan may fill it.
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUARANTINED, db_index=True
    )
    # The store's multipart upload id while `uploading`.
    upload_id = models.CharField(max_length=1024, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)
    # The signature name of an infected file, for staff; never shown to the resident.
    scan_detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When its file was deleted at the end of the submission's retention.
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"attachment {self.pk}"

    @property
    def storage_key(self) -> str:
        return self.file.name or ""


class DownloadAudit(models.Model):
    """One file handed to a member of staff: who, when, which file, from which address.
    Written before the short-lived download URL is given out; kept when the attachment or
    the user goes (their ids and names are copied)."""

    attachment = models.ForeignKey(
        Attachment, null=True, on_delete=models.SET_NULL, related_name="downloads"
    )
    attachment_ref = models.UUIDField()
    submission_number = models.CharField(max_length=24, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    address = models.GenericIPAddressField(null=True, blank=True)
    downloaded_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-downloaded_at"]

    def __str__(self) -> str:
        return f"download {self.pk}"


class OutboxEvent(models.Model):
    """What happened to a submission, written in the same transaction as the change, only
    through `forms_engine.outbox.outbox_emit`. Consumers (integrations, payments, mail, the
    inbox) read it through their `OutboxConsumption` rows; the payload holds ids and
    non-personal values only. A submission's events are also its history (timeline)."""

    topic = models.CharField(max_length=64)
    submission = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["submission", "topic"], name="outbox_submission_topic_idx")]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


class OutboxConsumption(models.Model):
    """One consumer's progress on one event: written with the event (one row per consumer
    registered for its topic), marked done in the transaction of the consumer's effect.
    See forms_engine/outbox.py for why rows and not a cursor."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    consumer = models.CharField(max_length=64)
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="consumptions")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # The kind of the last error (an exception class), never its message.
    last_error = models.CharField(max_length=100, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event"], name="outbox_consumption_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="outbox_consumption_due_idx",
                condition=models.Q(state="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.consumer} of event #{self.event_id}"


class OneTimeToken(models.Model):
    """Sign-in and resume links: the mail carries the token, the database only its hash."""

    class Purpose(models.TextChoices):
        LOGIN = "login", _("Sign-in")
        RESUME = "resume", _("Resume a saved filing")

    token_hash = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    email = models.EmailField()
    draft = models.ForeignKey(Draft, null=True, blank=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.purpose} token #{self.pk}"
