from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("pay/<str:token>/", views.pay, name="pay"),
    path("pay/<str:token>/return/<uuid:payment_id>/", views.returned, name="returned"),
    path("pay/<str:token>/cancel/<uuid:payment_id>/", views.cancelled, name="cancelled"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
