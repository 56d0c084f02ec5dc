"""Messy road layers: gaps closed (and not), duplicates dropped, over/under passes kept
apart, and places far from every road reported instead of failing the build."""

from __future__ import annotations

import json
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA
from shapely.geometry import LineString, Point

from bordergeo import load_dataset
from bordergeo.cli import main
from bordergeo.network import build_network
from bordergeo.routing import NoPathError, Router, UnattachedPlaceError, dataset_network

CTU_ROADS = SHARED_DATA / "ctu_vn_roads_rail" / "vn_roads_rail_aoi.geojson"


def layer(lines: dict[str, LineString], **columns: list) -> gpd.GeoDataFrame:
    """A metric layer (UTM 48N), every road ``national`` (50 km/h) unless given."""
    columns.setdefault("class", ["national"] * len(lines))
    return gpd.GeoDataFrame({"id": list(lines), **columns}, geometry=list(lines.values()),
                            crs="EPSG:32648")


def node_at(net, x: float, y: float) -> int:
    node, dist = net.nearest_node(x, y)
    assert dist < 1e-6, f"no node at ({x}, {y})"
    return node


def gappy() -> gpd.GeoDataFrame:
    return layer({
        "west": LineString([(0, 0), (1000, 0)]),
        "east": LineString([(1020, 0), (2000, 0)]),       # 20 m after the end of "west"
        "spur": LineString([(1500, 30), (1500, 800)]),    # ends 30 m above "east"
        "far": LineString([(500, 300), (500, 1000)]),     # ends 300 m above "west"
    })


def test_gaps_within_the_tolerance_are_joined_with_their_distances() -> None:
    net = build_network(gappy())
    joins = net.report.gap_joins.set_index("road_id")
    assert sorted(joins.index) == ["east", "spur"]
    assert joins.loc["east", "kind"] == "end-end" and joins.loc["east", "end"] == "start"
    assert joins.loc["east", "to_road_id"] == "west"
    assert joins.loc["east", "distance_m"] == pytest.approx(20)
    assert joins.loc["spur", "kind"] == "end-line" and joins.loc["spur", "end"] == "start"
    assert joins.loc["spur", "to_road_id"] == "east"
    assert joins.loc["spur", "distance_m"] == pytest.approx(30)
    assert (joins.loc["spur", ["to_x", "to_y"]].to_numpy(float) == [1500, 0]).all()
    assert "2 gaps closed (1 end-end, 1 end-line; 20–30 m" in str(net.report)
    router = Router(net)
    # the connector is an edge of the gap's length, at the dangling road's speed
    across = router.route(node_at(net, 0, 0), node_at(net, 2000, 0))
    assert across.length_m == pytest.approx(2000)
    assert across.travel_time_s == pytest.approx(2000 / (50 / 3.6))
    up = router.route(node_at(net, 0, 0), node_at(net, 1500, 800))
    assert up.length_m == pytest.approx(1500 + 30 + 770)
    # 300 m is no gap at 50 m: "far" stays on its own
    assert net.report.components == [net.n_nodes - 2, 2]
    with pytest.raises(NoPathError):
        router.route(node_at(net, 0, 0), node_at(net, 500, 1000))


def test_the_tolerance_decides_what_is_a_gap() -> None:
    wide = build_network(gappy(), gap_tolerance_m=400)
    joins = wide.report.gap_joins.set_index("road_id")
    assert joins.loc["far", "distance_m"] == pytest.approx(300)
    assert joins.loc["far", "kind"] == "end-line"
    assert wide.report.components == [wide.n_nodes]
    off = build_network(gappy(), gap_tolerance_m=0)
    assert off.report.gap_joins.empty and off.report.components == [2, 2, 2, 2]
    assert "no gaps closed" in str(off.report)


def test_an_end_beside_a_parallel_road_is_not_joined() -> None:
    roads = layer({"main": LineString([(0, 0), (1000, 0)]),
                   "frontage": LineString([(200, 30), (700, 30)])})     # 30 m beside it
    net = build_network(roads)
    assert net.report.gap_joins.empty
    assert net.report.components == [2, 2]
    # ends that face each other across the same 40 m are joined
    facing = build_network(layer({"main": LineString([(0, 0), (1000, 0)]),
                                  "next": LineString([(1040, 0), (1200, 0)])}))
    assert facing.report.gap_joins["kind"].tolist() == ["end-end"]
    # two dead ends side by side (divided road ends) are not
    side = build_network(layer({"north": LineString([(0, 20), (1000, 20)]),
                                "south": LineString([(0, -20), (1000, -20)])}))
    assert side.report.gap_joins.empty


