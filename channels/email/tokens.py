"""Signed reply tokens: ``[#hd-<token>]`` in the subject or body of our outbound mail names the
ticket a reply belongs to, when a mail client dropped In-Reply-To and References.

The token signs (tenant id, ticket id) with the project's SECRET_KEY, so it cannot be forged or
moved to another tenant; it says nothing about who may use it: the inbound rules still thread a
message only when its sender is the requester, a CC or an allowed member of the organization.
"""

from __future__ import annotations

from django.core import signing

_SALT = "helpdesk.email.reply-token"


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT)


def reply_token(*, tenant_id: int, ticket_id: int) -> str:
    """The token for a ticket (stable: the same ticket always gives the same token)."""
    return _signer().sign(f"{tenant_id}.{ticket_id}")


def reply_token_marker(*, tenant_id: int, ticket_id: int) -> str:
    """The token as outbound mail carries it (see references.find_reply_tokens)."""
    return f"[#hd-{reply_token(tenant_id=tenant_id, ticket_id=ticket_id)}]"


def reply_token_ticket_id(token: str, *, tenant_id: int) -> int | None:
    """The ticket id a token names, if its signature verifies and it belongs to ``tenant_id``;
    else None. Never raises."""
    try:
        value = _signer().unsign(token)
    except signing.BadSignature:
        return None
    tenant_part, _, ticket_part = value.partition(".")
    if not (tenant_part.isdigit() and ticket_part.isdigit()):
        return None
    if int(tenant_part) != tenant_id:
        return None
    return int(ticket_part)
