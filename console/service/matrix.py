"""The SLA matrix editor: severities (rows) x metrics (columns), each cell an ordered list of
rules (the first whose condition holds applies; seed 003's critical first response is two rules).

Every rule is a duration (number + minutes / hours / business days), a calendar, a condition on
when the ticket was opened (against the rule's calendar or another one), escalation eligibility
and a warning share. A rule without a duration is no rule; a cell without rules is no target.
The row header carries the "covered" box: a package's covered severities are its matrix's rows.

Field names: ``cover-<severity>``; per cell ``t-<severity>-<metric>-rows`` (how many rule rows
the form showed) and per rule ``t-<severity>-<metric>-<i>-<field>``. Everything the admin typed
comes back on an error, with the message next to the rule it is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sla.models import BusinessCalendar, Metric, Severity, SLATarget, SupportPackage
from sla.services import TargetSpec

UNITS = (
    ("minutes", gettext_lazy("minutes")),
    ("hours", gettext_lazy("hours")),
    ("days", gettext_lazy("business days")),
)
CONDITIONS = (
    ("", gettext_lazy("Always")),
    (SLATarget.Condition.OPENED_WITHIN, gettext_lazy("Opened within business hours")),
    (SLATarget.Condition.OPENED_OUTSIDE, gettext_lazy("Opened outside business hours")),
)
MAX_RULES = 10
MAX_MINUTES = 60 * 24 * 366 * 5
MAX_DAYS = 3650
DEFAULT_WARN = 75


@dataclass
class Rule:
    prefix: str
    amount: str = ""
    unit: str = "hours"
    calendar: str = ""
    condition: str = ""
    condition_calendar: str = ""
    escalate: bool = True
    warn: str = str(DEFAULT_WARN)
    errors: list[str] = field(default_factory=list)
    spec: TargetSpec | None = None

    @property
    def filled(self) -> bool:
        return bool(self.amount.strip())

    def id(self, name: str) -> str:
        return f"{self.prefix}-{name}"


@dataclass
class Cell:
    severity: Severity
    metric: str
    metric_label: str
    rules: list[Rule]
    errors: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"t-{self.severity.pk}-{self.metric}"

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(r.errors for r in self.rules)


@dataclass
class Row:
    severity: Severity
    covered: bool
    cells: list[Cell]
    errors: list[str] = field(default_factory=list)


def _rule_from_target(prefix: str, target: SLATarget) -> Rule:
    if target.target_business_days is not None:
        amount, unit = str(target.target_business_days), "days"
    elif (target.target_minutes or 0) % 60 == 0:
        amount, unit = str((target.target_minutes or 0) // 60), "hours"
    else:
        amount, unit = str(target.target_minutes), "minutes"
    return Rule(
        prefix=prefix,
        amount=amount,
        unit=unit,
        calendar=str(target.calendar_id),
        condition=target.condition,
        condition_calendar=(
            str(target.condition_calendar_id)
            if target.condition_calendar_id not in (None, target.calendar_id)
            else ""
        ),
        escalate=target.escalation_eligible,
        warn=str(target.warn_at_percent),
    )


class Matrix:
    """Unbound (from the package's targets) or bound (from a POST). ``is_valid()`` then
    ``covered()`` and ``targets()`` give what ``package_create``/``package_update`` take."""

    metrics = Metric.choices

    def __init__(
        self,
        *,
        severities: list[Severity],
        calendars: list[BusinessCalendar],
        package: SupportPackage | None = None,
        data: QueryDict | None = None,
    ) -> None:
        self.severities = severities
        self.calendars = calendars
        self.calendar_by_id = {str(c.pk): c for c in calendars}
        self.default_calendar = str(calendars[0].pk) if calendars else ""
        self.data = data
        self.errors: list[str] = []
        self._valid: bool | None = None
        self.rows = self._bound_rows(data) if data is not None else self._initial_rows(package)

    # --- building ----------------------------------------------------------------------------

    def _blank(self, prefix: str) -> Rule:
        return Rule(prefix=prefix, calendar=self.default_calendar)

    def _initial_rows(self, package: SupportPackage | None) -> list[Row]:
        targets: dict[tuple[int, str], list[SLATarget]] = {}
        covered: set[int]
        if package is None:
            covered = {s.pk for s in self.severities}
        else:
            covered = {ps.pk for ps in package.severities.all()}
            for target in sorted(package.targets.all(), key=lambda t: (t.position, t.pk)):
                targets.setdefault((target.severity_id, target.metric), []).append(target)
        rows = []
        for severity in self.severities:
            cells = []
            for metric, label in self.metrics:
                prefix = f"t-{severity.pk}-{metric}"
                rules = [
                    _rule_from_target(f"{prefix}-{i}", t)
                    for i, t in enumerate(targets.get((severity.pk, metric), []))
                ]
                rules.append(self._blank(f"{prefix}-{len(rules)}"))
                cells.append(Cell(severity, metric, str(label), rules))
            rows.append(Row(severity, severity.pk in covered, cells))
        return rows

    def _bound_rows(self, data: QueryDict) -> list[Row]:
        rows = []
        for severity in self.severities:
            cells = []
            for metric, label in self.metrics:
                prefix = f"t-{severity.pk}-{metric}"
                try:
                    count = int(data.get(f"{prefix}-rows", "1"))
                except ValueError:
                    count = 1
                count = max(1, min(count, MAX_RULES))
                rules = []
                for i in range(count):
                    p = f"{prefix}-{i}"
                    rules.append(
                        Rule(
                            prefix=p,
                            amount=data.get(f"{p}-amount", "").strip(),
                            unit=data.get(f"{p}-unit", "hours"),
                            calendar=data.get(f"{p}-calendar", ""),
                            condition=data.get(f"{p}-condition", ""),
                            condition_calendar=data.get(f"{p}-condition_calendar", ""),
                            escalate=data.get(f"{p}-escalate") in ("on", "1", "true"),
                            warn=data.get(f"{p}-warn", "").strip(),
                        )
                    )
                if rules[-1].filled and count < MAX_RULES:
                    rules.append(self._blank(f"{prefix}-{count}"))
                cells.append(Cell(severity, metric, str(label), rules))
            covered = data.get(f"cover-{severity.pk}") in ("on", "1", "true")
            rows.append(Row(severity, covered, cells))
        return rows

    # --- validation --------------------------------------------------------------------------

    def _duration(self, rule: Rule) -> tuple[int | None, int | None]:
        text = rule.amount.replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            rule.errors.append(_("The duration must be a number, e.g. 8."))
            return None, None
        if rule.unit not in {u for u, _label in UNITS}:
            rule.errors.append(_("Choose minutes, hours or business days."))
            return None, None
        if not amount.is_finite() or amount <= 0:
            rule.errors.append(_("The duration must be more than zero."))
            return None, None
        if rule.unit == "days":
            if amount != amount.to_integral_value() or amount > MAX_DAYS:
                rule.errors.append(
                    _("Business days are a whole number up to %(max)d.") % {"max": MAX_DAYS}
                )
                return None, None
            return None, int(amount)
        minutes = amount * 60 if rule.unit == "hours" else amount
        if minutes != minutes.to_integral_value():
            rule.errors.append(_("The duration must come to whole minutes."))
            return None, None
        if minutes > MAX_MINUTES:
            rule.errors.append(_("That duration is too long."))
            return None, None
        return int(minutes), None

    def _check_rule(self, severity: Severity, metric: str, rule: Rule) -> None:
        minutes, days = self._duration(rule)
        calendar = self.calendar_by_id.get(rule.calendar)
        if calendar is None:
            rule.errors.append(
                _("Choose a calendar.") if self.calendars else _("Create a calendar first.")
            )
        if rule.condition not in {c for c, _label in CONDITIONS}:
            rule.errors.append(_("Choose when the rule applies."))
        condition_calendar = None
        if rule.condition:
            if rule.condition_calendar:
                condition_calendar = self.calendar_by_id.get(rule.condition_calendar)
                if condition_calendar is None:
                    rule.errors.append(_("Choose the calendar whose hours the condition reads."))
            else:
                condition_calendar = calendar
        warn = DEFAULT_WARN
        if rule.warn:
            try:
                warn = int(rule.warn)
            except ValueError:
                warn = 0
            if not 1 <= warn <= 100:
                rule.errors.append(_("Warn at a share from 1 to 100 %."))
        if rule.errors or calendar is None:
            return
        rule.spec = TargetSpec(
            metric=metric,
            severity=severity,
            target_minutes=minutes,
            target_business_days=days,
            calendar=calendar,
            escalation_eligible=rule.escalate,
            warn_at_percent=warn,
            condition=rule.condition,
            condition_calendar=condition_calendar,
        )

    def is_valid(self) -> bool:
        if self._valid is not None:
            return self._valid
        for row in self.rows:
            for cell in row.cells:
                filled = [r for r in cell.rules if r.filled]
                for rule in filled:
                    self._check_rule(row.severity, cell.metric, rule)
                for rule in filled[:-1]:
                    if not rule.condition and not rule.errors:
                        rule.errors.append(
                            _(
                                "An “always” rule must come last: the rules after it would "
                                "never apply."
                            )
                        )
                if filled and not row.covered:
                    cell.errors.append(
                        _("%(severity)s is not covered: tick Covered, or clear this cell.")
                        % {"severity": row.severity.name}
                    )
        self._valid = not self.errors and not any(
            cell.has_errors for row in self.rows for cell in row.cells
        )
        return self._valid

    def add_error(self, message: str) -> None:
        self.errors.append(message)
        self._valid = False

    @property
    def has_errors(self) -> bool:
        return self._valid is False

    def covered(self) -> list[Severity]:
        return [row.severity for row in self.rows if row.covered]

    def targets(self) -> list[TargetSpec]:
        assert self._valid, "call is_valid() first"
        return [
            rule.spec
            for row in self.rows
            for cell in row.cells
            for rule in cell.rules
            if rule.spec is not None
        ]

    # --- template helpers ------------------------------------------------------------------

    @property
    def units(self) -> tuple[tuple[str, Any], ...]:
        return UNITS

    @property
    def conditions(self) -> tuple[tuple[str, Any], ...]:
        return CONDITIONS

    @property
    def metric_labels(self) -> list[str]:
        return [str(label) for _m, label in self.metrics]

    def filled_count(self) -> int:
        return sum(1 for row in self.rows for cell in row.cells for r in cell.rules if r.filled)
