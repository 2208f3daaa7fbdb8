"""The email channel's records: the tenant's addresses (mailboxes), the Message-IDs that thread
mail to tickets, every inbound message's outcome (with the raw bytes of what was quarantined), and
addresses that bounced."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import TenantOwned


class Mailbox(TenantOwned):
    """An address of the tenant: mail to it opens or continues tickets; the default one is the
    From of outbound mail. IMAP settings are optional (pipe and provider webhooks need none)."""

    class UnknownSender(models.TextChoices):
        PENDING = "pending", _("Open a held ticket for a pending contact (verify first)")
        ACCEPT = "accept", _("Open a ticket")
        REFUSE = "refuse", _("Refuse the message")

    address = models.EmailField()
    display_name = models.CharField(max_length=200, blank=True)
    reply_to = models.EmailField(blank=True)
    is_default = models.BooleanField(
        default=False, help_text=_("The From address of replies and notifications.")
    )
    # IMAP polling (imap-tools), by the beat schedule; a per-mailbox lock keeps polls single.
    imap_enabled = models.BooleanField(default=False)
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_ssl = models.BooleanField(default=True)
    imap_username = models.CharField(max_length=255, blank=True)
    imap_password = models.CharField(max_length=255, blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The poll lock: a lease claimed atomically (UPDATE … WHERE free), released after the poll,
    # expiring by itself if the worker died; works on PostgreSQL and on the embedded SQLite.
    poll_lease_until = models.DateTimeField(null=True, blank=True)
    # Mail from an address that is no contact of the tenant (seed 003: a pending contact, whose
    # tickets are held until verified).
    unknown_sender = models.CharField(
        max_length=8, choices=UnknownSender.choices, default=UnknownSender.PENDING
    )
    # The provider's (Mailgun's) HTTP webhook signing key, for the inbound webhook.
    webhook_signing_key = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["address"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "address"], name="mailbox_address_unique"),
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_default=True), name="mailbox_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.address


class EmailThreadId(TenantOwned):
    """A Message-ID known to belong to a ticket: mail we sent (``out``) and mail we took in
    (``in``). Threading looks up In-Reply-To and References here; the unique (tenant,
    message_id) drops a message received twice (overlapping fetches, a webhook retried)."""

    class Direction(models.TextChoices):
        IN = "in", _("Received")
        OUT = "out", _("Sent")

    message_id = models.CharField(max_length=998)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    # The conversation message the mail carried (none for a ticket's opening mail, whose text is
    # the description). ``message_id`` is the RFC 5322 Message-ID, hence this name.
    ticket_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "message_id"], name="email_thread_id_unique")
        ]
        indexes = [models.Index(fields=["ticket", "direction"], name="email_thread_ticket")]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_id}"


class InboundEmail(TenantOwned):
    """Every message that reached an entrance (pipe, IMAP, provider webhook) and what became of
    it. A quarantined message keeps its raw bytes (in storage) for the admins to see."""

    class Source(models.TextChoices):
        PIPE = "pipe", _("Pipe (ingest_email)")
        IMAP = "imap", _("IMAP")
        WEBHOOK = "webhook", _("Provider webhook")

    class Outcome(models.TextChoices):
        CREATED = "created", _("Opened a ticket")
        THREADED = "threaded", _("Added to a ticket")
        DUPLICATE = "duplicate", _("Dropped: already received")
        AUTOMATIC = "automatic", _("Dropped: automatic reply, bounce or loop")
        RATE_LIMITED = "rate_limited", _("Dropped: too many from this sender")
        REFUSED = "refused", _("Refused by the tenant's rules")
        QUARANTINED = "quarantined", _("Quarantined")

    source = models.CharField(max_length=8, choices=Source.choices)
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    message_id = models.CharField(max_length=998, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raw = models.FileField(upload_to="email-raw/", blank=True, max_length=300)
    raw_size = models.PositiveBigIntegerField(default=0)
    received_at = models.DateTimeField(default=now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "outcome", "-received_at"], name="inbound_outcome"),
            # The per-sender rate limit counts a sender's recent messages.
            models.Index(fields=["tenant", "from_address", "received_at"], name="inbound_sender"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} {self.message_id or self.subject}"


class SuppressedAddress(TenantOwned):
    """An address that bounced or complained: no more mail goes to it until an admin lifts it."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")
        REJECTED = "rejected", _("Rejected by the provider")

    address = models.EmailField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "address"], name="suppressed_address_unique")
        ]

    def __str__(self) -> str:
        return self.address
