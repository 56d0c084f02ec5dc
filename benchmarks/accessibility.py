"""Batch accessibility benchmark: every origin × 10 gates, bordergeo against NetworkX.

On a synthetic road grid (``--edges``) with ten "gates" on its northern edge and
``--origins`` random points, the same table — travel time from every origin's nearest
road node to every gate — is computed

* by :func:`bordergeo.accessibility.accessibility` in this process (``workers=0``) and on
  a local Dask cluster of ``--workers`` processes (start-up printed apart);
* the NetworkX way a sensible user writes it: one reverse
  ``single_source_dijkstra_path_length`` per gate on ``G.reverse(copy=False)``, nearest
  nodes with a scipy k-d tree, times read per origin.

The tables are checked equal. Medians of ``--rounds`` (NetworkX once: it takes longest).

    python benchmarks/accessibility.py --edges 1000000 --origins 1000000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import geopandas as gpd  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import grid_roads  # noqa: E402
from timing import fmt, ratio, timed  # noqa: E402

from bordergeo.accessibility import accessibility  # noqa: E402
from bordergeo.network import build_network  # noqa: E402
from bordergeo.routing import Router  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=100_000)
    parser.add_argument("--origins", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from dask.distributed import Client, LocalCluster
    from scipy.spatial import cKDTree

    roads = grid_roads(args.edges)
    network = build_network(roads)
    router = Router(network)
    top = np.argsort(network.node_y)[-200:]
    gates = [int(n) for n in top[np.linspace(0, len(top) - 1, 10).astype(int)]]
    x0, y0, x1, y1 = roads.total_bounds
    rng = np.random.default_rng(0)
    origins = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(x0, x1, args.origins),
                                                       rng.uniform(y0, y1, args.origins)),
                               crs=roads.crs)
    router.times_to(gates)  # warm: the network's CSR is built once, as in a session

    def ours(**where):
        fresh = Router(network)
        return accessibility(fresh, origins, gates=gates, max_snap_m=1e9, **where)

    t_start, cluster = timed(lambda: LocalCluster(n_workers=args.workers,
                                                  threads_per_worker=1, processes=True,
                                                  dashboard_address=None))
    client = Client(cluster)
    serial, dask = [], []
    table = None
    for _ in range(args.rounds):
        t, table = timed(lambda: ours(workers=0))
        serial.append(t)
        t, other = timed(lambda: ours(scheduler=cluster.scheduler_address))
        dask.append(t)
        assert other.equals(table)
    client.close()
    cluster.close()

    t_graph, graph = timed(lambda: network.to_graph().reverse(copy=False))

    def networkx_way():
        nodes = np.column_stack([network.node_x, network.node_y])
        _, nearest = cKDTree(nodes).query(np.column_stack([origins.geometry.x,
                                                            origins.geometry.y]))
        minutes = np.empty((len(origins), len(gates)))
        for j, gate in enumerate(gates):
            seconds = nx.single_source_dijkstra_path_length(graph, gate, weight="travel_time")
            minutes[:, j] = [seconds.get(int(n), np.nan) / 60 for n in nearest]
        return minutes

    t_nx, minutes = timed(networkx_way)
    got = table["travel_time_min"].to_numpy().reshape(len(origins), len(gates))
    assert np.allclose(got, minutes, equal_nan=True, atol=1e-9)
    s, d = statistics.median(serial), statistics.median(dask)
    print(f"{len(network.edges):,} edges, {args.origins:,} origins × {len(gates)} gates; "
          f"tables equal (checked)\n")
    print("| method | wall time | vs NetworkX |")
    print("|---|---|---|")
    print(f"| NetworkX: 10 reverse single_source_dijkstra_path_length + k-d tree | "
          f"{fmt(t_nx)} | ×1.0 |")
    print(f"| bordergeo accessibility, in process | {fmt(s)} | {ratio(t_nx / s)} |")
    print(f"| bordergeo accessibility, Dask {args.workers} workers | {fmt(d)} | "
          f"{ratio(t_nx / d)} |")
    print(f"\nNot in the times above: LocalCluster start-up {fmt(t_start)}; the NetworkX "
          f"graph (to_graph + reverse view) {fmt(t_graph)}. bordergeo's times include a "
          f"fresh Router's 10 reverse searches and lengths each round.")


if __name__ == "__main__":
    main()
