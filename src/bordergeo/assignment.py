"""Gate choice and flow regulation: truck demand assigned over roads and gates.

Every hub sends trucks to China; each usable gate is a link from its road node to one
"China" sink. Roads have BPR volume–delay functions, gates a queue-based (Akcelik) delay
with the gate's daily capacity and open hours. The assignment finds the user equilibrium
(each truck takes its cheapest gate: Wardrop's first principle) or the system optimum (the
least total truck-hours: what the province's flow regulation could reach); the relative
gap is reported per iteration.

Three algorithms share the same costs and gap: path-based gradient projection (default),
conjugate Frank–Wolfe and classic Frank–Wolfe. Shortest paths run on the links' reversed
graph, compiled once: one backward search from the sink gives every origin's cheapest path
at once, one from each gate its cheapest path through that gate.

Gradient projection alternates two steps. A gate split re-divides every origin's trucks
between the gates at the current road costs, with the gates' exact delays, all origins at
once (a Newton method on one price per gate); Newton shifts origin by origin then even
out the routes. Visiting origins one at a time cannot settle the gates alone: an origin
moves only until the gate prices it meets are equal, so trucks swap gates a fraction at a
time, and a system optimum took a thousand iterations to reach a gap of 1e-4.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from bordergeo.errors import BorderGeoError, DataFileError
from bordergeo.gates import DIRECTIONS, capacity_gates, crossing_ids, gate_operations
from bordergeo.inputs import (
    MAX_TARGET_GAP,
    MAX_TRUCKS_PER_DAY,
    check_finite,
    check_number,
    preview,
)
from bordergeo.network import RoadNetwork

__all__ = ["AssignmentResult", "assign", "checked_demand", "bpr", "akcelik", "linear_delay",
           "logit_shares", "TRUCK_PCE", "LANE_CAPACITY_PCU_H"]

logger = logging.getLogger(__name__)

#: Passenger-car equivalents of a semi-trailer on rolling terrain (LRM manual via the
#: domain notes: 2.5 flat, 2.88 rolling, 3.25 mountainous).
TRUCK_PCE = 2.88
#: Capacity of one lane in PCU per hour (HCM-type default for two-lane highways).
LANE_CAPACITY_PCU_H = 1_800.0
#: Akcelik delay parameter of a gate link.
GATE_DELAY_J = 0.4
#: Keeps the conjugate mix away from the previous target alone.
_CFW_DELTA = 0.01
#: Newton shifts per origin and iteration of gradient projection.
_GP_INNER_PASSES = 3
#: BPR α of the road links (β = 4).
_BPR_ALPHA = 0.15
#: Gate split: entropy weight τ from this fraction of a typical path cost …
_SPLIT_COARSEST = 1e-2
#: … down to this fraction of the target gap (of a typical path cost), by this factor …
_SPLIT_FINEST, _SPLIT_SHRINK = 1e-2, 10 ** 0.5
#: … with at most this many Newton steps at each τ.
_SPLIT_NEWTON_STEPS = 50


def bpr(t0: NDArray, volume: NDArray, capacity: NDArray, *, alpha: float = 0.15,
        beta: float = 4.0) -> NDArray:
    """BPR link time ``t0 · (1 + α (v/c)^β)``."""
    ratio = volume / capacity
    if beta == 4.0:  # the default: two multiplications instead of a float power
        squared = ratio * ratio
        return t0 * (1 + alpha * squared * squared)
    return t0 * (1 + alpha * ratio ** beta)


def akcelik(t0: NDArray, volume: NDArray, capacity: NDArray, period_h: NDArray, *,
            j: float = GATE_DELAY_J) -> NDArray:
    """Queue-based time on a gate link, hours: ``t0 + ¼T[(x−1) + √((x−1)² + 8Jx/c)]``.

    ``c`` is the daily capacity (trucks), ``T`` the hours open per day, ``x = v/c``.
    """
    x = volume / capacity
    return t0 + 0.25 * period_h * ((x - 1) + np.sqrt((x - 1) ** 2 + 8 * j * x / capacity))


def linear_delay(t0: NDArray, volume: NDArray, capacity: NDArray, period_h: NDArray
                 ) -> NDArray:
    """Linear gate time, hours: ``t0 + ½T · v/c``.

    At capacity a truck waits half the gate's open hours. Cruder than :func:`akcelik`
    (it allows flows above capacity at a finite cost) but its equilibria can be checked
    by hand, e.g. two parallel gates split demand ``D`` so that
    ``x₁ = (a₂ − a₁ + b₂D) / (b₁ + b₂)``.
    """
    return t0 + 0.5 * period_h * volume / capacity


def _bpr_slope(t0: NDArray, volume: NDArray, capacity: NDArray, *, alpha: float = 0.15,
               beta: float = 4.0) -> NDArray:
    """Return the derivative of :func:`bpr` by volume."""
    return t0 * alpha * beta * volume ** (beta - 1) / capacity ** beta


def _akcelik_derivative(volume: NDArray, capacity: NDArray, period_h: NDArray, *,
                        j: float = GATE_DELAY_J) -> NDArray:
    x = volume / capacity
    root = np.sqrt((x - 1) ** 2 + 8 * j * x / capacity)
    return 0.25 * period_h / capacity * (1 + ((x - 1) + 4 * j / capacity) / root)


def _akcelik_curvature(volume: NDArray, capacity: NDArray, period_h: NDArray, *,
                       j: float = GATE_DELAY_J) -> NDArray:
    """Second derivative of :func:`akcelik` by volume."""
    x = volume / capacity
    root = np.sqrt((x - 1) ** 2 + 8 * j * x / capacity)
    k = 8 * j / capacity
    return 0.25 * period_h / capacity ** 2 * k * (1 - k / 4) / root ** 3


def _akcelik_integral(t0: NDArray, volume: NDArray, capacity: NDArray, period_h: NDArray, *,
                      j: float = GATE_DELAY_J) -> NDArray:
    """``∫₀^v akcelik`` (truck-hours): a gate's term of the user-equilibrium objective."""
    x = volume / capacity
    k = 8 * j / capacity
    shift, spread = 1 - k / 2, k * (1 - k / 4)   # (x − 1)² + kx = (x − shift)² + spread

    def primitive(u: NDArray) -> NDArray:   # ∫ √(u² + spread) du
        root = np.sqrt(u * u + spread)
        above = np.where(u >= 0, u + root, spread / (root - u))  # u + root without cancelling
        return 0.5 * (u * root + spread * np.log(above))

    queue = 0.5 * x * x - x + primitive(x - shift) - primitive(-shift)
    return t0 * volume + 0.25 * period_h * capacity * queue


@dataclass
class AssignmentResult:
    """Flows and costs at the end of an assignment.

    Attributes
    ----------
    objective
        ``"ue"`` (user equilibrium) or ``"so"`` (system optimum).
    gates
        Per gate: ``gate_id``, ``trucks_per_day``, ``capacity_trucks_day``,
        ``utilisation``, ``wait_h`` (queue delay at the gate), ``gate_time_h``.
    roads
        Directed road edges carrying flow: ``u``, ``v``, ``ref``, ``trucks_per_day``,
        ``capacity_trucks_day``, ``volume_capacity``, ``travel_time_h`` and geometry.
    origins
        Per origin: ``origin``, ``trucks_per_day``, ``cost_h`` (cheapest path cost).
    relative_gap
        Relative gap after each iteration.
    total_truck_hours
        Σ flow × time over all links (per day).
    costs
        Cheapest cost (hours, at the final link times) from each origin through each gate:
        ``origin``, ``gate_id``, ``cost_h`` (inf when the gate cannot be reached). At user
        equilibrium every gate an origin uses costs that origin its minimum.
    origin_gates
        Trucks/day from each origin through each gate it uses: ``origin``, ``gate_id``,
        ``trucks_per_day`` (and ``direction`` when the demand gives one).
    goods
        With a ``goods`` column in the demand: trucks/day of each goods class by gate
        (``goods``, ``gate_id``, ``trucks_per_day``), each origin's classes sharing its
        gate split in proportion (classes have the same costs, so this is an equilibrium).
    target_gap
        The relative gap the run was asked to reach; see :attr:`converged`.
    """

    objective: str
    gates: pd.DataFrame
    roads: gpd.GeoDataFrame
    origins: pd.DataFrame
    relative_gap: list[float] = field(default_factory=list)
    total_truck_hours: float = 0.0
    costs: pd.DataFrame = field(default_factory=pd.DataFrame)
    origin_gates: pd.DataFrame = field(default_factory=pd.DataFrame)
    goods: pd.DataFrame = field(default_factory=pd.DataFrame)
    target_gap: float = 1e-4

    @property
    def converged(self) -> bool:
        """Whether the last relative gap reached the target (flows are an equilibrium)."""
        return bool(self.relative_gap) and self.relative_gap[-1] <= self.target_gap

    @property
    def total_trucks_per_day(self) -> float:
        """Total demand assigned."""
        return float(self.origins["trucks_per_day"].sum())

    @property
    def iterations(self) -> int:
        """Iterations run."""
        return len(self.relative_gap)

    def to_dict(self) -> dict:
        """JSON-ready summary (keys as the CLI prints them)."""
        return {
            "objective": self.objective,
            "relative_gap": self.relative_gap[-1] if self.relative_gap else None,
            "iterations": self.iterations,
            "target_gap": self.target_gap,
            "converged": self.converged,
            "total_trucks_per_day": self.total_trucks_per_day,
            "total_truck_hours": self.total_truck_hours,
            "gates": {str(row["gate_id"]): {key: float(value) for key, value in row.items()
                                            if key != "gate_id" and key != "gate_time_h"}
                      for _, row in self.gates.iterrows()},
        }


