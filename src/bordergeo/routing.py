"""Truck routes from hubs to gates: single routes, matrices, alternatives, closures, corridors.

Every hot path runs on the network's compiled scipy CSR matrices. Routes and matrices
search backwards from each destination on the reversed graph (one search per gate, so the
cost grows with the number of gates, not of origins) and keep the resulting tree (time
to the gate and next node toward it, for every node) in a bounded cache: a later route or
matrix to a gate already searched walks the tree instead of searching again. Lengths
along a tree are gathered by position in the CSR that was searched. Results equal
NetworkX's Dijkstra on :meth:`RoadNetwork.to_graph` (the tests check it to 1e-6 s).
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from bordergeo.errors import BorderGeoError, LookupFailedError
from bordergeo.names import find_place

if TYPE_CHECKING:  # scipy.sparse and the network module load where they are used
    from scipy import sparse

    from bordergeo.datasets import BorderDataset
    from bordergeo.network import RoadNetwork

__all__ = [
    "TREE_BYTES_PER_NODE",
    "NoPathError",
    "Place",
    "Route",
    "Router",
    "UnattachedPlaceError",
    "dataset_network",
]

logger = logging.getLogger(__name__)

_COORD_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)\s*$")


class NoPathError(BorderGeoError):
    """No route connects the two places (a disconnected or closed network)."""


class UnattachedPlaceError(LookupFailedError):
    """A known gate or hub that is too far from every road of the network.

    Attributes
    ----------
    place_id
        Its id.
    kind
        ``"gate"`` or ``"hub"``.
    distance_m
        Distance to the nearest road of the network, in metres.
    """

    def __init__(self, message: str, *, place_id: str, kind: str, distance_m: float) -> None:
        super().__init__(message)
        self.place_id, self.kind, self.distance_m = place_id, kind, distance_m

    def __reduce__(self) -> tuple:  # pickles with its fields
        return (_unattached_error, (str(self), self.place_id, self.kind, self.distance_m))


def _unattached_error(message: str, place_id: str, kind: str,
                      distance_m: float) -> UnattachedPlaceError:
    return UnattachedPlaceError(message, place_id=place_id, kind=kind, distance_m=distance_m)


@dataclass(frozen=True)
class Place:
    """A resolved origin or destination.

    Attributes
    ----------
    label
        Id of the gate or hub, or the coordinate as typed.
    node
        Network node it maps to.
    snap_m
        Distance from the place to that node's road, in metres.
    kind
        ``"gate"``, ``"hub"`` or ``"coordinate"``.
    name
        What people call it (the Vietnamese name of a gate or hub); the label otherwise.
    """

    label: str
    node: int
    snap_m: float
    kind: str
    name: str = ""

    @property
    def display(self) -> str:
        """The name to show in text, maps and charts (the id or coordinate when unnamed)."""
        return self.name or self.label


def _display_name(row: pd.Series) -> str:
    for column in ("name_vi", "name_en", "name"):
        value = row.get(column)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


@dataclass
class Route:
    """One route between two places.

    Attributes
    ----------
    origin, destination
        The resolved places.
    nodes
        Node sequence.
    edges
        Rows of ``network.edges`` along the route.
    length_m, travel_time_s
        Totals.
    geometry
        The route as one LineString (EPSG:4326 for the bundled data).
    refs
        Road refs in the order driven, repeats collapsed (e.g. ``["CT.01", "QL1A"]``).
    """

    origin: Place
    destination: Place
    nodes: list[int]
    edges: NDArray[np.int64]
    length_m: float
    travel_time_s: float
    geometry: shapely.LineString
    refs: list[str] = field(default_factory=list)

    @property
    def length_km(self) -> float:
        """Length in kilometres."""
        return self.length_m / 1000.0

    @property
    def travel_time_min(self) -> float:
        """Driving time in minutes."""
        return self.travel_time_s / 60.0

    @property
    def road_sequence(self) -> str:
        """The refs joined with arrows, e.g. ``"CT.01 → QL1A → QL4A"``."""
        return " → ".join(self.refs)

    def to_dict(self) -> dict:
        """Return the route's figures as plain JSON-ready values."""
        return {"from": self.origin.label, "to": self.destination.label,
                "from_name": self.origin.display, "to_name": self.destination.display,
                "length_km": round(self.length_km, 3),
                "travel_time_min": round(self.travel_time_min, 2),
                "roads": self.refs, "road_sequence": self.road_sequence,
                "from_snap_m": round(self.origin.snap_m, 1),
                "to_snap_m": round(self.destination.snap_m, 1)}

    def to_gdf(self, crs: object = "EPSG:4326") -> gpd.GeoDataFrame:
        """Return the route as a one-row GeoDataFrame."""
        record = self.to_dict()
        record["roads"] = record.pop("road_sequence")
        return gpd.GeoDataFrame([record], geometry=[self.geometry], crs=crs)


