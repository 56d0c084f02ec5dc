"""Routing on the compiled arrays equals NetworkX; alternatives and closures on known cases."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from bordergeo.network import CLASS_HIGHWAY, build_network, network_from_graph
from bordergeo.routing import NoPathError, Router


def random_graph(n: int, m: int, seed: int, zero_weights: bool = False) -> nx.MultiDiGraph:
    rng = np.random.default_rng(seed)
    g = nx.MultiDiGraph(crs="EPSG:32648")
    for i in range(n):
        g.add_node(i, x=float(rng.uniform(0, 1e4)), y=float(rng.uniform(0, 1e4)))
    for _ in range(m):
        u, v = (int(a) for a in rng.integers(0, n, 2))
        if u == v:
            continue
        tt = 0.0 if zero_weights and rng.random() < 0.1 else float(rng.uniform(1, 100))
        g.add_edge(u, v, length=float(rng.uniform(10, 1000)), travel_time=tt)
    return g


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 40), density=st.floats(0.5, 4.0), seed=st.integers(0, 10**6),
       zero=st.booleans())
def test_matrix_equals_networkx(n, density, seed, zero) -> None:
    g = random_graph(n, int(n * density) + 1, seed, zero)
    net = network_from_graph(g)
    router = Router(net)
    rng = np.random.default_rng(seed + 1)
    origins = [int(o) for o in rng.choice(n, size=min(n, 6), replace=False)]
    gates = [int(d) for d in rng.choice(n, size=min(n, 3), replace=False)]
    result = router.matrix(origins, gates)
    every = router.lengths_to(gates)  # the same trees, every node at once
    for row in result.itertuples():
        o, d = int(row.origin), int(row.destination)
        try:
            expected = nx.shortest_path_length(g, o, d, weight="travel_time")
        except nx.NetworkXNoPath:
            assert not row.reachable and np.isnan(row.travel_time_min)
            continue
        assert row.reachable
        assert abs(row.travel_time_min * 60 - expected) <= 1e-6
        path = nx.shortest_path(g, o, d, weight="travel_time")
        route = router.route(o, d)
        assert abs(route.travel_time_s - expected) <= 1e-6
        # same time; with random weights the fastest path is unique, so the length too
        nx_len = sum(min(e["length"] for e in g[a][b].values() if e["travel_time"] ==
                          min(x["travel_time"] for x in g[a][b].values()))
                     for a, b in zip(path[:-1], path[1:], strict=True))
        if not zero:
            assert row.length_km * 1000 == pytest.approx(nx_len, abs=1e-6)
            assert route.length_m == pytest.approx(nx_len, abs=1e-6)
            assert every[gates.index(d), o] == pytest.approx(nx_len, abs=1e-6)


def test_built_network_round_trip_to_networkx() -> None:
    roads = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "ref": ["R1", "R2", "R3"], "class": ["national"] * 3,
         "oneway": [False, True, False]},
        geometry=[LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (1000, 1000)]),
                  LineString([(0, 0), (0, 1000), (1000, 1000)])], crs="EPSG:32648")
    net = build_network(roads)
    g = net.to_graph()
    assert g.graph["crs"].upper().endswith("32648")
    assert g.number_of_edges() == 2 + 1 + 2
    for _, _, data in g.edges(data=True):
        assert data["travel_time"] == pytest.approx(data["length"] / (50 / 3.6))
        assert data["geometry"].length == pytest.approx(data["length"])
    back = network_from_graph(g)
    assert back.edges["length"].sum() == pytest.approx(net.edges["length"].sum())


def test_noding_snaps_splits_and_crosses() -> None:
    roads = gpd.GeoDataFrame(
        {"id": ["main", "gap", "tee", "cross", "dup"], "class": ["national"] * 5},
        geometry=[
            LineString([(0, 0), (2000, 0)]),
            LineString([(2003, 1), (4000, 0)]),        # 3 m gap to the end of "main"
            LineString([(1000, 2), (1000, 800)]),      # ends 2 m from main's interior
            LineString([(500, -500), (500, 500)]),     # crosses main at (500, 0)
            LineString([(0, 0), (2000, 0)]),           # exact duplicate of main
        ], crs="EPSG:32648")
    net = build_network(roads, snap_tolerance_m=5)
    rep = net.report
    assert rep.snapped_endpoints == 1 and rep.t_junctions == 1 and rep.crossings >= 1
    assert rep.components == [net.n_nodes]
    router = Router(net)
    far = net.nearest_node(4000, 0)[0]
    tee_top = net.nearest_node(1000, 800)[0]
    cross_end = net.nearest_node(500, 500)[0]
    assert router.route(far, tee_top).length_m == pytest.approx(3000 + 798, abs=5)
    assert router.route(cross_end, tee_top).length_m == pytest.approx(500 + 500 + 798, abs=5)


def test_over_under_pass_not_noded() -> None:
    roads = gpd.GeoDataFrame({"id": ["a", "b"], "class": ["national"] * 2},
                             geometry=[LineString([(0, 0), (1000, 0)]),
                                       LineString([(500, -500), (500, 500)])], crs="EPSG:32648")
    net = build_network(roads, node_crossings=False)
    assert net.report.components == [2, 2]
    with pytest.raises(NoPathError):
        Router(net).route(net.nearest_node(0, 0)[0], net.nearest_node(500, 500)[0])


def test_places_attach_by_splitting_the_nearest_road() -> None:
    roads = gpd.GeoDataFrame({"id": ["a"], "class": ["national"]},
                             geometry=[LineString([(0, 0), (1000, 0)])], crs="EPSG:32648")
    places = gpd.GeoDataFrame({"id": ["gate", "hub"]},
                              geometry=[Point(400, 30), Point(0, 0)], crs="EPSG:32648")
    net = build_network(roads, places=places)
    att = net.report.attachments.set_index("id")
    assert att.loc["gate", "snap_m"] == pytest.approx(30)
    assert att.loc["hub", "snap_m"] == pytest.approx(0)
    assert Router(net).route(net.places["hub"], net.places["gate"]).length_m == pytest.approx(400)


def test_documented_length_scales_the_drawn_one() -> None:
    roads = gpd.GeoDataFrame({"id": ["a"], "class": ["expressway"], "length_m": [1500.0]},
                             geometry=[LineString([(0, 0), (1000, 0)])], crs="EPSG:32648")
    places = gpd.GeoDataFrame({"id": ["mid"]}, geometry=[Point(500, 0)], crs="EPSG:32648")
    net = build_network(roads, places=places)
    assert net.edges["length"].sum() == pytest.approx(2 * 1500)
    assert sorted(net.edges["length"].round(6).unique()) == [750.0]


def ladder() -> gpd.GeoDataFrame:
    """Three disjoint ways from W to E: fast middle, north 10 % slower, south 30 % slower."""
    lines = [LineString([(0, 0), (10_000, 0)]),
             LineString([(0, 0), (0, 1000), (10_000, 1000), (10_000, 0)]),
             LineString([(0, 0), (0, -3000), (10_000, -3000), (10_000, 0)])]
    return gpd.GeoDataFrame({"id": ["mid", "north", "south"], "ref": ["M", "N", "S"],
                             "class": ["national"] * 3}, geometry=lines, crs="EPSG:32648")


def test_alternatives_are_distinct_and_ordered() -> None:
    net = build_network(ladder())
    router = Router(net)
    west, east = net.nearest_node(0, 0)[0], net.nearest_node(10_000, 0)[0]
    routes = router.alternatives(west, east, k=3)
    assert [r.refs for r in routes] == [["M"], ["N"], ["S"]]
    assert [round(r.length_m) for r in routes] == [10_000, 12_000, 16_000]
    assert len(router.alternatives(west, east, k=5)) == 3  # no fourth distinct way


def test_closure_of_a_road_reroutes() -> None:
    net = build_network(ladder())
    router = Router(net)
    west, east = net.nearest_node(0, 0)[0], net.nearest_node(10_000, 0)[0]
    impact = router.closure_impact([west], [east], roads=["M"])
    assert impact["time_before_min"].iloc[0] == pytest.approx(10_000 / (50 / 3.6) / 60)
    assert impact["time_after_min"].iloc[0] == pytest.approx(12_000 / (50 / 3.6) / 60)
    landslide = router.closure_impact([west], [east], near=[(5000, 1000, 50), (5000, 0, 50)])
    assert landslide["time_after_min"].iloc[0] == pytest.approx(16_000 / (50 / 3.6) / 60)


def test_closed_gate_switches_gate() -> None:
    places = gpd.GeoDataFrame({"id": ["north"]}, geometry=[Point(0, 1000)], crs="EPSG:32648")
    net = build_network(ladder(), places=places)
    router = Router(net)
    west = net.nearest_node(0, 0)[0]
    east, north_corner = net.nearest_node(10_000, 0)[0], net.places["north"]
    impact = router.closure_impact([west], [north_corner, east], closed_gates=[north_corner])
    assert impact["gate_before"].iloc[0] == str(north_corner)
    assert impact["gate_after"].iloc[0] == str(east)
    everything = router.closure_impact([west], [east], closed_gates=[east])
    assert not everything["reachable_after"].iloc[0]


def test_corridor_flows_add_up() -> None:
    places = gpd.GeoDataFrame({"id": ["north"]}, geometry=[Point(0, 1000)], crs="EPSG:32648")
    net = build_network(ladder(), places=places)
    router = Router(net)
    west, east = net.nearest_node(0, 0)[0], net.nearest_node(10_000, 0)[0]
    north = net.places["north"]
    flows = router.corridors([(west, east, 100.0), (north, east, 50.0)])
    mid = flows[flows["ref"] == "M"]
    assert mid["trucks_per_day"].tolist() == [100.0]
    assert set(flows["trucks_per_day"]) == {100.0, 50.0}


def test_osmnx_functions_work_on_our_graph() -> None:
    ox = pytest.importorskip("osmnx")
    from bordergeo import load_dataset
    from bordergeo.routing import dataset_network

    ds = load_dataset()
    net = dataset_network(ds)
    g = net.to_graph()
    nodes, edges = ox.graph_to_gdfs(g)
    assert len(nodes) == net.n_nodes and len(edges) == len(net.table)
    back = ox.graph_from_gdfs(nodes, edges)
    assert back.number_of_edges() == g.number_of_edges()
    a, b = net.places["ha-noi"], net.places["huu-nghi"]
    path = ox.routing.shortest_path(g, a, b, weight="travel_time")
    route_gdf = ox.routing.route_to_gdf(g, path, weight="travel_time")
    ours = Router(net, ds).route("ha-noi", "huu-nghi")
    assert route_gdf["travel_time"].sum() == pytest.approx(ours.travel_time_s, abs=1e-6)
    assert route_gdf["length"].sum() == pytest.approx(ours.length_m, abs=1e-6)


def test_bundled_matrix_equals_networkx() -> None:
    from bordergeo import load_dataset
    from bordergeo.routing import dataset_network

    ds = load_dataset()
    net = dataset_network(ds)
    g = net.to_graph()
    table = Router(net, ds).matrix(ds.hubs["id"].tolist(), ds.gates["id"].tolist())
    for row in table.itertuples():
        expected = nx.shortest_path_length(g, net.places[row.origin],
                                           net.places[row.destination], weight="travel_time")
        assert abs(row.travel_time_min * 60 - expected) <= 1e-6


def test_graph_follows_osmnx_conventions_and_survives_graphml(tmp_path) -> None:
    ox = pytest.importorskip("osmnx")
    from bordergeo import load_dataset
    from bordergeo.routing import dataset_network

    ds = load_dataset()
    net = dataset_network(ds)
    g = net.to_graph()
    data = [d for _, _, d in g.edges(data=True)]
    # no OSM ids in the bundled roads: no osmid; the road's own id beside it
    assert not any("osmid" in d for d in data)
    assert {d["road_id"] for d in data} == set(net.table["road_id"])
    osm_values = {"motorway", "trunk", "primary", "secondary", "tertiary", "unclassified",
                  "residential", "service"}
    assert {d["highway"] for d in data} <= osm_values
    assert {d["road_class"] for d in data} <= {"expressway", "national", "provincial",
                                               "local", "cargo_road"}
    path = tmp_path / "bundled.graphml"
    ox.save_graphml(g, path)
    back = ox.load_graphml(path)
    assert back.number_of_nodes() == g.number_of_nodes()
    assert back.number_of_edges() == g.number_of_edges()
    for u, v, k, d in g.edges(keys=True, data=True):
        assert back.edges[u, v, k]["length"] == pytest.approx(d["length"], abs=1e-9)
        assert back.edges[u, v, k]["travel_time"] == pytest.approx(d["travel_time"], abs=1e-9)
    router = Router(net, ds)
    for origin, gate in [("ha-noi", "huu-nghi"), ("bac-giang", "tan-thanh"),
                         ("lang-son", "coc-nam")]:
        if origin not in net.places or gate not in net.places:
            continue
        ours = router.route(origin, gate)
        for graph in (g, back):
            path_nodes = ox.routing.shortest_path(graph, net.places[origin], net.places[gate],
                                                  weight="travel_time")
            assert path_nodes == ours.nodes


def test_osm_ids_and_highway_values_pass_through_to_the_graph() -> None:
    roads = gpd.GeoDataFrame(
        {"id": ["w1", "w2", "x"], "class": ["national", "local", "provincial"],
         "highway": ["primary", None, None], "osm_id": [1, 2, None]},
        geometry=[LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (1000, 1000)]),
                  LineString([(0, 0), (0, 1000)])], crs="EPSG:32648")
    g = build_network(roads).to_graph()
    by_road = {d["road_id"]: d for _, _, d in g.edges(data=True)}
    assert by_road["w1"]["osmid"] == 1 and isinstance(by_road["w1"]["osmid"], int)
    assert by_road["w1"]["highway"] == "primary" and by_road["w1"]["road_class"] == "national"
    assert by_road["w2"]["highway"] == "tertiary"
    assert "osmid" not in by_road["x"] and by_road["x"]["highway"] == "secondary"
    mapped = build_network(gpd.GeoDataFrame(
        {"class": list(CLASS_HIGHWAY)},
        geometry=[LineString([(0, 1000 * k), (900, 1000 * k)]) for k in range(5)],
        crs="EPSG:32648")).to_graph()
    assert {(d["road_class"], d["highway"]) for _, _, d in mapped.edges(data=True)} == {
        ("expressway", "motorway"), ("national", "trunk"), ("provincial", "secondary"),
        ("local", "tertiary"), ("cargo_road", "service")}
    back = network_from_graph(g)
    assert sorted(back.table["osm_id"].dropna().astype(int).unique()) == [1, 2]
    assert set(back.table["class"]) == {"national", "local", "provincial"}


def test_an_exact_id_wins_and_text_shows_names() -> None:
    import bordergeo

    dataset = bordergeo.load_dataset()
    router = bordergeo.Router(bordergeo.dataset_network(dataset), dataset)
    town = router.place("dong-dang")
    assert (town.label, town.kind, town.display) == ("dong-dang", "hub", "Đồng Đăng")
    assert router.place("友谊关").label == "huu-nghi"
    route = router.route("Đồng Đăng", "友谊关")
    assert route.to_dict()["from_name"] == "Đồng Đăng"
    assert route.to_dict()["to_name"] == "Hữu Nghị"
    with pytest.raises(bordergeo.LookupFailedError, match="gate dong-dang-rail, hub dong-dang"):
        router.place("Dong Dang station")


def test_closing_a_multi_part_road_by_its_id_closes_every_part() -> None:
    import geopandas as gpd
    from shapely.geometry import MultiLineString

    import bordergeo

    roads = gpd.GeoDataFrame(
        {"id": ["r1"], "class": ["national"]},
        geometry=[MultiLineString([[(106.70, 21.90), (106.70, 21.95)],
                                   [(106.70, 21.95), (106.70, 22.00)]])], crs="EPSG:4326")
    roads, _ = bordergeo.normalise_roads(roads)
    router = bordergeo.Router(bordergeo.build_network(roads))
    closed = router.closed_edge_mask(roads=["r1"])
    assert closed.all() and len(closed) == 4
