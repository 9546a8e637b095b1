from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Procedure console"

    def ready(self) -> None:
        from inbox.context_processors import EXTRA_NAV_ITEMS

        from .nav import console_nav

        EXTRA_NAV_ITEMS.append(console_nav)
