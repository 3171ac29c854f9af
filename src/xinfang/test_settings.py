"""Settings for the test suite: the production module plus explicit test overrides.

Keys are generated afresh for every run, so no key ever sits in the repository.
"""

import os
import secrets

from cryptography.fernet import Fernet

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("XINFANG_FIELD_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("XINFANG_BLIND_INDEX_KEY", secrets.token_urlsafe(32))
os.environ.setdefault("XINFANG_AUDIT_KEY", secrets.token_urlsafe(32))
os.environ.setdefault("XINFANG_ENV_FILE", "/nonexistent")  # never read a developer's var/secrets.env

from .settings import *  # noqa: E402,F403
from .settings import VAR_DIR  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
CAPTCHA_TEST_MODE = True  # the portal form accepts "PASSED"; the throttle is still real
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = str(VAR_DIR / "test-media")
PASSWORD_HASHERS = ["xinfang.core.hashers.FastArgon2PasswordHasher"]
SECURE_SSL_REDIRECT = False  # the test client and the live server speak plain http
# Most tests log staff in with force_login or a bare password: the second factor and the forced
# password change are switched on by the tests of those steps (tests/accounts, tests/e2e).
XINFANG_2FA_ENFORCED = False
XINFANG_PASSWORD_CHANGE_ENFORCED = False
XINFANG_API_PASSWORD_TOKENS_FOR_STAFF = True  # the API suite acts as staff of every role
# Jobs run in the calling process at once (django-q2 "sync"), after the commit as in production;
# the worker tests (tests/worker) start real worker processes with XINFANG_TASK_SYNC unset.
Q_CLUSTER = {**Q_CLUSTER, "sync": os.environ.get("XINFANG_TASK_SYNC", "1") == "1"}  # noqa: F405
