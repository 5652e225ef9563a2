"""Settings for Local Tenders, read from environment variables only.

Three ways to run, chosen by the environment:

* embedded default (nothing set): SQLite under ``var/``, Celery tasks run
  in-process after the transaction commits, email to the console, DEBUG on;
* ``DATABASE_URL`` / ``REDIS_URL``: PostgreSQL through psycopg 3, and Redis as
  the Celery broker and the cache;
* ``DJANGO_ENV=production``: refuses to start without SECRET_KEY,
  ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and EMAIL_HOST; secure cookies, HSTS.

Every variable is listed in the README.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from csp.constants import NONE, SELF

from portal.config import (
    ConfigurationError,
    database_url,
    development_secret,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_str,
    redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DJANGO_ENV = env_choice("DJANGO_ENV", ("development", "production"), "development")
PRODUCTION = DJANGO_ENV == "production"

DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var")))
if not PRODUCTION:
    DATA_DIR.mkdir(parents=True, exist_ok=True)

# --- Core -------------------------------------------------------------------

if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY", required=True)
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ConfigurationError(
            "SECRET_KEY", "at least 50 random characters", f"{len(SECRET_KEY)} characters"
        )
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ConfigurationError("ALLOWED_HOSTS", "a comma-separated list of host names")
    DEBUG = env_bool("DEBUG", False)
    if DEBUG:
        raise ConfigurationError("DEBUG", "off in production", "on")
else:
    SECRET_KEY = env_str("SECRET_KEY") or development_secret(DATA_DIR)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
    DEBUG = env_bool("DEBUG", True)

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "portal",
    "cpv",
    "suppliers",
    "tenders",
    "transparency",
    "ledger",
    "portal.apps.PortalAdminConfig",  # django.contrib.admin, on the portal's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_forms_gds",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
]
# Demo data, council-scale data and the benchmarks (seed_demo, seed_scale, bench):
# for people working on the portal, never installed in production.
if not PRODUCTION:
    INSTALLED_APPS.append("devdata")

MIDDLEWARE = [
    # request.received_at: when the request reached us (ADR 17); first of all.
    "portal.received.ReceivedAtMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed the second step?
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Council staff reach nothing but the two-factor pages until verified.
    "portal.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A GET to an address only a button uses: a page, not an empty 405 (inside the
    # middleware above, which add their headers to it).
    "portal.post_only.PostOnlyMiddleware",
    # Turns a locked-out sign-in into the "too many attempts" page (last).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.service",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------

# A parsed DATABASE_URL, or the embedded default below (whose NAME is a Path).
_database: Mapping[str, Any] | None = database_url()
if _database is None:
    if PRODUCTION:
        raise ConfigurationError("DATABASE_URL", "a PostgreSQL URL in production")
    _database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "db.sqlite3",
        # IMMEDIATE transactions and WAL keep concurrent requests from failing
        # with "database is locked" on the embedded default.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Covering indexes (``include=``) serve PostgreSQL at council scale; SQLite, the
# embedded default, builds the same indexes without the extra columns (W040).
# Its one unique constraint with included columns, which Django does not create
# on SQLite (W039), gets a unique index of its own there (ledger migration 0006).
SILENCED_SYSTEM_CHECKS = ["models.W039", "models.W040"]

# --- Redis: Celery broker and cache ---------------------------------------------

REDIS_URL = redis_url()
if REDIS_URL is None and PRODUCTION:
    raise ConfigurationError("REDIS_URL", "a Redis URL in production")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "lt",
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery (see portal/celery.py). Without REDIS_URL tasks run in-process,
# after the transaction that enqueued them has committed.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True

# --- Authentication -----------------------------------------------------------

AUTH_USER_MODEL = "portal.User"
# Axes refuses sign-in while a username and address are locked out; it must
# come first, and every authenticate() call must pass the request.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2  # a reset link lasts two hours
SESSION_COOKIE_AGE = 60 * 60 * 8  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Two-factor authentication (portal/two_factor.py, ADR 8): officers, auditors
# and administrators confirm each sign-in with a TOTP code or a recovery code.
OTP_TOTP_ISSUER = env_str("SERVICE_NAME", "Local Tenders")
OTP_TOTP_THROTTLE_FACTOR = 1  # after n failed codes, wait 2^(n-1) seconds
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # Django admin never shows a secret or a code

# Lockout (django-axes, portal/lockout.py, ADR 8): AXES_FAILURE_LIMIT failed
# sign-ins or two-factor codes for one account (from any address) lock that
# account; AXES_ADDRESS_FAILURE_LIMIT failures from one client address (at any
# accounts) lock that address; each for AXES_COOLOFF_MINUTES after the failure
# that reached the limit. The lock does not grow while it lasts.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 50, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_HANDLER = "portal.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
# Failures count against the account the typed address names ("user:<id>").
AXES_USERNAME_CALLABLE = "portal.lockout.username_of"
AXES_CLIENT_IP_CALLABLE = "portal.lockout.client_address"
AXES_LOCKOUT_CALLABLE = "portal.lockout.locked_out_response"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Failures are cleared only when a sign-in is complete (after the second step).
AXES_RESET_ON_SUCCESS = False
# The audit trail records sign-ins; axes keeps only the failure counts.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# The reverse proxies in front of the portal (IP addresses or CIDR ranges):
# only from these is X-Forwarded-For believed (portal.lockout.client_address).
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
# ...and from these only is X-Request-Start believed: when a request reached
# the front server (portal.received, ADR 17).
# How long a bid received before the deadline may take to be recorded: the
# sealed box opens, and the closing is recorded, only this long after the
# deadline (ADR 17). Keep it above the front server's proxy timeout.
BIDS_IN_FLIGHT_SECONDS = env_int("BIDS_IN_FLIGHT_SECONDS", 30, minimum=0)

# --- Email ----------------------------------------------------------------------

EMAIL_HOST = env_str("EMAIL_HOST")
# EMAIL_BACKEND names another Django email backend outright, e.g.
# portal.mail.RedisCaptureBackend for benchmarks and staging.
_email_backend = env_str("EMAIL_BACKEND")
if _email_backend:
    EMAIL_BACKEND = _email_backend
    if PRODUCTION and not EMAIL_HOST:
        raise ConfigurationError("EMAIL_HOST", "the SMTP server's host name in production")
elif EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 20
elif PRODUCTION:
    raise ConfigurationError("EMAIL_HOST", "the SMTP server's host name in production")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Local Tenders <noreply@localtenders.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Captured email (portal.mail.RedisCaptureBackend) goes to this Redis URL.
EMAIL_CAPTURE_URL = env_str("EMAIL_CAPTURE_URL")
EMAIL_CAPTURE_KEY = env_str("EMAIL_CAPTURE_KEY", "lt:captured-mail")

# The address people reach the portal at, for links in emails.
SITE_URL = (env_str("SITE_URL") or ("" if PRODUCTION else "http://127.0.0.1:8000")).rstrip("/")
if PRODUCTION and not SITE_URL.startswith("https://"):
    raise ConfigurationError(
        "SITE_URL", "the portal's public https:// address in production", SITE_URL or None
    )
EMAIL_MESSAGE_ID_DOMAIN = (urlparse(SITE_URL).hostname or "localtenders.invalid").lower()
# Tests route notification tasks to their own worker's queue.
NOTIFICATIONS_QUEUE: str | None = None

# --- Internationalisation -------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files and uploads ---------------------------------------------------

STATIC_URL = "/static/"
# collectstatic gathers files here for production; the embedded default serves
# them straight from build/static through WhiteNoise's finders.
STATIC_ROOT = BASE_DIR / "staticfiles" if PRODUCTION else None
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
STATICFILES_DIRS = [BASE_DIR / "build" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded documents and bids are private: kept outside the static tree and
# only ever streamed through permission-checked views.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "private-media")))
# No URL serves MEDIA_ROOT: files are streamed by views that check permission.
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The first handler stops keeping a file once it is over the upload limit, so a
# huge upload is refused with the form's message without filling the disk.
FILE_UPLOAD_HANDLERS = [
    "portal.uploads.SizeCappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Forms ------------------------------------------------------------------------

CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"
CRISPY_GDS_FRONTEND_VERSION = "5.14.0"
# GOV.UK classes for the widgets crispy-forms-gds does not name itself (it would
# give a web address box the class "urlinput"); the error state of these is
# added by portal/templatetags/govuk_crispy.py.
CRISPY_CLASS_CONVERTERS = {
    "urlinput": "govuk-input",
    "numberinput": "govuk-input",
    "dateinput": "govuk-input",
    "timeinput": "govuk-input",
    "datetimeinput": "govuk-input",
    "searchinput": "govuk-input",
    "fileinput": "govuk-file-upload",
    "selectmultiple": "govuk-select",
}

# --- Service identity -------------------------------------------------------------

SERVICE_NAME = env_str("SERVICE_NAME", "Local Tenders")
# Shown in the header; each user's own council is shown when they have one.
SERVICE_OWNER = env_str("SERVICE_OWNER", "Demo Council")
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "procurement@localtenders.example")

# Open Contracting Data Standard: each exported release's ocid is
# "ocds-<OCDS_PREFIX>-<opportunity id>" (register a prefix with the Open
# Contracting Partnership before publishing; see transparency/ocds.py).
OCDS_PREFIX = env_str("OCDS_PREFIX", "localtenders")
if not re.fullmatch(r"[A-Za-z0-9]{1,30}", OCDS_PREFIX):
    raise ConfigurationError("OCDS_PREFIX", "letters and digits only, such as abc123", OCDS_PREFIX)

# --- Security -----------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline script or style anywhere (templates, Django admin, crispy-forms-gds
# are all clean); the QR code for setting up two-factor is a data: image.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe the health page over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    # The web container sits behind a TLS-terminating proxy that sets this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# --- Logging ------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Server errors are logged with their traceback; the page shows none.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.utils.autoreload": {"level": "WARNING"},
        # Failed sign-ins are in the audit trail; axes logs only its warnings.
        "axes": {"level": "WARNING"},
    },
}
