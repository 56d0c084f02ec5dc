"""Cached backward trees: routes, matrices, times and lengths equal NetworkX, cache bounds."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from bordergeo.errors import BorderGeoError
from bordergeo.network import build_network, network_from_graph
from bordergeo.routing import TREE_BYTES_PER_NODE, NoPathError, Router


def small_grid(side: int = 12, *, seed: int = 3) -> gpd.GeoDataFrame:
    """A jittered grid of 100 m blocks: arterials, one-way streets, a few blocks missing."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = ii * 100.0 + rng.uniform(-20, 20, ii.shape)
    y = jj * 100.0 + rng.uniform(-20, 20, ii.shape)
    lines, kinds, oneway = [], [], []
    for di, dj in ((1, 0), (0, 1)):
        for i in range(side - di):
            for j in range(side - dj):
                if rng.random() < 0.08:
                    continue
                a = (x[i, j], y[i, j])
                b = (x[i + di, j + dj], y[i + di, j + dj])
                mid = ((a[0] + b[0]) / 2 + rng.uniform(-5, 5), (a[1] + b[1]) / 2)
                arterial = (j if di else i) % 4 == 0
                lines.append(shapely.LineString([a, mid, b]))
                kinds.append("national" if arterial else "local")
                oneway.append(not arterial and rng.random() < 0.2)
    return gpd.GeoDataFrame({"class": kinds, "oneway": oneway}, geometry=lines,
                            crs="EPSG:32648")


