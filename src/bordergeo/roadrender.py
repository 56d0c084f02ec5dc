r"""Large line layers (road networks) drawn on one Leaflet canvas from compact data.

A road layer drawn the usual folium way (``folium.GeoJson``) is one SVG path and one
GeoJSON feature per line: 100,000 named road segments make a 37 MB page that Chromium
takes minutes to draw (folium's style function is a ``switch`` over feature ids).
:class:`CanvasLines` draws the same lines on one ``<canvas>`` from a compact encoding,
with a small Leaflet layer written here (no plugin, nothing online):

* **Geometry**: coordinates as integers (``10**precision`` per degree; 5 decimals ≈ 1 m),
  each a delta from the previous vertex, zigzag varints, base64. Lines are sorted along a
  Morton (Z-order) curve, so consecutive lines are neighbours: the deltas are small and
  runs of 256 lines form spatial blocks whose boxes the browser tests against the view.
  Within a block, lines follow their name (the field with the most values): sections of
  one road come one after the other.
* **Attributes**: per shown field, a table of its distinct values, each escaped by
  :func:`bordergeo.markup.escape_text`, sorted and front-coded (each entry keeps the
  prefix it shares with the previous one; a full entry every ``restart`` entries, so any
  value decodes from at most that many); per line one index into it (delta varints).
* **Styles**: a short table (colour, width, opacity, dashes). The style and the fields
  with few values (class, lanes, status...) are folded into one table of their
  combinations ("kinds", the most frequent first), so most lines need one byte for all of
  them; fields with many values (names) keep their own index. The canvas strokes one path
  per style, in the order of the table (the first is drawn first, under the others).
* **Drawing**: only blocks in view are drawn, and a vertex closer than half a pixel to the
  one drawn before it is skipped. Chrome rasterises a canvas stroke in about 10 µs
  (without a GPU), so at most ``strokes`` lines (20,000, the longest in view) are
  stroked, anti-aliased, in the style's colour, width and dashes; shorter ones are
  rasterised by the layer into one pixel buffer put under the strokes: a square of the
  line's width every device pixel along it (dashes kept), and a line smaller than a pixel
  only marks its pixel (one square per pixel and style). The 139 bundled roads are all
  stroked; a zoomed-out million lines cost about as much as the pixels they cover. The
  canvas sits in its own pane (z-index 380: over tiles and context shapes,
  under Leaflet's overlay pane of routes and borders) and takes no mouse events: other
  layers keep theirs. After each draw the canvas (``canvas.bordergeo-lines``) carries
  ``data-lines``, ``data-drawn`` (lines drawn), ``data-draws``, ``data-draw-ms`` and
  ``data-first-draw-ms`` (``performance.now()`` at the first draw), and the layer fires
  ``draw``.
* **Tooltips**: on hover (and on click, for touch screens) the line under the pointer is
  found in the blocks around it, its values are decoded from the tables and shown in one
  Leaflet tooltip as folium's GeoJSON tooltips show them (a table of label and value).

The encoding is one JSON document written by :func:`bordergeo.markup.script_json` (``<``,
``>``, ``&``, ``'`` and U+2028/9 as ``\u`` escapes: it cannot close its element) into a
``<script type="application/json">`` data island; it is never compiled as a Jinja
template. Labels, values, colours and the attribution are escaped by
:func:`~bordergeo.markup.escape_text` before they are encoded, so the browser may put them
into ``innerHTML`` as they are. :func:`decode_lines` reads the encoding back (the tests'
reference decoder).

Examples
--------
>>> import shapely
>>> lines = [shapely.LineString([(106.7, 21.8), (106.8, 21.9)])]
>>> layer = CanvasLines(lines, columns=[("Name", ["QL1A <b>"])],
...                     styles=[LineStyle("#e65100", 4)])
>>> decode_lines(layer.encoded.payload).fields["Name"]
['QL1A &lt;b&gt;']
"""

from __future__ import annotations

import base64
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import branca.element
import jinja2
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from bordergeo.errors import BorderGeoError
from bordergeo.markup import escape_text, script_json

__all__ = [
    "FORMAT_VERSION",
    "CanvasLines",
    "DecodedLines",
    "EncodedLines",
    "LineStyle",
    "decode_lines",
    "encode_lines",
]

logger = logging.getLogger(__name__)

#: Version of the encoding in :attr:`EncodedLines.payload` (``"version"``).
FORMAT_VERSION = 1
#: Lines per spatial block (consecutive lines in Morton order).
_BLOCK = 256
#: A full table entry every this many entries (random access decodes at most this many).
_RESTART = 32
#: At most this many combinations of style and few-valued fields share one table.
_MAX_KINDS = 4096
_TYPE_NAMES = {0: "Point", 3: "Polygon", 4: "MultiPoint", 6: "MultiPolygon",
               7: "GeometryCollection"}


