"""What every portal and agent page shares: who may see it, the viewer's time zone, and the
words for durations and SLA clocks."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import unquote

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from helpdesk.models import Membership

View = TypeVar("View", bound=Callable[..., HttpResponse])

TZ_COOKIE = "tz"
BELL_TEMPLATE = "agent/_bell.html"


def _zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def viewer_zone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    """The viewer's zone: their profile's, else the browser's (the ``tz`` cookie that
    static/js/app.js sets), else the tenant's, else UTC."""
    user = getattr(request, "user", None)
    tenant = getattr(request, "tenant", None)
    for name in (
        getattr(user, "time_zone", "") if user is not None and user.is_authenticated else "",
        # static/js/app.js writes it URI-encoded ("Europe%2FBerlin").
        unquote(request.COOKIES.get(TZ_COOKIE, "")),
        getattr(tenant, "time_zone", ""),
    ):
        zone = _zone(name)
        if zone is not None:
            return zone
    return zoneinfo.ZoneInfo("UTC")


def _in_viewer_zone(
    view: Callable[..., HttpResponse], request: HttpRequest, *a: Any, **kw: Any
) -> HttpResponse:
    # Templates render datetimes in the active zone: the viewer's, for the whole request.
    timezone.activate(viewer_zone(request))
    try:
        return view(request, *a, **kw)
    finally:
        timezone.deactivate()


def member_required(view: View) -> View:
    """Any member of the tenant (customers and staff); anonymous visitors go to the login."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "membership", None) is None:
            return redirect_to_login(request.get_full_path())
        return _in_viewer_zone(view, request, *args, **kwargs)

    return cast(View, wrapped)


def staff_required(view: View) -> View:
    """Agents and admins of the tenant. Anonymous visitors go to the login; a customer gets the
    same 404 as a missing page (the workspace does not exist for them)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership: Membership | None = getattr(request, "membership", None)
        if membership is None:
            return redirect_to_login(request.get_full_path())
        if not membership.is_staff_member:
            raise Http404("No such page")
        return _in_viewer_zone(view, request, *args, **kwargs)

    return cast(View, wrapped)


@functools.cache
def bell_template() -> str:
    """The notifications bell of the escalation engine (``agent/_bell.html``: it loads its own
    count), when that template exists; the agent layout includes it."""
    try:
        get_template(BELL_TEMPLATE)
    except TemplateDoesNotExist:
        return ""
    return BELL_TEMPLATE


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def htmx_target(request: HttpRequest) -> str:
    return request.headers.get("HX-Target", "") if is_htmx(request) else ""


# --- words for time ----------------------------------------------------------------------------


def duration_words(seconds: float) -> str:
    """A span as people read it on a clock: "2 h 14 min", "3 d 4 h", "45 min", "under 1 min"."""
    seconds = int(abs(seconds))
    minutes = seconds // 60
    if minutes < 1:
        return _("under 1 min")
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return (
            _("%(d)d d %(h)d h") % {"d": days, "h": hours} if hours else _("%(d)d d") % {"d": days}
        )
    if hours:
        return (
            _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
            if mins
            else _("%(h)d h") % {"h": hours}
        )
    return _("%(m)d min") % {"m": mins}


def local_words(at: dt.datetime, now: dt.datetime) -> str:
    """An instant in the active (viewer's) zone, short when it is near: "Tue 10:00", a date
    added when it is more than six days away: "Tue 14 Jan 10:00"."""
    local = timezone.localtime(at)
    if abs((at - now).total_seconds()) < 6 * 24 * 3600:
        return dateformat.format(local, "D H:i")
    if local.year == timezone.localtime(now).year:
        return dateformat.format(local, "D j M H:i")
    return dateformat.format(local, "D j M Y H:i")


# --- SLA clocks as the pages show them ---------------------------------------------------------


@dataclass(frozen=True)
class ClockLine:
    """One SLA clock, in words: "First response due in 2 h 14 min — Tue 10:00 your time"."""

    metric: str
    label: str
    state: str  # running | warning | breached | paused | met | met_late
    headline: str
    when: str
    due_at: dt.datetime | None
    explanation: str
    escalation_eligible: bool

    @property
    def is_breached(self) -> bool:
        return self.state in ("breached", "met_late")


def clock_line(clock: Any, *, now: dt.datetime | None = None) -> ClockLine:
    """Words for an ``sla.models.SLAClock`` as of ``now`` (a running clock whose due time has
    passed reads as breached even before the worker flips its status)."""
    now = now or timezone.now()
    label = str(clock.get_metric_display())
    due = clock.due_at
    your_time = _("your time")
    if clock.met_at is not None:
        late = due is not None and clock.met_at > due
        state = "met_late" if late else "met"
        headline = (
            _("%(label)s met late") % {"label": label}
            if late
            else _("%(label)s met") % {"label": label}
        )
        when = f"{local_words(clock.met_at, now)} {your_time}"
        if late and due is not None:
            when += " · " + _("was due %(when)s") % {"when": local_words(due, now)}
    elif due is not None and due <= now:
        state = "breached"
        headline = _("%(label)s overdue by %(span)s") % {
            "label": label,
            "span": duration_words((now - due).total_seconds()),
        }
        when = _("was due %(when)s") % {"when": f"{local_words(due, now)} {your_time}"}
    elif due is not None:
        warn = clock.warn_at
        state = "warning" if warn is not None and warn <= now else "running"
        headline = _("%(label)s due in %(span)s") % {
            "label": label,
            "span": duration_words((due - now).total_seconds()),
        }
        when = f"{local_words(due, now)} {your_time}"
    else:
        state = "paused"
        headline = _("%(label)s paused") % {"label": label}
        when = _("waiting on the customer; the clock resumes when the ticket is open again")
    return ClockLine(
        metric=clock.metric,
        label=label,
        state=state,
        headline=headline,
        when=when,
        due_at=due,
        explanation=clock.explanation,
        escalation_eligible=clock.escalation_eligible,
    )


def next_due_words(due: dt.datetime | None, *, now: dt.datetime | None = None) -> tuple[str, str]:
    """A list cell for a ticket's next due instant: (css state, words)."""
    if due is None:
        return "none", "—"
    now = now or timezone.now()
    if due <= now:
        return "breached", _("overdue by %(span)s") % {
            "span": duration_words((now - due).total_seconds())
        }
    return "running", _("in %(span)s — %(when)s") % {
        "span": duration_words((due - now).total_seconds()),
        "when": local_words(due, now),
    }
