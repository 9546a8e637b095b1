import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

# The embedded default (no broker): the background threads and their periodic jobs start
# with the server, so that retries happen even before the first request.
from django.conf import settings  # noqa: E402

if settings.TASKS_IN_BACKGROUND:
    from forms_engine.background import background_start  # noqa: E402

    background_start()
