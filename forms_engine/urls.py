from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<slug:org>/<slug:slug>/", views.procedure_start, name="procedure_start"),
    path("b/<slug:org>/<slug:slug>/", views.bundle_start, name="bundle_start"),
    # The waiting room's place-in-queue endpoint (JSON, for static/js/waiting.js).
    path("p/<slug:org>/<slug:slug>/queue/", views.procedure_queue, name="procedure_queue"),
    path("b/<slug:org>/<slug:slug>/queue/", views.bundle_queue, name="bundle_queue"),
    path(
        "f/<uuid:draft_id>/<int:position>/<str:page_id>/",
        views.filing_page,
        name="filing_page",
    ),
    # Direct upload (JSON, for the browser's uploader): services.direct_uploads.
    path("f/<uuid:draft_id>/uploads/", views.upload_begin, name="upload_begin"),
    path(
        "f/<uuid:draft_id>/uploads/<uuid:attachment_id>/parts",
        views.upload_parts,
        name="upload_parts",
    ),
    path(
        "f/<uuid:draft_id>/uploads/<uuid:attachment_id>/complete",
        views.upload_complete,
        name="upload_complete",
    ),
    path(
        "f/<uuid:draft_id>/uploads/<uuid:attachment_id>",
        views.upload_cancel,
        name="upload_cancel",
    ),
    path("f/<uuid:draft_id>/confirm/", views.filing_confirm, name="filing_confirm"),
    path("f/<uuid:draft_id>/done/", views.filing_done, name="filing_done"),
    path("f/<uuid:draft_id>/save/", views.filing_save, name="filing_save"),
    path("f/<uuid:draft_id>/saved/", views.filing_saved, name="filing_saved"),
    path("f/<uuid:draft_id>/restart/", views.filing_restart, name="filing_restart"),
    path("resume/<str:token>/", views.resume, name="resume"),
    path("login/", views.login_request, name="login"),
    path("login/sent/", views.login_sent, name="login_sent"),
    path("login/<str:token>/", views.login_confirm, name="login_confirm"),
    path("logout/", views.logout, name="logout"),
    path("my/", views.my_page, name="my_page"),
    path("my/profile/", views.my_profile_edit, name="my_profile_edit"),
    path("my/profile/delete/", views.my_profile_delete, name="my_profile_delete"),
    path("my/sign-out-everywhere/", views.my_sign_out_everywhere, name="my_sign_out_everywhere"),
    path("status/", views.status, name="status"),
    path("status/<uuid:submission_id>/", views.status_submission, name="status_submission"),
    path("status/<uuid:submission_id>/withdraw/", views.status_withdraw, name="status_withdraw"),
    path(
        "status/<uuid:submission_id>/receipt.pdf",
        views.status_receipt_pdf,
        name="status_receipt_pdf",
    ),
    path("api/postal/", views.postal_lookup, name="postal_lookup"),
    path("files/<str:ticket>/", views.local_file, name="storage_local_file"),
    path("healthz/live", views.healthz_live, name="healthz_live"),
    path("healthz/ready", views.healthz_ready, name="healthz_ready"),
    # The older single probe, kept for what already polls it: readiness.
    path("healthz", views.healthz_ready, name="healthz"),
]
