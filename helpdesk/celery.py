"""The Celery app ``helpdesk``: its queues, its task routes, and every periodic schedule, in one
place.

A plain ``celery -A helpdesk worker --beat`` consumes every queue below (a worker listens to all
of ``task_queues`` unless ``-Q`` narrows it), so one process runs everything under ``make run``;
production runs several workers, and may give the ``sla`` queue workers of its own
(``-Q sla``) so that a burst of mail never delays an escalation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler
from celery.signals import worker_ready
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.dev")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Channel kinds are packages of the channels app, each with its own tasks module.
app.autodiscover_tasks(["channels.notifications", "channels.webhooks", "channels.email"])

QUEUES = ("celery", "sla", "notifications", "webhooks", "email")

app.conf.task_default_queue = "celery"
app.conf.task_queues = tuple(Queue(name, routing_key=name) for name in QUEUES)
app.conf.task_routes = {
    "sla.*": {"queue": "sla"},
    "notifications.deliver_email": {"queue": "email"},
    "notifications.*": {"queue": "notifications"},
    "webhooks.*": {"queue": "webhooks"},
    "channels.email.*": {"queue": "email"},
}


class Scheduler(PersistentScheduler):
    """Beat's file-backed schedule, whose directory (``var/`` by default, not in a fresh
    checkout) is created when missing: without it beat would die at start and take the sweeps
    with it."""

    def setup_schedule(self) -> None:
        filename = self.schedule_filename  # type: ignore[attr-defined]  # set by __init__
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()


app.conf.beat_scheduler = "helpdesk.celery:Scheduler"

# Periodic schedules (beat). Short ``expires``: a sweep message that waited longer than a few
# periods (a busy or restarted worker) is dropped, the next one does the same work.
app.conf.beat_schedule = {
    # Fires whatever escalation alarm came and no ETA task fired (lost with a worker, a broker
    # restart, or never queued). sla.escalation.alarms explains the design.
    "sla-sweep-alarms": {
        "task": "sla.sweep_alarms",
        "schedule": 2.0,
        "options": {"expires": 10},
    },
    # Queues ETA tasks for alarms entering the 10-minute horizon (alarms.PLAN_PERIOD).
    "sla-plan-alarms": {
        "task": "sla.plan_alarms",
        "schedule": 30.0,
        "options": {"expires": 30},
    },
    # Re-pages on-call agents when an emergency page is not acknowledged in time.
    "sla-repage": {"task": "sla.repage", "schedule": 15.0, "options": {"expires": 30}},
    # Sends notices held by quiet hours, retries, and any whose task was lost.
    "notifications-sweep": {
        "task": "notifications.sweep",
        "schedule": 10.0,
        "options": {"expires": 30},
    },
    # Webhook retries beyond the countdown horizon, and deliveries whose task was lost.
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 10.0, "options": {"expires": 30}},
    # Polls every IMAP-enabled mailbox (channels.email.imap: one lease per mailbox).
    # Chats left open by a customer who went away become tickets (channels.chat.services).
    "chat-end-idle": {
        "task": "channels.chat.end_idle",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # Ticket mail whose preparation or send task was lost (channels.email.outbound).
    "email-outbound-sweep": {
        "task": "channels.email.sweep_outbound",
        "schedule": 60.0,
        "options": {"expires": 120},
    },
    "email-poll-mailboxes": {
        "task": "channels.email.poll_mailboxes",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
}


@worker_ready.connect
def plan_alarms_on_start(sender: Any = None, **kwargs: Any) -> None:
    """A worker that (re)starts queues the ETA tasks of every alarm in the next 10 minutes: the
    ones a killed worker held in memory are gone (the sweep would still fire them, a little
    later). Several workers starting queue duplicates, which fire once."""
    app.send_task("sla.plan_alarms", kwargs={"full": True})
