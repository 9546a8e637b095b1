"""Staff pages, mounted at /staff/ (namespace `inbox`). Every URL naming an object answers
404 when the object is outside the user's scope (tests/inbox/test_scope_matrix.py walks
them all from this namespace)."""

from django.urls import path

from .views import (
    account,
    audit,
    dashboard,
    deliveries,
    exports,
    files,
    payments,
    staff,
    submissions,
    workflow,
)

app_name = "inbox"

urlpatterns = [
    path("", submissions.submission_list, name="submission_list"),
    path("login/", account.staff_login, name="login"),
    path("login/verify/", account.otp_verify, name="otp_verify"),
    path("login/setup/", account.otp_setup, name="otp_setup"),
    path("logout/", account.staff_logout, name="logout"),
    path("account/", account.staff_account, name="account"),
    path("staff/", staff.staff_list, name="staff_list"),
    path("staff/add/", staff.staff_add, name="staff_add"),
    path("staff/<int:user_id>/", staff.staff_edit, name="staff_edit"),
    path("password/<str:uidb64>/<str:token>/", staff.password_set, name="password_set"),
    path("audit/", audit.audit_list, name="audit_list"),
    path(
        "submissions/<uuid:submission_id>/",
        submissions.submission_detail,
        name="submission_detail",
    ),
    path(
        "submissions/<uuid:submission_id>/pdf/",
        exports.submission_pdf_download,
        name="submission_pdf",
    ),
    path(
        "submissions/<uuid:submission_id>/receipt.pdf",
        exports.submission_receipt_pdf,
        name="submission_receipt_pdf",
    ),
    path("export/submissions.csv", exports.submissions_csv, name="submissions_csv"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path(
        "submissions/<uuid:submission_id>/actions/<slug:name>/",
        workflow.submission_action,
        name="submission_action",
    ),
    path(
        "submissions/<uuid:submission_id>/deliveries/<uuid:delivery_id>/retry/",
        deliveries.delivery_retry_view,
        name="delivery_retry",
    ),
    path(
        "submissions/<uuid:submission_id>/files/<uuid:attachment_id>/download/",
        files.attachment_download,
        name="attachment_download",
    ),
    path(
        "submissions/<uuid:submission_id>/files/<uuid:attachment_id>/preview/",
        files.attachment_preview,
        name="attachment_preview",
    ),
    path(
        "submissions/<uuid:submission_id>/payment/record/",
        payments.payment_record,
        name="payment_record",
    ),
    path(
        "submissions/<uuid:submission_id>/payment/amount/",
        payments.payment_amount,
        name="payment_amount_set",
    ),
    path(
        "submissions/<uuid:submission_id>/payment/refund/",
        payments.payment_refund_view,
        name="payment_refund",
    ),
]
