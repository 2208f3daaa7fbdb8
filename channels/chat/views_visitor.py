"""An anonymous visitor's chat (``channels.chat.visitors``) on the chat pages' own addresses:
``/chat/`` shows the pre-chat form (name, email address, first message), ``/chat/<id>/`` the
conversation, and ``/chat/<id>/messages/`` is the feed static/chat/chat.js polls and posts to
(members may use it too; it answers what the API's messages route answers).

**The visitor's cookie.** Starting a chat sets ``hd_chat_visitor`` = ``<chat id>:<secret>``,
signed (Django's signed cookies under a salt naming the tenant, so a cookie replayed on another
tenant's host fails its signature), HttpOnly, host-only (no Domain: the tenant's host alone),
limited to ``/chat/``, SameSite and Secure as the session cookie. Every visitor request presents
it; a chat id that is not the cookie's, a wrong secret or no cookie is a 404.

Like the logged-in chat, everything works as plain POST and redirect (CSRF on every form), and the
pages carry no inline script (strict CSP).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from helpdesk.models import Membership, Tenant
from sla.api.common import utc_iso
from tickets.views.common import viewer_zone
from tickets.views.errors import form_add_service_errors

from .api import chat_json, message_json
from .forms import MessageForm, VisitorStartForm
from .framing import embedding_origin, framable
from .models import ChatSession
from .selectors import (
    chat_get_for_user,
    chat_get_for_visitor,
    chat_messages_after,
    chat_settings_for,
)
from .services import ChatUnavailable, chat_end, chat_post
from .throttling import visitor_start_wait
from .visitors import chat_visitor_post, chat_visitor_start

VISITOR_COOKIE = "hd_chat_visitor"
COOKIE_MAX_AGE = 12 * 3600
COOKIE_PATH = "/chat/"
POLL_INTERVAL_MS = 1000  # how often the chat pages poll (customers', visitors', agents')


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _salt(tenant: Tenant) -> str:
    return f"channels.chat.visitor:{tenant.pk}"


def has_visitor_cookie(request: HttpRequest) -> bool:
    return VISITOR_COOKIE in request.COOKIES


def _credentials(request: HttpRequest) -> tuple[int, str] | None:
    """The (chat id, secret) of this browser's visitor cookie on this tenant, if valid."""
    raw = request.get_signed_cookie(
        VISITOR_COOKIE, default=None, salt=_salt(_tenant(request)), max_age=COOKIE_MAX_AGE
    )
    if not raw:
        return None
    chat_id, _sep, secret = raw.partition(":")
    if not chat_id.isdigit() or not secret:
        return None
    return int(chat_id), secret


def _set_cookie(
    request: HttpRequest, response: HttpResponse, session: ChatSession, secret: str
) -> None:
    response.set_signed_cookie(
        VISITOR_COOKIE,
        f"{session.pk}:{secret}",
        salt=_salt(_tenant(request)),
        max_age=COOKIE_MAX_AGE,
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
        httponly=True,
        samesite=settings.SESSION_COOKIE_SAMESITE,
    )


def visitor_chat_get(request: HttpRequest, chat_id: int) -> ChatSession:
    """The visitor's chat ``chat_id`` when this browser holds its secret, else Http404."""
    credentials = _credentials(request)
    if credentials is None or credentials[0] != chat_id:
        raise Http404("No such chat")
    return chat_get_for_visitor(tenant=_tenant(request), chat_id=chat_id, secret=credentials[1])


def _open_visitor_chat(request: HttpRequest) -> ChatSession | None:
    credentials = _credentials(request)
    if credentials is None:
        return None
    try:
        session = visitor_chat_get(request, credentials[0])
    except Http404:
        return None
    return session if session.is_open else None


