"""A lightweight presence: which agents have a ticket open, and who is replying, kept in the
cache with a short time to live (a closed tab simply stops refreshing its entry).

One cache entry per ticket holds {membership id: (name, state, when)}. Two agents refreshing
at the same instant may drop each other's entry for one poll; the next poll puts it back,
which is good enough for a notice (no lock needed)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache

from helpdesk.models import Membership

from ..models import Ticket

VIEWING = "viewing"
REPLYING = "replying"
STATES = (VIEWING, REPLYING)
TTL_SECONDS = 30  # three missed polls (every ~10 s) and an agent is gone


@dataclass(frozen=True)
class Present:
    name: str
    state: str

    @property
    def is_replying(self) -> bool:
        return self.state == REPLYING


def _key(ticket: Ticket) -> str:
    return f"helpdesk:presence:{ticket.tenant_id}:{ticket.pk}"


def _live(
    entries: dict[int, tuple[str, str, float]], now: float
) -> dict[int, tuple[str, str, float]]:
    return {k: v for k, v in entries.items() if now - v[2] < TTL_SECONDS}


def record(*, ticket: Ticket, membership: Membership, state: str) -> None:
    """Note that ``membership`` has ``ticket`` open (``state``: viewing or replying)."""
    state = state if state in STATES else VIEWING
    now = time.time()
    entries = _live(cache.get(_key(ticket)) or {}, now)
    name = membership.user.name or membership.user.email
    entries[membership.pk] = (name, state, now)
    cache.set(_key(ticket), entries, TTL_SECONDS)


def others(*, ticket: Ticket, membership: Membership) -> list[Present]:
    """The other agents on ``ticket`` right now, those replying first."""
    entries = _live(cache.get(_key(ticket)) or {}, time.time())
    people = [
        Present(name, state) for pk, (name, state, _at) in entries.items() if pk != membership.pk
    ]
    return sorted(people, key=lambda p: (not p.is_replying, p.name))
