"""Resident-facing views, one module per part of the service. They only translate HTTP: the
work is in forms_engine.filing (pages and their actions) and forms_engine.services (every
state change). URLs and handler500 name them through this package."""

from .account import login_confirm, login_request, login_sent, logout, resume
from .completion import filing_confirm, filing_done, filing_restart
from .direct_uploads import upload_begin, upload_cancel, upload_complete, upload_parts
from .errors import bad_request, server_error, service_unavailable
from .files import local_file
from .health import healthz_live, healthz_ready
from .mypage import my_page, my_profile_delete, my_profile_edit, my_sign_out_everywhere
from .pages import filing_page
from .postal import postal_lookup
from .saving import filing_save, filing_saved
from .start import bundle_start, home, procedure_start
from .status import status, status_receipt_pdf, status_submission, status_withdraw
from .waiting import bundle_queue, procedure_queue

__all__ = [
    "bad_request",
    "bundle_queue",
    "bundle_start",
    "filing_confirm",
    "filing_done",
    "filing_page",
    "filing_restart",
    "filing_save",
    "filing_saved",
    "healthz_live",
    "healthz_ready",
    "home",
    "local_file",
    "login_confirm",
    "login_request",
    "login_sent",
    "logout",
    "postal_lookup",
    "procedure_queue",
    "procedure_start",
    "resume",
    "server_error",
    "service_unavailable",
    "status",
    "status_submission",
    "my_page",
    "my_profile_delete",
    "my_profile_edit",
    "my_sign_out_everywhere",
    "status_receipt_pdf",
    "status_withdraw",
    "upload_begin",
    "upload_cancel",
    "upload_complete",
    "upload_parts",
]
