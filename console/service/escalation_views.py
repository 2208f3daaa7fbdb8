"""``/manage/escalation/``: the tenant's escalation policy and levels, and the on-call roster
that emergencies page (``/manage/escalation/on-call/``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from console.common import add_service_errors, render_console, tenant_of
from helpdesk.models import Tenant
from sla.escalation.services import (
    escalation_policy_get,
    escalation_policy_update,
    on_call_entry_create,
    on_call_entry_delete,
    on_call_entry_update,
)
from sla.models import EscalationRole, Metric, NoticeChannel, OnCallEntry, minute_label

from ..access import admin_required
from .common import DASH, WEEKDAYS
from .escalation_forms import (
    EscalationPolicyForm,
    LevelForm,
    LevelFormSet,
    OnCallForm,
    level_specs,
)


def _levels_summary(rules: list[Any]) -> list[dict[str, Any]]:
    roles, channels, metrics = (
        dict(EscalationRole.choices),
        dict(NoticeChannel.choices),
        dict(Metric.choices),
    )
    return [
        {
            "level": r.level,
            "offset_minutes": r.offset_minutes,
            "recipients": [str(roles.get(x, x)) for x in r.recipients],
            "channels": [str(channels.get(x, x)) for x in r.channels],
            "metrics": [str(metrics.get(x, x)) for x in r.metrics],
            "active": r.active,
        }
        for r in rules
    ]


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def escalation_policy(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    policy, rules = escalation_policy_get(tenant=tenant)
    status = 200
    if request.method == "POST":
        form = EscalationPolicyForm(request.POST)
        formset = LevelFormSet(request.POST, prefix="levels")
        form_ok = form.is_valid()
        if formset.is_valid() and form_ok:
            data = dict(form.cleaned_data)
            try:
                with transaction.atomic():
                    escalation_policy_update(tenant=tenant, levels=level_specs(formset), **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, _("Escalation rules saved; open clocks' alarms are re-armed.")
                )
                return HttpResponseRedirect(reverse("console-escalation"))
        status = 400
    else:
        form = EscalationPolicyForm(initial=EscalationPolicyForm.initial_for(policy))
        formset = LevelFormSet(
            initial=[LevelForm.initial_for(r) for r in rules],
            prefix="levels",
        )
        for extra in formset.forms[len(rules) :]:
            extra.initial = {"active": True, "channels": ["email", "inapp"]}
    return render_console(
        request,
        "console/service/escalation.html",
        {
            "form": form,
            "formset": formset,
            "defaults": policy.pk is None,
            "levels": _levels_summary(rules),
            "on_call_count": OnCallEntry.objects.for_tenant(tenant).filter(active=True).count(),
        },
        status=status,
    )


def _entry_get(tenant: Tenant, pk: int) -> OnCallEntry:
    entry = (
        OnCallEntry.objects.for_tenant(tenant)
        .select_related("membership__user")
        .filter(pk=pk)
        .first()
    )
    if entry is None:
        raise Http404("No such on-call entry")
    return entry


def _roster(tenant: Tenant) -> list[dict[str, Any]]:
    entries = (
        OnCallEntry.objects.for_tenant(tenant)
        .select_related("membership__user")
        .order_by("membership__user__email", "id")
    )
    return [
        {
            "entry": e,
            "days": ", ".join(str(WEEKDAYS[d]) for d in e.weekdays) or _("Every day"),
            "hours": f"{minute_label(e.start_minute)}{DASH}{minute_label(e.end_minute)}",
        }
        for e in entries
    ]


def _on_call_values(form: OnCallForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "weekdays": sorted(set(data["weekdays"])),
        "start_minute": data["start_minute"],
        "end_minute": data["end_minute"],
        "pager_address": data["pager_address"].strip(),
    }


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def on_call_list(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    status = 200
    if request.method == "POST":
        form = OnCallForm(request.POST, tenant=tenant)
        if form.is_valid():
            try:
                with transaction.atomic():
                    entry = on_call_entry_create(
                        tenant=tenant,
                        membership=form.cleaned_data["membership"],
                        **_on_call_values(form),
                    )
                    if not form.cleaned_data["active"]:
                        on_call_entry_update(entry=entry, active=False)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(who)s is on the roster.") % {"who": entry.membership.user.email},
                )
                return HttpResponseRedirect(reverse("console-escalation-oncall"))
        status = 400
    else:
        form = OnCallForm(tenant=tenant)
    return render_console(
        request,
        "console/service/on_call.html",
        {"form": form, "roster": _roster(tenant)},
        status=status,
    )


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def on_call_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    entry = _entry_get(tenant, pk)
    status = 200
    if request.method == "POST":
        form = OnCallForm(request.POST, initial=OnCallForm.initial_for(entry), tenant=tenant)
        # The member of an entry stays: a different person is a new entry.
        form.fields["membership"].disabled = True
        if form.is_valid():
            try:
                with transaction.atomic():
                    on_call_entry_update(
                        entry=entry, active=form.cleaned_data["active"], **_on_call_values(form)
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("On-call entry saved."))
                return HttpResponseRedirect(reverse("console-escalation-oncall"))
        status = 400
    else:
        form = OnCallForm(initial=OnCallForm.initial_for(entry), tenant=tenant)
        form.fields["membership"].disabled = True
    return render_console(
        request,
        "console/service/on_call_edit.html",
        {"form": form, "entry": entry},
        status=status,
    )


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def on_call_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry_get(tenant_of(request), pk)
    if request.method == "POST":
        on_call_entry_delete(entry=entry)
        messages.success(
            request,
            _("%(who)s is off the roster.") % {"who": entry.membership.user.email},
        )
        return HttpResponseRedirect(reverse("console-escalation-oncall"))
    return render_console(request, "console/service/on_call_delete.html", {"entry": entry})