def _render_start(
    request: HttpRequest,
    form: VisitorStartForm,
    *,
    status: int = 200,
    retry_after: int | None = None,
) -> HttpResponse:
    context = {
        "form": form,
        "settings": chat_settings_for(tenant=_tenant(request)),
        "login": reverse("account_login") + "?next=" + reverse("chat-home"),
    }
    response = render(request, "chat/visitor_start.html", context, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return framable(request, response)


def _in_viewer_zone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Times on the page in the visitor's zone (the browser's, else the tenant's), as members'
    pages show them."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        timezone.activate(viewer_zone(request))
        try:
            return view(request, *args, **kwargs)
        finally:
            timezone.deactivate()

    return wrapped


@_in_viewer_zone
def visitor_home(request: HttpRequest) -> HttpResponse:
    """``/chat/`` for an anonymous visitor where the tenant lets them chat (the caller checked):
    the pre-chat form, or back to the chat this browser has open. Preconditions: anonymous."""
    open_chat = _open_visitor_chat(request)
    if request.method != "POST":
        if open_chat is not None:
            return HttpResponseRedirect(reverse("chat-session", args=[open_chat.pk]))
        return _render_start(
            request, VisitorStartForm(initial={"origin": request.GET.get("origin", "")})
        )
    form = VisitorStartForm(request.POST)
    if not form.is_valid():
        return _render_start(request, form, status=400)
    if open_chat is not None:
        # A second tab: the message joins the chat already open (no new chat, nothing counted).
        try:
            chat_visitor_post(session=open_chat, body=form.cleaned_data["body"])
        except ValidationError as exc:
            form_add_service_errors(form, exc)
            return _render_start(request, form, status=400)
        return HttpResponseRedirect(reverse("chat-session", args=[open_chat.pk]))
    wait = visitor_start_wait(request)
    if wait is not None:
        form.add_error(
            None,
            _("Too many chats were started. Try again in %(n)d seconds, or file a ticket.")
            % {"n": wait},
        )
        return _render_start(request, form, status=429, retry_after=wait)
    try:
        session, secret = chat_visitor_start(
            tenant=_tenant(request),
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            body=form.cleaned_data["body"],
            origin=embedding_origin(request, form.cleaned_data["origin"]),
        )
    except ChatUnavailable as exc:
        response = render(request, "chat/unavailable.html", {"reason": exc.reason}, status=403)
        return framable(request, response)
    except ValidationError as exc:
        form_add_service_errors(form, exc)
        return _render_start(request, form, status=400)
    response = HttpResponseRedirect(reverse("chat-session", args=[session.pk]))
    _set_cookie(request, response, session, secret)
    return response


@_in_viewer_zone
def visitor_session(request: HttpRequest, chat_id: int) -> HttpResponse:
    """``/chat/<id>/`` for an anonymous visitor: the conversation, a message box while it is
    open, "End chat". POST ``action``: send (``body``) or end."""
    session = visitor_chat_get(request, chat_id)
    form = MessageForm()
    if request.method == "POST":
        if request.POST.get("action") == "end":
            chat_end(session=session, by=None, by_visitor=True)
            return HttpResponseRedirect(request.path)
        form = MessageForm(request.POST)
        if form.is_valid():
            try:
                chat_visitor_post(session=session, body=form.cleaned_data["body"])
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                return HttpResponseRedirect(request.path + "#chat-end")
        session.refresh_from_db()
    messages = list(session.messages.order_by("sequence"))
    context = {
        "session": session,
        "chat_messages": messages,
        "form": form,
        "viewer": "customer",
        "visitor": True,
        "can_write": session.is_open,
        "poll_ms": POLL_INTERVAL_MS,
        "api_url": reverse("chat-messages", args=[session.pk]),
        "last_sequence": messages[-1].sequence if messages else 0,
    }
    status = 400 if form.errors else 200
    return framable(request, render(request, "chat/session.html", context, status=status))


def visitor_chat_json(chat: ChatSession) -> dict[str, Any]:
    """What a visitor's poll says of their chat: its state and who answers, nothing else (no
    ticket, no organization, no addresses)."""
    agent = chat.agent
    return {
        "id": chat.pk,
        "status": chat.status,
        "agent": ({"name": agent.user.name or agent.user.email} if agent is not None else None),
        "started_at": utc_iso(chat.started_at),
        "ended_at": utc_iso(chat.ended_at),
        "ticket": None,
        "last_sequence": chat.last_sequence,
    }


def _problem(errors: dict[str, list[str]], status: int = 400) -> JsonResponse:
    detail = " ".join(text for texts in errors.values() for text in texts)
    return JsonResponse({"detail": detail, "errors": errors}, status=status)


def _posted_body(request: HttpRequest) -> str | None:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("body"), str):
        return None
    return data["body"]


@require_http_methods(["GET", "HEAD", "POST"])
def chat_messages(request: HttpRequest, chat_id: int) -> HttpResponse:
    """The feed of one chat: GET ``?after=<sequence>`` answers the chat's state and its messages
    with a higher sequence (at most 200); POST ``{"body"}`` writes one. For the chat's visitor
    (with their secret) and for members who may see the chat; anyone else gets a 404."""
    membership: Membership | None = getattr(request, "membership", None)
    tenant = _tenant(request)
    if membership is not None:
        session = chat_get_for_user(tenant=tenant, membership=membership, chat_id=chat_id)
    else:
        session = visitor_chat_get(request, chat_id)
    if request.method == "POST":
        body = _posted_body(request)
        if body is None:
            return _problem({"body": [_('Send JSON like {"body": "…"}.')]})
        try:
            with transaction.atomic():
                if membership is None:
                    message = chat_visitor_post(session=session, body=body)
                else:
                    message = chat_post(session=session, by=membership, body=body)
        except ValidationError as exc:
            return _problem(exc.message_dict)
        response = JsonResponse(message_json(message), status=201)
    else:
        raw = request.GET.get("after", "0") or "0"
        if not (raw.isascii() and raw.isdigit()):  # "²" is a digit to isdigit, not to int
            return _problem({"after": [_("A sequence number (0 or more).")]})
        results = [message_json(m) for m in chat_messages_after(session=session, after=int(raw))]
        chat = visitor_chat_json(session) if membership is None else chat_json(session)
        response = JsonResponse({"chat": chat, "results": results})
    response["Cache-Control"] = "no-store"
    return response