def dataset_network(dataset: BorderDataset, *, roads: gpd.GeoDataFrame | None = None,
                    **options: object) -> RoadNetwork:
    """Build the network of a dataset with its gates and hubs attached.

    Parameters
    ----------
    dataset
        Gates, hubs and roads (e.g. ``load_dataset()``).
    roads
        Use these roads instead of the dataset's (the user's own road layer, in any
        columns: see :func:`~bordergeo.roadlayer.normalise_roads`).
    **options
        Passed to :func:`~bordergeo.network.build_network` (``snap_tolerance_m``,
        ``node_crossings``, ``speeds_kph``, ``max_snap_m``, ...).

    Returns
    -------
    RoadNetwork
        With ``network.places`` mapping every gate and hub id within ``max_snap_m`` of a
        road to a node; the others are in ``network.report.unattached`` (and a warning).

    Notes
    -----
    The roads are normalised first (:func:`~bordergeo.roadlayer.normalise_roads`; a
    cheap pass for a layer already in the project's columns): railways, ferries and
    paths are left out, and class ``rail`` is never routed on, even in a layer normalised
    with ``exclude_classes=()``: trucks do not drive on railways.
    """
    from bordergeo.network import build_network
    from bordergeo.roadlayer import normalise_roads

    places = pd.concat([dataset.gates[["id", "geometry"]], dataset.hubs[["id", "geometry"]]],
                       ignore_index=True)
    places = gpd.GeoDataFrame(places, geometry="geometry", crs=dataset.gates.crs)
    duplicated = places["id"][places["id"].duplicated()]
    if len(duplicated):
        raise BorderGeoError(f"id {duplicated.iloc[0]!r} is both a gate and a hub; ids must "
                             f"be unique across the two layers")
    layer, _ = normalise_roads(roads if roads is not None else dataset.roads,
                               source="roads")
    rail = (layer["class"] == "rail").to_numpy(bool)
    if rail.any():
        logger.info("roads: %d railway line%s left out of the road network", int(rail.sum()),
                    "s" if rail.sum() > 1 else "")
        layer = layer[~rail].reset_index(drop=True)
    return build_network(layer, places=places, **options)


def _compiled(network: RoadNetwork, name: str) -> sparse.csr_matrix:
    """Return the network's cached CSR ``name`` (a property or a method of it)."""
    value = getattr(network, name)
    return value() if callable(value) else value


#: Up to this many nodes, the trees missing for a matrix are searched in one scipy call.
_BATCH_NODES = 50_000

#: Bytes a cached tree takes per node: the time to the gate (float64) and the next node
#: toward it (int32).
TREE_BYTES_PER_NODE = 12


