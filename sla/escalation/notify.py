"""What an escalation tells whom: the notices (email, in-app, pager) and the webhook events.

Webhook events follow the chain of an eligible clock: level 0 emits ``sla.warning``; the first
level at or after breach emits ``sla.breached``; every level >= 1 emits ``escalation.fired``
(and so does a customer's escalation, with ``"kind": "customer"``).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.urls import NoReverseMatch, reverse

from channels.notifications.emails import render_email, tenant_base_url
from channels.notifications.models import Notification, NotificationDelivery
from channels.notifications.services import Notice, Recipient, notice_send
from channels.webhooks.services import webhook_emit, webhook_subscriptions_active
from tickets.models import Ticket

from ..models import Escalation, EscalationPolicy, Metric, SLAClock
from .rules import Level, is_urgent, quiet_until


def escalation_source_key(escalation: Escalation) -> str:
    return f"esc:{escalation.pk}"


@cache
def _agent_ticket_path() -> tuple[str, str] | None:
    """The agent workspace's ticket URL with a placeholder, and what the placeholder stands
    for ("reference" or "pk"), if the workspace has such a page."""
    for kwarg, sample in (("reference", "ZZ-987654321"), ("pk", "987654321")):
        try:
            path = reverse("agent-ticket", kwargs={kwarg: sample}, urlconf="helpdesk.urls")
        except NoReverseMatch:
            continue
        return path.replace(sample, "{}"), kwarg
    return None


def ticket_agent_url(ticket: Ticket) -> str:
    """Where an agent opens the ticket: the workspace's ticket page once it exists, else the
    notifications page (which links on)."""
    found = _agent_ticket_path()
    if found is None:
        tail = "/agent/notifications/"
    else:
        path, kwarg = found
        tail = path.format(ticket.reference if kwarg == "reference" else ticket.pk)
    return tenant_base_url(ticket.tenant) + tail


def escalation_output(escalation: Escalation) -> dict[str, Any]:
    """The shape of an escalation in the ticket resource and in webhooks."""
    return {
        "id": escalation.pk,
        "kind": escalation.kind,
        "metric": escalation.metric,
        "level": escalation.level,
        "due_at": _iso(escalation.due_at),
        "fired_at": _iso(escalation.fired_at),
        "recipients": list(escalation.recipients),
        "cancelled_at": _iso(escalation.cancelled_at),
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def _payload(escalation: Escalation, ticket: Ticket) -> dict[str, Any]:
    return {
        "escalation": escalation_output(escalation),
        "ticket": {
            "id": ticket.pk,
            "reference": ticket.reference,
            "subject": ticket.subject,
            "severity": ticket.severity_id,
            "organization": ticket.organization_id,
            "assignee": ticket.assignee_id,
            "team": ticket.team_id,
        },
    }


def _local(at: dt.datetime | None, zone: str) -> str:
    if at is None:
        return ""
    try:
        tz = ZoneInfo(zone or "UTC")
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    return at.astimezone(tz).strftime("%a %d %b %Y %H:%M %Z")


def escalation_notify(
    *,
    escalation: Escalation,
    recipients: list[Recipient],
    level: Level,
    ticket: Ticket,
    clock: SLAClock,
    policy: EscalationPolicy,
    now: dt.datetime,
    breach_level: int | None,
) -> None:
    """Write the notices and webhook events of a level that just fired.

    Precondition: inside the fire's transaction (so they exist exactly when the row does).
    """
    tenant = ticket.tenant
    warning = level.level == 0
    # Rules doc: a warning caught up on a clock already past due says nothing the breach
    # notices do not say better: recorded, not sent.
    superseded = warning and clock.due_at is not None and clock.due_at <= now
    severity = ticket.severity
    urgent = is_urgent(
        level=level.level, severity_rank=severity.rank if severity else None, policy=policy
    )
    metric = Metric(clock.metric).label if clock.metric in Metric.values else clock.metric
    url = ticket_agent_url(ticket)
    context = {
        "tenant": tenant,
        "ticket": ticket,
        "reference": ticket.reference,
        "metric": metric,
        "level": level.level,
        "warning": warning,
        "severity": severity.name if severity else "",
        "due_at": _local(clock.due_at, tenant.time_zone),
        "warn_at": _local(clock.warn_at, tenant.time_zone),
        "recipients": [r.email for r in recipients],
        "url": url,
    }
    if warning:
        text = f"{ticket.reference}: {metric} due {context['due_at']} (SLA warning)"
    else:
        text = f"{ticket.reference}: {metric} breached — escalation level {level.level}"
    deliveries = notice_send(
        notice=Notice(
            tenant_id=tenant.pk,
            tenant_slug=tenant.slug,
            source_key=escalation_source_key(escalation),
            kind=Notification.Kind.SLA_WARNING if warning else Notification.Kind.SLA_ESCALATION,
            text=text,
            email=render_email("sla_escalation", context),
            ticket_id=ticket.pk,
            url=url,
            reference=ticket.reference,
        ),
        recipients=recipients,
        channels=level.channels,
        now=now,
        hold=None if urgent else (lambda r: quiet_until(now, r.time_zone, policy)),
        skip_reason="Superseded: the clock was already breached." if superseded else "",
        fresh=True,
    )
    if any(
        d.status == NotificationDelivery.Status.PENDING and d.next_attempt_at > now
        for d in deliveries
    ):
        escalation.notices_pending = True
        Escalation.objects.filter(pk=escalation.pk).update(notices_pending=True)
    payload = _payload(escalation, ticket)
    key = f"esc-{escalation.pk}"
    events = [("sla.warning", "warning")] if warning else []
    if not warning and level.level == breach_level:
        events.append(("sla.breached", "breach"))
    if not warning:
        events.append(("escalation.fired", "fired"))
    subscriptions = webhook_subscriptions_active(tenant.pk)
    for event, suffix in events:
        webhook_emit(
            tenant=tenant,
            event=event,
            payload=payload,
            event_id=f"{key}-{suffix}",
            subscriptions=subscriptions,
        )


def customer_escalation_notify(
    *,
    escalation: Escalation,
    recipients: list[Recipient],
    ticket: Ticket,
    policy: EscalationPolicy,
    now: dt.datetime,
) -> None:
    """Notices and webhook of a customer's escalation (precondition: its transaction)."""
    tenant = ticket.tenant
    severity = ticket.severity
    urgent = is_urgent(level=1, severity_rank=severity.rank if severity else None, policy=policy)
    by = escalation.raised_by.user.email if escalation.raised_by else ""
    url = ticket_agent_url(ticket)
    context = {"tenant": tenant, "ticket": ticket, "reference": ticket.reference, "by": by}
    notice_send(
        notice=Notice(
            tenant_id=tenant.pk,
            tenant_slug=tenant.slug,
            source_key=escalation_source_key(escalation),
            kind=Notification.Kind.CUSTOMER_ESCALATION,
            text=f"{ticket.reference}: escalated by the customer ({by})",
            email=render_email("customer_escalation", context),
            ticket_id=ticket.pk,
            url=url,
            reference=ticket.reference,
        ),
        recipients=recipients,
        channels=["email", "inapp"],
        now=now,
        hold=None if urgent else (lambda r: quiet_until(now, r.time_zone, policy)),
        fresh=True,
    )
    webhook_emit(
        tenant=tenant,
        event="escalation.fired",
        payload=_payload(escalation, ticket),
        event_id=f"esc-{escalation.pk}-customer",
    )
