"""/manage/teams/: teams, their members, skills (product areas), lead and routing rules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from console.access import admin_required
from console.common import add_service_errors, render_console
from helpdesk.models import Membership, Tenant
from tickets.models import RoutingRule, Team
from tickets.services.teams import routing_rule_create, team_create, team_delete, team_update

from ..forms import RoutingRuleForm, TeamForm
from ..selectors import team_rules, teams_of, tenant_object_or_404
from ..services import routing_rule_delete, routing_rule_update, team_areas_set, team_lead_set
from .common import confirm_page, posted

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _team(request: HttpRequest, pk: int) -> Team:
    return tenant_object_or_404(teams_of(tenant=_tenant(request)), tenant=_tenant(request), pk=pk)


def _rule(request: HttpRequest, pk: int) -> RoutingRule:
    return tenant_object_or_404(
        RoutingRule.objects.select_related("team"), tenant=_tenant(request), pk=pk
    )


def team_leads(team: Team) -> list[Membership]:
    """Who escalation reaches at the team-lead level: members with the team-lead tier."""
    return [
        m.membership
        for m in team.members.all()
        if m.membership.is_active and m.membership.tier == Membership.Tier.TEAM_LEAD
    ]


@admin_required
@require_safe
def team_list(request: HttpRequest) -> HttpResponse:
    teams = [(team, team_leads(team)) for team in teams_of(tenant=_tenant(request))]
    return render_console(request, "console/people/team_list.html", {"teams": teams})


def _save(form: TeamForm, team: Team | None, tenant: Tenant) -> Team:
    data = form.cleaned_data
    members = list(data["members"])
    lead = data["lead"]
    if lead is not None and lead not in members:
        members.append(lead)
    common: dict[str, Any] = {
        "name": data["name"],
        "description": data["description"],
        "escalation_emails": data["escalation_emails"],
        "assignment_strategy": data["assignment_strategy"],
        "members": members,
    }
    with transaction.atomic():
        if team is None:
            team = team_create(tenant=tenant, calendar=data["calendar"], **common)
        else:
            team = team_update(
                team=team,
                calendar=data["calendar"],
                clear_calendar=data["calendar"] is None,
                **common,
            )
        team_areas_set(team=team, areas=list(data["areas"]))
        if lead is not None:
            team_lead_set(team=team, lead=lead)
    return team


@admin_required
@GET_POST
def team_new(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    form = TeamForm(posted(request), tenant=tenant)
    if request.method == "POST" and form.is_valid():
        try:
            team = _save(form, None, tenant)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Team %(name)s created.") % {"name": team.name})
            return redirect("console-team", pk=team.pk)
    return render_console(
        request,
        "console/people/team_form.html",
        {"form": form, "team": None},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    team = _team(request, pk)
    leads = team_leads(team)
    initial = {
        "name": team.name,
        "description": team.description,
        "assignment_strategy": team.assignment_strategy,
        "areas": [a.pk for a in team.areas.all()],
        "members": [m.membership_id for m in team.members.all()],
        "lead": leads[0].pk if leads else None,
        "calendar": team.calendar_id,
        "escalation_emails": "\n".join(team.escalation_emails or []),
    }
    form = TeamForm(posted(request), tenant=tenant, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            _save(form, team, tenant)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Team saved."))
            return redirect("console-team", pk=team.pk)
    rule_form = RoutingRuleForm(
        tenant=tenant, initial={"team": team.pk, "is_active": True}, auto_id="rule_%s"
    )
    return render_console(
        request,
        "console/people/team_form.html",
        {
            "form": form,
            "team": team,
            "leads": leads,
            "rules": team_rules(tenant=tenant, team=team),
            "rule_form": rule_form,
        },
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def team_remove(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team(request, pk)
    if request.method == "POST":
        team_delete(team=team)
        messages.success(request, _("Team %(name)s deleted.") % {"name": team.name})
        return redirect("console-teams")
    return confirm_page(
        request,
        title=_("Delete team %(name)s") % {"name": team.name},
        message=_(
            "Its tickets stay, without a team; its routing rules are deleted and its product "
            "areas are left without experts."
        ),
        button=_("Delete team"),
        cancel_url=reverse("console-team", args=[team.pk]),
        danger=True,
    )


# --- routing rules ------------------------------------------------------------------------------


def _rule_kwargs(form: RoutingRuleForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "team": data["team"],
        "position": data["position"],
        "name": data["name"].strip(),
        "severity": data["severity"],
        "product_area": data["product_area"],
        "ticket_type": data["ticket_type"],
        "channel": data["channel"],
    }


@admin_required
@GET_POST
def rule_new(request: HttpRequest, team_pk: int) -> HttpResponse:
    tenant = _tenant(request)
    team = _team(request, team_pk)
    form = RoutingRuleForm(
        posted(request), tenant=tenant, initial={"team": team.pk, "is_active": True}
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                rule = routing_rule_create(tenant=tenant, **_rule_kwargs(form))
                if not form.cleaned_data["is_active"]:
                    routing_rule_update(rule=rule, is_active=False, **_rule_kwargs(form))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Routing rule added."))
            return redirect("console-team", pk=rule.team_id)
    return render_console(
        request,
        "console/people/rule_form.html",
        {"form": form, "team": team, "rule": None},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    rule = _rule(request, pk)
    initial = {
        "team": rule.team_id,
        "position": rule.position,
        "name": rule.name,
        "severity": rule.severity_id,
        "product_area": rule.product_area_id,
        "ticket_type": rule.ticket_type_id,
        "channel": rule.channel,
        "is_active": rule.is_active,
    }
    form = RoutingRuleForm(posted(request), tenant=tenant, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            routing_rule_update(
                rule=rule, is_active=form.cleaned_data["is_active"], **_rule_kwargs(form)
            )
        except ValidationError as exc:
            rule.refresh_from_db()
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Routing rule saved."))
            return redirect("console-team", pk=rule.team_id)
    return render_console(
        request,
        "console/people/rule_form.html",
        {"form": form, "team": rule.team, "rule": rule},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def rule_remove(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    if request.method == "POST":
        routing_rule_delete(rule=rule)
        messages.success(request, _("Routing rule deleted."))
        return redirect("console-team", pk=rule.team_id)
    return confirm_page(
        request,
        title=_("Delete routing rule"),
        message=_("Delete the rule “%(name)s” sending tickets to %(team)s?")
        % {"name": rule.name or _("unnamed"), "team": rule.team.name},
        button=_("Delete rule"),
        cancel_url=reverse("console-team", args=[rule.team_id]),
        danger=True,
    )
