r"""One escaping function for every text that reaches a map page, and markup built on it.

Folium puts tooltip text and popup HTML inside JavaScript template literals (backtick
strings), GeoJSON properties and marker options into JavaScript that later sets
``innerHTML``, and page elements straight into the HTML. A text from data must therefore be
harmless as HTML *and* inside a template literal, where ``\u003c`` typed in a gate name
would decode to ``<``. :func:`escape_text` is the one function that makes it so; everything
else here is built on it:

* :class:`Html` is text that already is markup. Only :func:`html` (a template whose every
  value is escaped unless it is :class:`Html` itself) and :func:`join` make one, so
  markup is never glued together from unescaped data.
* :func:`tooltip`, :func:`popup`, :func:`geojson_tooltip`, :func:`feature_group` and
  :func:`page_element` are the boundary to folium: they pass :class:`Html` on as is and
  escape anything else, so raw data cannot reach the page.
* :func:`escaped_frame` prepares GeoJSON properties that folium shows with ``innerHTML``,
  and :func:`script_json` writes JSON that may sit inside a ``<script>``.

Examples
--------
>>> str(html("<b>{}</b> ({:,.0f} trucks)", "Hữu Nghị <1>", 1200))
'<b>Hữu Nghị &lt;1&gt;</b> (1,200 trucks)'
>>> escape_text("\\u003cimg\\u003e `${x}`")
'&#92;u003cimg&#92;u003e &#96;&#36;&#123;x&#125;&#96;'
"""

from __future__ import annotations

import json
import logging
import math
import string
from collections.abc import Iterable, Sequence
from typing import Any

import branca.element
import folium
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd

__all__ = [
    "Html",
    "as_html",
    "escape_text",
    "escaped_frame",
    "feature_group",
    "geojson_tooltip",
    "html",
    "is_blank",
    "join",
    "page_element",
    "popup",
    "script_json",
    "tooltip",
]

logger = logging.getLogger(__name__)

#: Characters replaced by :func:`escape_text`: the five of HTML, then those that end or
#: interpolate a JavaScript template literal (backslash, backtick, ``$``) and the braces of
#: Jinja templates (harmless at run time; a second line of defence should a text ever be
#: compiled as a template).
_ENTITIES = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;",
    "\\": "&#92;", "`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;",
})
#: Characters that JSON leaves alone but that mean something inside an HTML ``<script>``.
_SCRIPT_JSON = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "'": "\\u0027", "\u2028": "\\u2028", "\u2029": "\\u2029"})
_KEY = object()


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def escape_text(value: object) -> str:
    """Escape a value for any place in a folium page: HTML, attribute, JS template literal.

    This is the one escaping function of the maps; every other helper of this module
    uses it.

    Parameters
    ----------
    value
        Any value from data; ``None``, NaN and ``pd.NA`` become an empty string, anything
        else is turned into text with ``str``.

    Returns
    -------
    str
        The text with ``& < > " '`` as HTML entities and also backslash (``&#92;``),
        backtick (``&#96;``), ``$`` (``&#36;``) and braces (``&#123;``, ``&#125;``), so
        that it can neither open a tag nor leave, interpolate or escape characters in the
        JavaScript template literals folium wraps tooltips and popups in. NUL, U+2028 and
        U+2029 are left alone: they are legal in a template literal and the HTML parser
        turns NUL into U+FFFD.
    """
    if _missing(value):
        return ""
    return str(value).translate(_ENTITIES)


def is_blank(value: object) -> bool:
    """Return whether a value shows as nothing (``None``, NaN, ``pd.NA`` or ``""``)."""
    return _missing(value) or str(value) == ""


class Html(str):
    """Text that already is markup, safe to place in the page as is.

    Only :func:`html` and :func:`join` build one (calling ``Html(...)`` raises
    :class:`TypeError`), and both escape every value that is not :class:`Html`. String
    methods and ``+`` return a plain ``str``, which the boundary helpers escape again:
    a mistake shows as visible tags, never as live markup.
    """

    __slots__ = ()

    def __new__(cls, text: str, *, _key: object = None) -> Html:
        """Refuse to wrap text directly: use :func:`html`, :func:`join` or :func:`as_html`."""
        if _key is not _KEY:
            raise TypeError("Html is built by bordergeo.markup.html() or join(), which "
                            "escape every value")
        return super().__new__(cls, text)

    def __html__(self) -> str:
        """Return the markup (the ``__html__`` protocol of Jinja and MarkupSafe)."""
        return str(self)

    def __repr__(self) -> str:
        return f"Html({str.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _rebuild, (str(self),)


def _rebuild(text: str) -> Html:
    return Html(text, _key=_KEY)


def as_html(value: object) -> Html:
    """Return ``value`` if it is :class:`Html`, else the value escaped as text."""
    if isinstance(value, Html):
        return value
    return Html(escape_text(value), _key=_KEY)


