"""Build benchmark: road layer → routable network, against OSMnx/NetworkX in the same run.

For each size of the synthetic grid (:func:`synthetic.grid_roads`) it builds the network with
the settings a user gets by default, the ones ``dataset_network`` uses for the bundled roads
(crossings noded, near-miss ends snapped within 5 m, gaps up to 50 m closed), compiles the
travel-time CSR, and prints one markdown table of medians:

- build + CSR: ``build_network(roads)`` then ``network.travel_time_csr``; per edge (µs) and
  the per-edge cost relative to the 1M one (flat growth means ×1.0);
- CSR compile alone (on the freshly built network);
- ``osmnx.convert.graph_from_gdfs`` on the same noded edges (``nodes_gdf()`` and
  ``edges`` indexed by ``u, v, key``, as a user hands them to OSMnx) and its time over
  build + CSR (median of per-round ratios);
- ``network.to_graph()``, the full NetworkX graph with geometry and attributes;
- memory (a separate pass, as tracemalloc slows things down): all that the network keeps
  (traced memory after the build minus before, the input layer alive on both sides), the
  same with the CSR compiled, and the peak while building, in bytes per directed edge.
  Arrow buffers (string columns) are counted from pyarrow's allocator, which tracemalloc
  does not see.

    python benchmarks/build.py                                  # 100k, 1M, 3M
    python benchmarks/build.py --sizes 100000 1000000 --rounds 5 --nx-sizes 100000

Rounds are interleaved (every size and method once per round). OSMnx and ``to_graph`` run
only at ``--nx-sizes`` (default 100k and 1M: at 3M they take minutes).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tracemalloc
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import geopandas as gpd  # noqa: E402
import pyarrow as pa  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import grid_roads  # noqa: E402
from timing import fmt, ratio, timed  # noqa: E402

from bordergeo.network import build_network  # noqa: E402


def osmnx_inputs(net) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The network's nodes and edges as OSMnx takes them (edges indexed by u, v, key)."""
    nodes = net.nodes_gdf()
    edges = net.edges.copy().set_index(["u", "v", "key"])
    return nodes, gpd.GeoDataFrame(edges, geometry="geometry", crs=net.crs)


def label(size: int) -> str:
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size // 1000}k"


def timings(layers: dict[int, gpd.GeoDataFrame], *, rounds: int, nx_sizes: set[int]
            ) -> dict[int, dict[str, list[float]]]:
    """Interleaved rounds: build + CSR, then (at nx sizes) graph_from_gdfs and to_graph."""
    import osmnx as ox

    out: dict[int, dict[str, list[float]]] = {size: {} for size in layers}
    inputs: dict[int, tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]] = {}
    for _ in range(rounds):
        for size, roads in layers.items():
            rec = out[size]
            t_build, net = timed(lambda roads=roads: build_network(roads))
            t_csr, _ = timed(lambda net=net: net.travel_time_csr)
            rec.setdefault("build", []).append(t_build)
            rec.setdefault("csr", []).append(t_csr)
            rec.setdefault("total", []).append(t_build + t_csr)
            rec["edges"] = [len(net.table)]
            if size in nx_sizes:
                if size not in inputs:
                    inputs[size] = osmnx_inputs(net)
                nodes, edges = inputs[size]
                t_ox, graph = timed(lambda n=nodes, e=edges: ox.convert.graph_from_gdfs(n, e))
                assert graph.number_of_edges() == len(net.table)
                del graph
                t_nx, graph = timed(lambda net=net: net.to_graph())
                del graph
                rec.setdefault("osmnx", []).append(t_ox)
                rec.setdefault("osmnx_ratio", []).append(t_ox / (t_build + t_csr))
                rec.setdefault("to_graph", []).append(t_nx)
            del net
    return out


def memory(roads: gpd.GeoDataFrame) -> tuple[int, int, int, int]:
    """Bytes the network keeps, kept with its CSR, and the build's peak; and edges."""
    gc.collect()
    tracemalloc.start()
    base, arrow0 = tracemalloc.get_traced_memory()[0], pa.total_allocated_bytes()
    tracemalloc.reset_peak()
    net = build_network(roads)
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    arrow = pa.total_allocated_bytes() - arrow0
    kept = current - base + arrow
    net.travel_time_csr  # noqa: B018 - compile it
    with_csr = tracemalloc.get_traced_memory()[0] - base + arrow
    tracemalloc.stop()
    return kept, with_csr, peak - base + arrow, len(net.table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*",
                        default=[100_000, 1_000_000, 3_000_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--nx-sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--no-memory", action="store_true", help="skip the memory pass")
    args = parser.parse_args()
    layers = {size: grid_roads(size) for size in args.sizes}
    warm = build_network(grid_roads(2_000))  # imports and first-call costs out of the way
    warm.travel_time_csr  # noqa: B018
    times = timings(layers, rounds=args.rounds, nx_sizes=set(args.nx_sizes))
    mem = {} if args.no_memory else {size: memory(roads) for size, roads in layers.items()}

    per_edge = {size: statistics.median(rec["total"]) / rec["edges"][0]
                for size, rec in times.items()}
    reference = per_edge.get(1_000_000)
    header = ["edges", "build + CSR", "µs/edge", "per edge vs 1M", "CSR compile",
              "osmnx graph_from_gdfs", "ratio", "to_graph()", "kept B/edge",
              "kept + CSR B/edge", "peak B/edge"]
    rows = []
    for size, rec in times.items():
        edges = rec["edges"][0]
        kept, with_csr, peak, _ = mem.get(size, (0, 0, 0, 0))
        rows.append([
            f"{label(size)} ({edges:,})", fmt(statistics.median(rec["total"])),
            f"{per_edge[size] * 1e6:.2f}",
            f"×{per_edge[size] / reference:.2f}" if reference else "–",
            fmt(statistics.median(rec["csr"])),
            fmt(statistics.median(rec["osmnx"])) if "osmnx" in rec else "–",
            ratio(statistics.median(rec["osmnx_ratio"])) if "osmnx" in rec else "–",
            fmt(statistics.median(rec["to_graph"])) if "to_graph" in rec else "–",
            f"{kept / edges:.0f}" if mem else "–", f"{with_csr / edges:.0f}" if mem else "–",
            f"{peak / edges:.0f}" if mem else "–"])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    print(f"\nbuild_network(roads) defaults: crossings noded, snap 5 m, gaps ≤ 50 m closed; "
          f"medians of {args.rounds} interleaved rounds; ratio = graph_from_gdfs / "
          f"(build + CSR), median of per-round ratios.")


if __name__ == "__main__":
    main()
