"""reports.charts: escaped, accessible SVG with no style attribute."""

from __future__ import annotations

import re

import pytest

from reports.charts import Datum, bar_chart, column_chart


def test_bar_chart_scales_bars_and_draws_the_goal() -> None:
    svg = bar_chart(
        chart_id="c",
        title="Achievement",
        desc="Share met on time",
        data=[Datum("Gold", 50.0, "50 %", "bad"), Datum("Silver", 100.0, "100 %", "ok")],
        maximum=100,
        goal=95,
        goal_label="goal 95 %",
    )
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="c"')
    assert 'role="img"' in svg and 'aria-labelledby="c-title c-desc"' in svg
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert widths[1] == pytest.approx(2 * widths[0])  # 100 % is twice 50 %
    assert 'class="goal-line"' in svg and ">goal 95 %<" in svg
    assert " style=" not in svg and "<script" not in svg


def test_a_bar_without_value_draws_only_its_text() -> None:
    svg = bar_chart(
        chart_id="c", title="t", desc="d", data=[Datum("Gold", None, "no decided clocks")]
    )
    assert "<rect" not in svg and "no decided clocks" in svg


def test_text_is_escaped_and_long_labels_shortened() -> None:
    evil = '</text><script>alert("x")</script>' + "x" * 50
    svg = bar_chart(chart_id="c", title=evil, desc=evil, data=[Datum(evil, 1, evil)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "…</text>" in svg
    col = column_chart(chart_id="d", title=evil, desc="d", data=[Datum(evil, 3, "3")])
    assert "<script>" not in col


def test_empty_charts_say_so() -> None:
    assert "No data for this period." in bar_chart(chart_id="c", title="t", desc="d", data=[])
    svg = column_chart(chart_id="c", title="t", desc="d", data=[Datum("a", 0, "0")], empty="None.")
    assert "None." in svg and "<title" in svg


def test_chart_ids_are_checked() -> None:
    with pytest.raises(ValueError):
        bar_chart(chart_id='x" onload="y', title="t", desc="d", data=[])
