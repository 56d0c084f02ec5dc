r"""Folium maps of the border gates, markers, hubs, roads and the border line.

The map needs no basemap: the border and the road layers draw it, and an online basemap is
an opt-in layer that requests nothing until chosen. Markup is built with
:func:`bordergeo.markup.html` templates and reaches folium only through the boundary helpers
of :mod:`bordergeo.markup` (tooltips, popups, GeoJSON properties, layer names, page
elements), which escape every text from data with the one function
:func:`~bordergeo.markup.escape_text` (also :func:`safe_text` here): a gate named
``<img src=x onerror=alert(1)>`` or ``\u003cimg ...\u003e`` shows as text.
:func:`save_map` writes the HTML atomically, optionally as one self-contained offline file
(see :mod:`bordergeo.offline`).
"""

from __future__ import annotations

import copy
import logging
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import branca.element
import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bordergeo.charts import backlog_chart
from bordergeo.datasets import BorderDataset
from bordergeo.errors import BorderGeoError
from bordergeo.i18n import text
from bordergeo.io import atomic_write_text
from bordergeo.labels import add_labels
from bordergeo.markergroups import group_legend_html, marker_group_layer, reveal_found_gates
from bordergeo.markup import (
    Html,
    escape_text,
    escaped_frame,
    feature_group,
    geojson_tooltip,
    html,
    is_blank,
    join,
    page_element,
    popup,
    tooltip,
)
from bordergeo.routing import Route

__all__ = [
    "BASEMAPS",
    "GATE_COLOURS",
    "ROAD_STYLES",
    "add_border",
    "add_gates",
    "add_hubs",
    "add_markers",
    "add_provinces",
    "add_roads",
    "build_map",
    "default_title",
    "map_html",
    "safe_text",
    "save_map",
]

logger = logging.getLogger(__name__)

#: Marker colour by gate level (folium.Icon colour names); closed gates are grey.
GATE_COLOURS = {"international": "red", "main": "orange", "secondary": "blue",
                "crossing": "cadetblue"}
_STATUS_COLOURS = {"closed": "gray", "restricted": "lightgray"}
_ICON_HEX = {"red": "#d63e2a", "orange": "#f69730", "blue": "#38aadd", "cadetblue": "#436978",
             "gray": "#575757", "lightgray": "#a3a3a3", "darkblue": "#0067a3"}
#: Which gate colour a group badge takes: that of its most important gate.
_GROUP_RANK = {colour: rank for rank, colour in enumerate(
    [*GATE_COLOURS.values(), *_STATUS_COLOURS.values()])}
_MODE_ICONS = {"road": "truck", "rail": "train"}
_HUB_ICONS = {"city": "city", "port": "ship", "airport": "plane", "icd": "warehouse",
              "logistics": "warehouse", "production": "seedling"}

#: Line style by road class: colour, weight in pixels.
ROAD_STYLES = {
    "expressway": ("#7b1fa2", 5),
    "national": ("#e65100", 4),
    "provincial": ("#f9a825", 3),
    "local": ("#8d6e63", 2),
    "cargo_road": ("#c62828", 4),
    "rail": ("#37474f", 3),
}

#: Attribution of the bundled road layer (data/geojson/README.md), shown with it.
ROADS_ATTRIBUTION = "Roads: CTU-SematX LegoCity open data, CC BY-SA 4.0"

#: Optional online basemaps: name → (folium tiles, attribution).
BASEMAPS = {
    "osm": ("OpenStreetMap", None),
    "carto": ("CartoDB positron", None),
}


#: Escape a value for any place in a folium page (HTML, JS template literal): the one
#: escaping function, :func:`bordergeo.markup.escape_text`, under its older name.
safe_text = escape_text


def _present(value: object) -> bool:
    return not is_blank(value)


def _rows_html(rows: Iterable[tuple[object, object]]) -> Html:
    cells = join(html("<tr><th style='text-align:left;padding-right:6px'>{}</th><td>{}</td>"
                      "</tr>", k, v) for k, v in rows if _present(v))
    return html("<table style='font-size:12px'>{}</table>", cells)


