"""Road layers → a routable network (NetworkX in OSMnx conventions + compiled arrays).

:func:`build_network` nodes plain LineString layers: lines meet where they share an
endpoint or a vertex, near-miss endpoints within a tolerance are snapped together, lines
that cross are split at the crossing (unless ``node_crossings=False`` for over/under
passes), and gates and hubs are attached by splitting the nearest road at the foot of the
perpendicular. Each edge gets ``length`` (m) and ``travel_time`` (s) from ``maxspeed_kph``
or a road-class speed table.

The :class:`RoadNetwork` holds the edge table (one row per directed edge, sorted by
``u`` then ``v``; text attributes as categoricals, no per-edge Python objects) and the
vertex coordinates the edge geometries are cut from. The NetworkX ``MultiDiGraph`` (graph
``crs``, node ``x``/``y``, edge ``length``, ``travel_time``, ``geometry``), the edge
GeoDataFrame and the scipy CSR matrices are derived from them on demand.

Crossings are found without testing every pair of nearby lines: the segments are bucketed
on a uniform grid, pairs of segments in one cell are tested with a conservative
orientation test (pairs that only share a line end are skipped: they cannot cross), and
only the few line pairs left are handed to Shapely, which decides exactly as before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from bordergeo.crs import GEOD
from bordergeo.errors import BorderGeoError, SchemaError

if TYPE_CHECKING:
    import networkx as nx
    from scipy import sparse

__all__ = [
    "CLASS_HIGHWAY",
    "DEFAULT_GAP_TOLERANCE_M",
    "DEFAULT_SPEEDS_KPH",
    "NetworkReport",
    "RoadNetwork",
    "build_network",
    "network_from_graph",
]

logger = logging.getLogger(__name__)

#: Truck speeds (km/h) by road class when a road has no ``maxspeed_kph``. Vietnamese
#: limits for trucks over 3.5 t (Circular 38/2024/TT-BGTVT): 90 on expressways, 70–80 on
#: dual-carriageway national roads, 60 elsewhere outside towns; mountain roads and the
#: cargo roads inside the border zones are much slower in practice (estimates).
DEFAULT_SPEEDS_KPH: dict[str, float] = {
    "expressway": 80.0,
    "national": 50.0,
    "provincial": 40.0,
    "local": 30.0,
    "cargo_road": 20.0,
    "rail": 40.0,
}

#: Gaps closed between dangling line ends and other lines (see :func:`build_network`).
DEFAULT_GAP_TOLERANCE_M = 50.0

#: OSM ``highway`` values for the project's road classes, used by
#: :meth:`RoadNetwork.to_graph` where the layer has no ``highway`` column. The inverse of
#: :data:`bordergeo.osm.HIGHWAY_CLASSES` where that is one-to-one (secondary → provincial,
#: so provincial → secondary; trunk → national); local roads (district and commune roads)
#: become ``tertiary``; the cargo roads of the border zones are access roads to the
#: gates' yards, OSM's ``service``. Rail has no ``highway`` (``railway=rail`` instead).
CLASS_HIGHWAY: dict[str, str] = {
    "expressway": "motorway",
    "national": "trunk",
    "provincial": "secondary",
    "local": "tertiary",
    "cargo_road": "service",
}

_GAP_COLUMNS = ["road_id", "end", "kind", "to_road_id", "distance_m", "x", "y", "to_x", "to_y"]

#: A gap is joined only if it lies ahead of the dangling end: within this angle of the
#: end's last segment, continued (an end beside a parallel road is not joined to it).
_GAP_MAX_ANGLE_DEG = 60.0


@dataclass
class NetworkReport:
    """What building the network did and found.

    Attributes
    ----------
    lines
        Input line parts (after splitting multi-part lines and dropping duplicates).
    nodes, edges
        Nodes and directed edges of the result.
    duplicates_dropped
        Exact duplicate lines left out (same vertices, in either direction; a reversed
        copy of a one-way line is kept, as the other carriageway).
    snapped_endpoints
        Line ends moved onto another line end within ``snap_tolerance_m``.
    t_junctions
        Line ends joined to the interior of another line within ``snap_tolerance_m``.
    gap_joins
        One row per connector added across a gap of up to ``gap_tolerance_m``:
        ``road_id`` and ``end`` (``"start"``/``"end"``) of the dangling line, ``kind``
        (``"end-end"`` or ``"end-line"``), ``to_road_id``, ``distance_m`` (the gap, also
        the connector's length), ``x``, ``y`` (the dangling end) and ``to_x``, ``to_y``.
    crossings
        Crossings where two lines were split and joined.
    passes_kept
        Crossings left unjoined because the layer says over/under pass (different
        ``layer``, or ``bridge``/``tunnel``).
    components
        Sizes of the weakly connected components, largest first.
    attachments
        One row per attached place: ``id``, ``node``, ``snap_m`` (distance to the road).
    unattached
        One row per place farther than ``max_snap_m`` from every road: ``id``,
        ``distance_m`` (to the nearest road). They are not in ``network.places``.
    max_snap_m
        The attachment limit the network was built with.
    """

    lines: int = 0
    nodes: int = 0
    edges: int = 0
    duplicates_dropped: int = 0
    snapped_endpoints: int = 0
    t_junctions: int = 0
    gap_joins: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_GAP_COLUMNS))
    crossings: int = 0
    passes_kept: int = 0
    components: list[int] = field(default_factory=list)
    attachments: pd.DataFrame = field(default_factory=pd.DataFrame)
    unattached: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["id", "distance_m"]))
    max_snap_m: float = 5_000.0

    def __str__(self) -> str:
        comp = ", ".join(str(c) for c in self.components[:5])
        more = " …" if len(self.components) > 5 else ""
        text = (f"{self.nodes} nodes, {self.edges} directed edges from {self.lines} lines "
                f"({self.duplicates_dropped} exact duplicates dropped); "
                f"{self.snapped_endpoints} endpoints snapped, {self.t_junctions} T-junctions")
        joins = self.gap_joins
        if len(joins):
            kinds = joins["kind"].value_counts()
            dist = joins["distance_m"].to_numpy(float)
            text += (f", {len(joins)} gaps closed ({kinds.get('end-end', 0)} end-end, "
                     f"{kinds.get('end-line', 0)} end-line; {dist.min():.0f}–{dist.max():.0f} m, "
                     f"median {np.median(dist):.0f} m)")
        else:
            text += ", no gaps closed"
        text += f", {self.crossings} crossings noded"
        if self.passes_kept:
            text += f", {self.passes_kept} over/under passes kept apart"
        text += f"; components: {comp}{more}"
        if len(self.unattached):
            text += f"; {_unattached_text(self.unattached, self.max_snap_m)}"
        return text


def _unattached_text(unattached: pd.DataFrame, limit_m: float, *, first: int = 5) -> str:
    """One phrase naming places too far from the roads, nearest first."""
    rows = unattached.sort_values("distance_m", kind="stable")
    names = ", ".join(f"{i} ({d / 1000:.1f} km)" for i, d in
                      zip(rows["id"].head(first), rows["distance_m"].head(first), strict=True))
    more = f" and {len(rows) - first} more" if len(rows) > first else ""
    return (f"{len(rows)} place{'s' if len(rows) != 1 else ''} farther than "
            f"{limit_m / 1000:g} km from every road left unattached: {names}{more}")


class _Metric:
    """Local metric frame: UTM-like metres for tolerances, without reprojecting lines."""

    def __init__(self, crs: pyproj.CRS, coords: NDArray[np.float64]) -> None:
        self.geographic = bool(crs.is_geographic)
        if self.geographic:
            lat0 = float(np.nanmean(coords[:, 1])) if len(coords) else 0.0
            self.kx = 111_320.0 * np.cos(np.radians(lat0))
            self.ky = 110_574.0
        else:
            unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
            self.kx = self.ky = float(unit)

    def scale(self, coords: NDArray[np.float64]) -> NDArray[np.float64]:
        return coords * np.array([self.kx, self.ky])


def _code_dtype(n_categories: int) -> type[np.signedinteger]:
    """Return the integer type pandas keeps a categorical's codes in for this many categories."""
    for kind in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(kind).max:
            return kind
    return np.int64


def _categorical(codes: NDArray[np.signedinteger], categories: pd.Index) -> pd.Categorical:
    """Make a categorical from codes (-1 = missing) and unique categories, nothing re-hashed."""
    try:  # the categories come from a factorisation: unique, no need to hash them again
        dtype = pd.CategoricalDtype._from_fastpath(categories, False)
    except AttributeError:  # pragma: no cover - a pandas without the fast path
        dtype = pd.CategoricalDtype(categories)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


@dataclass
class _Coded:
    """A text (or other repetitive) column as integer codes (-1 = missing) + categories."""

    codes: NDArray[np.signedinteger]
    categories: pd.Index

    @classmethod
    def of(cls, values: pd.Series | None, n: int) -> _Coded:
        if values is None:
            return cls(np.full(n, -1, dtype=np.int8), pd.Index([], dtype=object))
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(values.dtype.categories.dtype)
        codes, categories = pd.factorize(values)
        return cls(codes.astype(_code_dtype(len(categories)), copy=False), pd.Index(categories))

    def column(self, rows: NDArray[np.integer]) -> pd.Categorical:
        """Return the categorical of these rows."""
        return _categorical(self.codes[rows], self.categories)

    def code_of(self, value: object) -> int:
        """Return the code of one value (-1 if it does not occur)."""
        hit = np.flatnonzero(np.asarray(self.categories == value, dtype=bool))
        return int(hit[0]) if len(hit) else -1


@dataclass
class _Roads:
    """The attributes of a road layer, one value per road (row).

    Numbers are arrays, text is coded (no per-road Python objects), ids are the layer's own
    array.
    """

    ids: Any
    ref: _Coded
    name: _Coded
    road_class: _Coded
    highway: _Coded
    oneway: NDArray[np.bool_]
    maxspeed_kph: NDArray[np.float64]
    length_m: NDArray[np.float64]
    lanes: NDArray[np.float64]
    osm_id: _Coded
    layer: NDArray[np.float64]
    raised: NDArray[np.bool_]

    def id_values(self, rows: NDArray[np.integer]) -> NDArray[np.object_]:
        """Return the ids of these rows as plain values."""
        return np.asarray(self.ids.take(rows), dtype=object)


def _numbers(roads: gpd.GeoDataFrame, name: str) -> NDArray[np.float64]:
    if name not in roads.columns:
        return np.full(len(roads), np.nan)
    return pd.to_numeric(roads[name], errors="coerce").to_numpy(float, na_value=np.nan)


def _read_roads(roads: gpd.GeoDataFrame) -> _Roads:
    """Read the attributes of every road of a layer (any of the roads-layer columns)."""
    n = len(roads)

    def col(name: str) -> pd.Series | None:
        return roads[name] if name in roads.columns else None

    # the layer's ids, else the row number as text (in the layer's default string type)
    ids = (roads["id"].array if "id" in roads.columns else
           pd.Series(np.arange(n).astype(str)).array)
    road_class = col("class")
    if road_class is None:
        road_class = col("highway")
    if "oneway" in roads.columns and pd.api.types.is_bool_dtype(roads["oneway"].dtype) \
            and not isinstance(roads["oneway"].dtype, pd.BooleanDtype):
        oneway = roads["oneway"].to_numpy(bool)
    elif "oneway" in roads.columns:
        oneway = pd.array(roads["oneway"].to_numpy()).astype("boolean").fillna(
            False).to_numpy(bool)
    else:
        oneway = np.zeros(n, dtype=bool)
    osm_name = "osm_id" if "osm_id" in roads.columns else "osmid"
    osm = _numbers(roads, osm_name)
    osm = np.where(osm == np.round(osm), osm, np.nan)  # only whole numbers are OSM ids
    if np.isfinite(osm).any():
        codes, values = pd.factorize(osm)  # NaN → -1
        osm_id = _Coded(codes.astype(_code_dtype(len(values)), copy=False),
                        pd.Index(pd.array(values.astype(np.int64), dtype="Int64")))
    else:
        osm_id = _Coded(np.full(n, -1, dtype=np.int8), pd.Index([], dtype="Int64"))
    layer = _numbers(roads, "layer")
    layer = np.where(np.isnan(layer), 0.0, layer)
    return _Roads(ids=ids, ref=_Coded.of(col("ref"), n), name=_Coded.of(col("name"), n),
                  road_class=_Coded.of(road_class, n), highway=_Coded.of(col("highway"), n),
                  oneway=oneway, maxspeed_kph=_numbers(roads, "maxspeed_kph"),
                  length_m=_numbers(roads, "length_m"), lanes=_numbers(roads, "lanes"),
                  osm_id=osm_id, layer=layer,
                  raised=_flag(roads, "bridge") | _flag(roads, "tunnel"))


def _osm_highway(roads: _Roads) -> _Coded:
    """OSM ``highway`` of each road: the layer's own value, else mapped from the class."""
    given = roads.highway.categories
    given_ok = [not (isinstance(h, str) and h == "") for h in given]
    mapped = [CLASS_HIGHWAY.get(c, None if c == "rail" else c) if isinstance(c, str) else None
              for c in roads.road_class.categories]
    values = [*(h for h, ok in zip(given, given_ok, strict=True) if ok),
              *(m for m in mapped if m is not None)]
    codes, categories = pd.factorize(pd.Series(values, dtype=object))
    lookup = dict(zip(values, codes.tolist(), strict=True))
    from_given = np.array([lookup[h] if ok else -1
                           for h, ok in zip(given, given_ok, strict=True)] + [-1], dtype=np.int64)
    from_class = np.array([-1 if m is None else lookup[m] for m in mapped] + [-1],
                          dtype=np.int64)
    h = from_given[roads.highway.codes]  # code -1 reads the trailing -1
    out = np.where(h >= 0, h, from_class[roads.road_class.codes])
    return _Coded(out.astype(_code_dtype(len(categories))), pd.Index(categories))


_FALSE_WORDS = frozenset({"", "no", "false", "0", "none", "nan", "null"})


def _flag(roads: gpd.GeoDataFrame, name: str) -> NDArray[np.bool_]:
    """Read an OSM-style yes/no column as booleans (``yes``, ``viaduct``, ``True``…: true)."""
    if name not in roads.columns:
        return np.zeros(len(roads), dtype=bool)
    values = roads[name]
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return pd.to_numeric(values, errors="coerce").fillna(0).to_numpy(float) != 0
    text = values.astype("string").str.strip().str.lower().fillna("")
    return ~text.isin(_FALSE_WORDS).to_numpy(bool)


#: About this many points or entries are sorted at a time: per-point work stays in the
#: cache, and temporary arrays stay below the size the allocator hands out as fresh pages
#: (each such page is a page fault), so the cost per point does not grow with the layer.
_BLOCK = 1 << 20


def _int_type(n: int) -> type[np.signedinteger]:
    """Return int32 when ``n`` positions or ids fit, else int64."""
    return np.int32 if n < 2**31 - 1 else np.int64


class _VertexKeys:
    """Integer ids of coordinates, equal when two points lie within one quantum.

    Coordinates are quantised (0.1 mm, or 1e-9 degree) and packed into one integer per
    point; the ids number the distinct integers in sorted order (x, then y). The points are
    sorted in bands of x (about :data:`_BLOCK` points each), which gives the same ids as one
    sort of all of them: a band's keys all come before the next band's. A sort keeps the
    cost per point flat as layers grow, where a hash table outgrows the cache.
    """

    def __init__(self, coords: NDArray[np.float64], quantum: float) -> None:
        self.quantum = quantum
        n = len(coords)
        x, y = coords[:, 0], coords[:, 1]
        if n:
            self._x0 = int(np.round(x.min() / quantum))
            self._y0 = int(np.round(y.min() / quantum))
            span_x = int(np.round(x.max() / quantum)) - self._x0 + 1
            self._span_y = int(np.round(y.max() / quantum)) - self._y0 + 1
        else:
            self._x0 = self._y0 = 0
            span_x = self._span_y = 1
        self._packed = span_x * self._span_y < 2**62
        self.ids = np.empty(n, dtype=_int_type(n))
        self._uses: list[NDArray[np.integer]] = []
        if not self._packed:  # a huge extent: one integer per axis value
            fx, self._ux = pd.factorize(np.round(x / quantum).astype(np.int64))
            fy, self._uy = pd.factorize(np.round(y / quantum).astype(np.int64))
            self._span_y = len(self._uy)
            self._keys = self._number(fx.astype(np.int64) * self._span_y + fy,
                                      np.arange(n), 0)
            self.uses = self._uses.pop()
            return
        bands = min(max(n // _BLOCK, 1), 4096)
        width = -(-span_x // bands)
        if bands > 1:
            band = np.empty(n, dtype=np.uint16)
            for i in range(0, n, _BLOCK):
                band[i:i + _BLOCK] = (np.round(x[i:i + _BLOCK] / quantum).astype(np.int64)
                                      - self._x0) // width
        parts = []
        for b in range(bands):
            rows = np.flatnonzero(band == b) if bands > 1 else np.arange(n)
            qx = np.round(x[rows] / quantum).astype(np.int64)
            qy = np.round(y[rows] / quantum).astype(np.int64)
            parts.append(self._number((qx - self._x0) * self._span_y + (qy - self._y0),
                                      rows, sum(len(p) for p in parts)))
        self._keys = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        #: How many points have each id.
        self.uses = (np.concatenate(self._uses) if self._uses
                     else np.zeros(0, dtype=self.ids.dtype))
        del self._uses

    def _number(self, combined: NDArray[np.int64], rows: NDArray[np.int64], first: int
                ) -> NDArray[np.int64]:
        """Give the points ``rows`` ids from ``first`` in the order of their keys."""
        order = np.argsort(combined)
        combined = combined[order]
        new = np.ones(len(combined), dtype=bool)
        np.not_equal(combined[1:], combined[:-1], out=new[1:])
        self.ids[rows[order]] = first + np.cumsum(new, dtype=self.ids.dtype) - 1
        starts = np.flatnonzero(new)
        self._uses.append(np.diff(np.r_[starts, len(new)]).astype(self.ids.dtype))
        return combined[starts]

    @property
    def count(self) -> int:
        return len(self._keys)

    def lookup(self, xy: NDArray[np.float64]) -> NDArray[np.int64]:
        """Ids of other points (-1 where the point is not a known vertex)."""
        qx = np.round(xy[:, 0] / self.quantum).astype(np.int64)
        qy = np.round(xy[:, 1] / self.quantum).astype(np.int64)
        if self._packed:
            key = (qx - self._x0) * self._span_y + (qy - self._y0)
        else:
            fx = pd.Index(self._ux).get_indexer(qx)
            fy = pd.Index(self._uy).get_indexer(qy)
            key = np.where((fx >= 0) & (fy >= 0), fx.astype(np.int64) * self._span_y + fy, -1)
        pos = np.minimum(np.searchsorted(self._keys, key), max(self.count - 1, 0))
        found = (self.count > 0) & (self._keys[pos] == key) if self.count else \
            np.zeros(len(key), dtype=bool)
        return np.where(found, pos, -1)


def _snap_targets(coords: NDArray[np.float64], end_pos: NDArray[np.int64], keys: _VertexKeys,
                  metric: _Metric, tolerance_m: float) -> NDArray[np.int64]:
    """For each line end, the line end whose coordinates it takes (itself if nothing moves).

    Ends at one vertex move together: the search runs on the distinct end vertices only.
    A cluster of vertices within the tolerance goes to the vertex shared by most ends (an
    existing junction stays where it is), then to the first.
    """
    ids = keys.ids[end_pos]
    count = np.bincount(ids, minlength=keys.count)
    first = np.zeros(keys.count, dtype=np.int64)
    first[ids[::-1]] = np.arange(len(ids))[::-1]  # the first end at each vertex
    vertices = np.flatnonzero(count)
    target = first[vertices]
    pairs = _pairs_within(metric.scale(coords[end_pos[target]]), tolerance_m)
    if len(pairs):
        target = target[_cluster_representatives(pairs, count[vertices], target)]
    slot = np.zeros(keys.count, dtype=np.int64)
    slot[vertices] = np.arange(len(vertices))
    return target[slot[ids]]


def _pairs_within(pts: NDArray[np.float64], distance: float) -> NDArray[np.int64]:
    """Pairs (i, j) of points at most ``distance`` apart, each pair once.

    The points are sorted by cells of that size; a point's partners are in its own cell or
    in the next ones (above, and the column to the right): a few look-ups in the sorted
    cells, no tree.
    """
    if len(pts) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    cell = np.floor(pts / distance).astype(np.int64)
    cell -= cell.min(axis=0)
    rows = int(cell[:, 1].max()) + 3
    key = cell[:, 0] * rows + cell[:, 1] + 1
    order = np.argsort(key)
    key = key[order]
    head = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(head)
    run = np.diff(np.r_[starts, len(key)])[np.cumsum(head) - 1]  # points in each one's cell
    first = starts[np.cumsum(head) - 1]
    found = []
    # the same cell: the points after this one
    after = first + run - np.arange(len(key)) - 1
    has = np.flatnonzero(after > 0)
    found.append((has, _ranges(has + 1, after[has]), after[has]))
    # the cell above is the next run; the three cells of the next column follow each other
    last = len(key) - 1
    at = None
    for step in (1, rows - 1, rows, rows + 1):
        if step == 1:
            at = np.minimum(first + run, last)
        elif step == rows - 1:
            at = np.minimum(np.searchsorted(key, key + step), last)
        else:  # after the previous cell's run, if that cell has points
            at = np.minimum(np.where(key[at] == key + step - 1, at + run[at], at), last)
        count = np.where(key[at] == key + step, run[at], 0)
        has = np.flatnonzero(count)
        found.append((has, _ranges(at[has], count[has]), count[has]))
    i = np.concatenate([np.repeat(p, c) for p, _, c in found])
    j = np.concatenate([q for _, q, _ in found])
    i, j = order[i], order[j]
    d = pts[i] - pts[j]
    near = np.hypot(d[:, 0], d[:, 1]) <= distance
    return np.column_stack([i[near], j[near]])


def _cluster_representatives(pairs: NDArray[np.int64], multiplicity: NDArray[np.int64],
                             first: NDArray[np.int64]) -> NDArray[np.int64]:
    """Map each point to one member of its cluster (pairs = points within tolerance).

    The representative is the member with the highest ``multiplicity``, then the lowest
    ``first``.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    n = len(multiplicity)
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    order = np.lexsort((first, -multiplicity, labels))
    head = np.r_[True, labels[order][1:] != labels[order][:-1]]
    rep = np.empty(labels.max() + 1, dtype=np.int64)
    rep[labels[order][head]] = order[head]
    return rep[labels]


def _ranges(starts: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """``starts[i] .. starts[i] + counts[i] - 1`` for every i, concatenated."""
    ends = np.cumsum(counts)
    return np.repeat(starts - ends + counts, counts) + np.arange(int(ends[-1]) if len(ends)
                                                                  else 0)


def _linestrings(xy: NDArray[np.float64], starts: NDArray[np.int64], stops: NDArray[np.int64],
                 lines: NDArray[np.int64]) -> NDArray[np.object_]:
    """Build the LineStrings of some lines (vertices ``starts[i]..stops[i]`` of ``xy``)."""
    counts = stops[lines] - starts[lines] + 1
    return shapely.linestrings(xy[_ranges(starts[lines], counts)],
                               indices=np.repeat(np.arange(len(lines)), counts))


def _insert_vertices(coords: NDArray[np.float64], line_idx: NDArray[np.int64],
                     splits: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Insert split points (line, position along line, x, y) as vertices, vectorised.

    Lines without new vertices are copied to their shifted place; only the vertices of
    the lines that get new ones are sorted (by line, then position along it; a new vertex
    goes after an existing one at the same spot).
    """
    if splits.empty:
        return coords, line_idx
    n_lines = int(line_idx.max()) + 1
    split_line = splits["line"].to_numpy(np.int64)
    add = np.bincount(split_line, minlength=n_lines)
    shift = np.cumsum(add) - add  # new vertices inserted before each line
    starts = np.searchsorted(line_idx, np.arange(n_lines))
    out_xy = np.empty((len(coords) + len(splits), 2))
    hit = add[line_idx] > 0
    kept = np.flatnonzero(~hit)
    out_xy[kept + shift[line_idx[kept]]] = coords[kept]
    old = np.flatnonzero(hit)
    old_line = line_idx[old]
    step = np.zeros(len(old))
    step[1:] = np.where(old_line[1:] == old_line[:-1],
                        np.hypot(*(coords[old[1:]] - coords[old[:-1]]).T), 0.0)
    cum = np.cumsum(step)
    along = cum - cum[_group_starts(old_line)]  # distance of each vertex along its line
    line_key = np.r_[old_line, split_line]
    order = np.lexsort((np.r_[np.zeros(len(old)), np.ones(len(splits))],
                        np.r_[along, splits["along"].to_numpy(float)], line_key))
    merged = np.vstack([coords[old], splits[["x", "y"]].to_numpy(float)])[order]
    line_key = line_key[order]
    rank = np.arange(len(line_key)) - _group_starts(line_key)
    out_xy[starts[line_key] + shift[line_key] + rank] = merged
    counts = np.bincount(line_idx, minlength=n_lines) + add
    return out_xy, np.repeat(np.arange(n_lines), counts)


def _group_starts(sorted_keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """For each element of a grouped array, the position where its group starts."""
    first = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]] if len(sorted_keys) else (
        np.zeros(0, dtype=bool))
    return np.maximum.accumulate(np.where(first, np.arange(len(sorted_keys)), 0))


@dataclass
class RoadNetwork:
    """A routable road network: the directed edge table and what derives from it.

    Use :func:`build_network` (from road layers) or :func:`network_from_graph` (from a
    NetworkX/OSMnx graph) to make one.

    Attributes
    ----------
    node_x, node_y
        Node coordinates in ``crs`` (lon/lat for EPSG:4326).
    table
        One row per directed edge, sorted by ``u`` then ``v`` (parallel edges by ``key``):
        ``u``, ``v`` (node ids), ``length`` (m), ``travel_time`` (s), ``speed_kph``,
        ``road_id`` (the layer's id, in the layer's dtype), ``ref``, ``name``, ``class``,
        ``highway`` (OSM's value), ``osm_id`` (OSM ways only), ``oneway``, ``lanes`` (both
        directions, float32, NaN if unknown) and ``key``. Text columns and ``osm_id`` are
        categoricals (integer codes and one copy of each value), not object arrays. Gap
        connectors are edges with their dangling road's attributes. :attr:`edges` adds the
        geometry.
    crs
        CRS of the coordinates and geometries.
    coords, geom_first, geom_last
        Vertex coordinates shared by all edges, and each edge's vertex range.
    places
        Attached places: ``id`` → node.
    report
        What the build did.
    node_ids
        Original node ids when the network came from a graph.
    """

    node_x: NDArray[np.float64]
    node_y: NDArray[np.float64]
    table: pd.DataFrame
    crs: pyproj.CRS
    coords: NDArray[np.float64]
    geom_first: NDArray[np.integer]
    geom_last: NDArray[np.integer]
    places: dict[str, int] = field(default_factory=dict)
    report: NetworkReport = field(default_factory=NetworkReport)
    node_ids: NDArray[np.object_] | None = None

    def edge_geometries(self, rows: NDArray[np.int64] | None = None) -> NDArray[np.object_]:
        """Build the LineStrings of some edges (all by default), drawn from u to v.

        Geometries are made on demand from one shared coordinate array: an edge is the
        vertex range ``geom_first..geom_last`` (descending when the edge runs against
        the digitised direction).
        """
        first = np.asarray(self.geom_first if rows is None else self.geom_first[rows],
                           dtype=np.int64)
        last = np.asarray(self.geom_last if rows is None else self.geom_last[rows],
                          dtype=np.int64)
        step = np.where(last >= first, 1, -1)
        counts = np.abs(last - first) + 1
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        take = np.repeat(first, counts) + offsets * np.repeat(step, counts)
        return shapely.linestrings(self.coords[take],
                                   indices=np.repeat(np.arange(len(first)), counts))

    @cached_property
    def edges(self) -> gpd.GeoDataFrame:
        """The directed edges as a GeoDataFrame (``table`` plus geometry, built once)."""
        return gpd.GeoDataFrame(self.table, geometry=self.edge_geometries(), crs=self.crs)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_x)

    def _weights(self, weight: str | NDArray[np.float64]) -> NDArray[np.float64]:
        if isinstance(weight, str):
            return self.table[weight].to_numpy(float)
        weight = np.asarray(weight, dtype=float)
        if weight.shape != (len(self.table),):
            raise BorderGeoError("a weight array needs one value per edge")
        return weight

    def _ends(self) -> tuple[NDArray[np.integer], NDArray[np.integer]]:
        """``u`` and ``v`` as integer arrays (no copy when they are integer columns)."""
        u, v = self.table["u"], self.table["v"]
        return (u.to_numpy() if pd.api.types.is_integer_dtype(u.dtype) else
                u.to_numpy(np.int64),
                v.to_numpy() if pd.api.types.is_integer_dtype(v.dtype) else
                v.to_numpy(np.int64))

    @cached_property
    def _sorted_by_pair(self) -> bool:
        """Whether the table runs by ``u`` then ``v`` (always so from :func:`build_network`)."""
        u, v = self._ends()
        if len(u) < 2:
            return True
        step = np.diff(u)
        return bool((step >= 0).all() and (v[1:] >= v[:-1])[step == 0].all())

    def _cheapest_rows(self, w: NDArray[np.float64],
                       edge_mask: NDArray[np.bool_] | None = None) -> NDArray[np.int64]:
        """Cheapest edge row of each (u, v) pair (ties: the first row), by pair."""
        u, v = self._ends()
        rows = np.arange(len(u)) if edge_mask is None else np.flatnonzero(edge_mask)
        if not self._sorted_by_pair:
            order = np.lexsort((w[rows], v[rows], u[rows]))
            pair = u[rows][order].astype(np.int64) * self.n_nodes + v[rows][order]
            first = np.ones(len(order), dtype=bool)
            first[1:] = pair[1:] != pair[:-1]
            return rows[order[first]]
        uu = u if edge_mask is None else u[rows]
        vv = v if edge_mask is None else v[rows]
        new = np.ones(len(rows), dtype=bool)
        new[1:] = (uu[1:] != uu[:-1]) | (vv[1:] != vv[:-1])
        if new.all():  # no parallel edges: the table is the answer
            return rows
        group = np.cumsum(new) - 1
        parallel = np.flatnonzero(np.bincount(group)[group] > 1)
        order = parallel[np.lexsort((w[rows[parallel]], group[parallel]))]
        head = order[np.r_[True, group[order][1:] != group[order][:-1]]]
        pick = new.copy()
        pick[parallel] = False
        pick[head] = True
        return rows[pick]

    def _cheapest(self, weight: str | NDArray[np.float64],
                  edge_mask: NDArray[np.bool_] | None = None
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Cheapest edge row of each (u, v) pair, sorted by pair key, and the pair keys."""
        if edge_mask is None and isinstance(weight, str) and weight == "travel_time":
            return self._travel_time_pairs
        chosen = self._cheapest_rows(self._weights(weight), edge_mask)
        return chosen, self._pair_keys(chosen)

    def _pair_keys(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        u, v = self._ends()
        return u[rows].astype(np.int64) * self.n_nodes + v[rows]

    @cached_property
    def _travel_time_rows(self) -> NDArray[np.int64]:
        return self._cheapest_rows(self.table["travel_time"].to_numpy(float))

    @cached_property
    def _travel_time_pairs(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        chosen = self._travel_time_rows
        return chosen, self._pair_keys(chosen)

    def csr(self, weight: str | NDArray[np.float64] = "travel_time", *,
            edge_mask: NDArray[np.bool_] | None = None,
            transpose: bool = False) -> sparse.csr_matrix:
        """Return the compiled adjacency matrix of ``weight`` (minimum over parallel edges).

        Parameters
        ----------
        weight
            Edge column (``"travel_time"`` in s, ``"length"`` in m) or one value per edge.
        edge_mask
            Edges to keep (``False`` closes an edge); default all.
        transpose
            Return the reversed graph (to search backwards from destinations).

        Returns
        -------
        scipy.sparse.csr_matrix
            ``n_nodes × n_nodes``; entry (u, v) is the cheapest u→v edge.
        """
        from scipy import sparse

        w = self._weights(weight)
        if edge_mask is None and isinstance(weight, str) and weight == "travel_time":
            chosen = self._travel_time_rows
        else:
            chosen = self._cheapest_rows(w, edge_mask)
        n = self.n_nodes
        u, v = self._ends()
        u, v, data = u[chosen], v[chosen], w[chosen]
        if transpose or not self._sorted_by_pair or max(n, len(chosen)) >= 2**31 - 1:
            if transpose:
                u, v = v, u
            return sparse.csr_matrix((data, (u, v)), shape=(n, n))
        # rows already in (u, v) order: offsets from the row counts, no sort, no conversion
        indptr = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
        matrix = sparse.csr_matrix((data, v.astype(np.int32), indptr), shape=(n, n),
                                   copy=False)
        matrix.has_sorted_indices = True
        return matrix

    @cached_property
    def travel_time_csr(self) -> sparse.csr_matrix:
        """Travel time (s) adjacency, cheapest parallel edge, built once."""
        return self.csr("travel_time")

    @cached_property
    def travel_time_csr_reversed(self) -> sparse.csr_matrix:
        """The reversed graph's travel-time adjacency, for backward searches."""
        return self.travel_time_csr.transpose().tocsr()

    def edge_between(self, u: NDArray[np.int64], v: NDArray[np.int64], *,
                     weight: str | NDArray[np.float64] = "travel_time") -> NDArray[np.int64]:
        """Return the row of the cheapest edge for each (u, v) pair of a path.

        Parameters
        ----------
        u, v
            Node arrays of equal length (consecutive nodes of a path).
        weight
            Which weight decides between parallel edges (a column or one value per edge).

        Returns
        -------
        numpy.ndarray
            Positions in :attr:`edges`.
        """
        chosen, pairs = self._cheapest(weight)
        wanted = np.asarray(u, dtype=np.int64) * self.n_nodes + np.asarray(v, dtype=np.int64)
        pos = np.searchsorted(pairs, wanted)
        if (pos >= len(pairs)).any() or (pairs[np.minimum(pos, len(pairs) - 1)] != wanted).any():
            raise BorderGeoError("path uses a pair of nodes with no edge between them")
        return chosen[pos]

    def to_graph(self) -> nx.MultiDiGraph:
        """Return the network as a NetworkX ``MultiDiGraph`` in OSMnx conventions.

        Returns
        -------
        networkx.MultiDiGraph
            Graph attribute ``crs``; nodes ``x``, ``y`` (and ``street_count``); edges
            ``length`` (m), ``travel_time`` (s), ``speed_kph``, ``geometry``, ``oneway``,
            ``reversed``, ``ref``, ``name``, ``lanes``, ``road_id`` (the layer's id),
            ``road_class`` (the project's class) and ``highway`` in OSM's vocabulary (the
            layer's own value, else :data:`CLASS_HIGHWAY` of the class; none for rail,
            which gets ``railway="rail"``). ``osmid`` is there only for OSM ways (an
            integer, from the layer's ``osm_id``). ``osmnx.graph_to_gdfs``,
            ``osmnx.routing.shortest_path``, ``osmnx.save_graphml`` / ``load_graphml``
            and friends work on it.
        """
        import networkx as nx

        g = nx.MultiDiGraph(crs=self.crs.to_string())
        degree = np.bincount(np.concatenate(self._ends()), minlength=self.n_nodes)
        g.add_nodes_from((i, {"x": float(x), "y": float(y), "street_count": int(d)})
                         for i, (x, y, d) in enumerate(zip(self.node_x, self.node_y, degree,
                                                           strict=True)))
        table = self.table
        if "highway" not in table.columns:  # a network from a graph: its class as given
            table = table.assign(highway=table["class"])
        if "osm_id" not in table.columns:
            table = table.assign(osm_id=pd.array([pd.NA] * len(table), dtype="Int64"))
        if "lanes" not in table.columns:
            table = table.assign(lanes=np.nan)
        cols = ["u", "v", "key", "length", "travel_time", "speed_kph", "ref", "name",
                "class", "highway", "osm_id", "oneway", "lanes", "road_id"]
        table = table[cols].astype(object).where(table[cols].notna(), None)
        geoms = self.edge_geometries()
        for row, geom in zip(table.itertuples(index=False), geoms, strict=True):
            attrs = {"length": float(row.length), "travel_time": float(row.travel_time),
                     "speed_kph": float(row.speed_kph), "geometry": geom,
                     "oneway": bool(row.oneway), "reversed": False}
            for name, value in (("ref", row.ref), ("name", row.name),
                                ("road_id", row.road_id), ("road_class", row[8]),
                                ("highway", row.highway)):
                if value is not None:
                    attrs[name] = value
            if row.osm_id is not None:
                attrs["osmid"] = int(row.osm_id)
            if row.lanes is not None:
                attrs["lanes"] = float(row.lanes)
            if row[8] == "rail" and row.highway is None:
                attrs["railway"] = "rail"
            g.add_edge(int(row.u), int(row.v), key=int(row.key), **attrs)
        return g

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Return the nodes as a GeoDataFrame indexed by node id (OSMnx style)."""
        return gpd.GeoDataFrame({"x": self.node_x, "y": self.node_y},
                                geometry=shapely.points(self.node_x, self.node_y),
                                crs=self.crs).rename_axis("osmid")

    def nearest_node(self, x: float, y: float) -> tuple[int, float]:
        """Return the node nearest to a point and its distance in metres.

        Parameters
        ----------
        x, y
            Coordinates in the network's CRS (lon, lat for EPSG:4326).

        Returns
        -------
        tuple
            ``(node, distance_m)``.
        """
        metric = _Metric(self.crs, np.column_stack([self.node_x, self.node_y]))
        dx = (self.node_x - x) * metric.kx
        dy = (self.node_y - y) * metric.ky
        d2 = dx * dx + dy * dy
        node = int(np.argmin(d2))
        return node, float(np.sqrt(d2[node]))

    def largest_component_nodes(self) -> NDArray[np.int64]:
        """Nodes of the largest strongly connected component."""
        from scipy.sparse.csgraph import connected_components

        _, labels = connected_components(self.travel_time_csr, directed=True,
                                         connection="strong")
        biggest = np.bincount(labels).argmax()
        return np.flatnonzero(labels == biggest)


def _line_boxes(xy: NDArray[np.float64], starts: NDArray[np.int64]) -> NDArray[np.float64]:
    """Bounding box (xmin, ymin, xmax, ymax) of each line (vertices from ``starts[i]``)."""
    if len(starts) == 0:
        return np.zeros((0, 4))
    return np.column_stack([np.minimum.reduceat(xy[:, 0], starts),
                            np.minimum.reduceat(xy[:, 1], starts),
                            np.maximum.reduceat(xy[:, 0], starts),
                            np.maximum.reduceat(xy[:, 1], starts)])


def _boxes_near(boxes: NDArray[np.float64], queries: NDArray[np.float64],
                reach: float) -> NDArray[np.int64]:
    """Boxes that come within ``reach`` of some query box: a superset, found on a grid.

    The query boxes, grown by ``reach``, are marked on a grid of at most 1024 × 1024 cells
    (fewer for fewer boxes); a box is kept if a marked cell lies in its cell range (a
    summed-area lookup).
    """
    if len(queries) == 0 or len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    reach = reach * (1 + 1e-9) + 1e-9
    lo = queries[:, :2].min(axis=0) - reach
    hi = queries[:, 2:].max(axis=0) + reach
    side = min(1024.0, max(16.0, float(np.sqrt(len(boxes)))))
    size = max(float((hi - lo).max()) / side, 2 * reach)
    shape = (np.floor((hi - lo) / size).astype(np.int64) + 1).tolist()

    def cell(v: NDArray[np.float64], axis: int) -> NDArray[np.int64]:
        return np.clip(np.floor((v - lo[axis]) / size), -1, shape[axis]).astype(np.int64)

    marks = np.zeros((shape[0] + 1, shape[1] + 1), dtype=np.int32)  # a 2-D difference array
    i0 = np.clip(cell(queries[:, 0] - reach, 0), 0, shape[0] - 1)
    i1 = np.clip(cell(queries[:, 2] + reach, 0), 0, shape[0] - 1)
    j0 = np.clip(cell(queries[:, 1] - reach, 1), 0, shape[1] - 1)
    j1 = np.clip(cell(queries[:, 3] + reach, 1), 0, shape[1] - 1)
    np.add.at(marks, (i0, j0), 1)
    np.add.at(marks, (i1 + 1, j0), -1)
    np.add.at(marks, (i0, j1 + 1), -1)
    np.add.at(marks, (i1 + 1, j1 + 1), 1)
    covered = (marks.cumsum(axis=0).cumsum(axis=1)[:-1, :-1] > 0).astype(np.int32)
    table = np.zeros((shape[0] + 1, shape[1] + 1), dtype=np.int32)
    table[1:, 1:] = covered.cumsum(axis=0).cumsum(axis=1)
    bi0, bi1 = cell(boxes[:, 0], 0), cell(boxes[:, 2], 0)
    bj0, bj1 = cell(boxes[:, 1], 1), cell(boxes[:, 3], 1)
    inside = (bi1 >= 0) & (bi0 < shape[0]) & (bj1 >= 0) & (bj0 < shape[1])
    bi0, bj0 = np.maximum(bi0, 0), np.maximum(bj0, 0)
    bi1, bj1 = np.minimum(bi1, shape[0] - 1) + 1, np.minimum(bj1, shape[1] - 1) + 1
    hits = table[bi1, bj1] - table[bi0, bj1] - table[bi1, bj0] + table[bi0, bj0]
    return np.flatnonzero(inside & (hits > 0))


def _attach_splits(xy_scaled: NDArray[np.float64], starts: NDArray[np.int64],
                   stops: NDArray[np.int64], boxes: NDArray[np.float64],
                   places: gpd.GeoDataFrame, metric: _Metric, max_snap_m: float
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Foot of the perpendicular from each place onto its nearest line.

    Lines (``boxes``: their bounds, scaled) are searched near the places first (within
    ``max_snap_m``, then 4, 16 … times farther), not all of them. Returns the splits, the
    attachments and the places farther than ``max_snap_m`` (``id``, ``distance_m``), which
    are left out of the first two.
    """
    scaled_pts = shapely.transform(places.geometry.to_numpy(), metric.scale)
    usable = np.flatnonzero(~(shapely.is_missing(scaled_pts) | shapely.is_empty(scaled_pts)))
    place_boxes = shapely.bounds(scaled_pts)
    corners = np.vstack([boxes[:, :2], boxes[:, 2:], place_boxes[usable, :2],
                         place_boxes[usable, 2:]])
    span = float(np.hypot(*(corners.max(axis=0) - corners.min(axis=0))))
    found_p, found_l, found_d = [], [], []
    todo = usable
    reach = max(max_snap_m, 1.0)
    while len(todo):
        last = reach >= span  # every line is within reach: search them all
        lines = (np.arange(len(starts)) if last else
                 _boxes_near(boxes, place_boxes[todo], reach))
        if len(lines):
            geoms = _linestrings(xy_scaled, starts, stops, lines)
            (pi, li), dist = shapely.STRtree(geoms).query_nearest(
                scaled_pts[todo], max_distance=None if last else reach,
                return_distance=True, all_matches=True)
            order = np.lexsort((lines[li], dist, pi))  # nearest, then the first line
            pi, li, dist = pi[order], li[order], dist[order]
            head = np.ones(len(pi), dtype=bool)
            head[1:] = pi[1:] != pi[:-1]
            found_p.append(todo[pi[head]])
            found_l.append(lines[li[head]])
            found_d.append(dist[head])
            done = np.zeros(len(todo), dtype=bool)
            done[pi[head]] = True
            todo = todo[~done]
        if last:
            break
        reach *= 4
    pidx = np.concatenate(found_p) if found_p else np.zeros(0, dtype=np.int64)
    lidx = np.concatenate(found_l) if found_l else np.zeros(0, dtype=np.int64)
    dist = np.concatenate(found_d) if found_d else np.zeros(0)
    order = np.argsort(pidx)
    pidx, lidx, dist = pidx[order], lidx[order], dist[order]
    if len(pidx) < len(scaled_pts):
        missing = sorted(set(range(len(scaled_pts))) - set(pidx.tolist()))
        raise BorderGeoError(f"place {places['id'].iloc[missing[0]]!r} has no road near it")
    near = dist <= max_snap_m
    unattached = pd.DataFrame({"id": places["id"].to_numpy()[pidx[~near]],
                               "distance_m": dist[~near]})
    pidx, lidx, dist = pidx[near], lidx[near], dist[near]
    ids, slot = np.unique(lidx, return_inverse=True)
    scaled_lines = _linestrings(xy_scaled, starts, stops, ids)[slot]
    along_scaled = shapely.line_locate_point(scaled_lines, scaled_pts[pidx])
    foot = shapely.line_interpolate_point(scaled_lines, along_scaled)
    xy = shapely.get_coordinates(foot).reshape(-1, 2) / np.array([metric.kx, metric.ky])
    splits = pd.DataFrame({"line": lidx, "x": xy[:, 0], "y": xy[:, 1]})
    attach = pd.DataFrame({"id": places["id"].to_numpy()[pidx], "line": lidx,
                           "x": xy[:, 0], "y": xy[:, 1], "snap_m": dist})
    return splits, attach, unattached


class _Lines:
    """The line parts near some points, in the local metric frame, with a spatial index.

    Only the lines whose box (``boxes``, scaled) comes within ``reach`` of a point are
    indexed (the dangling
    ends the joins start from); results name lines by their index in the whole layer.
    ``level`` (the ``layer`` value) and ``raised`` (bridge or tunnel) decide which lines may
    be joined: a line end joins the interior of another line only on the same level and
    never the middle of a bridge or tunnel; crossings of lines on different levels, or of
    a bridge or tunnel, are over/under passes. ``rail`` keeps gap joins within one mode.
    """

    def __init__(self, xy_scaled: NDArray[np.float64], starts: NDArray[np.int64],
                 stops: NDArray[np.int64], boxes: NDArray[np.float64],
                 level: NDArray[np.float64], raised: NDArray[np.bool_],
                 rail: NDArray[np.bool_], *, near: NDArray[np.float64], reach: float) -> None:
        self.level, self.raised, self.rail = level, raised, rail
        self.ids = _boxes_near(boxes, np.hstack([near, near]), reach)
        self.scaled = _linestrings(xy_scaled, starts, stops, self.ids)
        self.tree = shapely.STRtree(self.scaled)

    def _query(self, geoms: NDArray[np.object_], predicate: str, **options: float
               ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Query pairs (input, indexed line position) in a fixed order."""
        qi, pos = self.tree.query(geoms, predicate=predicate, **options)
        order = np.lexsort((pos, qi))
        return qi[order], pos[order]

    def candidates(self, pts: NDArray[np.float64], own: NDArray[np.int64], distance: float,
                   *, same_mode: bool = False
                   ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64],
                              NDArray[np.float64]]:
        """Every other joinable line within ``distance`` of each point (scaled coordinates).

        Returns the point and line of each pair, the foot of the perpendicular on the line
        and the distance to it.
        """
        geoms = shapely.points(pts)
        pi, pos = self._query(geoms, "dwithin", distance=distance)
        li = self.ids[pos]
        keep = ((li != own[pi]) & (self.level[li] == self.level[own[pi]])
                & ~self.raised[li])
        if same_mode:
            keep &= self.rail[li] == self.rail[own[pi]]
        pi, li, pos = pi[keep], li[keep], pos[keep]
        along = shapely.line_locate_point(self.scaled[pos], geoms[pi])
        foot = shapely.get_coordinates(
            shapely.line_interpolate_point(self.scaled[pos], along)).reshape(-1, 2)
        return pi, li, foot, np.hypot(*(foot - pts[pi]).T)

    def crossed(self, a: NDArray[np.float64], b: NDArray[np.float64],
                line_a: NDArray[np.int64], line_b: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether the segment a→b crosses a line other than ``line_a`` and ``line_b``."""
        if len(a) == 0:
            return np.zeros(0, dtype=bool)
        segments = shapely.linestrings(np.stack([a, b], axis=1))
        si, pos = self._query(segments, "crosses")
        li = self.ids[pos]
        other = (li != line_a[si]) & (li != line_b[si])
        out = np.zeros(len(a), dtype=bool)
        out[si[other]] = True
        return out


def _nearest_per_point(pi: NDArray[np.int64], d: NDArray[np.float64]) -> NDArray[np.int64]:
    """Positions of the nearest candidate of each point (one per point that has any)."""
    order = np.lexsort((d, pi))
    first = np.r_[True, pi[order][1:] != pi[order][:-1]] if len(order) else order.astype(bool)
    return order[first]


def _nearest_clear(lines: _Lines, point: NDArray[np.int64], d: NDArray[np.float64],
                   a: NDArray[np.float64], b: NDArray[np.float64], line_a: NDArray[np.int64],
                   line_b: NDArray[np.int64]) -> NDArray[np.int64]:
    """Positions of each point's nearest candidate a→b that crosses no other line.

    The nearest candidates are checked first, all points at once; only the points whose
    nearest is crossed try their next one (a few rounds at most).
    """
    order = np.lexsort((d, point))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - _group_starts(point[order])
    open_point = np.ones(int(point.max()) + 1 if len(point) else 0, dtype=bool)
    chosen = []
    for r in range(int(rank.max()) + 1 if len(rank) else 0):
        take = np.flatnonzero((rank == r) & open_point[point])
        if len(take) == 0:
            break
        clear = take[~lines.crossed(a[take], b[take], line_a[take], line_b[take])]
        chosen.append(clear)
        open_point[point[clear]] = False
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


def _t_junctions(lines: _Lines, ends_scaled: NDArray[np.float64], end_line: NDArray[np.int64],
                 dangling: NDArray[np.bool_], tolerance_m: float
                 ) -> tuple[pd.DataFrame, NDArray[np.int64]]:
    """Dangling ends within the tolerance of another line: the end is inserted into it.

    Returns the splits (line, scaled x/y) and the positions of the joined ends.
    """
    idx = np.flatnonzero(dangling)
    pi, li, _, d = lines.candidates(ends_scaled[idx], end_line[idx], tolerance_m)
    best = _nearest_per_point(pi, d)
    ends = idx[pi[best]]
    # the dangling end itself is the junction: insert it into the other line
    frame = pd.DataFrame({"line": li[best], "x": ends_scaled[ends, 0],
                          "y": ends_scaled[ends, 1]})
    return frame, ends


def _gap_joins(lines: _Lines, coords: NDArray[np.float64], end_pos: NDArray[np.int64],
               end_line: NDArray[np.int64], open_end: NDArray[np.bool_], metric: _Metric,
               tolerance_m: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Connectors across gaps from dangling ends: to another dangling end, else to a line.

    An end joins the nearest dangling end of another line within the tolerance; an end
    left over joins the nearest point of another line (same level, not a bridge or
    tunnel). Rail joins rail and road joins road. A gap is joined only if it lies ahead
    of the end (within ``_GAP_MAX_ANGLE_DEG`` of its last segment continued; for two
    ends, one within that angle and the other facing the gap at all) and the connector
    crosses no other line.

    Returns the joins (``end`` position, ``kind``, ``to_line``, ``to_end`` (the other
    end's position, -1 for a line), ``distance_m``, scaled
    ``x``/``y`` of the end and ``to_x``/``to_y`` of the target) and the splits of the
    lines joined in their interior (line, scaled x/y).
    """
    empty = pd.DataFrame(columns=["end", "kind", "to_line", "to_end", "distance_m", "x", "y",
                                  "to_x", "to_y"])
    idx = np.flatnonzero(open_end)
    if len(idx) == 0:
        return empty, pd.DataFrame(columns=["line", "x", "y"])
    n_parts = len(end_pos) // 2
    is_stop = idx >= n_parts
    pts = metric.scale(coords[end_pos[idx]])
    outward = pts - metric.scale(coords[np.where(is_stop, end_pos[idx] - 1, end_pos[idx] + 1)])
    norm = np.hypot(*outward.T)
    outward = np.divide(outward, norm[:, None], out=np.zeros_like(outward),
                        where=norm[:, None] > 0)
    blind = norm == 0  # no direction (a zero-length last segment): any gap is ahead
    own = end_line[idx]
    cos_max = np.cos(np.radians(_GAP_MAX_ANGLE_DEG))

    def facing(k: NDArray[np.int64], gap: NDArray[np.float64], d: NDArray[np.float64]
               ) -> NDArray[np.float64]:
        cos = np.einsum("ij,ij->i", outward[k], gap) / np.where(d > 0, d, 1.0)
        return np.where(blind[k] | (d <= 1.0), 1.0, cos)

    # end to end
    from scipy.spatial import cKDTree

    pairs = cKDTree(pts).query_pairs(tolerance_m, output_type="ndarray").reshape(-1, 2)
    i, j = pairs[:, 0], pairs[:, 1]
    keep = (own[i] != own[j]) & (lines.rail[own[i]] == lines.rail[own[j]])
    i, j = i[keep], j[keep]
    gap = pts[j] - pts[i]
    d = np.hypot(*gap.T)
    ci, cj = facing(i, gap, d), facing(j, -gap, d)
    ok = (np.maximum(ci, cj) >= cos_max) & (np.minimum(ci, cj) > 0)
    i, j, d = i[ok], j[ok], d[ok]
    p, q, dd = np.r_[i, j], np.r_[j, i], np.r_[d, d]
    best = _nearest_clear(lines, p, dd, pts[p], pts[q], own[p], own[q])
    a, b = np.minimum(p[best], q[best]), np.maximum(p[best], q[best])
    chosen = pd.DataFrame({"a": a, "b": b, "d": dd[best]}).drop_duplicates(["a", "b"])
    a, b = chosen["a"].to_numpy(np.int64), chosen["b"].to_numpy(np.int64)
    end_end = pd.DataFrame({"end": idx[a], "kind": "end-end", "to_line": own[b],
                            "to_end": idx[b],
                            "distance_m": chosen["d"].to_numpy(float),
                            "x": pts[a, 0], "y": pts[a, 1], "to_x": pts[b, 0],
                            "to_y": pts[b, 1]})

    # end to line, for the ends not joined to an end
    rest = np.setdiff1d(np.arange(len(idx)), np.r_[a, b])
    pi, li, foot, d = lines.candidates(pts[rest], own[rest], tolerance_m, same_mode=True)
    k = rest[pi]
    ok = facing(k, foot - pts[k], d) >= cos_max
    pi, li, foot, d, k = pi[ok], li[ok], foot[ok], d[ok], k[ok]
    best = _nearest_clear(lines, pi, d, pts[k], foot, own[k], li)
    k, li, foot, d = k[best], li[best], foot[best], d[best]
    end_line_joins = pd.DataFrame({"end": idx[k], "kind": "end-line", "to_line": li,
                                   "to_end": -1,
                                   "distance_m": d, "x": pts[k, 0], "y": pts[k, 1],
                                   "to_x": foot[:, 0], "to_y": foot[:, 1]})
    joins = pd.concat([frame for frame in (end_end, end_line_joins) if len(frame)] or [empty],
                      ignore_index=True)
    splits = pd.DataFrame({"line": li, "x": foot[:, 0], "y": foot[:, 1]})
    return joins, splits


#: Relative margin of the orientation tests of the crossing search, far above the rounding
#: error of a float64 cross product (about 1e-16): a pair of segments is dropped only when
#: it is certainly apart.
_SIDE_MARGIN = 1e-12

#: Cells of the crossing search are this quantile of the segment lengths (x or y extent).
_CELL_QUANTILE = 0.3


def _side(px: NDArray[np.float64], py: NDArray[np.float64], qx: NDArray[np.float64],
          qy: NDArray[np.float64], rx: NDArray[np.float64], ry: NDArray[np.float64]
          ) -> NDArray[np.int8]:
    """Which side of p→q each r lies on (+1 left, -1 right, 0 on it or too close to tell)."""
    ux, uy, vx, vy = qx - px, qy - py, rx - px, ry - py
    turn = ux * vy - uy * vx
    margin = _SIDE_MARGIN * (np.abs(ux) + np.abs(uy)) * (np.abs(vx) + np.abs(vy))
    return (turn > margin).astype(np.int8) - (turn < -margin)


def _pairs_after(positions: NDArray[np.int64], counts: NDArray[np.int64],
                 after: NDArray[np.int64], chunk: int
                 ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Yield (p, q) index pairs: each position with the ``counts`` positions from ``after``."""
    cum = np.cumsum(counts)
    lo = 0
    while lo < len(counts):
        hi = int(np.searchsorted(cum, cum[lo] - counts[lo] + chunk, side="right"))
        hi = min(max(hi, lo + 1), len(counts))
        yield (np.repeat(positions[lo:hi], counts[lo:hi]),
               _ranges(after[lo:hi], counts[lo:hi]))
        lo = hi


def _touching_pairs(xy: NDArray[np.float64], line_idx: NDArray[np.int64],
                    starts: NDArray[np.int64], stops: NDArray[np.int64],
                    vid: NDArray[np.int64], *, ends_exact: bool = False,
                    chunk: int = 1 << 17) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Pairs of lines (a < b) that may touch other than where both end: all that can cross.

    Two lines cross when their interiors meet in points only; such a point lies on a
    segment of each that do not share a line end (two segments from one point meet only
    there, or overlap, and an overlap is no crossing). The segments are bucketed on a
    uniform grid (cells as long as the shorter segments, :data:`_CELL_QUANTILE`; boxes up
    to three cells wide are entered whole, longer segments as cell-long pieces; in bands of
    rows of about :data:`_BLOCK` entries, sorted one at a time) and the pairs in each cell are
    tested once (in the cell holding the corner of the overlap of their cell ranges):
    different lines, no shared line end, boxes that overlap and an orientation test with a
    margin, so only pairs that are certainly apart are dropped. In a line end's cell, the
    segments that end there form one group and are not paired with each other, nor are the
    segments of one line. A line end counts only where its coordinates equal those of the
    other ends with its ``vid`` exactly (``ends_exact``: known to be so, as after
    snapping); closed lines have no ends.

    Returns the candidate pairs; Shapely decides which of them cross.
    """
    n = len(xy)
    none = np.zeros(0, dtype=np.int64)
    if n == 0:
        return none, none
    n_lines = len(starts)
    x, y = xy[:, 0], xy[:, 1]
    open_line = ~((x[starts] == x[stops]) & (y[starts] == y[stops]))
    ends = np.concatenate([starts[open_line], stops[open_line]])
    if not ends_exact:
        end_vid = vid[ends]
        canon = np.zeros(int(vid.max()) + 1, dtype=np.int64)
        canon[end_vid[::-1]] = ends[::-1]
        ends = ends[(x[ends] == x[canon[end_vid]]) & (y[ends] == y[canon[end_vid]])]
        del canon, end_vid
    anchor = np.zeros(n, dtype=bool)
    anchor[ends] = True
    del ends

    # segments, the grid and the cells of each segment's ends (in blocks: no temporaries
    # the size of the layer)
    index = _int_type(n)
    s = np.flatnonzero(line_idx[1:] == line_idx[:-1]).astype(index)
    if len(s) == 0:
        return none, none
    n_seg = len(s)
    seg_line = line_idx[s]
    ox, oy = float(x.min()), float(y.min())
    span = max(float(x.max()) - ox, float(y.max()) - oy)
    sample = s[::max(1, n_seg // 65_536)]
    ext = np.maximum(np.abs(x[sample + 1] - x[sample]), np.abs(y[sample + 1] - y[sample]))
    size = max(float(np.quantile(ext, _CELL_QUANTILE)), span / 40_000, 1e-9)
    gx0, gx1, gy0, gy1, i0, j0 = (np.empty(n_seg, dtype=np.int32) for _ in range(6))
    short, one_cell = np.empty(n_seg, dtype=bool), np.empty(n_seg, dtype=bool)
    for lo in range(0, n_seg, _BLOCK):
        part = slice(lo, lo + _BLOCK)
        v = s[part]
        # non-negative: truncation is the floor
        gx0[part], gx1[part] = (x[v] - ox) / size, (x[v + 1] - ox) / size
        gy0[part], gy1[part] = (y[v] - oy) / size, (y[v + 1] - oy) / size
        np.minimum(gx0[part], gx1[part], out=i0[part])
        np.minimum(gy0[part], gy1[part], out=j0[part])
        di, dj = np.abs(gx1[part] - gx0[part]), np.abs(gy1[part] - gy0[part])
        short[part] = (di <= 2) & (dj <= 2)
        one_cell[part] = (di == 0) & (dj == 0)
    ncj = int(max(gy0.max(), gy1.max())) + 2
    n_rows = int(max(gx0.max(), gx1.max())) + 1
    an0, an1 = anchor[s], anchor[s + 1]
    both = an0 & an1 & one_cell  # a line in one cell: no end to group by
    an0 &= ~both
    an1 &= ~both
    del both
    bits = int(2 * max(int(vid.max()) + 1, n_lines) + 2).bit_length()

    # long segments: pieces shorter than a cell, each with its own cell range and its
    # entries made here (they are few); a "unit" is a short segment (its index) or a piece
    # (after them), and it knows the corner of its cell range
    unit_seg, unit_i0, unit_j0 = None, i0, j0
    p_unit = p_ci = p_cj = np.zeros(0, dtype=np.int32)
    p_label = np.zeros(0, dtype=np.int64)
    longs = np.flatnonzero(~short)
    if len(longs):
        length = np.maximum(np.abs(x[s[longs] + 1] - x[s[longs]]),
                            np.abs(y[s[longs] + 1] - y[s[longs]]))
        m = (length // size).astype(np.int64) + 2
        pseg = np.repeat(longs, m)
        t = (np.arange(len(pseg)) - np.repeat(np.cumsum(m) - m, m)) / np.repeat(m, m)
        step = 1.0 / np.repeat(m, m)
        ax, ay = x[s[pseg]], y[s[pseg]]
        dx, dy = x[s[pseg] + 1] - ax, y[s[pseg] + 1] - ay
        margin = size * 1e-7

        def cells(lo: NDArray[np.float64], hi: NDArray[np.float64], origin: float,
                  low: NDArray[np.int32], high: NDArray[np.int32]
                  ) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
            a = np.floor((np.minimum(lo, hi) - margin - origin) / size)
            b = np.floor((np.maximum(lo, hi) + margin - origin) / size)
            return (np.clip(a, low, high).astype(np.int32),
                    np.clip(b, low, high).astype(np.int32))

        pi0, pi1 = cells(ax + t * dx, ax + (t + step) * dx, ox, i0[pseg],
                         np.maximum(gx0, gx1)[pseg])
        pj0, pj1 = cells(ay + t * dy, ay + (t + step) * dy, oy, j0[pseg],
                         np.maximum(gy0, gy1)[pseg])
        del t, step, ax, ay, dx, dy
        unit_seg = np.r_[np.arange(n_seg, dtype=index), pseg.astype(index)]
        unit_i0, unit_j0 = np.r_[i0, pi0], np.r_[j0, pj0]
        cnt = (pi1 - pi0 + 1).astype(np.int64) * (pj1 - pj0 + 1)
        e = np.repeat(np.arange(len(pseg)), cnt)
        r = np.arange(len(e)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        width = (pj1 - pj0 + 1)[e]
        p_ci, p_cj = pi0[e] + r // width, pj0[e] + r % width
        sg = pseg[e]
        p_label = np.where(an0[sg] & (gx0[sg] == p_ci) & (gy0[sg] == p_cj),
                           2 * vid[s[sg]].astype(np.int64),
                           np.where(an1[sg] & (gx1[sg] == p_ci) & (gy1[sg] == p_cj),
                                    2 * vid[s[sg] + 1].astype(np.int64),
                                    2 * seg_line[sg].astype(np.int64) + 1))
        p_unit = (n_seg + e).astype(index)
        del e, r, width, sg, pi0, pi1, pj0, pj1, pseg
    del longs

    # bands of cell rows, about _BLOCK entries each (four at least, so that the entries are
    # a fraction of the layer): pairs never leave a cell, so each band is sorted and
    # searched on its own. Short segments go to the band of their first row
    # (and, spanning at most three rows, reach into the next band only)
    chunk = max(1 << 12, min(chunk, n_seg // 8))  # pair arrays small beside the layer
    n_bands = int(min(max(-(-n_seg * 5 // 2 // _BLOCK), 4), max(n_rows // 3, 1), 4096))
    rows_per_band = -(-n_rows // n_bands)
    if n_bands > 1:
        by_band = np.argsort((i0 // rows_per_band).astype(np.uint16), kind="stable")
        bounds = np.searchsorted(i0[by_band] // rows_per_band, np.arange(n_bands + 1))
    found_a, found_b = [], []
    for band in range(n_bands):
        r0, r1 = band * rows_per_band, (band + 1) * rows_per_band
        if n_bands == 1:
            u = np.arange(n_seg)
        else:
            u = by_band[bounds[band]:bounds[band + 1]]
            if band:
                before = by_band[bounds[band - 1]:bounds[band]]
                u = np.r_[before[np.maximum(gx0[before], gx1[before]) >= r0], u]
        u = u[short[u]]
        key, unit = _band_entries(u, r0, r1, gx0, gx1, gy0, gy1, i0, j0, one_cell, an0, an1,
                                  s, seg_line, vid, ncj, bits)
        if len(p_unit):
            pick = (p_ci >= r0) & (p_ci < r1)
            key = np.r_[key, ((p_ci[pick].astype(np.int64) * ncj + p_cj[pick]) << bits)
                        | p_label[pick]]
            unit = np.r_[unit, p_unit[pick]]
        a, b = _band_pairs(key, unit, bits, ncj, chunk, unit_seg, unit_i0, unit_j0, s,
                           seg_line, anchor, vid, x, y)
        found_a += a
        found_b += b
    a = np.concatenate(found_a) if found_a else none
    b = np.concatenate(found_b) if found_b else none
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    pair = np.unique(lo[lo != hi] * n_lines + hi[lo != hi])
    return pair // n_lines, pair % n_lines


def _band_entries(u: NDArray[np.int64], r0: int, r1: int, gx0: NDArray[np.int32],
                  gx1: NDArray[np.int32], gy0: NDArray[np.int32], gy1: NDArray[np.int32],
                  i0: NDArray[np.int32], j0: NDArray[np.int32], one_cell: NDArray[np.bool_],
                  an0: NDArray[np.bool_], an1: NDArray[np.bool_], s: NDArray[np.integer],
                  seg_line: NDArray[np.integer], vid: NDArray[np.integer], ncj: int, bits: int
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the entries (key: cell and label; unit) of short segments ``u`` in rows r0..r1.

    One entry per cell of a segment's box: labelled by the line end the segment has in that
    cell (2 × vertex id), else by its line (2 × line + 1). See :func:`_touching_pairs`.
    """
    a0x, a1x, a0y, a1y = gx0[u], gx1[u], gy0[u], gy1[u]
    free = 2 * seg_line[u].astype(np.int64) + 1
    end0 = 2 * vid[s[u]].astype(np.int64)
    end1 = 2 * vid[s[u] + 1].astype(np.int64)
    first_an, second_an, single = an0[u], an1[u], one_cell[u]
    keys, units = [], []
    pick = (a0x >= r0) & (a0x < r1)  # the first end's cell
    label = np.where(first_an, end0, np.where(second_an & single, end1, free))
    keys.append(((a0x[pick].astype(np.int64) * ncj + a0y[pick]) << bits) | label[pick])
    units.append(u[pick])
    pick = ~single & (a1x >= r0) & (a1x < r1)  # the second end's cell
    label = np.where(second_an, end1, free)
    keys.append(((a1x[pick].astype(np.int64) * ncj + a1y[pick]) << bits) | label[pick])
    units.append(u[pick])
    bx, by = i0[u], j0[u]
    di, dj = np.abs(a1x - a0x), np.abs(a1y - a0y)
    wide = np.flatnonzero(di + dj >= 2)  # boxes with cells beyond the two ends' cells
    if len(wide):
        bx, by, di, dj, free = bx[wide], by[wide], di[wide], dj[wide], free[wide]
        e0x, e0y, e1x, e1y = a0x[wide] - bx, a0y[wide] - by, a1x[wide] - bx, a1y[wide] - by
        for a in range(3):
            for b in range(3):
                pick = ((di >= a) & (dj >= b) & ~((e0x == a) & (e0y == b))
                        & ~((e1x == a) & (e1y == b)) & (bx + a >= r0) & (bx + a < r1))
                keys.append((((bx[pick] + a).astype(np.int64) * ncj + (by[pick] + b)) << bits)
                            | free[pick])
                units.append(u[wide[pick]])
    return np.concatenate(keys), np.concatenate(units)


def _band_pairs(key: NDArray[np.int64], unit: NDArray[np.integer], bits: int, ncj: int,
                chunk: int, unit_seg: NDArray[np.integer], unit_i0: NDArray[np.int32],
                unit_j0: NDArray[np.int32], s: NDArray[np.integer],
                seg_line: NDArray[np.integer], anchor: NDArray[np.bool_],
                vid: NDArray[np.integer], x: NDArray[np.float64], y: NDArray[np.float64]
                ) -> tuple[list[NDArray[np.integer]], list[NDArray[np.integer]]]:
    """Return the lines of the segment pairs that may touch among one band's entries.

    See :func:`_touching_pairs`; returns lists of line arrays (a, b).
    """
    if len(key) < 2:
        return [], []
    order = np.argsort(key)
    key = key[order]
    unit = unit[order]
    del order
    # the partners of an entry: the rest of its cell after its own group (same end or
    # line); worked out by group, as most groups are alone in their cell
    total = len(key)
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    stop = np.r_[start[1:], total]
    cell_of = key[start] >> bits
    last = np.r_[cell_of[1:] != cell_of[:-1], True]  # the last group of its cell
    del cell_of
    cell_stop = stop[np.minimum.accumulate(
        np.where(last, np.arange(len(start)), len(start) - 1)[::-1])[::-1]]
    partners = cell_stop - stop
    busy = np.flatnonzero(partners > 0)
    size_of = stop[busy] - start[busy]
    pos = _ranges(start[busy], size_of)
    count = np.repeat(partners[busy], size_of)
    after = np.repeat(stop[busy], size_of)
    del start, stop, last, cell_stop, partners, busy, size_of
    found_a, found_b = [], []
    for p, q in _pairs_after(pos, count, after, chunk):
        up, uq = unit[p], unit[q]
        ref = ((np.maximum(unit_i0[up], unit_i0[uq]).astype(np.int64) * ncj
                + np.maximum(unit_j0[up], unit_j0[uq])) == key[p] >> bits)
        sa, sb = ((up[ref], uq[ref]) if unit_seg is None else
                  (unit_seg[up[ref]], unit_seg[uq[ref]]))
        keep = seg_line[sa] != seg_line[sb]
        sa, sb = sa[keep], sb[keep]
        va, vb = s[sa], s[sb]
        a0 = np.where(anchor[va], vid[va], -1 - 2 * sa.astype(np.int64))  # never matched
        a1 = np.where(anchor[va + 1], vid[va + 1], -2 - 2 * sa.astype(np.int64))
        b0 = np.where(anchor[vb], vid[vb], -1 - 2 * sb.astype(np.int64))
        b1 = np.where(anchor[vb + 1], vid[vb + 1], -2 - 2 * sb.astype(np.int64))
        keep = (a0 != b0) & (a0 != b1) & (a1 != b0) & (a1 != b1)
        sa, sb, va, vb = sa[keep], sb[keep], va[keep], vb[keep]
        ax0, ay0, ax1, ay1 = x[va], y[va], x[va + 1], y[va + 1]
        bx0, by0, bx1, by1 = x[vb], y[vb], x[vb + 1], y[vb + 1]
        hit = ((np.minimum(ax0, ax1) <= np.maximum(bx0, bx1))
               & (np.minimum(bx0, bx1) <= np.maximum(ax0, ax1))
               & (np.minimum(ay0, ay1) <= np.maximum(by0, by1))
               & (np.minimum(by0, by1) <= np.maximum(ay0, ay1))
               & (_side(bx0, by0, bx1, by1, ax0, ay0) * _side(bx0, by0, bx1, by1, ax1, ay1)
                  <= 0)
               & (_side(ax0, ay0, ax1, ay1, bx0, by0) * _side(ax0, ay0, ax1, ay1, bx1, by1)
                  <= 0))
        found_a.append(seg_line[sa[hit]])
        found_b.append(seg_line[sb[hit]])
    return found_a, found_b


def _crossings(xy_scaled: NDArray[np.float64], line_idx: NDArray[np.int64],
               starts: NDArray[np.int64], stops: NDArray[np.int64], vid: NDArray[np.int64],
               level: NDArray[np.float64], raised: NDArray[np.bool_], *,
               ends_exact: bool = False) -> tuple[pd.DataFrame, int, int]:
    """Points where two lines cross on the same level (scaled), and the passes left apart.

    Candidate pairs come from :func:`_touching_pairs`; Shapely's ``crosses`` and
    ``intersection`` decide on them.
    """
    empty = pd.DataFrame(columns=["line", "x", "y"])
    a, b = _touching_pairs(xy_scaled, line_idx, starts, stops, vid, ends_exact=ends_exact)
    if len(a) == 0:
        return empty, 0, 0
    ids, slot = np.unique(np.r_[a, b], return_inverse=True)
    geoms = _linestrings(xy_scaled, starts, stops, ids)
    ga, gb = geoms[slot[:len(a)]], geoms[slot[len(a):]]
    cross = shapely.crosses(ga, gb)
    a, b, ga, gb = a[cross], b[cross], ga[cross], gb[cross]
    flat = (level[a] == level[b]) & ~raised[a] & ~raised[b]
    passes = int((~flat).sum())
    a, b, ga, gb = a[flat], b[flat], ga[flat], gb[flat]
    if len(a) == 0:
        return empty, 0, passes
    inter = shapely.intersection(ga, gb)
    pts, which = shapely.get_parts(inter, return_index=True)
    is_point = shapely.get_type_id(pts) == 0
    pts, which = pts[is_point], which[is_point]
    xy = shapely.get_coordinates(pts).reshape(-1, 2)
    return (pd.DataFrame({"line": np.concatenate([a[which], b[which]]),
                          "x": np.tile(xy[:, 0], 2), "y": np.tile(xy[:, 1], 2)}),
            len(pts), passes)


def _duplicate_parts(coords: NDArray[np.float64], line_idx: NDArray[np.int64],
                     end_keys: NDArray[np.int64], oneway: NDArray[np.bool_]
                     ) -> NDArray[np.bool_]:
    """Parts that repeat an earlier part exactly (either direction unless one-way).

    Candidates share their end vertices (``end_keys``: vertex ids of the starts, then of
    the ends; found with one sort); only those are compared vertex by vertex.
    """
    n = len(oneway)
    s, e = end_keys[:n].astype(np.int64), end_keys[n:].astype(np.int64)
    lo = np.where(oneway, s, np.minimum(s, e))
    hi = np.where(oneway, e, np.maximum(s, e))
    key = (lo * (int(end_keys.max()) + 1) + hi) * 2 + oneway
    dropped = np.zeros(n, dtype=bool)
    ordered = np.sort(key)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if len(repeated) == 0:
        return dropped
    at = np.minimum(np.searchsorted(repeated, key), len(repeated) - 1)
    cand = np.flatnonzero(repeated[at] == key)
    marked_parts = np.zeros(n, dtype=bool)
    marked_parts[cand] = True
    on_cand = marked_parts[line_idx]
    geoms = shapely.linestrings(coords[on_cand],
                                indices=np.searchsorted(cand, line_idx[on_cand]))
    forward = shapely.to_wkb(geoms)
    backward = shapely.to_wkb(shapely.reverse(geoms))
    canonical = np.where(oneway[cand] | (forward <= backward), forward, backward)
    marked = pd.Series(canonical + np.where(oneway[cand], b"1", b"0").astype(object))
    dropped[cand[marked.duplicated(keep="first").to_numpy()]] = True
    return dropped


def build_network(
    roads: gpd.GeoDataFrame,
    *,
    places: gpd.GeoDataFrame | None = None,
    snap_tolerance_m: float = 5.0,
    gap_tolerance_m: float | None = None,
    node_crossings: bool = True,
    speeds_kph: dict[str, float] | None = None,
    include_status: tuple[str, ...] = ("open",),
    max_snap_m: float = 5_000.0,
    source: str = "roads",
) -> RoadNetwork:
    """Build a routable network from a road LineString layer.

    Parameters
    ----------
    roads
        LineStrings or MultiLineStrings with any of the roads-layer columns (``id``,
        ``ref``, ``name``, ``class`` (or ``highway``), ``highway`` (OSM's value),
        ``oneway``, ``maxspeed_kph``, ``lanes``, ``status``, ``length_m``, ``osm_id``,
        ``layer``, ``bridge``, ``tunnel``); none is required. Any CRS with metres or
        degrees. Exact duplicate lines are dropped (counted in the report).
    places
        Points to attach (e.g. gates and hubs, with an ``id`` column): the nearest road is
        split at the foot of the perpendicular and the place maps to that node.
    snap_tolerance_m
        Line ends closer than this to another line end, or to another line, are joined
        (moved together; digitising noise).
    gap_tolerance_m
        Dangling line ends (ends that touch nothing, after snapping) are joined across
        gaps up to this long by a straight connector edge of the gap's length, with the
        attributes of the dangling line: first to the nearest dangling end of another
        line, else to the nearest point of another line on the same level (never the
        middle of a bridge or tunnel; rail only to rail). A gap is joined only if it lies
        ahead of the end (within 60° of its last segment continued) and the connector
        crosses no other road, so an end beside a parallel road stays apart. The
        default, 50 m, is twice the ±25 m plotting accuracy (0.5 mm) of a 1:50 000 map,
        a common source scale of national road layers, and covers the 18–24 m
        undershoots at junctions of the CTU layer (its 110–320 m gaps need a larger
        value, with more risk of false joins). ``0`` turns it off. ``None`` (default):
        50 m, or 0 for OSM data (a layer with ``osm_id``/``osmid`` values), which is
        already noded at shared nodes, so a dangling end there is a real dead end.
    node_crossings
        Split lines where they cross (``False`` treats every crossing as an over/under
        pass). Crossings of lines with different ``layer`` values, or of a ``bridge`` or
        ``tunnel``, are never split (OSM semantics). The search buckets the segments on
        a grid and tests pairs in numpy; Shapely decides only on the few pairs that may
        touch away from a shared line end.
    speeds_kph
        Speed by road class where ``maxspeed_kph`` is missing (merged over
        :data:`DEFAULT_SPEEDS_KPH`).
    include_status
        Road statuses to route on (roads under construction are left out by default).
    max_snap_m
        A place farther than this from every road is left unattached: listed in
        ``report.unattached`` with its distance, named in one warning, and missing from
        ``network.places`` (routing to it fails with that distance).
    source
        Name used in error messages.

    Returns
    -------
    RoadNetwork
        The network; ``network.report`` says what was dropped, snapped, joined, noded and
        attached.

    Raises
    ------
    SchemaError
        No usable lines, no CRS, or a class with no known speed.
    """
    if not isinstance(roads, gpd.GeoDataFrame) or roads.crs is None:
        raise SchemaError("roads need a GeoDataFrame with a CRS", source=source)
    if gap_tolerance_m is None:
        from_osm = any(c in roads.columns and roads[c].notna().any()
                       for c in ("osm_id", "osmid"))
        gap_tolerance_m = 0.0 if from_osm else DEFAULT_GAP_TOLERANCE_M
    speeds = {**DEFAULT_SPEEDS_KPH, **(speeds_kph or {})}
    if "status" in roads.columns:
        roads = roads[roads["status"].isin(include_status).to_numpy()]
    roads = roads.reset_index(drop=True)
    geoms = roads.geometry.to_numpy()
    kinds = shapely.get_type_id(geoms)  # -1: missing
    valid = kinds >= 0
    if not np.isin(kinds[valid], (1, 5)).all():  # other types are fine only when empty
        valid &= ~shapely.is_empty(geoms)
        if not np.isin(kinds[valid], (1, 5)).all():
            raise SchemaError("road geometries must be LineStrings or MultiLineStrings",
                              source=source, field="geometry")
    if valid.all() and (kinds == 1).all():  # no multi-part lines: skip the split
        parts, road_row = geoms, np.arange(len(geoms))
    elif (kinds[valid] == 1).all():
        parts, road_row = geoms[valid], np.flatnonzero(valid)
    else:
        parts, part_of = shapely.get_parts(geoms[valid], return_index=True)
        road_row = np.flatnonzero(valid)[part_of]
    # (z is dropped with the coordinates; empty lines have no coordinates and go here)
    n_coords = shapely.get_num_coordinates(parts)
    if not (n_coords >= 2).all():
        keep = n_coords >= 2
        parts, road_row, n_coords = parts[keep], road_row[keep], n_coords[keep]
    if len(parts) == 0:
        raise SchemaError("no usable road lines (all empty, or none with an included "
                          f"status {include_status})", source=source)
    attrs = _read_roads(roads)

    # the lines are their vertices from here on: geometries are made again where needed
    coords = shapely.get_coordinates(parts)
    del geoms
    metric = _Metric(pyproj.CRS(roads.crs), coords)
    quantum = 1e-9 if metric.geographic else 1e-4 / metric.kx
    report = NetworkReport(max_snap_m=max_snap_m)

    report.lines = n_parts = len(road_row)
    line_idx = np.repeat(np.arange(n_parts, dtype=_int_type(len(coords))), n_coords)
    class_code = attrs.road_class.codes[road_row]
    speed = attrs.maxspeed_kph[road_row]
    need = ~np.isfinite(speed)
    if need.any():
        categories = attrs.road_class.categories
        class_speed = np.array([speeds.get(c, np.nan) if isinstance(c, str) else np.nan
                                for c in categories] + [np.nan])  # code -1 (none) last
        missing = np.unique(class_code[need & np.isnan(class_speed[class_code])])
        if len(missing):
            unknown = sorted(str(categories[c]) if c >= 0 else "None" for c in missing)
            raise SchemaError(f"no speed for road class {unknown[0]!r}; give maxspeed_kph or "
                              f"speeds_kph={{{unknown[0]!r}: …}}", source=source,
                              field="class")
        speed = np.where(need, class_speed[class_code], speed)
    rail_code = attrs.road_class.code_of("rail")
    rail = class_code == rail_code if rail_code >= 0 else np.zeros(n_parts, dtype=bool)

    # 1. snap near-miss line ends together
    starts = np.zeros(n_parts, dtype=np.int64)
    np.cumsum(n_coords[:-1], out=starts[1:])
    stops = starts + n_coords - 1
    end_pos = np.concatenate([starts, stops])
    end_line = np.concatenate([np.arange(n_parts), np.arange(n_parts)])
    moved = np.zeros(len(end_pos), dtype=bool)
    keys = _VertexKeys(coords, quantum)
    if snap_tolerance_m > 0:
        target = end_pos[_snap_targets(coords, end_pos, keys, metric, snap_tolerance_m)]
        other = np.flatnonzero(target != end_pos)
        moved[other] = ~np.all(coords[target[other]] == coords[end_pos[other]], axis=1)
        report.snapped_endpoints = int(moved.sum())
        if moved.any():
            coords[end_pos[moved]] = coords[target[moved]]
            keys = _VertexKeys(coords, quantum)

    # 2. ends that touch nothing else join the interior of a nearby line (T-junctions),
    #    then gaps are closed, crossings are split and places attached

    # exact duplicates go (snapping moved both copies alike)
    dropped = _duplicate_parts(coords, line_idx, keys.ids[end_pos], attrs.oneway[road_row])
    if dropped.any():
        kept = ~dropped
        on_kept = kept[line_idx]
        road_row, class_code, speed, rail = road_row[kept], class_code[kept], speed[kept], \
            rail[kept]
        parts = parts[kept]
        moved = moved[np.r_[kept, kept]]
        coords = coords[on_kept]
        line_idx = (np.cumsum(kept, dtype=line_idx.dtype) - 1)[line_idx[on_kept]]
        n_coords = n_coords[kept]
        report.duplicates_dropped = int(dropped.sum())
        report.lines = n_parts = len(road_row)
        starts = np.zeros(n_parts, dtype=np.int64)
        np.cumsum(n_coords[:-1], out=starts[1:])
        stops = starts + n_coords - 1
        end_pos = np.concatenate([starts, stops])
        end_line = np.concatenate([np.arange(n_parts), np.arange(n_parts)])
        keys = _VertexKeys(coords, quantum)
    dangling = keys.uses[keys.ids[end_pos]] == 1
    use_t = snap_tolerance_m > 0 and bool(dangling.any())
    use_gap = gap_tolerance_m > 0 and bool(dangling.any())
    level = attrs.layer[road_row]
    raised = attrs.raised[road_row]
    scaled = coords if metric.kx == metric.ky == 1.0 else metric.scale(coords)
    boxes = None
    if use_t or use_gap or (places is not None and len(places)):
        # the lines' bounds from GEOS (cheap), made again where snapping moved an end
        boxes = shapely.bounds(parts)
        changed = np.flatnonzero(moved[:n_parts] | moved[n_parts:])
        if len(changed):
            take = _ranges(starts[changed], n_coords[changed])
            boxes[changed] = _line_boxes(coords[take], np.r_[0, np.cumsum(n_coords[changed])[:-1]])
        boxes *= np.array([metric.kx, metric.ky, metric.kx, metric.ky])
    del parts
    lines = None
    if use_t or use_gap:
        reach = max(snap_tolerance_m if use_t else 0.0, gap_tolerance_m if use_gap else 0.0)
        lines = _Lines(scaled, starts, stops, boxes, level, raised, rail,
                       near=scaled[end_pos[dangling]], reach=reach)
    unscale = np.array([metric.kx, metric.ky])
    split_frames: list[pd.DataFrame] = []  # in the metric frame
    plain_frames: list[pd.DataFrame] = []  # in the layer's coordinates
    joined = np.zeros(len(end_pos), dtype=bool)
    if use_t:
        ends_scaled = np.zeros((len(end_pos), 2))  # only the dangling ones are read
        ends_scaled[dangling] = metric.scale(coords[end_pos[dangling]])
        frame, ends = _t_junctions(lines, ends_scaled, end_line, dangling, snap_tolerance_m)
        split_frames.append(frame)
        joined[ends] = True
        report.t_junctions = len(frame)
    connectors = np.zeros((0, 2, 2))
    connector_part = np.zeros(0, dtype=np.int64)
    if use_gap:
        joins, gap_splits = _gap_joins(lines, coords, end_pos, end_line, dangling & ~joined,
                                       metric, gap_tolerance_m)
        end = joins["end"].to_numpy(np.int64)
        connector_part = end_line[end]
        at_start = end < n_parts
        start_xy = coords[end_pos[end]]  # exact vertices, not their scaled round trip
        target_xy = joins[["to_x", "to_y"]].to_numpy(float) / unscale
        to_end = joins["to_end"].to_numpy(np.int64)
        target_xy[to_end >= 0] = coords[end_pos[to_end[to_end >= 0]]]
        plain_frames.append(pd.DataFrame({"line": gap_splits["line"].to_numpy(np.int64),
                                          "x": target_xy[to_end < 0, 0],
                                          "y": target_xy[to_end < 0, 1]}))
        # drawn on in the line's direction, so one-way lines stay one-way through the gap
        connectors = np.where(at_start[:, None, None],
                              np.stack([target_xy, start_xy], axis=1),
                              np.stack([start_xy, target_xy], axis=1))
        report.gap_joins = pd.DataFrame({
            "road_id": attrs.id_values(road_row[connector_part]),
            "end": np.where(at_start, "start", "end"), "kind": joins["kind"].to_numpy(),
            "to_road_id": attrs.id_values(road_row[joins["to_line"].to_numpy(np.int64)]),
            "distance_m": joins["distance_m"].to_numpy(float),
            "x": start_xy[:, 0], "y": start_xy[:, 1],
            "to_x": target_xy[:, 0], "to_y": target_xy[:, 1]})[_GAP_COLUMNS]
    del lines, end_pos, end_line, moved, dangling, joined, rail, n_coords
    if node_crossings:
        frame, report.crossings, report.passes_kept = _crossings(
            scaled, line_idx, starts, stops, keys.ids, level, raised,
            ends_exact=snap_tolerance_m > 0)  # snapping gave ends with one id one position
        split_frames.append(frame)
    split_frames = [f for f in split_frames if len(f)]
    splits = (pd.concat(split_frames, ignore_index=True) if split_frames
              else pd.DataFrame(columns=["line", "x", "y"]))
    if len(splits):  # back from the metric frame
        splits = splits.assign(x=splits["x"].to_numpy(float) / metric.kx,
                               y=splits["y"].to_numpy(float) / metric.ky)
    plain_frames = [f for f in plain_frames if len(f)]
    if plain_frames:
        splits = pd.concat([s for s in (splits, *plain_frames) if len(s)], ignore_index=True)
    attach = pd.DataFrame(columns=["id", "line", "x", "y", "snap_m"])
    if places is not None and len(places):
        if places.crs is None:
            raise SchemaError("places need a CRS", source="places")
        places = places.to_crs(roads.crs).reset_index(drop=True)
        place_splits, attach, report.unattached = _attach_splits(
            scaled, starts, stops, boxes, places, metric, max_snap_m)
        splits = pd.concat([s for s in (splits, place_splits) if len(s)] or [splits],
                           ignore_index=True)
        if len(report.unattached):
            logger.warning("%s: %s", source, _unattached_text(report.unattached, max_snap_m))
    del scaled, boxes
    if len(splits):
        hit, slot = np.unique(splits["line"].to_numpy(np.int64), return_inverse=True)
        lines_hit = _linestrings(coords, starts, stops, hit)[slot]
        pts = shapely.points(splits[["x", "y"]].to_numpy(float))
        # positions in plain coordinate units, as _insert_vertices measures them
        splits = splits.assign(line=splits["line"].to_numpy(np.int64),
                               along=shapely.line_locate_point(lines_hit, pts))
    if len(connectors):  # connectors become parts of their own after the real ones
        coords = np.vstack([coords, connectors.reshape(-1, 2)])
        line_idx = np.r_[line_idx, np.repeat(np.arange(len(connectors)) + n_parts, 2)
                         ].astype(_int_type(len(coords)))
        road_row = np.r_[road_row, road_row[connector_part]]
        class_code = np.r_[class_code, class_code[connector_part]]
        speed = np.r_[speed, speed[connector_part]]
    if len(splits):
        coords, line_idx = _insert_vertices(coords, line_idx, splits)
        line_idx = line_idx.astype(_int_type(len(coords)))
    if len(splits) or len(connectors):
        keys = _VertexKeys(coords, quantum)

    # 3. vertices become nodes where lines end or share a vertex
    vertex_id = keys.ids
    dup = np.zeros(len(coords), dtype=bool)
    dup[1:] = (vertex_id[1:] == vertex_id[:-1]) & (line_idx[1:] == line_idx[:-1])
    shared = keys.uses > 1
    if dup.any():
        coords, line_idx, vertex_id = coords[~dup], line_idx[~dup], vertex_id[~dup]
        shared = np.bincount(vertex_id, minlength=keys.count) > 1
    del dup
    is_end = np.ones(len(coords), dtype=bool)
    is_end[1:-1] = (line_idx[2:] != line_idx[1:-1]) | (line_idx[:-2] != line_idx[1:-1])
    is_node_vertex = is_end | shared[vertex_id]
    del is_end, shared
    if len(attach):
        attach_ids = keys.lookup(attach[["x", "y"]].to_numpy(float))
        is_node_vertex |= np.isin(vertex_id, attach_ids)
    node_of_vertex = np.full(keys.count, -1, dtype=_int_type(keys.count))
    marked = np.zeros(keys.count, dtype=bool)
    marked[vertex_id[is_node_vertex]] = True
    node_vertices = np.flatnonzero(marked)  # sorted unique ids, without a hash or a sort
    del marked
    node_of_vertex[node_vertices] = np.arange(len(node_vertices))
    first_pos = np.empty(keys.count, dtype=_int_type(len(vertex_id)))
    first_pos[vertex_id[::-1]] = np.arange(len(vertex_id), dtype=first_pos.dtype)[::-1]
    node_xy = coords[first_pos[node_vertices]]
    del first_pos, node_vertices

    # 4. edges run between consecutive node vertices of a line
    npos = np.flatnonzero(is_node_vertex)
    del is_node_vertex
    same_line = line_idx[npos[1:]] == line_idx[npos[:-1]]
    a, b = npos[:-1][same_line], npos[1:][same_line]
    del npos, same_line
    u = node_of_vertex[vertex_id[a]]
    v = node_of_vertex[vertex_id[b]]
    placed_nodes = node_of_vertex[attach_ids] if len(attach) else None
    del node_of_vertex, vertex_id
    part = line_idx[a]
    row = road_row[part]
    # drawn length: a running sum of segment lengths, in blocks (no vertex-sized temporaries)
    run = np.zeros(len(coords))
    for i in range(0, len(coords) - 1, _BLOCK):
        j = min(i + _BLOCK, len(coords) - 1)
        same = line_idx[i + 1:j + 1] == line_idx[i:j]
        if metric.geographic:
            _, _, dist = GEOD.inv(coords[i:j, 0], coords[i:j, 1], coords[i + 1:j + 1, 0],
                                  coords[i + 1:j + 1, 1])
            run[i:j] = np.where(same, dist, 0.0)
        else:
            run[i:j] = np.where(same, np.hypot(coords[i + 1:j + 1, 0] - coords[i:j, 0],
                                               coords[i + 1:j + 1, 1] - coords[i:j, 1]),
                                0.0) * metric.kx
    del line_idx
    np.cumsum(run, out=run)  # run[i]: the length drawn up to vertex i + 1
    length = run[b - 1] - np.where(a > 0, run[a - 1], 0.0)
    del run
    documented = attrs.length_m[row]
    drawn_line = part < n_parts  # connectors keep the length of the gap
    has_doc = np.isfinite(documented) & drawn_line
    if has_doc.any():
        drawn = np.bincount(row[drawn_line], weights=length[drawn_line], minlength=len(roads))
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(drawn[row] > 0, documented / drawn[row], 1.0)
        length = np.where(has_doc, length * factor, length)
    keep = ~((u == v) & (length <= 0))
    if not keep.all():
        u, v, a, b, part, row, length, drawn_line = (
            u[keep], v[keep], a[keep], b[keep], part[keep], row[keep], length[keep],
            drawn_line[keep])
    edge_speed = speed[part]
    table, geom_first, geom_last = _edge_table(
        u, v, a, b, length, edge_speed, row, class_code[part], drawn_line, attrs,
        n_nodes=len(node_xy))

    placed: dict[str, int] = {}
    if len(attach):
        placed = dict(zip(attach["id"].astype(str), placed_nodes.tolist(), strict=True))
        attach = attach.assign(node=placed_nodes)[["id", "node", "snap_m"]]
    net = RoadNetwork(node_x=node_xy[:, 0], node_y=node_xy[:, 1], table=table,
                      crs=pyproj.CRS(roads.crs), coords=coords, geom_first=geom_first,
                      geom_last=geom_last, places=placed, report=report)
    report.nodes, report.edges = net.n_nodes, len(table)
    report.components = _component_sizes(table["u"].to_numpy(), table["v"].to_numpy(),
                                         net.n_nodes)
    report.attachments = attach.reset_index(drop=True)
    logger.info("network: %s", report)
    return net


def _stable_argsort(keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """``np.argsort(keys, kind="stable")``: the fast unstable sort, then ties put in order."""
    order = np.argsort(keys)
    tie = keys[order[1:]] == keys[order[:-1]]
    if tie.any():
        run = np.zeros(len(order), dtype=bool)
        run[1:] |= tie
        run[:-1] |= tie
        pos = np.flatnonzero(run)
        sub = order[pos]
        order[pos] = sub[np.lexsort((sub, keys[sub]))]
    return order


def _edge_table(u: NDArray[np.int64], v: NDArray[np.int64], a: NDArray[np.int64],
                b: NDArray[np.int64], length: NDArray[np.float64], speed: NDArray[np.float64],
                row: NDArray[np.int64], class_code: NDArray[np.signedinteger],
                drawn: NDArray[np.bool_], attrs: _Roads, *, n_nodes: int
                ) -> tuple[pd.DataFrame, NDArray[np.integer], NDArray[np.integer]]:
    """Build the directed edge table, sorted by ``u`` then ``v``, and each edge's vertex range.

    ``u``… ``drawn`` describe the edges as drawn (one per line piece between two nodes,
    ``row`` the road); a two-way road adds the reverse edge. Attributes are gathered by
    road into compact columns (codes, not objects).
    """
    two_way = np.flatnonzero(~attrs.oneway[row])
    forward = len(u)
    u, v = u.astype(np.int64), v.astype(np.int64)
    pair = np.concatenate([u * n_nodes + v, v[two_way] * n_nodes + u[two_way]])
    shift = len(pair).bit_length()
    if (n_nodes * n_nodes).bit_length() + shift <= 63:
        # one sort of the pair keys with the position in the low bits: stable, no arg sort
        pair <<= shift
        pair |= np.arange(len(pair))
        pair.sort()
        order = pair & ((1 << shift) - 1)
        pair >>= shift
    else:
        order = _stable_argsort(pair)  # the same order as a stable sort by (u, v)
        pair = pair[order]
    back = order >= forward
    edge = np.r_[np.arange(forward), two_way][order]  # the drawn edge of each edge
    del order
    index = _int_type(max(n_nodes, int(b.max(initial=0)) + 1))
    a, b = a.astype(index)[edge], b.astype(index)[edge]
    first, last = np.where(back, b, a), np.where(back, a, b)  # reversed for reverse edges
    del back, a, b
    repeat = np.flatnonzero(pair[1:] == pair[:-1]) + 1  # parallel edges after the first
    if len(repeat):
        group = np.ones(len(pair), dtype=bool)
        group[repeat] = False
        key = np.arange(len(pair)) - np.maximum.accumulate(
            np.where(group, np.arange(len(pair)), 0))
        del group
    else:
        key = np.zeros(len(pair), dtype=np.int8)
    edge_u = (pair // n_nodes).astype(index)
    edge_v = (pair % n_nodes).astype(index)
    del pair
    road = row[edge]
    edge_length = length[edge]
    edge_speed = speed[edge]
    osm = attrs.osm_id.codes[road]
    osm[~drawn[edge]] = -1  # a connector is no OSM way
    columns = {
        "u": edge_u, "v": edge_v, "length": edge_length,
        "travel_time": edge_length / (edge_speed / 3.6), "speed_kph": edge_speed,
        "road_id": attrs.ids.take(road), "ref": attrs.ref.column(road),
        "name": attrs.name.column(road),
        "class": _categorical(class_code[edge], attrs.road_class.categories),
        "highway": _osm_highway(attrs).column(road),
        "osm_id": _categorical(osm, attrs.osm_id.categories),
        "oneway": attrs.oneway[road], "lanes": attrs.lanes[road].astype(np.float32),
        "key": key.astype(_code_dtype(int(key.max(initial=0)) + 1)),
    }
    return pd.DataFrame(columns, copy=False), first, last


def _component_sizes(u: NDArray[np.integer], v: NDArray[np.integer], n_nodes: int
                     ) -> list[int]:
    """Sizes of the weakly connected components, largest first."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    index = np.int32 if max(n_nodes, len(u)) < 2**31 - 1 else np.int64
    indptr = np.zeros(n_nodes + 1, dtype=index)
    np.cumsum(np.bincount(u, minlength=n_nodes), out=indptr[1:])  # u is sorted
    graph = sparse.csr_matrix((np.ones(len(u)), v.astype(index, copy=False), indptr),
                              shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=True, connection="weak")
    return sorted(np.bincount(labels).tolist(), reverse=True)


def network_from_graph(graph: nx.MultiDiGraph, *, weight_speed_kph: float | None = None
                       ) -> RoadNetwork:
    """Wrap a NetworkX/OSMnx ``MultiDiGraph`` as a :class:`RoadNetwork`.

    Parameters
    ----------
    graph
        Nodes with ``x``/``y``, edges with ``length`` (m) and ``travel_time`` (s); missing
        ``travel_time`` is computed from ``speed_kph`` or ``weight_speed_kph``. Graph
        attribute ``crs`` (default EPSG:4326).
    weight_speed_kph
        Speed for edges that have neither ``travel_time`` nor ``speed_kph``.

    Returns
    -------
    RoadNetwork
        Node ids are renumbered 0..n-1; the original id is kept in ``places`` when it
        is a string, and ``network.node_ids`` maps back.
    """
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    try:
        x = np.array([graph.nodes[n]["x"] for n in nodes], dtype=float)
        y = np.array([graph.nodes[n]["y"] for n in nodes], dtype=float)
    except KeyError as exc:
        raise SchemaError("every graph node needs 'x' and 'y'", source="graph") from exc
    rows = []
    geoms = []
    for u, v, k, data in graph.edges(keys=True, data=True):
        if "length" not in data:
            raise SchemaError(f"edge ({u}, {v}, {k}) has no 'length'", source="graph")
        speed = data.get("speed_kph", weight_speed_kph)
        tt = data.get("travel_time")
        if tt is None:
            if speed is None:
                raise SchemaError(f"edge ({u}, {v}, {k}) has no 'travel_time' or 'speed_kph'; "
                                  f"pass weight_speed_kph", source="graph")
            tt = float(data["length"]) / (float(speed) / 3.6)
        if speed is None:
            speed = float(data["length"]) / float(tt) * 3.6 if tt else np.nan
        highway = data.get("highway")
        highway = highway[0] if isinstance(highway, list) else highway
        osmid = data.get("osmid")
        osmid = osmid[0] if isinstance(osmid, list) else osmid
        rows.append((index[u], index[v], int(k), float(data["length"]), float(tt),
                     float(speed), data.get("road_id", osmid), data.get("ref"),
                     data.get("name"), data.get("road_class", highway), highway,
                     osmid if isinstance(osmid, (int, np.integer)) else None,
                     bool(data.get("oneway", False))))
        geom = data.get("geometry")
        if geom is None:
            geom = shapely.linestrings([[x[index[u]], y[index[u]]], [x[index[v]], y[index[v]]]])
        geoms.append(geom)
    table = pd.DataFrame(rows, columns=["u", "v", "key", "length", "travel_time", "speed_kph",
                                        "road_id", "ref", "name", "class", "highway", "osm_id",
                                        "oneway"])
    table["osm_id"] = pd.array(table["osm_id"].tolist(), dtype="Int64")
    crs = pyproj.CRS(graph.graph.get("crs", "EPSG:4326"))
    coords, index = shapely.get_coordinates(np.array(geoms, dtype=object), return_index=True)
    first = np.searchsorted(index, np.arange(len(geoms)))
    last = np.r_[first[1:], len(coords)] - 1
    net = RoadNetwork(node_x=x, node_y=y, table=table, crs=crs, coords=coords,
                      geom_first=first, geom_last=last)
    net.node_ids = np.array(nodes, dtype=object)
    net.report.nodes, net.report.edges = len(nodes), len(table)
    return net
