from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Staff inbox"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (sign-in audit rows)
        from .context_processors import EXTRA_NAV_ITEMS
        from .dashboard import dashboard_nav

        if dashboard_nav not in EXTRA_NAV_ITEMS:
            EXTRA_NAV_ITEMS.append(dashboard_nav)
