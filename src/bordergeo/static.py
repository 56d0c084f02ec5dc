"""Static figures for printed reports: the map layers as a PNG and time–distance charts.

Figures are built as :class:`matplotlib.figure.Figure` objects without pyplot: nothing
opens a window, the host application's matplotlib backend is left alone, and the figures
render the same on a server. In a notebook they display inline as PNG images
(:class:`InlineFigure`), whether or not pyplot was ever imported.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bordergeo.datasets import BorderDataset
from bordergeo.errors import BorderGeoError, DataFileError
from bordergeo.io import atomic_write
from bordergeo.maps import GATE_COLOURS, ROAD_STYLES
from bordergeo.network import RoadNetwork
from bordergeo.routing import Route

__all__ = ["InlineFigure", "plot_map", "time_distance_chart", "save_figure"]

logger = logging.getLogger(__name__)

_GATE_HEX = {"international": "#d63e2a", "main": "#f69730", "secondary": "#38aadd",
             "crossing": "#436978"}

#: Metadata that would make two runs differ (a date, the writing software) is left out.
_FIGURE_METADATA = {"png": {"Software": None}, "svg": {"Date": None},
                    "pdf": {"CreationDate": None}}


class InlineFigure(Figure):
    """A figure that shows itself as a PNG image when it ends a notebook cell.

    IPython shows a plain :class:`~matplotlib.figure.Figure` as an image only once pyplot has
    set up the inline backend; a figure made without pyplot shows as
    ``<Figure size 800x450 with 1 Axes>``. This one draws itself through IPython's
    ``_repr_png_`` hook, with no pyplot state involved; everything else is a normal figure.
    """

    def _repr_png_(self) -> bytes:
        """Return the figure as PNG bytes (at the figure's dpi, without a date or software)."""
        buffer = io.BytesIO()
        self.canvas.print_figure(buffer, format="png", dpi=self.dpi,
                                 metadata=_FIGURE_METADATA["png"])
        return buffer.getvalue()


def _text_as_given(build: Callable[..., Figure]) -> Callable[..., Figure]:
    """Build a figure with mathtext off: a ``$`` in a name from data is drawn as a ``$``.

    With mathtext on, a gate named ``$x^{$`` (an unclosed group) would fail when the figure
    is drawn, and ``$x^2$`` would be typeset; matplotlib reads ``text.parse_math`` when
    each text is created.
    """
    @functools.wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with matplotlib.rc_context({"text.parse_math": False}):
            return build(*args, **kwargs)
    return wrapper


@_text_as_given
def plot_map(dataset: BorderDataset, *, routes: Sequence[Route] | None = None,
             corridors: gpd.GeoDataFrame | None = None,
             gate_load: pd.DataFrame | None = None, title: str | None = None,
             extent: tuple[float, float, float, float] | None = None,
             figsize: tuple[float, float] = (9.0, 10.0)) -> Figure:
    """Draw the border, roads, hubs, gates and analysis layers as a static figure.

    Parameters
    ----------
    dataset
        The layers.
    routes, corridors, gate_load
        As in :func:`bordergeo.maps.build_map`.
    title
        Figure title.
    extent
        ``(min_lon, min_lat, max_lon, max_lat)``; default: the gates, the border and the
        northern hubs.
    figsize
        Inches.

    Returns
    -------
    InlineFigure
        A :class:`matplotlib.figure.Figure` that displays inline in a notebook.
    """
    fig = InlineFigure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    roads = dataset.roads
    for road_class, (colour, width) in ROAD_STYLES.items():
        part = roads[roads["class"] == road_class]
        if len(part):
            part.plot(ax=ax, color=colour, linewidth=width / 2, label=road_class.replace("_", " "),
                      zorder=2)
    if len(dataset.border):
        dataset.border.plot(ax=ax, color="#b71c1c", linewidth=1.5, linestyle="--",
                            label="VN–CN border", zorder=3)
    if corridors is not None and len(corridors):
        flows = corridors.to_crs("EPSG:4326") if corridors.crs is not None else corridors
        peak = float(flows["trucks_per_day"].max())
        widths = 0.8 + 7.0 * np.sqrt(flows["trucks_per_day"].to_numpy(float) / peak)
        flows.plot(ax=ax, color="#0d47a1", alpha=0.45, linewidth=widths, zorder=4)
    for route in routes or []:
        xs, ys = route.geometry.xy
        ax.plot(xs, ys, color="#1565c0", linewidth=1.2, alpha=0.9, zorder=5)
    if len(dataset.hubs):
        dataset.hubs.plot(ax=ax, color="#0067a3", markersize=28, marker="s", zorder=6,
                          label="inland hub")
    if gate_load is not None and len(gate_load):
        located = dataset.gates.set_index("id")
        load = gate_load[gate_load["gate_id"].isin(located.index)]
        load = load[load["trucks_per_day"] > 0]
        if len(load):
            peak = float(load["trucks_per_day"].max())
            ax.scatter([located.geometry[g].x for g in load["gate_id"]],
                       [located.geometry[g].y for g in load["gate_id"]],
                       s=80 + 900 * load["trucks_per_day"] / peak, facecolors="none",
                       edgecolors="#c62828", linewidths=1.5, zorder=7,
                       label="trucks/day at gate")
    gates = dataset.gates
    for level, _ in GATE_COLOURS.items():
        part = gates[(gates["level"] == level) & (gates["status"] == "open")]
        if len(part):
            part.plot(ax=ax, color=_GATE_HEX[level], markersize=60, marker="^", zorder=8,
                      edgecolor="black", linewidth=0.5, label=f"gate: {level}")
    shut = gates[gates["status"] != "open"]
    if len(shut):
        shut.plot(ax=ax, color="#9e9e9e", markersize=50, marker="^", zorder=8,
                  edgecolor="black", linewidth=0.5, label="gate: closed / restricted")
    if extent is None:
        extent = _default_extent(dataset)
    x0, y0, x1, y1 = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    _place_gate_labels(fig, ax, gates)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.legend(loc="lower right", fontsize=7, framealpha=0.9)
    ax.set_title(title or "Lạng Sơn border gates", fontsize=11)
    ax.text(0.01, 0.01, "Border: © OpenStreetMap contributors (ODbL) via @geo-maps; "
            "roads: CTU-SematX LegoCity open data (CC BY-SA 4.0)",
            transform=ax.transAxes, fontsize=6, color="#555")
    fig.tight_layout()
    return fig


#: Label order: international crossings first, then main, secondary and the rest.
_LABEL_RANK = {"international": 0, "main": 1, "secondary": 2}
#: Where a label may sit around its point (offset in points), tried in order.
_LABEL_OFFSETS = ((4, 4), (4, -10), (-4, 4), (-4, -10), (6, 12), (6, -18))


def _place_gate_labels(fig: Figure, ax: Axes, gates: gpd.GeoDataFrame) -> None:
    """Name the open crossings (not their lanes) without two names overlapping.

    Each name tries a few positions around its point, the most important crossings first;
    a name that fits nowhere is left out rather than drawn over another.
    """
    from bordergeo.gates import crossing_ids

    if not len(gates):
        return
    crossing = crossing_ids(gates)
    shown = gates[(gates["status"] == "open")
                  & (crossing.reindex(gates["id"].astype(str)).to_numpy()
                     == gates["id"].astype(str).to_numpy())]
    shown = shown.assign(_rank=shown["level"].map(_LABEL_RANK).fillna(3)).sort_values("_rank")
    renderer = fig.canvas.get_renderer()
    taken: list = []
    for _, gate in shown.iterrows():
        for dx, dy in _LABEL_OFFSETS:
            label = ax.annotate(str(gate["name_vi"]), (gate.geometry.x, gate.geometry.y),
                                fontsize=7, xytext=(dx, dy), textcoords="offset points",
                                ha="left" if dx > 0 else "right", zorder=9)
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in taken):
                taken.append(box)
                break
            label.remove()