class _Search:
    """Backward searches on one weighting of the network, with an LRU cache of trees.

    Parameters
    ----------
    reversed_csr
        The reversed travel-time matrix searched (row ``v``, column ``u`` holds the
        cheapest ``u → v`` edge).
    edge_rows
        ``edge_rows(u, v)``: the rows of the edges that matrix holds for node pairs (the
        cheapest of parallel edges, as the matrix has them).
    lengths_m
        Length of each edge row, in metres.
    max_trees
        Trees kept; the least recently used is dropped beyond it.
    """

    def __init__(self, reversed_csr: sparse.csr_matrix,
                 edge_rows: Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray[np.int64]],
                 lengths_m: NDArray[np.float64], *, max_trees: int) -> None:
        self.csr = reversed_csr
        self._lengths_m = lengths_m
        self.n_nodes = int(reversed_csr.shape[0])
        self.max_trees = max_trees
        self._edge_rows = edge_rows
        self._indptr = reversed_csr.indptr.astype(np.int64)
        self._padded: NDArray[np.int32] | None = None
        self._offsets = np.zeros(1, dtype=np.int64)
        self._rows_at: NDArray[np.int32] | None = None
        self._length_at: NDArray[np.float64] | None = None
        self._trees: OrderedDict[int, tuple[NDArray[np.float64], NDArray[np.int32]]] = (
            OrderedDict())
        self.searches = 0

    # ------------------------------------------------------------------ trees
    def tree(self, gate: int) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
        """Time (s) from every node to ``gate`` and the next node toward it (-9999: none).

        Searched once per gate and then taken from the cache; the arrays are shared and
        must not be modified.
        """
        hit = self._trees.get(gate)
        if hit is not None:
            self._trees.move_to_end(gate)
            return hit
        from scipy.sparse.csgraph import dijkstra

        dist, succ = dijkstra(self.csr, directed=True, indices=gate, return_predecessors=True)
        self._keep(gate, dist, succ)
        return dist, succ

    def trees(self, gates: Sequence[int]) -> list[tuple[NDArray[np.float64], NDArray[np.int32]]]:
        """Trees of several gates (at most ``max_trees``), the missing ones searched at once.

        On a small network one search call for all of them saves scipy's per-call checks;
        on a large one each gate gets its own call (no copying rows out of a block).
        """
        missing = []
        for gate in dict.fromkeys(gates):
            if gate in self._trees:
                self._trees.move_to_end(gate)  # kept ones are not dropped for missing ones
            else:
                missing.append(gate)
        if len(missing) > 1 and self.n_nodes <= _BATCH_NODES:
            from scipy.sparse.csgraph import dijkstra

            dist, succ = dijkstra(self.csr, directed=True, indices=missing,
                                  return_predecessors=True)
            for k, gate in enumerate(missing):
                self._keep(gate, dist[k].copy(), succ[k].copy())
        return [self.tree(g) for g in gates]

    def _keep(self, gate: int, dist: NDArray[np.float64], succ: NDArray[np.int32]) -> None:
        dist.flags.writeable = False
        succ.flags.writeable = False
        self.searches += 1
        self._trees[gate] = (dist, succ)
        while len(self._trees) > self.max_trees:
            self._trees.popitem(last=False)

    def clear(self) -> None:
        """Drop every cached tree."""
        self._trees.clear()

    @property
    def cached(self) -> list[int]:
        """Gates (nodes) whose trees are cached, least recently used first."""
        return list(self._trees)

    # ------------------------------------------------------------------ positions
    def positions(self, u: NDArray[np.int64], v: NDArray[np.int64]) -> NDArray[np.int64]:
        """CSR position of the ``u → v`` entry (row ``v``) of pairs the matrix holds.

        Found in row ``v`` through ``indptr``: a block of the row's first entries is
        compared with ``u`` at once (rows are as long as a node's in-degree).
        """
        if self._padded is None:
            # the columns padded so that a block of `width` entries from any row start exists
            degree = np.diff(self._indptr)
            width = max(int(degree.max()) if len(degree) else 1, 1)
            indices = self.csr.indices
            self._padded = np.concatenate([indices, np.full(width, -1, dtype=indices.dtype)])
            self._offsets = np.arange(width, dtype=np.int64)
        start = self._indptr[v]
        block = self._padded[start[:, None] + self._offsets]
        return start + (block == np.asarray(u, dtype=np.int64)[:, None]).argmax(axis=1)

    @property
    def rows_at(self) -> NDArray[np.int32]:
        """Edge row held at each CSR position (built on first use, then kept)."""
        if self._rows_at is None:
            v = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self._indptr))
            rows = self._edge_rows(self.csr.indices.astype(np.int64), v)
            small = len(self._lengths_m) < 2**31
            self._rows_at = np.asarray(rows, dtype=np.int32 if small else np.int64)
        return self._rows_at

    @property
    def length_at(self) -> NDArray[np.float64]:
        """Length (m) of the edge held at each CSR position (built on first use)."""
        if self._length_at is None:
            self._length_at = self._lengths_m[self.rows_at]
        return self._length_at

    # ------------------------------------------------------------------ walks
    def walk(self, succ_of: list[NDArray[np.int32]], tree: NDArray[np.int64],
             starts: NDArray[np.int64], *, collect: bool = False
             ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
        """Walk many chains down their trees at once, summing edge lengths.

        Parameters
        ----------
        succ_of
            Next-node arrays of the trees walked.
        tree
            Which of them each chain walks.
        starts
            Start node of each chain; every start must reach its tree's gate.
        collect
            Also return the chain and edge row of every step.

        Returns
        -------
        tuple
            ``(length_m, chain, rows)``: the length per chain, and with ``collect`` the chain
            and edge row of each step taken (empty otherwise).
        """
        n = self.n_nodes
        flat = succ_of[0] if len(succ_of) == 1 else np.concatenate(succ_of)
        chain = np.arange(len(starts))
        cur = np.asarray(starts, dtype=np.int64)
        base = np.asarray(tree, dtype=np.int64) * n
        # first only the nodes, two numpy calls a hop; then every hop's CSR position and
        # length at once
        hops: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int32]]] = []
        while len(chain):
            nxt = flat[base + cur]
            live = nxt >= 0
            if not live.all():  # chains at their gate are done
                chain, cur, base, nxt = chain[live], cur[live], base[live], nxt[live]
                if not len(chain):
                    break
            hops.append((chain, cur, nxt))
            cur = nxt
        if not hops:
            empty = np.zeros(0, dtype=np.int64)
            return np.zeros(len(starts)), empty, empty
        chains = np.concatenate([c for c, _, _ in hops])
        pos = self.positions(np.concatenate([u for _, u, _ in hops]),
                             np.concatenate([v for _, _, v in hops]))
        length_m = np.bincount(chains, weights=self.length_at[pos], minlength=len(starts))
        if not collect:
            return length_m, chains[:0], chains[:0]
        return length_m, chains, self.rows_at[pos]

    def lengths_to(self, gate: int) -> NDArray[np.float64]:
        """Length (m) of the tree path from every node to ``gate``.

        Pointer doubling over all nodes: ``log2(depth)`` passes of two gathers each.
        ``inf`` where the gate cannot be reached.
        """
        dist, succ = self.tree(gate)
        n = self.n_nodes
        has = np.flatnonzero(succ >= 0)
        step = np.zeros(n)
        step[has] = self.length_at[self.positions(has, succ[has].astype(np.int64))]
        jump = np.arange(n, dtype=np.int64)  # the gate and unreachable nodes point to themselves
        jump[has] = succ[has]
        while True:
            further = jump[jump]
            if np.array_equal(further, jump):
                break
            step += step[jump]
            jump = further
        step[~np.isfinite(dist)] = np.inf
        return step


