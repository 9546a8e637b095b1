"""Every state change of the forms engine: one function per action (`<entity>_<action>`),
and the read-only selectors beside them.

Views, commands and tasks stay thin and call these. Each submission state change writes
an OutboxEvent in the same transaction, so consumers never miss or invent one.

One module per entity: procedures, drafts, attachments (and their direct upload),
submissions, receipts (numbers and status codes), receipt mails, tokens (sign-in and resume
links), downloads (files handed to staff, audited), housekeeping (stale uploads, abandoned
drafts' files, files past retention); reads are in selectors. Callers use `from
forms_engine import services; services.<name>`: every name is re-exported here.
"""

from .attachment_scans import (
    ScanOutcome,
    attachment_scan,
    attachment_scan_enqueue,
    attachments_quarantined_rescan,
)
from .attachments import (
    attachment_forget,
    attachment_inspect,
    attachment_limits_check,
    attachment_remove,
    attachment_scan_request,
    attachment_store,
    attachment_value,
)
from .direct_uploads import (
    UploadRefused,
    attachment_status_text,
    attachment_upload_begin,
    attachment_upload_cancel,
    attachment_upload_complete,
    attachment_upload_parts,
    attachment_upload_sign,
)
from .downloads import (
    AttachmentNotDeliverable,
    attachment_download_name,
    attachment_download_url,
)
from .drafts import (
    draft_prefill,
    draft_save_page,
    draft_save_pending,
    draft_start,
    draft_text_room,
)
from .errors import AttachmentNotStored, FilingError
from .housekeeping import (
    drafts_abandoned_files_delete,
    submissions_expired_files_delete,
    uploads_abort_stale,
)
from .payment_links import payment_link, payment_link_register
from .payment_state import (
    PaymentStateError,
    payment_due_set,
    payment_is_final,
    payment_mark_awaiting,
    payment_mark_awaiting_konbini,
    payment_mark_cancelled,
    payment_mark_expired,
    payment_mark_paid,
    payment_mark_refunded,
)
from .procedures import (
    LoadReport,
    procedure_acceptance,
    procedures_load,
    version_spec,
)
from .receipt_mails import (
    RECEIPT_MAIL_ATTEMPTS,
    _receipt_mail,
    receipt_mails_retry_failed,
    receipt_mails_send,
)
from .receipts import (
    RECEIPT_ALPHABET,
    RECEIPT_INPUT_MAX_LENGTH,
    new_receipt_number,
    receipt_format,
    receipt_normalize,
    receipt_status_code,
    status_code_for,
    status_code_hash,
    status_code_matches,
)
from .selectors import (
    ORGANIZATION_CACHE_SECONDS,
    attachment_is_deliverable,
    caches_clear,
    draft_file_states,
    draft_files_removed_by_scan,
    draft_versions,
    draft_view,
    organization_get,
    procedure_version_get,
    receipt_lookup,
    submission_files_ready,
)
from .submission_readiness import (
    FILES_READY,
    READY,
    submission_files_ready_announce,
    submission_handoff_announce,
)
from .submissions import (
    Completion,
    _profile_save,
    submission_complete,
    submission_name_search,
    view_problems,
)
from .tokens import (
    draft_resume,
    draft_resume_link_send,
    resident_login,
    resident_login_link_send,
    token_create,
    token_email,
    token_use,
)

__all__ = [
    "PaymentStateError",
    "payment_due_set",
    "payment_is_final",
    "payment_link",
    "payment_link_register",
    "payment_mark_awaiting",
    "payment_mark_awaiting_konbini",
    "payment_mark_cancelled",
    "payment_mark_expired",
    "payment_mark_paid",
    "payment_mark_refunded",
    "AttachmentNotDeliverable",
    "attachment_download_name",
    "attachment_download_url",
    "drafts_abandoned_files_delete",
    "submissions_expired_files_delete",
    "uploads_abort_stale",
    "RECEIPT_ALPHABET",
    "RECEIPT_INPUT_MAX_LENGTH",
    "RECEIPT_MAIL_ATTEMPTS",
    "ORGANIZATION_CACHE_SECONDS",
    "AttachmentNotStored",
    "Completion",
    "FilingError",
    "LoadReport",
    "ScanOutcome",
    "_profile_save",
    "_receipt_mail",
    "UploadRefused",
    "attachment_forget",
    "attachment_inspect",
    "attachment_is_deliverable",
    "attachment_limits_check",
    "attachment_remove",
    "attachment_scan",
    "attachment_scan_enqueue",
    "attachments_quarantined_rescan",
    "attachment_scan_request",
    "attachment_status_text",
    "attachment_upload_begin",
    "attachment_upload_cancel",
    "attachment_upload_complete",
    "attachment_upload_parts",
    "attachment_upload_sign",
    "attachment_value",
    "attachment_store",
    "caches_clear",
    "draft_file_states",
    "draft_files_removed_by_scan",
    "draft_prefill",
    "draft_resume",
    "draft_resume_link_send",
    "draft_save_page",
    "draft_save_pending",
    "draft_start",
    "draft_text_room",
    "draft_versions",
    "draft_view",
    "new_receipt_number",
    "organization_get",
    "procedure_acceptance",
    "procedure_version_get",
    "procedures_load",
    "receipt_format",
    "receipt_lookup",
    "receipt_mails_retry_failed",
    "receipt_mails_send",
    "receipt_normalize",
    "receipt_status_code",
    "resident_login",
    "resident_login_link_send",
    "status_code_for",
    "status_code_hash",
    "status_code_matches",
    "submission_complete",
    "submission_name_search",
    "submission_files_ready",
    "submission_files_ready_announce",
    "submission_handoff_announce",
    "READY",
    "FILES_READY",
    "token_create",
    "token_email",
    "token_use",
    "version_spec",
    "view_problems",
]
