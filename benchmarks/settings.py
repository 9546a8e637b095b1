"""Settings of `make bench`: the service's own settings (read from the same environment),
plus the baseline views and a mail backend that does not print 30,000 receipts."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

# The app holds the baseline's table and template; the service's apps are unchanged.
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]
ROOT_URLCONF = "benchmarks.baseline_urls"
EMAIL_BACKEND = "benchmarks.mail.DiscardingEmailBackend"
