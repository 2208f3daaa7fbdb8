"""Merging a duplicate into its master (seed 003)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from helpdesk.markup import render_markdown
from helpdesk.models import Membership

from .. import outbox
from ..models import Attachment, Message, Ticket, TicketEvent
from .cc import ticket_add_cc
from .events import event_record, touch
from .workflow import require_staff, ticket_set_sla_exempt, transition_apply


@transaction.atomic
def ticket_merge(
    *,
    duplicate: Ticket,
    master: Ticket,
    by: Membership,
    filed_without_request: bool = False,
) -> Ticket:
    """Merge ``duplicate`` into ``master``: its messages and attachments move to the master,
    its requester and CCs become the master's CCs, its description is kept on the master as an
    internal note; the duplicate closes with a link (``merged_into``) and both logs say so.

    ``filed_without_request`` (seed 003: a duplicate filed without being asked): the duplicate
    becomes SLA-exempt — its running clocks go, and SLA reports leave it out.

    Preconditions: ``by`` is a staff member of the tenant. Both tickets are the tenant's, not
    the same, neither closed nor already merged. Both rows are locked (in id order, so two
    merges of the same pair cannot deadlock)."""
    require_staff(duplicate, by, "merge tickets")
    if master.tenant_id != duplicate.tenant_id:
        raise ValidationError({"into": "Unknown ticket."})
    if master.pk == duplicate.pk:
        raise ValidationError({"into": "A ticket cannot be merged into itself."})
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(pk__in=[duplicate.pk, master.pk])
        .order_by("pk")
    }
    duplicate, master = locked[duplicate.pk], locked[master.pk]
    if duplicate.merged_into_id is not None:
        raise ValidationError({"ticket": "This ticket is already merged."})
    if duplicate.status == Ticket.Status.CLOSED:
        raise ValidationError({"ticket": "A closed ticket cannot be merged."})
    if master.merged_into_id is not None:
        raise ValidationError({"into": "That ticket is itself merged into another one."})
    if master.status == Ticket.Status.CLOSED:
        raise ValidationError({"into": "A closed ticket cannot receive a merge."})

    messages = Message.objects.filter(ticket=duplicate).update(ticket=master)
    attachments = Attachment.objects.filter(ticket=duplicate).update(ticket=master)
    note = f"Merged from {duplicate.reference}: {duplicate.subject}\n\n{duplicate.description}"
    Message.objects.create(
        tenant_id=master.tenant_id,
        ticket=master,
        author=by.user,
        from_staff=True,
        body=note,
        body_html=render_markdown(note),
        public=False,
        channel=duplicate.channel,
    )
    ticket_add_cc(ticket=master, emails=[duplicate.requester_email, *duplicate.cc], by=by)
    event_record(
        ticket=master,
        kind=TicketEvent.Kind.MERGE_RECEIVED,
        by=by,
        field="merged_from",
        after={
            "id": duplicate.pk,
            "reference": duplicate.reference,
            "messages": messages,
            "attachments": attachments,
        },
    )
    touch(master)
    event_record(
        ticket=duplicate,
        kind=TicketEvent.Kind.MERGED,
        by=by,
        field="merged_into",
        after={"id": master.pk, "reference": master.reference},
    )
    duplicate.merged_into = master
    touch(duplicate, "merged_into")
    if filed_without_request:
        ticket_set_sla_exempt(ticket=duplicate, exempt=True, by=by)
    # Closing stops whatever clocks are left (a merge closes from any open status).
    transition_apply(duplicate, Ticket.Status.CLOSED, by=by, force=True)
    outbox.publish(
        "ticket.merged", tenant_id=master.tenant_id, ticket_id=master.pk, duplicate_id=duplicate.pk
    )
    return master