def _lanes(gate: pd.Series, lang: str = "en") -> str:
    exp, imp = gate.get("lanes_export"), gate.get("lanes_import")
    if not _present(exp) and not _present(imp):
        return ""
    return text("lanes_value", lang).format(_whole(exp) if _present(exp) else "?",
                                             _whole(imp) if _present(imp) else "?")


def _whole(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.0f}" if number.is_integer() else f"{number:g}"


def _capacity(gate: pd.Series, lang: str = "en") -> str:
    cap = gate.get("capacity_trucks_day")
    if not _present(cap):
        return ""
    text_ = f"{float(cap):,.0f} {text('trucks_day', lang)}"
    if _present(gate.get("capacity_date")):
        text_ += f" ({gate['capacity_date']})"
    return text_


def gate_popup_html(gate: pd.Series, load: pd.Series | None = None, *, lang: str = "en",
                    series: pd.DataFrame | None = None) -> Html:
    """Return the popup HTML of one gate: names in three languages, lanes, hours, capacity.

    Parameters
    ----------
    gate
        A row of the gates layer.
    load
        Optional modelled state of the gate (``trucks_per_day``, ``wait_h``,
        ``backlog_end`` and ``horizon_days``) shown under the facts.
    lang
        Interface language, ``en`` or ``vi``.
    series
        Optional backlog of this gate by day (``date``, ``trucks_waiting``, ``kind``):
        drawn as a small chart, observed and modelled with their dates.

    Returns
    -------
    Html
        The popup markup, every value escaped.
    """
    name_zh = gate.get("name_zh")
    title = html("<b style='font-size:14px'>{}</b><br>{}{}", gate.get("name_vi"),
                 gate.get("name_en"), html(" · {}", name_zh) if _present(name_zh) else "")
    counterpart = " ".join(str(gate.get(c)) for c in ("counterpart_en", "counterpart_zh")
                           if _present(gate.get(c)))
    rows = [
        (text("level", lang), f"{text(str(gate.get('level')), lang)} "
                              f"({text(str(gate.get('mode')), lang)})"),
        (text("status", lang), text(str(gate.get("status")), lang)),
        (text("crossing_of", lang), gate.get("parent_id")),
        (text("note", lang), gate.get("status_note")),
        (text("counterpart", lang), counterpart),
        (text("markers_field", lang), gate.get("markers")),
        (text("lanes", lang), _lanes(gate, lang)),
        (text("hours_vn", lang), gate.get("hours_vn")),
        (text("hours_cn", lang), gate.get("hours_cn")),
        (text("capacity", lang), _capacity(gate, lang)),
        (text("capacity_source", lang), gate.get("capacity_source")),
        (text("coordinate", lang),
         f"{gate.get('coord_confidence') or '?'}: {gate.get('coord_source') or ''}"),
    ]
    if load is not None:
        def number(key: str, scale: float = 1.0) -> float | None:
            value = load.get(key)
            return None if value is None or pd.isna(value) else float(value) * scale

        flow, wait, queue = number("trucks_per_day"), number("wait_h", 60), number("backlog_end")
        horizon = number("horizon_days")
        rows += [(text("model_flow", lang), None if flow is None else f"{flow:,.0f}"),
                 (text("model_wait", lang),
                  None if wait is None else f"{wait:.0f} {text('minutes', lang)}"),
                 (text("model_queue", lang).format(f"{horizon:g}" if horizon else "N"),
                  None if queue is None else f"{queue:,.0f} {text('trucks', lang)}")]
    chart = html("")
    if series is not None and len(series):
        chart = backlog_chart(series, title=text("backlog_chart", lang),
                              labels={k: text(k, lang) for k in ("observed", "modelled")})
    return html("<div style='min-width:240px'>{}{}{}</div>", title, _rows_html(rows), chart)