class _Graph:
    """The links' reversed adjacency, compiled once; per cost, the cheapest parallel link.

    A backward search from a node gives every node's cheapest path *to* it. Parallel
    links (same tail and head) become one matrix entry: the cheapest, the lowest row on
    ties. Rows are heads and columns tails, in sorted order (the matrix scipy builds from
    the same entries), so every search returns what a freshly built matrix would.
    """

    def __init__(self, tail: NDArray[np.int64], head: NDArray[np.int64], n_nodes: int) -> None:
        order = np.lexsort((head, tail))
        key = tail[order] * n_nodes + head[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        self.n_nodes = n_nodes
        self.order = order
        self.starts = np.flatnonzero(first)
        self.pairs = key[first]
        self.parallel = len(self.starts) < len(order)
        if self.parallel:
            sizes = np.diff(np.append(self.starts, len(order)))
            self.group = np.repeat(np.arange(len(self.starts)), sizes)
        pair_tail, pair_head = tail[order[first]], head[order[first]]
        self.matrix_order = np.lexsort((pair_tail, pair_head))
        index_type = np.int32 if n_nodes < 2**31 - 1 else np.int64
        self.indices = pair_tail[self.matrix_order].astype(index_type)
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(pair_head,
                                                                 minlength=n_nodes))]
                                     ).astype(index_type)

    def cheapest(self, cost: NDArray) -> tuple[NDArray, NDArray[np.int64]]:
        """Cost and row of the cheapest link of every (tail, head) pair, by pair key."""
        ordered = cost[self.order]
        if not self.parallel:
            return ordered, self.order
        pair_cost = np.minimum.reduceat(ordered, self.starts)
        hit = np.flatnonzero(ordered == pair_cost[self.group])
        first = np.ones(len(hit), dtype=bool)
        first[1:] = self.group[hit[1:]] != self.group[hit[:-1]]
        return pair_cost, self.order[hit[first]]

    def matrix(self, pair_cost: NDArray) -> sparse.csr_matrix:
        """Return the reversed graph with these pair costs."""
        return sparse.csr_matrix((pair_cost[self.matrix_order], self.indices, self.indptr),
                                 shape=(self.n_nodes, self.n_nodes))

    def search(self, cost: NDArray, sources: NDArray[np.int64] | int
               ) -> tuple[NDArray, NDArray, NDArray[np.int64]]:
        """Backward search from each source: distances, next node and the chosen links.

        Returns
        -------
        dist, nxt : numpy.ndarray
            What :func:`scipy.sparse.csgraph.dijkstra` returns on the reversed graph:
            ``dist`` is each node's cheapest cost to the source, ``nxt`` the next node on
            that path (-9999 at the source and at nodes that cannot reach it).
        chosen : numpy.ndarray
            The link row of each pair key (see :meth:`step`).
        """
        pair_cost, chosen = self.cheapest(cost)
        dist, nxt = dijkstra(self.matrix(pair_cost), directed=True, indices=sources,
                             return_predecessors=True)
        return dist, nxt, chosen

    def step(self, node: NDArray[np.int64], nxt: NDArray[np.int64], chosen: NDArray[np.int64]
             ) -> NDArray[np.int64]:
        """Link rows from ``node`` to ``nxt`` (the cheapest of their parallel links)."""
        return chosen[np.searchsorted(self.pairs, node * self.n_nodes + nxt)]

    def walk(self, nxt: NDArray, start: NDArray[np.int64], stop: NDArray[np.int64],
             chosen: NDArray[np.int64], tree: NDArray[np.int64] | None = None
             ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Follow search trees from each start node to its stop node.

        ``nxt`` is one tree (1-D) or one per source (2-D, with ``tree`` giving each start's
        row). Returns (start position, link row) pairs, in driving order per start.
        """
        cur = np.asarray(start, dtype=np.int64).copy()
        owners, links = [], []
        active = np.flatnonzero(cur != stop)
        while len(active):
            here = cur[active]
            step = (nxt[here] if tree is None else nxt[tree[active], here]).astype(np.int64)
            owners.append(active)
            links.append(self.step(here, step, chosen))
            cur[active] = step
            active = active[step != stop[active]]
        if not owners:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(owners), np.concatenate(links)


@dataclass
class _GateTrees:
    """Backward search trees from every gate (see :meth:`_Links.gate_trees`)."""

    via: NDArray
    nxt: NDArray
    gate_nodes: NDArray
    chosen: NDArray


class _Links:
    """Road edges plus gate links to one sink node, as flat arrays (times in hours)."""

    def __init__(self, network: RoadNetwork, gates: pd.DataFrame, *,
                 direction: str, truck_pce: float, lane_capacity_pcu_h: float,
                 gate_delay: str = "akcelik", reverse_roads: bool = False) -> None:
        self.gate_delay = gate_delay
        self.origin_labels: list[str] = []
        table = network.table
        n_roads = len(table)
        self.sink = network.n_nodes
        self.n_nodes = network.n_nodes + 1
        lanes = (table["lanes"].to_numpy(float) if "lanes" in table.columns
                 else np.full(n_roads, np.nan))
        lanes = np.where(np.isfinite(lanes), lanes, 2.0)
        per_direction = np.where(table["oneway"].to_numpy(bool), lanes, np.maximum(lanes / 2, 1))
        road_cap = per_direction * lane_capacity_pcu_h * 24.0 / truck_pce
        gate_rows = []
        carries = capacity_gates(gates).to_numpy()
        for (_, gate), own in zip(gates.iterrows(), carries, strict=True):
            if not own:  # a crossing whose lanes carry its capacity
                continue
            ops = gate_operations(gate)
            cap = ops.capacity_trucks_day(direction)
            node = network.places.get(str(gate["id"]))
            if node is None or not np.isfinite(cap) or cap <= 0 or gate["mode"] != "road":
                continue
            rate = ops.rate_for(direction) if direction in DIRECTIONS \
                else ops.service_rate_trucks_h
            gate_rows.append((str(gate["id"]), node, cap,
                              max(ops.open_hours_for(direction), 1.0), 1.0 / rate))
        if not gate_rows:
            raise BorderGeoError("no open road gate with a known capacity to assign to")
        gate_frame = pd.DataFrame(gate_rows, columns=["gate_id", "node", "capacity",
                                                      "period_h", "t0_h"])
        self.gate_ids = gate_frame["gate_id"].tolist()
        self.n_roads = n_roads
        # imports drive from the gate to the hub: searching hub → gate on reversed roads
        # finds the same paths, and the flow of reversed link i is the flow of road edge i
        start, end = ("v", "u") if reverse_roads else ("u", "v")
        self.tail = np.r_[table[start].to_numpy(np.int64), gate_frame["node"].to_numpy(np.int64)]
        self.head = np.r_[table[end].to_numpy(np.int64), np.full(len(gate_frame), self.sink)]
        self.t0 = np.r_[table["travel_time"].to_numpy(float) / 3600.0,
                        gate_frame["t0_h"].to_numpy(float)]
        self.capacity = np.r_[road_cap, gate_frame["capacity"].to_numpy(float)]
        self.period = np.r_[np.zeros(n_roads), gate_frame["period_h"].to_numpy(float)]
        # BPR as t0 + a·v⁴ (α = 0.15, β = 4): one product per link instead of a power
        self._bpr_a = _BPR_ALPHA * self.t0[:n_roads] / road_cap ** 4
        self._graph: _Graph | None = None

    @property
    def graph(self) -> _Graph:
        """The compiled reversed graph (built on first use)."""
        if self._graph is None:
            self._graph = _Graph(self.tail, self.head, self.n_nodes)
        return self._graph

    @property
    def gate_nodes(self) -> NDArray[np.int64]:
        """Road node of each gate link."""
        return self.tail[self.n_roads:]

    def _gate_time(self, t0: NDArray, v: NDArray, c: NDArray, period: NDArray) -> NDArray:
        if self.gate_delay == "linear":
            return linear_delay(t0, v, c, period)
        return akcelik(t0, v, c, period)

    def _gate_slope(self, v: NDArray, c: NDArray, period: NDArray) -> NDArray:
        if self.gate_delay == "linear":
            return 0.5 * period / c
        return _akcelik_derivative(v, c, period)

    def time(self, flow: NDArray) -> NDArray:
        """Time (h) on every link at these flows."""
        r = self.n_roads
        return np.r_[bpr(self.t0[:r], flow[:r], self.capacity[:r]),
                     self._gate_time(self.t0[r:], flow[r:], self.capacity[r:],
                                     self.period[r:])]

    def derivative(self, flow: NDArray) -> NDArray:
        """Return d(time)/d(flow) per link: the diagonal Hessian for conjugate FW."""
        r = self.n_roads
        return np.r_[_bpr_slope(self.t0[:r], flow[:r], self.capacity[:r]),
                     self._gate_slope(flow[r:], self.capacity[r:], self.period[r:])]

    def marginal(self, flow: NDArray) -> NDArray:
        """Marginal cost t + v·t' of every link (the system optimum's link cost)."""
        return self.time(flow) + flow * self.derivative(flow)

    def road_cost(self, rows: NDArray[np.int64], v: NDArray, so: bool
                  ) -> tuple[NDArray, NDArray]:
        """Cost (time, or marginal cost for SO) of some road links and its slope."""
        a = self._bpr_a[rows]
        av3 = a * (v * v * v)
        if so:  # t + v·t' = t0 + 5a·v⁴, slope 20a·v³
            return self.t0[rows] + 5.0 * av3 * v, 20.0 * av3
        return self.t0[rows] + av3 * v, 4.0 * av3

    def gate_cost(self, gates: NDArray[np.int64] | slice, v: NDArray, so: bool
                  ) -> tuple[NDArray, NDArray]:
        """Cost (time, or marginal cost for SO) of some gate links and its slope."""
        r = self.n_roads
        if isinstance(gates, slice):
            gates = np.arange(len(self.gate_ids))[gates]
        t0, c, period = self.t0[r + gates], self.capacity[r + gates], self.period[r + gates]
        if self.gate_delay == "linear":
            b = 0.5 * period / c
            if so:
                return t0 + 2.0 * b * v, 2.0 * b
            return t0 + b * v, b
        x = v / c
        below = x - 1
        k = 8 * GATE_DELAY_J / c
        root = np.sqrt(below * below + k * x)
        quarter = 0.25 * period
        time = t0 + quarter * (below + root)
        slope = quarter / c * (1 + (below + 0.5 * k) / root)
        if so:  # t + v·t', slope 2t' + v·t'' (t'' from _akcelik_curvature)
            return time + v * slope, \
                2.0 * slope + v * (quarter / (c * c) * k * (1 - 0.25 * k) / root ** 3)
        return time, slope

    def cost(self, flow: NDArray, so: bool) -> tuple[NDArray, NDArray]:
        """Cost (time, or marginal cost for SO) of every link and its slope."""
        r = self.n_roads
        road, road_slope = self.road_cost(np.arange(r), flow[:r], so)
        gate, gate_slope = self.gate_cost(slice(None), flow[r:], so)
        return np.r_[road, gate], np.r_[road_slope, gate_slope]

    def cost_of(self, rows: NDArray[np.int64], v: NDArray, so: bool
                ) -> tuple[NDArray, NDArray]:
        """Cost and slope of any links (rows in any order)."""
        road = rows < self.n_roads
        cost, slope = np.empty(len(rows)), np.empty(len(rows))
        cost[road], slope[road] = self.road_cost(rows[road], v[road], so)
        gate = ~road
        cost[gate], slope[gate] = self.gate_cost(rows[gate] - self.n_roads, v[gate], so)
        return cost, slope

    def objective_slope(self, flow: NDArray, direction: NDArray, step: float, so: bool
                        ) -> tuple[float, float]:
        """First and second derivative of the objective along ``direction`` at ``step``.

        Only the links the direction moves are evaluated.
        """
        rows = np.flatnonzero(direction)
        d = direction[rows]
        cost, slope = self.cost_of(rows, flow[rows] + step * d, so)
        return float(d @ cost), float((d * d) @ slope)

    def load(self, owner: NDArray[np.int64], link: NDArray[np.int64],
             volume: NDArray) -> NDArray:
        """Link flows when each origin sends its volume along its tree path."""
        return np.bincount(link, weights=volume[owner], minlength=len(self.t0)).astype(float)

    def costs_via_gates(self, cost: NDArray, origins: NDArray[np.int64]) -> NDArray:
        """Cheapest cost from each origin through each gate (origins × gates, hours)."""
        dist, _, _ = self.graph.search(cost, self.gate_nodes)
        return dist[:, origins].T + cost[self.n_roads:][None, :]

    def tree_paths(self, cost: NDArray, origins: NDArray[np.int64], demand: NDArray
                   ) -> tuple[NDArray, NDArray[np.int64], NDArray[np.int64]]:
        """Cheapest path of every origin to the sink, from one backward search.

        Returns
        -------
        shortest : numpy.ndarray
            Cost of each origin's cheapest path (0 for an unreachable origin without
            demand).
        owner, link : numpy.ndarray
            Pairs (origin position, link row) of every link on those paths, in driving
            order for each origin.
        """
        dist, nxt, chosen = self.graph.search(cost, self.sink)
        cur = origins.copy()
        self._check_reachable(np.isfinite(dist[cur]), demand)
        cur[~np.isfinite(dist[cur])] = self.sink
        owner, link = self.graph.walk(nxt, cur, np.full(len(cur), self.sink), chosen)
        shortest = dist[origins]
        return np.where(np.isfinite(shortest), shortest, 0.0), owner, link

    def _check_reachable(self, reachable: NDArray[np.bool_], demand: NDArray) -> None:
        """Refuse demand from an origin that reaches no gate."""
        unreachable = np.flatnonzero(~reachable & (demand > 0))
        if len(unreachable):
            k = int(unreachable[0])
            label = self.origin_labels[k] if k < len(self.origin_labels) else f"#{k + 1}"
            raise BorderGeoError(f"demand from {label!r} has no path to an open road gate "
                                 f"(closed gates, or roads that do not connect)")

    def gate_trees(self, cost: NDArray, origins: NDArray[np.int64]) -> _GateTrees:
        """Cheapest paths from every origin through every gate, one backward search per gate.

        The result's ``via`` is the cost of each origin's cheapest path through each gate
        (origins × gates, h; inf where a gate cannot be reached).
        """
        dist, nxt, chosen = self.graph.search(cost, self.gate_nodes)
        via = dist[:, origins].T + cost[self.n_roads:][None, :]
        return _GateTrees(via, nxt, self.gate_nodes, chosen)

    def load_via_gates(self, trees: _GateTrees, origins: NDArray[np.int64], trucks: NDArray
                       ) -> NDArray:
        """Link flows when ``trucks[i, g]`` go from origin ``i`` through gate ``g``."""
        flow = np.zeros(len(self.t0))
        r = self.n_roads
        row, gate = np.nonzero(np.isfinite(trees.via) & (trucks > 0))
        owner, link = self.graph.walk(trees.nxt, origins[row], trees.gate_nodes[gate],
                                      trees.chosen, tree=gate)
        flow += np.bincount(link, weights=trucks[row, gate][owner], minlength=len(flow))
        flow[r:] += np.bincount(gate, weights=trucks[row, gate], minlength=len(trees.gate_nodes))
        return flow

    def gate_choice(self, owner: NDArray[np.int64], link: NDArray[np.int64],
                    volume: NDArray) -> NDArray:
        """Trucks of each origin by gate (origins × gates) for one set of tree paths."""
        choice = np.zeros((len(volume), len(self.gate_ids)))
        at_gate = link >= self.n_roads
        choice[owner[at_gate], link[at_gate] - self.n_roads] = volume[owner[at_gate]]
        return choice

    def all_or_nothing(self, cost: NDArray, origins: NDArray[np.int64],
                       demand: NDArray) -> tuple[NDArray, NDArray]:
        """Load each origin's demand on its cheapest path to the sink."""
        shortest, owner, link = self.tree_paths(cost, origins, demand)
        return self.load(owner, link, demand), shortest


