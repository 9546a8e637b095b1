"""The procedure console, mounted at /staff/console/ (namespace `console`). Every URL
naming an object answers 404 for another organization's object and 403 for staff who are
not organization admins (tests/console/test_scope_matrix.py walks them all)."""

from django.urls import path

from .views import export, organization, preview, procedures

app_name = "console"

urlpatterns = [
    path("", procedures.procedure_list, name="procedure_list"),
    path("new/", procedures.procedure_new, name="procedure_new"),
    path("drafts/<int:draft_id>/", procedures.draft_edit, name="draft_edit"),
    path("drafts/<int:draft_id>/delete/", procedures.draft_delete, name="draft_delete"),
    path("drafts/<int:draft_id>/preview/", preview.preview, name="preview"),
    path("drafts/<int:draft_id>/preview/<slug:lang>/", preview.preview_start, name="preview_start"),
    path(
        "drafts/<int:draft_id>/preview/<slug:lang>/pages/<slug:page_id>/",
        preview.preview_page,
        name="preview_page",
    ),
    path(
        "drafts/<int:draft_id>/preview/<slug:lang>/check/",
        preview.preview_confirm,
        name="preview_confirm",
    ),
    path("procedures/<int:procedure_id>/", procedures.procedure_detail, name="procedure_detail"),
    path("procedures/<int:procedure_id>/edit/", procedures.procedure_edit, name="procedure_edit"),
    path(
        "procedures/<int:procedure_id>/unpublish/",
        procedures.procedure_unpublish,
        name="procedure_unpublish",
    ),
    path(
        "procedures/<int:procedure_id>/publish/",
        procedures.procedure_republish,
        name="procedure_republish",
    ),
    path("procedures/<int:procedure_id>/diff/", procedures.version_diff, name="version_diff"),
    path(
        "procedures/<int:procedure_id>/versions/<int:number>/",
        procedures.version_source,
        name="version_source",
    ),
    path("settings/", organization.organization_settings, name="organization_settings"),
    path("settings/invite/", organization.staff_invite, name="staff_invite"),
    path("export/", export.export, name="export"),
]
