"""Offline geographic context under the map: provinces, China, coast, rivers and towns.

The layers are small GeoJSON files bundled with the package (``data/context``, built by
``scripts/build_context.py`` from public-domain, CC BY and ODbL data; sources and licences
in ``data/context/README.md``). :func:`add_context` draws them in map panes below every
other layer, without pointer events, so they never hide or catch a click meant for the
gates, roads and routes:

* the Chinese side shaded light, the edges between Vietnamese provinces in grey and
  Lạng Sơn filled;
* the coast and the rivers of Natural Earth (Bằng Giang / Zuo, Red River) in blue;
* town names as permanent labels; the main towns (rank 1: Hà Nội, Hải Phòng, Lạng Sơn,
  Bắc Giang, Pingxiang) at every zoom, the district seats and smaller towns (rank 2) from
  zoom :data:`RANK2_MIN_ZOOM`.

Every text from the files reaches the page through :mod:`bordergeo.markup`.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path

import branca.element
import folium
import folium.map
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd

from bordergeo.errors import BorderGeoError, DataFileError
from bordergeo.markup import Html, escape_text, feature_group, html, is_blank

__all__ = [
    "CONTEXT_ATTRIBUTIONS",
    "CONTEXT_LAYERS",
    "LANGSON_FILL_MAX_ZOOM",
    "RANK2_MIN_ZOOM",
    "add_context",
    "context_dir",
    "load_context",
]

logger = logging.getLogger(__name__)

#: The bundled context files (without ``.geojson``), in drawing order.
CONTEXT_LAYERS = ("provinces", "china", "province_lines", "coast", "rivers", "places")

#: Attribution of each source, as the map's attribution control shows it.
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
GEOBOUNDARIES_ATTRIBUTION = "geoBoundaries (public domain)"
NATURAL_EARTH_ATTRIBUTION = "Natural Earth (public domain)"
GEONAMES_ATTRIBUTION = "GeoNames (CC BY 4.0)"

#: Every attribution the context layers may need (see ``data/context/README.md``).
CONTEXT_ATTRIBUTIONS = [OSM_ATTRIBUTION, GEOBOUNDARIES_ATTRIBUTION, NATURAL_EARTH_ATTRIBUTION,
                        GEONAMES_ATTRIBUTION]

#: Layer → its source's attribution.
_LAYER_ATTRIBUTION = {
    "provinces": GEOBOUNDARIES_ATTRIBUTION,
    "province_lines": GEOBOUNDARIES_ATTRIBUTION,
    "china": OSM_ATTRIBUTION,
    "coast": NATURAL_EARTH_ATTRIBUTION,
    "rivers": NATURAL_EARTH_ATTRIBUTION,
    "places": GEONAMES_ATTRIBUTION,
}

#: Rank-2 labels (district seats, smaller towns) show from this zoom on.
RANK2_MIN_ZOOM = 10
#: Lạng Sơn is filled up to this zoom. The geoBoundaries outline lies 1–4 km off the
#: OpenStreetMap border drawn over it, which shows once zoomed in; its edges stay drawn.
LANGSON_FILL_MAX_ZOOM = 10

#: Layer names in the layer control, by language.
_GROUP_NAMES = {"vi": "Bối cảnh (tỉnh, sông, địa danh)", "en": "Context (provinces, rivers, towns)"}

# Leaflet panes: tiles are at 200, vector overlays at 400, markers at 600. The shapes lie
# between the tiles and every overlay; the labels above the overlay lines (to stay
# readable over roads and routes) and below every marker, tooltip and popup.
_SHAPES_PANE = ("bordergeoContext", 350)
_LABELS_PANE = ("bordergeoContextLabels", 450)

_WATER = "#4a90c2"
_STYLES = {
    "china": {"stroke": False, "fillColor": "#f3efe6", "fillOpacity": 0.8},
    "langson": {"stroke": False, "fillColor": "#ffe082", "fillOpacity": 0.4,
                "className": "bordergeo-ctx-langson"},
    "line": {"color": "#9e9e9e", "weight": 1, "opacity": 0.9, "dashArray": "4 3"},
    "line_langson": {"color": "#8d6e63", "weight": 2, "opacity": 0.9},
    "coast": {"color": _WATER, "weight": 1.2, "opacity": 0.8},
    "river": {"color": _WATER, "weight": 1.5, "opacity": 0.7},
}
_LABEL_SIDES = ("e", "w", "n", "s")
# Label priority (lower wins where labels overlap) for the collision script of
# :mod:`bordergeo.labels`, which handles every ``.bordergeo-place-label`` with its own
# labels (gates 1–3, hubs 4, lanes 5, road numbers 6): the main towns just after the hubs,
# the other towns last.
_PRIORITY = {1: 4.5, 2: 7}


def context_dir() -> Path:
    """Return the folder of the bundled context files.

    Found as :mod:`bordergeo.congestion` finds its samples.

    Returns
    -------
    pathlib.Path
        ``bordergeo/data/context`` inside an installed package, else ``data/context`` of
        the source checkout.
    """
    packaged = Path(str(resources.files("bordergeo"))) / "data" / "context"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "data" / "context"


def _read_layer(path: Path) -> gpd.GeoDataFrame:
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(f"cannot read the context layer {path.name}: {exc}") from exc
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list):
        raise DataFileError(f"{path.name} is not a GeoJSON FeatureCollection")
    return gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")


def load_context() -> dict[str, gpd.GeoDataFrame]:
    """Read the bundled context layers.

    Returns
    -------
    dict
        ``{"provinces": ..., "china": ..., "province_lines": ..., "coast": ...,
        "rivers": ..., "places": ...}`` (:data:`CONTEXT_LAYERS`), each a GeoDataFrame in
        EPSG:4326. ``provinces``: ``name``, ``iso``, ``highlight`` (Lạng Sơn);
        ``places``: ``name`` (Vietnamese), ``name_en``, ``name_zh``, ``seat_of``, ``rank``
        (1 or 2), ``country``, ``label_at`` (``e``/``w``/``n``/``s``), ``source``.

    Raises
    ------
    DataFileError
        A bundled file is missing or unreadable.
    """
    root = context_dir()
    layers = {}
    for name in CONTEXT_LAYERS:
        path = root / f"{name}.geojson"
        if not path.is_file():
            raise DataFileError(f"the context layer {name}.geojson is missing from this "
                                f"installation ({root})")
        layers[name] = _read_layer(path)
    return layers


class _PlaceLabelStyle(branca.element.MacroElement):
    """The labels' CSS and a zoom handler for rank-2 labels and the Lạng Sơn fill.

    Rank-2 labels hide below ``min_zoom``, the Lạng Sơn fill above ``fill_max_zoom``.
    """

    _template = jinja2.Template("""
{% macro header(this, kwargs) %}
<style>
.bordergeo-place-label {
  position: absolute; display: flex; align-items: center; gap: 3px; white-space: nowrap;
  pointer-events: none; --r: 3px; }
