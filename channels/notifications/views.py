"""Agent pages of notices: ``/agent/notifications/`` (the list, and the bell's count as a
fragment: ``?bell=1``). The agent workspace includes ``agent/_bell.html`` in its layout; the
bell loads its count from here with htmx, so the layout passes it no context."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from helpdesk.models import Membership

from .services import (
    notification_get,
    notification_mark_read,
    notifications_for,
    notifications_mark_all_read,
    notifications_unread_count,
)

PAGE_SIZE = 50


def staff_membership(request: HttpRequest) -> Membership | HttpResponse:
    """The caller's staff membership; a login redirect for anonymous callers; 404 for
    customers (agent pages do not exist for them)."""
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        return redirect_to_login(request.get_full_path())
    if not membership.is_staff_member:
        raise Http404("Not an agent page")
    return membership


@require_http_methods(["GET", "HEAD", "POST"])
def agent_notifications(request: HttpRequest) -> HttpResponse:
    membership = staff_membership(request)
    if isinstance(membership, HttpResponse):
        return membership
    if request.method == "POST":
        if request.POST.get("all"):
            notifications_mark_all_read(membership=membership)
        elif request.POST.get("id", "").isdigit():
            notification = notification_get(
                membership=membership, notification_id=int(request.POST["id"])
            )
            notification_mark_read(notification=notification, read=True)
        return HttpResponseRedirect(request.path, status=303)
    unread = notifications_unread_count(membership=membership)
    if request.GET.get("bell"):
        return render(request, "agent/_bell_count.html", {"unread": unread})
    notifications = list(notifications_for(membership=membership)[:PAGE_SIZE])
    template = (
        "agent/_notification_list.html"
        if request.headers.get("HX-Request")
        else "agent/notifications.html"
    )
    return render(request, template, {"notifications": notifications, "unread": unread})
