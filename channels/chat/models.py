"""Models of the chat channel: a tenant's chat settings, chat sessions and their messages.

A session belongs to one customer (a contact of one organization) or, where the tenant lets
anonymous visitors chat, to a visitor known only by the name and email address they typed
(unverified; ``channels.chat.visitors``), and, once accepted, to one agent. Messages carry a
per-session ``sequence`` (1, 2, 3 …) so that a poller asks for "everything after N" and never
misses or repeats a message. The transcript becomes a ticket (channel chat) when the chat ends:
``ticket`` then points at it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import TenantOwned

BODY_MAX = 4000


class ChatSettings(TenantOwned):
    """One row per tenant (created on first save; a tenant without one has chat enabled)."""

    enabled = models.BooleanField(
        default=True, help_text=_("Offer live chat to customers whose package includes chat.")
    )
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Sites (https://host[:port]) that may frame the chat page (embed script)."),
    )
    welcome_text = models.TextField(
        blank=True, max_length=1000, help_text=_("Shown above the chat before it starts.")
    )
    anonymous_visitors = models.BooleanField(
        default=False,
        help_text=_(
            "Anonymous visitors may chat after giving a name and an email address (unverified)."
        ),
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "chat settings"
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="chat_settings_one_per_tenant")
        ]

    def __str__(self) -> str:
        return f"chat settings of {self.tenant_id}"


class ChatSession(TenantOwned):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for an agent")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    customer = models.ForeignKey(
        "helpdesk.Membership",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_sessions",
    )
    # An anonymous visitor's chat (no customer): what they typed, and the SHA-256 of the secret
    # their browser holds (the secret itself is never stored).
    visitor_name = models.CharField(max_length=150, blank=True)
    visitor_email = models.EmailField(blank=True)
    visitor_secret_hash = models.CharField(max_length=64, blank=True)
    organization = models.ForeignKey(
        "helpdesk.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        "helpdesk.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats_handled",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    origin = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Where the chat started: empty for the portal, else the embedding site."),
    )
    started_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status", "started_at"], name="chat_session_queue"),
        ]
        constraints = [
            # A customer's chat, or a visitor's (name, address and secret), never both.
            models.CheckConstraint(
                condition=(
                    models.Q(customer__isnull=False, visitor_email="", visitor_secret_hash="")
                    | (
                        models.Q(customer__isnull=True)
                        & ~models.Q(visitor_name="")
                        & ~models.Q(visitor_email="")
                        & ~models.Q(visitor_secret_hash="")
                    )
                ),
                name="chat_session_customer_or_visitor",
            )
        ]

    def __str__(self) -> str:
        return f"chat {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.ENDED

    @property
    def is_visitor(self) -> bool:
        """An anonymous visitor's chat: name and address as typed, never verified."""
        return self.customer_id is None

    @property
    def person_name(self) -> str:
        """Who the chat is with, as the agents' pages name them."""
        if self.customer is None:
            return self.visitor_name
        return self.customer.user.name or self.customer.user.email

    @property
    def person_email(self) -> str:
        return self.visitor_email if self.customer is None else self.customer.user.email


class ChatMessage(TenantOwned):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    author = models.ForeignKey(
        "helpdesk.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200, blank=True)
    # Plain text as typed; escaped wherever it is shown (templates autoescape, the widget sets
    # textContent), never rendered as HTML.
    body = models.TextField(max_length=BODY_MAX)
    sequence = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["session", "sequence"], name="chat_message_sequence")
        ]

    def __str__(self) -> str:
        return f"chat {self.session_id} #{self.sequence}"