class Router:
    """Answer routing questions on one network (and optionally a dataset's names).

    Parameters
    ----------
    network
        The road network (for the bundled data: ``dataset_network(load_dataset())``).
    dataset
        Gates and hubs for name lookup; without it places are node ids or coordinates.
    max_snap_m
        A coordinate farther than this from every node is an error. (Gates and hubs are
        attached when the network is built, with that build's ``max_snap_m``.)
    max_trees
        How many search trees to keep (least recently used dropped first). The first
        route or matrix to a destination searches backwards from it once and keeps the
        tree; later routes and matrices to it walk the tree. A tree takes
        :data:`TREE_BYTES_PER_NODE` (12) bytes per node: 12 MB at a million nodes, so
        the default 32 trees hold up to 384 MB there (3.5 MB each on the 1M-edge
        synthetic grid, ~295k nodes).

    Notes
    -----
    Trees are kept per weighting: closures (:meth:`closure_impact` with roads closed),
    penalised weights (:meth:`alternatives`) and a ``csr``/``csr_reversed`` of your own
    search their own graph and never use or fill the cache of the network's travel
    times. If you change the network's travel times in place, call :meth:`clear_cache`.
    Besides the trees the router keeps, once a matrix, corridor or :meth:`lengths_to`
    needs them, the edge row and length at each position of the reversed CSR and a padded
    copy of its column indices (16 bytes per edge, and 8 per node for its row offsets).
    """

    def __init__(self, network: RoadNetwork, dataset: BorderDataset | None = None, *,
                 max_snap_m: float = 5_000.0, max_trees: int = 32) -> None:
        if int(max_trees) < 1:
            raise BorderGeoError("max_trees must be at least 1")
        self.network = network
        self.dataset = dataset
        self.max_snap_m = max_snap_m
        self.max_trees = int(max_trees)
        self._lengths = network.table["length"].to_numpy(float)
        self._times = network.table["travel_time"].to_numpy(float)
        self._base: _Search | None = None

    # ----------------------------------------------------------------- cache
    def _search(self) -> _Search:
        """Return the searches on the network's travel times (built once, trees cached)."""
        if self._base is None:
            self._base = _Search(_compiled(self.network, "travel_time_csr_reversed"),
                                 self.network.edge_between, self._lengths,
                                 max_trees=self.max_trees)
        return self._base

    def _search_on(self, reversed_csr: sparse.csr_matrix, weights: NDArray[np.float64]
                   ) -> _Search:
        """One-off searches on another weighting (closures, a matrix of the caller's)."""
        def rows(u: NDArray[np.int64], v: NDArray[np.int64]) -> NDArray[np.int64]:
            return self.network.edge_between(u, v, weight=weights)

        return _Search(reversed_csr, rows, self._lengths, max_trees=self.max_trees)

    def clear_cache(self, *, trees_only: bool = False) -> None:
        """Forget the cached search trees (and the compiled position maps).

        Parameters
        ----------
        trees_only
            Keep the edge row and length at each CSR position (they depend on the
            network's weights only); by default everything is rebuilt on next use, as
            needed after changing the network's travel times in place.
        """
        if self._base is None:
            return
        if trees_only:
            self._base.clear()
        else:
            self._base = None

    def cache_info(self) -> dict[str, object]:
        """Describe what the tree cache holds.

        Returns
        -------
        dict
            ``gates`` (nodes whose trees are kept, least recently used first),
            ``max_trees``, ``searches`` (backward searches run on the network's
            travel times since the cache was built) and ``tree_bytes``.
        """
        gates = self._base.cached if self._base is not None else []
        return {"gates": gates, "max_trees": self.max_trees,
                "searches": self._base.searches if self._base is not None else 0,
                "tree_bytes": len(gates) * TREE_BYTES_PER_NODE * self.network.n_nodes}

    # ----------------------------------------------------------------- places
    def place(self, query: str | tuple[float, float] | int | Place) -> Place:
        """Resolve a gate or hub (id or name), a coordinate or a node to a :class:`Place`.

        Parameters
        ----------
        query
            ``"huu nghi"``, ``"ha-noi"``, ``"21.97,106.71"`` (lat,lon; lon,lat is
            recognised too), a ``(lon, lat)`` tuple, or a node id.

        Returns
        -------
        Place
            With the node and the snap distance.

        Raises
        ------
        LookupFailedError
            Unknown name (with suggestions) or a coordinate too far from any road;
            :class:`UnattachedPlaceError` for a gate or hub farther than the network's
            ``max_snap_m`` from its roads (with the distance).
        """
        if isinstance(query, Place):
            return query
        if isinstance(query, (int, np.integer)):
            if not 0 <= int(query) < self.network.n_nodes:
                raise LookupFailedError(f"no node {query}")
            return Place(str(query), int(query), 0.0, "node")
        if isinstance(query, tuple):
            return self._coordinate(float(query[0]), float(query[1]), f"{query[1]},{query[0]}")
        text = str(query)
        match = _COORD_RE.match(text)
        if match:
            a, b = float(match.group(1)), float(match.group(2))
            lon, lat = (a, b) if abs(a) > 90 else (b, a)
            return self._coordinate(lon, lat, text.strip())
        if self.dataset is None:
            raise LookupFailedError(f"no dataset to look up {text!r}; give a coordinate")
        what, position = find_place({"gate": self.dataset.gates, "hub": self.dataset.hubs}, text)
        row = (self.dataset.gates if what == "gate" else self.dataset.hubs).iloc[position]
        place_id = str(row["id"])
        if place_id not in self.network.places:
            raise self._unattached(place_id, what)
        node = self.network.places[place_id]
        snap = self.network.report.attachments
        snap_m = float(snap.loc[snap["id"] == place_id, "snap_m"].iloc[0]) if len(snap) else 0.0
        return Place(place_id, node, snap_m, what, name=_display_name(row))

    def _unattached(self, place_id: str, what: str) -> LookupFailedError:
        report = self.network.report
        far = report.unattached
        hit = far[far["id"].astype(str) == place_id] if len(far) else far
        if not len(hit):
            return LookupFailedError(f"{what} {place_id!r} is not attached to this network")
        distance = float(hit["distance_m"].iloc[0])
        return UnattachedPlaceError(
            f"{what} {place_id!r} is {distance / 1000:.1f} km from the nearest road of this "
            f"network (limit {report.max_snap_m / 1000:.1f} km; --max-snap-km)",
            place_id=place_id, kind=what, distance_m=distance)

    def _coordinate(self, lon: float, lat: float, label: str) -> Place:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise LookupFailedError(f"{label!r} is not a valid lat,lon coordinate")
        node, dist = self.network.nearest_node(lon, lat)
        if dist > self.max_snap_m:
            raise LookupFailedError(f"{label!r} is {dist / 1000:.1f} km from the nearest road "
                                    f"node (limit {self.max_snap_m / 1000:.1f} km)")
        return Place(label, node, dist, "coordinate")

    # ----------------------------------------------------------------- one route
    def _path_nodes(self, pred: NDArray[np.int32], source: int, target: int) -> list[int]:
        """Nodes from ``source`` to ``target`` of a forward search's predecessor array."""
        nodes = [target]
        while nodes[-1] != source:
            prev = int(pred[nodes[-1]])
            if prev < 0:
                raise NoPathError("broken predecessor chain")  # pragma: no cover
            nodes.append(prev)
        return nodes[::-1]

    @staticmethod
    def _tree_nodes(succ: NDArray[np.int32], source: int, target: int) -> list[int]:
        """Nodes from ``source`` down a backward tree to its gate ``target``."""
        nodes = [source]
        node = source
        while node != target:
            node = int(succ[node])
            if node < 0:
                raise NoPathError("broken tree chain")  # pragma: no cover
            nodes.append(node)
        return nodes

    def _route_from_nodes(self, origin: Place, destination: Place, nodes: list[int], *,
                          weight: str | NDArray[np.float64] = "travel_time") -> Route:
        arr = np.asarray(nodes, dtype=np.int64)
        rows = (self.network.edge_between(arr[:-1], arr[1:], weight=weight) if len(arr) > 1
                else np.array([], dtype=np.int64))
        if len(rows):
            coords, idx = shapely.get_coordinates(self.network.edge_geometries(rows),
                                                  return_index=True)
            first = np.r_[True, idx[1:] != idx[:-1]]
            keep = ~first
            keep[0] = True
            geometry = shapely.linestrings(coords[keep])
        else:
            x, y = self.network.node_x[arr[0]], self.network.node_y[arr[0]]
            geometry = shapely.linestrings([[x, y], [x, y]])
        refs: list[str] = []
        for ref in self.network.table["ref"].take(rows).to_numpy(dtype=object):
            if isinstance(ref, str) and ref and (not refs or refs[-1] != ref):
                refs.append(ref)
        return Route(origin, destination, [int(n) for n in arr], rows,
                     float(self._lengths[rows].sum()), float(self._times[rows].sum()),
                     geometry, refs)

    def route(self, origin: object, destination: object, *,
              csr: sparse.csr_matrix | None = None) -> Route:
        """Return the fastest route between two places.

        The first route to a destination searches backwards from it and keeps the tree
        (see ``max_trees``); routes to a destination already searched walk its tree.

        Parameters
        ----------
        origin, destination
            Anything :meth:`place` accepts.
        csr
            A travel-time matrix to use instead of the network's (closures, penalties):
            one forward search, nothing cached.

        Returns
        -------
        Route

        Raises
        ------
        NoPathError
            If no path connects them.
        """
        a, b = self.place(origin), self.place(destination)
        if csr is not None:
            from scipy.sparse.csgraph import dijkstra

            dist, pred = dijkstra(csr, directed=True, indices=a.node,
                                  return_predecessors=True)
            if not np.isfinite(dist[b.node]):
                raise self._no_path(a, b)
            return self._route_from_nodes(a, b, self._path_nodes(pred, a.node, b.node))
        dist, succ = self._search().tree(b.node)
        if not np.isfinite(dist[a.node]):
            raise self._no_path(a, b)
        return self._route_from_nodes(a, b, self._tree_nodes(succ, a.node, b.node))

    @staticmethod
    def _no_path(a: Place, b: Place) -> NoPathError:
        return NoPathError(f"no route from {a.label!r} to {b.label!r}: the road network "
                           f"does not connect them")

    # ----------------------------------------------------------------- matrix
    def _times_lengths(self, search: _Search, starts: NDArray[np.int64],
                       goals: Sequence[int]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Time (s) and length (m) from every start to every goal: ``(goals, starts)``.

        Trees come from the cache or are searched, at most ``max_trees`` at a time; the
        lengths of all chains of a batch are walked together. ``inf`` where unreachable.
        """
        times = np.full((len(goals), len(starts)), np.inf)
        lengths = np.full((len(goals), len(starts)), np.inf)
        order = list(dict.fromkeys(int(g) for g in goals))  # each gate once
        for first in range(0, len(order), search.max_trees):
            batch = order[first:first + search.max_trees]
            trees = search.trees(batch)
            found = np.vstack([dist[starts] for dist, _ in trees])
            tree, start = np.nonzero(np.isfinite(found))
            walked, _, _ = search.walk([succ for _, succ in trees], tree, starts[start])
            got = np.full(found.shape, np.inf)
            got[tree, start] = walked
            where = {g: k for k, g in enumerate(batch)}
            for j, g in enumerate(goals):
                k = where.get(int(g))
                if k is not None:
                    times[j], lengths[j] = found[k], got[k]
        return times, lengths

    def matrix(self, origins: Sequence[object], destinations: Sequence[object], *,
               csr_reversed: sparse.csr_matrix | None = None) -> pd.DataFrame:
        """Travel time and distance of the fastest route for every origin × destination.

        Searches backwards from each destination on the reversed graph, or walks the
        tree kept from an earlier route or matrix to it.

        Parameters
        ----------
        origins, destinations
            Places (ids, names, coordinates).
        csr_reversed
            Reversed travel-time matrix to use (e.g. with closures); default the
            network's. Searches on it are not cached.

        Returns
        -------
        pandas.DataFrame
            One row per pair: ``origin``, ``destination``, ``travel_time_min``,
            ``length_km``, ``reachable`` and ``reason``; unreachable pairs have
            ``reachable=False``, NaN figures (never a magic number) and a reason: ``"no
            path"``, or ``"origin not on the network (12.3 km from a road)"`` (or
            destination) for a gate or hub farther than the network's ``max_snap_m``
            from its roads. ``reason`` is missing (NA) for reachable pairs.

        Raises
        ------
        LookupFailedError
            An unknown place, or a coordinate too far from any road.
        """
        search = (self._search() if csr_reversed is None
                  else self._search_on(csr_reversed, self._times))
        return self._matrix(origins, destinations, search)

    def _matrix(self, origins: Sequence[object], destinations: Sequence[object],
                search: _Search) -> pd.DataFrame:
        src = [self._place_or_far(o) for o in origins]
        dst = [self._place_or_far(d) for d in destinations]
        if not src or not dst:
            raise BorderGeoError("a matrix needs at least one origin and one destination")
        src_ok = np.array([isinstance(s, Place) for s in src], dtype=bool)
        dst_ok = np.array([isinstance(d, Place) for d in dst], dtype=bool)
        times = np.full((len(dst), len(src)), np.nan)
        lengths = np.full((len(dst), len(src)), np.nan)
        if src_ok.any() and dst_ok.any():
            starts = np.array([s.node for s in src if isinstance(s, Place)], dtype=np.int64)
            found, walked = self._times_lengths(
                search, starts, [d.node for d in dst if isinstance(d, Place)])
            ok = np.isfinite(found)
            rows, cols = np.flatnonzero(dst_ok), np.flatnonzero(src_ok)
            times[np.ix_(rows, cols)] = np.where(ok, found / 60.0, np.nan)
            lengths[np.ix_(rows, cols)] = np.where(ok, walked / 1000.0, np.nan)
        # one row per pair, destination-major, then stably ordered by origin (vectorised)
        n_src, n_dst = len(src), len(dst)
        i = np.tile(np.arange(n_src), n_dst)
        j = np.repeat(np.arange(n_dst), n_src)
        found = np.isfinite(times.ravel())
        src_labels = np.array([_label(s) for s in src], dtype=object)
        dst_labels = np.array([_label(d) for d in dst], dtype=object)
        src_why = np.array([None if ok else f"origin not on the network "
                            f"({s.distance_m / 1000:.1f} km from a road)"
                            for s, ok in zip(src, src_ok, strict=True)], dtype=object)
        dst_why = np.array([None if ok else f"destination not on the network "
                            f"({d.distance_m / 1000:.1f} km from a road)"
                            for d, ok in zip(dst, dst_ok, strict=True)], dtype=object)
        reason = np.where(~src_ok[i], src_why[i], np.where(
            ~dst_ok[j], dst_why[j], np.where(found, None, "no path")))
        rank = {label: k for k, label in enumerate(src_labels)}  # a repeated origin: its last
        order = np.argsort(np.array([rank[label] for label in src_labels])[i], kind="stable")
        return pd.DataFrame({"origin": src_labels[i][order],
                             "destination": dst_labels[j][order],
                             "travel_time_min": times.ravel()[order],
                             "length_km": lengths.ravel()[order],
                             "reachable": found[order],
                             "reason": reason[order]})

    def _place_or_far(self, query: object) -> Place | UnattachedPlaceError:
        """Resolve a place; a gate or hub too far from the roads comes back as its error."""
        try:
            return self.place(query)
        except UnattachedPlaceError as exc:
            return exc

    def times_to(self, destinations: Sequence[object]) -> NDArray[np.float64]:
        """Travel time from every node to each destination.

        Parameters
        ----------
        destinations
            Places (searched once each, then taken from the tree cache).

        Returns
        -------
        numpy.ndarray
            Seconds, shape ``(len(destinations), n_nodes)``; ``inf`` where unreachable.
        """
        search = self._search()
        return np.vstack([search.tree(node)[0] for node in self._nodes(destinations)])

    def lengths_to(self, destinations: Sequence[object]) -> NDArray[np.float64]:
        """Length of the fastest route from every node to each destination.

        The distance along the same routes whose times :meth:`times_to` gives (the
        cheapest of parallel edges in time, as the search uses).

        Parameters
        ----------
        destinations
            Places (searched once each, then taken from the tree cache).

        Returns
        -------
        numpy.ndarray
            Metres, shape ``(len(destinations), n_nodes)``; ``inf`` where unreachable.
        """
        search = self._search()
        return np.vstack([search.lengths_to(node) for node in self._nodes(destinations)])

    def _nodes(self, places: Sequence[object]) -> list[int]:
        return [self.place(p).node for p in places]

    # ----------------------------------------------------------------- alternatives
    def alternatives(self, origin: object, destination: object, *, k: int = 3,
                     penalty: float = 1.5, max_overlap: float = 0.6,
                     max_tries: int = 20) -> list[Route]:
        """Return up to ``k`` meaningfully different routes, fastest first.

        Penalty method: after each route, the travel times of its edges (both directions)
        are multiplied by ``penalty`` and the search is repeated; a new route is kept only
        if at most ``max_overlap`` of its length is shared with any route already kept.
        Reported times are the real (unpenalised) ones.

        Parameters
        ----------
        origin, destination
            Places.
        k
            How many routes at most.
        penalty
            Factor applied to used edges (> 1).
        max_overlap
            Largest shared fraction of length allowed with a kept route (0–1).
        max_tries
            Searches at most.

        Returns
        -------
        list of Route
            One to ``k`` routes; fewer if the network has no other distinct way.
        """
        if penalty <= 1 or not 0 <= max_overlap < 1:
            raise BorderGeoError("alternatives need penalty > 1 and 0 ≤ max_overlap < 1")
        a, b = self.place(origin), self.place(destination)
        weights = self._times.copy()
        twin = _twin_index(self.network.table)
        kept: list[Route] = []
        kept_sets: list[set[int]] = []
        from scipy.sparse.csgraph import dijkstra

        for attempt in range(max_tries):
            if attempt == 0:  # the network's own weights: the cached tree to the destination
                dist, succ = self._search().tree(b.node)
                if not np.isfinite(dist[a.node]):
                    raise NoPathError(f"no route from {a.label!r} to {b.label!r}")
                route = self._route_from_nodes(a, b, self._tree_nodes(succ, a.node, b.node))
            else:  # penalised weights: a search of their own, never cached
                dist, pred = dijkstra(self.network.csr(weights), directed=True,
                                      indices=a.node, return_predecessors=True)
                if not np.isfinite(dist[b.node]):
                    break
                route = self._route_from_nodes(a, b, self._path_nodes(pred, a.node, b.node),
                                               weight=weights)
            rows = route.edges
            used = set(_undirected_ids(rows, twin).tolist())
            overlap = max((self._lengths[np.array(sorted(used & s))].sum() / route.length_m
                           if used & s and route.length_m > 0 else 0.0 for s in kept_sets),
                          default=0.0)
            if overlap <= max_overlap:
                kept.append(route)
                kept_sets.append(used)
                if len(kept) == k:
                    break
            hit = np.concatenate([rows, twin[rows][twin[rows] >= 0]])
            weights[hit] *= penalty
        kept.sort(key=lambda r: r.travel_time_s)
        return kept

    # ----------------------------------------------------------------- closures
    def closed_edge_mask(self, *, roads: Iterable[str] = (),
                         near: Iterable[tuple[float, float, float]] = ()) -> NDArray[np.bool_]:
        """Return a mask of edges closed by road id/ref or by a point and radius.

        Parameters
        ----------
        roads
            Road ids or refs to close entirely (e.g. ``"QL4A"``); the id of a multi-part
            road closes all its parts (``"r1"`` closes ``"r1#1"`` and ``"r1#2"``).
        near
            ``(lon, lat, radius_m)``: close every edge within the radius (a landslide).

        Returns
        -------
        numpy.ndarray
            ``True`` where an edge is closed.
        """
        edges = self.network.table
        closed = np.zeros(len(edges), dtype=bool)
        names = {str(r) for r in roads}
        if names:
            road_ids = edges["road_id"].astype(str)
            whole_ids = road_ids.str.replace(r"#\d+$", "", regex=True)  # parts of a multi-line
            refs = edges["ref"].astype(str)
            hits = road_ids.isin(names) | whole_ids.isin(names) | refs.isin(names)
            unknown = names - set(road_ids) - set(whole_ids) - set(refs)
            if unknown:
                raise LookupFailedError(f"no road with id or ref {sorted(unknown)[0]!r}")
            closed |= hits.to_numpy()
        for lon, lat, radius in near:
            kx = 111_320.0 * np.cos(np.radians(lat)) if self.network.crs.is_geographic else 1.0
            ky = 110_574.0 if self.network.crs.is_geographic else 1.0
            scale = np.array([kx, ky])
            geoms = shapely.transform(self.network.edge_geometries(), lambda c, f=scale: c * f)
            point = shapely.points(lon * kx, lat * ky)
            hit = shapely.dwithin(geoms, point, radius)
            if not hit.any():
                raise LookupFailedError(f"no road within {radius:.0f} m of {lat},{lon}")
            closed |= hit
        return closed

    def closure_impact(self, origins: Sequence[object], gates: Sequence[object], *,
                       closed_gates: Iterable[object] = (), roads: Iterable[str] = (),
                       near: Iterable[tuple[float, float, float]] = ()) -> pd.DataFrame:
        """Compare each origin's fastest open gate before and after closures.

        Parameters
        ----------
        origins
            Hubs (or any places).
        gates
            Candidate gates.
        closed_gates
            Gates closed in the scenario (e.g. the secondary gates in the epidemic).
        roads, near
            Road closures, as in :meth:`closed_edge_mask`.

        Returns
        -------
        pandas.DataFrame
            Per origin: ``gate_before``, ``time_before_min``, ``gate_after``,
            ``time_after_min``, ``delta_min`` and ``reachable_after``.
        """
        resolved = [self._place_or_far(g) for g in gates]
        shut = {_label(self._place_or_far(g)) for g in closed_gates}
        unknown = shut - {_label(g) for g in resolved}
        if unknown:
            raise LookupFailedError(f"closed gate {sorted(unknown)[0]!r} is not among the gates")
        # a gate too far from the roads can be reached neither before nor after
        gate_places = [g for g in resolved if isinstance(g, Place)]
        mask = self.closed_edge_mask(roads=roads, near=near)
        before = self._matrix(origins, gate_places, self._search())
        open_gates = [g for g in gate_places if g.label not in shut]
        if open_gates:
            if mask.any():  # closed roads: searches of their own, the cache stays as it is
                rev = self.network.csr("travel_time", edge_mask=~mask, transpose=True)
                search = self._search_on(rev, np.where(mask, np.inf, self._times))
            else:  # only gates closed: the same trees as before
                search = self._search()
            after = self._matrix(origins, open_gates, search)
        else:
            after = before.iloc[0:0]
        rows = []
        for origin, group in before.groupby("origin", sort=False):
            best = group.dropna(subset=["travel_time_min"]).nsmallest(1, "travel_time_min")
            later = after[(after["origin"] == origin) & after["reachable"]]
            best_after = later.nsmallest(1, "travel_time_min")
            rows.append({
                "origin": origin,
                "gate_before": best["destination"].iloc[0] if len(best) else None,
                "time_before_min": best["travel_time_min"].iloc[0] if len(best) else np.nan,
                "gate_after": best_after["destination"].iloc[0] if len(best_after) else None,
                "time_after_min": (best_after["travel_time_min"].iloc[0] if len(best_after)
                                   else np.nan),
                "reachable_after": bool(len(best_after)),
            })
        frame = pd.DataFrame(rows)
        frame["delta_min"] = frame["time_after_min"] - frame["time_before_min"]
        return frame

    # ----------------------------------------------------------------- corridors
    def corridors(self, demand: pd.DataFrame | Sequence[tuple[object, object, float]]
                  ) -> gpd.GeoDataFrame:
        """Aggregate routes into flow per road segment.

        Parameters
        ----------
        demand
            Rows of (origin, destination, trucks_per_day): a DataFrame with those columns
            or a list of tuples. Each pair is routed on its fastest path.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per directed edge carrying flow: ``u``, ``v``, ``ref``, ``class``,
            ``trucks_per_day``, ``routes`` (how many OD pairs use it), geometry.
        """
        frame = (demand if isinstance(demand, pd.DataFrame)
                 else pd.DataFrame(list(demand), columns=["origin", "destination",
                                                          "trucks_per_day"]))
        missing = {"origin", "destination", "trucks_per_day"} - set(frame.columns)
        if missing:
            raise BorderGeoError(f"demand needs columns origin, destination, trucks_per_day; "
                                 f"missing {', '.join(sorted(missing))}")
        if (pd.to_numeric(frame["trucks_per_day"], errors="coerce").fillna(-1) < 0).any():
            raise BorderGeoError("trucks_per_day must be a number ≥ 0")
        flow = np.zeros(len(self.network.table))
        count = np.zeros(len(self.network.table), dtype=np.int64)
        search = self._search()
        for destination, group in frame.groupby("destination", sort=False):
            d = self.place(destination)
            dist, succ = search.tree(d.node)
            origins = [self.place(o) for o in group["origin"]]
            starts = np.array([o.node for o in origins], dtype=np.int64)
            cut = ~np.isfinite(dist[starts])
            if cut.any():
                o = origins[int(np.flatnonzero(cut)[0])]
                raise NoPathError(f"no route from {o.label!r} to {d.label!r}")
            _, chain, rows = search.walk([succ], np.zeros(len(starts), dtype=np.int64),
                                         starts, collect=True)
            trucks = pd.to_numeric(group["trucks_per_day"]).to_numpy(float)
            flow += np.bincount(rows, weights=trucks[chain], minlength=len(flow))
            count += np.bincount(rows, minlength=len(count))
        used = np.flatnonzero(count > 0)
        edges = self.network.table.iloc[used]
        return gpd.GeoDataFrame({"u": edges["u"].to_numpy(), "v": edges["v"].to_numpy(),
                                 "ref": edges["ref"].to_numpy(),
                                 "class": edges["class"].to_numpy(),
                                 "trucks_per_day": flow[used], "routes": count[used]},
                                geometry=self.network.edge_geometries(used),
                                crs=self.network.crs)


def _label(place: Place | UnattachedPlaceError) -> str:
    return place.label if isinstance(place, Place) else place.place_id


def _twin_index(edges: pd.DataFrame) -> NDArray[np.int64]:
    """Row of the reverse edge (v→u, same key) of each edge, or -1."""
    u = edges["u"].to_numpy(np.int64)
    v = edges["v"].to_numpy(np.int64)
    k = edges["key"].to_numpy(np.int64)
    forward = pd.MultiIndex.from_arrays([u, v, k])
    backward = pd.MultiIndex.from_arrays([v, u, k])
    return forward.get_indexer(backward).astype(np.int64)


def _undirected_ids(rows: NDArray[np.int64], twin: NDArray[np.int64]) -> NDArray[np.int64]:
    other = twin[rows]
    return np.where((other >= 0) & (other < rows), other, rows)