def add_border(m: folium.Map, border: gpd.GeoDataFrame, *, name: str = "Border (VN–CN)",
               attribution: str | None = None) -> folium.FeatureGroup:
    """Add the international boundary as a dashed line layer.

    Parameters
    ----------
    m
        The map.
    border
        The border layer.
    name
        Layer name in the layer control.
    attribution
        Credit shown in the attribution corner (the bundled line: © OpenStreetMap).

    Returns
    -------
    folium.FeatureGroup
        The layer added.
    """
    group = feature_group(name, show=True)
    if len(border):
        folium.GeoJson(
            escaped_frame(border, ["name", "source"]),
            name=name,
            style_function=lambda _f: {"color": "#b71c1c", "weight": 3, "dashArray": "8 6",
                                       "opacity": 0.9},
            tooltip=geojson_tooltip(["name"], labels=False),
            **({"attribution": escape_text(attribution)} if attribution else {}),
        ).add_to(group)
    group.add_to(m)
    return group


def add_provinces(m: folium.Map, provinces: gpd.GeoDataFrame, *,
                  name: str = "Provinces", label: str | None = None) -> folium.FeatureGroup:
    """Add administrative areas (e.g. provinces) as outlined polygons with their names.

    The bundled dataset has no province polygons; pass your own layer.

    Parameters
    ----------
    m
        The map.
    provinces
        Polygons in any CRS; ``label`` (default: the first of ``name_vi``, ``name``,
        ``NAME_1``, ``id`` that exists) names them in the tooltip.
    name
        Layer name in the layer control.
    label
        Column with the area names.

    Returns
    -------
    folium.FeatureGroup
        The layer added.
    """
    kinds = set(provinces.geom_type.dropna())
    if kinds - {"Polygon", "MultiPolygon"}:
        raise BorderGeoError(f"provinces must be polygons, not {', '.join(sorted(kinds))}")
    if label is None:
        label = next((c for c in ("name_vi", "name", "NAME_1", "id") if c in provinces.columns),
                     None)
    areas = provinces.to_crs("EPSG:4326") if provinces.crs is not None else provinces
    group = feature_group(name, show=True)
    if len(areas):
        frame = escaped_frame(areas, [label] if label else [])
        frame = frame.rename(columns={label: "area"}) if label else frame.assign(area="")
        rounded = shapely.transform(frame.geometry.to_numpy(), lambda xy: np.round(xy, 5))
        frame = frame.set_geometry(gpd.GeoSeries(rounded, index=frame.index, crs=frame.crs))
        folium.GeoJson(
            frame.to_geo_dict(show_bbox=False),
            name=name,
            style_function=lambda _f: {"color": "#5d4037", "weight": 1.5, "fillColor": "#d7ccc8",
                                       "fillOpacity": 0.15, "dashArray": "2 4"},
            tooltip=geojson_tooltip(["area"], labels=False),
        ).add_to(group)
    group.add_to(m)
    return group