def test_no_connector_across_another_road() -> None:
    roads = layer({"west": LineString([(0, 0), (1000, 0)]),
                   "east": LineString([(1040, 0), (2000, 0)]),
                   "between": LineString([(1020, -500), (1020, 500)])})
    joins = build_network(roads).report.gap_joins
    # the end-end join would cross "between": both ends join it instead, 20 m each
    assert joins["kind"].tolist() == ["end-line", "end-line"]
    assert joins["to_road_id"].tolist() == ["between", "between"]
    assert joins["distance_m"].tolist() == pytest.approx([20, 20])


def test_a_connector_keeps_one_way_roads_one_way() -> None:
    roads = layer({"in": LineString([(0, 0), (1000, 0)]),
                   "out": LineString([(1020, 0), (2000, 0)])}, oneway=[True, True])
    net = build_network(roads)
    router = Router(net)
    assert router.route(node_at(net, 0, 0), node_at(net, 2000, 0)).length_m == pytest.approx(2000)
    with pytest.raises(NoPathError):
        router.route(node_at(net, 2000, 0), node_at(net, 0, 0))


def test_exact_duplicates_are_dropped_and_counted() -> None:
    line = LineString([(0, 0), (500, 10), (1000, 0)])
    roads = layer({"a": line, "copy": line, "reversed": line.reverse(),
                   "other": LineString([(0, 0), (0, 1000)])})
    net = build_network(roads)
    assert net.report.duplicates_dropped == 2
    assert net.report.lines == 2
    assert len(net.table) == 4 and set(net.table["road_id"]) == {"a", "other"}
    assert "2 exact duplicates dropped" in str(net.report)
    # a reversed copy of a one-way road is the other carriageway: kept
    two = build_network(layer({"north": line, "south": line.reverse()}, oneway=[True, True]))
    assert two.report.duplicates_dropped == 0 and set(two.table["road_id"]) == {"north",
                                                                                "south"}


@pytest.mark.parametrize(("columns", "split"), [
    ({}, True),
    ({"bridge": ["yes", None]}, False),
    ({"tunnel": [False, True]}, False),
    ({"layer": [1, 0]}, False),
    ({"layer": ["1", "1"], "bridge": ["no", "no"]}, True),
])
def test_over_and_under_passes_are_not_split(columns, split) -> None:
    roads = layer({"over": LineString([(0, 0), (1000, 0)]),
                   "under": LineString([(500, -500), (500, 500)])}, **columns)
    net = build_network(roads)
    assert net.report.crossings == int(split)
    assert net.report.passes_kept == int(not split)
    assert net.report.components == ([5] if split else [2, 2])
    if not split:
        assert "1 over/under passes kept apart" in str(net.report)


def test_no_gap_join_into_the_middle_of_a_bridge() -> None:
    roads = layer({"bridge": LineString([(0, 0), (1000, 0)]),
                   "below": LineString([(500, -500), (500, -20)])}, bridge=["yes", "no"])
    assert build_network(roads).report.gap_joins.empty
    flat = layer({"road": LineString([(0, 0), (1000, 0)]),
                  "below": LineString([(500, -500), (500, -20)])})
    assert len(build_network(flat).report.gap_joins) == 1


def test_a_far_place_is_reported_not_fatal(caplog) -> None:
    roads = layer({"a": LineString([(0, 0), (1000, 0)])})
    places = gpd.GeoDataFrame({"id": ["near", "far-1", "far-2"]},
                              geometry=[Point(400, 30), Point(500, 12_300), Point(0, -7000)],
                              crs="EPSG:32648")
    with caplog.at_level(logging.WARNING, logger="bordergeo"):
        net = build_network(roads, places=places)
    assert list(net.places) == ["near"]
    far = net.report.unattached.set_index("id")["distance_m"]
    assert far.to_dict() == pytest.approx({"far-1": 12_300, "far-2": 7000})
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert ("2 places farther than 5 km from every road left unattached: far-2 (7.0 km), "
            "far-1 (12.3 km)") in warnings[0].getMessage()
    assert "far-2 (7.0 km)" in str(net.report)


@pytest.fixture(scope="module")
def far_grid() -> gpd.GeoDataFrame:
    """A small street grid near Hồ Chí Minh City (10° N), far from every bundled place."""
    lines = {}
    for k in range(5):
        lines[f"ew{k}"] = LineString([(106.70, 10.0 + k * 0.005), (106.72, 10.0 + k * 0.005)])
        lines[f"ns{k}"] = LineString([(106.70 + k * 0.005, 10.0), (106.70 + k * 0.005, 10.02)])
    return gpd.GeoDataFrame({"id": list(lines), "class": ["local"] * len(lines)},
                            geometry=list(lines.values()), crs="EPSG:4326")


