"""Merging a duplicate into its master (seed 003), and similar-ticket suggestions."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from sla.models import SLAClock
from tests.conftest import World
from tickets.models import Attachment, Message, Ticket
from tickets.selectors import ticket_similar
from tickets.services import ticket_merge, ticket_note, ticket_reply, ticket_transition

from .conftest import Setup, new_ticket, upload, utc

pytestmark = pytest.mark.usefixtures("media")


def test_messages_attachments_and_ccs_move_and_the_duplicate_closes(alpha: World) -> None:
    master = new_ticket(alpha, subject="VPN is down", cc=["a@x.test"])
    duplicate = new_ticket(
        alpha,
        requester=alpha.contact2,
        subject="VPN down again",
        description="Since 9am.",
        cc=["b@x.test", "a@x.test"],
    )
    reply = ticket_reply(ticket=duplicate, body="Any news?", author=alpha.contact2.user)
    note = ticket_note(ticket=duplicate, body="Same as the other one", by=alpha.agent)
    file = upload(duplicate, alpha.contact2)

    result = ticket_merge(duplicate=duplicate, master=master, by=alpha.agent)
    assert result.pk == master.pk
    duplicate.refresh_from_db()
    master.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == ("closed", master.pk)
    assert duplicate.closed_at is not None
    assert set(Message.objects.filter(ticket=master).values_list("pk", flat=True)) >= {
        reply.pk,
        note.pk,
    }
    assert not Message.objects.filter(ticket=duplicate).exists()
    assert Attachment.objects.get(pk=file.pk).ticket_id == master.pk
    # The duplicate's requester and CCs follow the master.
    assert master.cc == ["a@x.test", alpha.contact2.user.email, "b@x.test"]
    # Its description is kept on the master as an internal note.
    kept = Message.objects.filter(ticket=master, public=False).exclude(pk=note.pk).get()
    assert duplicate.reference in kept.body and "Since 9am." in kept.body
    # Both logs say so.
    merged = duplicate.events.get(kind="merged")
    assert merged.after == {"id": master.pk, "reference": master.reference}
    received: Any = master.events.get(kind="merge_received")
    assert received.after["id"] == duplicate.pk and received.after["messages"] == 2
    assert duplicate.events.filter(kind="status", after="closed").exists()
    assert duplicate.sla_exempt is False


def test_duplicate_filed_without_request_leaves_the_sla(alpha: World, setup: Setup) -> None:
    with time_machine.travel(utc(2026, 3, 2, 10), tick=False):
        master = new_ticket(alpha, severity=setup.high, subject="Printer on fire")
        duplicate = new_ticket(alpha, severity=setup.high, subject="Printer still on fire")
    assert SLAClock.objects.filter(ticket=duplicate).count() == 2
    with time_machine.travel(utc(2026, 3, 2, 10, 30), tick=False):
        ticket_merge(duplicate=duplicate, master=master, by=alpha.agent, filed_without_request=True)
    duplicate.refresh_from_db()
    assert duplicate.sla_exempt is True
    assert duplicate.sla_note.startswith("Exempt from SLA")
    assert not SLAClock.objects.filter(ticket=duplicate).exists()  # no SLA of its own
    assert SLAClock.objects.filter(ticket=master, status="running").count() == 2
    assert duplicate.events.filter(kind="sla_exempt").exists()
    # SLA reports read tickets that are not exempt: the duplicate is not among them.
    reported = Ticket.objects.for_tenant(alpha.tenant).filter(sla_exempt=False)
    assert list(reported) == [master]


def test_merge_refusals(alpha: World, beta: World) -> None:
    master = new_ticket(alpha)
    duplicate = new_ticket(alpha)
    with pytest.raises(ValidationError):
        ticket_merge(duplicate=duplicate, master=duplicate, by=alpha.agent)
    with pytest.raises(ValidationError):
        ticket_merge(duplicate=duplicate, master=master, by=alpha.contact1)
    with pytest.raises(ValidationError):
        ticket_merge(duplicate=duplicate, master=new_ticket(beta), by=alpha.agent)
    ticket_merge(duplicate=duplicate, master=master, by=alpha.agent)
    with pytest.raises(ValidationError):  # already merged (and closed)
        ticket_merge(duplicate=duplicate, master=master, by=alpha.agent)
    with pytest.raises(ValidationError):  # into a merged ticket
        ticket_merge(duplicate=new_ticket(alpha), master=duplicate, by=alpha.agent)
    closed = new_ticket(alpha)
    ticket_transition(ticket=closed, status="solved", by=alpha.agent)
    ticket_transition(ticket=closed, status="closed", by=alpha.agent)
    with pytest.raises(ValidationError):
        ticket_merge(duplicate=new_ticket(alpha), master=closed, by=alpha.agent)


def test_similar_tickets_are_suggested(alpha: World, beta: World) -> None:
    ticket = new_ticket(alpha, subject="Cannot log in to the mobile app")
    close = new_ticket(alpha, subject="Cannot log in to mobile app")
    other = new_ticket(alpha, subject="Invoice for March")
    new_ticket(beta, subject="Cannot log in to the mobile app")  # another tenant's
    merged = new_ticket(alpha, subject="Cannot log in to the mobile app!")
    ticket_merge(duplicate=merged, master=close, by=alpha.agent)
    similar = ticket_similar(ticket=ticket)
    assert similar[0] == close
    assert other not in similar and merged not in similar
    assert all(t.tenant_id == alpha.tenant.pk for t in similar)