def add_roads(m: folium.Map, roads: gpd.GeoDataFrame, *, name: str = "Roads",
              aliases: Sequence[str] | None = None) -> folium.FeatureGroup:
    """Add roads styled by class (colour and width); roads under construction are dashed.

    The lines are drawn on one canvas from a compact encoding
    (:class:`bordergeo.roadrender.CanvasLines`): coordinates rounded to 5 decimals
    (≈ 1 m), each distinct text stored once, the tooltip (road number, name, class, lanes,
    maximum speed, status) looked up when the pointer is over a line. A network of a
    million segments still opens in a browser. Major classes are drawn over minor ones.

    Parameters
    ----------
    m
        The map.
    roads
        The roads layer (reprojected to lon/lat when it has another CRS).
    name
        Layer name in the layer control.
    aliases
        Tooltip labels of ``ref``, ``name``, ``class``, ``lanes``, ``maxspeed_kph`` and
        ``status`` (default: Road, Name, Class, Lanes, Max speed (km/h), Status).

    Returns
    -------
    folium.FeatureGroup
        The layer added.
    """
    from bordergeo.roadrender import CanvasLines, LineStyle

    fields = ["ref", "name", "class", "lanes", "maxspeed_kph", "status"]
    labels = (["Road", "Name", "Class", "Lanes", "Max speed (km/h)", "Status"]
              if aliases is None else list(aliases))
    if len(labels) != len(fields):
        raise BorderGeoError(f"aliases needs {len(fields)} labels ({', '.join(fields)})")
    group = feature_group(name, show=True)
    if len(roads):
        if roads.crs is not None and not roads.crs.equals("EPSG:4326"):
            roads = roads.to_crs("EPSG:4326")
        empty = pd.Series([None] * len(roads), dtype=object)

        def column(field: str) -> pd.Series:
            return roads[field] if field in roads.columns else empty

        # one style per (class, dashed); unknown classes grey and thin, as before
        classes = column("class").astype("string").fillna("")
        dashed = ~column("status").astype("string").eq("open").fillna(False)
        codes, uniques = pd.MultiIndex.from_arrays([classes, dashed]).factorize()
        keys = [(str(c), bool(d)) for c, d in uniques]
        rank = {c: i for i, c in enumerate(ROAD_STYLES)}

        def look(key: tuple[str, bool]) -> tuple[str, int]:
            return ROAD_STYLES.get(key[0], ("#555", 2))

        drawing = sorted(range(len(keys)), key=lambda i: (look(keys[i])[1],
                                                          rank.get(keys[i][0], -1), keys[i][1]))
        position = np.empty(len(keys), dtype=np.int64)
        position[drawing] = np.arange(len(keys))
        styles = [LineStyle(*look(keys[i]), opacity=0.85, dash=(6, 6) if keys[i][1] else None)
                  for i in drawing]
        bundled = "source" in roads.columns and roads["source"].astype(str).str.contains(
            "CTU-SematX", regex=False).any()
        CanvasLines(
            roads.geometry.to_numpy(),
            columns=[(label, column(field)) for label, field in zip(labels, fields, strict=True)],
            style=position[codes],
            styles=styles,
            attribution=ROADS_ATTRIBUTION if bundled else None,
        ).add_to(group)
    group.add_to(m)
    return group


def add_markers(m: folium.Map, markers: gpd.GeoDataFrame, *, name: str = "Border markers",
                lang: str = "en") -> folium.FeatureGroup:
    """Add border markers as small circles with their number.

    Parameters
    ----------
    m
        The map.
    markers
        The markers layer.
    name
        Layer name in the layer control.
    lang
        Interface language.

    Returns
    -------
    folium.FeatureGroup
        The layer added.
    """
    group = feature_group(name, show=True)
    for row in markers.itertuples(index=False):
        label = html("Mốc {}{}", row.id, "" if lang == "vi" else " (border marker)")
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x], radius=4, color="#212121", weight=1,
            fill=True, fill_color="#fafafa", fill_opacity=1.0,
            tooltip=tooltip(label),
            popup=popup(html("{}{}", label, _rows_html([(text("kind", lang), row.kind),
                                                        (text("coordinate", lang),
                                                         row.coord_source)])),
                        max_width=300),
        ).add_to(group)
    group.add_to(m)
    return group


def add_hubs(m: folium.Map, hubs: gpd.GeoDataFrame, *, name: str = "Inland hubs",
             lang: str = "en") -> folium.FeatureGroup:
    """Add inland hubs with an icon by kind (city, port, ICD, logistics, production).

    Parameters
    ----------
    m
        The map.
    hubs
        The hubs layer.
    name
        Layer name in the layer control.
    lang
        Interface language.

    Returns
    -------
    folium.FeatureGroup
        The layer added.
    """
    group = marker_group_layer(m, name, kind="hubs")
    for _, hub in hubs.iterrows():
        body = html("<b>{}</b><br>{}{}", hub["name_vi"], hub.get("name_en"),
                    _rows_html([(text("kind", lang), hub["kind"]),
                                (text("chinese", lang), hub.get("name_zh")),
                                (text("coordinate", lang),
                                 f"{hub.get('coord_confidence') or '?'}: "
                                 f"{hub.get('coord_source') or ''}")]))
        folium.Marker(
            [hub.geometry.y, hub.geometry.x],
            tooltip=tooltip(hub["name_vi"]),
            popup=popup(body, max_width=320),
            icon=folium.Icon(color="darkblue", icon=_HUB_ICONS.get(hub["kind"], "circle"),
                             prefix="fa"),
            label=str(html("{}", hub["name_vi"])),
            group_colour=_ICON_HEX["darkblue"],
        ).add_to(group)
    group.add_to(m)
    return group


