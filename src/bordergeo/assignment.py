"""Gate choice and flow regulation: truck demand assigned over roads and gates.

Every hub sends trucks to China; each usable gate is a link from its road node to one
"China" sink. Roads have BPR volume–delay functions, gates a queue-based (Akcelik) delay
with the gate's daily capacity and open hours. The assignment finds the user equilibrium
(each truck takes its cheapest gate: Wardrop's first principle) or the system optimum (the
least total truck-hours: what the province's flow regulation could reach); the relative
gap is reported per iteration.

Three algorithms share the same costs and gap: path-based gradient projection (default),
conjugate Frank–Wolfe and classic Frank–Wolfe. Shortest paths run on the compiled graph:
one backward Dijkstra from the sink gives every origin's cheapest path at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
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


@dataclass
class _GateTrees:
    """Backward search trees from every gate (see :meth:`_Links.gate_trees`)."""

    via: NDArray
    nxt: NDArray
    gate_nodes: NDArray
    chosen: NDArray
    pairs: NDArray


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

    def load(self, owner: NDArray[np.int64], link: NDArray[np.int64],
             volume: NDArray) -> NDArray:
        """Link flows when each origin sends its volume along its tree path."""
        return np.bincount(link, weights=volume[owner], minlength=len(self.t0)).astype(float)

    def _reversed(self, cost: NDArray) -> tuple[sparse.csr_matrix, NDArray, NDArray]:
        """Cheapest of parallel links, as a reversed CSR graph; chosen links and pair keys."""
        order = np.lexsort((cost, self.head, self.tail))
        pair = self.tail[order] * self.n_nodes + self.head[order]
        first = np.r_[True, pair[1:] != pair[:-1]]
        chosen, pairs = order[first], pair[first]
        graph = sparse.csr_matrix((cost[chosen], (self.head[chosen], self.tail[chosen])),
                                  shape=(self.n_nodes, self.n_nodes))
        return graph, chosen, pairs

    def costs_via_gates(self, cost: NDArray, origins: NDArray[np.int64]) -> NDArray:
        """Cheapest cost from each origin through each gate (origins × gates, hours)."""
        graph, _, _ = self._reversed(cost)
        r = self.n_roads
        gate_nodes = self.tail[r:]
        to_gate = dijkstra(graph, directed=True, indices=gate_nodes)
        return to_gate[:, origins].T + cost[r:][None, :]

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
        reversed_graph, chosen, pairs = self._reversed(cost)
        dist, nxt = dijkstra(reversed_graph, directed=True, indices=self.sink,
                             return_predecessors=True)
        cur = origins.copy()
        unreachable = np.flatnonzero(~np.isfinite(dist[cur]) & (demand > 0))
        if len(unreachable):
            k = int(unreachable[0])
            label = self.origin_labels[k] if k < len(self.origin_labels) else f"#{k + 1}"
            raise BorderGeoError(f"demand from {label!r} has no path to an open road gate "
                                 f"(closed gates, or roads that do not connect)")
        cur[~np.isfinite(dist[cur])] = self.sink
        owner, link = self._walk(nxt, cur, self.sink, chosen, pairs)
        shortest = dist[origins]
        return np.where(np.isfinite(shortest), shortest, 0.0), owner, link

    def _walk(self, nxt: NDArray, start: NDArray[np.int64], stop: int, chosen: NDArray,
              pairs: NDArray) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Follow a search tree from each start node to ``stop``: (start position, link)."""
        cur = start.copy()
        owners, links = [], []
        active = np.flatnonzero(cur != stop)
        while len(active):
            step = nxt[cur[active]].astype(np.int64)
            key = cur[active] * self.n_nodes + step
            owners.append(active)
            links.append(chosen[np.searchsorted(pairs, key)])
            cur[active] = step
            active = active[step != stop]
        owner = np.concatenate(owners) if owners else np.zeros(0, np.int64)
        link = np.concatenate(links) if links else np.zeros(0, np.int64)
        return owner, link

    def gate_trees(self, cost: NDArray, origins: NDArray[np.int64]) -> _GateTrees:
        """Cheapest paths from every origin through every gate, one backward search per gate.

        The result's ``via`` is the cost of each origin's cheapest path through each gate
        (origins × gates, h; inf where a gate cannot be reached).
        """
        graph, chosen, pairs = self._reversed(cost)
        gate_nodes = self.tail[self.n_roads:]
        dist, nxt = dijkstra(graph, directed=True, indices=gate_nodes,
                             return_predecessors=True)
        via = dist[:, origins].T + cost[self.n_roads:][None, :]
        return _GateTrees(via, nxt, gate_nodes, chosen, pairs)

    def load_via_gates(self, trees: _GateTrees, origins: NDArray[np.int64], trucks: NDArray
                       ) -> NDArray:
        """Link flows when ``trucks[i, g]`` go from origin ``i`` through gate ``g``."""
        flow = np.zeros(len(self.t0))
        r = self.n_roads
        for g, node in enumerate(trees.gate_nodes):
            sent = trucks[:, g]
            reach = np.isfinite(trees.via[:, g]) & (sent > 0)
            start = np.where(reach, origins, node)
            owner, link = self._walk(trees.nxt[g], start, int(node), trees.chosen, trees.pairs)
            flow += np.bincount(link, weights=sent[owner], minlength=len(flow))
            flow[r + g] += float(sent[reach].sum())
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

    def link_cost(self, rows: NDArray[np.int64], flow: NDArray, so: bool
                  ) -> tuple[NDArray, NDArray]:
        """Cost (time, or marginal cost for SO) and its slope on some links only."""
        v, c, t0 = flow, self.capacity[rows], self.t0[rows]
        road = rows < self.n_roads
        gate = ~road
        period = self.period[rows[gate]]
        time = np.empty(len(rows))
        slope = np.empty(len(rows))
        time[road] = bpr(t0[road], v[road], c[road])
        slope[road] = _bpr_slope(t0[road], v[road], c[road])
        time[gate] = self._gate_time(t0[gate], v[gate], c[gate], period)
        slope[gate] = self._gate_slope(v[gate], c[gate], period)
        if so:
            # the marginal cost's own slope, 2t' + v·t'', by a forward difference: 2t'
            # alone undershoots near a gate's capacity and the Newton step overshoots
            step = np.maximum(1e-3 * v, 1e-3)
            up, up_slope = self.link_cost(rows, v + step, False)
            marginal = time + v * slope
            return marginal, (up + (v + step) * up_slope - marginal) / step
        return time, slope


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


