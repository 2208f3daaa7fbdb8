"""/api/v1/chats/ (list; a customer POSTs to start a chat), /api/v1/chats/<id>/ (detail; POST an
action: accept, end) and /api/v1/chats/<id>/messages/ (GET ``?after=<sequence>`` to poll, POST
``{"body"}``).

Staff see every chat of the tenant, a customer only their own; anything else is a 404. The
portal's chat widget (static/chat/chat.js) polls the messages route with the session cookie.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api.base import TenantAPIMixin
from helpdesk.api.exceptions import PROBLEM_CONTENT_TYPE, problem
from sla.api.common import TenantPrimaryKeyField, utc_iso
from sla.models import Severity

from .models import BODY_MAX, ChatMessage, ChatSession
from .selectors import chat_get_for_user, chat_messages_after, chats_visible_to
from .services import ChatUnavailable, chat_accept, chat_end, chat_post, chat_start


class ChatStrictInput(serializers.Serializer):
    """Unknown fields are a 400 naming them (a misspelt field is a client bug worth telling)."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = [k for k in data if k not in self.fields]
            if unknown:
                raise serializers.ValidationError({k: "Unknown field." for k in unknown})
        return super().to_internal_value(data)


class ChatMessageInput(ChatStrictInput):
    body = serializers.CharField(max_length=BODY_MAX, trim_whitespace=True)


class ChatStartInput(ChatStrictInput):
    body = serializers.CharField(max_length=BODY_MAX, trim_whitespace=True)


class ChatActionInput(ChatStrictInput):
    action = serializers.ChoiceField(choices=["accept", "end"])
    severity = TenantPrimaryKeyField(
        Severity,
        required=False,
        allow_null=True,
        default=None,
        help_text="end (staff): the severity of the ticket the transcript becomes.",
    )


class _PersonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class _VisitorOutput(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.EmailField()
    verified = serializers.BooleanField(help_text="Always false: typed by the visitor, unchecked.")


class _NamedRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _TicketRef(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()


class ChatOutput(serializers.Serializer):
    # Declared for the schema; the body is chat_json's.
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="waiting, active or ended")
    customer = _PersonOutput(allow_null=True, help_text="null for an anonymous visitor's chat")
    visitor = _VisitorOutput(
        allow_null=True,
        help_text="An anonymous visitor's chat: the name and address they typed (unverified).",
    )
    organization = _NamedRef(allow_null=True)
    agent = _PersonOutput(allow_null=True)
    origin = serializers.CharField()
    started_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    ticket = _TicketRef(allow_null=True)
    last_sequence = serializers.IntegerField()

    def to_representation(self, chat: ChatSession) -> dict[str, Any]:
        return chat_json(chat)


class ChatMessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    kind = serializers.CharField()
    author_name = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, message: ChatMessage) -> dict[str, Any]:
        return message_json(message)


class ChatPollOutput(serializers.Serializer):
    chat = ChatOutput()
    results = ChatMessageOutput(many=True)


def _person(membership: Any) -> dict[str, Any] | None:
    if membership is None:
        return None
    return {
        "id": membership.pk,
        "name": membership.user.name or membership.user.email,
        "email": membership.user.email,
    }


def chat_json(chat: ChatSession) -> dict[str, Any]:
    ticket = chat.ticket
    return {
        "id": chat.pk,
        "status": chat.status,
        "customer": _person(chat.customer),
        "visitor": (
            {"name": chat.visitor_name, "email": chat.visitor_email, "verified": False}
            if chat.is_visitor
            else None
        ),
        "organization": (
            {"id": chat.organization_id, "name": chat.organization.name}
            if chat.organization is not None
            else None
        ),
        "agent": _person(chat.agent),
        "origin": chat.origin,
        "started_at": utc_iso(chat.started_at),
        "accepted_at": utc_iso(chat.accepted_at),
        "ended_at": utc_iso(chat.ended_at),
        "ticket": (
            {"id": ticket.pk, "reference": ticket.reference} if ticket is not None else None
        ),
        "last_sequence": chat.last_sequence,
    }


def message_json(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": message.pk,
        "sequence": message.sequence,
        "kind": message.kind,
        "author_name": message.author_name,
        "body": message.body,
        "created_at": utc_iso(message.created_at),
    }


