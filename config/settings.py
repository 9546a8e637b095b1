"""The one settings file. Everything comes from the environment; with nothing set the
service runs embedded: SQLite, local files, in-process tasks, console mail, offline payments.
See the configuration table in README.md."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# Developer-machine mode. Read here and only here, one way (env.bool: 1/true/on/yes/y/ok
# are true, anything else false); the rest of the code reads settings.EMBEDDED.
EMBEDDED = env.bool("EMBEDDED", default=True)
# The embedded default key (no SECRET_KEY in the environment) is public, in this file: it
# serves loopback addresses only (forms_engine.middleware.EmbeddedKeyLoopbackOnlyMiddleware),
# `check --deploy` reports it as an error, and production settings refuse to start without
# a real key.
EMBEDDED_SECRET_KEY = "embedded-default-insecure-key-do-not-use-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not EMBEDDED:
        raise environ.ImproperlyConfigured("SECRET_KEY must be set when EMBEDDED=0")
    SECRET_KEY = EMBEDDED_SECRET_KEY
# Keys SECRET_KEY replaced, newest first: while rotating, sessions and status codes made
# with them stay valid (see "Rotating keys" in README.md).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "forms_engine",
    "payments",
    "integrations",
    "inbox",
    "console",
]

# Compress pages (HTML, JSON, CSV: text only) in the service. Turn off when a proxy in
# front compresses them (nginx `gzip on;`), so that they are not compressed twice.
COMPRESS_RESPONSES = env.bool("COMPRESS_RESPONSES", default=True)
# Pages under these paths are never compressed (BREACH): the staff pages put text an
# attacker chooses (a search, a filter) next to residents' data that stays the same from
# one response to the next. Their downloads (CSV) are still compressed.
COMPRESS_HTML_SKIP_PATHS = ("/staff/", "/admin/")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files: answered here with the brotli/gzip files collectstatic made, so they
    # never reach the compression below.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages gzipped when no proxy does (COMPRESS_RESPONSES): text only, above the
    # middleware that build the response so it compresses their final body, and above the
    # overload guard so that its 429 page is compressed too and no slot is held meanwhile.
    *(["forms_engine.compression.TextGZipMiddleware"] if COMPRESS_RESPONSES else []),
    "forms_engine.middleware.ContentSecurityPolicyMiddleware",
    # Loopback clients only while the public embedded key is in use (before anything that
    # answers, the waiting room included).
    "forms_engine.middleware.EmbeddedKeyLoopbackOnlyMiddleware",
    # The waiting page and the place-in-queue answer of a rush, before the overload guard
    # and the rest: the page already says when to come back, and costs less than a 429.
    "forms_engine.views.waiting.WaitingRoomMiddleware",
    # Past OVERLOAD_MAX_CONCURRENT requests at once: 429 within OVERLOAD_WAIT_SECONDS.
    "forms_engine.overload.ConcurrencyGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "forms_engine.middleware.ResidentSessionMiddleware",
    "forms_engine.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "inbox.middleware.StaffSessionExpiryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "forms_engine.context_processors.site",
                "inbox.context_processors.staff_nav",
            ],
            # `{% extends %}` that remembers the root template's blocks (same syntax and
            # output as Django's; forms_engine/templatetags/inheritance.py says why).
            "builtins": ["forms_engine.templatetags.inheritance"],
            # Cached loader in every environment: page rendering is on the hot path.
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    [
                        "django.template.loaders.filesystem.Loader",
                        "django.template.loaders.app_directories.Loader",
                    ],
                )
            ],
        },
    }
]

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The deliveries worker runs each delivery's two statements prepared on its kept
# connections (integrations/delivery_statements.py): planned once per connection instead
# of once per delivery. Off behind a pooler in transaction mode that does not carry
# prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_cache_url = env.str("CACHE_URL", default="")
CACHES = {
    "default": env.cache_url("CACHE_URL")
    if _cache_url
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"}
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # A Redis that stops answering is an outage page within seconds (503), not every web
    # thread waiting on it for ever (redis-py has no timeout unless given one). Options in
    # CACHE_URL's query win.
    _redis_options = CACHES["default"].setdefault("OPTIONS", {})
    _redis_options.setdefault("socket_connect_timeout", 2)
    _redis_options.setdefault("socket_timeout", 2)

# Sessions live on the server (the database, read through the cache) so that signing out
# ends them for every copy of the cookie; the cookie holds only a random key. They hold ids
# only (draft ids, resident id): no answers, no status code. With several workers the cache
# must be shared (CACHE_URL), or a worker could still serve a session another one ended:
# `check --deploy` says so. Expired rows are removed by `manage.py clearsessions`.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
SESSION_COOKIE_SAMESITE = "Lax"

# Staff sign in at /staff/login/ with a password and a second factor (django-otp: TOTP or
# a single-use backup code); the Django admin uses the same sign-in. django-axes counts
# failed passwords per user name and client address: each failure past the second makes
# the next attempt wait longer (inbox.throttle), and AXES_FAILURE_LIMIT failures lock that
# pair out for AXES_COOLOFF_TIME.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "inbox:login"
AXES_FAILURE_LIMIT = env.int("STAFF_LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("STAFF_LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "inbox/lockout.html"
AXES_CLIENT_IP_CALLABLE = "forms_engine.ratelimit.client_address"
AXES_VERBOSE = False
# Staff sessions end after STAFF_SESSION_IDLE_SECONDS without a request and, whatever the
# activity, STAFF_SESSION_MAX_SECONDS after sign-in (inbox.middleware).
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
STAFF_SESSION_MAX_SECONDS = env.int("STAFF_SESSION_MAX_SECONDS", default=10 * 60 * 60)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="denshi-shinsei")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# The site's own contact (who runs the service), shown on error pages and in the footer
# where no organization's contact is known, e.g. "電子申請窓口 06-0000-0000（平日9時〜17時）".
SITE_CONTACT = env.str("SITE_CONTACT", default="")
# Django's CSRF page is English and says DEBUG=True: the service's page instead.
CSRF_FAILURE_VIEW = "forms_engine.views.errors.csrf_failure"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"

STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names (app.3f2a9c.css) listed in a manifest by collectstatic (`make run` runs
    # it): WhiteNoise serves those with a year-long immutable cache, and a new release
    # changes the names, so nobody keeps an old script. STATIC_MANIFEST=false keeps plain
    # names (the tests, which serve from the source folders with no collectstatic); before
    # collectstatic has run, names are plain too (config/staticfiles.py), never a 500.
    "staticfiles": {
        "BACKEND": "config.staticfiles.ManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=True)
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
# S3-compatible object storage (AWS S3, SeaweedFS, MinIO...): set the bucket to use it.
# Files then go from the browser straight to the bucket (presigned multipart upload), and
# the server reads them back only in ranges and streams. forms_engine.storage reads these;
# the Attachment FileField (django-storages) points at the same bucket.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
# "path" works with every S3-compatible server and gives presigned URLs one origin.
AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="path")
# Browser uploads straight to the bucket when it is set (off: every file through the server).
DIRECT_UPLOAD = env.bool("DIRECT_UPLOAD", default=True)
# Origins whose pages may PUT parts to the bucket (its CORS rules, set by
# `manage.py storage_setup`): the site itself unless listed.
DIRECT_UPLOAD_ORIGINS = env.list("DIRECT_UPLOAD_ORIGINS", default=[SITE_URL])
# Lifetime of a presigned part URL (seconds): one part of 8 MiB over a slow link, with margin.
DIRECT_UPLOAD_PART_URL_SECONDS = env.int("DIRECT_UPLOAD_PART_URL_SECONDS", default=900)
# Lifetime of a staff download URL (seconds): the browser follows it at once; a copied URL
# soon opens nothing. Every download is audited (DownloadAudit).
STAFF_DOWNLOAD_URL_SECONDS = env.int("STAFF_DOWNLOAD_URL_SECONDS", default=60)
# Direct uploads not completed within this many hours are aborted (parts deleted) by the
# housekeeping task; the resident's browser resumes well within it.
UPLOAD_STALE_AFTER_HOURS = env.int("UPLOAD_STALE_AFTER_HOURS", default=24)


if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "region_name": AWS_S3_REGION_NAME,
            "access_key": AWS_ACCESS_KEY_ID,
            "secret_key": AWS_SECRET_ACCESS_KEY,
            "addressing_style": AWS_S3_ADDRESSING_STYLE,
            "signature_version": "s3v4",
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# Mail: console by default; EMAIL_URL (smtp://user:pass@host:587/?tls=True) for SMTP.
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@denshi-shinsei.example")
# Seconds an SMTP connection waits for each step: Django's default is to wait forever, and
# a mail server that drops packets would hold a worker (or, in-process, a request) for good.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# Celery: eager (in-process) unless a broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Without a broker (the embedded default), the work kicked when a change commits (outbox
# consumers, deliveries, scans, mails) runs in BACKGROUND_THREADS threads of the serving
# process rather than in the request (forms_engine/background.py), and the periodic jobs
# that beat runs with a broker (outbox leftovers, deliveries due again, resident mails)
# run there every BACKGROUND_PERIODIC_SECONDS. Off: run at once in the request (the test
# suite keeps it off, tests/conftest.py, so that the work has run when a request returns).
TASKS_IN_BACKGROUND = env.bool("TASKS_IN_BACKGROUND", default=CELERY_TASK_ALWAYS_EAGER)
BACKGROUND_THREADS = env.int("BACKGROUND_THREADS", default=2)
BACKGROUND_PERIODIC_SECONDS = env.float("BACKGROUND_PERIODIC_SECONDS", default=5.0)
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged when it has run, not when it is taken, and given back to the
# broker when its worker dies (SIGKILL, out of memory) rather than lost; each worker
# takes one task at a time, so a long task never holds others back in its prefetch.
# Every task is written to be run twice (ids in, state checked first).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Time limits (seconds): the soft one raises in the task (it can clean up), the hard one
# kills the worker process. Longer than any webhook (timeouts above), scan or export.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# Redis: a task taken by a worker that died unacknowledged goes back to the queue after
# this many seconds (keep it above the hard time limit and any countdown); connecting
# gives up quickly so that a request never waits long on a broker that is down (the
# outbox rows are committed; beat catches up).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes a worker thread's database connections around every task
# unless told to keep them for this many tasks; config/celery.py applies Django's own rules
# around each task instead (DB_CONN_MAX_AGE, health checks, unusable connections closed),
# so that a connection lives as long as a web worker's does, whatever the task count.
CELERY_DB_REUSE_MAX = 1_000_000
# With a broker, run `celery -A config worker` and `celery -A config beat`: beat runs the
# outbox's consumers and the deliveries that are due for what the requests' kicks left
# behind (a lost task, a broker that was down), and the housekeeping.
# Queues (declared in config/celery.py; kombu fills in Queue objects in place):
# "celery" (the default: outbox consumers, mail, housekeeping), "deliveries" (webhook and
# email deliveries), "scans" (malware scans, near clamd), "exports" (csv runs, staff
# exports). A plain `celery -A config worker` consumes them all; in production run a
# worker per queue (`-Q deliveries`, `-Q scans`, `-Q exports`, `-Q celery`), see README.
CELERY_TASK_DEFAULT_QUEUE = "celery"
# How long a receipt mail waits for the receipt PDF it attaches (made on the exports
# queue); past it the mail goes with the status page link only.
RECEIPT_PDF_MAIL_WAIT_SECONDS = env.int("RECEIPT_PDF_MAIL_WAIT_SECONDS", default=120)
# A worker child is replaced once its memory passes this (KiB): WeasyPrint (receipt PDFs,
# staff PDFs on the exports queue) keeps caches that grow across renders.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=600_000)
CELERY_TASK_ROUTES = {
    "forms_engine.tasks.attachment_scan": {"queue": "scans"},
    "integrations.tasks.delivery_send": {"queue": "deliveries"},
    "integrations.tasks.deliveries_send": {"queue": "deliveries"},
    "integrations.tasks.csv_*": {"queue": "exports"},
    "inbox.tasks.*export*": {"queue": "exports"},
    # The scheduled integrations' runs (csv files) may take a while: never in the way of mail.
    "integrations.tasks.scheduled_run_write": {"queue": "exports"},
    # Receipt PDFs (WeasyPrint): the exports worker, with max-tasks/memory per child.
    "forms_engine.tasks.receipt_document_render": {"queue": "exports"},
}
CELERY_BEAT_SCHEDULE = {
    # The outbox's consumers, for what a lost kick left behind (broker down, worker killed).
    "outbox-dispatch": {
        "task": "forms_engine.tasks.outbox_dispatch_all",
        "schedule": env.float("OUTBOX_DISPATCH_SECONDS", default=5.0),
    },
    # Deliveries due again (retries, ended leases, lost tasks).
    "deliveries-due": {
        "task": "integrations.tasks.deliveries_enqueue_due",
        "schedule": env.float("DELIVERY_POLL_SECONDS", default=5.0),
    },
    # Mails to residents about the review of their submission (forms_engine.resident_mails).
    "resident-mails": {
        "task": "forms_engine.tasks.resident_mails_send",
        "schedule": env.float("RESIDENT_MAIL_POLL_SECONDS", default=10.0),
    },
    # Scheduled integrations (csv): which runs are due, every minute (their cron is read
    # in Asia/Tokyo); failed runs are written again here after their delay.
    "scheduled-runs": {
        "task": "integrations.tasks.scheduled_runs_tick",
        "schedule": 60.0,
    },
    # Files whose scan task was never sent or was lost go to the scanner again.
    "attachments-scan-lost": {
        "task": "forms_engine.tasks.attachments_scan_lost",
        "schedule": env.float("ATTACHMENT_SCAN_LOST_POLL_SECONDS", default=15 * 60.0),
    },
    # Housekeeping of files: incomplete direct uploads (hourly), files of drafts abandoned
    # past their resume link and of submissions past their retention (nightly).
    "uploads-abort-stale": {
        "task": "forms_engine.tasks.uploads_abort_stale",
        "schedule": crontab(minute=17),
    },
    "drafts-abandoned-files": {
        "task": "forms_engine.tasks.drafts_abandoned_files_delete",
        "schedule": crontab(hour=3, minute=7),
    },
    "submissions-retention-files": {
        "task": "forms_engine.tasks.submissions_expired_files_delete",
        "schedule": crontab(hour=3, minute=37),
    },
}

# Procedures: the YAML tree loaded by `manage.py load_procedures` and checked by a system check.
PROCEDURES_DIR = Path(env.str("PROCEDURES_DIR", default=str(BASE_DIR / "procedures")))
# Integration types: `type:` key -> dotted path of its class (integrations/registry.py).
# Each class checks its YAML keys (for the loader) and delivers.
INTEGRATION_TARGETS = {
    "webhook": "integrations.targets.webhook.WebhookTarget",
    "csv": "integrations.targets.csv.CsvTarget",
    "email": "integrations.targets.email.EmailTarget",
}
# Deliveries to back-office systems (integrations/deliveries.py): attempts in all before a
# delivery is dead (visible to staff, who retry it), the first retry delay doubling up to
# the cap (with jitter), how long a worker holds a delivery it sends (past it, another
# worker may send it again), how soon the poller queues a delivery queued before again.
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=12)
DELIVERY_RETRY_FIRST_SECONDS = env.float("DELIVERY_RETRY_FIRST_SECONDS", default=30.0)
DELIVERY_RETRY_MAX_SECONDS = env.float("DELIVERY_RETRY_MAX_SECONDS", default=3600.0)
DELIVERY_LEASE_SECONDS = env.float("DELIVERY_LEASE_SECONDS", default=120.0)
DELIVERY_REQUEUE_SECONDS = env.float("DELIVERY_REQUEUE_SECONDS", default=300.0)
# Webhook timeouts (seconds): connecting, and waiting for each read of the answer.
DELIVERY_CONNECT_TIMEOUT = env.float("DELIVERY_CONNECT_TIMEOUT", default=5.0)
DELIVERY_READ_TIMEOUT = env.float("DELIVERY_READ_TIMEOUT", default=30.0)
# Deliveries per send task (the poller's backlog and each filing's deliveries are queued
# in batches of this many; each is claimed, sent and recorded on its own). Keep
# DELIVERY_BATCH x (connect + read timeout) under CELERY_TASK_SOFT_TIME_LIMIT: 8 x 35 s.
DELIVERY_BATCH = env.int("DELIVERY_BATCH", default=8)
# Lifetime of the download URLs of attachments in a webhook payload.
DELIVERY_DOWNLOAD_URL_SECONDS = env.int("DELIVERY_DOWNLOAD_URL_SECONDS", default=3600)
# Webhooks to loopback addresses (127.0.0.1, ::1): refused unless this is on (tests, a
# receiver on the same machine in the embedded default). The service's own address is
# refused whatever this says.
DELIVERY_ALLOW_LOOPBACK = env.bool("DELIVERY_ALLOW_LOOPBACK", default=EMBEDDED)
# Payments (payments/, README "Payments"): `offline` (pay at the counter or by transfer,
# staff record it) unless an organization has a Stripe account in the environment.
PAYMENTS_PROVIDER = env.str("PAYMENTS_PROVIDER", default="offline")
# A csv run queued this long ago and neither written nor being written (its task lost, or
# its worker killed) is queued again.
CSV_RUN_REQUEUE_SECONDS = env.float("CSV_RUN_REQUEUE_SECONDS", default=300.0)
# The folders a csv run may write into (local destinations, resolved, symlinks followed):
# the embedded drop under VAR_DIR plus the operator's CSV_LOCAL_ROOTS (comma-separated).
# A destination folder outside all of them is refused when the run writes.
CSV_LOCAL_ROOTS = [VAR_DIR / "csv-exports", *env.list("CSV_LOCAL_ROOTS", default=[])]
# Requests per pull-API token: `count/seconds` (a fixed window in the shared cache).
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/60")
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")


def _env_suffixed(prefix: str) -> dict[str, str]:
    """{NAME: value} of the environment variables `<prefix>_<NAME>` (a payment account's
    name, upper case, `-` as `_`)."""
    return {
        key[len(prefix) + 1 :]: value
        for key, value in os.environ.items()
        if key.startswith(prefix + "_") and value
    }


# An organization's own Stripe account (STRIPE_SECRET_KEY_<NAME>), or its connected account
# under the platform key (STRIPE_ACCOUNT_<NAME>); webhook endpoints of own accounts have
# their own secrets (STRIPE_WEBHOOK_SECRET_<NAME>).
STRIPE_SECRET_KEYS = _env_suffixed("STRIPE_SECRET_KEY")
STRIPE_ACCOUNTS = _env_suffixed("STRIPE_ACCOUNT")
STRIPE_WEBHOOK_SECRETS = _env_suffixed("STRIPE_WEBHOOK_SECRET")
# The Stripe API's base address; set only to point the library at a local peer in tests.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Where Checkout pages live: the pay page's Content-Security-Policy lets its form lead there.
STRIPE_CHECKOUT_ORIGIN = env.str("STRIPE_CHECKOUT_ORIGIN", default="https://checkout.stripe.com")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# A Checkout page stays open this long (Stripe allows 30 minutes to 24 hours); a konbini
# slip may be paid for this many days.
PAYMENT_CHECKOUT_MINUTES = env.int("PAYMENT_CHECKOUT_MINUTES", default=60)
PAYMENT_KONBINI_DAYS = env.int("PAYMENT_KONBINI_DAYS", default=3)
# A payment without a final state this long after its last change is asked about at Stripe
# (a lost webhook never leaves a resident stuck); the task runs every RECONCILE_SECONDS.
PAYMENT_RECONCILE_AFTER_MINUTES = env.int("PAYMENT_RECONCILE_AFTER_MINUTES", default=30)
PAYMENT_RECONCILE_SECONDS = env.float("PAYMENT_RECONCILE_SECONDS", default=15 * 60.0)
# How long a pay link (status page, mail) stays valid.
PAYMENT_LINK_DAYS = env.int("PAYMENT_LINK_DAYS", default=120)
CELERY_BEAT_SCHEDULE["payments-reconcile"] = {
    "task": "payments.tasks.payments_reconcile",
    "schedule": PAYMENT_RECONCILE_SECONDS,
}
# The ClamAV daemon that scans every upload: tcp://host:port or the path of its unix
# socket (checked at start, forms_engine.scanning.clamd_address_parse). Empty: files are
# delivered as "not scanned", said openly (and `check --deploy` warns in production).
CLAMD_ADDRESS = env.str("CLAMD_ADDRESS", default="")
# An unreachable clamd is tried again after CLAMD_RETRY_FIRST_SECONDS, doubling up to
# CLAMD_RETRY_MAX_SECONDS (keep it under the Redis broker's one-hour visibility timeout),
# CLAMD_RETRY_ATTEMPTS times (the defaults: about two days). Never marked clean meanwhile.
CLAMD_RETRY_FIRST_SECONDS = env.int("CLAMD_RETRY_FIRST_SECONDS", default=30)
CLAMD_RETRY_MAX_SECONDS = env.int("CLAMD_RETRY_MAX_SECONDS", default=30 * 60)
# A file in quarantine this long without a scan attempt lost its task (the broker was
# down when it was stored): the sweep above sends it to the scanner again.
ATTACHMENT_SCAN_LOST_SECONDS = env.int("ATTACHMENT_SCAN_LOST_SECONDS", default=3600)
CLAMD_RETRY_ATTEMPTS = env.int("CLAMD_RETRY_ATTEMPTS", default=100)
# How many bytes the configured clamd scans whole (its MaxFileSize, and MaxScanSize and
# StreamMaxLength at least as large): a longer file is refused, never called clean, since
# clamd answers OK for a file over its limits unless `AlertExceedsMax yes`. The default is
# clamd's own default MaxFileSize (100M); raise both together.
CLAMD_MAX_FILE_BYTES = env.int("CLAMD_MAX_FILE_BYTES", default=100 * 1024 * 1024)

# Upload through the server (first cut; direct uploads to object storage come with the
# attachments issue): big files stream to disk, not memory. The guard in front reads file
# parts only for the inputs the view expects (none, unless the filing page installs its
# own), discards a part past its field's max_size (within UPLOAD_FILE_MAX_BYTES) while it
# arrives, and stops a request's files at the page's own total (sum of max_size x
# max_files) within UPLOAD_REQUEST_MAX_BYTES. See forms_engine/uploads.py.
FILE_UPLOAD_HANDLERS = [
    "forms_engine.uploads.UploadGuard",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
UPLOAD_FILE_MAX_BYTES = env.int("UPLOAD_FILE_MAX_BYTES", default=100 * 1024 * 1024)
UPLOAD_REQUEST_MAX_BYTES = env.int("UPLOAD_REQUEST_MAX_BYTES", default=256 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The text one filing may hold in all, answers and kept typing (each page counted once):
# every save, autosave and view of the confirmation page reads it again, so it bounds that
# work. Past it a page is refused, unread. See forms_engine/filing/budget.py.
DRAFT_TEXT_MAX_CHARS = env.int("DRAFT_TEXT_MAX_CHARS", default=200_000)
# The form fields of one request (files are not counted here): a page that fills the whole
# budget with 4-byte characters, percent-encoded (12 bytes each), and room for the names.
# A larger body is answered with a translated 413 page (forms_engine.views.bad_request).
DATA_UPLOAD_MAX_MEMORY_SIZE = DRAFT_TEXT_MAX_CHARS * 12 + 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# Rate limits for endpoints that cost us work: "count/seconds" per client address.
RATE_LIMITS = {
    "start": env.str("RATE_LIMIT_START", default="30/600"),
    "submit": env.str("RATE_LIMIT_SUBMIT", default="30/600"),
    "postal": env.str("RATE_LIMIT_POSTAL", default="120/60"),
    "login_link": env.str("RATE_LIMIT_LOGIN_LINK", default="5/600"),
    "resume_link": env.str("RATE_LIMIT_RESUME_LINK", default="5/600"),
    "status": env.str("RATE_LIMIT_STATUS", default="20/600"),
    # Direct uploads: files begun, completed or removed; and part URL requests (a 1 GB
    # file has 128 parts of 8 MiB, signed a few at a time).
    "upload": env.str("RATE_LIMIT_UPLOAD", default="120/600"),
    "upload_parts": env.str("RATE_LIMIT_UPLOAD_PARTS", default="2000/600"),
    # Payments started (each may open a checkout at the provider).
    "pay": env.str("RATE_LIMIT_PAY", default="30/600"),
}
RATE_LIMIT_ENABLED = env.bool("RATE_LIMIT_ENABLED", default=True)
# Behind a proxy, the number of trusted proxies in X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# The waiting room (forms_engine/rush/): per procedure in its YAML (`rush:`), or for every
# procedure at once in an emergency with RUSH_ADMIT_PER_MINUTE (0: off); the stricter wins.
RUSH_ADMIT_PER_MINUTE = env.int("RUSH_ADMIT_PER_MINUTE", default=0)
RUSH_ADMISSION_MINUTES = env.int("RUSH_ADMISSION_MINUTES", default=30)
# How long a queued ticket keeps its place (leaving and coming back in the same browser).
RUSH_TICKET_HOURS = env.int("RUSH_TICKET_HOURS", default=6)
# How long a worker trusts the cached `rush:` of a procedure (a load forgets it at once).
RUSH_CONFIG_CACHE_SECONDS = env.int("RUSH_CONFIG_CACHE_SECONDS", default=30)

# Overload (forms_engine/overload.py): at most this many requests run at once in one
# process; past it a request waits up to OVERLOAD_WAIT_SECONDS for a turn, then is answered
# 429 with Retry-After. 0: no limit (sync gunicorn workers run one request at a time).
OVERLOAD_MAX_CONCURRENT = env.int("OVERLOAD_MAX_CONCURRENT", default=0)
OVERLOAD_WAIT_SECONDS = env.float("OVERLOAD_WAIT_SECONDS", default=0.5)
OVERLOAD_RETRY_AFTER = env.int("OVERLOAD_RETRY_AFTER", default=5)

LOGIN_TOKEN_MAX_AGE = 60 * 30
RESUME_TOKEN_MAX_AGE = 60 * 60 * 24 * 30

# Security: strict unless DEBUG.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and not EMBEDDED:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Platforms probe over plain HTTP inside the cluster, and count a redirect as healthy.
    SECURE_REDIRECT_EXEMPT = [r"^healthz(/|$)"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