class _Formatter(string.Formatter):
    """``str.format`` whose every field is escaped unless it is :class:`Html`."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Html):
            return str(value) if not format_spec else format(str(value), format_spec)
        if _missing(value):
            return ""
        return escape_text(format(value, format_spec))


_FORMATTER = _Formatter()


def html(template: str, /, *values: object, **named: object) -> Html:
    """Fill a markup template, escaping every value that is not already :class:`Html`.

    Parameters
    ----------
    template
        Trusted markup written in the code, with ``str.format`` fields (``{}``,
        ``{name}``, ``{:,.0f}``; literal braces are doubled). Never data.
    *values, **named
        The values of the fields. :class:`Html` goes in as is; anything else is formatted
        with the field's format spec and then escaped by :func:`escape_text`. ``None``,
        NaN and ``pd.NA`` become empty.

    Returns
    -------
    Html
        The filled markup.
    """
    if isinstance(template, Html):
        template = str(template)
    elif not isinstance(template, str):
        raise TypeError(f"a markup template must be str, not {type(template).__name__}")
    return Html(_FORMATTER.vformat(template, values, named), _key=_KEY)


def join(parts: Iterable[object], *, sep: object = "") -> Html:
    """Join parts into markup, escaping each part (and ``sep``) that is not :class:`Html`.

    Parameters
    ----------
    parts
        Markup or text.
    sep
        Put between the parts.

    Returns
    -------
    Html
        The joined markup.
    """
    return Html(as_html(sep).join(as_html(p) for p in parts), _key=_KEY)


def tooltip(content: object, **options: Any) -> folium.Tooltip:
    """Return a folium tooltip showing ``content``.

    Parameters
    ----------
    content
        :class:`Html`, placed as is; anything else is escaped and shows as text.
    **options
        Passed to :class:`folium.Tooltip` (``sticky``, ``style``, Leaflet options).

    Returns
    -------
    folium.Tooltip
    """
    return folium.Tooltip(str(as_html(content)), **options)


def popup(content: object, **options: Any) -> folium.Popup:
    """Return a folium popup showing ``content``.

    Parameters
    ----------
    content
        :class:`Html`, placed as is; anything else is escaped and shows as text.
    **options
        Passed to :class:`folium.Popup` (``max_width``, ``show``, ``lazy``, ...); the
        content is never parsed again (``parse_html=False``).

    Returns
    -------
    folium.Popup
    """
    return folium.Popup(str(as_html(content)), parse_html=False, **options)


def geojson_tooltip(fields: Sequence[str], *, aliases: Sequence[object] | None = None,
                    **options: Any) -> folium.GeoJsonTooltip:
    """Return a GeoJSON tooltip over properties prepared by :func:`escaped_frame`.

    Parameters
    ----------
    fields
        Property names shown.
    aliases
        Labels of the fields (escaped unless :class:`Html`); default: the field names.
    **options
        Passed to :class:`folium.GeoJsonTooltip` (``labels``, ``sticky``, ...).

    Returns
    -------
    folium.GeoJsonTooltip
    """
    labels = [str(as_html(a)) for a in (fields if aliases is None else aliases)]
    return folium.GeoJsonTooltip(list(fields), aliases=labels, **options)


def feature_group(name: object, *, layer_class: type[folium.map.Layer] | None = None,
                  **options: Any) -> folium.map.Layer:
    """Return a folium layer whose name (shown with ``innerHTML`` in the layer control) is escaped.

    Parameters
    ----------
    name
        Layer name, as text or :class:`Html`.
    layer_class
        The folium layer class, :class:`folium.FeatureGroup` by default (e.g.
        :class:`folium.plugins.MarkerCluster` for markers grouped where they overlap).
    **options
        Passed to the layer class (``show``, ``overlay``, ...).

    Returns
    -------
    folium.map.Layer
        A :class:`folium.FeatureGroup` unless ``layer_class`` says otherwise.
    """
    return (layer_class or folium.FeatureGroup)(name=str(as_html(name)), **options)


class _Verbatim(branca.element.Element):
    """A page element that writes its markup as is (never compiled as a Jinja template)."""

    _template = jinja2.Template("{{ this.markup }}")

    def __init__(self, markup: Html) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.markup = str(markup)


def page_element(content: object) -> branca.element.Element:
    """Return an element for the page root (``m.get_root().html.add_child(...)``).

    ``branca.element.Element(text)`` would compile ``text`` as a Jinja template, so a
    ``{{ ... }}`` in a title would run as Python; this element writes its markup verbatim.

    Parameters
    ----------
    content
        :class:`Html`, placed as is; anything else is escaped and shows as text.

    Returns
    -------
    branca.element.Element
    """
    return _Verbatim(as_html(content))


def escaped_frame(gdf: gpd.GeoDataFrame, fields: Sequence[str]) -> gpd.GeoDataFrame:
    """Keep ``fields`` and the geometry, every value escaped as text, for GeoJSON properties.

    folium's GeoJSON tooltips and popups put property values into ``innerHTML``.

    Parameters
    ----------
    gdf
        The layer.
    fields
        Columns kept; a column the layer lacks becomes empty text.

    Returns
    -------
    geopandas.GeoDataFrame
        One text column per field (escaped by :func:`escape_text`) and the geometry, with
        a fresh index.
    """
    data = {f: [escape_text(v) for v in gdf[f].tolist()] if f in gdf.columns
            else [""] * len(gdf) for f in fields}
    return gpd.GeoDataFrame(data, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)


def script_json(value: object) -> str:
    r"""Return JSON text that is safe inside an HTML ``<script>`` element.

    ``json.dumps`` leaves ``</script>`` and ``<!--`` as they are; here ``< > & '`` and the
    line separators U+2028/U+2029 are ``\u`` escapes, which JavaScript decodes back.

    Parameters
    ----------
    value
        JSON-ready data.

    Returns
    -------
    str
    """
    return json.dumps(value).translate(_SCRIPT_JSON)
