"""The customer's chat pages (``/chat/``, ``/chat/<id>/``) and the embeddable script
(``/chat/embed.js``); an anonymous visitor's chat on the same addresses is
``channels.chat.views_visitor``'s.

Every page works as plain POST and redirect; static/chat/chat.js makes the conversation live by
polling ``/api/v1/chats/<id>/messages/?after=<sequence>``. Customers whose package has no chat
get a 403 page that links to the ticket form. The chat pages may be framed only by the origins
the tenant's admins listed (``frame-ancestors``); everything else stays ``DENY``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from helpdesk.models import Membership, Tenant
from tickets.views.common import member_required
from tickets.views.errors import form_add_service_errors

from . import views_visitor
from .forms import MessageForm, StartForm
from .framing import embedding_origin, framable
from .models import ChatSession
from .selectors import (
    chat_get_for_user,
    chat_offer_for,
    chat_open_for_customer,
    chat_settings_for,
    chats_visible_to,
)
from .services import ChatUnavailable, chat_end, chat_post, chat_start
from .views_visitor import POLL_INTERVAL_MS
from .visitors import visitor_chat_allowed


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


@require_http_methods(["GET", "HEAD", "POST"])
def chat_home(request: HttpRequest) -> HttpResponse:
    """Start a chat, or go back to the one already open. Anonymous visitors get the pre-chat form
    where the tenant lets them chat (``views_visitor``); otherwise they log in first (in a frame,
    where the login page may not be shown, a link opens it in a new window)."""
    if getattr(request, "membership", None) is None:
        if visitor_chat_allowed(tenant=_tenant(request)):
            return views_visitor.visitor_home(request)
        if request.GET.get("embed"):
            login = reverse("account_login") + "?next=" + reverse("chat-home")
            return framable(request, render(request, "chat/login_prompt.html", {"login": login}))
        return redirect_to_login(request.get_full_path())
    return _chat_home(request)


@member_required
def _chat_home(request: HttpRequest) -> HttpResponse:
    tenant, membership = _tenant(request), _membership(request)
    offer = chat_offer_for(tenant=tenant, membership=membership)
    settings = chat_settings_for(tenant=tenant)
    if membership.is_staff_member:
        context = {"reason": offer.reason, "staff": True}
        return render(request, "chat/unavailable.html", context)
    if not offer.offered:
        response = render(request, "chat/unavailable.html", {"reason": offer.reason}, status=403)
        return framable(request, response)
    if request.method == "POST":
        form = StartForm(request.POST)
        if form.is_valid():
            try:
                session = chat_start(
                    tenant=tenant,
                    customer=membership,
                    body=form.cleaned_data["body"],
                    origin=embedding_origin(request, form.cleaned_data["origin"]),
                )
            except ChatUnavailable as exc:
                context = {"reason": exc.reason}
                return render(request, "chat/unavailable.html", context, status=403)
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                return HttpResponseRedirect(reverse("chat-session", args=[session.pk]))
    else:
        open_chat = chat_open_for_customer(tenant=tenant, customer=membership)
        if open_chat is not None:
            return HttpResponseRedirect(reverse("chat-session", args=[open_chat.pk]))
        form = StartForm(initial={"origin": request.GET.get("origin", "")})
    past = chats_visible_to(tenant=tenant, membership=membership).filter(
        status=ChatSession.Status.ENDED
    )[:10]
    context = {"form": form, "settings": settings, "past": past, "package": offer.package}
    status = 400 if form.errors else 200
    return framable(request, render(request, "chat/start.html", context, status=status))


@require_http_methods(["GET", "HEAD", "POST"])
def chat_session(request: HttpRequest, chat_id: int) -> HttpResponse:
    """One chat: the conversation so far, a message box while it is open, "End chat". Staff
    see the transcript and a link to the chat console (they answer there). An anonymous
    visitor's chat opens only with their secret (``views_visitor``); a visitor's chat started
    before the admins turned visitors off may still finish. Anyone else signed out (a
    customer whose session ended) is asked to log in, whatever the chat."""
    if getattr(request, "membership", None) is None and views_visitor.has_visitor_cookie(request):
        return views_visitor.visitor_session(request, chat_id)
    return _chat_session(request, chat_id)


@member_required
def _chat_session(request: HttpRequest, chat_id: int) -> HttpResponse:
    tenant, membership = _tenant(request), _membership(request)
    session = chat_get_for_user(tenant=tenant, membership=membership, chat_id=chat_id)
    form = MessageForm()
    if request.method == "POST":
        if membership.is_staff_member:
            return HttpResponseRedirect(reverse("agent-chat-session", args=[session.pk]))
        if request.POST.get("action") == "end":
            chat_end(session=session, by=membership)
            return HttpResponseRedirect(request.path)
        form = MessageForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    chat_post(session=session, by=membership, body=form.cleaned_data["body"])
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                return HttpResponseRedirect(request.path + "#chat-end")
    messages = list(session.messages.order_by("sequence"))
    context = {
        "session": session,
        "chat_messages": messages,
        "form": form,
        "viewer": "agent" if membership.is_staff_member else "customer",
        "can_write": not membership.is_staff_member and session.is_open,
        "poll_ms": POLL_INTERVAL_MS,
        "api_url": reverse("api-chat-messages", args=[session.pk]),
        "last_sequence": messages[-1].sequence if messages else 0,
    }
    status = 400 if form.errors else 200
    return framable(request, render(request, "chat/session.html", context, status=status))


@cache
def _embed_source() -> bytes:
    found = finders.find("chat/embed.js")
    if not found:
        raise Http404("embed.js is missing")
    return Path(str(found)).read_bytes()


@require_safe
def embed_js(request: HttpRequest) -> HttpResponse:
    """The script a tenant (or its customers, seed 002) puts on their own site: a "Chat with us"
    and a "Create a ticket" button that open this tenant's portal. It is public and carries
    nothing of the tenant's data; other sites may load it (``Cross-Origin-Resource-Policy``)."""
    response = HttpResponse(_embed_source(), content_type="text/javascript; charset=utf-8")
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Cache-Control"] = "public, max-age=300"
    return response
