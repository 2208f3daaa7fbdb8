"""Server-side SVG charts for the SLA report page: no script, no style attribute (the CSP allows
neither inline), no CDN. Colours are SVG presentation attributes (``fill``), which the CSP does
not govern and ``static/reports/reports.css`` may override. Every chart is ``role="img"`` with a
``<title>`` and ``<desc>`` naming what it shows; the page puts the same numbers in a table.

All text is escaped here; callers pass plain strings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
LABEL_WIDTH = 230
VALUE_WIDTH = 130
ROW = 30
BAR = 18
TOP = 28
BOTTOM = 30
LABEL_CHARS = 34

OK, BAD, NEUTRAL, MUTED, INK = "#1a7f37", "#cf222e", "#1f6feb", "#57606a", "#1c2128"
_ID = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class Datum:
    """One bar: ``value`` None draws no bar (e.g. a percentage with nothing decided);
    ``text`` is what is written next to it."""

    label: str
    value: float | None
    text: str
    tone: str = "neutral"  # neutral | ok | bad


def _fill(tone: str) -> str:
    return {"ok": OK, "bad": BAD}.get(tone, NEUTRAL)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(chart_id: str, title: str, desc: str, height: int) -> list[str]:
    if not _ID.match(chart_id):
        raise ValueError(f"not a chart id: {chart_id!r}")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _empty(parts: list[str], height: int, message: str) -> SafeString:
    parts.append(
        f'<text x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle" fill="{MUTED}" '
        f'class="chart-empty">{escape(message)}</text></svg>'
    )
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    data: Sequence[Datum],
    maximum: float | None = None,
    goal: float | None = None,
    goal_label: str = "",
    empty: str = "No data for this period.",
) -> SafeString:
    """Horizontal bars, one row per datum, on a common scale from 0 to ``maximum`` (default:
    the largest value); ``goal`` draws a dashed vertical line on that scale (a target %)."""
    height = TOP + max(1, len(data)) * ROW + BOTTOM
    parts = _open(chart_id, title, desc, height)
    values = [d.value for d in data if d.value is not None]
    if not data:
        return _empty(parts, height, empty)
    top = maximum if maximum is not None else max(values, default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    x0 = LABEL_WIDTH
    for i, d in enumerate(data):
        y = TOP + i * ROW
        mid = y + ROW / 2 + 5
        parts.append(
            f'<text x="{x0 - 8}" y="{mid}" text-anchor="end" fill="{INK}" class="chart-label">'
            f"{escape(_short(d.label))}</text>"
        )
        width = 0.0
        if d.value is not None:
            width = max(0.0, min(d.value, top)) / top * span
            parts.append(
                f'<rect x="{x0}" y="{y + (ROW - BAR) / 2}" width="{width:.1f}" height="{BAR}" '
                f'fill="{_fill(d.tone)}" class="bar bar-{escape(d.tone)}">'
                f"<title>{escape(d.label)}: {escape(d.text)}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + width + 6:.1f}" y="{mid}" fill="{INK}" class="chart-value">'
            f"{escape(d.text)}</text>"
        )
    axis_y = TOP + len(data) * ROW
    parts.append(
        f'<line x1="{x0}" y1="{TOP - 4}" x2="{x0}" y2="{axis_y}" stroke="{MUTED}" '
        'stroke-width="1"/>'
    )
    parts.append(
        f'<text x="{x0}" y="{axis_y + 18}" fill="{MUTED}" class="chart-axis">0</text>'
        f'<text x="{x0 + span}" y="{axis_y + 18}" text-anchor="end" fill="{MUTED}" '
        f'class="chart-axis">{escape(_num(top))}{"%" if maximum == 100 else ""}</text>'
    )
    if goal is not None and 0 <= goal <= top:
        gx = x0 + goal / top * span
        parts.append(
            f'<line x1="{gx:.1f}" y1="{TOP - 6}" x2="{gx:.1f}" y2="{axis_y}" stroke="{INK}" '
            'stroke-width="2" stroke-dasharray="5 4" class="goal-line"/>'
            f'<text x="{gx:.1f}" y="{TOP - 10}" text-anchor="middle" fill="{INK}" '
            f'class="chart-goal">{escape(goal_label or _num(goal))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def column_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    data: Sequence[Datum],
    empty: str = "No data for this period.",
) -> SafeString:
    """Vertical columns (a histogram): category labels below, counts above each column."""
    height = 260
    parts = _open(chart_id, title, desc, height)
    if not data or not any(d.value for d in data):
        return _empty(parts, height, empty)
    top = max(d.value or 0 for d in data) or 1
    base = height - 44
    room = base - TOP - 10
    slot = (WIDTH - 40) / len(data)
    for i, d in enumerate(data):
        x = 20 + i * slot
        h = (d.value or 0) / top * room
        centre = x + slot / 2
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{base - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{_fill(d.tone)}" class="bar bar-{escape(d.tone)}">'
            f"<title>{escape(d.label)}: {escape(d.text)}</title></rect>"
            f'<text x="{centre:.1f}" y="{base - h - 6:.1f}" text-anchor="middle" fill="{INK}" '
            f'class="chart-value">{escape(d.text)}</text>'
            f'<text x="{centre:.1f}" y="{base + 18}" text-anchor="middle" fill="{INK}" '
            f'class="chart-label">{escape(_short(d.label))}</text>'
        )
    parts.append(
        f'<line x1="16" y1="{base}" x2="{WIDTH - 16}" y2="{base}" stroke="{MUTED}" '
        'stroke-width="1"/></svg>'
    )
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()