def _record_gap(gaps: list[float], flow: NDArray, cost: NDArray, volume: NDArray,
                shortest: NDArray) -> float:
    """Append the relative gap (Σ flow·cost − Σ demand·shortest) / Σ flow·cost; return it."""
    total = float(np.dot(flow, cost))
    gap = (total - float(np.dot(volume, shortest))) / total if total > 0 else 0.0
    gaps.append(max(gap, 0.0))
    logger.debug("iteration %d: relative gap %.3g", len(gaps), gap)
    return gap


def _frank_wolfe(links: _Links, origins: NDArray[np.int64], volume: NDArray, *, so: bool,
                 max_iter: int, target_gap: float, conjugate: bool
                 ) -> tuple[NDArray, list[float], NDArray]:
    """Link-based Frank–Wolfe, classic or conjugate.

    Returns link flows, the gaps, and each origin's trucks by gate (every iterate is a
    convex combination of all-or-nothing loads, so the origin × gate table follows the
    same combination).
    """
    _, owner, link = links.tree_paths(links.t0.copy(), origins, volume)
    flow = links.load(owner, link, volume)
    choice = links.gate_choice(owner, link, volume)
    gaps: list[float] = []
    previous: tuple[NDArray, NDArray] | None = None
    for _ in range(max_iter):
        cost = links.marginal(flow) if so else links.time(flow)
        shortest, owner, link = links.tree_paths(cost, origins, volume)
        target = links.load(owner, link, volume)
        if _record_gap(gaps, flow, cost, volume, shortest) < target_gap:
            break
        target_choice = links.gate_choice(owner, link, volume)
        if conjugate and previous is not None:
            alpha = _conjugate_target(links, flow, target, previous[0], cost, so)
            target = alpha * previous[0] + (1.0 - alpha) * target
            target_choice = alpha * previous[1] + (1.0 - alpha) * target_choice
        step = _line_search(links, flow, target - flow, so)
        flow = flow + step * (target - flow)
        choice = choice + step * (target_choice - choice)
        previous = (target, target_choice)
    return flow, gaps, choice


