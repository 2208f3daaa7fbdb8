"""``{% load phone_tags %}{% phone_code_panel %}``: the contact's personal code on a portal page
(the portal's home includes it; nothing for staff, nor for contacts without phone support)."""

from __future__ import annotations

from typing import Any

from django import template

from ..views import portal_panel

register = template.Library()


@register.inclusion_tag("phone/_portal_code.html", takes_context=True)
def phone_code_panel(context: template.Context, compact: bool = True) -> dict[str, Any]:
    request = context.get("request")
    panel = portal_panel(context.get("membership"))
    if compact and not (panel.get("phone_code")):
        # On pages other than the phone page itself, contacts without phone see nothing.
        panel["phone_shown"] = False
    return {
        **panel,
        "csrf_token": context.get("csrf_token"),
        "next": request.get_full_path() if request is not None else "",
    }
