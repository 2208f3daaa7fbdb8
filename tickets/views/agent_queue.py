"""The agent queue (``/agent/queue/``): saved views, filters, SLA-urgency order (defined in
:mod:`tickets.views.queue_query`), keyset pagination without a count ("Next" carries the cursor
of the page's last row in ``after``, "Previous" the cursor of its first row in ``before``, and
both the page's number in ``page`` for its label only; ``page=N`` alone still opens one of the
first pages), and bulk assign or
transition (``/agent/queue/bulk/``: the services per ticket, each in its own transaction so
one refusal does not undo the others)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from helpdesk.models import Membership, Organization, Tenant
from sla.models import Severity

from ..forms import BulkForm, QueueFilterForm, staff_of
from ..models import Team, Ticket
from ..selectors import ticket_get_for_user
from ..services import UNSET, ticket_assign, ticket_transition
from . import adapters
from .common import bell_template, staff_required
from .queue_query import (
    DEFAULT_VIEW,
    SAVED_VIEWS,
    QueueCursor,
    QueueFilters,
    QueuePage,
    queue_page,
)

PAGE_SIZE = 50
# ``page=N`` without a cursor reads N pages from the start (an offset): fine for the first few
# (old links, a typed URL); deeper ones come from "Next", whose cursor costs the same anywhere.
MAX_OFFSET_PAGE = 10
MAX_PAGE_LABEL = 1_000_000


def _catalogs(tenant: Tenant) -> dict[str, list[tuple[Any, str]]]:
    """The filter and bulk-action choices as (value, label) pairs (no model instances: a
    tenant may have thousands of organizations, and this is on every queue page)."""
    agents = staff_of(tenant).values_list("pk", "user__name", "user__email")
    return {
        "severities": list(
            Severity.objects.for_tenant(tenant).order_by("rank", "id").values_list("pk", "name")
        ),
        "teams": list(
            Team.objects.for_tenant(tenant).order_by("name", "id").values_list("pk", "name")
        ),
        "agents": [(pk, name or email) for pk, name, email in agents],
        "organizations": list(
            Organization.objects.for_tenant(tenant).order_by("name", "id").values_list("pk", "name")
        ),
    }


def options_html(choices: list[tuple[Any, Any]], selected: Any = None) -> str:
    """``<option>`` elements, built once in Python (a template loop over thousands of
    organizations costs more than the queue's own query)."""
    chosen = "" if selected is None else str(selected)
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        # " selected" has nothing to escape: format_html leaves it as it is.
        ((value, " selected" if str(value) == chosen else "", label) for value, label in choices),
    )


def _filters(form: QueueFilterForm) -> QueueFilters:
    """What the filter form says; a value that does not parse is ignored, not an error page."""
    form.is_valid()
    data = form.cleaned_data
    view = data.get("view") or DEFAULT_VIEW
    return QueueFilters(
        view=view if view in SAVED_VIEWS else DEFAULT_VIEW,
        status=data.get("status") or "",
        severity_id=data.get("severity") or None,
        team_id=data.get("team") or None,
        assignee=data.get("assignee") or "",
        organization_id=data.get("organization") or None,
        search=(data.get("q") or "").strip(),
    )


def _query_without(params: QueryDict, *names: str) -> str:
    q = params.copy()
    for name in names:
        q.pop(name, None)
    return q.urlencode()


@require_safe
@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    return _render_queue(request)


def _render_queue(request: HttpRequest) -> HttpResponse:
    tenant: Tenant = request.tenant  # type: ignore[attr-defined]
    membership: Membership = request.membership  # type: ignore[attr-defined]
    catalogs = _catalogs(tenant)
    form = QueueFilterForm(request.GET, **catalogs)
    filters = _filters(form)
    requested = form.cleaned_data.get("page") or 1
    # One direction per link: "before" (Previous) wins over a stray "after".
    direction = "before" if "before" in request.GET else "after"
    cursor = QueueCursor.decode(request.GET.get(direction, ""))
    malformed = cursor is None and direction in request.GET  # the first page, not an error
    page = 1 if malformed else min(requested, MAX_OFFSET_PAGE)
    result = queue_page(
        tenant=tenant,
        membership=membership,
        filters=filters,
        page=page,
        after=cursor if direction == "after" else None,
        before=cursor if direction == "before" else None,
        page_size=PAGE_SIZE,
    )
    if cursor is not None:
        # The label only (the cursor says where): past 1 unless "Previous" reached the start.
        first = direction == "before" and result.previous_cursor is None
        page = 1 if first else min(max(requested, 2), MAX_PAGE_LABEL)
    rows = adapters.queue_rows(result.rows)
    base_query = _query_without(request.GET, "page", "after", "before")
    context = {
        "form": form,
        "filters": filters,
        "rows": rows,
        "pager": _pager(base_query, page, cursor is not None, result),
        "views": [
            (key, label, _query_without(QueryDict(f"view={key}"), "page"))
            for key, label in SAVED_VIEWS.items()
        ],
        "current_view": filters.view,
        "filtered": any(
            [
                filters.status,
                filters.severity_id,
                filters.team_id,
                filters.assignee,
                filters.organization_id,
                filters.search,
            ]
        ),
        "next_url": request.get_full_path(),
        "options": {
            "severity": options_html(catalogs["severities"], filters.severity_id),
            "team": options_html(catalogs["teams"], filters.team_id),
            "assignee": options_html(catalogs["agents"], filters.assignee),
            "organization": options_html(catalogs["organizations"], filters.organization_id),
            "status": options_html(Ticket.Status.choices, filters.status),
            "bulk_agents": options_html(catalogs["agents"]),
            "bulk_teams": options_html(catalogs["teams"]),
            "bulk_statuses": options_html(Ticket.Status.choices),
        },
        "bell_template": bell_template(),
    }
    return render(request, "agent/queue.html", context)


