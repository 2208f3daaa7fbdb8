"""``{% chat_launcher %}``: the portal's "Chat with us" button, shown only to customers whose
package includes chat (a plain link: it works without JavaScript)."""

from __future__ import annotations

from typing import Any

from django import template

from ..selectors import chat_offer_for, chat_open_for_customer

register = template.Library()


@register.inclusion_tag("chat/_launcher_button.html", takes_context=True)
def chat_launcher(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    if membership is None or tenant is None or membership.is_staff_member:
        return {"offered": False}
    if not chat_offer_for(tenant=tenant, membership=membership).offered:
        return {"offered": False}
    open_chat = chat_open_for_customer(tenant=tenant, customer=membership)
    return {"offered": True, "open_chat": open_chat}
