"""Assignment benchmark: UE and SO to a relative gap of 1e-5, and one all-or-nothing load.

One markdown table, every number from this run (medians of ``--repeats``):

* **all-or-nothing load** at free-flow times, the first step of every assignment: each
  origin's demand on its cheapest path through the cheapest gate, with every origin's
  cost. The NetworkX reference is written as a sensible NetworkX user would:
  ``network.to_graph()`` plus one link per gate to a sink, one
  ``nx.single_source_dijkstra`` per gate on ``G.reverse(copy=False)`` (every origin's
  path and cost to that gate), then each origin's path through its cheapest gate loaded
  edge by edge (building the graph is not timed). bordergeo computes the same flows and
  costs from one backward search from the sink on its compiled graph; both are checked
  equal before they are timed.
* **assignments** ``assign(objective=…, algorithm=…, target_gap=1e-5)``: iterations to a
  relative gap of 1e-2 / 1e-3 / 1e-4 / 1e-5 (– when not reached within ``--max-iter``),
  the last gap, total seconds of the call (building the link arrays and the result tables
  included) and total / iterations.

    python benchmarks/assignment.py --quick      # ~5k links, 100 OD pairs
    python benchmarks/assignment.py              # ~40k links, 1,000 OD pairs
    python benchmarks/assignment.py --profile    # + cProfile of one synthetic SO run

The synthetic case is the jittered grid of ``synthetic.py`` (EPSG:32648, ~21.7° N
105° E) with ten gates on its northern edge (the "border"), capacities 300–1,500 trucks a
day, and hubs spread over the grid whose demand adds up to 95 % of the gates' capacity,
so the queues at the gates decide the split. Road capacities are the library's defaults.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import geopandas as gpd  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from scipy.sparse.csgraph import dijkstra  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import grid_roads  # noqa: E402
from timing import fmt, ratio, timed  # noqa: E402

from bordergeo import load_dataset  # noqa: E402
from bordergeo.assignment import LANE_CAPACITY_PCU_H, TRUCK_PCE, _Links, assign  # noqa: E402
from bordergeo.congestion import load_demand  # noqa: E402
from bordergeo.network import RoadNetwork, build_network  # noqa: E402
from bordergeo.routing import dataset_network  # noqa: E402

SINK = "china"
LEVELS = (1e-2, 1e-3, 1e-4, 1e-5)


def sci(value: float) -> str:
    return f"{value:.0e}".replace("e-0", "e-")


@dataclass
class Case:
    name: str
    network: RoadNetwork
    gates: pd.DataFrame
    demand: pd.DataFrame


# --------------------------------------------------------------------------- cases
def bundled_case() -> Case:
    ds = load_dataset()
    return Case(f"bundled ({len(ds.roads)} roads)", dataset_network(ds), ds.gates,
                load_demand())


def synthetic_case(target_links: int, n_origins: int, n_gates: int, *, seed: int = 0
                   ) -> Case:
    """Grid roads, gates on the northern edge, hubs spread over the grid."""
    rng = np.random.default_rng(seed)
    # attaching a place splits a road: about two more directed edges per place
    roads = grid_roads(max(target_links - 2 * (n_origins + n_gates), 1_000), seed=seed)
    x0, y0, x1, y1 = roads.total_bounds
    gate_x = x0 + (x1 - x0) * (np.arange(n_gates) + 0.5) / n_gates
    capacity = np.round(rng.uniform(300, 1_500, n_gates), -1)
    gates = gpd.GeoDataFrame({
        "id": [f"gate-{i:02d}" for i in range(n_gates)],
        "name_vi": [f"Cửa khẩu {i}" for i in range(n_gates)],
        "level": "secondary", "mode": "road", "status": "open",
        "lanes_export": pd.array([pd.NA] * n_gates, dtype="Int64"),
        "lanes_import": pd.array([pd.NA] * n_gates, dtype="Int64"),
        "hours_vn": "07:00-19:00", "hours_cn": "08:00-20:00",
        "service_rate_trucks_h": 16.7, "capacity_trucks_day": capacity,
    }, geometry=shapely.points(gate_x, np.full(n_gates, y1 + 30.0)), crs=roads.crs)
    # more hub candidates than needed: a few land on roads that cannot reach a gate
    n_candidates = int(n_origins * 1.2) + 10
    hubs = gpd.GeoDataFrame(
        {"id": [f"hub-{i:04d}" for i in range(n_candidates)]},
        geometry=shapely.points(rng.uniform(x0 + 50, x1 - 50, n_candidates),
                                rng.uniform(y0 + 50, y1 - 500, n_candidates)),
        crs=roads.crs)
    places = pd.concat([gates[["id", "geometry"]], hubs], ignore_index=True)
    network = build_network(roads, places=gpd.GeoDataFrame(places, crs=roads.crs),
                            snap_tolerance_m=0.0, node_crossings=False)
    gate_nodes = [network.places[g] for g in gates["id"]]
    to_gate = dijkstra(network.travel_time_csr_reversed, directed=True, indices=gate_nodes,
                       min_only=True)
    reachable = [h for h in hubs["id"] if np.isfinite(to_gate[network.places[h]])]
    origins = reachable[:n_origins]
    weight = rng.lognormal(0.0, 0.8, len(origins))
    trucks = weight / weight.sum() * 0.95 * capacity.sum()
    demand = pd.DataFrame({"origin": origins, "trucks_per_day": trucks})
    name = f"synthetic {len(network.table) / 1000:.0f}k"
    return Case(name, network, gates, demand)


# ----------------------------------------------------- one all-or-nothing load
@dataclass
class Loading:
    """What an all-or-nothing load needs: the links as the assignment sees them."""

    links: _Links
    origins: np.ndarray          # node of each origin
    volume: np.ndarray           # trucks/day of each origin


def loading(case: Case) -> Loading:
    links = _Links(case.network, case.gates, direction="both", truck_pce=TRUCK_PCE,
                   lane_capacity_pcu_h=LANE_CAPACITY_PCU_H)
    volume = case.demand.groupby(case.demand["origin"].astype(str), sort=False)[
        "trucks_per_day"].sum()
    origins = np.array([case.network.places[o] for o in volume.index], dtype=np.int64)
    return Loading(links, origins, volume.to_numpy(float))


def networkx_graph(case: Case, load: Loading) -> nx.MultiDiGraph:
    """``network.to_graph()``, ``cost`` = free-flow hours, ``row`` = link row; gates → sink."""
    g = case.network.to_graph()
    table = case.network.table
    row = {(int(u), int(v), int(k)): i for i, (u, v, k) in
           enumerate(zip(table["u"], table["v"], table["key"], strict=True))}
    hours = load.links.t0
    for u, v, k, data in g.edges(keys=True, data=True):
        data["row"] = row[(u, v, k)]
        data["cost"] = hours[data["row"]]
    r = load.links.n_roads
    for j, node in enumerate(load.links.gate_nodes):
        g.add_edge(int(node), SINK, row=r + j, cost=hours[r + j])
    return g


def networkx_all_or_nothing(g: nx.MultiDiGraph, load: Loading
                            ) -> tuple[np.ndarray, np.ndarray]:
    """One reverse search per gate; each origin's path through its cheapest gate loaded."""
    back = g.reverse(copy=False)
    gates = list(g.predecessors(SINK))
    searches = [nx.single_source_dijkstra(back, gate, weight="cost") for gate in gates]
    gate_cost = [min(d["cost"] for d in g[gate][SINK].values()) for gate in gates]
    flow = np.zeros(len(load.links.t0))
    shortest = np.empty(len(load.origins))
    for i, (origin, trucks) in enumerate(zip(load.origins, load.volume, strict=True)):
        cost = [dist.get(int(origin), np.inf) + c
                for (dist, _), c in zip(searches, gate_cost, strict=True)]
        best = int(np.argmin(cost))
        shortest[i] = cost[best]
        path = searches[best][1][int(origin)][::-1] + [SINK]   # origin → gate → sink
        for u, v in zip(path[:-1], path[1:], strict=True):
            edge = min(g[u][v].values(), key=lambda d: d["cost"])
            flow[edge["row"]] += trucks
    return flow, shortest


