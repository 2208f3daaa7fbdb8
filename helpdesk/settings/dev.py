"""`make run`: embedded defaults (SQLite file, filesystem Celery transport), console email."""

from .base import *  # noqa: F403
from .env import env_bool, env_str

DEBUG = env_bool("DEBUG", True)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional")
# Links in mail and in replies name the port `make run` serves on (PORT, default 8000).
HELPDESK_PUBLIC_SCHEME = env_str("HELPDESK_PUBLIC_SCHEME", "http")
HELPDESK_PUBLIC_PORT = env_str("HELPDESK_PUBLIC_PORT", env_str("PORT", "8000"))
