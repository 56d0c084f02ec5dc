"""Truck routes from hubs to gates: single routes, matrices, alternatives, closures, corridors.

Every hot path runs on the network's compiled scipy CSR matrices; with few destinations
and many origins the search runs backwards from each destination on the reversed graph,
so the cost grows with the number of gates, not of origins. Results equal NetworkX's
Dijkstra on :meth:`RoadNetwork.to_graph` (the tests check it to 1e-6 s).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from bordergeo.datasets import BorderDataset
from bordergeo.errors import BorderGeoError, LookupFailedError
from bordergeo.names import find_place
from bordergeo.network import RoadNetwork, build_network

__all__ = [
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
    """

    def __init__(self, network: RoadNetwork, dataset: BorderDataset | None = None, *,
                 max_snap_m: float = 5_000.0) -> None:
        self.network = network
        self.dataset = dataset
        self.max_snap_m = max_snap_m
        self._lengths = network.table["length"].to_numpy(float)
        self._times = network.table["travel_time"].to_numpy(float)

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
        nodes = [target]
        while nodes[-1] != source:
            prev = int(pred[nodes[-1]])
            if prev < 0:
                raise NoPathError("broken predecessor chain")  # pragma: no cover
            nodes.append(prev)
        return nodes[::-1]

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
        for ref in self.network.table["ref"].to_numpy()[rows]:
            if isinstance(ref, str) and ref and (not refs or refs[-1] != ref):
                refs.append(ref)
        return Route(origin, destination, [int(n) for n in arr], rows,
                     float(self._lengths[rows].sum()), float(self._times[rows].sum()),
                     geometry, refs)

    def route(self, origin: object, destination: object, *,
              csr: sparse.csr_matrix | None = None) -> Route:
        """Return the fastest route between two places.

        Parameters
        ----------
        origin, destination
            Anything :meth:`place` accepts.
        csr
            A travel-time matrix to use instead of the network's (closures, penalties).

        Returns
        -------
        Route

        Raises
        ------
        NoPathError
            If no path connects them.
        """
        a, b = self.place(origin), self.place(destination)
        matrix = self.network.travel_time_csr if csr is None else csr
        dist, pred = dijkstra(matrix, directed=True, indices=a.node, return_predecessors=True)
        if not np.isfinite(dist[b.node]):
            raise NoPathError(f"no route from {a.label!r} to {b.label!r}: the road network "
                              f"does not connect them")
        return self._route_from_nodes(a, b, self._path_nodes(pred, a.node, b.node))

    # ----------------------------------------------------------------- matrix
    def _walk_lengths(self, nxt: NDArray[np.int32], starts: NDArray[np.int64],
                      targets: NDArray[np.int64]) -> NDArray[np.float64]:
        """Tree-path length from every start to every target, all walked at once.

        ``nxt[j]`` is the next-hop array toward target ``j`` (from a backward search);
        returns an array ``(len(targets), len(starts))``; NaN where unreachable.
        """
        gate = np.repeat(np.arange(len(targets)), len(starts))
        cur = np.tile(starts, len(targets))
        total = np.zeros(len(cur))
        goal = targets[gate]
        active = (cur != goal) & (nxt[gate, cur] >= 0)
        unreachable = (cur != goal) & ~active
        while active.any():
            idx = np.flatnonzero(active)
            step = nxt[gate[idx], cur[idx]].astype(np.int64)
            total[idx] += self._lengths[self.network.edge_between(cur[idx], step)]
            cur[idx] = step
            active[idx] = (step != goal[idx]) & (nxt[gate[idx], step] >= 0)
        total[unreachable] = np.nan
        return total.reshape(len(targets), len(starts))

    def matrix(self, origins: Sequence[object], destinations: Sequence[object], *,
               csr_reversed: sparse.csr_matrix | None = None) -> pd.DataFrame:
        """Travel time and distance of the fastest route for every origin × destination.

        Searches backwards from each destination on the reversed graph.

        Parameters
        ----------
        origins, destinations
            Places (ids, names, coordinates).
        csr_reversed
            Reversed travel-time matrix to use (e.g. with closures); default the network's.

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
        src = [self._place_or_far(o) for o in origins]
        dst = [self._place_or_far(d) for d in destinations]
        if not src or not dst:
            raise BorderGeoError("a matrix needs at least one origin and one destination")
        src_ok = np.array([isinstance(s, Place) for s in src], dtype=bool)
        dst_ok = np.array([isinstance(d, Place) for d in dst], dtype=bool)
        times = np.full((len(dst), len(src)), np.nan)
        lengths = np.full((len(dst), len(src)), np.nan)
        if src_ok.any() and dst_ok.any():
            on_dst = [d for d in dst if isinstance(d, Place)]
            on_src = [s for s in src if isinstance(s, Place)]
            rev = (self.network.travel_time_csr_reversed if csr_reversed is None
                   else csr_reversed)
            dist, nxt = dijkstra(rev, directed=True, indices=[d.node for d in on_dst],
                                 return_predecessors=True)
            dist, nxt = np.atleast_2d(dist), np.atleast_2d(nxt)
            starts = np.array([s.node for s in on_src], dtype=np.int64)
            walked = self._walk_lengths(nxt, starts,
                                        np.array([d.node for d in on_dst], dtype=np.int64))
            found = dist[:, starts]
            rows, cols = np.flatnonzero(dst_ok), np.flatnonzero(src_ok)
            times[np.ix_(rows, cols)] = np.where(np.isfinite(found), found / 60.0, np.nan)
            lengths[np.ix_(rows, cols)] = np.where(np.isfinite(found), walked / 1000.0, np.nan)
        records = []
        for j, d in enumerate(dst):
            for i, s in enumerate(src):
                ok = bool(np.isfinite(times[j, i]))
                if not src_ok[i]:
                    reason = f"origin not on the network ({s.distance_m / 1000:.1f} km from a road)"
                elif not dst_ok[j]:
                    reason = (f"destination not on the network ({d.distance_m / 1000:.1f} km "
                              f"from a road)")
                else:
                    reason = None if ok else "no path"
                records.append((_label(s), _label(d), times[j, i], lengths[j, i], ok, reason))
        frame = pd.DataFrame(records, columns=["origin", "destination", "travel_time_min",
                                               "length_km", "reachable", "reason"])
        order = {_label(s): k for k, s in enumerate(src)}
        return frame.sort_values("origin", key=lambda c: c.map(order), kind="stable"
                                 ).reset_index(drop=True)

    def _place_or_far(self, query: object) -> Place | UnattachedPlaceError:
        """Resolve a place; a gate or hub too far from the roads comes back as its error."""
        try:
            return self.place(query)
        except UnattachedPlaceError as exc:
            return exc

    def times_to(self, destinations: Sequence[object]) -> NDArray[np.float64]:
        """Travel time (s) from every node to each destination: shape (n_dest, n_nodes)."""
        nodes = [self.place(d).node for d in destinations]
        return dijkstra(self.network.travel_time_csr_reversed, directed=True, indices=nodes)

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
        for _ in range(max_tries):
            csr = self.network.csr(weights)
            dist, pred = dijkstra(csr, directed=True, indices=a.node, return_predecessors=True)
            if not np.isfinite(dist[b.node]):
                if not kept:
                    raise NoPathError(f"no route from {a.label!r} to {b.label!r}")
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
        before = self.matrix(origins, gate_places)
        open_gates = [g for g in gate_places if g.label not in shut]
        if open_gates:
            rev = self.network.csr("travel_time", edge_mask=~mask, transpose=True)
            after = self.matrix(origins, open_gates, csr_reversed=rev)
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
        by_destination = frame.groupby("destination", sort=False)
        for destination, group in by_destination:
            d = self.place(destination)
            dist, nxt = dijkstra(self.network.travel_time_csr_reversed, directed=True,
                                 indices=d.node, return_predecessors=True)
            for origin, trucks in zip(group["origin"], group["trucks_per_day"], strict=True):
                o = self.place(origin)
                if not np.isfinite(dist[o.node]):
                    raise NoPathError(f"no route from {o.label!r} to {d.label!r}")
                nodes = [o.node]
                while nodes[-1] != d.node:
                    nodes.append(int(nxt[nodes[-1]]))
                arr = np.asarray(nodes, dtype=np.int64)
                rows = self.network.edge_between(arr[:-1], arr[1:])
                np.add.at(flow, rows, float(trucks))
                np.add.at(count, rows, 1)
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