def bordergeo_all_or_nothing(load: Loading) -> tuple[np.ndarray, np.ndarray]:
    """The same from one backward search from the sink on the compiled graph."""
    return load.links.all_or_nothing(load.links.t0.copy(), load.origins, load.volume)


# --------------------------------------------------------------------- benchmark
def first_below(gaps: list[float], level: float) -> str:
    below = np.flatnonzero(np.asarray(gaps) < level)
    return str(below[0] + 1) if len(below) else "–"


def bench_case(case: Case, *, repeats: int, max_iter: int, target_gap: float,
               algorithms: list[str], nx_rounds: int) -> tuple[list[tuple], list[str]]:
    load = loading(case)
    links = f"{load.links.n_roads:,} + {len(load.links.gate_ids)}"
    pairs = f"{len(load.origins):,}"
    notes: list[str] = []

    t_graph, g = timed(lambda: networkx_graph(case, load))
    nx_flow, nx_shortest = networkx_all_or_nothing(g, load)
    bg_flow, bg_shortest = bordergeo_all_or_nothing(load)
    if not np.allclose(bg_shortest, nx_shortest, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"{case.name}: NetworkX and bordergeo shortest costs differ")
    same = np.allclose(bg_flow, nx_flow, rtol=1e-9, atol=1e-9)
    notes.append(f"{case.name}: all-or-nothing loads equal ("
                 + ("same link flows" if same else "same costs; link flows differ on ties")
                 + f"); building the NetworkX graph {fmt(t_graph)} not counted")
    t_nx = statistics.median(timed(lambda: networkx_all_or_nothing(g, load))[0]
                             for _ in range(nx_rounds))
    t_bg = statistics.median(timed(lambda: bordergeo_all_or_nothing(load))[0]
                             for _ in range(max(repeats, 5)))
    rows = [(case.name, "all-or-nothing: NetworkX (reverse search per gate)", "–", links,
             pairs, "–", "–", f"{t_nx:.4f}", "–", "×1"),
            (case.name, "all-or-nothing: bordergeo (one backward search)", "–", links,
             pairs, "–", "–", f"{t_bg:.4f}", "–", ratio(t_nx / t_bg))]

    for algorithm in algorithms:
        for objective in ("ue", "so"):
            totals, result = [], None
            for _ in range(repeats):
                t, result = timed(lambda o=objective, a=algorithm: assign(
                    case.network, case.gates, case.demand, objective=o, algorithm=a,
                    max_iter=max_iter, target_gap=target_gap))
                totals.append(t)
            total = statistics.median(totals)
            n = result.iterations
            reached = " / ".join(first_below(result.relative_gap, level) for level in LEVELS)
            util = result.gates["utilisation"]
            notes.append(f"{case.name} {objective.upper()} ({algorithm}): gate utilisation "
                         f"{util.min():.2f}–{util.max():.2f}, max road v/c "
                         f"{result.roads['volume_capacity'].max():.3f}, "
                         f"{result.total_truck_hours:,.3f} truck-h/day")
            rows.append((case.name, f"assign {algorithm}", objective.upper(), links, pairs,
                         reached, f"{result.relative_gap[-1]:.1e}", f"{total:.3f}",
                         f"{total / n:.4f}", ratio(t_nx / total) if total < t_nx
                         else f"×{t_nx / total:.2f}"))
    return rows, notes


