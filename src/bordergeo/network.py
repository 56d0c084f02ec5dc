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

_EDGE_ATTRS = ("road_id", "ref", "name", "class")


@dataclass
class NetworkReport:
    """What building the network did and found.

    Attributes
    ----------
    lines
        Input line parts (after splitting multi-part lines).
    nodes, edges
        Nodes and directed edges of the result.
    snapped_endpoints
        Line ends moved onto another line end within the tolerance.
    t_junctions
        Line ends joined to the interior of another line.
    crossings
        Crossings where two lines were split and joined.
    components
        Sizes of the weakly connected components, largest first.
    attachments
        One row per attached place: ``id``, ``node``, ``snap_m`` (distance to the road).
    """

    lines: int = 0
    nodes: int = 0
    edges: int = 0
    snapped_endpoints: int = 0
    t_junctions: int = 0
    crossings: int = 0
    components: list[int] = field(default_factory=list)
    attachments: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __str__(self) -> str:
        comp = ", ".join(str(c) for c in self.components[:5])
        more = " …" if len(self.components) > 5 else ""
        return (f"{self.nodes} nodes, {self.edges} directed edges from {self.lines} lines; "
                f"{self.snapped_endpoints} endpoints snapped, {self.t_junctions} T-junctions, "
                f"{self.crossings} crossings noded; components: {comp}{more}")


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
    return {"road_id": ids.astype(object), "ref": col("ref", None), "name": col("name", None),
            "class": road_class, "oneway": oneway, "maxspeed_kph": speed,
            "length_m": documented, "status": status, "lanes": lanes}


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
    """Insert split points (line, position along line, x, y) as vertices, vectorised."""
    if splits.empty:
        return coords, line_idx
    seg_len = np.zeros(len(coords))
    same = line_idx[1:] == line_idx[:-1]
    seg_len[1:] = np.where(same, np.hypot(*(coords[1:] - coords[:-1]).T), 0.0)
    cum = np.cumsum(seg_len)
    starts = np.searchsorted(line_idx, np.arange(line_idx.max() + 1))
    along = cum - cum[starts[line_idx]]  # distance of each vertex along its line
    # order key: (line, along); a new vertex goes after existing ones at the same spot
    old_key = np.column_stack([line_idx, along, np.zeros(len(coords))])
    new_key = np.column_stack([splits["line"].to_numpy(), splits["along"].to_numpy(),
                               np.ones(len(splits))])
    keys = np.vstack([old_key, new_key])
    order = np.lexsort((keys[:, 2], keys[:, 1], keys[:, 0]))
    all_xy = np.vstack([coords, splits[["x", "y"]].to_numpy(float)])
    return all_xy[order], keys[order, 0].astype(np.int64)


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
        ``oneway``, ``lanes`` (both directions, NaN if unknown). :attr:`edges` adds the
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
            ``length`` (m), ``travel_time`` (s), ``speed_kph``, ``geometry``, ``ref``,
            ``name``, ``highway`` (road class), ``oneway``, ``road_id``, ``osmid``.
            ``osmnx.graph_to_gdfs``, ``osmnx.shortest_path`` and friends work on it.
        """
        g = nx.MultiDiGraph(crs=self.crs.to_string())
        degree = np.bincount(np.concatenate([self.table["u"].to_numpy(),
                                             self.table["v"].to_numpy()]),
                             minlength=self.n_nodes)
        g.add_nodes_from((i, {"x": float(x), "y": float(y), "street_count": int(d)})
                         for i, (x, y, d) in enumerate(zip(self.node_x, self.node_y, degree,
                                                           strict=True)))
        cols = ["u", "v", "key", "length", "travel_time", "speed_kph", "ref", "name",
                "class", "oneway", "road_id"]
        table = self.table[cols].astype(object).where(self.table[cols].notna(), None)
        table = table.rename(columns={"class": "highway"})
        geoms = self.edge_geometries()
        for row, geom in zip(table.itertuples(index=False), geoms, strict=True):
            attrs = {"length": float(row.length), "travel_time": float(row.travel_time),
                     "speed_kph": float(row.speed_kph), "geometry": geom,
                     "oneway": bool(row.oneway), "road_id": row.road_id, "osmid": row.road_id,
                     "reversed": False}
            if row.ref is not None:
                attrs["ref"] = row.ref
            if row.name is not None:
                attrs["name"] = row.name
            if row.highway is not None:
                attrs["highway"] = row.highway
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
                   max_snap_m: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Foot of the perpendicular from each place onto its nearest line."""
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
    too_far = dist > max_snap_m
    if too_far.any():
        k = int(np.flatnonzero(too_far)[0])
        raise BorderGeoError(
            f"place {places['id'].iloc[pidx[k]]!r} is {dist[k] / 1000:.1f} km from the nearest "
            f"road (limit {max_snap_m / 1000:.1f} km); add a road to it or raise max_snap_m")
    along_scaled = shapely.line_locate_point(scaled_lines[lidx], scaled_pts[pidx])
    foot = shapely.line_interpolate_point(scaled_lines[lidx], along_scaled)
    xy = shapely.get_coordinates(foot) / np.array([metric.kx, metric.ky])
    splits = pd.DataFrame({"line": lidx, "x": xy[:, 0], "y": xy[:, 1]})
    attach = pd.DataFrame({"id": places["id"].to_numpy()[pidx], "line": lidx,
                           "x": xy[:, 0], "y": xy[:, 1], "snap_m": dist})
    return splits, attach


