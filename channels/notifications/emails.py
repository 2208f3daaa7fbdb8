"""Notice emails: templates in threes (subject, text, HTML) rendered by one helper, and the
threading headers that keep every notice about a ticket in one thread in the reader's client."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest
from django.template.loader import render_to_string

from channels.email.models import Mailbox
from helpdesk.models import Tenant


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str

    def as_payload(self) -> dict[str, str]:
        return {"subject": self.subject, "text": self.text, "html": self.html}


def render_email(name: str, context: dict[str, Any]) -> EmailContent:
    """``templates/emails/<name>/{subject.txt, body.txt, body.html}`` with ``context``."""
    subject = render_to_string(f"emails/{name}/subject.txt", context)
    return EmailContent(
        subject=" ".join(subject.split())[:250],
        text=render_to_string(f"emails/{name}/body.txt", context),
        html=render_to_string(f"emails/{name}/body.html", context),
    )


def tenant_base_url(tenant: Tenant, request: HttpRequest | None = None) -> str:
    """``https://acme.example.com`` (``HELPDESK_PUBLIC_SCHEME``/``_PORT`` for development).

    Given the ``request`` a link is made in, and no public port configured: when it reached the
    tenant's host on an explicit port (``make run`` on :8000, a test server), links keep that
    origin (``http://acme.localhost/…`` would point at port 80, where nothing answers)."""
    scheme = getattr(settings, "HELPDESK_PUBLIC_SCHEME", "http" if settings.DEBUG else "https")
    port = getattr(settings, "HELPDESK_PUBLIC_PORT", "")
    host = f"{tenant.slug}.{settings.HELPDESK_BASE_DOMAIN}"
    if request is not None and not port:
        seen_host, _, seen_port = request.get_host().rpartition(":")
        if seen_port.isdigit() and seen_host == host:
            return f"{request.scheme}://{host}:{seen_port}"
    return f"{scheme}://{host}{':' + str(port) if port else ''}"


def ticket_thread_id(*, tenant_slug: str, ticket_id: int) -> str:
    """The stable Message-ID of a ticket's thread root: every notice about the ticket answers
    it (In-Reply-To, References), so mail clients thread them whatever the subject says."""
    return f"<ticket-{ticket_id}.{tenant_slug}@{settings.HELPDESK_BASE_DOMAIN}>"


def notice_message_id(*, tenant_slug: str, key: str) -> str:
    """A Message-ID per delivery that a retry repeats (receivers drop the duplicate)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return f"<notice-{digest}.{tenant_slug}@{settings.HELPDESK_BASE_DOMAIN}>"


def notice_headers(*, tenant_slug: str, ticket_id: int | None, key: str) -> dict[str, str]:
    headers = {
        "Message-ID": notice_message_id(tenant_slug=tenant_slug, key=key),
        # RFC 3834: machine-generated; well-behaved autoresponders stay quiet.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if ticket_id is not None:
        root = ticket_thread_id(tenant_slug=tenant_slug, ticket_id=ticket_id)
        headers["In-Reply-To"] = root
        headers["References"] = root
    return headers


@dataclass(frozen=True)
class TenantSender:
    """Who the tenant's outbound mail is from, and where answers go."""

    from_email: str
    reply_to: list[str]


def tenant_sender(tenant: Tenant) -> TenantSender:
    """The tenant's default mailbox ("Acme Support <support@acme.test>", Reply-To its reply_to
    or itself); without one, DEFAULT_FROM_EMAIL under the tenant's name, answering to the
    tenant's support address when it has one."""
    mailbox = Mailbox.objects.for_tenant(tenant).filter(is_default=True).first()
    if mailbox is not None:
        name = mailbox.display_name or tenant.name
        return TenantSender(
            from_email=formataddr((name, mailbox.address)),
            reply_to=[mailbox.reply_to or mailbox.address],
        )
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    return TenantSender(
        from_email=formataddr((tenant.name, address)),
        reply_to=[tenant.support_email] if tenant.support_email else [],
    )


def send_email(*, to: str, payload: dict[str, Any], tenant_id: int | None = None) -> None:
    """Send one rendered message (``payload``: subject, text, html, headers; optionally
    from_email, reply_to, cc, the anymail metadata and tags, and the ids of ticket attachments
    of ``tenant_id`` to attach — read from storage now, never copied into the outbox row)."""
    message = EmailMultiAlternatives(
        subject=payload.get("subject", ""),
        body=payload.get("text", ""),
        from_email=payload.get("from_email") or settings.DEFAULT_FROM_EMAIL,
        to=[to],
        cc=list(payload.get("cc") or []),
        reply_to=list(payload.get("reply_to") or []),
        headers=payload.get("headers") or {},
    )
    if payload.get("html"):
        message.attach_alternative(payload["html"], "text/html")
    # Read by anymail's backends (the bounce webhook finds the tenant in them); ignored by SMTP.
    if payload.get("metadata"):
        message.metadata = dict(payload["metadata"])  # type: ignore[attr-defined]
    if payload.get("tags"):
        message.tags = list(payload["tags"])  # type: ignore[attr-defined]
    if payload.get("attachments") and tenant_id is not None:
        from channels.email.outbound import attach_stored_files  # it imports this module

        attach_stored_files(message, tenant_id=tenant_id, attachment_ids=payload["attachments"])
    message.send(fail_silently=False)
