"""Road layers → a routable network (NetworkX in OSMnx conventions + compiled arrays).

:func:`build_network` nodes plain LineString layers: lines meet where they share an
endpoint or a vertex, near-miss endpoints within a tolerance are snapped together, lines
that cross are split at the crossing (unless ``node_crossings=False`` for over/under
passes), and gates and hubs are attached by splitting the nearest road at the foot of the
perpendicular. Each edge gets ``length`` (m) and ``travel_time`` (s) from ``maxspeed_kph``
or a road-class speed table.

The :class:`RoadNetwork` holds the edge table (arrays, one row per directed edge) from which
the NetworkX ``MultiDiGraph`` (graph ``crs``, node ``x``/``y``, edge ``length``,
``travel_time``, ``geometry``) and the compiled scipy CSR matrices are derived.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from bordergeo.crs import GEOD
from bordergeo.errors import BorderGeoError, SchemaError

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


def _columns(roads: gpd.GeoDataFrame, n: int) -> dict[str, NDArray]:
    def col(name: str, default: object) -> NDArray:
        if name in roads.columns:
            return roads[name].to_numpy()
        if isinstance(default, float):  # numeric columns: no object array to convert
            return np.full(n, default)
        return np.full(n, default, dtype=object)

    road_class = col("class", None)
    if "class" not in roads.columns and "highway" in roads.columns:
        road_class = roads["highway"].to_numpy()
    ids = col("id", None)
    if "id" not in roads.columns:
        ids = np.arange(n).astype(str).astype(object)
    oneway = pd.array(col("oneway", False)).astype("boolean").fillna(False).to_numpy(bool)
    speed = pd.to_numeric(pd.Series(col("maxspeed_kph", np.nan)), errors="coerce").to_numpy(float)
    documented = pd.to_numeric(pd.Series(col("length_m", np.nan)), errors="coerce").to_numpy(float)
    status = col("status", "open")
    lanes = pd.to_numeric(pd.Series(col("lanes", np.nan)), errors="coerce").to_numpy(float)
    layer = pd.to_numeric(pd.Series(col("layer", np.nan)), errors="coerce").fillna(0.0)
    osm_name = "osm_id" if "osm_id" in roads.columns else "osmid"
    osm_id = (pd.to_numeric(pd.Series(col(osm_name, np.nan)), errors="coerce")
              .astype("Float64").to_numpy(float, na_value=np.nan))
    osm_id[~(osm_id == np.round(osm_id))] = np.nan  # only whole numbers are OSM ids
    return {"road_id": ids.astype(object), "ref": col("ref", None), "name": col("name", None),
            "class": road_class, "oneway": oneway, "maxspeed_kph": speed,
            "length_m": documented, "status": status, "lanes": lanes,
            "highway": col("highway", None), "osm_id": osm_id,
            "layer": layer.to_numpy(float),
            "bridge": _flag(roads, "bridge"), "tunnel": _flag(roads, "tunnel")}


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


class _VertexKeys:
    """Integer ids of coordinates, equal when two points lie within one quantum.

    Coordinates are quantised (0.1 mm, or 1e-9 degree) and factorised as integers, which
    is much faster than hashing float pairs.
    """

    def __init__(self, coords: NDArray[np.float64], quantum: float) -> None:
        self.quantum = quantum
        qx = np.round(coords[:, 0] / quantum).astype(np.int64)
        qy = np.round(coords[:, 1] / quantum).astype(np.int64)
        self._x0, self._y0 = (int(qx.min()), int(qy.min())) if len(qx) else (0, 0)
        self._span_y = int(qy.max()) - self._y0 + 1 if len(qy) else 1
        span_x = int(qx.max()) - self._x0 + 1 if len(qx) else 1
        self._packed = span_x * self._span_y < 2**62
        if self._packed:  # one integer per point: a single hash pass
            combined = (qx - self._x0) * self._span_y + (qy - self._y0)
        else:
            fx, self._ux = pd.factorize(qx)
            fy, self._uy = pd.factorize(qy)
            self._span_y = len(self._uy)
            combined = fx.astype(np.int64) * self._span_y + fy
        self.ids, self._keys = pd.factorize(combined)

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
        return pd.Index(self._keys).get_indexer(key)


def _cluster_representatives(points: NDArray[np.float64], pairs: NDArray[np.int64],
                             quantum: float) -> NDArray[np.int64]:
    """Map each point to one member of its cluster (pairs = points within tolerance).

    The representative is the member whose exact coordinate is shared by most points
    (an existing junction stays where it is), then the first.
    """
    n = len(points)
    if len(pairs) == 0:
        return np.arange(n)
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    same = _VertexKeys(points, quantum).ids
    multiplicity = np.bincount(same)[same]
    order = np.lexsort((np.arange(n), -multiplicity, labels))
    first = np.r_[True, labels[order][1:] != labels[order][:-1]]
    rep = np.empty(labels.max() + 1, dtype=np.int64)
    rep[labels[order][first]] = order[first]
    return rep[labels]


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
        One row per directed edge: ``u``, ``v``, ``key``, ``length`` (m),
        ``travel_time`` (s), ``speed_kph``, ``road_id``, ``ref``, ``name``, ``class``,
        ``highway`` (OSM's value), ``osm_id`` (nullable integer, OSM ways only),
        ``oneway``, ``lanes`` (both directions, NaN if unknown). Gap connectors are edges
        with their dangling road's attributes. :attr:`edges` adds the geometry.
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
    geom_first: NDArray[np.int64]
    geom_last: NDArray[np.int64]
    places: dict[str, int] = field(default_factory=dict)
    report: NetworkReport = field(default_factory=NetworkReport)
    node_ids: NDArray[np.object_] | None = None

    def edge_geometries(self, rows: NDArray[np.int64] | None = None) -> NDArray[np.object_]:
        """Build the LineStrings of some edges (all by default), drawn from u to v.

        Geometries are made on demand from one shared coordinate array: an edge is the
        vertex range ``geom_first..geom_last`` (descending when the edge runs against
        the digitised direction).
        """
        first = self.geom_first if rows is None else self.geom_first[rows]
        last = self.geom_last if rows is None else self.geom_last[rows]
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

    def _cheapest(self, weight: str | NDArray[np.float64],
                  edge_mask: NDArray[np.bool_] | None = None
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Cheapest edge row of each (u, v) pair, sorted by pair key, and the pair keys."""
        if edge_mask is None and isinstance(weight, str) and weight == "travel_time":
            return self._travel_time_pairs
        w = self._weights(weight)
        keep = np.flatnonzero(np.ones(len(w), bool) if edge_mask is None else edge_mask)
        u = self.table["u"].to_numpy(np.int64)[keep]
        v = self.table["v"].to_numpy(np.int64)[keep]
        order = np.lexsort((w[keep], v, u))
        pair = u[order] * self.n_nodes + v[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        return keep[order[first]], pair[first]

    @cached_property
    def _travel_time_pairs(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        return self._cheapest(self.table["travel_time"].to_numpy(float))

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
        chosen, _ = self._cheapest(weight, edge_mask)
        u = self.table["u"].to_numpy(np.int64)[chosen]
        v = self.table["v"].to_numpy(np.int64)[chosen]
        w = self._weights(weight)[chosen]
        if transpose:
            u, v = v, u
        return sparse.csr_matrix((w, (u, v)), shape=(self.n_nodes, self.n_nodes))

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
        g = nx.MultiDiGraph(crs=self.crs.to_string())
        degree = np.bincount(np.concatenate([self.table["u"].to_numpy(),
                                             self.table["v"].to_numpy()]),
                             minlength=self.n_nodes)
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
        _, labels = connected_components(self.travel_time_csr, directed=True,
                                         connection="strong")
        biggest = np.bincount(labels).argmax()
        return np.flatnonzero(labels == biggest)


def _attach_splits(lines: NDArray[np.object_], places: gpd.GeoDataFrame, metric: _Metric,
                   max_snap_m: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Foot of the perpendicular from each place onto its nearest line.

    Returns the splits, the attachments and the places farther than ``max_snap_m``
    (``id``, ``distance_m``), which are left out of the first two.
    """
    pts = places.geometry.to_numpy()
    scaled_lines = shapely.transform(lines, metric.scale)
    scaled_pts = shapely.transform(pts, metric.scale)
    tree = shapely.STRtree(scaled_lines)
    (pidx, lidx), dist = tree.query_nearest(scaled_pts, return_distance=True, all_matches=False)
    order = np.argsort(pidx)
    pidx, lidx, dist = pidx[order], lidx[order], dist[order]
    if len(pidx) < len(pts):
        missing = sorted(set(range(len(pts))) - set(pidx.tolist()))
        raise BorderGeoError(f"place {places['id'].iloc[missing[0]]!r} has no road near it")
    near = dist <= max_snap_m
    unattached = pd.DataFrame({"id": places["id"].to_numpy()[pidx[~near]],
                               "distance_m": dist[~near]})
    pidx, lidx, dist = pidx[near], lidx[near], dist[near]
    along_scaled = shapely.line_locate_point(scaled_lines[lidx], scaled_pts[pidx])
    foot = shapely.line_interpolate_point(scaled_lines[lidx], along_scaled)
    xy = shapely.get_coordinates(foot).reshape(-1, 2) / np.array([metric.kx, metric.ky])
    splits = pd.DataFrame({"line": lidx, "x": xy[:, 0], "y": xy[:, 1]})
    attach = pd.DataFrame({"id": places["id"].to_numpy()[pidx], "line": lidx,
                           "x": xy[:, 0], "y": xy[:, 1], "snap_m": dist})
    return splits, attach, unattached


class _Lines:
    """The line parts in the local metric frame, with their spatial index (built once).

    ``level`` (the ``layer`` value) and ``raised`` (bridge or tunnel) decide which lines may
    be joined: a line end joins the interior of another line only on the same level and
    never the middle of a bridge or tunnel; crossings of lines on different levels, or of
    a bridge or tunnel, are over/under passes. ``rail`` keeps gap joins within one mode.
    """

    def __init__(self, lines: NDArray[np.object_], metric: _Metric,
                 level: NDArray[np.float64], raised: NDArray[np.bool_],
                 rail: NDArray[np.bool_]) -> None:
        self.scaled = (lines if metric.kx == metric.ky == 1.0
                       else shapely.transform(lines, metric.scale))
        self.tree = shapely.STRtree(self.scaled)
        self.level, self.raised, self.rail = level, raised, rail

    def candidates(self, pts: NDArray[np.float64], own: NDArray[np.int64], distance: float,
                   *, same_mode: bool = False
                   ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64],
                              NDArray[np.float64]]:
        """Every other joinable line within ``distance`` of each point (scaled coordinates).

        Returns the point and line of each pair, the foot of the perpendicular on the line
        and the distance to it.
        """
        geoms = shapely.points(pts)
        pi, li = self.tree.query(geoms, predicate="dwithin", distance=distance)
        keep = ((li != own[pi]) & (self.level[li] == self.level[own[pi]])
                & ~self.raised[li])
        if same_mode:
            keep &= self.rail[li] == self.rail[own[pi]]
        pi, li = pi[keep], li[keep]
        along = shapely.line_locate_point(self.scaled[li], geoms[pi])
        foot = shapely.get_coordinates(
            shapely.line_interpolate_point(self.scaled[li], along)).reshape(-1, 2)
        return pi, li, foot, np.hypot(*(foot - pts[pi]).T)

    def crossed(self, a: NDArray[np.float64], b: NDArray[np.float64],
                line_a: NDArray[np.int64], line_b: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether the segment a→b crosses a line other than ``line_a`` and ``line_b``."""
        if len(a) == 0:
            return np.zeros(0, dtype=bool)
        segments = shapely.linestrings(np.stack([a, b], axis=1))
        si, li = self.tree.query(segments, predicate="crosses")
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


def _crossings(lines: _Lines) -> tuple[pd.DataFrame, int, int]:
    """Points where two lines cross on the same level (scaled), and the passes left apart."""
    a, b = lines.tree.query(lines.scaled, predicate="crosses")
    keep = a < b
    a, b = a[keep], b[keep]
    flat = (lines.level[a] == lines.level[b]) & ~lines.raised[a] & ~lines.raised[b]
    passes = int((~flat).sum())
    a, b = a[flat], b[flat]
    if len(a) == 0:
        return pd.DataFrame(columns=["line", "x", "y"]), 0, passes
    inter = shapely.intersection(lines.scaled[a], lines.scaled[b])
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
    the ends; one hash pass); only those are compared vertex by vertex.
    """
    n = len(oneway)
    s, e = end_keys[:n].astype(np.int64), end_keys[n:].astype(np.int64)
    lo = np.where(oneway, s, np.minimum(s, e))
    hi = np.where(oneway, e, np.maximum(s, e))
    key = (lo * (int(end_keys.max()) + 1) + hi) * 2 + oneway
    cand = np.flatnonzero(pd.Series(key).duplicated(keep=False).to_numpy())
    dropped = np.zeros(n, dtype=bool)
    if len(cand) == 0:
        return dropped
    on_cand = np.isin(line_idx, cand)
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
        ``tunnel``, are never split (OSM semantics). Finding crossings is the costly
        step on big layers (about 11 s more for 1M edges); lines that already meet at
        their ends do not need it.
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
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    kinds = shapely.get_type_id(geoms)
    if not np.isin(kinds[valid], (1, 5)).all():
        raise SchemaError("road geometries must be LineStrings or MultiLineStrings",
                          source=source, field="geometry")
    if (kinds[valid] == 1).all():  # no multi-part lines: skip the split
        parts, part_of = geoms[valid], np.arange(int(valid.sum()))
    else:
        parts, part_of = shapely.get_parts(geoms[valid], return_index=True)
    road_row = np.flatnonzero(valid)[part_of]
    if shapely.has_z(parts).any():
        parts = shapely.force_2d(parts)
    keep = shapely.get_num_coordinates(parts) >= 2
    parts, road_row = parts[keep], road_row[keep]
    if len(parts) == 0:
        raise SchemaError("no usable road lines (all empty, or none with an included "
                          f"status {include_status})", source=source)
    attrs = _columns(roads, len(roads))

    coords, line_idx = shapely.get_coordinates(parts, return_index=True)
    metric = _Metric(pyproj.CRS(roads.crs), coords)
    quantum = 1e-9 if metric.geographic else 1e-4 / metric.kx
    report = NetworkReport(max_snap_m=max_snap_m)

    report.lines = n_parts = len(parts)
    road_class = attrs["class"][road_row]
    speed = attrs["maxspeed_kph"][road_row].copy()
    need = ~np.isfinite(speed)
    unknown = sorted({str(c) for c in road_class[need] if c not in speeds})
    if unknown:
        raise SchemaError(f"no speed for road class {unknown[0]!r}; give maxspeed_kph or "
                          f"speeds_kph={{{unknown[0]!r}: …}}", source=source, field="class")
    speed[need] = [speeds[c] for c in road_class[need]]

    # 1. snap near-miss line ends together
    starts = np.searchsorted(line_idx, np.arange(n_parts))
    stops = np.r_[starts[1:], len(coords)] - 1
    end_pos = np.concatenate([starts, stops])
    end_line = np.concatenate([np.arange(n_parts), np.arange(n_parts)])
    moved = np.zeros(len(end_pos), dtype=bool)
    if snap_tolerance_m > 0:
        from scipy.spatial import cKDTree

        ends_scaled = metric.scale(coords[end_pos])
        pairs = cKDTree(ends_scaled).query_pairs(snap_tolerance_m, output_type="ndarray")
        rep = _cluster_representatives(coords[end_pos], pairs, quantum)
        moved = ~np.all(coords[end_pos[rep]] == coords[end_pos], axis=1)
        report.snapped_endpoints = int(moved.sum())
        coords[end_pos] = coords[end_pos[rep]]

    # 2. ends that touch nothing else join the interior of a nearby line (T-junctions),
    #    then gaps are closed, crossings are split and places attached
    keys = _VertexKeys(coords, quantum)

    # exact duplicates go (snapping moved both copies alike)
    dropped = _duplicate_parts(coords, line_idx, keys.ids[end_pos],
                               attrs["oneway"][road_row])
    if dropped.any():
        kept = ~dropped
        on_kept = kept[line_idx]
        parts, road_row = parts[kept], road_row[kept]
        road_class, speed, moved = road_class[kept], speed[kept], moved[np.r_[kept, kept]]
        coords, line_idx = coords[on_kept], (np.cumsum(kept) - 1)[line_idx[on_kept]]
        report.duplicates_dropped = int(dropped.sum())
        report.lines = n_parts = len(parts)
        starts = np.searchsorted(line_idx, np.arange(n_parts))
        stops = np.r_[starts[1:], len(coords)] - 1
        end_pos = np.concatenate([starts, stops])
        end_line = np.concatenate([np.arange(n_parts), np.arange(n_parts)])
        keys = _VertexKeys(coords, quantum)
    dangling = np.bincount(keys.ids)[keys.ids[end_pos]] == 1
    use_t = snap_tolerance_m > 0 and bool(dangling.any())
    use_gap = gap_tolerance_m > 0 and bool(dangling.any())
    split_lines = parts
    if moved.any():  # rebuild only the lines whose ends moved
        changed = np.zeros(n_parts, dtype=bool)
        changed[end_line[moved]] = True
        on_changed = changed[line_idx]
        split_lines = parts.copy()
        split_lines[changed] = shapely.linestrings(
            coords[on_changed],
            indices=np.searchsorted(np.flatnonzero(changed), line_idx[on_changed]))
    lines = None
    if node_crossings or use_t or use_gap:
        lines = _Lines(split_lines, metric, attrs["layer"][road_row],
                       (attrs["bridge"] | attrs["tunnel"])[road_row], road_class == "rail")
    unscale = np.array([metric.kx, metric.ky])
    split_frames: list[pd.DataFrame] = []  # in the metric frame
    plain_frames: list[pd.DataFrame] = []  # in the layer's coordinates
    joined = np.zeros(len(end_pos), dtype=bool)
    if use_t:
        frame, ends = _t_junctions(lines, metric.scale(coords[end_pos]), end_line, dangling,
                                   snap_tolerance_m)
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
            "road_id": attrs["road_id"][road_row[connector_part]],
            "end": np.where(at_start, "start", "end"), "kind": joins["kind"].to_numpy(),
            "to_road_id": attrs["road_id"][road_row[joins["to_line"].to_numpy(np.int64)]],
            "distance_m": joins["distance_m"].to_numpy(float),
            "x": start_xy[:, 0], "y": start_xy[:, 1],
            "to_x": target_xy[:, 0], "to_y": target_xy[:, 1]})[_GAP_COLUMNS]
    if node_crossings:
        frame, report.crossings, report.passes_kept = _crossings(lines)
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
        place_splits, attach, report.unattached = _attach_splits(split_lines, places, metric,
                                                                 max_snap_m)
        splits = pd.concat([s for s in (splits, place_splits) if len(s)] or [splits],
                           ignore_index=True)
        if len(report.unattached):
            logger.warning("%s: %s", source, _unattached_text(report.unattached, max_snap_m))
    if len(splits):
        lines_hit = split_lines[splits["line"].to_numpy(np.int64)]
        pts = shapely.points(splits[["x", "y"]].to_numpy(float))
        # positions in plain coordinate units, as _insert_vertices measures them
        splits = splits.assign(line=splits["line"].to_numpy(np.int64),
                               along=shapely.line_locate_point(lines_hit, pts))
    if len(connectors):  # connectors become parts of their own after the real ones
        coords = np.vstack([coords, connectors.reshape(-1, 2)])
        line_idx = np.r_[line_idx, np.repeat(np.arange(len(connectors)) + n_parts, 2)]
        road_row = np.r_[road_row, road_row[connector_part]]
        road_class = np.r_[road_class, road_class[connector_part]]
        speed = np.r_[speed, speed[connector_part]]
    if len(splits):
        coords, line_idx = _insert_vertices(coords, line_idx, splits)
    if len(splits) or len(connectors):
        keys = _VertexKeys(coords, quantum)

    # 3. vertices become nodes where lines end or share a vertex
    vertex_id = keys.ids
    dup = np.zeros(len(coords), dtype=bool)
    dup[1:] = (vertex_id[1:] == vertex_id[:-1]) & (line_idx[1:] == line_idx[:-1])
    coords, line_idx, vertex_id = coords[~dup], line_idx[~dup], vertex_id[~dup]
    is_end = np.ones(len(coords), dtype=bool)
    is_end[1:-1] = (line_idx[2:] != line_idx[1:-1]) | (line_idx[:-2] != line_idx[1:-1])
    uses = np.bincount(vertex_id, minlength=keys.count)
    is_node_vertex = is_end | (uses[vertex_id] > 1)
    if len(attach):
        attach_ids = keys.lookup(attach[["x", "y"]].to_numpy(float))
        is_node_vertex |= np.isin(vertex_id, attach_ids)
    node_of_vertex = np.full(keys.count, -1, dtype=np.int64)
    marked = np.zeros(keys.count, dtype=bool)
    marked[vertex_id[is_node_vertex]] = True
    node_vertices = np.flatnonzero(marked)  # sorted unique ids, without a hash or a sort
    node_of_vertex[node_vertices] = np.arange(len(node_vertices))
    first_pos = np.empty(keys.count, dtype=np.int64)
    first_pos[vertex_id[::-1]] = np.arange(len(vertex_id))[::-1]
    node_xy = coords[first_pos[node_vertices]]

    # 4. edges run between consecutive node vertices of a line
    npos = np.flatnonzero(is_node_vertex)
    same_line = line_idx[npos[1:]] == line_idx[npos[:-1]]
    a, b = npos[:-1][same_line], npos[1:][same_line]
    u = node_of_vertex[vertex_id[a]]
    v = node_of_vertex[vertex_id[b]]
    part = line_idx[a]
    row = road_row[part]
    same = np.r_[line_idx[1:] == line_idx[:-1], False]
    seg = np.zeros(len(coords))
    if metric.geographic:
        _, _, dist = GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
        seg[:-1] = np.where(same[:-1], dist, 0.0)
    else:
        seg[:-1] = np.where(same[:-1], np.hypot(*(coords[1:] - coords[:-1]).T), 0.0) * metric.kx
    cum = np.r_[0.0, np.cumsum(seg)]
    length = cum[b] - cum[a]
    documented = attrs["length_m"][row]
    drawn_line = part < n_parts  # connectors keep the length of the gap
    has_doc = np.isfinite(documented) & drawn_line
    if has_doc.any():
        drawn = np.bincount(row[drawn_line], weights=length[drawn_line], minlength=len(roads))
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(drawn[row] > 0, documented / drawn[row], 1.0)
        length = np.where(has_doc, length * factor, length)
    loop = (u == v) & (length <= 0)
    keep = ~loop
    edge_speed = speed[part][keep]
    osm_id = attrs["osm_id"][row][keep]
    osm_id[~drawn_line[keep]] = np.nan  # a connector is no OSM way
    forward = pd.DataFrame({
        "u": u[keep], "v": v[keep], "length": length[keep],
        "travel_time": length[keep] / (edge_speed / 3.6), "speed_kph": edge_speed,
        "road_id": attrs["road_id"][row][keep], "ref": attrs["ref"][row][keep],
        "name": attrs["name"][row][keep], "class": road_class[part][keep],
        "highway": _osm_highway(attrs["highway"], road_class, road_row)[part][keep],
        "osm_id": pd.array(osm_id, dtype="Float64").astype("Int64"),
        "oneway": attrs["oneway"][row][keep], "lanes": attrs["lanes"][row][keep],
    })
    two_way = ~forward["oneway"].to_numpy(bool)
    backward = forward[two_way].rename(columns={"u": "v", "v": "u"})
    table = pd.concat([forward, backward[forward.columns]], ignore_index=True)
    geom_first = np.concatenate([a[keep], b[keep][two_way]])
    geom_last = np.concatenate([b[keep], a[keep][two_way]])
    order = np.lexsort((table["v"].to_numpy(), table["u"].to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    pair = table["u"].to_numpy(np.int64) * len(node_xy) + table["v"].to_numpy(np.int64)
    group_start = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    sizes = np.diff(np.r_[group_start, len(pair)])
    table["key"] = np.arange(len(pair)) - np.repeat(group_start, sizes)

    placed: dict[str, int] = {}
    if len(attach):
        nodes = node_of_vertex[attach_ids]
        placed = dict(zip(attach["id"].astype(str), nodes.tolist(), strict=True))
        attach = attach.assign(node=nodes)[["id", "node", "snap_m"]]
    net = RoadNetwork(node_x=node_xy[:, 0], node_y=node_xy[:, 1], table=table,
                      crs=pyproj.CRS(roads.crs), coords=coords,
                      geom_first=geom_first[order], geom_last=geom_last[order],
                      places=placed, report=report)
    report.nodes, report.edges = net.n_nodes, len(table)
    adjacency = sparse.coo_matrix((np.ones(len(table)), (table["u"], table["v"])),
                                  shape=(net.n_nodes, net.n_nodes))
    _, labels = connected_components(adjacency, directed=True, connection="weak")
    report.components = sorted(np.bincount(labels).tolist(), reverse=True)
    report.attachments = attach.reset_index(drop=True)
    logger.info("network: %s", report)
    return net


def _osm_highway(highway: NDArray[np.object_], road_class: NDArray[np.object_],
                 road_row: NDArray[np.int64]) -> NDArray[np.object_]:
    """OSM ``highway`` of each part: the layer's own value, else mapped from the class."""
    codes, classes = pd.factorize(pd.Series(road_class, dtype=object), use_na_sentinel=False)
    mapped = np.array([CLASS_HIGHWAY.get(c, None if c == "rail" else c)
                       if isinstance(c, str) else None for c in classes], dtype=object)[codes]
    given = pd.notna(highway) & (highway != "")
    if not given.any():
        return mapped
    return np.where(given[road_row], highway[road_row], mapped)


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
