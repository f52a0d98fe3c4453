"""Vigil settings: one module, read from the environment.

With no environment at all, Vigil runs embedded: SQLite in WAL mode, a Celery broker on the
filesystem and a file cache, all under VIGIL_DATA_DIR. Production differs only by environment:
DATABASE_URL (PostgreSQL), CELERY_BROKER_URL and REDIS_URL (Redis). Every variable is listed in
docs/configuration.md.

Each setting is defined once, in the section it belongs to, and never changed further down.
"""

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_database,
    env_email,
    env_float,
    env_header_value,
    env_int,
    env_list,
    env_matching,
    env_networks,
    env_oidc_issuer,
    env_required,
    env_role_map,
    env_str,
    env_url,
    generated_secret_key,
    is_set,
)
from config.roles import ROLES
from notifications import formats

# A host name: labels of letters, digits and hyphens, the last one not all digits (WebAuthn's
# RP ID is never an IP address, and has no scheme or port).
_WEBAUTHN_RP_ID_FORMAT = re.compile(
    r"(?=.{1,253}$)(?!(.*\.)?[0-9]+$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)

# --- Paths: the code, and the folder that holds everything the embedded mode writes ----------
BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("VIGIL_DATA_DIR", str(BASE_DIR / "var"))).resolve()
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfigured(f"VIGIL_DATA_DIR {DATA_DIR} cannot be created ({exc})") from None

# --- Core: debug mode, secret key, host names, public address ------------------------------
DEBUG = env_bool("DEBUG", True)


def _secret_key() -> str:
    if is_set("SECRET_KEY") or not DEBUG:
        return env_required("SECRET_KEY", "production (DEBUG=0) needs a long random secret key")
    # A development run keeps one generated key, so sessions survive a restart.
    return generated_secret_key(DATA_DIR / "secret_key")


SECRET_KEY = _secret_key()
if DEBUG:
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
else:
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or env_required(
        "ALLOWED_HOSTS", "production (DEBUG=0) needs the host names Vigil is served under"
    )

PUBLIC_URL = env_url("PUBLIC_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")
SITE_NAME = env_str("SITE_NAME", "Vigil")
CSRF_TRUSTED_ORIGINS = [PUBLIC_URL]

# --- Applications, middleware, URLs, templates ---------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    # Two-factor sign-in (config/mfa/): django-otp's TOTP and static (recovery code) devices, with
    # their own migrations. Before config, whose admin takes their admin pages away (a TOTP
    # device's page would show its secret).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "config",
    "subscribers",
    "oncall",
    "healthchecks",
    "monitoring",
    "notifications",
    "alerts",
    "statuspage",
    "reports",
    "backups",
    # The API schema and the assets of its docs pages, loaded after the project's apps.
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    # First, so the time it records covers every other middleware too.
    "monitoring.timing.RequestTimingMiddleware",
    # A line per request, under the web server only (config/access_log.py).
    "config.access_log.AccessLogMiddleware",
    # Public JSON per client address (config/throttling.py), before any other work is done.
    "config.throttling.PublicThrottleMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response, static files included (config/csp.py).
    "config.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Answers cached public pages from memory; what is below it does not run for them, so a
    # middleware that must touch every response goes above (statuspage/cache.py).
    "statuspage.cache.CachedPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The visitor's language on the public pages, English elsewhere (core/i18n.py).
    "core.i18n.PublicLocaleMiddleware",
    # An unknown API path answers JSON also with DEBUG=1 (config/errors.py).
    "config.errors.ApiNotFoundMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A session that has not passed its second step, or must enrol first, is not signed in
    # beyond the two-factor pages (config/mfa/middleware.py).
    "config.mfa.middleware.TwoFactorMiddleware",
    # Right after authentication: the audit log needs to know who made the request (config/audit.py).
    "config.audit.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                # `branding` for the public pages (statuspage/branding.py), read only where used.
                "statuspage.branding.context",
            ],
        },
    },
]

# --- Database: SQLite in DATA_DIR, or DATABASE_URL (PostgreSQL) ---------------------------
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 2, minimum=1, maximum=60)
# The web processes' connection pools: connections per process, and how long a request waits
# for one when all are busy (then it fails with a 503 rather than queueing without end).
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 10, minimum=1, maximum=200)
DATABASE_POOL_TIMEOUT = env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1, maximum=120)


