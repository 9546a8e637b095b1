from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("v1/openapi.json", views.openapi_document, name="openapi"),
    path("v1/submissions", views.submission_list, name="submission_list"),
    path("v1/submissions/<str:submission_id>", views.submission_detail, name="submission_detail"),
]
