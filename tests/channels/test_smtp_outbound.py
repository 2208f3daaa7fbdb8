"""Outbound ticket mail against a real SMTP server (aiosmtpd on a free local port): public replies
reach the requester and the CCs, threaded and from the tenant's address; internal notes never
leave; suppressed addresses are left out; a retried task sends nothing twice; notices carry the
tenant's From and Auto-Submitted; a ticket opened by email is acknowledged once."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from channels.email import outbound
from channels.email.bounces import address_suppress, address_unsuppress
from channels.email.models import EmailThreadId, Mailbox
from channels.email.outbound import (
    ticket_acknowledgement_prepare,
    ticket_mail_sweep,
    ticket_reply_mail_prepare,
)
from channels.email.tokens import reply_token_marker
from channels.notifications.emails import EmailContent, ticket_thread_id
from channels.notifications.models import NotificationDelivery
from channels.notifications.services import Notice, Recipient, notice_send, notification_deliver
from channels.notifications.tasks import deliver_email
from helpdesk.celery import app as celery_app
from tests.conftest import World
from tickets.models import Message, Ticket
from tickets.services import attachment_add, ticket_create, ticket_note, ticket_reply

Capture = Callable[..., Any]


class Sink:
    """Keeps every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]

    def recipients(self, index: int = 0) -> set[str]:
        return {r.lower() for r in self.envelopes[index].rcpt_tos}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(tmp_path: Any) -> Iterator[Sink]:
    """A real SMTP server; Django's SMTP backend pointed at it; Celery tasks run eagerly (the
    on-commit task of a reply, then the delivery task it queues); uploads in a temp folder."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    eager = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            MEDIA_ROOT=str(tmp_path),
        ):
            yield sink
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = eager
        controller.stop()


def _mailbox(world: World) -> Mailbox:
    return Mailbox.objects.create(
        tenant=world.tenant,
        address=f"support@{world.tenant.slug}.test",
        display_name=f"{world.tenant.name} Support",
        reply_to=f"replies@{world.tenant.slug}.test",
        is_default=True,
    )


def _ticket(world: World, capture: Capture, **kwargs: Any) -> Ticket:
    fields: dict[str, Any] = {
        "tenant": world.tenant,
        "subject": "Printer on fire",
        "requester": world.contact1.user,
        "requester_email": world.contact1.user.email,
        "cc": [world.owner1.user.email, "outside@example.test"],
        **kwargs,
    }
    with capture(execute=True):
        return ticket_create(**fields)


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _thread_out(reply: Message) -> EmailThreadId:
    return EmailThreadId.objects.get(ticket_message=reply, direction="out")


def test_agent_reply_reaches_requester_and_ccs_with_every_header(
    alpha: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    _mailbox(alpha)
    ticket = _ticket(alpha, django_capture_on_commit_callbacks)
    # The customer wrote by email earlier: the reply answers that message.
    EmailThreadId.objects.create(
        tenant=alpha.tenant, ticket=ticket, message_id="cust-1@mail.example.test", direction="in"
    )
    with django_capture_on_commit_callbacks(execute=True):
        upload = attachment_add(
            ticket=ticket,
            upload=ContentFile(b"%PDF-1.4 quote", name="Angebot für Müller.pdf"),
            by=alpha.agent.user,
        )
        reply = ticket_reply(
            ticket=ticket,
            body="We sent a **technician**.",
            author=alpha.agent.user,
            attachments=[upload],
        )
    assert len(smtp.envelopes) == 1
    assert smtp.recipients() == {"c1@alpha.test", "o1@alpha.test", "outside@example.test"}
    [mail] = smtp.messages
    assert mail["To"] == "c1@alpha.test"
    assert {a.strip() for a in str(mail["Cc"]).split(",")} == {
        "o1@alpha.test",
        "outside@example.test",
    }
    assert mail["Subject"] == f"[{ticket.reference}] Printer on fire"
    assert mail["From"] == "Alpha Support <support@alpha.test>"
    assert mail["Reply-To"] == "replies@alpha.test"
    # The Message-ID was stored before the send, and is the one that left.
    stored = _thread_out(reply)
    assert mail["Message-ID"] == f"<{stored.message_id}>"
    assert stored.message_id.endswith("@alpha.localhost")
    root = ticket_thread_id(tenant_slug="alpha", ticket_id=ticket.pk)
    assert mail["In-Reply-To"] == "<cust-1@mail.example.test>"
    assert str(mail["References"]).split() == [root, "<cust-1@mail.example.test>"]
    assert mail["Auto-Submitted"] is None  # a person wrote this one
    text = _body_text(mail)
    assert "We sent a **technician**." in text
    assert reply_token_marker(tenant_id=alpha.tenant.pk, ticket_id=ticket.pk) in text
    html = mail.get_body(preferencelist=("html",))
    assert html is not None and "<strong>technician</strong>" in str(html.get_content())
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "Angebot für Müller.pdf"
    assert attached.get_content() == b"%PDF-1.4 quote"
    delivery = NotificationDelivery.objects.get(source_key=f"mail:reply:{reply.pk}")
    assert delivery.status == "sent"


def test_without_a_mailbox_mail_is_from_the_installation_under_the_tenant_name(
    alpha: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = _ticket(alpha, django_capture_on_commit_callbacks, cc=[])
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, body="Hello", author=alpha.agent.user)
    [mail] = smtp.messages
    assert mail["From"] == "Alpha <helpdesk@localhost>"
    # No earlier mail: the reply answers the ticket's thread root.
    root = ticket_thread_id(tenant_slug="alpha", ticket_id=ticket.pk)
    assert mail["In-Reply-To"] == root
    assert mail["References"] == root


def test_internal_note_is_never_mailed(
    alpha: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    _mailbox(alpha)
    ticket = _ticket(alpha, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        note = ticket_note(ticket=ticket, body="Customer is difficult", by=alpha.agent)
    assert smtp.envelopes == []
    assert ticket_reply_mail_prepare(tenant_id=alpha.tenant.pk, message_id=note.pk) is None
    assert not EmailThreadId.objects.filter(ticket_message=note).exists()
    assert not NotificationDelivery.objects.filter(ticket=ticket).exists()
    # The sweep does not pick it up either.
    assert ticket_mail_sweep(now=timezone.now() + dt.timedelta(minutes=5)) == 0
    assert smtp.envelopes == []


def test_suppressed_addresses_are_left_out_before_and_after_queueing(
    alpha: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = _ticket(alpha, django_capture_on_commit_callbacks)
    address_suppress(tenant=alpha.tenant, address="Outside@Example.test", reason="bounced")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, body="First", author=alpha.agent.user)
    assert smtp.recipients(0) == {"c1@alpha.test", "o1@alpha.test"}
    assert "outside@example.test" not in str(smtp.messages[0]["Cc"] or "")

    # Suppressed between the outbox row and the send (a bounce came in meanwhile): the
    # requester gives way to the CC left.
    with transaction.atomic():
        reply = ticket_reply(ticket=ticket, body="Second", author=alpha.agent.user)
        delivery = ticket_reply_mail_prepare(tenant_id=alpha.tenant.pk, message_id=reply.pk)
    assert delivery is not None and delivery.recipient == "c1@alpha.test"
    address_suppress(tenant=alpha.tenant, address="c1@alpha.test", reason="complained")
    assert notification_deliver(delivery_id=delivery.pk) == "sent"
    assert smtp.recipients(1) == {"o1@alpha.test"}
    assert smtp.messages[1]["To"] == "o1@alpha.test"

    # Everyone suppressed: recorded as skipped, nothing sent.
    address_suppress(tenant=alpha.tenant, address="o1@alpha.test", reason="bounced")
    with django_capture_on_commit_callbacks(execute=True):
        third = ticket_reply(ticket=ticket, body="Third", author=alpha.agent.user)
    assert len(smtp.envelopes) == 2
    skipped = NotificationDelivery.objects.get(source_key=f"mail:reply:{third.pk}")
    assert skipped.status == "skipped"

    # Lifted: mail flows to the address again.
    assert address_unsuppress(tenant=alpha.tenant, address="C1@alpha.test") is True
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, body="Fourth", author=alpha.agent.user)
    assert smtp.recipients(2) == {"c1@alpha.test"}


def test_suppression_is_per_tenant(
    alpha: World, beta: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    address_suppress(tenant=beta.tenant, address="outside@example.test", reason="bounced")
    ticket = _ticket(alpha, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, body="Hi", author=alpha.agent.user)
    assert "outside@example.test" in smtp.recipients()


def test_retried_tasks_send_nothing_twice(
    alpha: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = _ticket(alpha, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=ticket, body="Once", author=alpha.agent.user)
    assert len(smtp.envelopes) == 1
    message_id = _thread_out(reply).message_id
    # The preparation task runs again (a redelivered message, a second worker, the sweep) …
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound.prepare_reply_mail.apply(args=(alpha.tenant.pk, reply.pk)).get() is False
    assert ticket_mail_sweep(now=timezone.now() + dt.timedelta(minutes=5)) == 0
    # … and so does the delivery task.
    delivery = NotificationDelivery.objects.get(source_key=f"mail:reply:{reply.pk}")
    assert deliver_email.apply(args=([delivery.pk],)).get() == {"not-due": 1}
    assert len(smtp.envelopes) == 1
    assert EmailThreadId.objects.filter(ticket_message=reply).count() == 1
    assert _thread_out(reply).message_id == message_id


def test_the_sweep_prepares_a_reply_whose_task_was_lost(
    alpha: World,
    smtp: Sink,
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticket = _ticket(alpha, django_capture_on_commit_callbacks, cc=[])
    # The broker is down when the reply commits: the task never runs.
    monkeypatch.setattr(outbound.prepare_reply_mail, "apply_async", lambda *a, **k: None)
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=ticket, body="Lost?", author=alpha.agent.user)
    assert smtp.envelopes == []
    # Too recent: left to the task for a grace period.
    assert ticket_mail_sweep() == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert ticket_mail_sweep(now=timezone.now() + dt.timedelta(minutes=2)) == 1
    assert len(smtp.envelopes) == 1
    assert smtp.messages[0]["Message-ID"] == f"<{_thread_out(reply).message_id}>"


def test_which_public_replies_are_mailed_to_whom(
    alpha: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = _ticket(alpha, django_capture_on_commit_callbacks)
    # The requester in the portal: the CCs get it, the author does not.
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, body="Any news?", author=alpha.contact1.user)
    assert smtp.recipients(0) == {"o1@alpha.test", "outside@example.test"}
    assert smtp.messages[0]["To"] == "o1@alpha.test"
    # A customer's mail: they already sent it to whom they meant.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        by_mail = ticket_reply(
            ticket=ticket,
            body="By mail",
            author=alpha.owner1.user,
            channel=Ticket.Channel.EMAIL,
            email_message_id="mail-2@mail.example.test",
        )
        EmailThreadId.objects.create(
            tenant=alpha.tenant,
            ticket=ticket,
            ticket_message=by_mail,
            message_id="mail-2@mail.example.test",
            direction="in",
        )
    # An agent's line in a live chat: the customer read it live.
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, body="Chat", author=alpha.agent.user, channel="chat")
    assert len(smtp.envelopes) == 1
    # An agent answering by email does reach the customer.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        from_phone = ticket_reply(
            ticket=ticket,
            body="From my phone",
            author=alpha.agent.user,
            channel=Ticket.Channel.EMAIL,
            email_message_id="agent-3@mail.example.test",
        )
        EmailThreadId.objects.create(
            tenant=alpha.tenant,
            ticket=ticket,
            ticket_message=from_phone,
            message_id="agent-3@mail.example.test",
            direction="in",
        )
    assert len(smtp.envelopes) == 2
    assert smtp.recipients(1) == {"c1@alpha.test", "o1@alpha.test", "outside@example.test"}
    # The customer's latest mail is the one answered, not the agent's own mail to us.
    assert smtp.messages[1]["In-Reply-To"] == "<mail-2@mail.example.test>"
    assert "agent-3" not in str(smtp.messages[1]["References"])


def test_tenant_mailboxes_among_the_ccs_are_never_written_to(
    alpha: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    _mailbox(alpha)
    ticket = _ticket(alpha, django_capture_on_commit_callbacks, cc=["support@alpha.test"])
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, body="Hi", author=alpha.agent.user)
    assert smtp.recipients() == {"c1@alpha.test"}


@override_settings(HELPDESK_EMAIL_ATTACHMENTS_MAX_BYTES=20)
def test_attachments_beyond_the_cap_are_linked_not_attached(
    alpha: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = _ticket(alpha, django_capture_on_commit_callbacks, cc=[])
    with django_capture_on_commit_callbacks(execute=True):
        small = attachment_add(
            ticket=ticket, upload=ContentFile(b"small notes", name="a.txt"), by=alpha.agent.user
        )
        big = attachment_add(
            ticket=ticket,
            upload=ContentFile(b"a much larger log file", name="big.log"),
            by=alpha.agent.user,
        )
        ticket_reply(ticket=ticket, body="Files", author=alpha.agent.user, attachments=[small, big])
    [mail] = smtp.messages
    assert [a.get_filename() for a in mail.iter_attachments()] == ["a.txt"]
    text = _body_text(mail)
    link = f"/tickets/{ticket.reference}/attachments/{big.pk}/"
    assert "big.log" in text and link in text
    # The link is the authorised download: the requester gets the file, another tenant not.
    response = alpha.client(alpha.contact1).get(link)
    assert response.status_code == 200


def test_notice_email_carries_the_tenant_from_and_auto_submitted(
    alpha: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    _mailbox(alpha)
    ticket = _ticket(alpha, django_capture_on_commit_callbacks, cc=[])
    notice = Notice(
        tenant_id=alpha.tenant.pk,
        tenant_slug="alpha",
        source_key="test-notice:1",
        kind="sla_warning",
        text="Due soon",
        email=EmailContent(f"[{ticket.reference}] SLA warning", "Due soon", "<p>Due soon</p>"),
        ticket_id=ticket.pk,
    )
    with django_capture_on_commit_callbacks(execute=True):
        notice_send(
            notice=notice, recipients=[Recipient(alpha.agent.user.email)], channels=["email"]
        )
    [mail] = smtp.messages
    assert mail["From"] == "Alpha Support <support@alpha.test>"
    assert mail["Reply-To"] == "replies@alpha.test"
    assert mail["Auto-Submitted"] == "auto-generated"
    # Its Message-ID is recorded (as inbound threading looks it up) for the ticket.
    recorded = EmailThreadId.objects.get(ticket=ticket, direction="out", ticket_message=None)
    assert mail["Message-ID"] == f"<{recorded.message_id}>"
    # A suppressed notice recipient is skipped.
    address_suppress(tenant=alpha.tenant, address=alpha.lead.user.email, reason="bounced")
    with django_capture_on_commit_callbacks(execute=True):
        [row] = notice_send(
            notice=notice, recipients=[Recipient(alpha.lead.user.email)], channels=["email"]
        )
    row.refresh_from_db()
    assert row.status == "skipped"
    assert len(smtp.envelopes) == 1


def _email_ticket(world: World, capture: Capture, **kwargs: Any) -> Ticket:
    """A ticket opened by email as the inbound pipeline does it: the ticket and the customer's
    Message-ID in one transaction."""
    with capture(execute=True), transaction.atomic():
        ticket = ticket_create(
            tenant=world.tenant,
            subject="Invoice question",
            requester=world.contact1.user,
            requester_email=world.contact1.user.email,
            channel=Ticket.Channel.EMAIL,
            cc=["colleague@example.test"],
            **kwargs,
        )
        EmailThreadId.objects.create(
            tenant=world.tenant,
            ticket=ticket,
            message_id="open-1@mail.example.test",
            direction="in",
        )
    return ticket


def test_a_ticket_opened_by_email_is_acknowledged_once(
    alpha: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    _mailbox(alpha)
    ticket = _email_ticket(alpha, django_capture_on_commit_callbacks)
    assert len(smtp.envelopes) == 1
    assert smtp.recipients() == {"c1@alpha.test"}  # the CCs were on the customer's own mail
    [mail] = smtp.messages
    assert mail["Subject"] == f"[{ticket.reference}] Invoice question"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["In-Reply-To"] == "<open-1@mail.example.test>"
    assert mail["From"] == "Alpha Support <support@alpha.test>"
    assert reply_token_marker(tenant_id=alpha.tenant.pk, ticket_id=ticket.pk) in _body_text(mail)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            ticket_acknowledgement_prepare(tenant_id=alpha.tenant.pk, ticket_id=ticket.pk) is None
        )
        assert ticket_mail_sweep(now=timezone.now() + dt.timedelta(minutes=5)) == 0
    assert len(smtp.envelopes) == 1
    # The agent's reply then answers the customer's mail and references the acknowledgement.
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, body="Paid.", author=alpha.agent.user)
    reply = smtp.messages[1]
    assert reply["In-Reply-To"] == "<open-1@mail.example.test>"
    assert mail["Message-ID"] in str(reply["References"]).split()
    assert smtp.recipients(1) == {"c1@alpha.test", "colleague@example.test"}


def test_no_acknowledgement_for_web_held_or_disabled(
    alpha: World, smtp: Sink, django_capture_on_commit_callbacks: Capture
) -> None:
    _ticket(alpha, django_capture_on_commit_callbacks)  # the web form
    with django_capture_on_commit_callbacks(execute=True):
        held = ticket_create(
            tenant=alpha.tenant,
            subject="From a stranger",
            requester_email="stranger@example.test",
            channel=Ticket.Channel.EMAIL,
        )
        Ticket.objects.filter(pk=held.pk).update(held_for_verification=True)
    assert ticket_acknowledgement_prepare(tenant_id=alpha.tenant.pk, ticket_id=held.pk) is None
    with override_settings(HELPDESK_EMAIL_ACKNOWLEDGE=False):
        _email_ticket(alpha, django_capture_on_commit_callbacks)
    assert [m["Subject"] for m in smtp.messages if "stranger" in str(m["To"])] == []
    assert all(m["Auto-Submitted"] is None for m in smtp.messages)