def test_routing_on_a_layer_far_away_warns_and_works(far_grid, caplog) -> None:
    ds = load_dataset()
    with caplog.at_level(logging.WARNING, logger="bordergeo"):
        net = dataset_network(ds, roads=far_grid)
    assert net.places == {}
    assert len(net.report.unattached) == len(ds.gates) + len(ds.hubs)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    router = Router(net, ds)
    route = router.route("10.0,106.70", "10.02,106.72")
    assert route.length_m == pytest.approx(4400, rel=0.02)
    far = net.report.unattached.set_index("id")["distance_m"]
    with pytest.raises(UnattachedPlaceError) as info:
        router.route("10.0,106.70", "huu nghi")
    assert str(info.value) == (f"gate 'huu-nghi' is {far['huu-nghi'] / 1000:.1f} km from the "
                               f"nearest road of this network (limit 5.0 km; --max-snap-km)")
    assert info.value.distance_m == pytest.approx(far["huu-nghi"])
    table = router.matrix(["10.0,106.70", "huu-nghi"], ["10.02,106.72", "tan-thanh"])
    assert list(table.columns) == ["origin", "destination", "travel_time_min", "length_km",
                                   "reachable", "reason"]
    cells = table.set_index(["origin", "destination"])
    assert cells.loc[("10.0,106.70", "10.02,106.72"), "reachable"]
    assert pd.isna(cells.loc[("10.0,106.70", "10.02,106.72"), "reason"])
    assert cells.loc[("10.0,106.70", "tan-thanh"), "reason"] == (
        f"destination not on the network ({far['tan-thanh'] / 1000:.1f} km from a road)")
    assert cells.loc[("huu-nghi", "10.02,106.72"), "reason"] == (
        f"origin not on the network ({far['huu-nghi'] / 1000:.1f} km from a road)")
    assert not table["reachable"].iloc[1:].any()
    assert table["travel_time_min"].iloc[1:].isna().all()


def test_matrix_says_no_path_for_a_disconnected_pair() -> None:
    net = build_network(layer({"a": LineString([(0, 0), (1000, 0)]),
                               "b": LineString([(0, 5000), (1000, 5000)])}))
    table = Router(net).matrix([node_at(net, 0, 0)], [node_at(net, 1000, 0),
                                                      node_at(net, 1000, 5000)])
    assert table["reachable"].tolist() == [True, False]
    assert pd.isna(table["reason"].iloc[0]) and table["reason"].iloc[1] == "no path"


def test_cli_route_on_a_far_layer_with_max_snap_km(tmp_path, far_grid, capsys, caplog) -> None:
    roads = tmp_path / "hcmc_roads.geojson"
    far_grid.to_file(roads)
    # 15 km west of the grid: beyond the default 5 km, within --max-snap-km 20
    args = ["route", "--roads", str(roads), "10.0,106.563", "10.02,106.72", "--format", "json"]
    with caplog.at_level(logging.WARNING, logger="bordergeo"):
        assert main(args) == 1
    assert "km from the nearest road node (limit 5.0 km)" in capsys.readouterr().err
    assert main([*args, "--max-snap-km", "20"]) == 0
    route = json.loads(capsys.readouterr().out)[0]
    assert route["from_snap_m"] == pytest.approx(15_000, rel=0.01)
    assert "places farther than 20 km from every road left unattached" in caplog.text
    assert main(["route", "--roads", str(roads), "10.0,106.70", "huu-nghi",
                 "--max-snap-km", "20"]) == 1
    assert "gate 'huu-nghi' is " in capsys.readouterr().err
    assert main([*args, "--max-snap-km", "500"]) != 0
    assert "--max-snap-km" in capsys.readouterr().err


def test_cli_max_snap_km_attaches_on_the_bundled_roads(capsys) -> None:
    assert main(["route", "ha-noi", "huu-nghi", "--max-snap-km", "20", "--format",
                 "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["to"] == "huu-nghi"


@pytest.mark.skipif(not CTU_ROADS.exists(), reason="../shared/data is not beside this checkout")
def test_gap_closing_on_the_ctu_layer() -> None:
    roads = gpd.read_file(CTU_ROADS).rename(columns={"gid": "id"})
    roads["class"] = np.where(roads["loai_duong"] == "Đường sắt", "rail", "national")
    before = build_network(roads, gap_tolerance_m=0).report
    after = build_network(roads).report
    joins = after.gap_joins
    assert 1 <= len(joins) <= 10
    assert joins["distance_m"].between(5, 50).all()
    assert len(after.components) < len(before.components)
    assert after.components[0] > before.components[0]