def _conjugate_target(links: _Links, flow: NDArray, target: NDArray, previous: NDArray,
                      cost: NDArray, so: bool) -> float:
    """Conjugate Frank–Wolfe target (Mitradjieva & Lindberg 2013).

    Returns the weight α of the previous target in ``α·previous + (1 − α)·target``, the
    mix whose direction is conjugate to the last one under the diagonal Hessian; 0 (the
    plain Frank–Wolfe target) when that mix would not descend.
    """
    hessian = links.derivative(flow) * (2.0 if so else 1.0)
    towards_previous = previous - flow
    numerator = float(np.dot(towards_previous * hessian, target - flow))
    denominator = float(np.dot(towards_previous * hessian, target - previous))
    if denominator == 0.0:
        return 0.0
    alpha = min(max(numerator / denominator, 0.0), 1.0 - _CFW_DELTA)
    mixed = alpha * previous + (1.0 - alpha) * target
    if float(np.dot(mixed - flow, cost)) >= 0.0:
        return 0.0
    return alpha


def _line_search(links: _Links, flow: NDArray, direction: NDArray, so: bool) -> float:
    """Step in [0, 1] along ``direction`` that minimises the objective.

    The objective's slope along the direction rises with the step (costs rise with flow),
    so its root is bracketed and found by safeguarded Newton steps on the moved links.
    """
    slope, curvature = links.objective_slope(flow, direction, 1.0, so)
    if slope <= 0:
        return 1.0
    start, _ = links.objective_slope(flow, direction, 0.0, so)
    if start >= 0:
        return 0.0
    low, high, step = 0.0, 1.0, 1.0
    for _ in range(60):
        trial = step - slope / curvature if curvature > 0 else -1.0
        step = trial if low < trial < high else 0.5 * (low + high)
        slope, curvature = links.objective_slope(flow, direction, step, so)
        if slope > 0:
            high = step
        else:
            low = step
        if abs(slope) <= 1e-12 * -start or high - low <= 1e-14:
            break
    return step


class _GateSplit:
    """Every origin's split between gates at fixed road costs: the gate-space subproblem.

    With the road costs ``r[o, g]`` of each origin's cheapest path to each gate held
    fixed, the equilibrium split minimises ``Σ_g Φ_g(G_g) + Σ r·x`` over the trucks
    ``x[o, g]`` of each origin (``G_g`` the gate's total; ``Φ_g`` the integral of the
    gate time for UE, ``G·t(G)`` for SO). Its dual has one price per gate; an entropy term
    ``τ Σ x log x`` smooths it, and damped Newton steps in gate space solve it while τ
    shrinks to a small fraction of a typical path cost. Every origin meets every gate's
    price at once, so trucks swap gates together instead of one origin at a time.
    """

    def __init__(self, links: _Links, so: bool) -> None:
        self.links = links
        self.so = so
        self.gates = np.arange(len(links.gate_ids))
        self.previous: tuple[NDArray, NDArray] | None = None

    def cost(self, total: NDArray) -> tuple[NDArray, NDArray]:
        """Cost (time, or marginal cost for SO) of every gate at these totals, and slope."""
        return self.links.gate_cost(self.gates, total, self.so)

    def objective(self, total: NDArray) -> NDArray:
        """Φ_g(G_g) of every gate (its derivative is :meth:`cost`)."""
        links, r = self.links, self.links.n_roads
        t0, c, period = links.t0[r:], links.capacity[r:], links.period[r:]
        if links.gate_delay == "linear":
            b = 0.5 * period / c
            return t0 * total + (1.0 if self.so else 0.5) * b * total * total
        if self.so:
            return total * akcelik(t0, total, c, period)
        return _akcelik_integral(t0, total, c, period)

    def solve(self, road_h: NDArray, volume: NDArray, *, target_gap: float) -> NDArray:
        """Trucks of each origin by gate (origins × gates) at these road costs."""
        reach = np.isfinite(road_h)
        if road_h.shape[1] == 1:
            return volume[:, None] * reach
        road = np.where(reach, road_h, np.inf)
        supply = float(volume.sum())
        if self.previous is None:  # every gate equally busy
            capacity = self.links.capacity[self.links.n_roads:]
            total = supply * capacity / capacity.sum()
            moved = np.inf
        else:
            last_road, total = self.previous
            both = reach & np.isfinite(last_road)
            moved = float(np.abs(road[both] - last_road[both]).max()) if both.any() else np.inf
        price, _ = self.cost(total)
        typical = float(np.median(np.min(road + price[None, :], axis=1)))
        typical = typical if np.isfinite(typical) and typical > 0 else 1.0
        finest = _SPLIT_FINEST * min(target_gap, 1e-4) * typical
        coarsest = _SPLIT_COARSEST * typical
        tau = float(np.clip(2.0 * moved, finest, coarsest))
        while True:
            last = tau <= finest * 1.0000001
            total, shares = self._newton(road, volume, total, tau,
                                         tolerance=(1e-3 * target_gap if last else 1e-5) * supply)
            if last:
                break
            tau = max(tau / _SPLIT_SHRINK, finest)
        self.previous = (road, total)
        return shares * volume[:, None]

    def _newton(self, road: NDArray, volume: NDArray, total: NDArray, tau: float, *,
                tolerance: float) -> tuple[NDArray, NDArray]:
        """Damped Newton on the smoothed dual, parametrised by the gate totals.

        A step is halved until it raises the dual enough (Armijo) or, once the rise is
        below rounding, halves the mismatch between the trucks the prices send to each
        gate and its total; the search stops when they match, or when no step helps.
        """
        state = self._evaluate(road, volume, total, tau)
        eye = np.eye(len(total))
        for _ in range(_SPLIT_NEWTON_STEPS):
            value, demand, spread, slope, _ = state
            residual = demand - total
            worst = float(np.abs(residual).max())
            if worst <= tolerance:
                break
            step = np.linalg.solve(eye + spread * (slope / tau)[None, :], residual)
            ascent = float(residual @ (slope * step))
            alpha = 1.0
            while alpha >= 1e-6:
                trial = np.maximum(total + alpha * step, 0.0)
                candidate = self._evaluate(road, volume, trial, tau)
                if candidate[0] >= value + 1e-4 * alpha * ascent:
                    break
                # near the solution the rise is below the dual's rounding: a step that
                # halves the mismatch is the Newton step converging
                if ascent <= 1e-10 * abs(value) \
                        and float(np.abs(candidate[1] - trial).max()) <= 0.5 * worst:
                    break
                alpha *= 0.5
            else:
                break
            total, state = trial, candidate
        return total, state[4]()

    def _evaluate(self, road: NDArray, volume: NDArray, total: NDArray, tau: float
                  ) -> tuple[float, NDArray, NDArray, NDArray, Callable[[], NDArray]]:
        """Dual value, gate demand, its spread matrix, the gate slopes and the shares.

        Only origins with a second gate within 40 τ of their cheapest are smoothed; the
        others send everything to their cheapest gate (their weights would be < e⁻⁴⁰).
        The shares come as a function: only the last evaluation needs them in full.
        """
        price, slope = self.cost(total)
        full = road + price[None, :]
        cheapest = full.argmin(axis=1)
        best = full[np.arange(len(full)), cheapest]
        above = full - best[:, None]
        near = above < 40.0 * tau
        torn = np.flatnonzero(np.count_nonzero(near, axis=1) > 1)
        demand = np.bincount(cheapest, weights=volume, minlength=len(total))
        spread = np.zeros((len(total), len(total)))
        smoothing = 0.0
        part = np.zeros((len(torn), len(total)))
        if len(torn):
            close = near[torn]
            part[close] = np.exp(above[torn][close] / -tau)
            norm = part.sum(axis=1)
            part /= norm[:, None]
            smoothing = tau * float(volume[torn] @ np.log(norm))
            sent = part * volume[torn, None]
            moved = sent.sum(axis=0)
            demand += moved - np.bincount(cheapest[torn], weights=volume[torn],
                                          minlength=len(total))
            spread = np.diag(moved) - part.T @ sent
        value = float(volume @ best) - smoothing \
            - float(price @ total - self.objective(total).sum())

        def shares() -> NDArray:
            out = np.zeros_like(full)
            out[np.arange(len(full)), cheapest] = 1.0
            out[torn] = part
            return out

        return value, demand, spread, slope, shares


