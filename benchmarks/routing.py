"""Routing benchmark: bordergeo's Router against bare scipy and NetworkX/OSMnx, like for like.

Every comparison produces the same output on both sides, in the same run, and the outputs
are checked equal (assert) before a row is printed:

* one route with geometry and figures, first (cold: the destination never searched) and
  repeated (another origin to a destination already searched, so the Router walks its
  kept tree), against ``nx.shortest_path`` + ``osmnx.routing.route_to_gdf``;
* a hubs × gates matrix of times and lengths, cold (trees dropped before each round) and
  with the gates already searched, against bare scipy (one ``csgraph.dijkstra`` call with
  ``indices=gates`` on the reversed CSR, then the lengths along the predecessor chains
  gathered by CSR position, coded the same efficient way), against the naive NetworkX
  loop (one forward ``single_source_dijkstra`` per hub, lengths summed along the returned
  paths) and against the sensible NetworkX reference (one ``single_source_dijkstra`` per
  gate on ``G.reverse(copy=False)``, lengths from the returned paths);
* every node × the gates, times and lengths, against that sensible NetworkX loop (the
  length of each node from its parent's on the returned path).

No build or memory rows (``benchmarks/build.py`` has those). Run on the bundled data and a
synthetic grid (default one million directed edges):

    python benchmarks/routing.py                        # bundled + synthetic 1M
    python benchmarks/routing.py --sizes 100000 --rounds 3

bordergeo and bare scipy run interleaved ``--rounds`` times (the order alternates) and
the speed-up is the median of per-round ratios; the NetworkX loops, minutes at 1M edges,
run ``--nx-rounds`` times (at least 3 on the bundled data) and the speed-up is the ratio of
medians. Speed-up = reference time ÷ bordergeo time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import grid_roads  # noqa: E402
from timing import fmt, ratio, timed  # noqa: E402

from bordergeo import load_dataset  # noqa: E402
from bordergeo.network import build_network  # noqa: E402
from bordergeo.routing import Router, dataset_network  # noqa: E402

Row = tuple[str, str, str, str, str, str]


def speedup(value: float) -> str:
    """Reference time ÷ bordergeo time; two decimals near parity (×0.96)."""
    return f"×{value:.2f}" if value < 2 else ratio(value)


# ------------------------------------------------------------------ references
def nx_edge_length(g: nx.MultiDiGraph, a: int, b: int) -> float:
    """Length of the a→b edge a travel-time search uses (the fastest parallel edge)."""
    return min(g[a][b].values(), key=lambda d: d["travel_time"])["length"]


def nx_route(g: nx.MultiDiGraph, origin: int, destination: int):
    """The OSMnx way: the node path, then the route's edges as a GeoDataFrame."""
    import osmnx as ox

    path = nx.shortest_path(g, origin, destination, weight="travel_time")
    return path, ox.routing.route_to_gdf(g, path, weight="travel_time")