def unavailable_response(reason: str) -> Response:
    body = problem(status.HTTP_403_FORBIDDEN, reason, code="chat-unavailable")
    body["ticket_form"] = reverse("portal-new")
    return Response(body, status=status.HTTP_403_FORBIDDEN, content_type=PROBLEM_CONTENT_TYPE)


class ChatMixin(TenantAPIMixin):
    model = ChatSession
    kwargs: dict[str, Any]

    def scoped_queryset(self) -> QuerySet[ChatSession]:
        return chats_visible_to(tenant=self.tenant, membership=self.membership)

    def chat(self, for_update: bool = False) -> ChatSession:
        return chat_get_for_user(
            tenant=self.tenant,
            membership=self.membership,
            chat_id=self.kwargs["pk"],
            for_update=for_update,
        )

    def parse(self, cls: type[serializers.Serializer]) -> dict[str, Any]:
        data = cls(data=self.request.data, context={"tenant": self.tenant})
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)


class ChatListView(ChatMixin, generics.ListAPIView):
    """Chats, newest first: staff see the tenant's, a customer their own. ``?status=`` filters
    (waiting, active, ended). POST (customers): start a chat with a first message; 403 with the
    ticket form's address when their package has no chat."""

    serializer_class = ChatOutput

    def scoped_queryset(self) -> QuerySet[ChatSession]:
        chats = super().scoped_queryset()
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in ChatSession.Status.values:
                raise serializers.ValidationError(
                    {"status": f"One of: {', '.join(ChatSession.Status.values)}."}
                )
            chats = chats.filter(status=wanted)
        return chats

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=ChatSession.Status.values)]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ChatStartInput, responses={201: ChatOutput})
    def post(self, request: Request) -> Response:
        data = self.parse(ChatStartInput)
        try:
            chat = chat_start(tenant=self.tenant, customer=self.membership, body=data["body"])
        except ChatUnavailable as exc:
            return unavailable_response(exc.reason)
        chat = self.scoped_queryset().get(pk=chat.pk)
        return Response(chat_json(chat), status=status.HTTP_201_CREATED)


class ChatDetailView(ChatMixin, generics.GenericAPIView):
    """One chat. POST ``{"action": "accept"}`` (staff) or ``{"action": "end"}`` (its customer or
    its agent; staff may name the ``severity`` of the ticket the transcript becomes)."""

    serializer_class = ChatOutput

    def get(self, request: Request, pk: int) -> Response:
        return Response(chat_json(self.chat()))

    @extend_schema(
        request=ChatActionInput, responses={200: ChatOutput}, operation_id="chats_action"
    )
    def post(self, request: Request, pk: int) -> Response:
        chat = self.chat()  # 404 before the body is even parsed
        data = self.parse(ChatActionInput)
        membership = self.membership
        if data["action"] == "accept":
            if not membership.is_staff_member:
                raise serializers.ValidationError({"action": "Only agents accept chats."})
            chat_accept(session=chat, agent=membership)
        else:
            chat_end(session=chat, by=membership, severity=data["severity"])
        return Response(chat_json(self.scoped_queryset().get(pk=chat.pk)))


class ChatMessagesView(ChatMixin, APIView):
    """Poll: GET ``?after=<sequence>`` answers the chat's state and its messages with a higher
    sequence (oldest first, at most 200; ask again with the last one). POST ``{"body"}``: a
    message by the chat's customer or its agent."""

    @extend_schema(
        parameters=[OpenApiParameter("after", OpenApiTypes.INT, default=0)],
        responses={200: ChatPollOutput},
    )
    def get(self, request: Request, pk: int) -> Response:
        chat = self.chat()
        raw = request.query_params.get("after", "0") or "0"
        if not (raw.isascii() and raw.isdigit()):  # "²" is a digit to isdigit, not to int
            raise serializers.ValidationError({"after": "A sequence number (0 or more)."})
        messages = chat_messages_after(session=chat, after=int(raw))
        return Response({"chat": chat_json(chat), "results": [message_json(m) for m in messages]})

    @extend_schema(request=ChatMessageInput, responses={201: ChatMessageOutput})
    def post(self, request: Request, pk: int) -> Response:
        chat = self.chat()
        data = self.parse(ChatMessageInput)
        with transaction.atomic():
            message = chat_post(session=chat, by=self.membership, body=data["body"])
        return Response(message_json(message), status=status.HTTP_201_CREATED)
