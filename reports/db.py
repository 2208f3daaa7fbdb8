"""Database expressions the SLA report needs and Django does not ship: wall seconds between two
instants; totals of a grouped query over coarser groups (window sums over the groups' counts);
and percentiles computed in the database (``percentile_cont`` per group and in all with
``GROUPING SETS`` on PostgreSQL; on SQLite an ordered window over the rows, of which only the
two rows around each percentile leave the database)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    QuerySet,
    Value,
    Window,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, RowNumber


class WallSeconds(Func):
    """Seconds from ``start`` to ``end`` (two datetime expressions), as a float."""

    output_field = FloatField()

    def __init__(self, end: Combinable | str, start: Combinable | str) -> None:
        super().__init__(end, start)

    # Standard SQL (PostgreSQL): EXTRACT(EPOCH FROM interval) is numeric since PG 14.
    template = "CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)"
    arg_joiner = " - "

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django stores SQLite datetimes as ISO text, which julianday() reads; rounded to the
        # millisecond, as julianday's double leaves noise below that.
        return self.as_sql(
            compiler,
            connection,
            template="ROUND((JULIANDAY(%(expressions)s)) * 86400.0, 3)",
            arg_joiner=") - JULIANDAY(",
            **extra,
        )


class _SumOf(Func):
    """SUM over an aggregate, to sit inside a Window (Django refuses ``Sum(Count(...))``)."""

    function = "SUM"
    window_compatible = True


def _as_int(value: Any, expression: Any, connection: Any) -> int | None:
    return None if value is None else int(value)  # PostgreSQL's SUM(bigint) is numeric


class Rollup(Window):
    """``SUM(aggregate) OVER (PARTITION BY partition...)``: a grouped query's aggregate totalled
    over coarser groups (or over all rows, without ``partition``), in the database and in the
    same scan as the grouped rows themselves."""

    def __init__(self, aggregate: Any, *partition: str) -> None:
        super().__init__(
            _SumOf(aggregate),
            partition_by=[F(name) for name in partition] or None,
            output_field=BigIntegerField(),
        )

    def get_db_converters(self, connection: Any) -> list[Any]:
        return [*super().get_db_converters(connection), _as_int]

    def get_group_by_cols(self) -> list[Any]:
        # Evaluated over the grouped rows: nothing to add to GROUP BY (the partition's
        # columns are grouping keys already).
        return []


rollup = Rollup


def percentiles_per_group_and_total(
    queryset: QuerySet[Any],
    *,
    value: Any,
    groups: dict[str, Any],
    fractions: Sequence[float],
    buckets: Sequence[tuple[int, int | None]],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """PostgreSQL only: the count, the ``percentile_cont`` percentiles at ``fractions`` (a list
    per row, key ``q``) and the counts of ``value`` in each ``[low, high)`` bucket (``b0``…),
    per group and over all rows, in one statement that reads the rows once:
    ``GROUP BY GROUPING SETS ((groups), ())`` around the ORM-built (tenant-scoped) rows.
    Returns (the total row, the group rows)."""
    rows_sql, params = queryset.order_by().values(**groups, secs=value).query.sql_with_params()
    qn = connection.ops.quote_name
    keys = ", ".join(qn(name) for name in groups)
    percentiles = ", ".join(f"{float(f)!r}::double precision" for f in fractions)
    counts = [
        f"COUNT(*) FILTER (WHERE secs >= {int(low)}"
        + ("" if high is None else f" AND secs < {int(high)}")
        + f") AS b{i}"
        for i, (low, high) in enumerate(buckets)
    ]
    # Identifiers quoted, numbers formatted here, the rows' SQL compiled by Django with its
    # parameters kept apart: nothing from a request is spliced in.
    sql = (
        f"SELECT {keys}, GROUPING({keys}) AS total, COUNT(*) AS n, "  # noqa: S608
        f"PERCENTILE_CONT(ARRAY[{percentiles}]) WITHIN GROUP (ORDER BY secs) AS q, "
        f"{', '.join(counts)} FROM ({rows_sql}) AS answered "
        f"GROUP BY GROUPING SETS (({keys}), ())"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    total = next((row for row in rows if row["total"]), None)
    if total is None:  # no rows at all: the empty grouping set still counts zero
        total = {"n": 0, "q": None, **{f"b{i}": 0 for i in range(len(buckets))}}
    return total, [row for row in rows if not row["total"]]


def uses_percentile_cont() -> bool:
    return connection.vendor == "postgresql"


def window_percentiles(
    queryset: QuerySet[Any],
    value: Any,
    group_by: Sequence[str],
    fractions: Sequence[float],
) -> dict[tuple[Hashable, ...], dict[float, float]]:
    """Percentiles (``percentile_cont`` semantics) of ``value`` per group, for databases without
    ``percentile_cont`` (SQLite). One query per fraction: the rows are numbered in value order
    within their group, and only the one or two rows that bracket the percentile position come
    back, so the number of rows read into Python is at most two per group and fraction."""
    partition = [F(name) for name in group_by] or None
    numbered = queryset.annotate(
        _v=value,
        _rn=Window(RowNumber(), partition_by=partition, order_by=F("_v").asc()),
        _n=Window(Count("pk"), partition_by=partition),
    )
    out: dict[tuple[Hashable, ...], dict[float, float]] = {}
    for fraction in fractions:
        # 1-based position of the value at or below the percentile (CAST floors a
        # non-negative number on SQLite).
        low = Cast((F("_n") - 1) * Value(fraction), IntegerField()) + 1
        rows = (
            numbered.annotate(_low=low)
            .filter(_rn__gte=F("_low"), _rn__lte=F("_low") + 1)
            .values_list(*group_by, "_v", "_rn", "_n")
        )
        found: dict[tuple[Hashable, ...], dict[int, tuple[float, int]]] = {}
        for *key, v, rn, n in rows:
            found.setdefault(tuple(key), {})[rn] = (float(v), n)
        for key, by_rn in found.items():
            n = next(iter(by_rn.values()))[1]
            position = (n - 1) * fraction
            lower = math.floor(position)
            v_low = by_rn[lower + 1][0]
            v_high = by_rn.get(lower + 2, (v_low, n))[0]
            out.setdefault(key, {})[fraction] = v_low + (v_high - v_low) * (position - lower)
    return out