class _Paths:
    """One origin's paths (link rows, ending with a gate link) and their trucks."""

    __slots__ = ("paths", "gates", "flows", "rows", "incidence", "n_road_rows", "same_gate")

    def __init__(self) -> None:
        self.paths: list[NDArray[np.int64]] = []
        self.gates: list[int] = []
        self.flows = np.zeros(0)
        self.rows: NDArray[np.int64] | None = None

    def extend(self, paths: list[NDArray[np.int64]], gates: list[int]) -> None:
        """Add paths (without trucks yet)."""
        if paths:
            self.paths.extend(paths)
            self.gates.extend(gates)
            self.flows = np.concatenate([self.flows, np.zeros(len(paths))])
            self.rows = None

    def drop_empty(self, floor: float) -> None:
        """Forget the paths that carry no more than ``floor`` trucks."""
        keep = self.flows > floor
        if not keep.all():
            self.paths = [p for p, k in zip(self.paths, keep, strict=True) if k]
            self.gates = [g for g, k in zip(self.gates, keep, strict=True) if k]
            self.flows = self.flows[keep]
            self.rows = None

    def compile(self, n_roads: int) -> None:
        """Collect the union of the paths' links (roads, then gates) and the incidence."""
        rows = np.unique(np.concatenate(self.paths))
        incidence = np.zeros((len(self.paths), len(rows)))
        for j, path in enumerate(self.paths):
            incidence[j, np.searchsorted(rows, path)] = 1.0
        self.rows, self.incidence = rows, incidence
        self.n_road_rows = int(np.searchsorted(rows, n_roads))
        gates = np.asarray(self.gates)
        self.same_gate = gates[:, None] == gates[None, :]


def _shift_to_cheapest(links: _Links, origin: _Paths, flow: NDArray, cost: NDArray,
                       slope: NDArray, so: bool, *, across_gates: bool) -> None:
    """Newton shifts of one origin's trucks to its cheapest path (to each gate).

    Each dearer path gives ``min(f, Δc / Σ slope)`` to the cheapest path, the slopes
    summed over the links the two do not share (Jayakrishnan et al. 1994). Unless
    ``across_gates``, a path gives only to the cheapest path to its own gate and the
    gates' flows do not change. Costs that rise faster than their slope (BPR, marginal
    costs near capacity) can carry a Newton step past the point where the costs are
    equal: the step is then cut back (regula falsi) until it goes no further, so every
    shift lowers the objective. The costs on the origin's links are updated in place, so
    the next origin sees them.
    """
    if origin.rows is None:
        origin.compile(links.n_roads)
    rows, incidence = origin.rows, origin.incidence
    split = origin.n_road_rows if not across_gates else len(rows)
    moved = rows[:split] if not across_gates else rows
    v, path_cost = flow[rows], incidence @ cost[rows]
    here_cost, here_slope = cost[moved], slope[moved]
    changed = False
    for _ in range(_GP_INNER_PASSES):
        if across_gates:
            best = np.full(len(path_cost), np.argmin(path_cost))
        else:
            best = np.where(origin.same_gate, path_cost[None, :], np.inf).argmin(axis=1)
        excess = path_cost - path_cost[best]
        moving = (excess > 0) & (origin.flows > 0)
        if not moving.any():
            break
        curvature = np.abs(incidence[:, :len(moved)] - incidence[best, :len(moved)]) \
            @ here_slope
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = np.where(curvature > 0, excess / curvature, np.inf)
        shift = np.where(moving, np.minimum(origin.flows, newton), 0.0)
        change = np.bincount(best, weights=shift, minlength=len(shift)) - shift
        towards = change @ incidence[:, :len(moved)]
        start = float(change @ path_cost)   # the objective's slope along the shift (< 0)
        scale = 1.0
        for _ in range(8):
            trial = np.maximum(v[:len(moved)] + scale * towards, 0.0)
            if across_gates:
                trial_cost, trial_slope = _row_costs(links, moved, trial, origin, so)
            else:
                trial_cost, trial_slope = links.road_cost(moved, trial, so)
            trial_path = path_cost + incidence[:, :len(moved)] @ (trial_cost - here_cost)
            end = float(change @ trial_path)
            if end <= 0 or end - start <= 0:
                break
            scale *= start / (start - end)
        origin.flows = np.maximum(origin.flows + scale * change, 0.0)
        v = np.concatenate([trial, v[len(moved):]])
        here_cost, here_slope, path_cost = trial_cost, trial_slope, trial_path
        changed = True
    if changed:
        flow[rows] = v
        cost[moved], slope[moved] = here_cost, here_slope


def _row_costs(links: _Links, rows: NDArray[np.int64], v: NDArray, origin: _Paths, so: bool
               ) -> tuple[NDArray, NDArray]:
    """Cost and slope on an origin's links (roads first, then gates)."""
    split = origin.n_road_rows
    road, road_slope = links.road_cost(rows[:split], v[:split], so)
    gate, gate_slope = links.gate_cost(rows[split:] - links.n_roads, v[split:], so)
    return np.concatenate([road, gate]), np.concatenate([road_slope, gate_slope])


def _gradient_projection(links: _Links, origins: NDArray[np.int64], volume: NDArray, *,
                         so: bool, max_iter: int, target_gap: float
                         ) -> tuple[NDArray, list[float], NDArray]:
    """Path-based equilibrium: a gate-space step, then Newton shifts origin by origin.

    Each iteration (1) searches backwards from every gate for every origin's cheapest
    road cost to it, (2) re-splits every origin's trucks between gates at those road
    costs (:class:`_GateSplit`: exact gate costs, all origins at once) and moves the path
    flows towards that split by an exact line search, keeping each origin's road paths to
    a gate in proportion, with the cheapest path to a gate added when it is new, then
    (3) visits the origins in a shuffled order (seeded: runs repeat exactly) and shifts
    trucks from each origin's dearer paths to its cheapest by gradient projection
    (:func:`_shift_to_cheapest`). Step 2 settles the gate choice, where visiting origins
    one at a time stalls (an origin only moves until the gate prices it meets are equal,
    so trucks swap gates a fraction at a time); step 3 settles the routes on roads.
    """
    r, n_gates = links.n_roads, len(links.gate_ids)
    live = np.flatnonzero(volume > 0)
    nodes, demand = origins[live], volume[live]
    state = [_Paths() for _ in live]
    split = _GateSplit(links, so)
    graph = links.graph
    rng = np.random.default_rng(0)
    flow = np.zeros(len(links.t0))
    gaps: list[float] = []
    for iteration in range(max_iter + 1):
        cost, slope = links.cost(flow, so)
        if iteration > 0:  # one search from the sink prices every origin's cheapest path
            dist, _, _ = graph.search(cost, links.sink)
            shortest = np.where(volume > 0, dist[origins], 0.0)
            if _record_gap(gaps, flow, cost, volume, shortest) < target_gap \
                    or iteration == max_iter:
                break
        dist, nxt, chosen = graph.search(cost, links.gate_nodes)
        road_h = dist[:, nodes].T
        via = road_h + cost[r:][None, :]
        if iteration == 0:
            reachable = np.ones(len(volume), dtype=bool)
            reachable[live] = np.isfinite(via).any(axis=1)
            links._check_reachable(reachable, volume)
            if not len(live):
                gaps.append(0.0)
                break
        target = split.solve(road_h, demand, target_gap=target_gap)
        flow, step = _move_to_split(links, state, nodes, target, via, nxt, chosen, flow, cost,
                                    so, first=iteration == 0)
        cost, slope = links.cost(flow, so)
        # a full step: road costs are near enough linear that the split settles the gates,
        # and only the routes to each gate are left; a shorter one: shift between gates too
        _sweep(links, state, demand, flow, cost, slope, so, rng, across_gates=step < 1.0,
               budget=0.1 * target_gap * float(flow @ cost))
        for paths, trucks in zip(state, demand, strict=True):
            paths.drop_empty(1e-12 * trucks)
    choice = np.zeros((len(origins), n_gates))
    for k, paths in zip(live, state, strict=True):
        np.add.at(choice[k], np.asarray(paths.gates, dtype=np.int64), paths.flows)
    return flow, gaps, choice


