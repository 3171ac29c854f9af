"""Xinfang settings: one module, configured from the environment.

Every value that differs between deployments comes from an environment variable (or from the
file named by ``XINFANG_ENV_FILE``, default ``var/secrets.env``, which ``make demo`` writes with fresh
random keys).  Required secrets fail fast with ImproperlyConfigured outside DEBUG.
Policy that differs between organisations (deadline rules …) lives in the database, not here.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent  # the package
PROJECT_DIR = Path(os.environ.get("XINFANG_HOME", Path.cwd()))  # where var/ lives
VAR_DIR = Path(os.environ.get("XINFANG_VAR_DIR", PROJECT_DIR / "var"))

env = environ.Env()
_env_file = Path(os.environ.get("XINFANG_ENV_FILE", VAR_DIR / "secrets.env"))
if _env_file.is_file():
    environ.Env.read_env(str(_env_file), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _required(name: str, *, dev_default: str | None = None) -> str:
    """A secret that must be set in production; DEBUG may fall back to a development value."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG and dev_default is not None:
        return dev_default
    raise ImproperlyConfigured(f"Set the environment variable {name} (see docs/deployment.md).")


SECRET_KEY = _required("SECRET_KEY", dev_default="dev-only-insecure-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Field-level encryption of personal data (ID and phone numbers).  XINFANG_FIELD_KEYS is a
# comma-separated list of Fernet keys: the first encrypts, all decrypt (key rotation).
# XINFANG_BLIND_INDEX_KEY keys the HMAC used to find equal values without decrypting.
XINFANG_FIELD_KEYS = [k for k in env.list("XINFANG_FIELD_KEYS", default=[]) if k]
XINFANG_BLIND_INDEX_KEY = env.str("XINFANG_BLIND_INDEX_KEY", default="")
# Keys of the audit log's hash chain (audit/chain.py), comma-separated, newest first: the first
# signs new rows, all verify.  Kept out of the database, so its owner cannot forge the chain.
XINFANG_AUDIT_KEY = [k for k in env.list("XINFANG_AUDIT_KEY", default=[]) if k]
# Monthly partitions on PostgreSQL (core/partitions.py, docs/deployment.md): how many months ahead
# the daily job creates, and how many whole months each table keeps (0: for ever).  The audit log
# is kept at least 6 months (等保 2.0); a shorter setting is refused here, before anything runs.
# The timeline events belong to the case file and are never dropped.
XINFANG_PARTITION_MONTHS_AHEAD = env.int("XINFANG_PARTITION_MONTHS_AHEAD", default=3)
XINFANG_AUDIT_RETENTION_MONTHS = env.int("XINFANG_AUDIT_RETENTION_MONTHS", default=0)
if XINFANG_AUDIT_RETENTION_MONTHS < 0 or 0 < XINFANG_AUDIT_RETENTION_MONTHS < 6:
    raise ImproperlyConfigured(
        "XINFANG_AUDIT_RETENTION_MONTHS: keep the audit log at least 6 months (0 keeps all)."
    )
XINFANG_NOTIFICATION_RETENTION_MONTHS = env.int("XINFANG_NOTIFICATION_RETENTION_MONTHS", default=12)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "captcha",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_q",
    "xinfang.core",
    "xinfang.organisations",
    "xinfang.audit",
    "xinfang.accounts",
    "xinfang.petitions",
    "xinfang.workflow",
    "xinfang.supervision",
    "xinfang.notifications",
    "xinfang.stats",
    "xinfang.documents",
    "xinfang.screening",
    "xinfang.leadership",
    "xinfang.reception",
    "xinfang.campaigns",
    "xinfang.exchange",
    "xinfang.information",
    "xinfang.search",
    "xinfang.imports",
    "xinfang.workbench",
    "xinfang.portal",
    "xinfang.api",
    "xinfang.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The public surface (issue #7 points 26, 28, 30; docs/security.md §7): NUL and body limits
    # first, then CORS for configured origins, the CSP header, no-store on personal data.
    "xinfang.core.input_guard.InputGuardMiddleware",
    "xinfang.core.cors.CorsMiddleware",
    "csp.middleware.CSPMiddleware",
    "xinfang.core.cache_control.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Just inside the sessions: renews the idle expiry at most once a minute (docs/security.md).
    "xinfang.accounts.middleware.IdleRenewalMiddleware",
    "xinfang.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After OTP and messages: the absolute session limit, then second factor, then password change.
    "xinfang.accounts.middleware.LoginPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "xinfang.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "xinfang.urls"
WSGI_APPLICATION = "xinfang.wsgi.application"

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
                "django.template.context_processors.i18n",
                "xinfang.core.context_processors.site",
                "xinfang.accounts.context_processors.security_notices",
            ],
        },
    },
]

