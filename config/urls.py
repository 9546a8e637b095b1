from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("integrations.api.urls")),
    path("", include("forms_engine.urls")),
]

# A database outage answers 503 with Retry-After in the resident's language, not a bare 500.
handler500 = "forms_engine.views.server_error"
# A request body over DATA_UPLOAD_MAX_MEMORY_SIZE answers a translated 413, not a bare 400.
handler400 = "forms_engine.views.bad_request"