def _flat(state: list[_Paths]) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                        NDArray[np.int64], NDArray[np.int64], NDArray]:
    """All paths end to end: link rows, start of each path, its origin, gate and trucks."""
    paths = [p for s in state for p in s.paths]
    lengths = np.fromiter((len(p) for p in paths), dtype=np.int64, count=len(paths))
    starts = np.zeros(len(paths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    owner = np.repeat(np.arange(len(state)), [len(s.paths) for s in state])
    gates = np.fromiter((g for s in state for g in s.gates), dtype=np.int64, count=len(paths))
    flows = np.concatenate([s.flows for s in state]) if state else np.zeros(0)
    return np.concatenate(paths), starts, owner, gates, flows


def _move_to_split(links: _Links, state: list[_Paths], nodes: NDArray[np.int64],
                   target: NDArray, via: NDArray, nxt: NDArray, chosen: NDArray[np.int64],
                   flow: NDArray, cost: NDArray, so: bool, *, first: bool
                   ) -> tuple[NDArray, float]:
    """Move the path flows towards the gate split ``target``.

    Each origin's cheapest path to each gate it is to use, and to its cheapest gate, joins
    its paths when it is new. Returns the link flows and the step taken (1: all the way).
    """
    n_gates = target.shape[1]
    sent = target.sum(axis=1, keepdims=True)
    wanted = target > 1e-12 * sent
    target = np.where(wanted, target, 0.0)
    kept = target.sum(axis=1, keepdims=True)
    target *= np.divide(sent, kept, out=np.zeros_like(sent), where=kept > 0)
    cheapest = np.full(target.shape, np.inf)
    if not first:
        rows, starts, owner, gates, _ = _flat(state)
        np.minimum.at(cheapest, (owner, gates), np.add.reduceat(cost[rows], starts))
    best_gate = via == via.min(axis=1, keepdims=True)
    new_o, new_g = np.nonzero((wanted | best_gate) & (via < cheapest * (1 - 1e-12)))
    if len(new_o):
        owner, link = links.graph.walk(nxt, nodes[new_o], links.gate_nodes[new_g], chosen,
                                       tree=new_g)
        # each path ends with its gate link
        owner = np.concatenate([owner, np.arange(len(new_o))])
        link = np.concatenate([link, links.n_roads + new_g])
        order = np.argsort(owner, kind="stable")
        pieces = np.split(link[order], np.cumsum(np.bincount(owner, minlength=len(new_o)))[:-1])
        at = np.searchsorted(new_o, np.unique(new_o))
        ends = np.append(at[1:], len(new_o))
        for o, lo, hi in zip(np.unique(new_o), at, ends, strict=True):
            state[o].extend(pieces[lo:hi], new_g[lo:hi].tolist())
    rows, starts, owner, gates, flows = _flat(state)
    key = owner * n_gates + gates
    now = np.bincount(key, weights=flows, minlength=target.size).reshape(target.shape)
    # within a gate the origin's paths keep their proportions; a gate the origin does
    # not use yet gets its trucks on its cheapest path there (the one just added)
    path_cost = np.add.reduceat(cost[rows], starts)
    goal = np.where(now.ravel()[key] > 0, flows * target.ravel()[key]
                    / np.where(now.ravel()[key] > 0, now.ravel()[key], 1.0), 0.0)
    empty = np.flatnonzero(now.ravel()[key] <= 0)
    if len(empty):
        order = empty[np.lexsort((path_cost[empty], key[empty]))]
        lead = np.ones(len(order), dtype=bool)
        lead[1:] = key[order[1:]] != key[order[:-1]]
        goal[order[lead]] = target.ravel()[key[order[lead]]]
    change = goal - flows
    lengths = np.diff(np.append(starts, len(rows)))
    direction = np.bincount(rows, weights=np.repeat(change, lengths), minlength=len(flow))
    step = 1.0 if first else _line_search(links, flow, direction, so)
    if step <= 0:
        return flow, 0.0
    new_flows = np.maximum(flows + step * change, 0.0)
    bounds = np.append(0, np.cumsum([len(s.paths) for s in state]))
    for k, paths in enumerate(state):
        paths.flows = new_flows[bounds[k]:bounds[k + 1]]
    return np.maximum(flow + step * direction, 0.0), step


def _sweep(links: _Links, state: list[_Paths], demand: NDArray, flow: NDArray,
           cost: NDArray, slope: NDArray, so: bool, rng: np.random.Generator, *,
           across_gates: bool, budget: float) -> None:
    """Gradient projection shifts for the origins whose roads to a gate differ in cost.

    Nothing to do when the excess cost of all paths over the cheapest path of the same
    origin (to the same gate, unless ``across_gates``) is within ``budget``
    (truck-hours); otherwise the origins above a hundredth of their share of it are
    visited in a shuffled order.
    """
    rows, starts, owner, gates, flows = _flat(state)
    path_cost = np.add.reduceat(cost[rows], starts)
    n_gates = len(links.gate_ids)
    key = owner * n_gates + (0 if across_gates else gates)
    cheapest = np.full(len(state) * n_gates, np.inf)
    np.minimum.at(cheapest, key, path_cost)
    excess = np.bincount(owner, weights=flows * (path_cost - cheapest[key]),
                         minlength=len(state))
    if float(excess.sum()) <= budget:
        return
    for k in rng.permutation(np.flatnonzero(excess > 0.01 * budget / len(state))):
        _shift_to_cheapest(links, state[k], flow, cost, slope, so, across_gates=across_gates)


def logit_shares(cost_h: NDArray, *, dispersion_per_h: float, constants_h: NDArray,
                 allowed: NDArray | None = None) -> NDArray:
    """Multinomial-logit gate shares: ``P(g) ∝ exp(−θ (c_g − k_g))``.

    Parameters
    ----------
    cost_h
        Cost of each alternative, hours (rows: deciders, columns: gates; inf where a gate
        cannot be reached).
    dispersion_per_h
        θ: how sharply drivers prefer the cheaper gate (1/h); large θ tends to the
        shortest-time choice, 0 to an even split.
    constants_h
        Gate-specific constants k_g, hours-equivalent: what time does not explain
        (a gate preferred as if it were k_g hours nearer).
    allowed
        Optional boolean mask of the same shape: goods classes allowed only at some gates.

    Returns
    -------
    numpy.ndarray
        Shares, each row summing to 1 (0 where no gate is usable).
    """
    usable = np.isfinite(cost_h)
    utility = -dispersion_per_h * (np.where(usable, cost_h, 0.0) - constants_h)
    if allowed is not None:
        usable &= allowed
    utility = np.where(usable, utility, -np.inf)
    top = np.max(np.where(usable, utility, -np.inf), axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    weight = np.where(usable, np.exp(utility - top), 0.0)
    total = weight.sum(axis=1, keepdims=True)
    return np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)


#: Self-regulated averaging (Liu, Meng & Wang 2009): the inverse step grows fast when the
#: residual rises and slowly while it falls.
_SRA_GROW, _SRA_CREEP = 1.5, 0.05


def _logit_equilibrium(links: _Links, origins: NDArray[np.int64], volume: NDArray, *,
                       dispersion_per_h: float, constants_h: NDArray,
                       allowed: NDArray | None, max_iter: int, target_gap: float
                       ) -> tuple[NDArray, list[float], NDArray]:
    """Stochastic user equilibrium with logit gate choice, by self-regulated averaging.

    Each iteration prices every origin's cheapest path through every gate at the current
    link times, splits the origin's trucks by :func:`logit_shares` and moves the flows
    towards that split. The gap is ``Σ|target − flow| / Σ target`` over links: 0 at the
    fixed point where the flows reproduce the shares their own costs imply.
    """
    flow = np.zeros(len(links.t0))
    choice = np.zeros((len(origins), len(links.gate_ids)))
    gaps: list[float] = []
    inverse_step, last = 1.0, np.inf
    for k in range(max_iter + 1):
        trees = links.gate_trees(links.time(flow), origins)
        via = trees.via
        unreachable = np.flatnonzero(~np.isfinite(via).any(axis=1) & (volume > 0))
        if len(unreachable):
            label = links.origin_labels[int(unreachable[0])] \
                if links.origin_labels else f"#{int(unreachable[0]) + 1}"
            raise BorderGeoError(f"demand from {label!r} has no path to an open road gate "
                                 f"(closed gates, or roads that do not connect)")
        shares = logit_shares(via, dispersion_per_h=dispersion_per_h,
                              constants_h=constants_h[None, :], allowed=allowed)
        lost = np.flatnonzero((shares.sum(axis=1) == 0) & (volume > 0))
        if len(lost):
            raise BorderGeoError(f"demand from {links.origin_labels[int(lost[0])]!r} has no "
                                 f"open gate that allows its goods")
        target_choice = shares * volume[:, None]
        target = links.load_via_gates(trees, origins, target_choice)
        if k == 0:
            flow, choice = target, target_choice
            continue
        total = float(target.sum())
        residual = float(np.abs(target - flow).sum()) / total if total > 0 else 0.0
        gaps.append(residual)
        logger.debug("logit iteration %d: gap %.3g", k, residual)
        if residual < target_gap:
            break
        inverse_step += _SRA_GROW if residual >= last else _SRA_CREEP
        last = residual
        step = 1.0 / inverse_step
        flow = flow + step * (target - flow)
        choice = choice + step * (target_choice - choice)
    return flow, gaps, choice


def assign(network: RoadNetwork, gates: pd.DataFrame, demand: pd.DataFrame, *,
           objective: str = "ue", max_iter: int = 500, target_gap: float = 1e-4,
           direction: str = "both", truck_pce: float = TRUCK_PCE,
           lane_capacity_pcu_h: float = LANE_CAPACITY_PCU_H,
           gate_delay: str = "akcelik", algorithm: str = "gp", choice: str = "shortest",
           dispersion_per_h: float = 1.0,
           gate_constants_h: Mapping[str, float | Mapping[str, float]] | None = None,
           goods_gates: Mapping[str, Sequence[str]] | None = None) -> AssignmentResult:
    """Assign truck demand from hubs to China over roads and gates.

    Parameters
    ----------
    network
        Road network with the gates and hubs attached (``dataset_network``).
    gates
        Gates layer (capacities from lanes × rate × hours, or the dataset figure);
        closed gates and gates without a known capacity take no flow.
    demand
        ``origin`` (a hub id attached to the network) and ``trucks_per_day``; with a
        ``direction`` column (``export``/``import``) each direction is assigned on its own
        gate lanes and driving direction (imports run gate → hub), and the gate table gains
        ``*_export``/``*_import`` columns. The two directions are assigned independently:
        they share no gate lanes and mostly drive opposite road directions.
    objective
        ``"ue"`` user equilibrium or ``"so"`` system optimum.
    max_iter
        Iterations at most.
    target_gap
        Stop when the relative gap falls below this.
    direction
        Gate capacity for demand without a direction column: ``"export"``, ``"import"``
        or ``"both"`` (all lanes).
    truck_pce, lane_capacity_pcu_h
        Road capacity in trucks/day = lanes per direction × lane capacity × 24 / PCE.
    gate_delay
        ``"akcelik"`` (queue-based, default) or ``"linear"`` (:func:`linear_delay`).
    algorithm
        ``"gp"`` path-based gradient projection with a gate split each iteration
        (default: reaches small gaps in a few iterations, for the user equilibrium and
        the system optimum alike), ``"cfw"`` conjugate Frank–Wolfe or ``"fw"`` the
        classic Frank–Wolfe method. All report the same relative gap.
    choice
        ``"shortest"``: every truck takes its cheapest gate (Wardrop; with
        ``objective``); ``"logit"``: a stochastic user equilibrium where trucks split
        between gates by :func:`logit_shares` of their path costs, which can reproduce
        splits that shortest time cannot (use a fitted calibration: ``bordergeo
        calibrate``). Its relative gap is the fixed-point residual.
    dispersion_per_h
        θ of the logit (1/h).
    gate_constants_h
        Logit constants by gate or crossing id (hours-equivalent; a crossing's constant
        applies to its lanes), either one number or ``{"export": …, "import": …}``.
    goods_gates
        Logit only: ``{goods class: [gate or crossing ids]}`` — the gates a class of the
        demand's ``goods`` column may use (classes not listed may use every gate).

    Returns
    -------
    AssignmentResult

    Raises
    ------
    BorderGeoError
        Unknown origins, negative demand, or demand with no path to an open gate.
    """
    if objective not in ("ue", "so"):
        raise BorderGeoError(f"objective must be 'ue' or 'so', not {objective!r}")
    if algorithm not in ("gp", "cfw", "fw"):
        raise BorderGeoError(f"algorithm must be 'gp', 'cfw' or 'fw', not {algorithm!r}")
    if choice not in ("shortest", "logit"):
        raise BorderGeoError(f"choice must be 'shortest' or 'logit', not {choice!r}")
    if choice == "logit" and objective != "ue":
        raise BorderGeoError("the logit choice is a user equilibrium: objective must be 'ue'")
    dispersion_per_h = check_number(dispersion_per_h, name="dispersion_per_h", low=0,
                                    high=1_000)
    if gate_delay not in ("akcelik", "linear"):
        raise BorderGeoError(f"gate_delay must be 'akcelik' or 'linear', not {gate_delay!r}")
    target_gap = check_number(target_gap, name="target gap", low=0, low_open=True,
                              high=MAX_TARGET_GAP)
    max_iter = check_number(max_iter, name="max_iter", low=1, high=100_000, integer=True)
    demand = checked_demand(demand, allow_empty=True)
    trucks = demand["trucks_per_day"]
    options = {"objective": objective, "max_iter": max_iter, "target_gap": target_gap,
               "truck_pce": truck_pce, "lane_capacity_pcu_h": lane_capacity_pcu_h,
               "gate_delay": gate_delay, "algorithm": algorithm,
               "logit": _LogitOptions(dispersion_per_h, dict(gate_constants_h or {}),
                                      {str(k): [str(g) for g in v]
                                       for k, v in (goods_gates or {}).items()})
               if choice == "logit" else None}
    frame = pd.DataFrame({"origin": demand["origin"].astype(str), "trucks": trucks})
    if "goods" in demand.columns:
        frame["goods"] = demand["goods"].astype(str).to_numpy()
    if "direction" not in demand.columns:
        run = _solve(network, gates, frame, direction=direction, **options)
        return _checked(_with_goods(_result(network, objective, [run]), frame, options),
                        target_gap)
    directions = demand["direction"]
    frame["direction"] = directions.to_numpy()
    runs = [_solve(network, gates, frame[directions.to_numpy() == d], direction=d, **options)
            for d in ("export", "import") if (directions == d).any()]
    return _checked(_with_goods(_result(network, objective, runs), frame, options), target_gap)


def _checked(result: AssignmentResult, target_gap: float) -> AssignmentResult:
    """Record the target, refuse non-finite flows, and warn when the gap was not reached."""
    result.target_gap = float(target_gap)
    check_finite(result.gates["trucks_per_day"], what="the assigned gate flows")
    check_finite(result.relative_gap, what="the relative gap")
    if not result.converged:
        logger.warning("%s assignment stopped after %d iterations at relative gap %.2e, above "
                       "the target %.0e: the flows are not an equilibrium (demand far above "
                       "capacity? raise max_iter or the target gap)", result.objective.upper(),
                       result.iterations, result.relative_gap[-1], target_gap)
    return result


def checked_demand(frame: pd.DataFrame, *, source: str = "demand",
                   allow_empty: bool = False) -> pd.DataFrame:
    """Check a demand table and return it with numeric ``trucks_per_day``.

    Parameters
    ----------
    frame
        ``origin``, ``trucks_per_day`` and optionally ``direction`` (``export``/``import``)
        and ``goods``.
    source
        File name for messages.
    allow_empty
        Accept a table without rows (an assignment of nothing).

    Returns
    -------
    pandas.DataFrame
        A copy with ``trucks_per_day`` as float and text columns stripped.

    Raises
    ------
    DataFileError
        Missing columns, no rows, an empty origin, a count that is not a plain number
        between 0 and :data:`~bordergeo.inputs.MAX_TRUCKS_PER_DAY` (``1,300`` is refused:
        the comma is a decimal mark in Vietnamese), or an unknown direction; the message
        names the data row (1 = the first row under the header).
    """
    columns = [str(c).strip() for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    missing = {"origin", "trucks_per_day"} - set(columns)
    if missing:
        raise DataFileError(f"{source}: missing column(s) {', '.join(sorted(missing))} "
                            f"(found {preview(', '.join(columns), limit=120)})")
    if frame.empty and not allow_empty:
        raise DataFileError(f"{source}: no demand rows under the header")
    out = frame.copy()
    origins = out["origin"].astype(str).str.strip()
    blank = (origins == "") | out["origin"].isna()
    if blank.any():
        raise DataFileError(f"{source}: data row {int(np.flatnonzero(blank.to_numpy())[0]) + 1}, "
                            f"field 'origin': is empty")
    out["origin"] = origins
    raw = out["trucks_per_day"]
    trucks = pd.to_numeric(raw.astype(str).str.strip() if raw.dtype == object else raw,
                           errors="coerce")
    bad = ~np.isfinite(trucks.to_numpy(float)) | (trucks < 0) | (trucks > MAX_TRUCKS_PER_DAY)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataFileError(f"{source}: data row {row + 1}, field 'trucks_per_day': "
                            f"{preview(raw.iloc[row])} is not a number between 0 and "
                            f"{MAX_TRUCKS_PER_DAY:,.0f} (write 1300, without separators)")
    out["trucks_per_day"] = trucks.astype(float)
    if "direction" in out.columns:
        directions = out["direction"].astype(str).str.strip().str.lower()
        wrong = ~directions.isin(["export", "import"])
        if wrong.any():
            row = int(np.flatnonzero(wrong.to_numpy())[0])
            raise DataFileError(f"{source}: data row {row + 1}: direction must be export or "
                                f"import, not {preview(out['direction'].iloc[row])}")
        out["direction"] = directions
    return out


def _with_goods(result: AssignmentResult, frame: pd.DataFrame, options: dict
                ) -> AssignmentResult:
    """Split each origin's gate flows among its goods classes in proportion to demand."""
    if "goods" not in frame.columns:
        return result
    if "goods" in result.origin_gates.columns:  # logit with goods rules: already by class
        group = ["goods", "gate_id"] + (["direction"] if "direction" in frame.columns else [])
        result.goods = result.origin_gates.groupby(group, sort=False)["trucks_per_day"] \
            .sum().reset_index()
        keys = [c for c in result.origin_gates.columns if c not in ("goods", "trucks_per_day")]
        result.origin_gates = result.origin_gates.groupby(keys, sort=False)["trucks_per_day"] \
            .sum().reset_index()
        return result
    keys = ["origin"] + (["direction"] if "direction" in frame.columns else [])
    by_class = frame.groupby(keys + ["goods"], sort=False)["trucks"].sum().reset_index()
    total = by_class.groupby(keys)["trucks"].transform("sum")
    by_class["share"] = np.where(total > 0, by_class["trucks"] / total.where(total > 0, 1), 0)
    merged = result.origin_gates.merge(by_class[keys + ["goods", "share"]], on=keys)
    merged["trucks_per_day"] = merged["trucks_per_day"] * merged["share"]
    group = ["goods", "gate_id"] + (["direction"] if "direction" in frame.columns else [])
    result.goods = merged.groupby(group, sort=False)["trucks_per_day"].sum().reset_index()
    return result


@dataclass
class _Run:
    """One direction's equilibrium: link flows and what the result tables need."""

    direction: str
    links: _Links
    labels: pd.Index
    origins: NDArray[np.int64]
    volume: NDArray
    flow: NDArray
    gaps: list[float]
    choice: NDArray
    goods: NDArray | None = None


@dataclass
class _LogitOptions:
    dispersion_per_h: float
    constants_h: dict[str, float | Mapping[str, float]]
    goods_gates: dict[str, list[str]]

    def constants(self, gate_ids: list[str], crossing: pd.Series, direction: str) -> NDArray:
        """Constant of each gate link: its own, else its crossing's, else 0."""
        values = []
        for gate_id in gate_ids:
            value = self.constants_h.get(gate_id, self.constants_h.get(
                str(crossing.get(gate_id, gate_id)), 0.0))
            if isinstance(value, Mapping):
                value = value.get(direction, np.mean([float(v) for v in value.values()])
                                  if value else 0.0)
            values.append(check_number(value, name=f"gate constant of {gate_id}",
                                       low=-1_000, high=1_000))
        return np.asarray(values, float)

    def allowed(self, goods: NDArray, gate_ids: list[str], crossing: pd.Series) -> NDArray:
        """Which gates each (origin, goods) row may use."""
        mask = np.ones((len(goods), len(gate_ids)), dtype=bool)
        for k, cls in enumerate(goods):
            rule = self.goods_gates.get(str(cls))
            if rule is not None:
                mask[k] = [g in rule or str(crossing.get(g, g)) in rule for g in gate_ids]
        return mask


def _solve(network: RoadNetwork, gates: pd.DataFrame, frame: pd.DataFrame, *, direction: str,
           objective: str, max_iter: int, target_gap: float, truck_pce: float,
           lane_capacity_pcu_h: float, gate_delay: str, algorithm: str,
           logit: _LogitOptions | None) -> _Run:
    by_goods = logit is not None and bool(logit.goods_gates) and "goods" in frame.columns
    keys = ["origin", "goods"] if by_goods else ["origin"]
    grouped = frame.groupby(keys, sort=False)["trucks"].sum()
    goods = grouped.index.get_level_values("goods").to_numpy(str) if by_goods else None
    if by_goods:
        grouped.index = grouped.index.get_level_values("origin")
    unknown = [o for o in grouped.index if o not in network.places]
    if unknown:
        known = ", ".join(list(network.places)[:12])
        raise BorderGeoError(f"demand origin {unknown[0]!r} is not a hub of this network "
                             f"(its places: {known}{', …' if len(network.places) > 12 else ''});"
                             f" the default demand is for the bundled Lạng Sơn hubs: pass your "
                             f"own (CLI: --demand FILE)")
    links = _Links(network, gates, direction=direction, truck_pce=truck_pce,
                   lane_capacity_pcu_h=lane_capacity_pcu_h, gate_delay=gate_delay,
                   reverse_roads=direction == "import")
    links.origin_labels = [str(o) for o in grouped.index]
    origins = np.array([network.places[o] for o in grouped.index], dtype=np.int64)
    volume = grouped.to_numpy(float)
    so = objective == "so"
    if logit is not None:
        crossing = crossing_ids(gates)
        allowed = logit.allowed(goods, links.gate_ids, crossing) if goods is not None else None
        flow, gaps, choice = _logit_equilibrium(
            links, origins, volume, dispersion_per_h=logit.dispersion_per_h,
            constants_h=logit.constants(links.gate_ids, crossing, direction),
            allowed=allowed, max_iter=max_iter, target_gap=target_gap)
        return _Run(direction, links, grouped.index, origins, volume, flow, gaps, choice,
                    goods)
    if algorithm == "gp":
        flow, gaps, choice = _gradient_projection(links, origins, volume, so=so,
                                                  max_iter=max_iter, target_gap=target_gap)
    else:
        flow, gaps, choice = _frank_wolfe(links, origins, volume, so=so, max_iter=max_iter,
                                          target_gap=target_gap,
                                          conjugate=algorithm == "cfw")
    return _Run(direction, links, grouped.index, origins, volume, flow, gaps, choice)


def _result(network: RoadNetwork, objective: str, runs: list[_Run]) -> AssignmentResult:
    """Assemble the result tables of one run, or of an export and an import run."""
    gate_tables, origin_tables, cost_tables, choice_tables = [], [], [], []
    road_flow = np.zeros(len(network.table))
    truck_hours = 0.0
    for run in runs:
        links, r = run.links, run.links.n_roads
        times = links.time(run.flow)
        truck_hours += float(np.dot(run.flow, times))
        road_flow += run.flow[:r]
        gate_tables.append(pd.DataFrame({
            "gate_id": links.gate_ids, "trucks_per_day": run.flow[r:],
            "capacity_trucks_day": links.capacity[r:], "wait_h": times[r:] - links.t0[r:],
            "gate_time_h": times[r:], "direction": run.direction}))
        via = links.costs_via_gates(times, run.origins)
        reached = np.isfinite(via).any(axis=1)
        shortest = np.where(reached, np.min(via, axis=1, initial=np.inf, where=np.isfinite(via)),
                            0.0)
        origin_tables.append(pd.DataFrame({"origin": run.labels, "trucks_per_day": run.volume,
                                           "cost_h": shortest, "direction": run.direction})
                             .groupby(["origin", "direction"], sort=False, as_index=False)
                             .agg(trucks_per_day=("trucks_per_day", "sum"),
                                  cost_h=("cost_h", "min")))
        choice = pd.DataFrame(run.choice, columns=links.gate_ids).rename_axis(
            index="row", columns="gate_id").stack().rename("trucks_per_day").reset_index()
        choice.insert(0, "origin", run.labels.to_numpy()[choice["row"].to_numpy()])
        if run.goods is not None:
            choice.insert(1, "goods", run.goods[choice["row"].to_numpy()])
        choice_tables.append(choice[choice["trucks_per_day"] > 1e-6].drop(columns="row")
                             .assign(direction=run.direction))
        cost_tables.append(pd.DataFrame({
            "origin": np.repeat(run.labels.to_numpy(), len(links.gate_ids)),
            "gate_id": np.tile(links.gate_ids, len(run.origins)), "cost_h": via.ravel(),
            "direction": run.direction}).drop_duplicates(["origin", "gate_id"]))
    gates_out = _combined_gates(gate_tables)
    first = runs[0].links
    used = np.flatnonzero(road_flow > 1e-9)
    table = network.table.iloc[used]
    capacity = first.capacity[: first.n_roads][used]
    roads_out = gpd.GeoDataFrame({
        "u": table["u"].to_numpy(), "v": table["v"].to_numpy(),
        "ref": table["ref"].to_numpy(), "trucks_per_day": road_flow[used],
        "capacity_trucks_day": capacity, "volume_capacity": road_flow[used] / capacity,
        "travel_time_h": bpr(first.t0[: first.n_roads][used], road_flow[used], capacity)},
        geometry=network.edge_geometries(used), crs=network.crs)
    single = len(runs) == 1 and runs[0].direction not in ("export", "import")
    tidy = (lambda f: f.drop(columns="direction")) if single else (lambda f: f)
    longest = max(len(run.gaps) for run in runs)
    gaps = [max(run.gaps[min(k, len(run.gaps) - 1)] for run in runs) for k in range(longest)]
    return AssignmentResult(objective, gates_out, roads_out,
                            tidy(pd.concat(origin_tables, ignore_index=True)), gaps,
                            truck_hours, tidy(pd.concat(cost_tables, ignore_index=True)),
                            tidy(pd.concat(choice_tables, ignore_index=True)))


def _combined_gates(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per gate; with two directions, their sums plus per-direction columns."""
    if len(tables) == 1:
        out = tables[0].drop(columns="direction")
        out.insert(3, "utilisation", out["trucks_per_day"] / out["capacity_trucks_day"])
        return out
    both = pd.concat(tables, ignore_index=True)
    order = list(dict.fromkeys(both["gate_id"]))
    wide = both.pivot_table(index="gate_id", columns="direction",
                            values=["trucks_per_day", "capacity_trucks_day", "wait_h"],
                            aggfunc="sum", fill_value=0.0).reindex(order)
    flow = wide["trucks_per_day"].sum(axis=1)
    capacity = wide["capacity_trucks_day"].sum(axis=1)
    weights = wide["trucks_per_day"].to_numpy()
    waits = wide["wait_h"].to_numpy()
    mean_wait = np.where(flow.to_numpy() > 0, (weights * waits).sum(axis=1)
                         / np.maximum(flow.to_numpy(), 1e-12), waits.mean(axis=1))
    out = pd.DataFrame({"gate_id": order, "trucks_per_day": flow.to_numpy(),
                        "capacity_trucks_day": capacity.to_numpy(),
                        "utilisation": (flow / capacity).to_numpy(), "wait_h": mean_wait})
    for d in wide["trucks_per_day"].columns:
        out[f"trucks_per_day_{d}"] = wide["trucks_per_day"][d].to_numpy()
        out[f"capacity_trucks_day_{d}"] = wide["capacity_trucks_day"][d].to_numpy()
        out[f"wait_h_{d}"] = wide["wait_h"][d].to_numpy()
    return out