# --- Database: one URL selects SQLite (the embedded default) or PostgreSQL ---------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'xinfang.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # IMMEDIATE takes the write lock when a transaction starts, so two concurrent
            # registrations queue instead of failing with "database is locked" on upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
else:
    if _pool_max := env.int("DB_POOL_MAX_SIZE", default=0):
        # Django 5.1+'s psycopg pool, one per process (docs/deployment.md, "Production serving").
        # It replaces persistent connections (Django refuses CONN_MAX_AGE > 0 with a pool), and
        # bounds the connections a process holds: what PostgreSQL's max_connections must cover is
        # processes × DB_POOL_MAX_SIZE.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": _pool_max,
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),  # seconds to wait for a free connection
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    _session = []
    if not env.bool("DB_JIT", default=False):
        # PostgreSQL's JIT compiles any query whose estimated cost passes jit_above_cost: 50–65 ms
        # of compiling per workbench count at a million petitions, for queries that run in 5–50 ms
        # (docs/performance.md, "Workbench and daily urging").  Our queries are short; DB_JIT=1
        # turns it back on (e.g. for a reporting replica).
        _session.append("-c jit=off")
    if (_parallel := env.str("DB_PARALLEL_WORKERS", default="")) != "":
        # max_parallel_workers_per_gather for this process's connections.  The web server sets 0
        # (gunicorn_conf.py): starting parallel workers cost 15–25 ms of a queue page whose
        # index walk takes 4 ms; the worker keeps PostgreSQL's default for its big aggregations.
        _session.append(f"-c max_parallel_workers_per_gather={int(_parallel)}")
    if _session:
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", " ".join(_session))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Read replica (optional): stale-tolerant reads only, docs/deployment.md "Read replica" ------
if _replica_url := env.str("DATABASE_REPLICA_URL", default=""):
    _primary = DATABASES["default"]
    DATABASES["replica"] = {
        **env.db_url_config(_replica_url),
        "CONN_MAX_AGE": _primary.get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": _primary.get("CONN_HEALTH_CHECKS", True),
        # The primary's options (pool, jit=off), and a short connect timeout: the probe of an
        # unreachable replica must not hold a request for long (core/replica.py).
        "OPTIONS": {**_primary.get("OPTIONS", {}), "connect_timeout": 2},
        # The test runner points it at the test database instead of creating another one.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["xinfang.core.db_routers.ReplicaRouter"]
    MIDDLEWARE.append("xinfang.core.replica.ReplicaPinMiddleware")  # read-your-writes pin
    XINFANG_REPLICA_MAX_LAG = env.float("XINFANG_REPLICA_MAX_LAG", default=10.0)  # seconds
    XINFANG_REPLICA_PROBE_SECONDS = env.float("XINFANG_REPLICA_PROBE_SECONDS", default=5.0)
    XINFANG_REPLICA_PIN_SECONDS = env.int("XINFANG_REPLICA_PIN_SECONDS", default=10)

# Throttles (portal, API) count in the cache: it must be shared by every web process.  The
# database cache works everywhere out of the box; large deployments point CACHE_URL at Redis.
CACHES = {"default": env.cache("CACHE_URL", default="dbcache://xinfang_cache")}
# With a real cache (Redis), sessions are read from it and written through to the database
# (cached_db): a page view then costs no session query.  With the database cache that would only
# add a second write, so the plain database sessions stay.
if CACHES["default"]["BACKEND"] != "django.core.cache.backends.db.DatabaseCache":
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "organisations.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # the first page each role may see (organisations.views.home)
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # 等保 L3 password complexity and no reuse (issue #7 point 18, docs/security.md §3).
    {"NAME": "xinfang.accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "xinfang.accounts.validators.PasswordHistoryValidator", "OPTIONS": {"keep": 5}},
]

# Sessions end after 30 idle minutes (等保 L3: automatic logout on timeout).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
# Not every request: accounts.middleware.IdleRenewalMiddleware renews the expiry once a minute.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
# Django's password check, with the user's organisation loaded with the user (accounts.backends).
AUTHENTICATION_BACKENDS = ["xinfang.accounts.backends.StaffBackend"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
# Every form is rendered with the Chinese conventions: "：" after labels, "请选择" in empty selects,
# issue categories grouped by class (xinfang.core.forms.FormRenderer).
FORM_RENDERER = "xinfang.core.forms.FormRenderer"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]  # project-wide assets, vendored (no CDN)
STORAGES = {
    # Attachments hold personal data: they are never served as static files, only through a
    # view that checks the reader's scope.  Any Django storage backend can be configured here.
    "default": {
        "BACKEND": env.str("XINFANG_MEDIA_STORAGE", default="django.core.files.storage.FileSystemStorage"),
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"  # never routed: attachments go through petitions:attachment
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
# Stored attachments and their directories are readable by the service account only (issue #7
# point 24); core.filemodes does the same for the SQLite files and MEDIA_ROOT itself.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Offline CAPTCHA for the public portal (django-simple-captcha draws it with the bundled font).
CAPTCHA_CHALLENGE_FUNCT = "captcha.helpers.math_challenge"
CAPTCHA_NOISE_FUNCTIONS = ("captcha.helpers.noise_dots",)
CAPTCHA_TIMEOUT = 10
# Large enough to read on a phone (issue #8 §7: it was about 45×20 px); 换一张 fetches a new one.
CAPTCHA_FONT_SIZE = 40
CAPTCHA_IMAGE_SIZE = (160, 60)
CAPTCHA_TEST_MODE = env.bool("XINFANG_CAPTCHA_TEST_MODE", default=False)

# Number of proxies in front of the app; the client address is read from X-Forwarded-For only then.
XINFANG_TRUSTED_PROXIES = env.int("XINFANG_TRUSTED_PROXIES", default=0)
# Portal throttles: "<count>/<seconds>".
XINFANG_PORTAL_SUBMIT_RATE = env.str("XINFANG_PORTAL_SUBMIT_RATE", default="10/3600")
XINFANG_PORTAL_TRACK_FAILURE_RATE = env.str("XINFANG_PORTAL_TRACK_FAILURE_RATE", default="5/900")
# CAPTCHA challenges handed out by the API (POST /api/v1/portal/captcha) per address.
XINFANG_PORTAL_CAPTCHA_RATE = env.str("XINFANG_PORTAL_CAPTCHA_RATE", default="60/3600")
# Failed password logins (staff pages and API together) per user name and address (等保 L3).
XINFANG_LOGIN_FAILURE_RATE = env.str("XINFANG_LOGIN_FAILURE_RATE", default="5/900")
XINFANG_API_TOKEN_TTL_HOURS = env.int("XINFANG_API_TOKEN_TTL_HOURS", default=12)
# A grant request (role, account, token: four-eyes, docs/security.md §2) not decided within this
# many days expires; 7 covers the longest public holiday.
XINFANG_GRANT_REQUEST_DAYS = env.int("XINFANG_GRANT_REQUEST_DAYS", default=7)

# --- Staff authentication (issue #7 points 17-20; docs/security.md §3) --------------------------
# Two factors are always required of the administrators and of every role that can reveal personal
# data (all casework roles); XINFANG_2FA_FOR_ALL_STAFF extends this to the rest (accounts with no
# role yet, for example).  XINFANG_2FA_ENFORCED and XINFANG_PASSWORD_CHANGE_ENFORCED exist for the
# test suite only (check --deploy warns when they are off).
XINFANG_2FA_ENFORCED = env.bool("XINFANG_2FA_ENFORCED", default=True)
XINFANG_2FA_FOR_ALL_STAFF = env.bool("XINFANG_2FA_FOR_ALL_STAFF", default=True)
XINFANG_PASSWORD_CHANGE_ENFORCED = env.bool("XINFANG_PASSWORD_CHANGE_ENFORCED", default=True)
XINFANG_PASSWORD_MAX_AGE_DAYS = env.int("XINFANG_PASSWORD_MAX_AGE_DAYS", default=90)  # 0: never expires
# Failures (password or second factor, from any addresses) that lock an account, and for how long.
XINFANG_ACCOUNT_LOCK_THRESHOLD = env.int("XINFANG_ACCOUNT_LOCK_THRESHOLD", default=5)
XINFANG_ACCOUNT_LOCK_MINUTES = env.int("XINFANG_ACCOUNT_LOCK_MINUTES", default=15)
# A session ends this long after login, however active (the idle limit is SESSION_COOKIE_AGE).
XINFANG_SESSION_MAX_AGE_HOURS = env.int("XINFANG_SESSION_MAX_AGE_HOURS", default=12)
# Tokens obtained with a password end after this much disuse; tokens the security administrator
# issues to an integration after XINFANG_API_ISSUED_TOKEN_IDLE_DAYS (0: no idle limit).
XINFANG_API_TOKEN_IDLE_MINUTES = env.int("XINFANG_API_TOKEN_IDLE_MINUTES", default=30)
XINFANG_API_ISSUED_TOKEN_IDLE_DAYS = env.int("XINFANG_API_ISSUED_TOKEN_IDLE_DAYS", default=30)
# Only system accounts obtain API tokens with a password: a person's token would skip the second
# factor.  The test settings turn this on because the API suite acts as staff of every role.
XINFANG_API_PASSWORD_TOKENS_FOR_STAFF = env.bool("XINFANG_API_PASSWORD_TOKENS_FOR_STAFF", default=False)
OTP_TOTP_ISSUER = "Xinfang"

# --- The public surface (issue #7 points 26, 28-30; docs/security.md §7) -------------------------
# JSON bodies above this many bytes get 413 (the largest legitimate petition is a few hundred KB);
# multipart bodies (attachments: at most 10 files of 10 MB) above XINFANG_MAX_UPLOAD_REQUEST.
XINFANG_MAX_JSON_BODY = env.int("XINFANG_MAX_JSON_BODY", default=2 * 1024 * 1024)
XINFANG_MAX_UPLOAD_REQUEST = env.int("XINFANG_MAX_UPLOAD_REQUEST", default=110 * 1024 * 1024)
# Browser origins (scheme://host[:port]) allowed to call the API across origins; none by default.
XINFANG_CORS_ORIGINS = env.list("XINFANG_CORS_ORIGINS", default=[])
# Wrong query codes (from any addresses) after which a petition number is locked until the office
# reissues its code.
XINFANG_QUERY_CODE_MAX_FAILURES = env.int("XINFANG_QUERY_CODE_MAX_FAILURES", default=10)
# Automatic urging (系统催办, supervision/urging.py): a reminder this many working days before a staff
# deadline (0: none), on the day, and each working day overdue; XINFANG_URGE_STEPS picks the steps.
XINFANG_URGE_DAYS_BEFORE = env.int("XINFANG_URGE_DAYS_BEFORE", default=3)
XINFANG_URGE_STEPS = env.list("XINFANG_URGE_STEPS", default=["before", "due", "overdue"])
# Supervision notices (督办) left unanswered past their date: the unit's leaders are told the next
# morning, the petition office of the level above this many working days later.
XINFANG_SUPERVISION_ESCALATION_DAYS = env.int("XINFANG_SUPERVISION_ESCALATION_DAYS", default=3)
# Content-Security-Policy (django-csp 4 format): everything from this site only, no inline script
# or style, no plugins, no framing.  CAPTCHA images are served by the site itself.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# HTTPS: redirect and HSTS are on outside DEBUG.  Behind a TLS-terminating proxy
# (XINFANG_TRUSTED_PROXIES > 0) the proxy's X-Forwarded-Proto says whether the client used https.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if XINFANG_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Background work (issue #8; docs/architecture.md, "Background work") ------------------------
# django-q2: the ORM broker (this database) by default, Redis with XINFANG_TASK_REDIS_URL for large
# sites.  Periodic jobs are data (core/schedule.py), written into django_q's schedule table by
# migrate.  XINFANG_WORKER_SCHEDULER=false on every worker host but one (docs/deployment.md).
# On SQLite the site runs one worker process with one task process: SQLite has one writer at a time.
_ON_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
Q_CLUSTER = {
    "name": "xinfang",
    # Task processes per worker (xinfang worker); more worker hosts scale further.
    "workers": env.int("XINFANG_WORKERS", default=1 if _ON_SQLITE else 2),
    # A task running longer than this is killed (and, unacknowledged, handed out again after retry).
    "timeout": env.int("XINFANG_TASK_TIMEOUT", default=600),
    # ORM broker: a task not acknowledged this long after it was handed out (its worker died) is
    # handed out again; larger than the timeout, as django-q2 requires.  (Redis: no redelivery.)
    "retry": env.int("XINFANG_TASK_RETRY", default=720),
    # A task that raised is recorded (table django_q_task, success false) and not handed out again:
    # every periodic job runs again at its next slot, and the outbox keeps its own retry count.
    # Handing out again is for a task whose worker died; max_attempts bounds that too.
    "max_attempts": 5,
    "ack_failures": True,
    "save_limit": 1000,
    # A missed run (the site was down) is not run once per missed slot: every job catches up by
    # itself on its next run (each one works from the current state, not from the slot's time).
    "catch_up": False,
    "scheduler": env.bool("XINFANG_WORKER_SCHEDULER", default=True),
    "label": "后台任务",
}
if env.str("XINFANG_TASK_REDIS_URL", default=""):
    Q_CLUSTER["redis"] = env.str("XINFANG_TASK_REDIS_URL")
else:
    Q_CLUSTER["orm"] = "default"
    # How often an idle worker asks the database for a task (seconds).
    Q_CLUSTER["poll"] = env.float("XINFANG_TASK_POLL_SECONDS", default=1.0)

# --- Documents as PDF (issue #10 point 5; documents/pdf.py, docs/deployment.md, "PDF converter") --
# A unoserver the site runs as a service (``xinfang pdfserver``), host:port; empty: each machine
# starts one on first use under PDF_UNOSERVER_PYTHON (a Python with python3-uno; default the
# project's .venv-uno) and shares it among its processes; without python3-uno, a cold soffice.
PDF_SERVER = env.str("XINFANG_PDF_SERVER", default="")
PDF_UNOSERVER_PYTHON = env.str("XINFANG_UNOSERVER_PYTHON", default="")
PDF_TIMEOUT = env.int("XINFANG_PDF_TIMEOUT", default=60)  # seconds per document, then killed

# --- Notifications: e-mail and SMS (issue #8 §4; docs/deployment.md, "Notifications") ---------
# E-mail through Django's mail framework: SMTP from the environment; in DEBUG without EMAIL_HOST
# the file backend writes each message under var/mail/ instead.
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="xinfang@localhost")
if DEBUG and not EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
# SMS: a gateway class (dotted path) and its account; the console backend only marks messages
# "sent (demo)" in the outbox.  XINFANG_SMS_SIGN is the 签名 put before every text.
XINFANG_SMS_BACKEND = env.str("XINFANG_SMS_BACKEND", default="xinfang.notifications.sms.ConsoleBackend")
XINFANG_SMS_URL = env.str("XINFANG_SMS_URL", default="")
XINFANG_SMS_ACCOUNT = env.str("XINFANG_SMS_ACCOUNT", default="")
XINFANG_SMS_PASSWORD = env.str("XINFANG_SMS_PASSWORD", default="")
XINFANG_SMS_SIGN = env.str("XINFANG_SMS_SIGN", default="")
XINFANG_SMS_TIMEOUT = env.float("XINFANG_SMS_TIMEOUT", default=10.0)
# The public address of the site, for links in e-mail (e.g. https://xf.example.gov.cn).
XINFANG_SITE_URL = env.str("XINFANG_SITE_URL", default="")
# How a petitioner tracks a petition, named in SMS ("{portal}").
XINFANG_PORTAL_HINT = env.str("XINFANG_PORTAL_HINT", default="网上信访平台“进度查询”")
XINFANG_OUTBOX_MAX_ATTEMPTS = env.int("XINFANG_OUTBOX_MAX_ATTEMPTS", default=6)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