def nx_naive_matrix(g: nx.MultiDiGraph, hubs: list[int], gates: list[int]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """One forward search per hub; time and length (from the path) to each gate."""
    times = np.full((len(gates), len(hubs)), np.inf)
    lengths = np.full((len(gates), len(hubs)), np.inf)
    for i, hub in enumerate(hubs):
        dist, paths = nx.single_source_dijkstra(g, hub, weight="travel_time")
        for j, gate in enumerate(gates):
            if gate in dist:
                path = paths[gate]
                times[j, i] = dist[gate]
                lengths[j, i] = sum(nx_edge_length(g, a, b)
                                    for a, b in zip(path[:-1], path[1:], strict=True))
        del dist, paths
    return times, lengths


def nx_reverse_matrix(g: nx.MultiDiGraph, hubs: list[int], gates: list[int]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """One search per gate on the reversed graph; length from each hub's returned path."""
    reverse = g.reverse(copy=False)
    times = np.full((len(gates), len(hubs)), np.inf)
    lengths = np.full((len(gates), len(hubs)), np.inf)
    for j, gate in enumerate(gates):
        dist, paths = nx.single_source_dijkstra(reverse, gate, weight="travel_time")
        for i, hub in enumerate(hubs):
            if hub in dist:
                path = paths[hub][::-1]  # hub → … → gate
                times[j, i] = dist[hub]
                lengths[j, i] = sum(nx_edge_length(g, a, b)
                                    for a, b in zip(path[:-1], path[1:], strict=True))
        del dist, paths
    return times, lengths


def nx_reverse_every_node(g: nx.MultiDiGraph, gates: list[int], n_nodes: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Time and length from every node to each gate: reverse searches, lengths by parent.

    A node's length is its parent's (the next node toward the gate on its returned path)
    plus the edge to it; nodes are taken in order of path size, so parents come first.
    """
    reverse = g.reverse(copy=False)
    times = np.full((len(gates), n_nodes), np.inf)
    lengths = np.full((len(gates), n_nodes), np.inf)
    for j, gate in enumerate(gates):
        dist, paths = nx.single_source_dijkstra(reverse, gate, weight="travel_time")
        row = lengths[j]
        row[gate] = 0.0
        for node, path in sorted(paths.items(), key=lambda item: len(item[1])):
            if len(path) > 1:
                row[node] = row[path[-2]] + nx_edge_length(g, node, path[-2])
            times[j, node] = dist[node]
        del dist, paths
    return times, lengths


def scipy_matrix(rev, length_at: np.ndarray, hubs: np.ndarray, gates: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Bare scipy: one dijkstra call on the reversed CSR, lengths gathered by CSR position.

    Walks every hub's predecessor chain toward each gate (nodes only, one gather a hop),
    then finds each hop's position in the reversed CSR (row = the node nearer the gate,
    through ``indptr``) and sums ``length_at`` by chain.
    """
    from scipy.sparse.csgraph import dijkstra

    dist, pred = dijkstra(rev, directed=True, indices=gates, return_predecessors=True)
    n = rev.shape[0]
    times = dist[:, hubs]
    gate_of, hub_of = np.nonzero(np.isfinite(times))
    chain = np.arange(len(gate_of))
    cur = hubs[hub_of].astype(np.int64)
    offset = gate_of.astype(np.int64) * n
    flat = pred.ravel()
    chains, tails, heads = [], [], []
    while len(chain):
        nxt = flat[offset + cur]
        live = nxt >= 0
        if not live.all():  # chains at their gate stop
            chain, cur, offset, nxt = chain[live], cur[live], offset[live], nxt[live]
        chains.append(chain)
        tails.append(cur)
        heads.append(nxt)
        cur = nxt.astype(np.int64)
    heads_all = np.concatenate(heads).astype(np.int64)
    tails_all = np.concatenate(tails)
    start = rev.indptr[heads_all].astype(np.int64)
    width = int(np.diff(rev.indptr).max())
    padded = np.r_[rev.indices, np.full(width, -1, dtype=rev.indices.dtype)]
    block = padded[start[:, None] + np.arange(width)]
    pos = start + (block == tails_all[:, None]).argmax(axis=1)
    walked = np.bincount(np.concatenate(chains), weights=length_at[pos],
                         minlength=len(gate_of))
    lengths = np.full(times.shape, np.inf)
    lengths[gate_of, hub_of] = walked
    return times, lengths


def scipy_length_at(net, rev) -> np.ndarray:
    """Length at each position of the reversed CSR (done once, like the Router's)."""
    v = np.repeat(np.arange(net.n_nodes), np.diff(rev.indptr))
    rows = net.edge_between(rev.indices.astype(np.int64), v)
    return net.table["length"].to_numpy(float)[rows]


# ------------------------------------------------------------------ checks
def same_route(route, path: list[int], gdf) -> None:
    assert route.nodes == path, "different path (a tie?)"
    assert abs(route.travel_time_s - gdf["travel_time"].sum()) < 1e-6
    assert abs(route.length_m - gdf["length"].sum()) < 1e-6
    coords = [shapely.get_coordinates(geom) for geom in gdf.geometry]
    theirs = np.vstack([coords[0]] + [c[1:] for c in coords[1:]])
    np.testing.assert_allclose(shapely.get_coordinates(route.geometry), theirs, atol=1e-9)


def same_matrix(table_or_pair, times: np.ndarray, lengths: np.ndarray, shape) -> None:
    if isinstance(table_or_pair, tuple):
        got_t, got_l = table_or_pair
    else:
        got_t = table_or_pair["travel_time_min"].to_numpy().reshape(shape[::-1]).T * 60
        got_l = table_or_pair["length_km"].to_numpy().reshape(shape[::-1]).T * 1000
    got_t = np.where(np.isnan(got_t), np.inf, got_t)  # the Router's NaN: unreachable
    got_l = np.where(np.isnan(got_l), np.inf, got_l)
    np.testing.assert_array_equal(np.isfinite(got_t), np.isfinite(times))
    ok = np.isfinite(times)
    np.testing.assert_allclose(got_t[ok], times[ok], rtol=0, atol=1e-6)
    np.testing.assert_allclose(got_l[ok], lengths[ok], rtol=0, atol=1e-6)


# ------------------------------------------------------------------ runs
def interleaved(ours: Callable[[int], object], theirs: Callable[[int], object], rounds: int
                ) -> tuple[float, float, float, object, object]:
    """Median times of both and median per-round ratio (theirs ÷ ours); last outputs."""
    t_ours, t_theirs, ratios = [], [], []
    out_ours = out_theirs = None
    for r in range(rounds):
        if r % 2 == 0:
            a, out_ours = timed(lambda r=r: ours(r))
            b, out_theirs = timed(lambda r=r: theirs(r))
        else:
            b, out_theirs = timed(lambda r=r: theirs(r))
            a, out_ours = timed(lambda r=r: ours(r))
        t_ours.append(a)
        t_theirs.append(b)
        ratios.append(b / a)
    return (statistics.median(t_ours), statistics.median(t_theirs),
            statistics.median(ratios), out_ours, out_theirs)


def bench(name: str, net, hubs: list[int], gates: list[int], *, rounds: int,
          nx_rounds: int) -> list[Row]:
    rows: list[Row] = []
    router = Router(net)
    rev = net.travel_time_csr_reversed
    router.matrix(hubs[:1], gates[:1])  # compile once: CSR, edge rows by CSR position
    length_at = scipy_length_at(net, rev)
    router.clear_cache(trees_only=True)
    g = net.to_graph()
    h, k = np.array(hubs, dtype=np.int64), np.array(gates, dtype=np.int64)

    # one route with geometry: cold, then repeated to a gate already searched
    pairs = [(hubs[r % len(hubs)], gates[r % len(gates)]) for r in range(rounds)]
    cold, warm, nx_times, outs = [], [], [], []
    for r, (o, d) in enumerate(pairs):
        router.clear_cache(trees_only=True)
        t_cold, route = timed(lambda o=o, d=d: router.route(o, d))
        other = hubs[(r + 1) % len(hubs)]
        t_warm, again = timed(lambda o=other, d=d: router.route(o, d))
        t_nx, (path, gdf) = timed(lambda o=o, d=d: nx_route(g, o, d))
        same_route(route, path, gdf)
        cold.append(t_cold)
        warm.append(t_warm)
        nx_times.append(t_nx)
        outs.append((again, other, d))
    for again, other, d in outs[:2]:
        same_route(again, *nx_route(g, other, d))
    t_nx = statistics.median(nx_times)
    ref = "nx.shortest_path + osmnx route_to_gdf"
    rows.append((name, "one route with geometry, first to its gate (search)",
                 fmt(statistics.median(cold)), ref, fmt(t_nx),
                 speedup(statistics.median([n / c for n, c in zip(nx_times, cold,
                                                                strict=True)]))))
    rows.append((name, "one route with geometry, gate already searched (tree walk)",
                 fmt(statistics.median(warm)), ref, fmt(t_nx),
                 speedup(statistics.median([n / w for n, w in zip(nx_times, warm,
                                                                strict=True)]))))

    # hubs × gates matrix, times and lengths
    task = f"{len(hubs)} hubs × {len(gates)} gates matrix (time + length)"

    def ours_cold(_: int):
        router.clear_cache(trees_only=True)
        return router.matrix(hubs, gates)

    t_ours, t_scipy, speed, table, (s_t, s_l) = interleaved(
        ours_cold, lambda _: scipy_matrix(rev, length_at, h, k), rounds)
    shape = (len(gates), len(hubs))
    same_matrix((s_t, s_l), *nx_reverse_matrix(g, hubs, gates), shape)
    same_matrix(table, s_t, s_l, shape)
    rows.append((name, task + ", gates not searched yet", fmt(t_ours),
                 "bare scipy: dijkstra(indices=gates) on reversed CSR + lengths walk",
                 fmt(t_scipy), speedup(speed)))
    t_warm, _, speed_w, table_w, _ = interleaved(
        lambda _: router.matrix(hubs, gates), lambda _: scipy_matrix(rev, length_at, h, k),
        rounds)
    same_matrix(table_w, s_t, s_l, shape)
    rows.append((name, task + ", gates already searched (tree walks)", fmt(t_warm),
                 "bare scipy, as above", fmt(t_scipy), speedup(speed_w)))
    naive, sensible = [], []
    for _ in range(nx_rounds):
        t, out_naive = timed(lambda: nx_naive_matrix(g, hubs, gates))
        naive.append(t)
        t, out_sensible = timed(lambda: nx_reverse_matrix(g, hubs, gates))
        sensible.append(t)
    same_matrix(out_naive, s_t, s_l, shape)
    same_matrix(out_sensible, s_t, s_l, shape)
    t_naive, t_sensible = statistics.median(naive), statistics.median(sensible)
    rows.append((name, task + ", gates not searched yet", fmt(t_ours),
                 f"naive NetworkX: {len(hubs)} forward single_source_dijkstra, lengths "
                 f"from paths", fmt(t_naive), speedup(t_naive / t_ours)))
    rows.append((name, task + ", gates not searched yet", fmt(t_ours),
                 f"sensible NetworkX: {len(gates)} single_source_dijkstra on G.reverse(), "
                 f"lengths from paths", fmt(t_sensible), speedup(t_sensible / t_ours)))

    # every node × gates, times and lengths
    ours_all, theirs_all = [], []
    for _ in range(max(1, min(rounds, 3))):
        router.clear_cache(trees_only=True)
        t, (times, lengths) = timed(lambda: (router.times_to(gates), router.lengths_to(gates)))
        ours_all.append(t)
    for _ in range(nx_rounds):
        t, (nx_t, nx_l) = timed(lambda: nx_reverse_every_node(g, gates, net.n_nodes))
        theirs_all.append(t)
    same_matrix((times, lengths), nx_t, nx_l, nx_t.shape)
    t_ours_all, t_theirs_all = statistics.median(ours_all), statistics.median(theirs_all)
    rows.append((name, f"every node ({net.n_nodes:,}) × {len(gates)} gates (time + length)",
                 fmt(t_ours_all),
                 f"sensible NetworkX: {len(gates)} single_source_dijkstra on G.reverse(), "
                 f"lengths by parent", fmt(t_theirs_all), speedup(t_theirs_all / t_ours_all)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000_000],
                        help="synthetic grids, in directed edges (default 1000000)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--nx-rounds", type=int, default=1)
    args = parser.parse_args()
    rows: list[Row] = []
    ds = load_dataset()
    net = dataset_network(ds)
    road_gates = ds.gates[ds.gates["mode"] == "road"]["id"].tolist()[:10]
    rows += bench(f"bundled ({len(net.table):,} edges)", net,
                  [net.places[p] for p in ds.hubs["id"] if p in net.places],
                  [net.places[p] for p in road_gates if p in net.places],
                  rounds=args.rounds, nx_rounds=max(args.nx_rounds, 3))
    for size in args.sizes:
        net = build_network(grid_roads(size))
        rng = np.random.default_rng(0)
        component = net.largest_component_nodes()
        places = [int(n) for n in rng.choice(component, 60, replace=False)]
        rows += bench(f"synthetic {size // 1000}k ({len(net.table):,} edges)", net,
                      places[:50], places[50:], rounds=args.rounds, nx_rounds=args.nx_rounds)
    header = ("dataset", "task", "bordergeo (median)", "reference", "reference (median)",
              "speed-up")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
