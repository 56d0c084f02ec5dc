"""Routing benchmark: bordergeo's compiled core against the NetworkX/OSMnx way.

Prints a table of medians and ratios (NetworkX time / bordergeo time) for: building the
graph from a LineString GeoDataFrame (with gap closing, the default), one route with
geometry, a 50 hubs × 10 gates matrix, every node × 10 gates, and the memory of the compiled
routing arrays per edge; and what gap closing costs in the build (with vs without, on the
clean grid and on the grid with 1 % of its line ends cut back 20 m, which it joins again).

    python benchmarks/routing.py                    # bundled data + synthetic 100k
    python benchmarks/routing.py --sizes 100000 1000000 --rounds 3

Timings are interleaved rounds (each method once per round); the ratio is the median of
per-round ratios. NetworkX loops that take minutes on 1M edges run once (``--nx-rounds``).
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


def osmnx_inputs(net):
    import geopandas as gpd

    nodes = net.nodes_gdf()
    edges = net.edges.copy()
    edges = edges.set_index(["u", "v", "key"])
    edges = gpd.GeoDataFrame(edges, geometry="geometry", crs=net.crs)
    return nodes, edges


def cut_ends(roads, fraction: float, *, metres: float = 20.0, seed: int = 1):
    """The layer with ``fraction`` of its lines' last vertex pulled back ``metres``."""
    coords, idx = shapely.get_coordinates(roads.geometry.to_numpy(), return_index=True)
    last = np.flatnonzero(np.r_[idx[1:] != idx[:-1], True])
    last = last[np.random.default_rng(seed).random(len(last)) < fraction]
    back = coords[last - 1] - coords[last]
    d = np.hypot(*back.T)
    coords[last] += back / d[:, None] * np.minimum(metres, d / 2)[:, None]
    return roads.set_geometry(shapely.linestrings(coords, indices=idx), crs=roads.crs)


def gap_cost(name: str, roads, *, rounds: int) -> list[tuple[str, str, str, str]]:
    """Build time with gap closing (default) and without, interleaved; median of rounds."""
    rows = []
    for label, layer in (("clean grid", roads), ("1 % of line ends cut back 20 m",
                                                 cut_ends(roads, 0.01))):
        with_gaps, without, net = [], [], None
        for _ in range(rounds):
            t_on, net = timed(lambda layer=layer: build_network(
                layer, snap_tolerance_m=0.0, node_crossings=False))
            t_off, _ = timed(lambda layer=layer: build_network(
                layer, snap_tolerance_m=0.0, gap_tolerance_m=0.0, node_crossings=False))
            with_gaps.append(t_on)
            without.append(t_off)
        on, off = statistics.median(with_gaps), statistics.median(without)
        rows.append((name, f"gap closing in the build, {label} "
                           f"({len(net.report.gap_joins):,} gaps joined)",
                     f"{fmt(on)} with vs {fmt(off)} without", f"{(on / off - 1) * 100:+.0f} %"))
    return rows


