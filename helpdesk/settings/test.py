"""The test suite: real PostgreSQL (and real Redis where a test is about workers)."""

import dj_database_url

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK
from .env import env_str

# Tests run on PostgreSQL: CI and the development machines have it on 127.0.0.1:5432.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk")
    )
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ACCOUNT_RATE_LIMITS = False
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "100000/min"}}
# Webhook tests post to a local HTTP server (loopback): allowed here and in development, refused
# in production (channels.webhooks.ssrf).
WEBHOOKS_ALLOW_PRIVATE = True
# Tasks queued by the code under test go to an in-process broker nobody consumes: never into the
# development spool (var/celery), where `make run`'s worker would pick them up against another
# database. Worker tests (tests/workers) point the app at their own Redis server; the workers they
# start get REDIS_URL.
from .base import REDIS_URL  # noqa: E402

if not REDIS_URL:
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