def gate_colour(gate: pd.Series) -> str:
    """Return the icon colour of a gate: by level, grey when closed or restricted."""
    return _STATUS_COLOURS.get(gate["status"], GATE_COLOURS.get(gate["level"], "blue"))


def add_gates(m: folium.Map, gates: gpd.GeoDataFrame, *, name: str = "Border gates",
              load: pd.DataFrame | None = None, lang: str = "en",
              series: pd.DataFrame | None = None) -> folium.FeatureGroup:
    """Add gates: colour by level (grey if closed), truck or train glyph by mode.

    Parameters
    ----------
    m
        The map.
    gates
        The gates layer.
    name
        Layer name in the layer control.
    load
        Optional per-gate model results (``gate_id``, ``trucks_per_day``, ``wait_h``,
        ``backlog_end``) added to the popups.
    lang
        Interface language.
    series
        Optional backlog by day (``date``, ``gate_id``, ``trucks_waiting``, ``kind``): each
        gate's popup charts its own rows (a crossing also its lanes').

    Returns
    -------
    folium.map.Layer
        The layer added: gates whose icons overlap are grouped into a numbered badge that
        fans out on click (:mod:`bordergeo.markergroups`); markers carry a ``label`` option that
        the search box looks up.
    """
    group = marker_group_layer(m, name, kind="gates")
    by_gate = {} if load is None else {str(r["gate_id"]): r for _, r in load.iterrows()}
    per_gate = {} if series is None else dict(list(series.groupby(
        series["gate_id"].astype(str), sort=False)))
    for _, gate in gates.iterrows():
        # the search box shows its matches with innerHTML: the label is escaped text
        colour = gate_colour(gate)
        label = join((gate.get(c) for c in ("name_vi", "name_en", "name_zh")
                      if _present(gate.get(c))), sep=" / ")
        folium.Marker(
            [gate.geometry.y, gate.geometry.x],
            tooltip=tooltip(html("{} ({})", gate["name_vi"], text(str(gate["status"]), lang))),
            popup=popup(gate_popup_html(gate, by_gate.get(str(gate["id"])), lang=lang,
                                        series=per_gate.get(str(gate["id"]))),
                        max_width=380),
            icon=folium.Icon(color=colour, icon=_MODE_ICONS.get(gate["mode"], "flag"),
                             prefix="fa"),
            label=str(label),
            group_rank=_GROUP_RANK.get(colour, len(_GROUP_RANK)),
            group_colour=_ICON_HEX.get(colour, "#575757"),
        ).add_to(group)
    group.add_to(m)
    return group


def _legend_html(gates: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, lang: str = "en") -> Html:
    def swatch(colour: str, label: str, *, line: bool = False, dashed: bool = False) -> Html:
        if line:
            mark = html("<span style='display:inline-block;width:22px;height:0;border-top:4px "
                        "{} {};vertical-align:middle;margin-right:6px'></span>",
                        "dashed" if dashed else "solid", colour)
        else:
            mark = html("<span style='display:inline-block;width:10px;height:10px;"
                        "border-radius:6px;background:{};border:1px solid #212121;"
                        "vertical-align:middle;margin-right:6px'></span>", colour)
        return html("<div>{}{}</div>", mark, label)

    levels = [lv for lv in GATE_COLOURS if lv in set(gates["level"])]
    statuses = [s for s in _STATUS_COLOURS if s in set(gates["status"])]
    classes = [c for c in ROAD_STYLES if c in set(roads["class"])]
    parts = [html("<b>{}</b> (<i class='fa fa-truck'></i> {}, "
                  "<i class='fa fa-train'></i> {})", text("legend_gates", lang),
                  text("legend_road", lang), text("legend_rail", lang))]
    parts += [swatch(_ICON_HEX[GATE_COLOURS[lv]], text(lv, lang)) for lv in levels]
    parts += [swatch(_ICON_HEX[_STATUS_COLOURS[s]], text(s, lang)) for s in statuses]
    parts.append(group_legend_html(text("legend_gate_group", lang)))
    parts += [html("<b>{}</b>", text("legend_roads", lang))] + [
        swatch(ROAD_STYLES[c][0], text(c, lang), line=True) for c in classes]
    if (roads["status"] != "open").any():
        parts.append(swatch("#777", text("legend_planned", lang), line=True, dashed=True))
    parts += [html("<b>{}</b>", text("legend_other", lang)),
              swatch("#b71c1c", text("legend_border", lang), line=True, dashed=True),
              swatch(_ICON_HEX["darkblue"], text("legend_hub", lang)),
              swatch("#fafafa", text("legend_marker", lang))]
    return html("<div id='bordergeo-legend' style='position:fixed;top:170px;left:12px;"
                "z-index:999;background:rgba(255,255,255,0.92);padding:8px 10px;"
                "border:1px solid #999;border-radius:4px;font:12px/1.5 sans-serif;"
                "max-height:calc(100vh - 260px);overflow:auto'>{}</div>", join(parts))


