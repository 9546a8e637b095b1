from django.conf import settings


def site(request):
    return {
        "signed_in": bool(getattr(request, "session", {}).get("resident")),
        "site_url": settings.SITE_URL,
        "site_contact": settings.SITE_CONTACT,
    }
