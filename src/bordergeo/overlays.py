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
from collections.abc import Sequence
from typing import TYPE_CHECKING

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bordergeo.charts import backlog_chart, bar_chart
from bordergeo.errors import BorderGeoError
from bordergeo.i18n import text
from bordergeo.markup import (
    Html,
    feature_group,
    html,
    is_blank,
    join,
    page_element,
    popup,
    script_json,
    tooltip,
)

if TYPE_CHECKING:
    from bordergeo.routing import Route

__all__ = [
    "EXCEEDANCE_CLASSES",
    "LOAD_CLASSES",
    "TIMELINE_COLOURS",
    "ROUTE_COLOURS",
    "add_backlog_timeline",
    "add_corridors",
    "add_exceedance",
    "add_gate_congestion",
    "add_road_congestion",
    "add_routes",
    "congestion_legend_html",
    "scenario_chart_html",
    "timeline_legend_html",
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
#: Colour of an exceedance probability by upper bound (the bound belongs to its class).
EXCEEDANCE_CLASSES: list[tuple[float, str, str]] = [
    (0.2, "#2e7d32", "0–20 %"),
    (0.4, "#9ccc65", "20–40 %"),
    (0.6, "#f9a825", "40–60 %"),
    (0.8, "#ef6c00", "60–80 %"),
    (math.inf, "#c62828", "> 80 %"),
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
                        name: str = "Gate congestion", show: bool = True, lang: str = "en"
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
        ``wait_h``, ``backlog_end``, ``days_to_clear``, ``horizon_days`` (e.g. one scenario
        of :func:`bordergeo.congestion.compare_scenarios`, or the assignment's gates).
    name
        Layer name.
    show
        Whether the layer starts visible.
    lang
        Interface language.

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
        horizon = row.get("horizon_days")
        horizon = f"{float(horizon):g}" if horizon is not None and pd.notna(horizon) else "N"
        details = [(text("model_flow", lang), f"{flow:,.0f}"),
                   (text("capacity_day", lang), f"{capacity:,.0f} {text('trucks', lang)}"),
                   (text("utilisation", lang), f"{100 * ratio:.0f} %")]
        if "wait_h" in row and pd.notna(row["wait_h"]):
            details.append((text("model_wait", lang),
                            f"{float(row['wait_h']) * 60:.0f} {text('minutes', lang)}"))
        if "backlog_end" in row and pd.notna(row["backlog_end"]):
            details.append((text("model_queue", lang).format(horizon),
                            f"{float(row['backlog_end']):,.0f} {text('trucks', lang)}"))
        if "days_to_clear" in row:
            clear = row["days_to_clear"]
            details.append((text("days_to_clear", lang),
                            text("never", lang).format(horizon) if pd.isna(clear)
                            else f"{float(clear):g}"))
        body = join(html("<tr><th style='text-align:left;padding-right:6px'>{}</th>"
                         "<td>{}</td></tr>", k, v) for k, v in details)
        content = html("<b>{}</b><table style='font-size:12px'>{}</table>", row["name"], body)
        folium.CircleMarker(
            [row["lat"], row["lon"]], radius=round(6 + 22 * math.sqrt(flow / peak), 1),
            color="#212121", weight=1, fill=True, fill_color=load_colour(ratio),
            fill_opacity=0.75, popup=popup(content, max_width=300),
            tooltip=tooltip(html("{}: {:,.0f} {}, {:.0f} %", row["name"], flow,
                                 text("trucks_day", lang), 100 * ratio)),
            class_name="bordergeo-gate-load",
        ).add_to(group)
    group.add_to(m)
    return group


def add_exceedance(m: folium.Map, gates: gpd.GeoDataFrame, table: pd.DataFrame, *,
                   name: str = "Chance of a long queue", threshold: float | None = None,
                   show: bool = True, legend: bool = True, lang: str = "en"
                   ) -> folium.FeatureGroup:
    """Circles at the crossings, coloured by the chance the season's queue passes a threshold.

    Drawing only: the table comes computed by
    :func:`bordergeo.sweepsummary.season_exceedance` (usually ``by_crossing=True``). A
    circle's colour (:data:`EXCEEDANCE_CLASSES`) and size follow the probability at
    ``threshold`` in the worse direction; its popup lists every direction and threshold
    with the probability and the runs behind it. A legend box names the colours.

    Parameters
    ----------
    m
        The map.
    gates
        The gates layer (positions and names); a crossing is drawn at its own point.
    table
        ``crossing_id`` (or ``gate_id``), ``threshold``, ``probability``,
        ``runs_exceeding``, ``runs`` and optionally ``direction``.
    name
        Layer name.
    threshold
        The threshold that colours the circles (default: the lowest in the table).
    show
        Whether the layer starts visible.
    legend
        Add the legend box to the page.
    lang
        Interface language.

    Returns
    -------
    folium.FeatureGroup

    Raises
    ------
    BorderGeoError
        Missing columns, an unknown gate or a threshold not in the table.
    """
    key = "crossing_id" if "crossing_id" in table.columns else "gate_id"
    missing = {key, "threshold", "probability", "runs_exceeding", "runs"} - set(table.columns)
    if missing:
        raise BorderGeoError(f"an exceedance table needs {', '.join(sorted(missing))} "
                             f"(from bordergeo.sweepsummary.season_exceedance)")
    rows = table.rename(columns={key: "gate_id"}).assign(
        gate_id=lambda t: t["gate_id"].astype(str),
        threshold=lambda t: pd.to_numeric(t["threshold"], errors="coerce"),
        probability=lambda t: pd.to_numeric(t["probability"], errors="coerce"))
    if "direction" not in rows.columns:
        rows = rows.assign(direction="")
    levels = sorted(float(t) for t in rows["threshold"].dropna().unique())
    if not levels:
        raise BorderGeoError("the exceedance table has no rows with a threshold")
    if threshold is None:
        threshold = levels[0]
    elif not np.isclose(levels, threshold).any():
        raise BorderGeoError(f"threshold {threshold:g} is not in the exceedance table "
                             f"({', '.join(f'{t:g}' for t in levels)})")
    words = {d: text(f"exceed_{d}", lang) for d in ("export", "import")}
    group = feature_group(name, show=show)
    shown = rows[np.isclose(rows["threshold"], threshold)]
    worst = shown.groupby("gate_id", sort=True)["probability"].max()
    located = _gate_rows(gates, worst.rename("probability").reset_index())
    for _, spot in located.iterrows():
        chance = float(spot["probability"])
        colour = ("#9e9e9e" if not np.isfinite(chance) else
                  next(c for bound, c, _ in EXCEEDANCE_CLASSES if chance <= bound))
        own = rows[rows["gate_id"] == spot["gate_id"]].sort_values(["direction",
                                                                    "threshold"])
        lines = join(html("<tr><th style='text-align:left;padding-right:6px'>{} &gt; "
                          "{:,.0f} {}</th><td>{:.0f} %</td><td style='color:#555;"
                          "padding-left:6px'>{}</td></tr>",
                          words.get(r.direction, r.direction),
                          r.threshold, text("trucks", lang), 100 * r.probability,
                          text("exceed_runs", lang).format(int(r.runs_exceeding),
                                                           int(r.runs)))
                     for r in own.itertuples())
        content = html("<b>{}</b><div style='color:#555'>{}</div>"
                       "<table style='font-size:12px'>{}</table>", spot["name"],
                       text("exceed_popup", lang), lines)
        folium.CircleMarker(
            [spot["lat"], spot["lon"]],
            radius=round(8 + 10 * (chance if np.isfinite(chance) else 0.0), 1),
            color="#212121", weight=1, fill=True, fill_color=colour, fill_opacity=0.8,
            popup=popup(content, max_width=320),
            tooltip=tooltip(html("{}: {:.0f} % &gt; {:,.0f} {}", spot["name"], 100 * chance,
                                 threshold, text("trucks", lang))),
            class_name="bordergeo-exceedance",
        ).add_to(group)
    group.add_to(m)
    controls = [k for k, child in m._children.items()
                if isinstance(child, folium.LayerControl)]
    for k in controls:  # a layer control made earlier lists the layers added before it
        m._children.move_to_end(k)
    if legend:
        runs = int(shown["runs"].max()) if len(shown) else 0
        body = join(_dot(c, label) for _, c, label in EXCEEDANCE_CLASSES)
        m.get_root().html.add_child(page_element(_legend_box(
            "bordergeo-exceedance-legend", "bottom:44px;left:12px;max-width:240px",
            html("<b>{}</b>{}<div style='color:#555'>{}</div>",
                 text("exceed_title", lang).format(f"{threshold:,.0f}"), body,
                 text("exceed_note", lang).format(runs)))))
    return group


#: Days the time slider plays per second (one frame per day).
SLIDER_DAYS_PER_SECOND = 5


def add_backlog_timeline(m: folium.Map, gates: gpd.GeoDataFrame, series: pd.DataFrame, *,
                         value: str = "trucks_waiting", label: str = "trucks waiting",
                         lang: str = "en") -> folium.plugins.TimestampedGeoJson:
    """Add a time slider over days: one ring per gate, kind and day, sized by the backlog.

    Observed rings are solid red, modelled rings dashed blue and a little wider, so the two
    read apart where they coincide; rings are not filled, so a click inside reaches the
    gate-load circle beneath. The legend's check boxes hide either kind.

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
    lang
        Interface language.

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
            point, name = centre, text("all_gates", lang)
        else:
            raise BorderGeoError(f"backlog series names unknown gate {gate_id!r}")
        count = float(row[value])
        day = pd.Timestamp(row["date"]).strftime("%Y-%m-%d")
        kind = str(row["kind"]) if "kind" in series.columns else ""
        fill, edge = TIMELINE_COLOURS.get(kind, TIMELINE_COLOURS["observed"])
        modelled = kind == "modelled"
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(point.x, 5), round(point.y, 5)]},
            "properties": {
                "times": [day],
                # Leaflet shows the popup property with innerHTML
                "popup": str(html("<b>{}</b><br>{}: {:,.0f} {}{}", name, day, count, label,
                                  html(" ({})", text(kind, lang)) if kind else "")),
                "icon": "circle",
                "iconstyle": {"fill": False, "stroke": True, "color": fill,
                              "weight": 2.5 if modelled else 3.5,
                              "dashArray": "6 4" if modelled else None, "opacity": 0.9,
                              "className": "bordergeo-backlog bordergeo-backlog-"
                                           + (kind or "observed"),
                              "radius": round((6 if modelled else 4)
                                              + 30 * math.sqrt(count / peak), 1)},
            },
        })
    # folium writes a dict as plain JSON into the <script>; script_json escapes "</script>"
    timeline = folium.plugins.TimestampedGeoJson(
        script_json({"type": "FeatureCollection", "features": features}), period="P1D",
        duration="PT23H",
        add_last_point=False, auto_play=False, loop=False, date_options="YYYY-MM-DD",
        time_slider_drag_update=True, speed_slider=False,
        transition_time=round(1000 / SLIDER_DAYS_PER_SECOND))
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


def _ring(colour: str, dashed: bool) -> Html:
    return html("<span style='display:inline-block;width:12px;height:12px;border-radius:7px;"
                "border:2px {} {};vertical-align:middle;margin-right:6px'></span>",
                "dashed" if dashed else "solid", colour)


def timeline_legend_html(kinds: Sequence[str], *, lang: str = "en",
                         series: pd.DataFrame | None = None) -> Html:
    """Return the legend box of the time-slider rings, with a check box per kind.

    Parameters
    ----------
    kinds
        The kinds on the slider (``observed``, ``modelled``).
    lang
        Interface language.
    series
        The slider's series: its ``all`` rows (the whole province) are charted in the box.

    Returns
    -------
    Html
    """
    rows = join(html("<label style='display:block'><input type='checkbox' checked "
                     "onchange=\"document.body.classList.toggle('bordergeo-hide-{}', "
                     "!this.checked)\"> {}{}</label>", k, _ring(TIMELINE_COLOURS[k][0],
                                                                k == "modelled"),
                     text(f"backlog_{k}", lang))
                for k in kinds if k in TIMELINE_COLOURS)
    hide = join(html(".bordergeo-hide-{} .bordergeo-backlog-{}{{display:none}}", k, k)
                for k in TIMELINE_COLOURS)
    chart = html("")
    if series is not None and "gate_id" in series.columns:
        province = series[series["gate_id"].astype(str) == "all"]
        if len(province):
            chart = backlog_chart(province, title=text("all_gates", lang), width=240,
                                  height=90,
                                  labels={k: text(k, lang) for k in TIMELINE_COLOURS})
    return _legend_box("bordergeo-timeline-legend", "bottom:44px;left:600px",
                       html("<style>{}</style><b>{}</b> ({}){}{}", hide,
                            text("slider_title", lang),
                            text("slider_size", lang).format(SLIDER_DAYS_PER_SECOND), rows,
                            chart))


def congestion_legend_html(*, lang: str = "en") -> Html:
    """Return the legend box of the load colours (utilisation and volume/capacity)."""
    words = {"below 50 %": text("below_50", lang),
             "over capacity: the queue grows": text("over", lang)}
    rows = join(_dot(colour, words.get(label, label)) for _, colour, label in LOAD_CLASSES)
    return _legend_box("bordergeo-congestion-legend", "bottom:44px;right:12px",
                       html("<b>{}</b>{}<div style='color:#555'>{}</div>",
                            text("load_title", lang), rows, text("load_size", lang)))


def scenario_chart_html(table: pd.DataFrame, *, lang: str = "en") -> Html:
    """Return a box charting trucks/day by crossing under each scenario.

    Parameters
    ----------
    table
        ``scenario``, ``crossing_id`` (or ``gate_id``), ``trucks_per_day`` and optionally
        ``name`` (shown instead of the id).
    lang
        Interface language.

    Returns
    -------
    Html
    """
    key = "name" if "name" in table.columns else (
        "crossing_id" if "crossing_id" in table.columns else "gate_id")
    wide = table.pivot_table(index=key, columns="scenario", values="trucks_per_day",
                             aggfunc="sum", sort=False).fillna(0.0)
    wide = wide[wide.max(axis=1) > 0.5]
    order = list(dict.fromkeys(table["scenario"]))
    chart = bar_chart(list(wide.index.astype(str)),
                      {str(s): wide[s].tolist() for s in order if s in wide.columns},
                      title=text("scenario_chart", lang))
    return _legend_box("bordergeo-scenario-chart", "bottom:170px;right:12px;max-width:340px",
                       chart)


def __getattr__(name: str):  # noqa: ANN202 - the studies moved to bordergeo.analysis
    if name in ("analysis_layers", "fastest_routes"):
        from bordergeo import analysis

        return getattr(analysis, name)
    raise AttributeError(f"module 'bordergeo.overlays' has no attribute {name!r}")