def _t_junction_and_crossing_splits(lines: NDArray[np.object_], ends: NDArray[np.float64],
                                    end_line: NDArray[np.int64], dangling: NDArray[np.bool_],
                                    metric: _Metric, tolerance_m: float,
                                    node_crossings: bool) -> tuple[pd.DataFrame, int, int]:
    parts = []
    n_t = n_x = 0
    if not node_crossings and not (dangling.any() and tolerance_m > 0):
        return pd.DataFrame(columns=["line", "x", "y"]), 0, 0
    scaled = lines if metric.kx == metric.ky == 1.0 else shapely.transform(lines, metric.scale)
    tree = shapely.STRtree(scaled)
    if dangling.any():
        pts = shapely.points(metric.scale(ends[dangling]))
        own = end_line[dangling]
        (pi, li) = tree.query(pts, predicate="dwithin", distance=tolerance_m)
        other = li != own[pi]
        pi, li = pi[other], li[other]
        if len(pi):
            along = shapely.line_locate_point(scaled[li], pts[pi])
            foot = shapely.line_interpolate_point(scaled[li], along)
            d = shapely.distance(foot, pts[pi])
            frame = pd.DataFrame({"p": pi, "line": li, "d": d, "along": along})
            frame = frame.sort_values(["p", "d"]).drop_duplicates("p")
            xy = metric.scale(ends[dangling][frame["p"].to_numpy()]) / np.array(
                [metric.kx, metric.ky])
            # the dangling end itself is the junction: insert it into the other line
            parts.append(pd.DataFrame({"line": frame["line"].to_numpy(),
                                       "x": xy[:, 0], "y": xy[:, 1]}))
            n_t = len(frame)
    if node_crossings:
        a, b = tree.query(scaled, predicate="crosses")
        keep = a < b
        a, b = a[keep], b[keep]
        if len(a):
            inter = shapely.intersection(scaled[a], scaled[b])
            pts, which = shapely.get_parts(inter, return_index=True)
            is_point = shapely.get_type_id(pts) == 0
            pts, which = pts[is_point], which[is_point]
            xy = shapely.get_coordinates(pts) / np.array([metric.kx, metric.ky])
            parts.append(pd.DataFrame({"line": np.concatenate([a[which], b[which]]),
                                       "x": np.tile(xy[:, 0], 2), "y": np.tile(xy[:, 1], 2)}))
            n_x = len(pts)
    if not parts:
        return pd.DataFrame(columns=["line", "x", "y"]), 0, 0
    return pd.concat(parts, ignore_index=True), n_t, n_x