def _greenlets() -> bool:
    """Whether this process serves requests on gevent's greenlets (the web line of the Procfile).
    There each request runs in a greenlet of its own, and Django keeps a connection per greenlet:
    a persistent one is never reused but stays open until the greenlet is collected, so under
    load PostgreSQL runs out of connections. Such a process closes its connection after each
    request instead.

    Threading counts as well as sockets: gevent patches threading first, and while it does so it
    walks every live object, which makes Celery's app proxies load these settings before the
    socket module is patched."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("socket") or monkey.is_module_patched("threading")


def _database() -> dict:
    embedded = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "vigil.sqlite3")}
    url_config = env_database("DATABASE_URL", embedded)
    if url_config["ENGINE"] == "django.db.backends.sqlite3":
        # Web, worker and beat write to one file at once: WAL lets readers go on during a write,
        # IMMEDIATE takes the write lock at BEGIN (no deadlock upgrading a read lock), and the
        # busy timeout makes a writer wait for the lock instead of failing with "database is locked".
        return {
            **url_config,
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
                ),
            },
        }
    options = {**url_config.get("OPTIONS", {}), "connect_timeout": DATABASE_CONNECT_TIMEOUT}
    if _greenlets():
        # A greenlet's connection goes back to a pool the process shares when its request ends:
        # opening a PostgreSQL connection per request costs more than most requests.
        options["pool"] = {"min_size": 1, "max_size": DATABASE_POOL_SIZE, "timeout": DATABASE_POOL_TIMEOUT}
    return {
        **url_config,
        "OPTIONS": options,
        "CONN_MAX_AGE": 0 if _greenlets() else env_int("CONN_MAX_AGE", 60, minimum=0),
        "CONN_HEALTH_CHECKS": True,
        "TEST": {
            **url_config.get("TEST", {}),
            "NAME": env_str("TEST_DATABASE_NAME", f"test_{url_config['NAME']}"),
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: a file cache in DATA_DIR, or REDIS_URL -----------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    env_url("REDIS_URL", REDIS_URL, schemes=("redis", "rediss", "unix"))
    CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "vigil"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # A file cache is shared by web, worker and beat processes on one machine.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }

# --- Celery: a broker folder in DATA_DIR, or CELERY_BROKER_URL (Redis) ---------------------
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    "filesystem://localhost/",
    schemes=("filesystem", "redis", "rediss", "amqp", "memory"),
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = DATA_DIR / "broker" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / "broker" / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(DATA_DIR / "broker" / "control"),
        "store_processed": False,
    }
else:
    # A task unacknowledged this long (worker died mid-task, acks_late) is delivered again.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60),
        "socket_connect_timeout": 1,
        "socket_timeout": 5,
        # Publishing makes one connection attempt, no retries: a request that enqueues work must
        # not hang on a dead broker (kombu's default retried for ~6 s). The work is in the
        # database and the beat sweepers pick it up. Workers and beat reconnect with their own
        # retry settings (broker_connection_max_retries), which this does not change.
        "max_retries": 0,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One publish attempt (see max_retries above): with Redis down, `.delay()` inside a request failed
# only after ~0.6 s of retries. Every caller logs the failure and a beat sweeper does the work.
CELERY_TASK_PUBLISH_RETRY = False
if CELERY_BROKER_URL.startswith("redis://"):
    # kombu's Redis transport with a fix: a worker no longer exits when Redis dies under a running task.
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180, minimum=1)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Celery's persistent scheduler, plus a beat heartbeat row and the intervals staff change at run
# time (config/beat.py). The schedule itself is built at the end of this module.
CELERY_BEAT_SCHEDULER = "config.beat:RuntimeIntervalScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

# --- Monitoring configuration (initial values; staff change them at run time) --------------
HEALTH_CHECK_INTERVAL = env_int("HEALTH_CHECK_INTERVAL", 30, minimum=5)
METRIC_COLLECTION_INTERVAL = env_int("METRIC_COLLECTION_INTERVAL", 60, minimum=5)
ALERT_CHECK_INTERVAL = env_int("ALERT_CHECK_INTERVAL", 30, minimum=5)
HEARTBEAT_INTERVAL = env_int("HEARTBEAT_INTERVAL", 15, minimum=5)
RESPONSE_TIME_THRESHOLD = env_float("RESPONSE_TIME_THRESHOLD", 1000, minimum=0)
ERROR_RATE_THRESHOLD = env_float("ERROR_RATE_THRESHOLD", 5, minimum=0, maximum=100)
MEMORY_USAGE_THRESHOLD = env_float("MEMORY_USAGE_THRESHOLD", 85, minimum=0, maximum=100)
CPU_USAGE_THRESHOLD = env_float("CPU_USAGE_THRESHOLD", 80, minimum=0, maximum=100)
DISK_USAGE_THRESHOLD = env_float("DISK_USAGE_THRESHOLD", 90, minimum=0, maximum=100)
# Visitor "having trouble" reports about one component in 5 minutes, while it shows operational,
# that make the default "Visitors report trouble" rule alert (docs/alerts.md).
VISITOR_REPORT_ALERT_THRESHOLD = env_int("VISITOR_REPORT_ALERT_THRESHOLD", 5, minimum=1)
METRICS_RETENTION_DAYS = env_int("METRICS_RETENTION_DAYS", 30, minimum=1)
ALERTS_RETENTION_DAYS = env_int("ALERTS_RETENTION_DAYS", 90, minimum=1)
LOGS_RETENTION_DAYS = env_int("LOGS_RETENTION_DAYS", 7, minimum=1)
HEALTH_CHECK_TIMEOUT = env_float("HEALTH_CHECK_TIMEOUT", 2.0, minimum=0.1, maximum=2.0)

# --- Notification channels from the environment (staff manage them in the admin) -----------
EMAIL_NOTIFICATIONS_ENABLED = env_bool("EMAIL_NOTIFICATIONS_ENABLED", False)
EMAIL_RECIPIENTS = env_list("EMAIL_RECIPIENTS")
SLACK_NOTIFICATIONS_ENABLED = env_bool("SLACK_NOTIFICATIONS_ENABLED", False)
SLACK_WEBHOOK_URL = env_str("SLACK_WEBHOOK_URL")
if SLACK_WEBHOOK_URL:
    env_url("SLACK_WEBHOOK_URL", SLACK_WEBHOOK_URL, schemes=("https", "http"))
WEBHOOK_NOTIFICATIONS_ENABLED = env_bool("WEBHOOK_NOTIFICATIONS_ENABLED", False)
WEBHOOK_URLS = env_list("WEBHOOK_URLS")
for _url in WEBHOOK_URLS:
    env_url("WEBHOOK_URLS", _url, schemes=("https", "http"))
if EMAIL_NOTIFICATIONS_ENABLED and not EMAIL_RECIPIENTS:
    raise ImproperlyConfigured(
        "EMAIL_RECIPIENTS must list at least one address when EMAIL_NOTIFICATIONS_ENABLED=1"
    )
if SLACK_NOTIFICATIONS_ENABLED and not SLACK_WEBHOOK_URL:
    raise ImproperlyConfigured("SLACK_WEBHOOK_URL must be set when SLACK_NOTIFICATIONS_ENABLED=1")
if WEBHOOK_NOTIFICATIONS_ENABLED and not WEBHOOK_URLS:
    raise ImproperlyConfigured("WEBHOOK_URLS must list at least one URL when WEBHOOK_NOTIFICATIONS_ENABLED=1")
# SMS and voice calls through Twilio: one account for both initial channels.
SMS_NOTIFICATIONS_ENABLED = env_bool("SMS_NOTIFICATIONS_ENABLED", False)
SMS_RECIPIENTS = env_list("SMS_RECIPIENTS")
VOICE_NOTIFICATIONS_ENABLED = env_bool("VOICE_NOTIFICATIONS_ENABLED", False)
VOICE_RECIPIENTS = env_list("VOICE_RECIPIENTS")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
for _kind, _enabled, _numbers in (
    ("SMS", SMS_NOTIFICATIONS_ENABLED, SMS_RECIPIENTS),
    ("VOICE", VOICE_NOTIFICATIONS_ENABLED, VOICE_RECIPIENTS),
):
    if _enabled and not _numbers:
        raise ImproperlyConfigured(
            f"{_kind}_RECIPIENTS must list at least one number when {_kind}_NOTIFICATIONS_ENABLED=1"
        )
    if _enabled and not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER):
        raise ImproperlyConfigured(
            f"TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER must be set when "
            f"{_kind}_NOTIFICATIONS_ENABLED=1"
        )

# The push, chat and incident-tool channels: each variable set makes one channel at start-up
# (notifications/environment.py). Their shapes are checked here, so a bad value stops the start.
NTFY_TOPIC = env_matching(
    "NTFY_TOPIC", formats.NTFY_TOPIC, "an ntfy topic: 1 to 64 letters, digits, '-' or '_'"
)
NTFY_TOKEN = env_matching("NTFY_TOKEN", formats.GOTIFY_TOKEN, "an ntfy access token (printable, no spaces)")
DISCORD_WEBHOOK_URL = env_str("DISCORD_WEBHOOK_URL")
TEAMS_WEBHOOK_URL = env_str("TEAMS_WEBHOOK_URL")
MATTERMOST_WEBHOOK_URL = env_str("MATTERMOST_WEBHOOK_URL")
GOTIFY_URL = env_str("GOTIFY_URL")
for _name in ("DISCORD_WEBHOOK_URL", "TEAMS_WEBHOOK_URL", "MATTERMOST_WEBHOOK_URL", "GOTIFY_URL"):
    if is_set(_name):
        env_url(_name, "", schemes=("https", "http"))
GOTIFY_TOKEN = env_matching("GOTIFY_TOKEN", formats.GOTIFY_TOKEN, "a Gotify application token (no spaces)")
TELEGRAM_BOT_TOKEN = env_matching(
    "TELEGRAM_BOT_TOKEN",
    formats.TELEGRAM_BOT_TOKEN,
    "a Telegram bot token like 123456789:AAH… (from @BotFather)",
)
TELEGRAM_CHAT_ID = env_matching(
    "TELEGRAM_CHAT_ID", formats.TELEGRAM_CHAT, "a Telegram chat id (-100… for a group) or @channelname"
)
PAGERDUTY_ROUTING_KEY = env_matching(
    "PAGERDUTY_ROUTING_KEY",
    formats.PAGERDUTY_ROUTING_KEY,
    "the 32 letters and digits of an Events API v2 key",
)
OPSGENIE_API_KEY = env_matching(
    "OPSGENIE_API_KEY",
    formats.OPSGENIE_API_KEY,
    "an Opsgenie API key like 1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718",
)
for _first, _second in (("TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID"), ("GOTIFY_URL", "GOTIFY_TOKEN")):
    if is_set(_first) != is_set(_second):
        raise ImproperlyConfigured(f"{_first} and {_second} must be set together (one channel needs both)")

# --- E-mail: EMAIL_URL, the sender --------------------------------------------------------
_email = env_email("EMAIL_URL", "consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
# filemail:///folder: one file per message (the demo's mail, config/management/commands/demo.py).
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Vigil <vigil@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security: TLS, cookies, headers, failed logins, passwords ----------------------------
# Production (DEBUG=0) assumes TLS, terminated here or at a proxy; each default can be
# turned off for a plain-HTTP deployment (see docs/configuration.md). Health and metrics stay
# reachable over plain HTTP for load balancers and scrapers.
_tls = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _tls)
SECURE_REDIRECT_EXEMPT = [r"^health(/|$)", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _tls else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _tls)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _tls)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (config/csp.py): Vigil's pages load scripts and styles only from
# their own files, so no inline code runs even if some text ever escaped its escaping.
CONTENT_SECURITY_POLICY = env_header_value(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
)
# Staff tools that need inline styles (never inline scripts): the API docs (Redoc, Swagger UI)
# and DRF's browsable API. Redoc also runs its search in a worker made from a blob.
CONTENT_SECURITY_POLICY_API_DOCS = env_header_value(
    "CONTENT_SECURITY_POLICY_API_DOCS",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY_API_DOCS_PATHS = ["/api/docs/", "/api/redoc/"]
# HSTS preload and subdomains are a site-wide, hard-to-undo commitment: the operator's call.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

# Failed logins and failed API tokens per window (config/login_throttle.py, authentication.py):
# beyond a limit, 429 with Retry-After until the window ends. Addresses in THROTTLE_EXEMPT_IPS
# are counted per username only.
AUTH_FAILURE_WINDOW = env_int("AUTH_FAILURE_WINDOW", 900, minimum=1)
LOGIN_FAILURE_WINDOW = API_TOKEN_FAILURE_WINDOW = AUTH_FAILURE_WINDOW
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 20, minimum=1)
LOGIN_FAILURES_PER_USERNAME = env_int("LOGIN_FAILURES_PER_USERNAME", 10, minimum=1)
API_TOKEN_FAILURES_PER_IP = env_int("API_TOKEN_FAILURES_PER_IP", 20, minimum=1)

# Single sign-on with OpenID Connect (config/sso/, docs/security.md). Off while OIDC_ISSUER is
# empty; the provider's endpoints and keys come from its discovery document, read when needed.
OIDC_ISSUER = env_str("OIDC_ISSUER")
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_SCOPES = env_str("OIDC_SCOPES", "openid email profile groups").split()
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_ROLE_MAP = env_role_map("OIDC_ROLE_MAP", ROLES)
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "single sign-on")
# One bounded attempt at the provider per request (discovery, keys, token), and how long the
# discovery document and the keys are kept before they are read again.
OIDC_TIMEOUT = env_float("OIDC_TIMEOUT", 5, minimum=0.5, maximum=30)
OIDC_CACHE_SECONDS = env_int("OIDC_CACHE_SECONDS", 3600, minimum=0)
if OIDC_ISSUER:
    env_oidc_issuer("OIDC_ISSUER", OIDC_ISSUER)
    for _name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"):
        env_required(_name, "single sign-on (OIDC_ISSUER is set) needs the client registered at the provider")
    if "openid" not in OIDC_SCOPES:
        raise ImproperlyConfigured(f"OIDC_SCOPES must include openid; got {' '.join(OIDC_SCOPES)!r}")
    if not OIDC_ROLE_MAP:
        raise ImproperlyConfigured(
            "OIDC_ROLE_MAP must map at least one group to a role when OIDC_ISSUER is set "
            "(e.g. vigil-admins=Administrators,vigil-ops=Operators,staff=Viewers)"
        )
elif OIDC_CLIENT_ID or OIDC_CLIENT_SECRET:
    raise ImproperlyConfigured("OIDC_ISSUER must be set when OIDC_CLIENT_ID or OIDC_CLIENT_SECRET is")
# The password form on the login page. Off (with single sign-on on) it is neither shown nor
# accepted; the way back in when the provider is down is LOCAL_LOGIN=1 and a restart.
LOCAL_LOGIN = env_bool("LOCAL_LOGIN", True)
if not LOCAL_LOGIN and not OIDC_ISSUER:
    raise ImproperlyConfigured("LOCAL_LOGIN=0 needs OIDC_ISSUER: without single sign-on nobody could log in")
# Two-factor sign-in (config/mfa/, docs/security.md). MFA_REQUIRED_ROLES: roles whose members
# must enrol a TOTP app or a security key before anything else. A failed second step counts
# against the LOGIN_* limits above, per address and per user.
MFA_REQUIRED_ROLES = env_list("MFA_REQUIRED_ROLES")
_unknown_roles = sorted(set(MFA_REQUIRED_ROLES) - set(ROLES))
if _unknown_roles:
    raise ImproperlyConfigured(
        f"MFA_REQUIRED_ROLES must name roles among {', '.join(ROLES)}; got {', '.join(_unknown_roles)}"
    )
# The name authenticator apps show beside the code.
OTP_TOTP_ISSUER = SITE_NAME
# WebAuthn's relying party: the host name keys are bound to, and the origins a ceremony may
# come from. Empty: the request's own host and origin with DEBUG=1, PUBLIC_URL's with DEBUG=0.
WEBAUTHN_RP_ID = env_matching(
    "WEBAUTHN_RP_ID", _WEBAUTHN_RP_ID_FORMAT, "a host name without scheme or port, e.g. status.example.com"
)
if not WEBAUTHN_RP_ID and not DEBUG:
    WEBAUTHN_RP_ID = urlsplit(PUBLIC_URL).hostname or ""
WEBAUTHN_ORIGINS = env_list("WEBAUTHN_ORIGINS")
for _origin in WEBAUTHN_ORIGINS:
    env_url("WEBAUTHN_ORIGINS", _origin, schemes=("https", "http"))
if not WEBAUTHN_ORIGINS and not DEBUG:
    WEBAUTHN_ORIGINS = [PUBLIC_URL]
# The counters of config/ratelimit.py throttle second steps, with a 429 a person can read;
# django-otp's own per-device delay would also refuse a right code after a wrong one.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time --------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The public side's languages (core/i18n.py): the status page, subscriber pages and mails follow
# the visitor's pick or browser; the console and the API stay in LANGUAGE_CODE.
LANGUAGES = [("en", "English"), ("de", "German"), ("fr", "French")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "vigil_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# One date and time format on every console page (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static files (WhiteNoise) ------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
# Uploaded files (the status page's logo and favicon). Never served from MEDIA_URL: each file is
# served by the view that knows it, with a fixed content type (statuspage/branding.py). With
# several web hosts, MEDIA_ROOT must be a folder they share.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media"))).resolve()
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "config.storage.ForgivingManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Without `collectstatic` (no manifest), production pages name their files unhashed and
# WhiteNoise serves them from the apps' folders instead of failing (config/storage.py).
WHITENOISE_USE_FINDERS = DEBUG or not (STATIC_ROOT / "staticfiles.json").exists()

# --- Throttling of the public JSON (config/throttling.py) ---------------------------------
# Requests per minute per client address on the public JSON (0: no limit); see
# docs/console-and-api.md. The subscribe endpoints have their own per-address limits (statuspage).
PUBLIC_THROTTLE_RATES = {
    "public": env_int("PUBLIC_API_THROTTLE_PER_MINUTE", 600, minimum=0),
    "ping": env_int("PING_THROTTLE_PER_MINUTE", 600, minimum=0),
    # The status page's "having trouble" form: a person sends one now and then, never hundreds.
    "report": env_int("VISITOR_REPORT_THROTTLE_PER_MINUTE", 5, minimum=0),
}
PUBLIC_THROTTLE_PATHS = [
    ("/api/status/admin", ""),
    ("/api/status", "public"),
    ("/api/v2/", "public"),
    ("/ping/", "ping"),
    ("/report-trouble", "report"),
]
# Never throttled: by default loopback, i.e. a proxy on the same machine that does not pass
# X-Forwarded-For (counting it would throttle every visitor as one), local tools and benchmarks.
THROTTLE_EXEMPT_IPS = env_list("THROTTLE_EXEMPT_IPS", ["127.0.0.1", "::1"])
# Behind a proxy, count by the X-Forwarded-For address the proxy wrote (its last entry).
THROTTLE_TRUST_X_FORWARDED_FOR = env_bool("THROTTLE_TRUST_X_FORWARDED_FOR", False)

# --- REST API (Django REST framework) and its schema (drf-spectacular) --------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # API keys and legacy DRF tokens, counting failures per client address (config/authentication.py).
        "config.authentication.KeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Staff, and then the model permission for the method (config/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": ["config.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON held to the rules in core/parsers.py (depth, NUL, surrogates), forms as DRF's.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    # DRF's throttles count by address too: without NUM_PROXIES it believes any X-Forwarded-For a
    # client sends (a new one per request gets around the limit). 1 = the entry our proxy appended.
    "NUM_PROXIES": 1 if THROTTLE_TRUST_X_FORWARDED_FOR else 0,
    "DEFAULT_THROTTLE_RATES": {
        "anon": f"{env_int('ANON_API_THROTTLE_PER_MINUTE', 60, minimum=1)}/min",
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vigil API",
    "DESCRIPTION": "Operations (token or staff session) and public status page API; see docs/.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: Swagger UI would load it from validator.swagger.io on any public host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # The sidecar's Redoc, served without the logo it loads from a CDN (config/api_docs.py).
    "REDOC_DIST": "/api/redoc/dist",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_plain_views",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # API writes are documented as JSON only: the nested bodies (incident components, escalation
    # steps) have no form encoding, and clients generated from form variants fail. The parsers
    # above still take forms, for the browsable API's own HTML forms.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Several models have a `status` with its own choices; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "ComponentStatusEnum": "statuspage.models.ComponentStatus",
        "IncidentStatusEnum": "statuspage.models.IncidentStatus",
        "MaintenanceStatusEnum": "statuspage.models.MaintenanceStatus",
        "AlertStatusEnum": "alerts.models.Alert.Status",
        "ProbeKindEnum": "healthchecks.models.Probe.Kind",
        # Many models have a `kind`: each its own enum name, so none is named by a hash.
        "ChannelKindEnum": "notifications.models.Channel.Kind",
        "CheckKindEnum": "healthchecks.pings.models.Check.Kind",
        "PingKindEnum": "healthchecks.pings.models.Ping.Kind",
        "ContactMethodKindEnum": "oncall.models.ContactMethod.Kind",
        # A channel's min_severity is the same four severities as every other severity field.
        "SeverityEnum": "notifications.models.Severity",
        # An incident template starts an incident, so it offers only the open statuses.
        "OpenIncidentStatusEnum": "statuspage.models.OPEN_STATUS_CHOICES",
    },
}

# --- Logging ------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL; got {LOG_LEVEL!r}"
    )
# The access log: on under `python -m config.web`, which sets it for its workers.
ACCESS_LOG = env_bool("ACCESS_LOG", False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Tokens in paths, Authorization values, passwords in URLs and the settings' secrets are
    # taken out of every record (config/redact.py).
    "filters": {"redact": {"()": "config.redact.RedactSecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        # Written in batches, at most a second late (config/access_log.py).
        "access": {
            "class": "config.access_log.BufferedStreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's own handlers (a DEBUG-only console, mail to ADMINS, runserver's request log)
        # would print records without the filter: everything goes through the root's instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        # Whatever LOG_LEVEL says: an access log that follows it would vanish at WARNING.
        "vigil.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}

# --- Metrics (monitoring/): rollups, retention, ingest, /metrics; see docs/metrics.md -----
METRIC_ROLLUP_INTERVAL = env_int("METRIC_ROLLUP_INTERVAL", 60, minimum=10)
METRIC_MINUTE_ROLLUP_RETENTION_DAYS = env_int("METRIC_MINUTE_ROLLUP_RETENTION_DAYS", 14, minimum=1)
METRIC_HOUR_ROLLUP_RETENTION_DAYS = env_int("METRIC_HOUR_ROLLUP_RETENTION_DAYS", 395, minimum=1)
PURGE_INTERVAL = env_int("PURGE_INTERVAL", 3600, minimum=60)
# PostgreSQL: raw points live in daily partitions, created this many days ahead by the
# partition_metrics job (monitoring/partitions.py).
METRIC_PARTITION_INTERVAL = env_int("METRIC_PARTITION_INTERVAL", 3600, minimum=60)
METRIC_PARTITIONS_AHEAD_DAYS = env_int("METRIC_PARTITIONS_AHEAD_DAYS", 7, minimum=1)
METRICS_INGEST_MAX_BYTES = env_int("METRICS_INGEST_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
REQUEST_TIMING_FLUSH_THREAD = env_bool("REQUEST_TIMING_FLUSH_THREAD", True)
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_IPS must list IP addresses or networks (a.b.c.d/n); got {_network!r}"
        ) from None

# --- The delivery outbox (notifications/): batches, claim leases, retry caps --------------
# See docs/notifications.md.
NOTIFICATIONS_SWEEP_INTERVAL = env_int("NOTIFICATIONS_SWEEP_INTERVAL", 30, minimum=5)
NOTIFICATIONS_BATCH_SIZE = env_int("NOTIFICATIONS_BATCH_SIZE", 500, minimum=1, maximum=5000)
NOTIFICATIONS_CLAIM_SECONDS = env_int("NOTIFICATIONS_CLAIM_SECONDS", 300, minimum=30)
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 8, minimum=1, maximum=50)
NOTIFICATIONS_MAX_AGE_HOURS = env_int("NOTIFICATIONS_MAX_AGE_HOURS", 24, minimum=1)
NOTIFICATIONS_RETRY_BASE_SECONDS = env_float("NOTIFICATIONS_RETRY_BASE_SECONDS", 30, minimum=0)
NOTIFICATIONS_RETRY_MAX_SECONDS = env_float("NOTIFICATIONS_RETRY_MAX_SECONDS", 3600, minimum=1)
NOTIFICATIONS_HTTP_TIMEOUT = env_float("NOTIFICATIONS_HTTP_TIMEOUT", 10, minimum=0.1, maximum=60)
# One send in all (connect, request, the whole answer), HTTP or SMTP: a peer that trickles its
# answer never trips the timeouts above, which bound each read.
NOTIFICATIONS_SEND_DEADLINE = env_float("NOTIFICATIONS_SEND_DEADLINE", 20, minimum=0.1, maximum=120)
if NOTIFICATIONS_SEND_DEADLINE + 1 >= NOTIFICATIONS_CLAIM_SECONDS:
    # A send still running when its claim ends could be sent a second time by another worker.
    raise ImproperlyConfigured(
        "NOTIFICATIONS_SEND_DEADLINE must be shorter than NOTIFICATIONS_CLAIM_SECONDS - 1"
    )
WEBHOOK_SECRET = env_str("WEBHOOK_SECRET")
# Outbound requests (core/outbound.py): webhooks and Slack reach public addresses only,
# probes anything but link-local (cloud metadata); these list networks to allow anyway.
WEBHOOK_ALLOWED_NETWORKS = env_networks("WEBHOOK_ALLOWED_NETWORKS")
PROBE_ALLOWED_NETWORKS = env_networks("PROBE_ALLOWED_NETWORKS")
# The providers' services, for channels that do not name a server of their own (and for tests,
# which point them at loopback servers).
NTFY_URL = env_url("NTFY_URL", "https://ntfy.sh", schemes=("https", "http")).rstrip("/")
PAGERDUTY_EVENTS_URL = env_url(
    "PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com", schemes=("https", "http")
).rstrip("/")
# Opsgenie's EU region is https://api.eu.opsgenie.com.
OPSGENIE_API_URL = env_url("OPSGENIE_API_URL", "https://api.opsgenie.com", schemes=("https", "http")).rstrip(
    "/"
)
TELEGRAM_API_URL = env_url("TELEGRAM_API_URL", "https://api.telegram.org", schemes=("https", "http")).rstrip(
    "/"
)
# Slack's Web API (Slack bot channels: chat.postMessage, and people's direct messages).
SLACK_API_URL = env_url("SLACK_API_URL", "https://slack.com/api", schemes=("https", "http")).rstrip("/")
# Twilio's REST API (SMS and voice channels); the twilio package's requests are sent here.
TWILIO_API_URL = env_url("TWILIO_API_URL", "https://api.twilio.com", schemes=("https", "http")).rstrip("/")

# --- Status page (statuspage/): caching, the static copy, maintenance, uptime -------------
# Public pages and JSON are served from a cache that each change turns over (statuspage/cache.py).
# Each process re-reads the shared generation key at most this often: the delay before a visitor
# sees a change, traded against one shared-cache round trip per request.
STATUSPAGE_LOCAL_TTL = env_float("STATUSPAGE_LOCAL_TTL", 1.0, minimum=0, maximum=10)
STATUSPAGE_CACHE_TIMEOUT = env_int("STATUSPAGE_CACHE_TIMEOUT", 300, minimum=1)
STATUSPAGE_BROWSER_MAX_AGE = env_int("STATUSPAGE_BROWSER_MAX_AGE", 1, minimum=0, maximum=300)
# Live updates (statuspage/live.py): how often an open page polls the small status document
# (0: never), and the optional Server-Sent Events stream, off by default because each open page
# then holds a request for up to STATUSPAGE_STREAM_MAX_SECONDS.
STATUSPAGE_LIVE_POLL_SECONDS = env_int("STATUSPAGE_LIVE_POLL_SECONDS", 25, minimum=0, maximum=3600)
STATUSPAGE_STREAM = env_bool("STATUSPAGE_STREAM", False)
STATUSPAGE_STREAM_MAX_SECONDS = env_int("STATUSPAGE_STREAM_MAX_SECONDS", 300, minimum=5, maximum=3600)
# The most one rendered page (plain and gzip copies together) may take in the shared cache; a
# larger one is served uncached, so a huge page cannot cost Redis its size once per generation.
STATUSPAGE_CACHE_MAX_BYTES = env_int("STATUSPAGE_CACHE_MAX_BYTES", 4 * 1024 * 1024, minimum=1024)
# A folder the static copy of the page is written to after each change (empty: off).
STATUSPAGE_PUBLISH_DIR = env_str("STATUSPAGE_PUBLISH_DIR", "")
STATUSPAGE_PUBLISH_INTERVAL = env_int("STATUSPAGE_PUBLISH_INTERVAL", 300, minimum=10)
MAINTENANCE_CHECK_INTERVAL = env_int("MAINTENANCE_CHECK_INTERVAL", 30, minimum=5)
# Recurring maintenance (statuspage/schedules/): how many days ahead schedule_maintenance creates
# each occurrence as a window (its "scheduled" mail goes out then), and how often it looks.
MAINTENANCE_SCHEDULE_HORIZON_DAYS = env_int("MAINTENANCE_SCHEDULE_HORIZON_DAYS", 30, minimum=1, maximum=366)
MAINTENANCE_SCHEDULE_INTERVAL = env_int("MAINTENANCE_SCHEDULE_INTERVAL", 3600, minimum=60)
UPTIME_ROLLUP_INTERVAL = env_int("UPTIME_ROLLUP_INTERVAL", 600, minimum=30)

# --- Alerts (alerts/): flapping, escalation -----------------------------------------------
ALERT_FLAP_WINDOW_MINUTES = env_int("ALERT_FLAP_WINDOW_MINUTES", 30, minimum=1)
ALERT_FLAP_THRESHOLD = env_int("ALERT_FLAP_THRESHOLD", 6, minimum=3)
ESCALATION_CHECK_INTERVAL = env_int("ESCALATION_CHECK_INTERVAL", 30, minimum=5)
# How often the hours ahead are checked for urgent rules whose pages reach nobody (daily), and
# how often weekly paging drills are started and finished drills settled.
ONCALL_COVERAGE_CHECK_INTERVAL = env_int("ONCALL_COVERAGE_CHECK_INTERVAL", 86400, minimum=300)
PAGING_DRILL_CHECK_INTERVAL = env_int("PAGING_DRILL_CHECK_INTERVAL", 60, minimum=10)
# Acknowledge / resolve / silence from the notification (docs/alerts.md): how long a signed
# link works; Slack's signing secret for its buttons (empty: the endpoint refuses every request);
# the hosts a Slack response_url may point at (the message is updated by posting there).
ALERT_ACTION_LINK_MAX_AGE_HOURS = env_int("ALERT_ACTION_LINK_MAX_AGE_HOURS", 24, minimum=1, maximum=24 * 30)
SLACK_SIGNING_SECRET = env_str("SLACK_SIGNING_SECRET")
SLACK_RESPONSE_URL_HOSTS = env_list("SLACK_RESPONSE_URL_HOSTS", ["hooks.slack.com"])

# --- Component probes (healthchecks/); see docs/probes.md ---------------------------------
# run_probes: how many probes run at once per worker, the most one run claims, how often a
# certificate is read, and how long probe results are kept.
PROBE_CONCURRENCY = env_int("PROBE_CONCURRENCY", 64, minimum=1, maximum=512)
PROBE_BATCH_SIZE = env_int("PROBE_BATCH_SIZE", 2000, minimum=1, maximum=20000)
PROBE_CERT_CHECK_HOURS = env_int("PROBE_CERT_CHECK_HOURS", 24, minimum=1)
PROBE_RESULTS_RETENTION_DAYS = env_int("PROBE_RESULTS_RETENTION_DAYS", LOGS_RETENTION_DAYS, minimum=1)

# --- Heartbeat checks (healthchecks/pings/); see docs/checks.md ---------------------------
# How often sweep_checks looks for overdue checks: a check is marked down at most this late.
# Pings per client and minute: PING_THROTTLE_PER_MINUTE (PUBLIC_THROTTLE_RATES above).
CHECKS_SWEEP_INTERVAL = env_int("CHECKS_SWEEP_INTERVAL", 30, minimum=5)
# Opt-in (service mode): pings by UUID answered from Redis and applied in batches by a worker
# (pings/buffer.py). Faster intake, but pings of the last moment live only in Redis.
PING_BUFFER = env_bool("PING_BUFFER", False) and bool(REDIS_URL)
PING_BUFFER_MAX = env_int("PING_BUFFER_MAX", 100_000, minimum=100, maximum=10_000_000)
PING_BUFFER_BATCH = env_int("PING_BUFFER_BATCH", 500, minimum=1, maximum=5000)
# Vigil's own beat jobs report to built-in checks; one is down when its job has not run for
# two intervals, and at least this long (so a stalled beat is an alert).
BUILTIN_CHECKS_MIN_GRACE = env_int("BUILTIN_CHECKS_MIN_GRACE", 300, minimum=5)

# --- E-mail subscribers of the status page; see docs/subscribers.md -----------------------
SUBSCRIBERS_CONFIRM_HOURS = env_int("SUBSCRIBERS_CONFIRM_HOURS", 48, minimum=1)
# Subscribe requests per fixed window, per client IP and per address (429 + Retry-After beyond).
SUBSCRIBERS_RATE_WINDOW = env_int("SUBSCRIBERS_RATE_WINDOW", 3600, minimum=1)
SUBSCRIBERS_RATE_PER_IP = env_int("SUBSCRIBERS_RATE_PER_IP", 20, minimum=1)
SUBSCRIBERS_RATE_PER_ADDRESS = env_int("SUBSCRIBERS_RATE_PER_ADDRESS", 3, minimum=1)
# Behind a proxy: the META key holding the client address (e.g. HTTP_X_FORWARDED_FOR; its last
# entry, the one our proxy added, is used). Empty: REMOTE_ADDR.
SUBSCRIBERS_CLIENT_IP_HEADER = env_str("SUBSCRIBERS_CLIENT_IP_HEADER", "")
# Minutes before a maintenance starts that subscribers get a reminder (0: no reminders).
SUBSCRIBERS_REMINDER_MINUTES = env_int("SUBSCRIBERS_REMINDER_MINUTES", 60, minimum=0)
SUBSCRIBERS_REMINDER_CHECK_INTERVAL = env_int("SUBSCRIBERS_REMINDER_CHECK_INTERVAL", 60, minimum=5)
# Also send incident and maintenance mail to the enabled staff channels (by their minimum severity).
SUBSCRIBERS_ANNOUNCE_TO_CHANNELS = env_bool("SUBSCRIBERS_ANNOUNCE_TO_CHANNELS", False)
# URL subscribers (webhook, Slack, Teams). Hosts a pasted Slack or Teams URL may have ("*." matches
# any subdomain); https is required unless the host's address is in WEBHOOK_ALLOWED_NETWORKS.
SUBSCRIBERS_SLACK_HOSTS = env_list("SUBSCRIBERS_SLACK_HOSTS", ["hooks.slack.com"])
SUBSCRIBERS_TEAMS_HOSTS = env_list(
    "SUBSCRIBERS_TEAMS_HOSTS", ["*.webhook.office.com", "*.logic.azure.com", "*.api.powerplatform.com"]
)
# The one bounded attempt at a new URL's challenge or test message (seconds, all in): the visitor's
# request waits for it.
SUBSCRIBERS_VERIFY_SECONDS = env_float("SUBSCRIBERS_VERIFY_SECONDS", 5, minimum=0.5, maximum=30)
# meta.documentation in every webhook subscriber's payload (the format is Atlassian Statuspage's).
SUBSCRIBERS_WEBHOOK_DOCUMENTATION_URL = env_str(
    "SUBSCRIBERS_WEBHOOK_DOCUMENTATION_URL",
    "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/",
)

# --- Service levels and reports (reports/); see docs/reports.md ---------------------------
# How often SLO burn rates and response targets are checked, and how often scheduled reports
# look for a period that has ended.
SERVICE_LEVEL_CHECK_INTERVAL = env_int("SERVICE_LEVEL_CHECK_INTERVAL", 60, minimum=10)
REPORTS_CHECK_INTERVAL = env_int("REPORTS_CHECK_INTERVAL", 600, minimum=30)

# --- Backups (backups/); see docs/backups.md ----------------------------------------------
# Where `backup` writes (a folder of its own: retention deletes old backups in it), how many days
# backups are kept, and how old the last verified backup may be before its check is down (an
# alert). The daily beat job backs up, verifies and prunes; a subprocess (pg_dump, pg_restore)
# is stopped after BACKUP_TIMEOUT seconds. BACKUP_PG_DUMP / BACKUP_PG_RESTORE / BACKUP_PSQL: the
# programs, by name on PATH or full path (they must be the server's version or newer).
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(DATA_DIR / "backups"))).resolve()
BACKUP_RETENTION_DAYS = env_int("BACKUP_RETENTION_DAYS", 30, minimum=1)
BACKUP_MAX_AGE_HOURS = env_int("BACKUP_MAX_AGE_HOURS", 26, minimum=3, maximum=24 * 30)
BACKUP_INTERVAL = env_int("BACKUP_INTERVAL", 86400, minimum=3600)
BACKUP_TIMEOUT = env_int("BACKUP_TIMEOUT", 3600, minimum=10)
BACKUP_PG_DUMP = env_str("BACKUP_PG_DUMP", "pg_dump")
BACKUP_PG_RESTORE = env_str("BACKUP_PG_RESTORE", "pg_restore")
BACKUP_PSQL = env_str("BACKUP_PSQL", "psql")
if BACKUP_DIR == DATA_DIR:
    raise ImproperlyConfigured(
        f"BACKUP_DIR must be a folder of its own, not VIGIL_DATA_DIR itself ({DATA_DIR}): "
        "retention deletes old backups in it"
    )
# More entries of /health/detailed, {name: dotted path of a check function}: apps above
# healthchecks add theirs here, so healthchecks does not import them.
HEALTH_DETAILED_EXTRA_CHECKS = {"backups": "backups.health.last_verified_backup"}

# --- Operations console (config app: dashboard, run-time config) --------------------------
SYSTEM_THRESHOLDS_FUNCTION = "config.runtime_config.system_thresholds"
# The status page's branding for the subscribers' own mails (confirm, already subscribed):
# subscribers sits below statuspage, so the function is named here rather than imported.
SUBSCRIBERS_MAIL_CONTEXT_FUNCTION = "statuspage.branding.mail_context"
DASHBOARD_REFRESH_SECONDS = env_int("DASHBOARD_REFRESH_SECONDS", 30, minimum=0)
# The largest configuration document POST /api/operations/config/apply takes (docs/config-as-code.md).
CONFIG_APPLY_MAX_BYTES = env_int("CONFIG_APPLY_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)

# --- Beat schedule: last, because it reads the intervals defined above (config/celery.py) --
from config.celery import beat_schedule  # noqa: E402

CELERY_BEAT_SCHEDULE = beat_schedule(globals())

# --- Remote probe agents (healthchecks/agents/); see docs/probes.md -----------------------
# A location with no result for this many of its shortest probe interval is silent: its alert
# is raised and its verdicts stop counting. A batch holds at most AGENT_BATCH_MAX results.
AGENT_SILENT_INTERVALS = env_int("AGENT_SILENT_INTERVALS", 3, minimum=2)
AGENT_BATCH_MAX = env_int("AGENT_BATCH_MAX", 10000, minimum=100, maximum=50000)
