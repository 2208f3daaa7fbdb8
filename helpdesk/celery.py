"""The Celery app ``helpdesk``. Every periodic schedule is defined here, in one place."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.dev")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic schedules (beat). SLA sweeps and mailbox polling register here as they arrive.
app.conf.beat_schedule = {}