def bench(name: str, make_network: Callable[[], object], pick: Callable[[object], tuple],
          *, rounds: int, nx_rounds: int) -> list[tuple[str, str, str, str]]:
    import osmnx as ox

    rows = []
    # (a) build
    ours, theirs, ratios = [], [], []
    net = None
    nodes_gdf = edges_gdf = None
    for _ in range(rounds):
        t_ours, net = timed(make_network)
        if nodes_gdf is None:
            nodes_gdf, edges_gdf = osmnx_inputs(net)
        t_ox, graph = timed(lambda n=nodes_gdf, e=edges_gdf: ox.convert.graph_from_gdfs(n, e))
        ours.append(t_ours)
        theirs.append(t_ox)
        ratios.append(t_ox / t_ours)
    rows.append((name, "build graph from LineStrings (incl. noding)",
                 f"{fmt(statistics.median(ours))} vs osmnx.graph_from_gdfs "
                 f"{fmt(statistics.median(theirs))}", ratio(statistics.median(ratios))))
    router = Router(net)
    hubs, gates = pick(net)
    for _ in range(2):  # warm caches (CSR, reversed CSR)
        router.route(hubs[0], gates[0])
    g = net.to_graph()

    # (b) one route with geometry
    ours, theirs, ratios = [], [], []
    for r in range(rounds):
        o, d = hubs[r % len(hubs)], gates[r % len(gates)]
        t_ours, route = timed(lambda o=o, d=d: router.route(o, d))
        t_nx, path = timed(lambda o=o, d=d: ox.routing.route_to_gdf(
            g, nx.shortest_path(g, o, d, weight="travel_time"), weight="travel_time"))
        ours.append(t_ours)
        theirs.append(t_nx)
        ratios.append(t_nx / t_ours)
        assert abs(route.travel_time_s - path["travel_time"].sum()) < 1e-6
    rows.append((name, "one route with geometry",
                 f"{fmt(statistics.median(ours))} vs nx.shortest_path + route_to_gdf "
                 f"{fmt(statistics.median(theirs))}", ratio(statistics.median(ratios))))

    # (c) hubs × gates matrix
    ours, theirs = [], []
    for _ in range(rounds):
        t, table = timed(lambda: router.matrix(hubs, gates))
        ours.append(t)
    for _ in range(nx_rounds):
        t, lengths = timed(lambda: [nx.single_source_dijkstra_path_length(
            g, h, weight="travel_time") for h in hubs])
        theirs.append(t)
    expected = np.array([[lengths[i].get(gt, np.inf) for gt in gates]
                         for i in range(len(hubs))])
    got = table["travel_time_min"].to_numpy().reshape(len(hubs), len(gates)) * 60
    assert np.allclose(np.nan_to_num(got, nan=np.inf), expected, atol=1e-6)
    rows.append((name, f"{len(hubs)} hubs × {len(gates)} gates matrix (time + distance)",
                 f"{fmt(statistics.median(ours))} vs nx loop {fmt(statistics.median(theirs))}",
                 ratio(statistics.median(theirs) / statistics.median(ours))))

    # (d) every node × gates
    ours, theirs = [], []
    for _ in range(rounds):
        t, _ = timed(lambda: router.times_to(gates))
        ours.append(t)
    reverse = g.reverse(copy=False)
    for _ in range(nx_rounds):
        t, _ = timed(lambda: [nx.single_source_dijkstra_path_length(
            reverse, gt, weight="travel_time") for gt in gates])
        theirs.append(t)
    rows.append((name, f"every node × {len(gates)} gates",
                 f"{fmt(statistics.median(ours))} vs nx reverse loop "
                 f"{fmt(statistics.median(theirs))}",
                 ratio(statistics.median(theirs) / statistics.median(ours))))

    # (e) memory of the compiled routing core
    fwd, rev = net.travel_time_csr, net.travel_time_csr_reversed
    chosen, pairs = net._travel_time_pairs
    core = sum(a.nbytes for m in (fwd, rev) for a in (m.data, m.indices, m.indptr))
    core += chosen.nbytes + pairs.nbytes
    rows.append((name, "routing memory beyond the edge table",
                 f"{core / 2**20:.1f} MiB for {len(net.table):,} edges",
                 f"{core / len(net.table):.0f} B/edge"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--nx-rounds", type=int, default=1)
    args = parser.parse_args()
    rows = []
    ds = load_dataset()
    road_gates = ds.gates[ds.gates["mode"] == "road"]["id"].tolist()[:10]

    def bundled_places(net) -> tuple[list[int], list[int]]:
        return ([net.places[h] for h in ds.hubs["id"]], [net.places[g] for g in road_gates])

    def random_places(net) -> tuple[list[int], list[int]]:
        rng = np.random.default_rng(0)
        component = net.largest_component_nodes()
        return ([int(n) for n in rng.choice(component, 50, replace=False)],
                [int(n) for n in rng.choice(component, 10, replace=False)])

    rows += bench(f"bundled ({len(ds.roads)} roads)", lambda: dataset_network(ds),
                  bundled_places, rounds=args.rounds, nx_rounds=max(args.nx_rounds, 3))
    for size in args.sizes:
        roads = grid_roads(size)
        rows += bench(f"synthetic {size // 1000}k",
                      lambda roads=roads: build_network(roads, snap_tolerance_m=0.0,
                                                        node_crossings=False),
                      random_places, rounds=args.rounds, nx_rounds=args.nx_rounds)
        rows += gap_cost(f"synthetic {size // 1000}k", roads, rounds=args.rounds)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("dataset", "task", "bordergeo vs NetworkX/OSMnx (median)", "ratio")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