def _hubs_near(hubs: gpd.GeoDataFrame, anchor: gpd.GeoSeries, *, km: float = 250.0
               ) -> gpd.GeoDataFrame:
    """Hubs within ``km`` of the border area: the view of a routes map (not the far south)."""
    centre = anchor.union_all().centroid
    lat = math.radians(centre.y)
    dx = (hubs.geometry.x - centre.x) * 111.32 * math.cos(lat)
    dy = (hubs.geometry.y - centre.y) * 110.57
    return hubs[(dx ** 2 + dy ** 2) ** 0.5 <= km]


def _add_html(m: folium.Map, markup: Html) -> None:
    m.get_root().html.add_child(page_element(markup))


#: Credit of the bundled border line (derived from OpenStreetMap via @geo-maps).
BORDER_ATTRIBUTION = "Border: © OpenStreetMap contributors (ODbL)"


class _MetricScale(branca.element.MacroElement):
    """A kilometre scale bar (Leaflet's, without the miles)."""

    _template = branca.element.Template("""
{% macro script(this, kwargs) %}
L.control.scale({imperial: false, position: 'bottomleft'}).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")


def default_title(dataset: BorderDataset, *, lang: str = "en") -> str:
    """Return the map title for a dataset: the bundled Lạng Sơn one, or the data's name.

    Parameters
    ----------
    dataset
        The layers drawn.
    lang
        Interface language.

    Returns
    -------
    str
    """
    if dataset.source == "bundled":
        return text("title_bundled", lang)
    return f"{text('title_other', lang)} — {Path(str(dataset.source)).name}"


def build_map(
    dataset: BorderDataset,
    *,
    basemap: str | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    lang: str = "en",
    routes: Sequence[Route] | None = None,
    corridors: gpd.GeoDataFrame | None = None,
    road_load: gpd.GeoDataFrame | None = None,
    gate_load: pd.DataFrame | None = None,
    timeline: pd.DataFrame | None = None,
    timeline_label: str | None = None,
    scenario_table: pd.DataFrame | None = None,
    exceedance: pd.DataFrame | None = None,
    provinces: gpd.GeoDataFrame | None = None,
    context: bool = True,
    labels: bool = True,
    search: bool = True,
    fullscreen: bool = True,
) -> folium.Map:
    """Compose the border, roads, hubs, markers, gates and analysis layers on one map.

    Drawing only: every layer comes computed (routes, flows, loads, series — see
    :func:`bordergeo.analysis.analysis_layers`); nothing here runs a model.

    Parameters
    ----------
    dataset
        The layers to draw (e.g. ``load_dataset()``).
    basemap
        ``None`` for no basemap (vector layers only, nothing requested online), or a name
        from :data:`BASEMAPS` to offer an online basemap that stays off until the user
        picks it in the layer control.
    title
        Text of the title box (default: :func:`default_title` — the bundled Lạng Sơn title,
        or the name of your data).
    subtitle
        Added after the title (e.g. the scenario shown).
    lang
        Interface language: ``"en"`` or ``"vi"`` (legends, layer names, popups, slider).
    routes
        Routes to draw (:func:`bordergeo.overlays.add_routes`).
    corridors
        Flow per road segment (:func:`bordergeo.overlays.add_corridors`).
    road_load
        Loaded roads with ``volume_capacity`` (:func:`bordergeo.overlays.add_road_congestion`).
    gate_load
        Per-gate flows and capacities (:func:`bordergeo.overlays.add_gate_congestion`); also
        shown in the gate popups.
    timeline
        Daily backlog per gate (``date``, ``gate_id``, ``trucks_waiting``, ``kind``) for the
        time slider (:func:`bordergeo.overlays.add_backlog_timeline`) and the charts in the
        gate popups.
    timeline_label
        What the timeline counts, for its popups (default: trucks waiting).
    scenario_table
        Per scenario and crossing: ``scenario``, ``crossing_id``, ``trucks_per_day``,
        ``capacity_trucks_day`` — drawn as a comparison chart box.
    exceedance
        Per crossing, direction and threshold, the chance that the season's peak backlog
        passes it (:func:`bordergeo.sweepsummary.season_exceedance`), drawn with its
        legend by :func:`bordergeo.overlays.add_exceedance`.
    provinces
        Administrative areas to outline under everything else (:func:`add_provinces`).
    context
        Draw the bundled geographic context (provinces with Lạng Sơn highlighted, the
        Chinese side, towns, coast and rivers) when it is installed.
    labels
        Name gates, hubs and road numbers on the map (collision-free).
    search
        Add a search box over gate names (Vietnamese, English, Chinese).
    fullscreen
        Add a full-screen button.

    Returns
    -------
    folium.Map
        The map; it shows inline in a notebook. Save it with :func:`save_map`.
    """
    text("title_bundled", lang)  # an unknown language is one clear error, before drawing
    if basemap is not None and basemap not in BASEMAPS:
        raise BorderGeoError(f"unknown basemap {basemap!r}; choose one of "
                             f"{', '.join(BASEMAPS)} or none")
    m = _map_class()(tiles=None, maxZoom=18, control_scale=False, location=[21.9, 106.7],
                     zoom_start=9)
    _MetricScale().add_to(m)
    feature_group(text("no_basemap", lang), overlay=False, show=True).add_to(m)
    if basemap is not None:
        tiles, attr = BASEMAPS[basemap]
        folium.TileLayer(tiles, name=escape_text(f"{tiles} (online)"), attr=attr, overlay=False,
                         show=False).add_to(m)
    if context and dataset.source == "bundled":
        _add_context(m, lang=lang)
    from bordergeo import overlays

    if provinces is not None:
        add_provinces(m, provinces, name=text("provinces", lang))
    add_border(m, dataset.border, name=text("border", lang),
               attribution=BORDER_ATTRIBUTION if dataset.source == "bundled" else None)
    add_roads(m, dataset.roads, name=text("roads", lang))
    if road_load is not None:
        overlays.add_road_congestion(m, road_load, name=text("road_congestion", lang))
    if corridors is not None:
        overlays.add_corridors(m, corridors, name=text("corridors", lang))
    if routes:
        overlays.add_routes(m, routes, name=text("routes", lang))
    add_hubs(m, dataset.hubs, name=text("hubs", lang), lang=lang)
    add_markers(m, dataset.markers, name=text("markers", lang), lang=lang)
    if gate_load is not None:
        overlays.add_gate_congestion(m, dataset.gates, gate_load,
                                     name=text("gate_congestion", lang), lang=lang)
    if exceedance is not None:
        overlays.add_exceedance(m, dataset.gates, exceedance,
                                name=text("exceedance", lang), lang=lang)
    gates_layer = add_gates(m, dataset.gates, load=gate_load, name=text("gates", lang),
                            lang=lang, series=timeline)
    if labels:
        add_labels(m, dataset.gates, dataset.hubs, dataset.roads, lang=lang)
    if timeline is not None:
        overlays.add_backlog_timeline(m, dataset.gates, timeline,
                                      label=timeline_label or text("trucks_waiting", lang),
                                      lang=lang)
        kinds = (list(dict.fromkeys(timeline["kind"].astype(str)))
                 if "kind" in timeline.columns else ["observed"])
        _add_html(m, overlays.timeline_legend_html(kinds, lang=lang, series=timeline))
    folium.LayerControl(collapsed=False).add_to(m)
    if search and len(dataset.gates):
        folium.plugins.Search(gates_layer, search_label="label",
                              placeholder=escape_text(text("search", lang)),
                              collapsed=True, search_zoom=13, position="topleft").add_to(m)
        reveal_found_gates(m, gates_layer)
    if fullscreen:
        folium.plugins.Fullscreen(position="topleft").add_to(m)
    _add_html(m, _legend_html(dataset.gates, dataset.roads, lang))
    if gate_load is not None or road_load is not None:
        _add_html(m, overlays.congestion_legend_html(lang=lang))
    if scenario_table is not None and len(scenario_table):
        _add_html(m, overlays.scenario_chart_html(scenario_table, lang=lang))
    heading = title if title is not None else default_title(dataset, lang=lang)
    if subtitle:
        heading = f"{heading}: {subtitle}"
    # centred at the top, clear of the search box and the zoom buttons on the left
    _add_html(m, html("<div id='bordergeo-title' style='position:fixed;top:10px;left:50%;"
                      "transform:translateX(-50%);max-width:50vw;z-index:9999;"
                      "background:rgba(255,255,255,0.92);padding:4px 10px;"
                      "border:1px solid #999;border-radius:4px;font:bold 15px sans-serif'>"
                      "{}</div>", heading))
    frames = [df for df in (dataset.gates, dataset.border, dataset.markers) if len(df)]
    if frames and (routes or corridors is not None) and len(dataset.hubs):
        frames.append(_hubs_near(dataset.hubs, pd.concat([f.geometry for f in frames])))
    if frames:
        x0, y0, x1, y1 = pd.concat([f.geometry for f in frames]).total_bounds
        m.fit_bounds([[y0, x0], [y1, x1]], padding=(20, 20))
    return m


def _map_class() -> type[folium.Map]:
    """Return the map class: one that shows inline in notebooks offline, if present."""
    try:
        from bordergeo.notebook import OfflineMap
    except ImportError:  # the notebook display module is optional
        return folium.Map
    return OfflineMap


def _add_context(m: folium.Map, *, lang: str) -> None:
    try:
        from bordergeo.context import add_context
    except ImportError:
        return
    add_context(m, lang=lang)


def _stable_ids(m: folium.Map) -> None:
    """Replace folium's random element ids by sequential ones (same input, same bytes)."""
    order: list[branca.element.Element] = []
    stack: list[branca.element.Element] = [m.get_root()]
    seen: set[int] = set()
    while stack:
        element = stack.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        order.append(element)
        element._id = f"{len(order):08x}"
        stack.extend(reversed(list(element._children.values())))
        for attr in ("header", "html", "script"):
            child = getattr(element, attr, None)
            if isinstance(child, branca.element.Element):
                stack.append(child)
    for element in order:  # templates use the child keys as JavaScript variable names
        element._children = type(element._children)(
            (child.get_name(), child) for child in element._children.values())


def map_html(m: folium.Map, *, offline: bool = False) -> str:
    """Render a map to a full HTML page.

    Parameters
    ----------
    m
        The map.
    offline
        Inline every script, style, icon and font so the page needs no network.

    Returns
    -------
    str
        The HTML; the same map gives the same text.
    """
    m = copy.deepcopy(m)  # rendering changes a map: render a copy, any number of times
    _stable_ids(m)
    page = m.get_root().render()
    if offline:
        from bordergeo.offline import localize_html

        page = localize_html(page)
    return page


def save_map(m: folium.Map, path: str | os.PathLike[str], *, offline: bool = False) -> Path:
    """Write the map to an HTML file atomically.

    Parameters
    ----------
    m
        The map.
    path
        Destination ``.html`` file; its folder is created.
    offline
        Write one self-contained file that works without internet.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    page = map_html(m, offline=offline)
    out = atomic_write_text(path, page)
    logger.info("wrote %s (%.0f KB)", out, out.stat().st_size / 1024)
    return out