@dataclasses.dataclass(frozen=True)
class LineStyle:
    """How one kind of line is stroked.

    Parameters
    ----------
    color
        CSS colour (escaped like any text).
    weight
        Width in pixels.
    opacity
        Stroke opacity, 0 to 1.
    dash
        Dash pattern in pixels (``(6, 6)``) or ``None`` for a solid line.
    """

    color: str
    weight: float
    opacity: float = 1.0
    dash: tuple[float, ...] | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the style as the browser reads it (colour escaped)."""
        if not (self.weight > 0 and 0 <= self.opacity <= 1):
            raise BorderGeoError(f"line style needs weight > 0 and opacity in [0, 1]: {self}")
        return {"color": escape_text(self.color), "weight": float(self.weight),
                "opacity": float(self.opacity),
                "dash": None if not self.dash else [float(d) for d in self.dash]}


@dataclasses.dataclass(frozen=True)
class EncodedLines:
    """A line layer in the compact form the browser draws.

    Attributes
    ----------
    payload
        The JSON-ready encoding (see the module description).
    rows
        Input row of each encoded line, in encoded order (a multi-line row gives one line
        per part; rows without a geometry give none).
    """

    payload: dict[str, Any]
    rows: NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class DecodedLines:
    """An encoding read back: what the browser has after decoding.

    Attributes
    ----------
    coords
        Per line, its ``(n, 2)`` lon/lat vertices (rounded to the encoding's precision).
    style
        Per line, its index into ``styles``.
    styles
        The style table, in drawing order.
    fields
        Per field label (escaped), each line's value (escaped text).
    attribution
        The layer's credit (escaped) or ``None``.
    """

    coords: list[NDArray[np.float64]]
    style: NDArray[np.int64]
    styles: list[dict[str, Any]]
    fields: dict[str, list[str]]
    attribution: str | None


# --- integer streams -------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _uvarints(values: ArrayLike) -> bytes:
    """Unsigned LEB128 varints of non-negative integers (vectorised)."""
    v = np.asarray(values, dtype=np.uint64).ravel()
    if v.size == 0:
        return b""
    size = np.ones(v.shape, dtype=np.int64)
    for k in range(1, 10):
        more = v >= np.uint64(1 << (7 * k))
        if not more.any():
            break
        size += more
    ends = np.cumsum(size)
    starts = ends - size
    out = np.empty(int(ends[-1]), dtype=np.uint8)
    for k in range(int(size.max())):
        sel = size > k
        chunk = (v[sel] >> np.uint64(7 * k)) & np.uint64(0x7F)
        cont = np.where(size[sel] > k + 1, 0x80, 0).astype(np.uint64)
        out[starts[sel] + k] = (chunk | cont).astype(np.uint8)
    return out.tobytes()


def _zigzag(values: NDArray[np.int64]) -> NDArray[np.uint64]:
    v = values.astype(np.int64)
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def _running(values: ArrayLike, stride: int = 1) -> str:
    """Base64 of the zigzag varint deltas of ``stride`` interleaved integer sequences."""
    v = np.asarray(values, dtype=np.int64).reshape(-1, stride)
    deltas = np.diff(v, axis=0, prepend=np.zeros((1, stride), dtype=np.int64))
    return _b64(_uvarints(_zigzag(deltas.ravel())))


def _read_uvarints(data: str, n: int) -> NDArray[np.uint64]:
    buf = np.frombuffer(base64.b64decode(data), dtype=np.uint8)
    ends = np.flatnonzero(buf < 0x80)
    if len(ends) < n:
        raise BorderGeoError(f"line encoding: {len(ends)} values where {n} were expected")
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    ends = ends[:n]
    starts = np.r_[0, ends[:-1] + 1]
    sizes = ends - starts + 1
    pos = np.arange(int(ends[-1]) + 1) - np.repeat(starts, sizes)
    parts = (buf[: int(ends[-1]) + 1].astype(np.uint64) & np.uint64(0x7F)) << (
        7 * pos).astype(np.uint64)
    return np.add.reduceat(parts, starts)


def _read_running(data: str, n: int, stride: int = 1) -> NDArray[np.int64]:
    u = _read_uvarints(data, n).astype(np.int64)
    deltas = (u >> 1) ^ -(u & 1)
    return np.cumsum(deltas.reshape(-1, stride), axis=0).ravel()


# --- text tables -----------------------------------------------------------------------


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _shared_prefixes(values: Sequence[str], *, width: int = 64,
                     chunk: int = 100_000) -> NDArray[np.int64]:
    """Characters each string shares with the one before it (at most ``width``)."""
    n = len(values)
    lengths = np.fromiter(map(len, values), count=n, dtype=np.int64)
    shared = np.zeros(n, dtype=np.int64)
    width = max(1, min(width, int(lengths.max()) if n else 1))
    for lo in range(1, n, chunk):  # chunks of rows bound the memory of the char grid
        head = np.array([v[:width] for v in values[lo - 1:lo + chunk]], dtype=f"<U{width}")
        chars = head.view(np.uint32).reshape(len(head), width)
        same = np.logical_and.accumulate(chars[1:] == chars[:-1], axis=1).sum(axis=1)
        shared[lo:lo + chunk] = same
    shared[1:] = np.minimum(shared[1:], np.minimum(lengths[1:], lengths[:-1]))
    return shared


def _front_coded(values: Sequence[str], restart: int = _RESTART) -> dict[str, Any]:
    """Front-code sorted strings; lengths in UTF-16 code units (JavaScript's indices)."""
    values = list(values)
    shared = _shared_prefixes(values)
    shared[::restart] = 0
    parts = [v[p:] for v, p in zip(values, shared.tolist(), strict=True)]
    text = "".join(parts)
    if _utf16_units(text) == len(text):  # no character beyond the BMP: units are chars
        prefix = shared
        length = np.fromiter(map(len, parts), count=len(parts), dtype=np.int64)
    else:
        prefix = np.array([_utf16_units(v[:p]) for v, p in zip(values, shared.tolist(),
                                                                 strict=True)], dtype=np.int64)
        length = np.array([_utf16_units(t) for t in parts], dtype=np.int64)
    return {"n": len(values), "restart": restart, "prefix": _b64(_uvarints(prefix)),
            "length": _b64(_uvarints(length)), "text": text}


def _read_front_coded(table: dict[str, Any]) -> list[str]:
    n, restart = int(table["n"]), int(table["restart"])
    prefix = _read_uvarints(table["prefix"], n)
    length = _read_uvarints(table["length"], n)
    units = table["text"].encode("utf-16-le")
    out, previous, pos = [], b"", 0
    for i in range(n):
        shared = 0 if i % restart == 0 else int(prefix[i])
        end = pos + 2 * int(length[i])
        previous = previous[: 2 * shared] + units[pos:end]
        pos = end
        out.append(previous.decode("utf-16-le"))
    return out


def _escape_all(texts: list[str]) -> list[str]:
    """``[escape_text(t) for t in texts]`` in one call of the escaping function.

    :func:`~bordergeo.markup.escape_text` translates character by character, so escaping
    the texts joined by a separator it leaves alone and none of them holds, then splitting,
    gives the same texts.
    """
    joined = "".join(texts)
    sep = next((c for c in map(chr, range(31, 0, -1)) if c not in joined), None)
    if sep is None or escape_text(sep) != sep:
        return [escape_text(t) for t in texts]
    out = escape_text(sep.join(texts)).split(sep)
    return out if len(out) == len(texts) else [escape_text(t) for t in texts]


def _escaped_codes(values: pd.Series) -> tuple[NDArray[np.int64], list[str]]:
    """Per value an index into the sorted table of the distinct escaped texts.

    Equal values are escaped once; the texts are those of ``escape_text(value)`` for each
    value of ``values.tolist()`` (what :func:`bordergeo.markup.escaped_frame` gives).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = _escape_all([str(u) for u in uniques.tolist()])
    if (codes < 0).any():
        texts.append(escape_text(None))
    table = sorted(set(texts))
    where = {t: i for i, t in enumerate(table)}
    remap = np.array([where[t] for t in texts], dtype=np.int64)
    return remap[codes], table  # a missing value (-1) takes the last entry, the empty text


# --- geometry ----------------------------------------------------------------------------


def _spread16(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
    v = v & np.uint64(0xFFFF)
    for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def _morton_order(x: NDArray[np.int64], y: NDArray[np.int64]) -> NDArray[np.int64]:
    def quantise(v: NDArray[np.int64]) -> NDArray[np.uint64]:
        lo, span = v.min(), max(int(v.max() - v.min()), 1)
        return ((v - lo) * (65535 / span)).astype(np.uint64)

    key = _spread16(quantise(x)) | (_spread16(quantise(y)) << np.uint64(1))
    return np.argsort(key, kind="stable")


def _kinds(style: NDArray[np.int64], codes: list[NDArray[np.int64]], *,
           limit: int = _MAX_KINDS) -> tuple[NDArray[np.int64], list[int], dict[int, list[int]]]:
    """Fold the style and the fields with few values into one table of combinations.

    Returns each line's combination (the most frequent first, so most take one byte), the
    style of each combination and, for each field folded in, its code in each.
    A field joins while the combinations stay at most ``limit``.
    """
    key = style.astype(np.int64)
    folded: list[int] = []
    for f, c in enumerate(codes):
        width = int(c.max()) + 1 if len(c) else 1
        if width > limit:
            continue
        _, trial = np.unique(key * width + c, return_inverse=True)
        if (int(trial.max()) + 1 if len(trial) else 0) <= limit:
            key, folded = trial.astype(np.int64), [*folded, f]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    frequent = np.argsort(-np.bincount(inverse.ravel()), kind="stable")
    rank = np.empty(len(frequent), dtype=np.int64)
    rank[frequent] = np.arange(len(frequent))
    line = first[frequent]  # one line of each combination, most frequent first
    return (rank[inverse.ravel()], style[line].astype(int).tolist(),
            {f: codes[f][line].astype(int).tolist() for f in folded})


def encode_lines(
    geometry: ArrayLike,
    *,
    columns: Sequence[tuple[object, Sequence[object] | pd.Series]] = (),
    style: ArrayLike | None = None,
    styles: Sequence[LineStyle],
    attribution: str | None = None,
    precision: int = 5,
) -> EncodedLines:
    """Encode lines, their shown attributes and styles for :class:`CanvasLines`.

    Parameters
    ----------
    geometry
        LineStrings or MultiLineStrings in lon/lat (EPSG:4326); ``None`` and empty
        geometries are left out.
    columns
        ``(label, values)`` per field shown in the tooltip, one value per geometry. Labels
        and values are escaped with :func:`~bordergeo.markup.escape_text`; a missing value
        shows as nothing.
    style
        Per geometry, its index into ``styles`` (default: all the first).
    styles
        Style table, in drawing order.
    attribution
        Credit shown while the layer is on the map (escaped).
    precision
        Decimals of the coordinates kept (0 to 7; 5 ≈ 1 m).

    Returns
    -------
    EncodedLines

    Raises
    ------
    BorderGeoError
        A geometry that is not a line, a style index outside ``styles``, a column whose
        length differs from the geometries', or a precision out of range.
    """
    if not 0 <= precision <= 7:
        raise BorderGeoError(f"precision must be 0 to 7 decimals, not {precision}")
    if not styles:
        raise BorderGeoError("at least one line style is needed")
    geoms = np.asarray(geometry, dtype=object).ravel()
    n_rows = len(geoms)
    style_of = (np.zeros(n_rows, dtype=np.int64) if style is None
                else np.asarray(style, dtype=np.int64).ravel())
    if len(style_of) != n_rows or (n_rows and (style_of.min() < 0
                                               or style_of.max() >= len(styles))):
        raise BorderGeoError(f"style must give each of the {n_rows} lines an index below "
                             f"{len(styles)}")
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    parts, owner = shapely.get_parts(geoms[keep], return_index=True)
    owner = np.flatnonzero(keep)[owner]
    kinds = set(shapely.get_type_id(parts).tolist()) - {1, 2}  # LineString, LinearRing
    if kinds:
        names = sorted(_TYPE_NAMES.get(k, str(k)) for k in kinds)
        raise BorderGeoError(f"lines expected, not {', '.join(names)}")
    coords, vertex_owner = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(vertex_owner, minlength=len(parts)).astype(np.int64)
    nonempty = counts > 0
    if not nonempty.all():
        parts, owner, counts = parts[nonempty], owner[nonempty], counts[nonempty]
    ints = np.round(coords * 10.0 ** precision).astype(np.int64)
    starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    tables = []
    for label, values in columns:
        series = (values.reset_index(drop=True) if isinstance(values, pd.Series)
                  else pd.Series(list(values), dtype=object))
        if len(series) != n_rows:
            raise BorderGeoError(f"column {label!r} has {len(series)} values for "
                                 f"{n_rows} lines")
        codes, table = _escaped_codes(series)
        tables.append((escape_text(label), codes, table))
    n_lines = len(counts)
    order = np.zeros(0, dtype=np.int64)
    if n_lines:
        ends = starts + counts - 1
        order = _morton_order((ints[starts, 0] + ints[ends, 0]) // 2,
                              (ints[starts, 1] + ints[ends, 1]) // 2)
        if tables:  # in each block, by the longest table (names): small index deltas
            names = max(tables, key=lambda t: len(t[2]))[1][owner[order]]
            order = order[np.lexsort((names, np.arange(n_lines) // _BLOCK))]
        new_counts = counts[order]
        new_starts = np.r_[0, np.cumsum(new_counts)[:-1]]
        take = np.repeat(starts[order] - new_starts, new_counts) + np.arange(len(ints))
        ints, counts = ints[take], new_counts
    rows = owner[order]
    tables = [(label, codes[rows], table) for label, codes, table in tables]
    kind, kind_style, kind_codes = _kinds(style_of[rows], [t[1] for t in tables])
    fields = []
    for f, (label, codes, table) in enumerate(tables):
        field: dict[str, Any] = {"label": label, "table": _front_coded(table)}
        if f in kind_codes:
            field["kind"] = kind_codes[f]
        else:
            field["index"] = _running(codes)
        fields.append(field)
    payload = {
        "version": FORMAT_VERSION,
        "scale": 10 ** precision,
        "lines": int(n_lines),
        "vertices": len(ints),
        "block": _BLOCK,
        "counts": _b64(_uvarints(counts)),
        "coords": _running(ints, stride=2),
        "kinds": {"style": kind_style, "index": _b64(_uvarints(kind))},
        "styles": [s.as_json() for s in styles],
        "fields": fields,
        "attribution": None if attribution is None else escape_text(attribution),
    }
    return EncodedLines(payload=payload, rows=rows.astype(np.int64))


def decode_lines(payload: dict[str, Any]) -> DecodedLines:
    """Read an encoding back, as the browser does.

    Parameters
    ----------
    payload
        :attr:`EncodedLines.payload` (or the same read back from JSON).

    Returns
    -------
    DecodedLines
    """
    if payload.get("version") != FORMAT_VERSION:
        raise BorderGeoError(f"line encoding version {payload.get('version')!r} is not "
                             f"{FORMAT_VERSION}")
    n, n_vertices = int(payload["lines"]), int(payload["vertices"])
    counts = _read_uvarints(payload["counts"], n).astype(np.int64)
    ints = _read_running(payload["coords"], 2 * n_vertices, stride=2).reshape(-1, 2)
    xy = ints / float(payload["scale"])
    coords = np.split(xy, np.cumsum(counts)[:-1]) if n else []
    kind = _read_uvarints(payload["kinds"]["index"], n).astype(np.int64)
    fields = {}
    for field in payload["fields"]:
        table = _read_front_coded(field["table"])
        index = (np.asarray(field["kind"], dtype=np.int64)[kind] if "kind" in field
                 else _read_running(field["index"], n))
        fields[field["label"]] = [table[i] for i in index]
    style = np.asarray(payload["kinds"]["style"], dtype=np.int64)[kind]
    return DecodedLines(coords=list(coords), style=style,
                        styles=list(payload["styles"]), fields=fields,
                        attribution=payload.get("attribution"))


# --- the folium element ----------------------------------------------------------------


class _Verbatim(branca.element.Element):
    """Markup written as is (never compiled as a Jinja template), of one ``owner``."""

    _template = jinja2.Template("{{ this.markup }}")

    def __init__(self, markup: str, owner: object | None = None) -> None:
        super().__init__()
        self._name = "CanvasLinesPart"
        self.markup = markup
        self.owner = owner


class _LayerCode(_Verbatim):
    """The layer class (``L.BordergeoLines``): once per page, in the head."""


def _replace(section: branca.element.Element, element: _Verbatim, name: str) -> None:
    """Put ``element`` into a page section instead of an earlier copy (a second render)."""
    for key, child in list(section._children.items()):
        if type(child) is type(element) and child.owner is element.owner:
            del section._children[key]
    section.add_child(element, name=name)


class CanvasLines(branca.element.MacroElement):
    """A folium element drawing many lines on one canvas, with tooltips from a table.

    Add it to a map or a feature group (``.add_to(group)``); it writes its data as a JSON
    data island and the layer's script once per page. See the module description.

    Parameters
    ----------
    geometry
        Lines in lon/lat; see :func:`encode_lines` (as for ``columns``, ``style``,
        ``styles``, ``attribution`` and ``precision``).
    columns, style, styles, attribution, precision
        As in :func:`encode_lines`.
    tolerance
        Pixels beyond half a line's width within which hovering finds it.
    strokes
        At most this many lines in view are stroked (anti-aliased); shorter ones are
        rasterised by the layer (see the module description).

    Attributes
    ----------
    encoded
        The :class:`EncodedLines` written into the page.
    """

    _template = jinja2.Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.bordergeoLines(JSON.parse(
    document.getElementById("{{ this.get_name() }}_data").textContent),
    {tolerance: {{ this.tolerance }}, strokes: {{ this.strokes }}}
).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(
        self,
        geometry: ArrayLike,
        *,
        columns: Sequence[tuple[object, Sequence[object] | pd.Series]] = (),
        style: ArrayLike | None = None,
        styles: Sequence[LineStyle],
        attribution: str | None = None,
        precision: int = 5,
        tolerance: float = 3.0,
        strokes: int = 20_000,
    ) -> None:
        super().__init__()
        self._name = "CanvasLines"
        self.tolerance = float(tolerance)
        self.strokes = int(strokes)
        self.encoded = encode_lines(geometry, columns=columns, style=style, styles=styles,
                                    attribution=attribution, precision=precision)
        self._data = script_json(self.encoded.payload)
        logger.debug("canvas lines: %d lines, %d vertices, %.0f KB of data",
                     self.encoded.payload["lines"], self.encoded.payload["vertices"],
                     len(self._data) / 1024)

    def render(self, **kwargs: Any) -> None:
        """Write the layer's code (once per page), its data island and its script."""
        figure = self.get_root()
        if not isinstance(figure, branca.element.Figure):
            raise BorderGeoError("CanvasLines renders inside a folium map")
        _replace(figure.header, _LayerCode(_LAYER_HTML), "bordergeo_canvas_lines")
        _replace(figure.html,
                 _Verbatim(f'<script type="application/json" id="{self.get_name()}_data">'
                           f"{self._data}</script>", owner=self),
                 f"{self.get_name()}_data")
        super().render(**kwargs)


#: The layer, written here (Leaflet 1.9's L.Renderer as the base: the same canvas
#: placement, padding and zoom animation as L.Canvas).
_LAYER_JS = r"""
(function () {
  'use strict';
  if (typeof L === 'undefined' || L.BordergeoLines) { return; }

  function bytesOf(b64) {
    var s = atob(b64), n = s.length, out = new Uint8Array(n);
    for (var i = 0; i < n; i++) { out[i] = s.charCodeAt(i); }
    return out;
  }
  // n unsigned LEB128 varints
  function plain(b64, n) {
    var buf = bytesOf(b64), out = new Float64Array(n), pos = 0;
    for (var i = 0; i < n; i++) {
      var v = 0, m = 1, b;
      do { b = buf[pos++]; v += (b & 127) * m; m *= 128; } while (b & 128);
      out[i] = v;
    }
    return out;
  }
  // running sums of zigzag deltas of `stride` interleaved sequences
  function running(b64, n, stride, out) {
    var buf = bytesOf(b64), last = [0, 0], pos = 0;
    for (var i = 0; i < n; i++) {
      var v = 0, m = 1, b, k = i % stride;
      do { b = buf[pos++]; v += (b & 127) * m; m *= 128; } while (b & 128);
      last[k] += (v % 2 ? -(v + 1) : v) / 2;
      out[i] = last[k];
    }
    return out;
  }

  // whether a dash pattern (as setLineDash takes it) draws at distance d along a line
  function dashOn(pattern, d) {
    var n = pattern.length % 2 ? 2 * pattern.length : pattern.length, period = 0, q;
    for (q = 0; q < n; q++) { period += pattern[q % pattern.length]; }
    if (!(period > 0)) { return true; }
    d %= period;
    for (q = 0; q < n; q++) {
      if (d < pattern[q % pattern.length]) { return q % 2 === 0; }
      d -= pattern[q % pattern.length];
    }
    return true;
  }

  // a front-coded table of escaped texts, decoded on demand
  function Table(t) { this.t = t; }
  Table.prototype.get = function (i) {
    var t = this.t, R = t.restart, k;
    if (!this.len) {
      this.pre = plain(t.prefix, t.n);
      this.len = plain(t.length, t.n);
      this.off = new Float64Array(Math.ceil(t.n / R) + 1);
      for (var p = 0, j = 0; j < t.n; j++) {
        if (j % R === 0) { this.off[j / R] = p; }
        p += this.len[j];
      }
    }
    if (!(i >= 0 && i < t.n)) { return ''; }
    var r = i - i % R, pos = this.off[r / R], s = '';
    for (k = r; k <= i; k++) {
      s = s.slice(0, this.pre[k]) + t.text.substring(pos, pos + this.len[k]);
      pos += this.len[k];
    }
    return s;
  };

  L.BordergeoLines = L.Renderer.extend({
    options: {padding: 0.1, tolerance: 3, strokes: 20000, pane: 'bordergeoLinesPane'},

    initialize: function (data, options) {
      L.Renderer.prototype.initialize.call(this, options);
      if (data.attribution) { this.options.attribution = data.attribution; }
      var n = this._n = data.lines, styles = this._styles = data.styles;
      this._block = data.block;
      var counts = plain(data.counts, n);
      var start = this._start = new Uint32Array(n + 1);
      for (var i = 0; i < n; i++) { start[i + 1] = start[i] + counts[i]; }
      this._ints = running(data.coords, 2 * data.vertices, 2, new Int32Array(2 * data.vertices));
      this._unit = 1 / data.scale;
      var kind = this._kind = new Uint16Array(plain(data.kinds.index, n));
      var style = this._style = new Uint16Array(n), kindStyle = data.kinds.style;
      for (i = 0; i < n; i++) { style[i] = kindStyle[kind[i]]; }
      this._fields = data.fields.map(function (f) {
        return {label: f.label, table: new Table(f.table), index: f.index, kind: f.kind};
      });
      this._maxWeight = 0;
      for (i = 0; i < styles.length; i++) {
        this._maxWeight = Math.max(this._maxWeight, styles[i].weight);
      }
      this._drawn = 0;
      this._draws = 0;
    },

    onAdd: function (map) {
      if (!map.getPane(this.options.pane)) {
        var pane = map.createPane(this.options.pane);
        pane.style.zIndex = 380;  // over tiles and context shapes (350), under overlays (400)
        pane.style.pointerEvents = 'none';
      }
      this._project(map.options.crs);
      if (!this._tooltip) {
        this._tooltip = L.tooltip({sticky: true, className: 'foliumtooltip bordergeo-lines-tip'});
      }
      L.Renderer.prototype.onAdd.call(this, map);
    },

    onRemove: function (map) {
      this._hide();
      L.Renderer.prototype.onRemove.call(this, map);
    },

    getEvents: function () {
      var events = L.Renderer.prototype.getEvents.call(this);
      events.mousemove = this._onMove;
      events.click = this._onMove;
      events.mouseout = this._hide;
      events.zoomstart = this._hide;
      events.dragstart = this._hide;
      events.tooltipopen = this._onTooltip;
      return events;
    },

    _initContainer: function () {
      var c = this._container = document.createElement('canvas');
      c.className = 'bordergeo-lines';
      c.style.pointerEvents = 'none';
      c.dataset.lines = this._n;
      this._ctx = c.getContext('2d');
    },

    _destroyContainer: function () {
      L.DomUtil.remove(this._container);
      delete this._ctx;
      delete this._container;
    },

    // zoom-0 pixel coordinates of every vertex, and a box per block of lines
    _project: function (crs) {
      if (this._crs === crs) { return; }
      this._crs = crs;
      var ints = this._ints, nv = ints.length / 2, u = this._unit, i;
      var px = this._px = new Float64Array(nv), py = this._py = new Float64Array(nv);
      if (crs === L.CRS.EPSG3857 || crs.code === 'EPSG:3857') {
        var d = Math.PI / 180, max = 85.0511287798, s0 = crs.scale(0);
        for (i = 0; i < nv; i++) {
          var lat = Math.max(Math.min(ints[2 * i + 1] * u, max), -max), s = Math.sin(lat * d);
          px[i] = s0 * (ints[2 * i] * u / 360 + 0.5);
          py[i] = s0 * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI));
        }
      } else {
        for (i = 0; i < nv; i++) {
          var p = crs.latLngToPoint(L.latLng(ints[2 * i + 1] * u, ints[2 * i] * u), 0);
          px[i] = p.x; py[i] = p.y;
        }
      }
      var n = this._n, B = this._block, nb = Math.ceil(n / B), start = this._start;
      var box = this._box = new Float64Array(4 * nb), ext = this._ext = new Float32Array(n);
      for (var blk = 0; blk < nb; blk++) {
        var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
        for (var line = blk * B, end = Math.min(n, line + B); line < end; line++) {
          var a = Infinity, b = Infinity, c = -Infinity, e = -Infinity;
          for (var j = start[line]; j < start[line + 1]; j++) {
            if (px[j] < a) { a = px[j]; }
            if (px[j] > c) { c = px[j]; }
            if (py[j] < b) { b = py[j]; }
            if (py[j] > e) { e = py[j]; }
          }
          ext[line] = Math.max(c - a, e - b);
          if (a < x0) { x0 = a; }
          if (b < y0) { y0 = b; }
          if (c > x1) { x1 = c; }
          if (e > y1) { y1 = e; }
        }
        box[4 * blk] = x0; box[4 * blk + 1] = y0; box[4 * blk + 2] = x1; box[4 * blk + 3] = y1;
      }
    },

    _update: function () {
      if (this._map._animatingZoom && this._bounds) { return; }
      L.Renderer.prototype._update.call(this);
      this._origin = this._map.getPixelOrigin();
      var b = this._bounds, size = b.getSize(), c = this._container;
      var r = this._ratio = L.Browser.retina ? 2 : 1;
      L.DomUtil.setPosition(c, b.min);
      c.width = r * size.x;
      c.height = r * size.y;
      c.style.width = size.x + 'px';
      c.style.height = size.y + 'px';
      // one draw once the current script or event is done (folium's setView then
      // fitBounds draw once); a microtask, not an animation frame, so that the browser
      // renders no extra frame while the page is still being parsed
      if (!this._pending) {
        this._pending = true;
        var self = this;
        Promise.resolve().then(function () { self._pending = false; self._draw(); });
      }
    },

    _draw: function () {
      var map = this._map;
      if (!map || !this._ctx) { return; }
      var t0 = performance.now();
      var ctx = this._ctx, b = this._bounds, size = b.getSize(), w = size.x, h = size.y;
      var crs = map.options.crs, k = crs.scale(this._zoom) / crs.scale(0);
      var o = this._origin, ox = o.x + b.min.x, oy = o.y + b.min.y;
      var px = this._px, py = this._py, start = this._start, style = this._style;
      var ext = this._ext, box = this._box, B = this._block, n = this._n;
      var styles = this._styles, paths = [], s, i, end, blk, len;
      for (s = 0; s < styles.length; s++) { paths.push(new Path2D()); }
      var pad = this._maxWeight / 2 + 1;
      var vx0 = (ox - pad) / k, vy0 = (oy - pad) / k;
      var vx1 = (ox + w + pad) / k, vy1 = (oy + h + pad) / k;
      var nb = box.length / 4, shown = new Uint8Array(nb), visible = 0;
      var hist = new Float64Array(65);  // visible lines by length, half-pixel steps
      for (blk = 0; blk < nb; blk++) {
        if (box[4 * blk] > vx1 || box[4 * blk + 2] < vx0 ||
            box[4 * blk + 1] > vy1 || box[4 * blk + 3] < vy0) { continue; }
        shown[blk] = 1;
        for (i = blk * B, end = Math.min(n, i + B); i < end; i++) {
          hist[Math.min(64, Math.floor(ext[i] * k * 2))]++;
          visible++;
        }
      }
      // stroke at most `strokes` lines (the longest); shorter ones are rasterised here
      var shortest = 0;
      if (visible > this.options.strokes) {
        var longer = visible, bucket = 0;
        while (bucket < 64 && longer > this.options.strokes) { longer -= hist[bucket++]; }
        shortest = Math.max(1, bucket / 2);
      }
      var raster = null, seen = null, drawn = 0;
      for (blk = 0; blk < nb; blk++) {
        if (!shown[blk]) { continue; }
        for (i = blk * B, end = Math.min(n, i + B); i < end; i++) {
          var st = style[i], j = start[i], last = start[i + 1] - 1;
          var x = px[j] * k - ox, y = py[j] * k - oy;
          len = ext[i] * k;
          if (x < -len - pad || y < -len - pad || x > w + len + pad || y > h + len + pad) {
            continue;  // off the canvas
          }
          if (len < shortest && len < 1 && st < 32) {
            // smaller than a pixel: marked on a pixel grid, stamped below
            if (x < 0 || y < 0 || x >= w || y >= h) { continue; }
            if (!seen) { seen = this._seen(w * h); }
            var cell = (y | 0) * w + (x | 0), bit = 1 << st;
            if (!(seen[cell] & bit)) { seen[cell] |= bit; drawn++; }
            continue;
          }
          drawn++;
          if (len < shortest) {
            if (!raster) { raster = this._raster(); }
            this._rasterLine(raster, i, k, ox, oy);
            continue;
          }
          var path = paths[st], xl = px[last] * k - ox, yl = py[last] * k - oy;
          path.moveTo(x, y);
          for (j++; j < last; j++) {
            var nx = px[j] * k - ox, ny = py[j] * k - oy;
            if (Math.abs(nx - x) + Math.abs(ny - y) < 0.5) { continue; }
            path.lineTo(nx, ny);
            x = nx; y = ny;
          }
          path.lineTo(xl, yl);
        }
      }
      var r = this._ratio;
      ctx.setTransform(r, 0, 0, r, 0, 0);
      ctx.clearRect(0, 0, w, h);
      if (seen) {
        if (!raster) { raster = this._raster(); }
        this._rasterSpecks(raster, seen, w, h);
      }
      if (raster) { ctx.putImageData(raster.image, 0, 0); }
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      for (s = 0; s < styles.length; s++) {
        var sty = styles[s];
        ctx.globalAlpha = sty.opacity;
        ctx.strokeStyle = sty.color;
        ctx.lineWidth = sty.weight;
        ctx.setLineDash(sty.dash || []);
        ctx.stroke(paths[s]);
      }
      ctx.globalAlpha = 1;
      ctx.setLineDash([]);
      this._drawn = drawn;
      this._draws++;
      var c = this._container;
      c.dataset.drawn = drawn;
      c.dataset.draws = this._draws;
      c.dataset.drawMs = (performance.now() - t0).toFixed(1);
      if (!c.dataset.firstDrawMs) { c.dataset.firstDrawMs = performance.now().toFixed(1); }
      this.fire('draw', {drawn: drawn});
    },

    // A cleared pixel buffer of the canvas for the lines drawn without strokes: each pixel
    // keeps the colour of the style drawn last over it (no blending within the buffer).
    _raster: function () {
      var W = this._container.width, H = this._container.height, r = this._ratio;
      if (!this._image || this._image.width !== W || this._image.height !== H) {
        this._image = this._ctx.createImageData(W, H);
        this._order = new Uint16Array(W * H);
      } else {
        this._image.data.fill(0);
        this._order.fill(0);
      }
      var sides = this._styles.map(function (sty) {
        return Math.max(1, Math.round(sty.weight * r));
      });
      return {image: this._image, pixels: new Uint32Array(this._image.data.buffer),
              order: this._order, W: W, H: H, r: r, sides: sides, colours: this._colours()};
    },

    // a square of the style's width centred on (x, y) in device pixels
    _put: function (R, x, y, st) {
      var side = R.sides[st], x0 = Math.round(x - side / 2), y0 = Math.round(y - side / 2);
      var x1 = Math.min(R.W, x0 + side), y1 = Math.min(R.H, y0 + side), W = R.W;
      var rank = st + 1, colour = R.colours[st], order = R.order, pixels = R.pixels;
      if (x0 < 0) { x0 = 0; }
      if (y0 < 0) { y0 = 0; }
      for (var yy = y0; yy < y1; yy++) {
        for (var q = yy * W + x0, e = yy * W + x1; q < e; q++) {
          if (order[q] <= rank) { order[q] = rank; pixels[q] = colour; }
        }
      }
    },

    // Lines smaller than a pixel: a square of their width on each pixel they mark (the
    // style drawn last wins). Stroking hundreds of thousands of specks costs Chrome
    // seconds of rasterising.
    _rasterSpecks: function (R, seen, w, h) {
      for (var cell = 0, cells = w * h; cell < cells; cell++) {
        var bits = seen[cell];
        if (bits) {
          this._put(R, ((cell % w) + 0.5) * R.r, (Math.floor(cell / w) + 0.5) * R.r,
                    31 - Math.clz32(bits));
        }
      }
    },

    // A short line: squares of its width a device pixel apart along it, dashes kept.
    _rasterLine: function (R, i, k, ox, oy) {
      var px = this._px, py = this._py, st = this._style[i], r = R.r;
      var dash = this._styles[st].dash, along = 0, u;
      var j = this._start[i], last = this._start[i + 1] - 1;
      var x0 = (px[j] * k - ox) * r, y0 = (py[j] * k - oy) * r;
      for (; j < last; j++) {
        var x1 = (px[j + 1] * k - ox) * r, y1 = (py[j + 1] * k - oy) * r;
        var dx = x1 - x0, dy = y1 - y0;
        var steps = Math.max(1, Math.ceil(Math.max(Math.abs(dx), Math.abs(dy))));
        var step = Math.sqrt(dx * dx + dy * dy) / r / steps;  // in CSS pixels
        for (u = 0; u < steps; u++) {
          if (!dash || dashOn(dash, along + u * step)) {
            this._put(R, x0 + dx * u / steps, y0 + dy * u / steps, st);
          }
        }
        along += steps * step;
        x0 = x1;
        y0 = y1;
      }
      if (!dash || dashOn(dash, along)) { this._put(R, x0, y0, st); }
    },

    _seen: function (size) {
      if (!this._seenBits || this._seenBits.length < size) {
        this._seenBits = new Uint32Array(size);
      } else {
        this._seenBits.fill(0, 0, size);
      }
      return this._seenBits;
    },

    // each style's colour and opacity as one RGBA pixel in the platform's byte order
    _colours: function () {
      if (this._packed) { return this._packed; }
      var c = document.createElement('canvas');
      c.width = c.height = 1;
      var g = c.getContext('2d', {willReadFrequently: true});
      var little = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
      this._packed = this._styles.map(function (sty) {
        g.clearRect(0, 0, 1, 1);
        g.fillStyle = '#000';
        g.fillStyle = sty.color;
        g.fillRect(0, 0, 1, 1);
        var d = g.getImageData(0, 0, 1, 1).data, a = Math.round(sty.opacity * d[3]);
        return (little ? ((a << 24) | (d[2] << 16) | (d[1] << 8) | d[0])
          : ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | a)) >>> 0;
      });
      return this._packed;
    },

    // the line under a layer point (the one drawn last wins), or -1
    _hit: function (lp) {
      var map = this._map, crs = map.options.crs, k = crs.scale(map.getZoom()) / crs.scale(0);
      var o = map.getPixelOrigin(), X = (lp.x + o.x) / k, Y = (lp.y + o.y) / k;
      var tol = this.options.tolerance, pad = (this._maxWeight / 2 + tol) / k;
      var px = this._px, py = this._py, start = this._start, style = this._style;
      var box = this._box, B = this._block, n = this._n, styles = this._styles;
      var best = -1, bestStyle = -1, bestD = Infinity;
      for (var blk = 0, nb = box.length / 4; blk < nb; blk++) {
        if (box[4 * blk] - pad > X || box[4 * blk + 2] + pad < X ||
            box[4 * blk + 1] - pad > Y || box[4 * blk + 3] + pad < Y) { continue; }
        for (var i = blk * B, end = Math.min(n, i + B); i < end; i++) {
          var st = style[i];
          if (st < bestStyle) { continue; }
          var reach = (styles[st].weight / 2 + tol) / k, r2 = reach * reach;
          for (var j = start[i], last = start[i + 1] - 1; j < last; j++) {
            var ax = px[j], ay = py[j], dx = px[j + 1] - ax, dy = py[j + 1] - ay;
            var len2 = dx * dx + dy * dy;
            var t = len2 > 0 ? ((X - ax) * dx + (Y - ay) * dy) / len2 : 0;
            t = t < 0 ? 0 : (t > 1 ? 1 : t);
            var ex = ax + t * dx - X, ey = ay + t * dy - Y, d2 = ex * ex + ey * ey;
            if (d2 <= r2 && (st > bestStyle || d2 < bestD)) {
              best = i; bestStyle = st; bestD = d2;
            }
          }
        }
      }
      return best;
    },

    // the tooltip's markup: every label and value was escaped before it was encoded
    _content: function (line) {
      var rows = '';
      for (var f = 0; f < this._fields.length; f++) {
        var field = this._fields[f], code;
        if (field.kind) {
          code = field.kind[this._kind[line]];
        } else {
          if (typeof field.index === 'string') {
            field.index = running(field.index, this._n, 1, new Float64Array(this._n));
          }
          code = field.index[line];
        }
        rows += '<tr><th>' + field.label + '</th><td>' + field.table.get(code) + '</td></tr>';
      }
      var div = L.DomUtil.create('div');
      div.innerHTML = '<table>' + rows + '</table>';
      return div;
    },

    _onMove: function (e) {
      var map = this._map;
      if (!map || map._animatingZoom || (map.dragging && map.dragging.moving())) { return; }
      var line = this._fields.length ? this._hit(e.layerPoint) : -1;
      if (line < 0) { this._hide(); return; }
      if (this._shown !== line) {
        this._tooltip.setContent(this._content(line));
        this._shown = line;
      }
      this._tooltip.setLatLng(e.latlng);
      if (!map.hasLayer(this._tooltip)) { map.openTooltip(this._tooltip); }
      L.DomUtil.addClass(map.getContainer(), 'bordergeo-lines-hover');
    },

    _onTooltip: function (e) {
      if (e.tooltip !== this._tooltip) { this._hide(); }
    },

    _hide: function () {
      var map = this._map;
      this._shown = -1;
      if (map && this._tooltip && map.hasLayer(this._tooltip)) {
        map.closeTooltip(this._tooltip);
      }
      if (map) { L.DomUtil.removeClass(map.getContainer(), 'bordergeo-lines-hover'); }
    }
  });

  L.bordergeoLines = function (data, options) { return new L.BordergeoLines(data, options); };
})();
"""

#: What goes into the page head: the tooltip look of folium's GeoJSON tooltips, the
#: pointer over a line, and the layer class.
_LAYER_HTML = (
    "<style>.leaflet-container.bordergeo-lines-hover{cursor:pointer}"
    ".bordergeo-lines-tip table{margin:auto}.bordergeo-lines-tip tr{text-align:left}"
    ".bordergeo-lines-tip th{padding:2px;padding-right:8px}</style>\n"
    f"<script>{_LAYER_JS}</script>\n"
)