def _default_extent(dataset: BorderDataset) -> tuple[float, float, float, float]:
    parts = [dataset.gates.geometry, dataset.border.geometry]
    hubs = dataset.hubs
    if len(hubs):
        north = hubs[hubs.geometry.y > 20.5]
        parts.append(north.geometry)
    x0, y0, x1, y1 = pd.concat(parts).total_bounds
    pad_x, pad_y = 0.05 * (x1 - x0) + 0.02, 0.05 * (y1 - y0) + 0.02
    return x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y


@_text_as_given
def time_distance_chart(route: Route, network: RoadNetwork, *,
                        border_wait_h: float = 0.0, title: str | None = None,
                        figsize: tuple[float, float] = (8.0, 4.5)) -> Figure:
    """Cumulative time against distance along a route, the border wait as a vertical step.

    Parameters
    ----------
    route
        From :meth:`bordergeo.routing.Router.route`.
    network
        The network the route was found on (for the length and time of each edge).
    border_wait_h
        Hours waiting at the gate at the end of the route (e.g. an assignment's
        ``wait_h`` or a backlog's cohort wait).
    title
        Figure title (default: origin → destination).
    figsize
        Inches.

    Returns
    -------
    InlineFigure
        A :class:`matplotlib.figure.Figure` that displays inline in a notebook.
    """
    if border_wait_h < 0 or not math.isfinite(border_wait_h):
        raise BorderGeoError("border_wait_h must be a finite number ≥ 0")
    edges = network.table.iloc[np.asarray(route.edges, dtype=np.int64)]
    if len(edges):
        lengths = edges["length"].to_numpy(float)
        times = edges["travel_time"].to_numpy(float)
        refs = edges["ref"].astype(object).where(edges["ref"].notna(), "").tolist()
    else:
        lengths, times, refs = np.array([route.length_m]), np.array([route.travel_time_s]), [""]
    distance_km = np.r_[0.0, np.cumsum(lengths)] / 1000.0
    time_h = np.r_[0.0, np.cumsum(times)] / 3600.0
    fig = InlineFigure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(distance_km, time_h, color="#1565c0", linewidth=2, label="driving")
    if border_wait_h > 0:
        ax.plot([distance_km[-1], distance_km[-1]], [time_h[-1], time_h[-1] + border_wait_h],
                color="#c62828", linewidth=3, label=f"wait at the gate ({border_wait_h:.1f} h)")
    # label each stretch of one road at its middle
    start = 0
    for k in range(1, len(refs) + 1):
        if k == len(refs) or refs[k] != refs[start]:
            if refs[start]:
                middle = (distance_km[start] + distance_km[k]) / 2
                ax.annotate(str(refs[start]), (middle, (time_h[start] + time_h[k]) / 2),
                            fontsize=7, xytext=(0, 8), textcoords="offset points",
                            ha="center", color="#333")
            start = k
    ax.set_xlabel("distance along the route (km)")
    ax.set_ylabel("cumulative time (h)")
    ax.set_title(title or f"{route.origin.display} → {route.destination.display}",
                 fontsize=11)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    total = time_h[-1] + border_wait_h
    ax.text(0.99, 0.02, f"{distance_km[-1]:.1f} km, {total:.1f} h in all",
            transform=ax.transAxes, ha="right", fontsize=8)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Write a figure to PNG (or SVG/PDF by suffix) atomically, the same bytes on every run.

    The figure is drawn in memory first, then written through bordergeo's one atomic writer
    (:func:`bordergeo.io.atomic_write`). The files carry no date and no random ids: PNG
    without the "Software" entry, SVG without a date and with ids drawn from a fixed salt
    (``svg.hashsalt``), PDF without a creation date. Same figure and same matplotlib, same
    bytes.

    Parameters
    ----------
    fig
        The figure.
    path
        Destination file: ``.png``, ``.svg`` or ``.pdf``.
    dpi
        Resolution of raster output.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataFileError
        If the suffix is not one of those, or the file cannot be written.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".") or "png"
    if fmt not in _FIGURE_METADATA:
        raise DataFileError(f"{path}: a figure is written as .png, .svg or .pdf")
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "bordergeo"}):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_FIGURE_METADATA[fmt])
    with atomic_write(path, mode="wb") as handle:
        handle.write(buffer.getvalue())
    logger.info("wrote %s", path)
    return path