def networkx_reference(graph: nx.MultiDiGraph, gate: int, n_nodes: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Time and length from every node to ``gate``: one Dijkstra on the reversed graph.

    The length is summed along the returned path, taking between parallel edges the one
    with the least travel time (the one the search used).
    """
    dist, paths = nx.single_source_dijkstra(graph.reverse(copy=False), gate,
                                            weight="travel_time")
    times = np.full(n_nodes, np.inf)
    lengths = np.full(n_nodes, np.inf)
    for node, path in paths.items():
        forward = path[::-1]  # node → … → gate
        times[node] = dist[node]
        lengths[node] = sum(min(graph[a][b].values(), key=lambda d: d["travel_time"])["length"]
                            for a, b in zip(forward[:-1], forward[1:], strict=True))
    return times, lengths


def test_every_node_to_gates_equals_networkx_reverse_search() -> None:
    net = build_network(small_grid())
    graph = net.to_graph()
    router = Router(net)
    rng = np.random.default_rng(0)
    gates = [int(g) for g in rng.choice(net.n_nodes, 4, replace=False)]
    times, lengths = router.times_to(gates), router.lengths_to(gates)
    table = router.matrix(list(range(net.n_nodes)), gates)
    by_pair = table.set_index(["origin", "destination"])
    assert router.cache_info()["searches"] == len(gates)  # matrix walked the kept trees
    for j, gate in enumerate(gates):
        want_t, want_l = networkx_reference(graph, gate, net.n_nodes)
        reach = np.isfinite(want_t)
        assert reach.sum() > net.n_nodes // 2
        np.testing.assert_array_equal(np.isfinite(times[j]), reach)
        np.testing.assert_array_equal(np.isfinite(lengths[j]), reach)
        np.testing.assert_allclose(times[j][reach], want_t[reach], rtol=0, atol=1e-6)
        np.testing.assert_allclose(lengths[j][reach], want_l[reach], rtol=0, atol=1e-6)
        got_t = by_pair.xs(str(gate), level="destination")["travel_time_min"]
        got_l = by_pair.xs(str(gate), level="destination")["length_km"]
        order = [str(n) for n in range(net.n_nodes)]
        np.testing.assert_allclose(got_t.loc[order].to_numpy() * 60, np.where(
            reach, want_t, np.nan), rtol=0, atol=1e-6)
        np.testing.assert_allclose(got_l.loc[order].to_numpy() * 1000, np.where(
            reach, want_l, np.nan), rtol=0, atol=1e-6)
        for node in rng.choice(np.flatnonzero(reach), 15, replace=False):
            route = router.route(int(node), gate)
            assert route.travel_time_s == pytest.approx(want_t[node], abs=1e-6)
            assert route.length_m == pytest.approx(want_l[node], abs=1e-6)
            assert route.nodes[0] == node and route.nodes[-1] == gate
        unreachable = np.flatnonzero(~reach)
        if len(unreachable):
            with pytest.raises(NoPathError):
                router.route(int(unreachable[0]), gate)
    assert router.cache_info()["searches"] == len(gates)


def test_parallel_edges_length_of_the_fastest_one() -> None:
    g = nx.MultiDiGraph(crs="EPSG:32648")
    for i, (x, y) in enumerate([(0, 0), (100, 0), (200, 0)]):
        g.add_node(i, x=float(x), y=float(y))
    g.add_edge(0, 1, length=100.0, travel_time=10.0)   # shorter but slower
    g.add_edge(0, 1, length=300.0, travel_time=5.0)    # the one driven
    g.add_edge(1, 2, length=50.0, travel_time=3.0)
    g.add_edge(1, 2, length=40.0, travel_time=4.0)
    router = Router(network_from_graph(g))
    assert router.route(0, 2).length_m == pytest.approx(350.0)
    assert router.route(0, 2).travel_time_s == pytest.approx(8.0)
    table = router.matrix([0, 1], [2])
    assert table["length_km"].tolist() == pytest.approx([0.35, 0.05])
    assert router.lengths_to([2])[0].tolist() == pytest.approx([350.0, 50.0, 0.0])
    flows = router.corridors([(0, 2, 7.0)])
    assert sorted(flows["trucks_per_day"].tolist()) == [7.0, 7.0]


def test_repeated_routes_walk_the_kept_tree_and_the_cache_is_bounded() -> None:
    net = build_network(small_grid(8))
    router = Router(net, max_trees=2)
    nodes = net.largest_component_nodes()
    a, b, c, d = (int(n) for n in nodes[:4])
    first = router.route(a, b)
    again = router.route(c, b)
    assert router.cache_info()["searches"] == 1 and router.cache_info()["gates"] == [b]
    router.route(a, c)
    router.route(a, d)  # third gate: the least recently used (b) goes
    info = router.cache_info()
    assert info["gates"] == [c, d] and info["searches"] == 3
    assert info["tree_bytes"] == 2 * TREE_BYTES_PER_NODE * net.n_nodes
    assert router.route(a, b).nodes == first.nodes  # searched again, same answer
    assert router.cache_info()["searches"] == 4
    assert again.nodes[-1] == b
    router.clear_cache(trees_only=True)
    assert router.cache_info()["gates"] == []
    router.clear_cache()
    assert router.cache_info() == {"gates": [], "max_trees": 2, "searches": 0,
                                   "tree_bytes": 0}
    # more destinations than trees kept: still every pair, in batches
    many = [int(n) for n in nodes[4:9]]
    table = router.matrix([a, c], many)
    fresh = Router(net, max_trees=32).matrix([a, c], many)
    np.testing.assert_allclose(table["length_km"], fresh["length_km"], atol=1e-9)
    np.testing.assert_allclose(table["travel_time_min"], fresh["travel_time_min"], atol=1e-9)
    with pytest.raises(BorderGeoError, match="max_trees"):
        Router(net, max_trees=0)


def test_closures_search_their_own_graph_and_leave_the_cache_alone() -> None:
    net = build_network(small_grid(8))
    router = Router(net)
    nodes = net.largest_component_nodes()
    origin, gate = int(nodes[0]), int(nodes[-1])
    before = router.route(origin, gate)
    assert router.cache_info()["searches"] == 1
    # close the road of one edge of the fastest route
    road = str(net.table["road_id"].iloc[before.edges[len(before.edges) // 2]])
    impact = router.closure_impact([origin], [gate], roads=[road])
    # the closed run: a search of its own, against NetworkX without the closed road
    g = net.to_graph()
    g.remove_edges_from([(u, v, k) for u, v, k, d in g.edges(keys=True, data=True)
                         if d.get("road_id") == road])
    try:
        expected = nx.shortest_path_length(g, origin, gate, weight="travel_time") / 60
    except nx.NetworkXNoPath:
        expected = np.nan
    assert impact["time_after_min"].iloc[0] == pytest.approx(expected, abs=1e-8, nan_ok=True)
    assert impact["time_before_min"].iloc[0] == pytest.approx(before.travel_time_min)
    # the network's trees were neither replaced nor added to by the closure
    info = router.cache_info()
    assert info["gates"] == [gate] and info["searches"] == 1
    assert router.route(origin, gate).nodes == before.nodes
    # alternatives: the first is the cached fastest route; penalised ones are not cached
    routes = router.alternatives(origin, gate, k=2)
    assert routes[0].nodes == before.nodes
    assert router.cache_info()["searches"] == 1
