"""Helpers of the ticket domain's tests: a private media root, API clients, a small SLA setup."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from helpdesk.models import Membership
from tests.conftest import World
from tests.sla.conftest import Api, Setup, make_setup
from tickets.models import Attachment, Ticket
from tickets.services import attachment_add, ticket_create

UTC = dt.UTC
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    """Uploads go to a temporary directory, not var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def setup(alpha: World) -> Setup:
    return make_setup(alpha)


def api(world: World, membership: Membership) -> Api:
    return Api(world, membership)


def new_ticket(world: World, requester: Membership | None = None, **kwargs: Any) -> Ticket:
    requester = requester or world.contact1
    kwargs.setdefault("subject", "The printer is on fire")
    return ticket_create(
        tenant=world.tenant,
        requester=requester.user,
        requester_email=requester.user.email,
        **kwargs,
    )


def upload(
    ticket: Ticket,
    by: Membership,
    content: bytes = b"hello",
    name: str = "note.txt",
    **kwargs: Any,
) -> Attachment:
    return attachment_add(
        ticket=ticket, upload=ContentFile(content, name=name), by=by.user, **kwargs
    )
