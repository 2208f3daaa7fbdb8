"""Cross-tenant sweep makers of the chat channel: a chat of tenant A (with a message that carries
A's marker), made directly so that it needs no package set-up."""

from __future__ import annotations

from typing import Any

from channels.chat.models import ChatMessage, ChatSession
from tests.conftest import World


def _chat(world: World) -> int:
    chat = world.extra.get("sweep_chat")
    if chat is None:
        chat = world.extra["sweep_chat"] = ChatSession.objects.create(
            tenant=world.tenant, customer=world.contact1, organization=world.org1, last_sequence=1
        )
        ChatMessage.objects.create(
            tenant=world.tenant,
            session=chat,
            kind=ChatMessage.Kind.CUSTOMER,
            author=world.contact1.user,
            author_name=world.contact1.user.email,
            body="ALPHA-SECRET chat message",
            sequence=1,
        )
    return chat.pk


MODEL_MAKERS: dict[type, Any] = {ChatSession: _chat}
KWARG_MAKERS: dict[str, Any] = {"chat_id": _chat}
