"""The portal's attachment route: ``/tickets/<reference>/attachments/<id>/`` (customers and
staff alike; the agent workspace links here too). Same rules and headers as the API download
(:mod:`tickets.downloads`)."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.http import require_safe

from ..downloads import attachment_response
from ..selectors import attachment_get_for_user, ticket_get_for_user


@require_safe
def ticket_attachment(request: HttpRequest, reference: str, attachment_id: int) -> HttpResponseBase:
    """The file if the viewer may see the ticket and the attachment (customers: public ones
    only); 404 for missing and forbidden alike. ``?preview=1`` shows a raster image inline."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return redirect_to_login(request.get_full_path())
    tenant = request.tenant  # type: ignore[attr-defined]
    ticket = ticket_get_for_user(tenant=tenant, membership=membership, reference=reference)
    attachment = attachment_get_for_user(
        ticket=ticket, membership=membership, attachment_id=attachment_id
    )
    return attachment_response(attachment, preview=request.GET.get("preview") == "1")
