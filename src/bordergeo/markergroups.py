"""Pins that overlap are grouped into one numbered badge and fanned out on demand.

Eight gates and lanes and three hubs sit within a few kilometres of Đồng Đăng; a crossing
and its first lane share one point. Drawn one by one their pins stack into an unreadable
pile until zoom 13 (and the shared points never separate). The gates and the hubs layers
are therefore each a
`Leaflet.markercluster <https://github.com/Leaflet/Leaflet.markercluster>`_ group (vendored
with folium's assets, so it works offline):

* icons closer than :data:`GROUP_RADIUS_PX` on screen are drawn as one round badge in the
  colour of the most important pin it holds, with the number of pins and their names as
  the badge's tooltip;
* clicking a badge zooms in until its pins separate, and fans out (spiderfies) pins that
  share a point;
* from zoom :data:`SHARED_POINT_ZOOM` on only pins on the very same point stay grouped;
* a gate found with the search box is revealed (its group fanned out) and its popup opened.
"""

from __future__ import annotations

import branca.element
import folium
import folium.plugins
from folium.utilities import JsCode

from bordergeo.markup import Html, feature_group, html

__all__ = ["GROUP_RADIUS_PX", "SHARED_POINT_ZOOM", "marker_group_layer",
           "group_legend_html", "reveal_found_gates"]

#: Screen distance (pixels) below which pins are grouped; an icon is 25 px wide.
GROUP_RADIUS_PX = 30
#: Zoom from which only pins that share a point are grouped (all others stand apart).
SHARED_POINT_ZOOM = 13

#: Map pane of the group badges.
BADGE_PANE = "bordergeoPinGroups"

#: Draws a group's badge: the colour of its most important pin (lowest ``groupRank``),
#: the number of pins, their names (escaped when the markers were made) as a tooltip.
#: Leaflet.markercluster calls it as a method of the layer's options (``this``).
_BADGE_JS = """function (group) {
  function rank(pin) { var r = pin.options.groupRank; return r == null ? 99 : r; }
  var pins = group.getAllChildMarkers().slice().sort(function (a, b) {
    return rank(a) - rank(b); });
  var names = pins.map(function (g) { return g.options.label || ''; }).join('&#10;');
  return L.divIcon({
    html: '<div class="bordergeo-pin-group ' + (this.badgeClass || '') + '" style="background:'
      + (pins[0].options.groupColour || '#d63e2a') + '" title="' + names + '">'
      + pins.length + '</div>',
    className: 'bordergeo-pin-group-icon', iconSize: L.point(30, 30)});
}"""

class _GroupStyle(branca.element.MacroElement):
    """The look of a group badge (trusted CSS, no data)."""

    _template = branca.element.Template("""
{% macro header(this, kwargs) %}<style>
.bordergeo-pin-group-icon{background:none;border:none}
.bordergeo-pin-group{width:26px;height:26px;border-radius:50%;border:2px solid #fff;
  box-shadow:0 0 0 1px #212121,0 1px 4px rgba(0,0,0,.5);color:#fff;
  font:bold 13px/26px sans-serif;text-align:center;cursor:pointer}
</style>{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "PinGroupStyle"


def marker_group_layer(m: folium.Map, name: object, *, kind: str,
                       show: bool = True) -> folium.map.Layer:
    """Return a layer for pins (gates, hubs) that groups them where their icons overlap.

    Parameters
    ----------
    m
        The map; the badge style is added to its page (the layer itself is not added).
    name
        Layer name in the layer control (escaped).
    kind
        What the pins are (``gates``, ``hubs``): the badges get the CSS class
        ``bordergeo-pin-group-<kind>``.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.map.Layer
        A :class:`folium.plugins.MarkerCluster`. Markers added to it may carry the options
        ``groupRank`` (0 = most important) and ``groupColour`` (a CSS colour) for the badge.
    """
    radius = (f"function (zoom) {{ return zoom >= {SHARED_POINT_ZOOM} ? 1 : "
              f"{GROUP_RADIUS_PX}; }}")
    if not any(isinstance(child, _GroupStyle) for child in m._children.values()):
        _GroupStyle().add_to(m)
        # badges above every pin (pins stand on each other near Đồng Đăng), below tooltips
        folium.map.CustomPane(BADGE_PANE, z_index=640, pointer_events=True).add_to(m)
    return feature_group(
        name, layer_class=folium.plugins.MarkerCluster, show=show,
        icon_create_function=_BADGE_JS, max_cluster_radius=JsCode(radius),
        show_coverage_on_hover=False, cluster_pane=BADGE_PANE, spiderfy_on_max_zoom=True,
        zoom_to_bounds_on_click=True, spiderfy_distance_multiplier=1.6,
        remove_outside_visible_bounds=False,  # few pins: all stay in the page
        badge_class=f"bordergeo-pin-group-{kind}")


class _RevealFound(branca.element.MacroElement):
    """After a search finds a gate, fan out its group and open its popup."""

    _template = branca.element.Template("""
{% macro script(this, kwargs) %}
{{ this.layer.get_name() }}searchControl.on('search:locationfound', function (e) {
  {{ this.layer.get_name() }}.zoomToShowLayer(e.layer, function () { e.layer.openPopup(); });
});
{% endmacro %}
""")

    def __init__(self, layer: folium.map.Layer) -> None:
        super().__init__()
        self._name = "RevealFound"
        # folium's search plugin names its control after the layer it searches; the names
        # are read when the page is written, after the map's ids are made stable
        self.layer = layer


def reveal_found_gates(m: folium.Map, layer: folium.map.Layer) -> None:
    """Make the search box reveal a gate hidden in a group (add after the search control).

    Parameters
    ----------
    m
        The map, with a :class:`folium.plugins.Search` over ``layer`` already added.
    layer
        The gate layer from :func:`marker_group_layer`.
    """
    _RevealFound(layer).add_to(m)


def group_legend_html(label: str) -> Html:
    """Return the legend line of a group badge."""
    return html("<div><span class='bordergeo-pin-group' style='display:inline-block;"
                "width:16px;height:16px;font:bold 10px/16px sans-serif;background:#d63e2a;"
                "vertical-align:middle;margin-right:6px'>3</span>{}</div>", label)
