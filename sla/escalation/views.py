"""The page an emergency's pager message links to: ``/agent/pages/<id>/ack/`` — GET shows the
emergency and a confirm button (a link preview or a mail scanner must not acknowledge), POST
acknowledges."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from channels.notifications.views import staff_membership

from .paging import page_acknowledge, page_get


@require_http_methods(["GET", "HEAD", "POST"])
def agent_page_ack(request: HttpRequest, page_id: int) -> HttpResponse:
    membership = staff_membership(request)
    if isinstance(membership, HttpResponse):
        return membership
    page = page_get(tenant=request.tenant, membership=membership, page_id=page_id)  # type: ignore[attr-defined]
    if request.method == "POST":
        was_open = page.acknowledged_at is None
        page = page_acknowledge(page=page, by=membership)
        if was_open and page.acknowledged_by_id == membership.pk:
            messages.success(request, _("Acknowledged: the on-call team is no longer paged."))
        return HttpResponseRedirect(request.path, status=303)
    return render(request, "agent/page_ack.html", {"page": page, "ticket": page.ticket})
