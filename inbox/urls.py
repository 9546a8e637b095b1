"""Staff pages, mounted at /staff/ (namespace `inbox`). Every URL naming an object answers
404 when the object is outside the user's scope (tests/inbox/test_scope_matrix.py walks
them all from this namespace)."""

from django.urls import path

from .views import account, deliveries, files, submissions

app_name = "inbox"

urlpatterns = [
    path("", submissions.submission_list, name="submission_list"),
    path("login/", account.staff_login, name="login"),
    path("login/verify/", account.otp_verify, name="otp_verify"),
    path("login/setup/", account.otp_setup, name="otp_setup"),
    path("logout/", account.staff_logout, name="logout"),
    path(
        "submissions/<uuid:submission_id>/",
        submissions.submission_detail,
        name="submission_detail",
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
]
