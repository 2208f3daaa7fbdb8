"""Celery tasks of the chat channel (beat schedule in helpdesk/celery.py)."""

from __future__ import annotations

from celery import shared_task

from .services import chats_end_idle


@shared_task(name="channels.chat.end_idle", acks_late=True)
def end_idle_chats() -> int:
    return chats_end_idle()
