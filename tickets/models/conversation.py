"""What happens on a ticket: messages (public replies and internal notes), attachments, and the
append-only event log."""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import TenantOwned, TenantQuerySet

from .ticket import Ticket


class Message(TenantOwned):
    """A public reply (the requester and CCs see it) or an internal note (staff only)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_messages",
    )
    author_email = models.EmailField(blank=True)
    # Written by a member of staff (kept on the row: the author's role may change later).
    from_staff = models.BooleanField(default=False)
    body = models.TextField(help_text=_("Markdown source."))
    body_html = models.TextField(blank=True, help_text=_("Rendered and sanitised."))
    public = models.BooleanField(default=True)
    channel = models.CharField(max_length=16, choices=Ticket.Channel.choices, default="web")
    # For email threading (In-Reply-To / References); unique per tenant when set.
    email_message_id = models.CharField(max_length=998, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "email_message_id"],
                condition=Q(email_message_id__isnull=False),
                name="message_email_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.pk} {'public' if self.public else 'note'}"


def attachment_upload_to(instance: Attachment, filename: str) -> str:
    # The services pass a random name; the real one lives in ``filename`` (never in the path).
    return filename


class Attachment(TenantOwned):
    """A file on a ticket (and, usually, on one of its messages). Stored under a per-tenant path
    with a random name; ``content_type`` is sniffed from the bytes, ``declared_content_type`` is
    what the client said. Served only through an authorised view."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_upload_to, max_length=255)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    declared_content_type = models.CharField(max_length=127, blank=True)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Customers see an attachment of a public message, or one a customer uploaded; an agent's
    # upload stays internal until it is sent with a public reply.
    public = models.BooleanField(default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename


class AppendOnlyError(Exception):
    """A ticket event was about to be changed or deleted."""


class EventQuerySet(TenantQuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Ticket events are append-only.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Ticket events are append-only.")


class EventManager(models.Manager.from_queryset(EventQuerySet)):  # type: ignore[misc]
    pass


class TicketEvent(TenantOwned):
    """One entry of a ticket's audit trail: who (``actor``, null for the system or a deleted
    user), what (``kind``, ``field``), before → after, when.

    Append-only. Here: ``save()`` of an existing row, ``delete()`` and queryset
    ``update()``/``delete()`` raise. In PostgreSQL: a trigger refuses UPDATE and DELETE, except
    the two things the database itself must be able to do — null ``actor_id`` when a user is
    deleted, and delete the rows of a tenant being deleted (migration 0007).
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS = "status", _("Status changed")
        ASSIGNEE = "assignee", _("Assignee changed")
        TEAM = "team", _("Team changed")
        SEVERITY = "severity", _("Severity re-classified")
        PRIORITY = "priority", _("Priority changed")
        FIELD = "field", _("Field changed")
        CUSTOM_FIELD = "custom_field", _("Custom field changed")
        CC_ADDED = "cc_added", _("CC added")
        CC_REMOVED = "cc_removed", _("CC removed")
        MERGED = "merged", _("Merged into another ticket")
        MERGE_RECEIVED = "merge_received", _("Another ticket merged into this one")
        NOTE_ADDED = "note_added", _("Internal note added")
        REPLY_ADDED = "reply_added", _("Reply added")
        ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
        SLA_EXEMPT = "sla_exempt", _("SLA exemption changed")
        RELEASED = "released", _("Released after verification")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    field = models.CharField(max_length=100, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[EventManager] = EventManager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_created")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.field}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Ticket events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Ticket events are append-only.")
