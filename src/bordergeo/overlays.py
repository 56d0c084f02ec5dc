"""Analysis layers for the map: routes, corridors, gate and road congestion, a time slider.

Each ``add_*`` function draws one result of the routing or congestion modules on a Folium
map as its own layer (toggled in the layer control) and returns it. Every path carries a
``bordergeo-*`` CSS class so that tests and stylesheets can find it. Tooltips, popups and
legends are built with :func:`bordergeo.markup.html` templates and handed to folium through
:mod:`bordergeo.markup`, so every text from data (a road ``ref``, a gate name, a label) is
escaped by the one function :func:`~bordergeo.markup.escape_text`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bordergeo.datasets import BorderDataset
from bordergeo.errors import BorderGeoError
from bordergeo.markup import (
    Html,
    feature_group,
    html,
    is_blank,
    join,
    popup,
    script_json,
    tooltip,
)
from bordergeo.routing import Route, Router

__all__ = [
    "LOAD_CLASSES",
    "TIMELINE_COLOURS",
    "ROUTE_COLOURS",
    "add_backlog_timeline",
    "add_corridors",
    "add_gate_congestion",
    "add_road_congestion",
    "add_routes",
    "analysis_layers",
    "congestion_legend_html",
    "timeline_legend_html",
    "fastest_routes",
    "load_colour",
    "rounded_lines",
]

logger = logging.getLogger(__name__)

#: Colour of a load class by volume/capacity (or utilisation) upper bound.
LOAD_CLASSES: list[tuple[float, str, str]] = [
    (0.5, "#2e7d32", "below 50 %"),
    (0.8, "#f9a825", "50–80 %"),
    (1.0, "#ef6c00", "80–100 %"),
    (math.inf, "#c62828", "over capacity: the queue grows"),
]
#: Fill and edge colours of the time-slider circles by kind of series.
TIMELINE_COLOURS = {"observed": ("#b71c1c", "#4a0000"), "modelled": ("#1565c0", "#0d2b52")}
#: Colours of routes, by destination gate, in order of first appearance.
ROUTE_COLOURS = ["#1565c0", "#6a1b9a", "#00838f", "#ad1457", "#4e342e", "#283593",
                 "#2e7d32", "#bf360c"]


def load_colour(ratio: float) -> str:
    """Return the colour of a volume/capacity ratio (grey when unknown)."""
    if ratio is None or not np.isfinite(ratio):
        return "#9e9e9e"
    return next(colour for bound, colour, _ in LOAD_CLASSES if ratio < bound)


def rounded_lines(geometries: gpd.GeoSeries, *, decimals: int = 5) -> gpd.GeoSeries:
    """Round coordinates (5 decimals ≈ 1 m) so the page stays small; drop collapsed lines.

    Parameters
    ----------
    geometries
        Lines in EPSG:4326.
    decimals
        Decimal places kept.

    Returns
    -------
    geopandas.GeoSeries
        Same index; lines that collapse to a point become empty.
    """
    rounded = shapely.transform(geometries.to_numpy(), lambda xy: np.round(xy, decimals))
    return gpd.GeoSeries(rounded, index=geometries.index, crs=geometries.crs)


def _lat_lon(line: shapely.LineString) -> list[list[float]]:
    return [[round(y, 5), round(x, 5)] for x, y in line.coords]


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        return gdf.to_crs("EPSG:4326")
    return gdf


def add_routes(m: folium.Map, routes: Sequence[Route], *, name: str = "Routes to the gates",
               show: bool = True) -> folium.FeatureGroup:
    """Draw routes (e.g. each hub's fastest route to a gate), coloured by destination.

    Parameters
    ----------
    m
        The map.
    routes
        From :meth:`bordergeo.routing.Router.route` (geometry in EPSG:4326).
    name
        Layer name.
    show
        Whether the layer starts visible.

    Returns
    -------
    folium.FeatureGroup
    """
    group = feature_group(name, show=show)
    colours: dict[str, str] = {}
    for route in routes:
        colour = colours.setdefault(route.destination.label,
                                    ROUTE_COLOURS[len(colours) % len(ROUTE_COLOURS)])
        text = html("{} → {}: {:.1f} km, {:.0f} min{}", route.origin.display,
                    route.destination.display, route.length_km, route.travel_time_min,
                    html(" via {}", route.road_sequence) if route.refs else "")
        folium.PolyLine(_lat_lon(route.geometry), color=colour, weight=5, opacity=0.75,
                        tooltip=tooltip(text), class_name="bordergeo-route",
                        ).add_to(group)
    group.add_to(m)
    return group


def add_corridors(m: folium.Map, flows: gpd.GeoDataFrame, *,
                  name: str = "Corridors (trucks/day)", min_share: float = 0.01,
                  show: bool = True) -> folium.FeatureGroup:
    """Draw flow per road segment: width by trucks/day, arrows in the driving direction.

    Parameters
    ----------
    m
        The map.
    flows
        Directed road edges with ``trucks_per_day`` (and optionally ``ref``), e.g.
        :attr:`bordergeo.assignment.AssignmentResult.roads` or
        :meth:`bordergeo.routing.Router.corridors`.
    name
        Layer name.
    min_share
        Segments carrying less than this share of the largest flow are left out.
    show
        Whether the layer starts visible.

    Returns
    -------
    folium.FeatureGroup
    """
    if "trucks_per_day" not in flows.columns:
        raise BorderGeoError("corridor flows need a trucks_per_day column")
    group = feature_group(name, show=show)
    flows = _to_wgs84(flows)
    peak = float(flows["trucks_per_day"].max()) if len(flows) else 0.0
    if peak > 0:
        kept = flows[flows["trucks_per_day"] >= min_share * peak]
        lines = rounded_lines(kept.geometry)
        refs = kept["ref"] if "ref" in kept.columns else pd.Series("", index=kept.index)
        for line, trucks, ref in zip(lines, kept["trucks_per_day"], refs, strict=True):
            if line is None or line.is_empty:
                continue
            weight = 2.0 + 12.0 * math.sqrt(float(trucks) / peak)
            label = html("{:,.0f} trucks/day", float(trucks))
            if not is_blank(ref):
                label = html("{}: {}", ref, label)
            polyline = folium.PolyLine(_lat_lon(line), color="#0d47a1", weight=round(weight, 1),
                                       opacity=0.6, tooltip=tooltip(label),
                                       class_name="bordergeo-corridor")
            polyline.add_to(group)
            if float(trucks) >= 0.2 * peak:
                folium.plugins.PolyLineTextPath(
                    polyline, "  ➤  ", repeat=True, offset=5,
                    attributes={"fill": "#ffffff", "font-size": "12",
                                "class": "bordergeo-arrow"}).add_to(group)
    group.add_to(m)
    return group


def add_road_congestion(m: folium.Map, flows: gpd.GeoDataFrame, *,
                        name: str = "Road congestion (volume/capacity)",
                        show: bool = False) -> folium.FeatureGroup:
    """Colour loaded road segments by volume/capacity.

    Parameters
    ----------
    m
        The map.
    flows
        Directed edges with ``volume_capacity`` (and ``trucks_per_day``,
        ``capacity_trucks_day``, ``ref``), as returned by the assignment.
    name
        Layer name.
    show
        Whether the layer starts visible.

    Returns
    -------
    folium.FeatureGroup
    """
    if "volume_capacity" not in flows.columns:
        raise BorderGeoError("road congestion needs a volume_capacity column")
    group = feature_group(name, show=show)
    flows = _to_wgs84(flows)
    lines = rounded_lines(flows.geometry)
    for line, (_, row) in zip(lines, flows.iterrows(), strict=True):
        if line is None or line.is_empty:
            continue
        ratio = float(row["volume_capacity"])
        label = html("{} v/c {:.2f}: {:,.0f} of {:,.0f} trucks/day", row.get("ref"), ratio,
                     float(row.get("trucks_per_day", np.nan)),
                     float(row.get("capacity_trucks_day", np.nan)))
        folium.PolyLine(_lat_lon(line), color=load_colour(ratio), weight=4, opacity=0.9,
                        tooltip=tooltip(label), class_name="bordergeo-road-vc",
                        ).add_to(group)
    group.add_to(m)
    return group


def _gate_rows(gates: gpd.GeoDataFrame, table: pd.DataFrame) -> pd.DataFrame:
    if "gate_id" not in table.columns:
        raise BorderGeoError("gate congestion needs a gate_id column")
    located = _to_wgs84(gates).set_index("id")
    unknown = sorted(set(table["gate_id"]) - set(located.index))
    if unknown:
        raise BorderGeoError(f"gate congestion names unknown gate {unknown[0]!r}")
    rows = table.copy()
    rows["lon"] = [located.geometry[g].x for g in rows["gate_id"]]
    rows["lat"] = [located.geometry[g].y for g in rows["gate_id"]]
    rows["name"] = [located["name_vi"][g] for g in rows["gate_id"]]
    return rows


def add_gate_congestion(m: folium.Map, gates: gpd.GeoDataFrame, table: pd.DataFrame, *,
                        name: str = "Gate congestion", show: bool = True
                        ) -> folium.FeatureGroup:
    """Circles at the gates: size by trucks/day, colour by utilisation (flow / capacity).

    Parameters
    ----------
    m
        The map.
    gates
        The gates layer (for positions and names).
    table
        Per gate: ``gate_id``, ``trucks_per_day``, ``capacity_trucks_day`` and optionally
        ``wait_h``, ``backlog_end``, ``days_to_clear`` (e.g. one scenario of
        :func:`bordergeo.congestion.compare_scenarios`, or the assignment's gates).

    name
        Layer name.
    show
        Whether the layer starts visible.

    Returns
    -------
    folium.FeatureGroup
    """
    group = feature_group(name, show=show)
    rows = _gate_rows(gates, table)
    rows = rows[pd.to_numeric(rows["capacity_trucks_day"], errors="coerce").fillna(0) > 0]
    peak = max(float(rows["trucks_per_day"].max()) if len(rows) else 0.0, 1.0)
    for _, row in rows.iterrows():
        flow = float(row["trucks_per_day"])
        capacity = float(row["capacity_trucks_day"])
        ratio = flow / capacity
        details = [("Trucks/day", f"{flow:,.0f}"), ("Capacity/day", f"{capacity:,.0f}"),
                   ("Utilisation", f"{100 * ratio:.0f} %")]
        if "wait_h" in row and pd.notna(row["wait_h"]):
            details.append(("Mean wait", f"{float(row['wait_h']) * 60:.0f} min"))
        if "backlog_end" in row and pd.notna(row["backlog_end"]):
            details.append(("Queue at the end", f"{float(row['backlog_end']):,.0f} trucks"))
        if "days_to_clear" in row:
            clear = row["days_to_clear"]
            details.append(("Days to clear", "never (grows)" if pd.isna(clear)
                            else f"{float(clear):g}"))
        body = join(html("<tr><th style='text-align:left;padding-right:6px'>{}</th>"
                         "<td>{}</td></tr>", k, v) for k, v in details)
        content = html("<b>{}</b><table style='font-size:12px'>{}</table>", row["name"], body)
        folium.CircleMarker(
            [row["lat"], row["lon"]], radius=round(6 + 22 * math.sqrt(flow / peak), 1),
            color="#212121", weight=1, fill=True, fill_color=load_colour(ratio),
            fill_opacity=0.75, popup=popup(content, max_width=300),
            tooltip=tooltip(html("{}: {:,.0f} trucks/day, {:.0f} % of capacity", row["name"],
                                 flow, 100 * ratio)),
            class_name="bordergeo-gate-load",
        ).add_to(group)
    group.add_to(m)
    return group


def add_backlog_timeline(m: folium.Map, gates: gpd.GeoDataFrame, series: pd.DataFrame, *,
                         value: str = "trucks_waiting", label: str = "trucks waiting",
                         ) -> folium.plugins.TimestampedGeoJson:
    """Add a time slider over days: one circle per gate and day, sized by the backlog.

    Parameters
    ----------
    m
        The map.
    gates
        The gates layer. A ``gate_id`` of ``all`` (the whole province) is drawn at the
        centre of the open road gates.
    series
        ``date``, ``gate_id`` and the ``value`` column (observed or modelled); an optional
        ``kind`` column (``observed``/``modelled``) draws the two in their own colours.
    value
        Column holding the count.
    label
        What the count is, for popups.

    Returns
    -------
    folium.plugins.TimestampedGeoJson
    """
    missing = {"date", "gate_id", value} - set(series.columns)
    if missing:
        raise BorderGeoError(f"a backlog series needs {', '.join(sorted(missing))}")
    located = _to_wgs84(gates).set_index("id")
    open_road = located[(located["mode"] == "road") & (located["status"] == "open")]
    centre = shapely.MultiPoint(list(open_road.geometry)).centroid if len(open_road) else None
    peak = max(float(pd.to_numeric(series[value]).max()), 1.0)
    features = []
    for _, row in series.dropna(subset=[value]).iterrows():
        gate_id = str(row["gate_id"])
        if gate_id in located.index:
            point, name = located.geometry[gate_id], located["name_vi"][gate_id]
        elif gate_id == "all" and centre is not None:
            point, name = centre, "All open road gates"
        else:
            raise BorderGeoError(f"backlog series names unknown gate {gate_id!r}")
        count = float(row[value])
        day = pd.Timestamp(row["date"]).strftime("%Y-%m-%d")
        kind = str(row["kind"]) if "kind" in series.columns else ""
        fill, edge = TIMELINE_COLOURS.get(kind, TIMELINE_COLOURS["observed"])
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(point.x, 5), round(point.y, 5)]},
            "properties": {
                "times": [day],
                # Leaflet shows the popup property with innerHTML
                "popup": str(html("<b>{}</b><br>{}: {:,.0f} {}{}", name, day, count, label,
                                  html(" ({})", kind) if kind else "")),
                "icon": "circle",
                "iconstyle": {"fillColor": fill, "fillOpacity": 0.45, "stroke": True,
                              "color": edge, "weight": 1.5,
                              "radius": round(4 + 30 * math.sqrt(count / peak), 1)},
            },
        })
    # folium writes a dict as plain JSON into the <script>; script_json escapes "</script>"
    timeline = folium.plugins.TimestampedGeoJson(
        script_json({"type": "FeatureCollection", "features": features}), period="P1D",
        duration="PT23H",
        add_last_point=False, auto_play=False, loop=False, date_options="YYYY-MM-DD",
        time_slider_drag_update=True)
    timeline.add_to(m)
    return timeline


def _dot(colour: str, text: object) -> Html:
    return html("<div><span style='display:inline-block;width:12px;height:12px;"
                "border-radius:6px;background:{};opacity:0.8;vertical-align:middle;"
                "margin-right:6px'></span>{}</div>", colour, text)


def _legend_box(element_id: str, position: str, body: Html) -> Html:
    return html("<div id='{}' style='position:fixed;{};z-index:999;"
                "background:rgba(255,255,255,0.92);padding:6px 10px;border:1px solid #999;"
                "border-radius:4px;font:12px/1.5 sans-serif'>{}</div>",
                element_id, position, body)


def timeline_legend_html(kinds: Sequence[str]) -> Html:
    """Return the legend box of the time-slider circles (observed, modelled)."""
    rows = join(_dot(TIMELINE_COLOURS[k][0], f"{k} backlog") for k in kinds
                if k in TIMELINE_COLOURS)
    return _legend_box("bordergeo-timeline-legend", "bottom:44px;left:600px",
                       html("<b>Time slider</b> (circle size: trucks waiting){}", rows))


def congestion_legend_html() -> Html:
    """Return the legend box of the load colours (utilisation and volume/capacity)."""
    rows = join(_dot(colour, text) for _, colour, text in LOAD_CLASSES)
    return _legend_box("bordergeo-congestion-legend", "bottom:44px;right:12px",
                       html("<b>Load (flow / capacity)</b>{}"
                            "<div style='color:#555'>circle size: trucks/day</div>", rows))


def fastest_routes(router: Router, *, origins: Sequence[str] | None = None,
                   gates: Sequence[str] | None = None) -> list[Route]:
    """Return each origin's fastest route to its quickest open road gate.

    Parameters
    ----------
    router
        A router over the dataset's network.
    origins
        Hub ids or names (default: every hub).
    gates
        Gate ids to choose from (default: open road gates).

    Returns
    -------
    list of Route
        One per origin that reaches a gate, in the order given.
    """
    dataset = router.dataset
    if dataset is None:
        raise BorderGeoError("fastest_routes needs a router built with the dataset")
    origins = list(origins) if origins is not None else dataset.hubs["id"].tolist()
    if gates is None:
        usable = dataset.gates[(dataset.gates["mode"] == "road")
                               & (dataset.gates["status"] == "open")]
        gates = usable["id"].tolist()
    table = router.matrix(origins, list(gates))
    table = table[table["reachable"]]
    best = table.loc[table.groupby("origin", sort=False)["travel_time_min"].idxmin()]
    return [router.route(o, d) for o, d in zip(best["origin"], best["destination"],
                                               strict=True)]


def analysis_layers(dataset: BorderDataset, *, routes: bool = False, corridors: bool = False,
                    scenario: str | os.PathLike[str] | None = None,
                    observed: str | os.PathLike[str] | None = None,
                    replay: str | os.PathLike[str] | None = None,
                    demand: pd.DataFrame | None = None, days: int = 7,
                    initial_backlog: float = 0.0, start_date: str = "2026-01-01",
                    calibration: str | os.PathLike[str] | None = None
                    ) -> dict[str, object]:
    """Compute the analysis layers of :func:`bordergeo.maps.build_map` from the dataset.

    Parameters
    ----------
    dataset
        Gates, hubs and roads.
    routes
        Each hub's fastest route to its quickest open road gate.
    corridors
        Road flows of the user-equilibrium assignment of ``demand`` (width by trucks/day)
        and their volume/capacity.
    scenario
        A scenario file or bundled name: assign under it and show per-gate load, waits and
        a modelled daily backlog on the time slider.
    observed
        An observed CSV (``date``, ``gate_id``, ``trucks_waiting``) for the time slider;
        ``"sample"`` for the bundled Dec 2021 – Feb 2022 series.
    replay
        A replay file (arrivals and capacity, see
        :func:`bordergeo.congestion.replay_file`) whose modelled backlog joins the observed
        one on the slider; with ``observed="sample"`` the bundled December 2021 replay is
        used unless another is given.
    demand
        ``origin``, ``trucks_per_day`` (default: the bundled estimate).
    days
        Days of modelled backlog on the slider.
    initial_backlog
        Trucks already waiting when the modelled days start, shared among the gates in
        proportion to their capacity (e.g. 4,300 for the December 2021 stock).
    start_date
        First day of the modelled slider (the model has no calendar; fixed for
        reproducible output).
    calibration
        Calibration file for the gate choice and rates (default: the bundled one;
        ``"none"`` for shortest-time choice).

    Returns
    -------
    dict
        Keyword arguments for :func:`bordergeo.maps.build_map` (``routes``, ``corridors``,
        ``road_load``, ``gate_load``, ``timeline``, ``timeline_label``, ``title``).
    """
    from bordergeo.assignment import assign
    from bordergeo.calibration import load_calibration
    from bordergeo.congestion import load_demand, replay_file, resolve_scenario, sample_path
    from bordergeo.queues import fluid_backlog, read_observed
    from bordergeo.routing import Router, dataset_network
    from bordergeo.scenarios import Scenario, apply_scenario, load_scenario

    layers: dict[str, object] = {}
    network = dataset_network(dataset)
    if routes:
        layers["routes"] = fastest_routes(Router(network, dataset))
    titles = []
    if corridors or scenario is not None:
        chosen = load_scenario(resolve_scenario(scenario)) if scenario is not None \
            else Scenario()
        fitted = None if str(calibration).lower() == "none" \
            else load_calibration(calibration)
        base = fitted.apply(dataset.gates) if fitted is not None else dataset.gates
        gates = apply_scenario(base, chosen)
        trucks = load_demand("demand_2024_by_direction.csv") if demand is None else demand
        trucks = chosen.scaled_demand(trucks)
        result = assign(network, gates, trucks,
                        **(fitted.assign_options() if fitted is not None else {}))
        titles.append(chosen.name if scenario is not None else "baseline demand")
        if corridors:
            layers["corridors"] = result.roads
            layers["road_load"] = result.roads
        if scenario is not None:
            load = result.gates.copy()
            share = load["capacity_trucks_day"] / load["capacity_trucks_day"].sum()
            dates = pd.date_range(start_date, periods=days, freq="D")
            series, ends, clears = [], [], []
            for row, part in zip(load.itertuples(), share, strict=True):
                run = fluid_backlog(np.full(days, row.trucks_per_day), row.capacity_trucks_day,
                                    initial=initial_backlog * part)
                ends.append(float(run.backlog[-1]))
                clears.append(np.nan if run.days_to_clear is None else run.days_to_clear)
                series.append(pd.DataFrame({"date": dates, "gate_id": row.gate_id,
                                            "trucks_waiting": run.backlog,
                                            "kind": "modelled"}))
            load["backlog_end"], load["days_to_clear"] = ends, clears
            layers["gate_load"] = load
            layers["timeline"] = pd.concat(series, ignore_index=True)
            layers["timeline_label"] = "trucks waiting (modelled)"
    if observed is not None:
        sample = str(observed) == "sample"
        path = sample_path("langson_2021_2022.csv") if sample else observed
        seen = read_observed(path).assign(kind="observed")
        spec = replay if replay is not None else (
            sample_path("december_2021_scenario.json") if sample else None)
        if spec is not None:
            model = replay_file(path, spec)
            seen = pd.concat([seen, pd.DataFrame({
                "date": model["date"], "gate_id": model["gate_id"],
                "trucks_waiting": model["model_backlog"], "kind": "modelled"})],
                ignore_index=True)
        layers["timeline"] = seen
        layers["timeline_label"] = "trucks waiting"
        titles.append(f"observed backlog {Path(path).name}"
                      + (" beside the fluid model" if spec is not None else ""))
    elif replay is not None:
        raise BorderGeoError("a replay needs the observed series it replays (observed=...)")
    if titles:
        layers["title"] = "Lạng Sơn border gates: " + "; ".join(titles)
    return layers