def build_network(
    roads: gpd.GeoDataFrame,
    *,
    places: gpd.GeoDataFrame | None = None,
    snap_tolerance_m: float = 5.0,
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
        ``ref``, ``name``, ``class`` (or ``highway``), ``oneway``, ``maxspeed_kph``,
        ``status``, ``length_m``). Any CRS with metres or degrees.
    places
        Points to attach (e.g. gates and hubs, with an ``id`` column): the nearest road is
        split at the foot of the perpendicular and the place maps to that node.
    snap_tolerance_m
        Line ends closer than this to another line end, or to another line, are joined.
    node_crossings
        Split lines where they cross (``False`` treats crossings as over/under passes).
        Finding crossings is the costly step on big layers (about 11 s more for 1M
        edges); lines that already meet at their ends do not need it.
    speeds_kph
        Speed by road class where ``maxspeed_kph`` is missing (merged over
        :data:`DEFAULT_SPEEDS_KPH`).
    include_status
        Road statuses to route on (roads under construction are left out by default).
    max_snap_m
        A place farther than this from every road is an error.
    source
        Name used in error messages.

    Returns
    -------
    RoadNetwork
        The network; ``network.report`` says what was snapped, noded and attached.

    Raises
    ------
    SchemaError
        No usable lines, no CRS, or a class with no known speed.
    BorderGeoError
        A place too far from any road.
    """
    if not isinstance(roads, gpd.GeoDataFrame) or roads.crs is None:
        raise SchemaError("roads need a GeoDataFrame with a CRS", source=source)
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
    road_class = attrs["class"][road_row]
    speed = attrs["maxspeed_kph"][road_row].copy()
    need = ~np.isfinite(speed)
    unknown = sorted({str(c) for c in road_class[need] if c not in speeds})
    if unknown:
        raise SchemaError(f"no speed for road class {unknown[0]!r}; give maxspeed_kph or "
                          f"speeds_kph={{{unknown[0]!r}: …}}", source=source, field="class")
    speed[need] = [speeds[c] for c in road_class[need]]

    coords, line_idx = shapely.get_coordinates(parts, return_index=True)
    metric = _Metric(pyproj.CRS(roads.crs), coords)
    quantum = 1e-9 if metric.geographic else 1e-4 / metric.kx
    report = NetworkReport(lines=len(parts))

    # 1. snap near-miss line ends together
    starts = np.searchsorted(line_idx, np.arange(len(parts)))
    stops = np.r_[starts[1:], len(coords)] - 1
    end_pos = np.concatenate([starts, stops])
    ends_scaled = metric.scale(coords[end_pos])
    if snap_tolerance_m > 0:
        from scipy.spatial import cKDTree

        pairs = cKDTree(ends_scaled).query_pairs(snap_tolerance_m, output_type="ndarray")
        rep = _cluster_representatives(coords[end_pos], pairs, quantum)
        moved = ~np.all(coords[end_pos[rep]] == coords[end_pos], axis=1)
        report.snapped_endpoints = int(moved.sum())
        coords[end_pos] = coords[end_pos[rep]]

    # 2. ends that touch nothing else join the interior of a nearby line (T-junctions),
    #    crossings are split, places are attached
    keys = _VertexKeys(coords, quantum)
    dangling = np.bincount(keys.ids)[keys.ids[end_pos]] == 1
    end_line = np.concatenate([np.arange(len(parts)), np.arange(len(parts))])
    needs_lines = node_crossings or (snap_tolerance_m > 0 and dangling.any()) or (
        places is not None and len(places) > 0)
    split_lines = shapely.linestrings(coords, indices=line_idx) if needs_lines else parts
    splits, report.t_junctions, report.crossings = _t_junction_and_crossing_splits(
        split_lines, coords[end_pos], end_line, dangling, metric, snap_tolerance_m,
        node_crossings)
    attach = pd.DataFrame(columns=["id", "line", "x", "y", "snap_m"])
    if places is not None and len(places):
        if places.crs is None:
            raise SchemaError("places need a CRS", source="places")
        places = places.to_crs(roads.crs).reset_index(drop=True)
        place_splits, attach = _attach_splits(split_lines, places, metric, max_snap_m)
        splits = pd.concat([splits, place_splits], ignore_index=True)
    if len(splits):
        lines_hit = split_lines[splits["line"].to_numpy(np.int64)]
        pts = shapely.points(splits[["x", "y"]].to_numpy(float))
        # positions in plain coordinate units, as _insert_vertices measures them
        splits = splits.assign(line=splits["line"].to_numpy(np.int64),
                               along=shapely.line_locate_point(lines_hit, pts))
        coords, line_idx = _insert_vertices(coords, line_idx, splits)
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
    has_doc = np.isfinite(documented)
    if has_doc.any():
        drawn = np.bincount(row, weights=length, minlength=len(roads))
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(drawn[row] > 0, documented / drawn[row], 1.0)
        length = np.where(has_doc, length * factor, length)
    loop = (u == v) & (length <= 0)
    keep = ~loop
    edge_speed = speed[part][keep]
    forward = pd.DataFrame({
        "u": u[keep], "v": v[keep], "length": length[keep],
        "travel_time": length[keep] / (edge_speed / 3.6), "speed_kph": edge_speed,
        "road_id": attrs["road_id"][row][keep], "ref": attrs["ref"][row][keep],
        "name": attrs["name"][row][keep], "class": road_class[part][keep],
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
        rows.append((index[u], index[v], int(k), float(data["length"]), float(tt),
                     float(speed), data.get("osmid"), data.get("ref"), data.get("name"),
                     highway[0] if isinstance(highway, list) else highway,
                     bool(data.get("oneway", False))))
        geom = data.get("geometry")
        if geom is None:
            geom = shapely.linestrings([[x[index[u]], y[index[u]]], [x[index[v]], y[index[v]]]])
        geoms.append(geom)
    table = pd.DataFrame(rows, columns=["u", "v", "key", "length", "travel_time", "speed_kph",
                                        "road_id", "ref", "name", "class", "oneway"])
    crs = pyproj.CRS(graph.graph.get("crs", "EPSG:4326"))
    coords, index = shapely.get_coordinates(np.array(geoms, dtype=object), return_index=True)
    first = np.searchsorted(index, np.arange(len(geoms)))
    last = np.r_[first[1:], len(coords)] - 1
    net = RoadNetwork(node_x=x, node_y=y, table=table, crs=crs, coords=coords,
                      geom_first=first, geom_last=last)
    net.node_ids = np.array(nodes, dtype=object)
    net.report.nodes, net.report.edges = len(nodes), len(table)
    return net
