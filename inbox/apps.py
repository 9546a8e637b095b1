from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Staff inbox"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (sign-in audit rows)
        from .views import deliveries  # noqa: F401  (the list's delivery filter)