def profile(case: Case, *, max_iter: int, target_gap: float, top: int = 15) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    assign(case.network, case.gates, case.demand, objective="so", max_iter=max_iter,
           target_gap=target_gap)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def markdown(rows: list[tuple], target_gap: float) -> str:
    header = ("network", "method", "objective", "links (roads + gates)", "OD pairs",
              "iterations to " + " / ".join(sci(level) for level in LEVELS), "last gap",
              "total s", "s / iteration", "NetworkX all-or-nothing s / this s")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
              for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="synthetic network of ~5k links and 100 OD pairs")
    parser.add_argument("--links", type=int, help="synthetic directed links (default 40,000)")
    parser.add_argument("--origins", type=int, help="synthetic OD pairs (default 1,000)")
    parser.add_argument("--gates", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--nx-rounds", type=int, default=1)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--gap", type=float, default=1e-5, help="target relative gap")
    parser.add_argument("--algorithm", nargs="*", default=["gp", "cfw", "fw"],
                        choices=["gp", "cfw", "fw"], help="assign(algorithm=...) values")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile one synthetic SO run and print the top functions")
    args = parser.parse_args()
    links = args.links or (5_000 if args.quick else 40_000)
    origins = args.origins or (100 if args.quick else 1_000)

    cases = [bundled_case()]
    t_build, synthetic = timed(lambda: synthetic_case(links, origins, args.gates))
    cases.append(synthetic)
    print(f"built {synthetic.name} ({len(synthetic.network.table):,} directed road links, "
          f"{synthetic.network.n_nodes:,} nodes, {len(synthetic.demand)} origins, "
          f"{args.gates} gates) in {fmt(t_build)}", flush=True)
    rows, notes = [], []
    for case in cases:
        r, n = bench_case(case, repeats=args.repeats, max_iter=args.max_iter,
                          target_gap=args.gap, algorithms=args.algorithm,
                          nx_rounds=args.nx_rounds)
        rows += r
        notes += n
        for row in r:
            print("  ", " | ".join(row), flush=True)
    if args.profile:
        print(f"\ncProfile of one SO run on {synthetic.name} (top functions by own time):")
        print(profile(synthetic, max_iter=args.max_iter, target_gap=args.gap))
    print()
    for note in notes:
        print(f"- {note}")
    print()
    print(f"Target relative gap {sci(args.gap)}, at most {args.max_iter} iterations; medians "
          f"of {args.repeats} runs (NetworkX: {args.nx_rounds}); "
          f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, {os.cpu_count()} CPUs.")
    print()
    print(markdown(rows, args.gap))


if __name__ == "__main__":
    main()
