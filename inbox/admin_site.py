"""The Django admin behind the staff sign-in: only users verified with a second factor pass
(django-otp's OTPAdminSite check), and its login page is the staff one."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp.admin import OTPAdminSite


def admin_site_require_otp(site: AdminSite) -> None:
    site.__class__ = OTPAdminSite


def admin_login_redirect(request: HttpRequest) -> HttpResponse:
    target = request.GET.get("next") or reverse("admin:index")
    return HttpResponseRedirect(reverse("inbox:login") + "?" + urlencode({"next": target}))
