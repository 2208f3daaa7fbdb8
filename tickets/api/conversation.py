"""/api/v1/tickets/{id}/messages/, /attachments/ and /events/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.permissions import IsStaffMember, IsTenantMember

from ..downloads import attachment_response
from ..models import Attachment, Message, Ticket, TicketEvent
from ..selectors import (
    attachment_get_for_user,
    attachments_visible_to,
    events_for,
    messages_visible_to,
)
from ..services import attachment_add, ticket_note, ticket_reply
from .common import ConversationPagination, TicketChildMixin
from .serializers import (
    AttachmentOutput,
    AttachmentUploadInput,
    EventOutput,
    MessageInput,
    MessageOutput,
)

if TYPE_CHECKING:
    from sla.api.common import PermissionClasses


class MessageListView(TicketChildMixin, generics.ListAPIView):
    """The conversation, oldest first. Customers never see internal notes. POST: a public
    reply (``public`` true, the default) or, staff only, an internal note."""

    model = Message
    serializer_class = MessageOutput
    pagination_class = ConversationPagination

    def scoped_queryset(self) -> QuerySet[Message]:
        return messages_visible_to(ticket=self.ticket(), membership=self.membership)

    @extend_schema(request=MessageInput, responses={201: MessageOutput})
    def post(self, request: Request, ticket_pk: int) -> Response:
        with transaction.atomic():  # the ticket row stays locked from check to write
            message = self._post(self.ticket(write=True))
        message = self.scoped_queryset().get(pk=message.pk)
        return Response(
            MessageOutput(message, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def _post(self, ticket: Ticket) -> Message:
        membership = self.membership
        data = self.parse(MessageInput)
        if not data["public"] and not membership.is_staff_member:
            raise serializers.ValidationError({"public": "Customers post public replies only."})
        if "status" in data and (not data["public"] or not membership.is_staff_member):
            raise serializers.ValidationError({"status": "Only staff replies set a status."})
        attachments = list(
            Attachment.objects.for_tenant(self.tenant).filter(
                ticket=ticket, pk__in=data["attachments"], message__isnull=True
            )
        )
        if len(attachments) != len(set(data["attachments"])):
            raise serializers.ValidationError(
                {"attachments": "Unknown attachment, or already on a message."}
            )
        if not membership.is_staff_member and any(
            a.uploaded_by_id != membership.user_id for a in attachments
        ):
            raise serializers.ValidationError({"attachments": "Unknown attachment."})
        if data["public"]:
            message = ticket_reply(
                ticket=ticket,
                body=data["body"],
                author=membership.user,
                channel="api",
                status=data.get("status"),
                attachments=attachments,
            )
        else:
            message = ticket_note(
                ticket=ticket, body=data["body"], by=membership, attachments=attachments
            )
        return message


class AttachmentListView(TicketChildMixin, generics.ListAPIView):
    """The ticket's attachments (customers: the public ones). POST: multipart upload (``file``,
    optional ``message``), checked against the tenant's size limit and type allowlist."""

    model = Attachment
    serializer_class = AttachmentOutput
    pagination_class = ConversationPagination
    parser_classes = [MultiPartParser, FormParser]

    def scoped_queryset(self) -> QuerySet[Attachment]:
        return attachments_visible_to(ticket=self.ticket(), membership=self.membership)

    @extend_schema(request=AttachmentUploadInput, responses={201: AttachmentOutput})
    def post(self, request: Request, ticket_pk: int) -> Response:
        ticket = self.ticket()
        data = self.parse(AttachmentUploadInput)
        message = None
        if data.get("message") is not None:
            message = (
                messages_visible_to(ticket=ticket, membership=self.membership)
                .filter(pk=data["message"])
                .first()
            )
            if message is None:
                raise serializers.ValidationError({"message": "Unknown message."})
        upload = data["file"]
        attachment = attachment_add(
            ticket=ticket,
            upload=upload,
            filename=upload.name,
            declared_content_type=getattr(upload, "content_type", "") or "",
            by=self.membership.user,
            message=message,
        )
        return Response(
            AttachmentOutput(attachment, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


class AttachmentDownloadView(TicketChildMixin, generics.GenericAPIView):
    """The file, streamed, always ``Content-Disposition: attachment`` with
    ``X-Content-Type-Options: nosniff`` and a sandboxing CSP. ``?preview=1`` shows a raster
    image (PNG, JPEG, GIF, WebP) inline; everything else — SVG included — still downloads."""

    model = Attachment
    serializer_class = AttachmentOutput

    def scoped_queryset(self) -> QuerySet[Attachment]:
        return attachments_visible_to(ticket=self.ticket(), membership=self.membership)

    @extend_schema(
        parameters=[OpenApiParameter("preview", OpenApiTypes.BOOL, required=False)],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file."
            )
        },
    )
    def get(self, request: Request, ticket_pk: int, attachment_id: int) -> HttpResponseBase:
        attachment = attachment_get_for_user(
            ticket=self.ticket(), membership=self.membership, attachment_id=attachment_id
        )
        preview = request.query_params.get("preview") in ("1", "true", "yes")
        return attachment_response(attachment, preview=preview)


class EventListView(TicketChildMixin, generics.ListAPIView):
    """The ticket's append-only event log, oldest first: who, what, before → after, when.
    Staff only: the log names internal notes, assignees and priorities that customers do not
    see."""

    model = TicketEvent
    permission_classes: PermissionClasses = [IsTenantMember, IsStaffMember]
    serializer_class = EventOutput
    pagination_class = ConversationPagination

    def scoped_queryset(self) -> QuerySet[TicketEvent]:
        return events_for(ticket=self.ticket())

    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "tenant": self.tenant, "view": self}
