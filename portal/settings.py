"""Settings, read from the environment (12-factor) with safe defaults for a laptop.

Every knob is an environment variable; `var/` holds what the portal makes for itself on first run
(the SQLite database, generated keys). Nothing secret is ever committed.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

from portal.keys import ensure_key_file
from portal.production import (
    allowed_hosts_default,
    check_fernet_keys,
    check_production_database,
    required_in_production,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# A real site (docs/deploy.md): keys and the database password come from the environment only,
# never from files the portal makes for itself, and cookies, HSTS and the HTTPS redirect are on.
# Off by default: `make run` stays the embedded portal on a laptop.
PRODUCTION = env.bool("PORTAL_PRODUCTION", default=False)
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000")
if PRODUCTION:
    SECRET_KEY = required_in_production("SECRET_KEY", "Django's signing key: 50 random characters or more")
    PORTAL_ENCRYPTION_KEYS = [
        key.strip()
        for key in required_in_production(
            "PORTAL_ENCRYPTION_KEY", "the Fernet key(s) that encrypt stored secrets, comma-separated"
        ).split(",")
        if key.strip()
    ]
    required_in_production("DATABASE_URL", "postgres://USER:PASSWORD@HOST:5432/NAME")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or ensure_key_file(VAR_DIR / "secret_key", "django")
    # Separate from SECRET_KEY so that rotating session signing never makes stored secrets unreadable.
    # A comma-separated list: the first key encrypts, all of them decrypt (Fernet key rotation).
    PORTAL_ENCRYPTION_KEYS = env.list("PORTAL_ENCRYPTION_KEY", default=[]) or [
        ensure_key_file(VAR_DIR / "encryption.key", "fernet")
    ]
check_fernet_keys(PORTAL_ENCRYPTION_KEYS)
# In production the portal answers for its public address only (PORTAL_URL) unless told more.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=allowed_hosts_default(PORTAL_URL, PRODUCTION))
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A launching instance with no node after this many seconds had its create message lost: resend.
LAUNCH_STALE_AFTER = env.int("LAUNCH_STALE_AFTER", default=600)
# ... at most this many times in all (sends, counting the first); then it fails, saying so.
LAUNCH_ATTEMPTS = env.int("LAUNCH_ATTEMPTS", default=3)
# A launching instance with no node this many seconds after its create was sent fails, whatever its
# cloud answers — even nothing at all, when not even its lists come back (docs/launches.md "Watchdog").
LAUNCH_GIVE_UP_AFTER = env.int("LAUNCH_GIVE_UP_AFTER", default=1800)
# How long a cloud's node list may take to come back before the next monitor cycle lists it anyway
# (one list per cloud in flight: cycles never pile up behind a slow cloud).
MONITOR_CYCLE_TIMEOUT = env.int("MONITOR_CYCLE_TIMEOUT", default=120)
# A cloud's list may not show a node made this many seconds before the list was asked (EC2's
# listings are eventually consistent): only then does a node missing from a list count as gone.
NODE_LIST_LAG = env.int("NODE_LIST_LAG", default=15)
# Tags every node this portal creates, so its monitor and reconciler never touch other nodes.
PORTAL_ID = env.str("PORTAL_ID", default="context-portal")
# A launch, scale or retry answers at once and a portal worker renders and sends the instances;
# inline: the request does it itself (tests do, to stay in one process).
LAUNCH_DISPATCH_INLINE = env.bool("LAUNCH_DISPATCH_INLINE", default=False)
# At most this many instances per create message (clusters.dispatch.batch_size).
CREATE_BATCH_SIZE = env.int("CREATE_BATCH_SIZE", default=25)
# Anonymous PIN requests (docs/pairing.md) one address may make per 15 minutes, a PIN's lifetime.
PAIRING_PINS_PER_ADDRESS = env.int("PAIRING_PINS_PER_ADDRESS", default=60)
# The reverse proxies (addresses or networks) whose X-Forwarded-For the audit trail believes
# (audit.client); none by default: the address recorded is the connection's own.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",  # the Content-Security-Policy header (CONTENT_SECURITY_POLICY below)
    "axes",  # login throttling (portal.login_throttle)
    "django_bootstrap5",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets served locally: no CDN (like Bootstrap)
    "portal",
    "portal.sso",  # institutional login (OpenID Connect, docs/login.md)
    "contexts",
    "clusters",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: it turns a locked-out login into the lockout page.
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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if PRODUCTION:
    check_production_database(DATABASES["default"])
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves a web server and Celery workers at once. WAL lets readers go on
    # while one writes; IMMEDIATE transactions take the write lock when they begin, so two that
    # read then write wait their turn (up to the timeout) instead of one failing at once with
    # "database is locked", as deferred ones do when both try to upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=30.0),
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A pool of open connections per process (psycopg_pool): a request borrows one and gives it back.
    # Opening one per request (a new PostgreSQL backend each time) halved the check-ins a second.
    # The pool grows from one connection up to DATABASE_POOL_SIZE while requests wait, which bounds
    # each process's connections (PostgreSQL's max_connections is 100 by default).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("DATABASE_POOL_SIZE", default=10),
        "timeout": 30,
    }
    # A pooled connection is checked (an empty query) before it is lent: after a database restart the
    # pool holds connections the server closed, and the first request of each would fail with them
    # (clusters/tests/test_site_faults.py). The check costs one round trip a request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The portal's queries are short; PostgreSQL's JIT compiler, which starts on estimated costs,
    # spent 100 ms compiling a marketplace search that then ran in 15.
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "contexts:profile_list"
LOGOUT_REDIRECT_URL = "home"

# Login throttling (portal.login_throttle): this many wrong passwords for one account, or from one
# address, lock it for the cool-off; the throttle backend comes first, ModelBackend checks passwords.
AUTHENTICATION_BACKENDS = [
    "portal.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    "portal.sso.backend.FederatedLoginBackend",  # does nothing until OIDC_RP_CLIENT_ID is set
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # either one locks
AXES_LOCKOUT_CALLABLE = "portal.login_throttle.lockout_response"
# Tries during a lock are refused unchecked; counting them would only make a user's wait longer.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The portal keeps no history of successful logins: the table would only grow.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no banner from every process; failures and lockouts are still logged

# Institutional login through an OpenID Connect provider (CERN SSO, EGI Check-in, ...): docs/login.md.
# Off while OIDC_RP_CLIENT_ID is empty; the local login form (and the admin's) stays in every case.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default="")  # set: log out there too
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_LOGIN_LABEL = env.str("OIDC_LOGIN_LABEL", default="Log in with single sign-on")
# The claim a new account's user name is taken from (when free); empty: a name made from the subject.
OIDC_USERNAME_CLAIM = env.str("OIDC_USERNAME_CLAIM", default="preferred_username")
OIDC_AUTHENTICATION_CALLBACK_URL = "sso:callback"
OIDC_USE_PKCE = True  # as OAuth 2.0 Security BCP asks, for confidential clients too
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the provider's logout
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)  # seconds per call to the provider

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# `collectstatic` fills it (the image's build does: deploy/Dockerfile); whitenoise serves it.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from STATICFILES_DIRS on a laptop and in tests; production serves what
# collectstatic gathered (compressed, with far-future caching of nothing: names are not hashed).
WHITENOISE_USE_FINDERS = not PRODUCTION

# Bootstrap from our own static files: the portal must work on networks without a CDN.
BOOTSTRAP5 = {
    "css_url": {"url": "/static/vendor/bootstrap/bootstrap.min.css"},
    "javascript_url": {"url": "/static/vendor/bootstrap/bootstrap.bundle.min.js"},
    # No green ticks on every field of a re-shown form: only problems are marked.
    "success_css_class": "",
}

# Request bodies (docs/security.md, "Request limits"). A whole profile document is far smaller
# than 2 MiB (and a cloud takes 16 KiB to 64 KiB of user-data); bigger bodies are refused with a
# 400. The instance API has its own, smaller limits (clusters.instance_api).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
# The profile editor posts every section at once: with its lists full (100 users, 100 files, 50
# scripts, ...) that is about 2,100 fields, over Django's default of 1,000.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=5000)
# No page takes a file upload: any file in a body stays in memory within the limit above.
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# The REST API (docs/api.md): JSON in and out. Views name their own authentication where it differs
# (the instance endpoints take instance tokens, clusters.instance_auth).
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["portal.api.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "portal.api.handle_exception",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI schema at /api/schema/ and its docs at /api/docs/ (docs/api.md).
SPECTACULAR_SETTINGS = {
    "TITLE": "Context Portal API",
    "DESCRIPTION": "Profiles, clouds, images, cluster definitions and clusters. "
    "Send `Authorization: Token <token>`; make tokens on the API tokens page.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"CheckStateEnum": "clusters.models.clouds.CheckState"},
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# The portal's own work — records of what the cloud side did, dispatching launches — has a queue of
# its own, so it never waits behind a thousand creates on a cloud's queue. Portal workers serve
# both (scripts/run.sh); gateway agents send their outcomes here (results_queue in agent.toml).
CELERY_PORTAL_RESULTS_QUEUE = env.str("PORTAL_RECORDS_QUEUE", default="records")
CELERY_RESULT_EXPIRES = 3600
# The monitor: one node list per cloud with instances to watch (docs/launches.md); the hourly purge of
# PIN requests that expired unpaired (docs/pairing.md), and of queue samples older than a week
# (docs/elastic.md).
CELERY_BEAT_SCHEDULE = {
    "monitor-clouds": {
        "task": "clusters.monitor_clouds",
        "schedule": env.float("MONITOR_INTERVAL", default=10.0),
    },
    "purge-pairings": {"task": "contexts.purge_pairings", "schedule": 3600.0},
    "prune-queue-samples": {"task": "clusters.prune_queue_samples", "schedule": 3600.0},
    "elastic-clusters": {
        "task": "clusters.elastic_tick",
        "schedule": env.float("ELASTIC_INTERVAL", default=15.0),
    },
}
# How often a cluster's head reports its queue (its reporter's period, docs/elastic.md): a report
# older than three periods is stale and freezes the elastic roles' size.
ELASTIC_REPORT_SECONDS = env.float("ELASTIC_REPORT_SECONDS", default=30.0)
# Fail fast (and say so on the status page) rather than hang when Redis is down.
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 5
# With acks_late, a task a dead worker held goes back to its queue after visibility_timeout
# (kombu's default is an hour): keep it short so an interrupted launch resumes within minutes.
# It must stay longer than the longest retry countdown (60 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 5, "visibility_timeout": 300}
# A portal sharing its Redis with other programs (another portal, a test run) puts a prefix of its
# own on every key and queue: Celery's, and the portal's own (portal.redis_keys).
if env.str("REDIS_KEY_PREFIX", default=""):
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env.str("REDIS_KEY_PREFIX")
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": env.str("REDIS_KEY_PREFIX")}

# Headers and cookies (docs/security.md, "Headers"). On a real site the portal is served over
# HTTPS only: cookies never travel in clear, browsers remember to use HTTPS (HSTS) and a plain
# HTTP request is redirected. A laptop's `make run` is plain HTTP, so all of that is off there.
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION and not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PRODUCTION and not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION and not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION and not DEBUG else 0)
# Off unless asked: HSTS on every subdomain, or on browsers' preload list, binds sites other than
# the portal's (docs/deploy.md, "What `check --deploy` says").
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
# Behind a reverse proxy that ends TLS, the portal sees plain HTTP: it trusts the proxy's
# X-Forwarded-Proto only when told to, because a portal reached directly would then believe any
# client that sends the header.
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# A strict Content-Security-Policy on every page (django-csp): scripts and styles from the
# portal's own static files only, never inline (templates have no <script> body, no on...=
# handler and no style= attribute: portal/tests/test_templates_csp.py, test_csp_pages.py).
# Bootstrap's CSS draws its icons from data: URIs, hence img-src data:.
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
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
