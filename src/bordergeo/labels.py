"""Names on the map: gates (Vietnamese, Chinese beneath), hubs and road numbers.

Labels are small HTML boxes pinned to points (``L.divIcon``), each with the lowest zoom at
which it is worth showing and a priority. A short script hides, after every zoom or pan,
the labels below their zoom and then, from the highest priority down, every label that
would overlap one already shown — so the names near Đồng Đăng do not pile up.
"""

from __future__ import annotations

import branca.element
import folium
import geopandas as gpd
import pandas as pd
import shapely

from bordergeo.gates import crossing_ids
from bordergeo.i18n import text
from bordergeo.markup import feature_group, html, is_blank

__all__ = ["add_labels", "LABEL_CSS"]

#: Look of the labels (white halo so they read on any background).
LABEL_CSS = (
    ".bordergeo-label{white-space:nowrap;font:600 12px/1.15 sans-serif;color:#212121;"
    "text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff;pointer-events:none}"
    ".bordergeo-label .zh{font-weight:400;font-size:11px;color:#424242}"
    ".bordergeo-label.road{font:700 10px sans-serif;color:#bf360c}"
    ".bordergeo-label.hub{font-weight:500;color:#0d47a1}"
)
#: Priority (lower shows first) and first zoom of each kind of label.
_RULES = {"international": (1, 8), "main": (2, 8), "secondary": (3, 10), "lane": (5, 13),
          "hub": (4, 9), "road": (6, 10)}
#: Above this many road lines, road numbers are left out (one label per number stays cheap
#: but finding the longest line of each is not worth it for country-size layers).
MAX_ROAD_LINES_FOR_NUMBERS = 20_000


class _LabelScript(branca.element.MacroElement):
    """Zoom rules and collision handling of the labels (trusted code, no data)."""

    _template = branca.element.Template("""
{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  function place() {
    var zoom = map.getZoom();
    var nodes = Array.prototype.slice.call(
      map.getContainer().querySelectorAll('.bordergeo-label, .bordergeo-place-label'));
    nodes.sort(function (a, b) {
      return (+a.dataset.priority || 3) - (+b.dataset.priority || 3); });
    var kept = [];
    nodes.forEach(function (node) {
      var shown = zoom >= (+node.dataset.minzoom || 0);
      node.style.visibility = 'visible';
      if (shown) {
        var r = node.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) { return; }
        shown = !kept.some(function (k) {
          return r.left < k.right && r.right > k.left && r.top < k.bottom && r.bottom > k.top;
        });
        if (shown) { kept.push(r); }
      }
      node.style.visibility = shown ? 'visible' : 'hidden';
    });
  }
  map.on('zoomend moveend overlayadd', place);
  map.whenReady(function () { setTimeout(place, 0); });
})();
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "BordergeoLabels"
        self.css = LABEL_CSS


def _label(group: folium.FeatureGroup, point: shapely.Point, body: object, *, kind: str,
           css: str = "") -> None:
    priority, minzoom = _RULES[kind]
    icon = folium.DivIcon(
        html=str(html("<div class='bordergeo-label {}' data-priority='{}' data-minzoom='{}'>"
                      "{}</div>", css, priority, minzoom, body)),
        icon_size=(0, 0), icon_anchor=(-8, 6), class_name="bordergeo-label-anchor")
    folium.Marker([point.y, point.x], icon=icon, interactive=False).add_to(group)


def add_labels(m: folium.Map, gates: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame,
               roads: gpd.GeoDataFrame, *, lang: str = "en") -> folium.FeatureGroup:
    """Add name labels of gates, hubs and road numbers, with zoom rules and no overlaps.

    A crossing is named once (its lanes only from zoom 13); Chinese names go beneath.

    Parameters
    ----------
    m
        The map.
    gates, hubs, roads
        The layers (EPSG:4326).
    lang
        Interface language of the layer name.

    Returns
    -------
    folium.FeatureGroup
        The labels layer.
    """
    group = feature_group(text("labels", lang), show=True)
    crossing = crossing_ids(gates) if len(gates) else pd.Series(dtype=str)
    for _, gate in gates.iterrows():
        gate_id = str(gate["id"])
        is_lane = crossing.get(gate_id, gate_id) != gate_id
        kind = "lane" if is_lane else (gate["level"] if gate["level"] in _RULES else "secondary")
        zh = gate.get("name_zh")
        body = html("{}{}", gate["name_vi"],
                    html("<br><span class='zh'>{}</span>", zh) if not is_blank(zh) else "")
        _label(group, gate.geometry, body, kind=kind)
    for _, hub in hubs.iterrows():
        _label(group, hub.geometry, html("{}", hub["name_vi"]), kind="hub", css="hub")
    if 0 < len(roads) <= MAX_ROAD_LINES_FOR_NUMBERS and "ref" in roads.columns:
        lines = roads[roads["ref"].notna() & (roads["ref"].astype(str).str.strip() != "")
                      & (roads.get("class", "") != "rail")]
        if len(lines):
            lengths = shapely.length(lines.geometry.to_numpy())
            longest = lines.assign(_len=lengths).sort_values("_len").groupby("ref").tail(1)
            for _, road in longest.iterrows():
                point = road.geometry.interpolate(0.5, normalized=True)
                _label(group, point, html("{}", road["ref"]), kind="road", css="road")
    group.add_to(m)
    _LabelScript().add_to(m)
    return group
