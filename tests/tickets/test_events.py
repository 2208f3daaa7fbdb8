"""The event log is append-only: in the model layer and, on PostgreSQL, in the database itself —
while deleting a whole tenant and deleting a user (actor → null) still work."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from helpdesk.models import Tenant, User
from tests.conftest import World
from tests.factories import TenantFactory, UserFactory
from tickets.models import AppendOnlyError, Ticket, TicketEvent
from tickets.services import ticket_create, ticket_note, ticket_transition

from .conftest import new_ticket


def test_the_model_layer_refuses_changes(alpha: World) -> None:
    ticket = new_ticket(alpha)
    event = ticket.events.get()
    event.kind = "status"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        TicketEvent.objects.filter(pk=event.pk).update(kind="status")
    with pytest.raises(AppendOnlyError):
        TicketEvent.objects.filter(pk=event.pk).delete()
    assert TicketEvent.objects.get(pk=event.pk).kind == "created"


def test_the_database_refuses_changes(alpha: World) -> None:
    ticket = new_ticket(alpha)
    event = ticket.events.get()
    table = TicketEvent._meta.db_table
    for sql in (
        f"UPDATE {table} SET kind = 'status' WHERE id = %s",
        f"UPDATE {table} SET after = '{{}}'::jsonb WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert TicketEvent.objects.get(pk=event.pk).kind == "created"


def test_a_ticket_cannot_be_deleted_out_from_under_its_log(alpha: World) -> None:
    ticket = new_ticket(alpha)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).delete()
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_deleting_a_user_keeps_the_events_without_the_actor(alpha: World) -> None:
    ticket = new_ticket(alpha)
    ticket_note(ticket=ticket, body="noted", by=alpha.lead)
    ticket_transition(ticket=ticket, status="open", by=alpha.lead)
    lead_user = User.objects.get(pk=alpha.lead.user_id)
    lead_user.delete()
    events = list(ticket.events.order_by("id"))
    assert [e.kind for e in events] == ["created", "note_added", "status"]
    assert [e.actor_id for e in events[1:]] == [None, None]
    assert events[2].after == "open"


def test_deleting_a_whole_tenant_still_cascades(db: None) -> None:
    tenant = TenantFactory(slug="doomed")
    other = TenantFactory(slug="kept")
    user = UserFactory(email="someone@doomed.test")
    for t in (tenant, other):
        ticket_create(tenant=t, subject="A ticket", requester=user, requester_email=user.email)
        ticket_create(tenant=t, subject="Another", requester=user, requester_email=user.email)
    assert TicketEvent.objects.filter(tenant=tenant).count() == 2
    with transaction.atomic():
        Tenant.objects.get(pk=tenant.pk).delete()
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert not TicketEvent.objects.filter(tenant_id=tenant.pk).exists()
    assert TicketEvent.objects.filter(tenant=other).count() == 2
    # Only the deleted tenant's rows were released: every other log is still guarded.
    event = TicketEvent.objects.filter(tenant=other).first()
    assert event is not None
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TicketEvent._meta.db_table} WHERE id = %s", [event.pk])


def test_history_names_people_by_name(alpha: World) -> None:
    from tickets.services import ticket_assign

    ticket = new_ticket(alpha)
    User.objects.filter(pk=alpha.agent.user_id).update(name="Kim Agent")
    alpha.agent.user.refresh_from_db()
    ticket_assign(ticket=ticket, assignee=alpha.agent, by=alpha.lead)
    event = ticket.events.filter(kind=TicketEvent.Kind.ASSIGNEE).order_by("-id").first()
    assert event is not None
    assert event.after == {
        "id": alpha.agent.pk,
        "email": alpha.agent.user.email,
        "name": "Kim Agent",
    }
    page = alpha.client(alpha.lead).get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert "Kim Agent" in page.split("events")[-1]
