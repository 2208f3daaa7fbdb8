"""The agents' chat console (``/agent/chat/``): available/away, chats waiting, my chats; and one
chat (``/agent/chat/<id>/``): accept, converse, end (the transcript becomes a ticket) or end and
open the ticket at once ("Make ticket").

The waiting list refreshes itself with htmx (the same URL answers its fragment); the
conversation polls the API like the customer's widget does.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from helpdesk.models import Membership, Tenant
from tickets.views.common import bell_template, htmx_target, staff_required
from tickets.views.errors import form_add_service_errors

from .forms import EndForm, MessageForm
from .models import ChatSession
from .selectors import chat_get_for_user, chats_of_agent, chats_recently_ended, chats_waiting
from .services import agent_set_available, chat_accept, chat_end, chat_post
from .views import POLL_INTERVAL_MS

QUEUE_REFRESH = "3s"


def _who(request: HttpRequest) -> tuple[Tenant, Membership]:
    return request.tenant, request.membership  # type: ignore[attr-defined]


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def console(request: HttpRequest) -> HttpResponse:
    tenant, membership = _who(request)
    if request.method == "POST":
        available = request.POST.get("available") == "1"
        agent_set_available(agent=membership, is_available=available)
        messages.success(
            request, _("You are available for chats.") if available else _("You are away.")
        )
        return HttpResponseRedirect(reverse("agent-chat"))
    context = {
        "waiting": list(chats_waiting(tenant=tenant)),
        "mine": list(chats_of_agent(tenant=tenant, agent=membership)),
        "ended": list(chats_recently_ended(tenant=tenant)),
        "queue_refresh": QUEUE_REFRESH,
        "current": "chat",
        "bell_template": bell_template(),
    }
    if htmx_target(request) == "chat-queue":
        return render(request, "chat/_agent_queue.html", context)
    return render(request, "chat/agent_console.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def session_page(request: HttpRequest, chat_id: int) -> HttpResponse:
    """POST ``action``: accept, send (``body``), end (optional ``severity``), ticket (end and go
    to the ticket)."""
    tenant, membership = _who(request)
    session = chat_get_for_user(tenant=tenant, membership=membership, chat_id=chat_id)
    form = MessageForm()
    end_form = EndForm(tenant=tenant)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "accept":
                chat_accept(session=session, agent=membership)
                return HttpResponseRedirect(request.path)
            if action == "send":
                form = MessageForm(request.POST)
                if form.is_valid():
                    with transaction.atomic():
                        chat_post(session=session, by=membership, body=form.cleaned_data["body"])
                    return HttpResponseRedirect(request.path + "#chat-end")
            elif action in ("end", "ticket"):
                end_form = EndForm(request.POST, tenant=tenant)
                if end_form.is_valid():
                    chat_end(
                        session=session, by=membership, severity=end_form.cleaned_data["severity"]
                    )
                    session.refresh_from_db()
                    if action == "ticket" and session.ticket is not None:
                        return HttpResponseRedirect(
                            reverse("agent-ticket", args=[session.ticket.reference])
                        )
                    if session.ticket is not None:
                        messages.success(
                            request,
                            _("The chat ended; its transcript is %(ref)s.")
                            % {"ref": session.ticket.reference},
                        )
                    return HttpResponseRedirect(request.path)
            else:
                messages.error(request, _("Unknown action."))
                return HttpResponseRedirect(request.path)
        except ValidationError as exc:
            target = end_form if action in ("end", "ticket") else form
            if action == "accept":
                for text in exc.messages:
                    messages.error(request, text)
                return HttpResponseRedirect(request.path)
            form_add_service_errors(target, exc)
        status = 400
    chat_messages = list(session.messages.order_by("sequence"))
    context = {
        "session": session,
        "chat_messages": chat_messages,
        "form": form,
        "end_form": end_form,
        "viewer": "agent",
        "mine": session.agent_id == membership.pk,
        "poll_ms": POLL_INTERVAL_MS,
        "api_url": reverse("api-chat-messages", args=[session.pk]),
        "last_sequence": chat_messages[-1].sequence if chat_messages else 0,
        "current": "chat",
        "bell_template": bell_template(),
        "Status": ChatSession.Status,
    }
    return render(request, "chat/agent_session.html", context, status=status)
