"""/manage/agents/: the tenant's staff — role, tier, availability, teams; invite; deactivate."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from console.access import admin_required
from console.common import add_service_errors, paginate, render_console
from helpdesk.models import Membership, Tenant

from ..forms import AgentEditForm, AgentInviteForm
from ..selectors import staff_of, tenant_object_or_404
from ..services import (
    agent_invite,
    agent_send_password_link,
    agent_teams_set,
    staff_deactivate,
    staff_update,
)
from .common import confirm_page, posted

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _me(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _staff_member(request: HttpRequest, pk: int) -> Membership:
    return tenant_object_or_404(staff_of(tenant=_tenant(request)), tenant=_tenant(request), pk=pk)


@admin_required
@require_safe
def agent_list(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    return render_console(
        request,
        "console/people/agent_list.html",
        {
            "page": paginate(request, staff_of(tenant=tenant)),
            "inactive": staff_of(tenant=tenant, active=False),
            "me": _me(request),
        },
    )


@admin_required
@GET_POST
def agent_invite_view(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    form = AgentInviteForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                membership, needs_password = agent_invite(
                    tenant=tenant,
                    email=data["email"],
                    name=data["name"],
                    role=data["role"],
                    tier=data["tier"],
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            email = membership.user.email
            if needs_password:
                # After the commit: the link must open on a user that exists.
                agent_send_password_link(request=request, membership=membership)
                text = _("%(email)s was invited: we emailed them a link to choose a password.")
            else:
                text = _("%(email)s was added: they sign in with their existing password.")
            messages.success(request, text % {"email": email})
            return redirect("console-agents")
    return render_console(
        request,
        "console/people/agent_invite.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def agent_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    member = _staff_member(request, pk)
    initial = {
        "role": member.role,
        "tier": member.tier or Membership.Tier.AGENT,
        "is_available": member.is_available,
        "teams": [tm.team_id for tm in member.team_memberships.all()],
    }
    form = AgentEditForm(posted(request), tenant=tenant, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                staff_update(
                    tenant=tenant,
                    member=member,
                    by=_me(request),
                    role=data["role"],
                    tier=data["tier"],
                    is_available=data["is_available"],
                )
                agent_teams_set(agent=member, teams=list(data["teams"]))
        except ValidationError as exc:
            member.refresh_from_db()
            add_service_errors(form, exc, {"agent": "role"})
        else:
            messages.success(request, _("%(email)s saved.") % {"email": member.user.email})
            return redirect("console-agents")
    return render_console(
        request,
        "console/people/agent_edit.html",
        {"form": form, "member": member, "is_me": member.pk == _me(request).pk},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def agent_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    member = _staff_member(request, pk)
    error = ""
    if request.method == "POST":
        try:
            staff_deactivate(tenant=tenant, member=member, by=_me(request))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request, _("%(email)s can no longer sign in here.") % {"email": member.user.email}
            )
            return redirect("console-agents")
    return confirm_page(
        request,
        title=_("Deactivate %(email)s") % {"email": member.user.email},
        message=error
        or _(
            "They can no longer sign in or use their API tokens here, leave their teams and get "
            "no new assignments; their tickets and messages stay. Inviting the same address "
            "again brings them back."
        ),
        button=_("Deactivate"),
        cancel_url=reverse("console-agents"),
        danger=True,
        status=400 if error else 200,
    )