def _gradient_projection(links: _Links, origins: NDArray[np.int64], volume: NDArray, *,
                         so: bool, max_iter: int, target_gap: float
                         ) -> tuple[NDArray, list[float], NDArray]:
    """Path-based equilibrium: shift flow from dearer paths to each origin's cheapest one.

    Gradient projection (Jayakrishnan et al. 1994), origin by origin with link flows
    updated at once: each non-cheapest path gives ``min(f, Δc / Σ slope)`` to the cheapest,
    the slopes summed over the links the two paths do not share.
    """
    cost = links.marginal if so else links.time
    _, owner, link = links.tree_paths(links.t0.copy(), origins, volume)
    flow = links.load(owner, link, volume)
    starts = np.searchsorted(owner[np.argsort(owner, kind="stable")], np.arange(len(origins)))
    by_origin = np.split(link[np.argsort(owner, kind="stable")], starts[1:])
    paths: list[list[NDArray[np.int64]]] = [[p] for p in by_origin]
    path_flow: list[list[float]] = [[float(v)] for v in volume]
    gaps: list[float] = []
    for _ in range(max_iter):
        current = cost(flow)
        shortest, owner, link = links.tree_paths(current, origins, volume)
        if _record_gap(gaps, flow, current, volume, shortest) < target_gap:
            break
        order = np.argsort(owner, kind="stable")
        starts = np.searchsorted(owner[order], np.arange(len(origins)))
        new_paths = np.split(link[order], starts[1:])
        for k in range(len(origins)):
            if volume[k] <= 0:
                continue
            candidate = new_paths[k]
            if not any(len(p) == len(candidate) and np.array_equal(p, candidate)
                       for p in paths[k]):
                paths[k].append(candidate)
                path_flow[k].append(0.0)
            for _ in range(_GP_INNER_PASSES):
                if not _shift_to_cheapest(links, flow, paths[k], path_flow[k], so):
                    break
            keep = [j for j, f in enumerate(path_flow[k]) if f > 1e-12]
            paths[k] = [paths[k][j] for j in keep]
            path_flow[k] = [path_flow[k][j] for j in keep]
    choice = np.zeros((len(origins), len(links.gate_ids)))
    for k, (these, flows) in enumerate(zip(paths, path_flow, strict=True)):
        for path, trucks in zip(these, flows, strict=True):
            if len(path) and path[-1] >= links.n_roads:
                choice[k, path[-1] - links.n_roads] += trucks
    return flow, gaps, choice


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


def _shift_to_cheapest(links: _Links, flow: NDArray, paths: list[NDArray[np.int64]],
                       path_flow: list[float], so: bool) -> bool:
    """One Newton shift for one origin; False when there was nothing to shift."""
    if len(paths) < 2:
        return False
    rows = np.unique(np.concatenate(paths))
    time, slope = links.link_cost(rows, flow[rows], so)
    position = [np.searchsorted(rows, p) for p in paths]
    costs = [float(time[pos].sum()) for pos in position]
    best = int(np.argmin(costs))
    on_best = np.zeros(len(rows), dtype=bool)
    on_best[position[best]] = True
    moved = False
    for j, pos in enumerate(position):
        if j == best or path_flow[j] <= 0:
            continue
        on_this = np.zeros(len(rows), dtype=bool)
        on_this[pos] = True
        curvature = float(slope[on_this ^ on_best].sum())
        excess = costs[j] - costs[best]
        if excess <= 0:
            continue
        shift = path_flow[j] if curvature <= 0 else min(path_flow[j], excess / curvature)
        path_flow[j] -= shift
        path_flow[best] += shift
        flow[paths[j]] -= shift
        flow[paths[best]] += shift
        moved = True
    np.maximum(flow, 0.0, out=flow)
    return moved


def _line_search(links: _Links, flow: NDArray, direction: NDArray, so: bool) -> float:
    def slope(step: float) -> float:
        trial = flow + step * direction
        cost = links.marginal(trial) if so else links.time(trial)
        return float(np.dot(direction, cost))

    if slope(1.0) <= 0:
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(40):
        mid = (low + high) / 2
        if slope(mid) > 0:
            high = mid
        else:
            low = mid
    return (low + high) / 2


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
        ``"gp"`` path-based gradient projection (default: reaches small gaps in far fewer
        iterations when gates run near capacity), ``"cfw"`` conjugate Frank–Wolfe or
        ``"fw"`` the classic Frank–Wolfe method. All report the same relative gap.
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
        shortest, _, _ = links.tree_paths(times, run.origins, run.volume)
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
        via = links.costs_via_gates(times, run.origins)
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
