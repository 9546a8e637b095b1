from django.contrib import admin
from django.urls import include, path

from inbox.admin_site import admin_login_redirect, admin_site_require_otp

admin_site_require_otp(admin.site)

urlpatterns = [
    # The admin's own sign-in is the staff sign-in (password and second factor): its
    # login page sends there, and OTPAdminSite lets in only verified users.
    path("admin/login/", admin_login_redirect),
    path("admin/", admin.site.urls),
    path("staff/console/", include("console.urls")),
    path("staff/", include("inbox.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("payments/", include("payments.urls")),
    path("api/", include("integrations.api.urls")),
    path("", include("forms_engine.urls")),
]

# A database outage answers 503 with Retry-After in the resident's language, not a bare 500.
handler500 = "forms_engine.views.server_error"
# A request body over DATA_UPLOAD_MAX_MEMORY_SIZE answers a translated 413, not a bare 400.
handler400 = "forms_engine.views.bad_request"
handler403 = "forms_engine.views.errors.permission_denied"
handler404 = "forms_engine.views.errors.page_not_found"
