"""The inbound rules one by one: who opens, who threads, what is dropped, refused or kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from channels.email.inbound import inbound_ingest
from channels.email.models import EmailThreadId, InboundEmail, Mailbox, SuppressedAddress
from channels.email.tokens import reply_token_marker
from helpdesk.models import Membership
from tests.channels.test_inbound import PDF, SUPPORT, eml
from tests.conftest import World
from tickets.models import Attachment, Message, Ticket
from tickets.services import ticket_settings_update, ticket_transition

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "email"


def run(world: World, raw: bytes, mailbox: Mailbox | None = None) -> InboundEmail:
    return inbound_ingest(tenant=world.tenant, raw=raw, source="pipe", mailbox=mailbox)


@pytest.fixture
def mailbox(alpha: World) -> Mailbox:
    return Mailbox.objects.create(tenant=alpha.tenant, address=SUPPORT, is_default=True)


def _opened(world: World, sender: str, message_id: str = "<open@c.example>") -> Ticket:
    row = run(world, eml(sender=sender, message_id=message_id))
    assert row.outcome == "created", row.reason
    assert row.ticket is not None
    return row.ticket


def _reply(sender: str, *, to: Ticket | None = None, **kwargs: object) -> bytes:
    defaults: dict[str, object] = {
        "subject": "Re: Printer on fire",
        "body": "More smoke.",
        "message_id": f"<reply-{sender}@c.example>",
        "in_reply_to": "<open@c.example>",
    }
    defaults.update(kwargs)
    return eml(sender=sender, **defaults)


# --- Senders and the unknown-sender rule ------------------------------------------------------


def test_known_contact_is_the_requester_with_their_organization(alpha: World) -> None:
    ticket = _opened(alpha, alpha.contact1.user.email)
    assert ticket.requester_id == alpha.contact1.user_id
    assert ticket.organization_id == alpha.org1.pk
    assert not ticket.held_for_verification


def test_unknown_sender_default_is_a_pending_contact_with_a_held_ticket(alpha: World) -> None:
    alpha.org2.domains = ["newco.example"]
    alpha.org2.save(update_fields=["domains"])
    row = run(alpha, eml(sender="Nina New <nina@newco.example>"))
    assert row.outcome == "created" and "held" in row.reason
    ticket = Ticket.objects.get()
    assert ticket.held_for_verification
    contact = Membership.objects.for_tenant(alpha.tenant).get(user__email="nina@newco.example")
    assert (contact.contact_role, contact.organization_id) == ("pending", alpha.org2.pk)
    assert contact.user.name == "Nina New"


@pytest.mark.parametrize("rule", ["accept", "refuse"])
def test_unknown_sender_rule_of_the_mailbox(alpha: World, mailbox: Mailbox, rule: str) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(unknown_sender=rule)
    row = run(alpha, eml(sender="someone@nowhere.example"))  # matched by its To address
    if rule == "accept":
        assert row.outcome == "created"
        ticket = Ticket.objects.get()
        assert (ticket.requester_id, ticket.held_for_verification) == (None, False)
        assert ticket.requester_email == "someone@nowhere.example"
    else:
        assert row.outcome == "refused"
        assert not Ticket.objects.exists()
    assert not Membership.objects.filter(user__email="someone@nowhere.example").exists()


def test_deactivated_contact_is_refused(alpha: World) -> None:
    Membership.objects.filter(pk=alpha.contact2.pk).update(is_active=False)
    row = run(alpha, eml(sender=alpha.contact2.user.email))
    assert row.outcome == "refused"
    assert not Ticket.objects.exists()


# --- Threading --------------------------------------------------------------------------------


def test_each_references_entry_is_tried(alpha: World) -> None:
    ticket = _opened(alpha, alpha.contact1.user.email)
    raw = _reply(
        alpha.contact1.user.email,
        in_reply_to="<unknown@elsewhere.example>",
        references="<open@c.example> <unknown@elsewhere.example>",
    )
    row = run(alpha, raw)
    assert (row.outcome, row.ticket_id) == ("threaded", ticket.pk)


def test_our_outbound_message_id_threads_the_reply(alpha: World) -> None:
    ticket = _opened(alpha, alpha.contact1.user.email)
    EmailThreadId.objects.create(
        tenant=alpha.tenant, message_id="out-1@mail.localhost", ticket=ticket, direction="out"
    )
    row = run(alpha, _reply(alpha.contact1.user.email, in_reply_to="<out-1@mail.localhost>"))
    assert (row.outcome, row.ticket_id) == ("threaded", ticket.pk)


def test_signed_token_threads_when_headers_are_lost(alpha: World) -> None:
    ticket = _opened(alpha, alpha.contact1.user.email)
    marker = reply_token_marker(tenant_id=alpha.tenant.pk, ticket_id=ticket.pk)
    raw = _reply(alpha.contact1.user.email, in_reply_to="", subject=f"Re: fire {marker}")
    row = run(alpha, raw)
    assert (row.outcome, row.ticket_id) == ("threaded", ticket.pk)


def test_token_of_another_tenant_is_ignored(alpha: World, beta: World) -> None:
    theirs = _opened(beta, beta.contact1.user.email)
    marker = reply_token_marker(tenant_id=beta.tenant.pk, ticket_id=theirs.pk)
    row = run(alpha, _reply(alpha.contact1.user.email, in_reply_to="", subject=f"Re: {marker}"))
    assert row.outcome == "created"
    assert row.ticket is not None and row.ticket.tenant_id == alpha.tenant.pk


def test_bare_reference_threads_only_an_allowed_sender(alpha: World) -> None:
    ticket = _opened(alpha, alpha.contact1.user.email)
    ref = ticket.reference
    # The organization's owner may; a contact of another organization may not.
    owner = run(alpha, _reply(alpha.owner1.user.email, in_reply_to="", subject=f"Re: [{ref}]"))
    assert (owner.outcome, owner.ticket_id) == ("threaded", ticket.pk)
    other = run(alpha, _reply(alpha.contact2.user.email, in_reply_to="", subject=f"Re: [{ref}]"))
    assert other.outcome == "created" and other.ticket_id != ticket.pk


def test_a_cc_replies_as_themselves_and_staff_reply_as_agents(alpha: World) -> None:
    raw = eml(sender=alpha.contact1.user.email, message_id="<open@c.example>", cc="cc@x.example")
    ticket = run(alpha, raw).ticket
    assert ticket is not None
    assert run(alpha, _reply("cc@x.example")).outcome == "threaded"
    assert run(alpha, _reply(alpha.agent.user.email)).outcome == "threaded"
    cc_message, agent_message = Message.objects.filter(ticket=ticket)
    assert (cc_message.author_id, cc_message.author_email) == (None, "cc@x.example")
    assert agent_message.from_staff
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_new_recipients_of_a_reply_become_ccs(alpha: World, mailbox: Mailbox) -> None:
    ticket = _opened(alpha, alpha.contact1.user.email)
    run(alpha, _reply(alpha.contact1.user.email, cc="newbie@customer.example"))
    ticket.refresh_from_db()
    assert ticket.cc == ["newbie@customer.example"]


def test_customer_reply_reopens_a_solved_ticket(alpha: World) -> None:
    ticket = _opened(alpha, alpha.contact1.user.email)
    ticket_transition(ticket=ticket, status="open", by=alpha.agent)
    ticket_transition(ticket=ticket, status="solved", by=alpha.agent)
    assert run(alpha, _reply(alpha.contact1.user.email)).outcome == "threaded"
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_reply_to_a_closed_ticket_opens_a_follow_up(alpha: World) -> None:
    ticket = _opened(alpha, alpha.contact1.user.email)
    Ticket.objects.filter(pk=ticket.pk).update(status="closed")
    row = run(alpha, _reply(alpha.contact1.user.email))
    assert row.outcome == "created" and row.ticket_id != ticket.pk
    assert row.ticket is not None
    assert row.ticket.description.startswith(f"Follow-up to {ticket.reference}")


def test_reply_to_a_merged_ticket_goes_to_its_master(alpha: World) -> None:
    master = _opened(alpha, alpha.contact1.user.email, "<master@c.example>")
    duplicate = _opened(alpha, alpha.contact1.user.email)
    Ticket.objects.filter(pk=duplicate.pk).update(merged_into=master, status="closed")
    row = run(alpha, _reply(alpha.contact1.user.email))
    assert (row.outcome, row.ticket_id) == ("threaded", master.pk)


# --- Dropped: loops, bounces, rate limit ------------------------------------------------------


def test_our_own_message_coming_back_is_a_loop(alpha: World) -> None:
    ticket = _opened(alpha, alpha.contact1.user.email)
    EmailThreadId.objects.create(
        tenant=alpha.tenant, message_id="sent-9@mail.localhost", ticket=ticket, direction="out"
    )
    row = run(alpha, eml(sender=alpha.contact1.user.email, message_id="<sent-9@mail.localhost>"))
    assert row.outcome == "automatic" and "loop" in row.reason
    assert Ticket.objects.count() == 1


def test_loop_fixture_from_our_domain_is_automatic(alpha: World) -> None:
    with override_settings(HELPDESK_EMAIL_OWN_DOMAINS=["mail.helpdesk.test", "acme.helpdesk.test"]):
        row = run(alpha, (CORPUS / "loop_own_message.eml").read_bytes())
    assert row.outcome == "automatic"


def test_bounce_suppresses_the_failed_recipients(alpha: World) -> None:
    row = run(alpha, (CORPUS / "bounce_dsn.eml").read_bytes())
    assert row.outcome == "automatic"
    suppressed = SuppressedAddress.objects.for_tenant(alpha.tenant).get()
    assert (suppressed.address, suppressed.reason) == ("old.colleague@customer.test", "bounced")
    assert not Ticket.objects.exists()


@override_settings(HELPDESK_INBOUND_RATE_LIMIT=3, HELPDESK_INBOUND_RATE_WINDOW=600)
def test_per_sender_rate_limit(alpha: World) -> None:
    sender = alpha.contact1.user.email
    with time_machine.travel(timezone.now(), tick=False) as clock:
        outcomes = [
            run(alpha, eml(sender=sender, message_id=f"<r{i}@c.example>")).outcome for i in range(5)
        ]
        assert outcomes == ["created"] * 3 + ["rate_limited"] * 2
        # Another sender is not limited; and after the window, this one is heard again.
        assert run(alpha, eml(sender=alpha.contact2.user.email)).outcome == "created"
        clock.shift(601 + 5)
        assert run(alpha, eml(sender=sender, message_id="<later@c.example>")).outcome == "created"
    assert Ticket.objects.count() == 5


# --- Attachments and bodies -------------------------------------------------------------------


def test_refused_attachment_is_skipped_with_a_note_and_the_message_kept(alpha: World) -> None:
    ticket_settings_update(tenant=alpha.tenant, max_attachment_bytes=1024)
    raw = eml(
        sender=alpha.contact1.user.email,
        attachments=(
            ("bericht-ü.pdf", "application/pdf", PDF),
            ("tool.exe", "application/octet-stream", b"MZ\x90\x00" + b"\x00" * 100),
            ("huge.pdf", "application/pdf", PDF + b"0" * 4096),
        ),
    )
    row = run(alpha, raw)
    assert row.outcome == "created"
    ticket = Ticket.objects.get()
    assert list(Attachment.objects.filter(ticket=ticket).values_list("filename", flat=True)) == [
        "bericht-ü.pdf"
    ]
    assert "Attachments not kept" in ticket.description
    assert (
        "tool.exe (files of type application/octet-stream are not accepted)" in ticket.description
    )
    assert "huge.pdf (larger than 1.0\xa0KB)" in ticket.description
    assert "attachments not kept" in row.reason


def test_reply_attachments_belong_to_the_reply(alpha: World) -> None:
    ticket = _opened(alpha, alpha.contact1.user.email)
    raw = _reply(alpha.contact1.user.email, attachments=(("log.txt", "text/plain", b"line 1\n"),))
    run(alpha, raw)
    [reply] = Message.objects.filter(ticket=ticket)
    [attachment] = Attachment.objects.filter(ticket=ticket)
    assert attachment.message_id == reply.pk and attachment.public


def test_html_only_mail_gets_its_text_alternative(alpha: World) -> None:
    row = run(alpha, (CORPUS / "html_only.eml").read_bytes())
    assert row.outcome == "created"
    ticket = Ticket.objects.get()
    assert ticket.description.strip()
    assert "<" not in ticket.description.split("\n", 1)[0]


def test_message_without_text_or_subject_still_opens(alpha: World) -> None:
    row = run(alpha, eml(sender=alpha.contact1.user.email, subject="", body=""))
    assert row.outcome == "created"
    ticket = Ticket.objects.get()
    assert ticket.subject == "(no subject)"
    assert ticket.description == "(The message had no text.)"


@override_settings(HELPDESK_INBOUND_MAX_BYTES=1000)
def test_too_large_is_quarantined(alpha: World) -> None:
    raw = eml(sender=alpha.contact1.user.email, body="x" * 2000)
    row = run(alpha, raw)
    assert row.outcome == "quarantined" and "too large" in row.reason
    assert not Ticket.objects.exists()


def test_quarantined_retry_releases_once_it_goes_through(alpha: World) -> None:
    from channels.email.mailboxes import quarantine_retry

    raw = eml(sender=alpha.contact1.user.email)
    with override_settings(HELPDESK_INBOUND_MAX_BYTES=100):
        held = run(alpha, raw)
    assert held.outcome == "quarantined"
    with override_settings(HELPDESK_INBOUND_MAX_BYTES=50):
        again = quarantine_retry(tenant=alpha.tenant, row=held)
    assert again.pk == held.pk and again.released_at is None
    done = quarantine_retry(tenant=alpha.tenant, row=held)
    assert done.outcome == "created"
    held.refresh_from_db()
    assert held.released_at is not None