def _pager(base_query: str, page: int, keyset: bool, result: QueuePage) -> dict[str, Any]:
    """The pager's links (URLs, "" when absent; the filters kept): "First page" past page 2;
    "Previous" to the first page from page 2 (its head as it is now), else with the first
    row's cursor in ``before`` (``page=N-1`` on an offset page); "Next" with the last row's
    cursor in ``after``."""

    def link(**params: Any) -> str:
        query = QueryDict(mutable=True)
        query.update(params)
        query_string = "&".join(part for part in (base_query, query.urlencode()) if part)
        return reverse("agent-queue") + (f"?{query_string}" if query_string else "")

    first = link()
    previous = ""
    if page == 2:
        previous = first
    elif page > 2 and not keyset:
        previous = link(page=page - 1)
    elif page > 2:
        cursor = result.previous_cursor
        # No first row (an empty page: its tickets solved since): the first page.
        previous = link(before=cursor.encode(), page=page - 1) if cursor else first
    return {
        "number": page,
        "first": first if page > 2 else "",
        "previous": previous,
        "next": link(after=result.next_cursor.encode(), page=page + 1)
        if result.next_cursor
        else "",
    }


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """Assign or transition the checked tickets, one service call per ticket. A GET (a reload
    after a refused POST) shows the queue."""
    if request.method != "POST":
        return _render_queue(request)
    tenant: Tenant = request.tenant  # type: ignore[attr-defined]
    membership: Membership = request.membership  # type: ignore[attr-defined]
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("agent-queue")
    form = BulkForm(request.POST)
    if not form.is_valid():
        if "tickets" in form.errors:
            messages.error(request, _("Tick at least one ticket first."))
        for name, errors in form.errors.items():
            if name != "tickets":
                messages.error(request, " ".join(str(e) for e in errors))
        return HttpResponseRedirect(next_url)
    data = form.cleaned_data
    tickets = list(
        Ticket.objects.for_tenant(tenant)
        .select_related("tenant")
        .filter(pk__in=data["tickets"])
        .order_by("pk")
    )
    try:
        action = _bulk_action(tenant, membership, data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(next_url)
    done, refused = 0, []
    for ticket in tickets:
        try:
            with transaction.atomic():
                locked = ticket_get_for_user(
                    tenant=tenant, membership=membership, ticket_id=ticket.pk, write=True
                )
                action(locked)
        except ValidationError as exc:
            refused.append(f"{ticket.reference}: {' '.join(exc.messages)}")
        else:
            done += 1
    if done:
        messages.success(
            request,
            ngettext("%(n)d ticket updated.", "%(n)d tickets updated.", done) % {"n": done},
        )
    for line in refused[:10]:
        messages.error(request, line)
    return HttpResponseRedirect(next_url)


def _bulk_action(tenant: Tenant, membership: Membership, data: dict[str, Any]) -> Any:
    """The per-ticket call for the bulk form's action (choices resolved in this tenant)."""
    if data["action"] == BulkForm.ACTION_STATUS:
        status = data["status"]
        return lambda ticket: ticket_transition(ticket=ticket, status=status, by=membership)
    assignee: Any = UNSET
    team: Any = UNSET
    if data.get("assignee") == "none":
        assignee = None
    elif data.get("assignee"):
        assignee = _lookup(staff_of(tenant), data["assignee"], "assignee")
    if data.get("team") == "none":
        team = None
    elif data.get("team"):
        team = _lookup(Team.objects.for_tenant(tenant), data["team"], "team")
    return lambda ticket: ticket_assign(ticket=ticket, assignee=assignee, team=team, by=membership)


def _lookup(qs: Any, raw: str, what: str) -> Any:
    row = qs.filter(pk=int(raw)).first() if str(raw).isdigit() else None
    if row is None:
        raise ValidationError({what: _("Unknown %(what)s.") % {"what": what}})
    return row