.bordergeo-place-rank1 { --r: 4px; }
.bordergeo-place-dot {
  flex: none; width: calc(2 * var(--r)); height: calc(2 * var(--r)); border-radius: 50%;
  box-sizing: border-box; background: #fff; border: 1.5px solid #555; }
.bordergeo-place-rank1 .bordergeo-place-dot { background: #333; border-color: #fff; }
.bordergeo-place-text {
  font: 11px/1.2 system-ui, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", Arial,
  sans-serif; color: #3a3a3a;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; }
.bordergeo-place-rank1 .bordergeo-place-text { font-size: 13px; font-weight: 600; color: #1f1f1f; }
.bordergeo-place-cn .bordergeo-place-text { color: #6d5a3e; }
.bordergeo-place-zh { font-size: 10px; font-weight: 400; }
.bordergeo-place-e { left: calc(-1 * var(--r)); top: 0; transform: translateY(-50%); }
.bordergeo-place-w {
  right: calc(-1 * var(--r)); top: 0; transform: translateY(-50%);
  flex-direction: row-reverse; text-align: right; }
.bordergeo-place-n {
  left: 0; bottom: calc(-1 * var(--r)); transform: translateX(-50%);
  flex-direction: column-reverse; gap: 1px; text-align: center; }
.bordergeo-place-s {
  left: 0; top: calc(-1 * var(--r)); transform: translateX(-50%);
  flex-direction: column; gap: 1px; text-align: center; }
.bordergeo-ctx-lowzoom .bordergeo-place-rank2 { display: none; }
.bordergeo-ctx-highzoom .bordergeo-ctx-langson { fill-opacity: 0; }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function (map) {
  function update() {
    var zoom = map.getZoom(), classes = map.getContainer().classList;
    classes.toggle("bordergeo-ctx-lowzoom", zoom < {{ this.min_zoom|int }});
    classes.toggle("bordergeo-ctx-highzoom", zoom > {{ this.fill_max_zoom|int }});
  }
  map.on("zoomend", update);
  update();
})({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, min_zoom: int, fill_max_zoom: int) -> None:
        super().__init__()
        self._name = "BordergeoPlaceLabels"
        self.min_zoom = int(min_zoom)
        self.fill_max_zoom = int(fill_max_zoom)


def _ensure_panes(m: folium.Map) -> None:
    """Create the two context panes once per map, before the layers that use them."""
    existing = {child.name for child in m._children.values()
                if isinstance(child, folium.map.CustomPane)}
    for name, z_index in (_SHAPES_PANE, _LABELS_PANE):
        if name not in existing:
            folium.map.CustomPane(name, z_index=z_index, pointer_events=False).add_to(m)
    if not any(isinstance(child, _PlaceLabelStyle) for child in m._children.values()):
        _PlaceLabelStyle(RANK2_MIN_ZOOM, LANGSON_FILL_MAX_ZOOM).add_to(m)


def _geometry_only(gdf: gpd.GeoDataFrame, **columns: object) -> dict:
    """Return the GeoJSON of the geometry with only the named properties (never shown)."""
    frame = gpd.GeoDataFrame({k: list(v) for k, v in columns.items()} if columns else {},
                             geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    return frame.to_geo_dict(show_bbox=False, drop_id=True)


def _shapes(group: folium.FeatureGroup, gdf: gpd.GeoDataFrame, layer: str, style: dict,
            *, alternative: dict | None = None, flag: str | None = None) -> bool:
    """Add one context layer as a non-interactive GeoJSON; return whether it drew anything."""
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.empty:
        return False
    flags = (gdf[flag].fillna(False).astype(bool).to_numpy() if flag and flag in gdf.columns
             else np.zeros(len(gdf), dtype=bool))
    data = _geometry_only(gdf, highlight=[bool(f) for f in flags])
    special = alternative or style
    folium.GeoJson(
        data,
        style_function=lambda f: special if f["properties"]["highlight"] else style,
        control=False,
        pane=_SHAPES_PANE[0],
        interactive=False,
        attribution=escape_text(_LAYER_ATTRIBUTION[layer]),
    ).add_to(group)
    return True


def _text(value: object) -> str:
    return "" if is_blank(value) else str(value).strip()


def _label_text(place: pd.Series, lang: str) -> Html:
    """Return the text of one town's label: its name (and district), the Chinese below."""
    name, name_en = _text(place.get("name")), _text(place.get("name_en"))
    chinese = _text(place.get("country")) == "CN"
    if chinese and name_en and name_en != name:
        shown = name_en if lang == "en" else f"{name} ({name_en})"
    elif lang == "en" and name_en:
        shown = name_en
    else:
        shown = name
    seat_of = _text(place.get("seat_of"))
    if seat_of and seat_of != shown:
        shown = f"{shown} ({seat_of})"
    name_zh = _text(place.get("name_zh"))
    if name_zh:
        return html('{}<br><span class="bordergeo-place-zh">{}</span>', shown, name_zh)
    return html("{}", shown)


def _places(group: folium.FeatureGroup, places: gpd.GeoDataFrame, lang: str) -> bool:
    """Add the town labels (DivIcon markers in the labels pane); return whether any."""
    drawn = False
    attribution = escape_text(GEONAMES_ATTRIBUTION)
    for _, place in places.iterrows():
        point = place.geometry
        if point is None or point.is_empty or point.geom_type != "Point" \
                or not _text(place.get("name")):
            continue
        rank = 1 if pd.to_numeric(place.get("rank"), errors="coerce") == 1 else 2
        side = _text(place.get("label_at"))
        side = side if side in _LABEL_SIDES else "e"
        country = "cn" if _text(place.get("country")) == "CN" else "vn"
        label = html('<div class="bordergeo-place-label bordergeo-place-rank{} '
                     'bordergeo-place-{} bordergeo-place-{}" data-priority="{}" '
                     'data-minzoom="{}"><span class="bordergeo-place-dot"></span>'
                     '<span class="bordergeo-place-text">{}</span></div>',
                     rank, side, country, _PRIORITY[rank], 0 if rank == 1 else RANK2_MIN_ZOOM,
                     _label_text(place, lang))
        folium.Marker(
            [point.y, point.x],
            icon=folium.DivIcon(html=str(label), icon_size=(0, 0),
                                class_name="bordergeo-place-anchor"),
            pane=_LABELS_PANE[0],
            interactive=False,
            keyboard=False,
            attribution=attribution,
        ).add_to(group)
        drawn = True
    return drawn


def add_context(m: folium.Map, *, lang: str = "vi") -> list[str]:
    """Add the bundled geographic context under every other layer of the map.

    Call it right after the basemap layers. It adds one layer, "Context" in the layer
    control, holding the Chinese side (shaded), the provinces (Lạng Sơn filled, shared
    edges in grey), the coast and rivers (blue) and town labels (rank 1 at every zoom,
    rank 2 from zoom :data:`RANK2_MIN_ZOOM`). Nothing is interactive and nothing is
    requested online. Each drawn source is credited in the map's attribution control.

    Parameters
    ----------
    m
        The map.
    lang
        ``"vi"`` (Vietnamese names, Chinese towns as "Bằng Tường (Pingxiang)") or ``"en"``
        (English names where GeoNames has them: "Hanoi", "Pingxiang"); also the language
        of the layer's name.

    Returns
    -------
    list of str
        The attributions of what was drawn (from :data:`CONTEXT_ATTRIBUTIONS`), in that
        order, for a caption or a printed map.

    Raises
    ------
    BorderGeoError
        ``lang`` is neither ``"vi"`` nor ``"en"``.
    DataFileError
        A bundled context file is missing or unreadable.
    """
    if lang not in _GROUP_NAMES:
        raise BorderGeoError(f"unknown language {lang!r}; choose one of "
                             f"{', '.join(_GROUP_NAMES)}")
    layers = load_context()
    _ensure_panes(m)
    group = feature_group(_GROUP_NAMES[lang], overlay=True, control=True, show=True)
    drawn: set[str] = set()
    empty = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    provinces = layers.get("provinces", empty)
    if "highlight" in provinces.columns:  # only Lạng Sơn is filled; the others stay clear
        highlighted = provinces[provinces["highlight"].fillna(False).astype(bool)]
        if _shapes(group, highlighted, "provinces", _STYLES["langson"]):
            drawn.add(_LAYER_ATTRIBUTION["provinces"])
    if _shapes(group, layers.get("china", empty), "china", _STYLES["china"]):
        drawn.add(_LAYER_ATTRIBUTION["china"])
    if _shapes(group, layers.get("province_lines", empty), "province_lines", _STYLES["line"],
               alternative=_STYLES["line_langson"], flag="highlight"):
        drawn.add(_LAYER_ATTRIBUTION["province_lines"])
    for layer, style in (("coast", "coast"), ("rivers", "river")):
        if _shapes(group, layers.get(layer, empty), layer, _STYLES[style]):
            drawn.add(_LAYER_ATTRIBUTION[layer])
    if _places(group, layers.get("places", empty), lang):
        drawn.add(_LAYER_ATTRIBUTION["places"])
    group.add_to(m)
    attributions = [a for a in CONTEXT_ATTRIBUTIONS if a in drawn]
    logger.debug("context layers added: %s", ", ".join(attributions))
    return attributions
