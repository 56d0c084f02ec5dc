"""Small inline SVG charts for map popups and legends: no script, no online service.

Every chart is built from :func:`bordergeo.markup.html` templates, so labels are escaped
and numbers are formatted; the SVG is a few hundred bytes and prints with the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from bordergeo.markup import Html, html, join

__all__ = ["SERIES_STYLES", "backlog_chart", "bar_chart"]

#: Line styles of the observed and modelled series (same colours as the time slider).
SERIES_STYLES = {"observed": ("#b71c1c", ""), "modelled": ("#1565c0", "4 3")}


def backlog_chart(series: pd.DataFrame, *, labels: Mapping[str, str] | None = None,
                  title: str = "", width: int = 260, height: int = 110,
                  value: str = "trucks_waiting") -> Html:
    """Return a line chart of a gate's backlog over time, one line per kind.

    Parameters
    ----------
    series
        ``date``, ``value`` and optionally ``kind`` (``observed``/``modelled``).
    labels
        Words for the kinds in the legend (default: the kind names).
    title
        Caption above the chart.
    width, height
        Size in pixels.
    value
        Column with the count.

    Returns
    -------
    Html
        An ``<svg>`` element with the first and last dates, the peak and a legend.
    """
    frame = series.dropna(subset=[value]).copy()
    if frame.empty:
        return html("")
    frame["date"] = pd.to_datetime(frame["date"])
    if "kind" not in frame.columns:
        frame["kind"] = "observed"
    left, right, top, bottom = 38, 8, 18, 22
    x0, x1 = frame["date"].min(), frame["date"].max()
    span = max((x1 - x0).days, 1)
    peak = max(float(frame[value].max()), 1.0)

    def x(day: pd.Timestamp) -> float:
        return left + (width - left - right) * (day - x0).days / span

    def y(count: float) -> float:
        return top + (height - top - bottom) * (1 - count / peak)

    lines, legend = [], []
    for k, (kind, part) in enumerate(frame.sort_values("date").groupby("kind", sort=False)):
        colour, dash = SERIES_STYLES.get(str(kind), ("#424242", ""))
        points = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in zip(part["date"], part[value],
                                                                     strict=True))
        lines.append(html("<polyline points='{}' fill='none' stroke='{}' stroke-width='2' "
                          "stroke-dasharray='{}'/>", points, colour, dash))
        if len(part) <= 12:
            lines.append(join(html("<circle cx='{:.1f}' cy='{:.1f}' r='2.2' fill='{}'/>",
                                   x(d), y(v), colour)
                              for d, v in zip(part["date"], part[value], strict=True)))
        name = (labels or {}).get(str(kind), str(kind))
        legend.append(html("<text x='{}' y='11' font-size='10' fill='{}'>{}</text>",
                           left + 90 * k, colour, name))
    axis = html(
        "<line x1='{l}' y1='{b}' x2='{r}' y2='{b}' stroke='#999'/>"
        "<line x1='{l}' y1='{t}' x2='{l}' y2='{b}' stroke='#999'/>"
        "<text x='{lm}' y='{tt}' font-size='10' text-anchor='end'>{peak:,.0f}</text>"
        "<text x='{lm}' y='{bb}' font-size='10' text-anchor='end'>0</text>"
        "<text x='{l}' y='{d}' font-size='10'>{first}</text>"
        "<text x='{r}' y='{d}' font-size='10' text-anchor='end'>{last}</text>",
        l=left, r=width - right, t=top, b=height - bottom, lm=left - 3, tt=top + 4,
        bb=height - bottom, d=height - 6, peak=peak, first=f"{x0:%Y-%m-%d}",
        last=f"{x1:%Y-%m-%d}")
    caption = html("<div style='font-size:11px;font-weight:bold'>{}</div>", title) \
        if title else html("")
    return html("{}<svg class='bordergeo-chart' width='{}' height='{}' viewBox='0 0 {} {}' "
                "role='img'>{}{}{}</svg>", caption, width, height, width, height, axis,
                join(lines), join(legend))


def bar_chart(groups: Sequence[str], series: Mapping[str, Sequence[float]], *,
              colours: Sequence[str] = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f"),
              title: str = "", width: int = 320, bar_height: int = 9) -> Html:
    """Return a horizontal grouped bar chart (e.g. trucks/day per crossing by scenario).

    Parameters
    ----------
    groups
        Row labels (crossings).
    series
        ``{series label: values per group}`` (scenarios).
    colours
        One colour per series, in order.
    title
        Caption.
    width, bar_height
        Size in pixels.

    Returns
    -------
    Html
        An ``<svg>`` element with the values written at the bar ends.
    """
    names = list(series)
    values = np.array([list(series[n]) for n in names], float)
    peak = max(float(np.nanmax(values)) if values.size else 1.0, 1.0)
    label_w, right = 110, 40
    row_h = bar_height * len(names) + 6
    height = 16 + row_h * len(groups) + 14 * len(names)
    parts = []
    for g, group in enumerate(groups):
        top = 16 + g * row_h
        parts.append(html("<text x='0' y='{}' font-size='10'>{}</text>", top + bar_height,
                          group))
        for s, _name in enumerate(names):
            v = values[s, g]
            if not np.isfinite(v):
                continue
            length = (width - label_w - right) * v / peak
            yy = top + s * bar_height
            parts.append(html("<rect x='{}' y='{}' width='{:.1f}' height='{}' fill='{}'/>"
                              "<text x='{:.1f}' y='{}' font-size='9'>{:,.0f}</text>",
                              label_w, yy, length, bar_height - 1, colours[s % len(colours)],
                              label_w + length + 3, yy + bar_height - 1, v))
    for s, name in enumerate(names):
        yy = 16 + row_h * len(groups) + 12 * s + 8
        parts.append(html("<rect x='0' y='{}' width='10' height='8' fill='{}'/>"
                          "<text x='14' y='{}' font-size='10'>{}</text>", yy - 7,
                          colours[s % len(colours)], yy, name))
    caption = html("<div style='font-size:11px;font-weight:bold'>{}</div>", title) \
        if title else html("")
    return html("{}<svg class='bordergeo-chart' width='{}' height='{}' viewBox='0 0 {} {}' "
                "role='img'>{}</svg>", caption, width, height, width, height, join(parts))
