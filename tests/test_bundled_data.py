"""The bundled Lạng Sơn dataset: completeness, cited coordinates, and a routable network."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import SHARED_DATA

from bordergeo import load_dataset
from bordergeo.cli import main
from bordergeo.datasets import bundled_data_dir
from bordergeo.routing import Router, dataset_network

CROSSINGS = ["huu-nghi", "huu-nghi-1119", "dong-dang-rail", "chi-ma", "tan-thanh",
             "tan-thanh-1088", "coc-nam", "na-nua", "binh-nghi", "na-hinh", "po-nhung"]
HUBS = ["ha-noi", "bac-ninh", "bac-giang", "hai-phong-port", "lang-son", "dong-dang",
        "chi-lang", "tan-my"]
# Cited coordinates (lat, lon): zh.wikipedia 友谊口岸, vi.wikipedia Cửa khẩu Tân Thanh.
CITED = {"huu-nghi": (21.97111, 106.71083), "tan-thanh": (22.00306, 106.68389)}


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.fixture(scope="module")
def router(ds):
    return Router(dataset_network(ds), ds)


@pytest.fixture(scope="module")
def road_router(ds):
    """Roads only: rail lines (class ``rail``) are not part of the road network."""
    return Router(dataset_network(ds, roads=ds.roads[ds.roads["class"] != "rail"]), ds)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    pts = gpd.GeoSeries([shapely.Point(a[1], a[0]), shapely.Point(b[1], b[0])], crs=4326)
    pts = pts.to_crs(32648)
    return float(pts.iloc[0].distance(pts.iloc[1]))


def test_every_crossing_and_hub_is_there(ds) -> None:
    assert set(CROSSINGS) <= set(ds.gates["id"])
    assert set(HUBS) <= set(ds.hubs["id"])
    for column in ("name_vi", "name_en", "name_zh"):
        assert ds.gates[column].notna().all() and (ds.gates[column].str.len() > 0).all()
    assert {"1116", "1119", "1120", "1088/2", "1089", "1104", "1105"} <= set(ds.markers["id"])
    assert len(ds.border) == 1


def test_gates_json_lists_all_crossings_in_three_languages(capsys) -> None:
    assert main(["gates", "--format", "json"]) == 0
    gates = {g["id"]: g for g in json.loads(capsys.readouterr().out)}
    assert set(CROSSINGS) <= set(gates)
    assert gates["huu-nghi"]["name_vi"] == "Hữu Nghị"
    assert gates["tan-thanh"]["name_zh"] == "新清口岸"
    for gate_id, (lat, lon) in CITED.items():
        assert metres((gates[gate_id]["lat"], gates[gate_id]["lon"]), (lat, lon)) < 500


def test_cited_coordinates_match_the_shared_table(ds) -> None:
    table = SHARED_DATA / "points" / "langson_gates_and_hubs_points.csv"
    if not table.exists():
        pytest.skip("../shared/data is not beside this checkout")
    import pandas as pd

    points = pd.read_csv(table).set_index("id")
    for gate_id, ref in (("huu-nghi", "huu_nghi_vn"), ("tan-thanh", "tan_thanh_vn"),
                         ("dong-dang-rail", "dong_dang_station_vn")):
        gate = ds.gate(gate_id)
        assert metres((gate.geometry.y, gate.geometry.x),
                      (points.loc[ref, "lat"], points.loc[ref, "lon"])) < 500


def test_gates_lie_on_the_vietnamese_side_near_the_border(ds) -> None:
    land = SHARED_DATA / "geomaps_osm_countries" / "vn_cn_land_polygons_langson.geojson"
    if not land.exists():
        pytest.skip("../shared/data is not beside this checkout")
    polygons = gpd.read_file(land).to_crs(32648)
    vietnam = polygons[polygons["A3"] == "VNM"].geometry.iloc[0]
    border = ds.border.to_crs(32648).geometry.iloc[0]
    road_gates = ds.gates[ds.gates["mode"] == "road"].to_crs(32648)
    for gate in road_gates.itertuples():
        # ~100 m tolerance: the Wikipedia point of Tân Thanh is 62 m inside the CHN polygon
        assert vietnam.buffer(100).contains(gate.geometry), gate.id
        assert border.distance(gate.geometry) < 1_500, gate.id


def test_border_length_is_langson_stretch(ds) -> None:
    km = ds.border.to_crs(32648).length.iloc[0] / 1000
    assert 200 < km < 260  # official 231.7 km (VNA 2023)


def test_every_hub_reaches_every_open_road_gate(ds, router) -> None:
    gates = ds.gates[(ds.gates["mode"] == "road") & (ds.gates["status"] == "open")]["id"]
    table = router.matrix(ds.hubs["id"].tolist(), gates.tolist())
    assert table["reachable"].all()
    assert router.network.report.components == [router.network.n_nodes]


def test_every_hub_reaches_every_open_road_gate_by_road(ds, road_router) -> None:
    gates = ds.gates[(ds.gates["mode"] == "road") & (ds.gates["status"] == "open")]["id"]
    table = road_router.matrix(ds.hubs["id"].tolist(), gates.tolist())
    assert len(table) == len(ds.hubs) * len(gates)
    assert table["reachable"].all()
    assert road_router.network.report.components == [road_router.network.n_nodes]


# Published road distances (km) and where they come from; data/geojson/README.md lists them.
PUBLISHED = [
    ("ha-noi", "lang-son", 154, "vntripinfo.com, Lang Son overview: 154 km from Hà Nội"),
    ("ha-noi", "huu-nghi", 171, "vi.wikipedia Cửa khẩu Hữu Nghị: 171 km from Hà Nội"),
    ("lang-son", "huu-nghi", 17, "vi.wikipedia Cửa khẩu Hữu Nghị: 17 km from Lạng Sơn"),
    ("lang-son", "dong-dang", 14, "VietnamPlus 9 Jul 2019; minmaxtravel.com: 14 km"),
    ("lang-son", "tan-thanh", 28, "vi.wikipedia Cửa khẩu Tân Thanh: about 28 km by road"),
    ("bac-giang", "lang-son", 106, "bicycle-adventures.com: Kép 86 km from Lạng Sơn, "
                                   "Bắc Giang 20 km further"),
    ("tan-an", "lang-son", 1_800, "VnExpress (drivers): ~1,800 km Long An – Lạng Sơn"),
]


@pytest.mark.parametrize("origin,destination,published_km,source", PUBLISHED)
def test_route_lengths_match_published_distances(road_router, origin, destination,
                                                 published_km, source) -> None:
    route = road_router.route(origin, destination)
    assert abs(route.length_km - published_km) <= 0.10 * published_km, (
        f"{origin} → {destination}: {route.length_km:.1f} km routed, {published_km} km "
        f"published ({source})")
    assert route.refs  # named roads


def test_hanoi_route_uses_the_expressway(road_router) -> None:
    route = road_router.route("Hà Nội", "Hữu Nghị")
    assert route.road_sequence.startswith("CT.01") or "CT.01" in route.refs
    assert route.refs[-1] == "QL1A"
    assert 120 <= route.travel_time_min <= 200  # ~2–2.5 h by car (VnExpress, CAND)


ROAD_COLUMNS = ["id", "ref", "name", "class", "oneway", "maxspeed_kph", "lanes", "status",
                "length_m", "source"]
REAL_LAYER = "CTU-SematX LegoCity open data, CC BY-SA 4.0"


@pytest.fixture(scope="module")
def road_features() -> list[dict]:
    return json.loads((bundled_data_dir() / "roads.geojson").read_text(encoding="utf-8"))[
        "features"]


def test_road_lines_have_the_documented_columns_ids_and_sources(road_features) -> None:
    ids = [f["properties"]["id"] for f in road_features]
    assert len(ids) == len(set(ids))
    for feature in road_features:
        props = feature["properties"]
        assert list(props) == ROAD_COLUMNS, props["id"]
        assert feature["geometry"]["type"] == "LineString", props["id"]
        assert isinstance(props["source"], str) and len(props["source"]) > 20, props["id"]
    real = [f for f in road_features if f["properties"]["source"].startswith(REAL_LAYER)]
    drawn = [f for f in road_features if not f["properties"]["source"].startswith(REAL_LAYER)]
    assert len(real) >= 80 and len(drawn) >= 20
    for feature in real:
        assert "gid " in feature["properties"]["source"], feature["properties"]["id"]
    for feature in drawn:
        assert "waypoints" in feature["properties"]["source"], feature["properties"]["id"]
        assert "interpolated" in feature["properties"]["source"], feature["properties"]["id"]


def test_drawn_lines_have_vertices_at_most_600_m_apart(road_features) -> None:
    from bordergeo.crs import GEOD

    for feature in road_features:
        props = feature["properties"]
        if props["source"].startswith(REAL_LAYER) or props["id"].startswith("ql1a-south"):
            continue  # real geometry, and the simplified long-haul QL1A (flagged in source)
        xy = np.asarray(feature["geometry"]["coordinates"], float)
        _, _, step = GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
        assert step.max() <= 600.0, (props["id"], float(step.max()))
    simplified = [f for f in road_features if f["properties"]["id"].startswith("ql1a-south")]
    assert simplified and all("simplified" in f["properties"]["source"] for f in simplified)


def test_expressways_keep_their_cited_lengths(ds) -> None:
    roads = ds.roads.set_index("id")
    assert roads.loc["ct-hn-bg", "length_m"] == 45_800.0
    assert roads.loc["ct-bg-ls", "length_m"] == 64_000.0
    assert roads.loc["ct-cl-hn", "length_m"] == 43_430.0
    assert roads.loc["ct-cl-hn", "status"] == "construction"
    assert roads.loc["ct-hn-hp", "length_m"] == 105_500.0


def test_the_hanoi_dong_dang_railway_is_there_as_rail(ds) -> None:
    rail = ds.roads[ds.roads["class"] == "rail"]
    assert len(rail) >= 3
    assert rail["name"].str.startswith("Đường sắt Hà Nội").all()
    assert rail["source"].str.startswith(REAL_LAYER).all()
    metric = rail.to_crs(32648)
    # one continuous line from Hà Nội to the border, through Ga Đồng Đăng (vi.wikipedia)
    line = shapely.line_merge(shapely.union_all(metric.geometry.to_numpy()))
    assert line.geom_type == "LineString"
    station, hanoi = gpd.GeoSeries([shapely.Point(106.69722, 21.94389),
                                    shapely.Point(105.84117, 21.0245)], crs=4326).to_crs(32648)
    assert line.distance(station) < 300
    assert line.distance(hanoi) < 1_500
    assert line.length > 150_000  # 165 km by rail Hà Nội – Lạng Sơn (vntripinfo.com)


def test_every_gate_and_hub_is_near_an_open_road(ds) -> None:
    roads = ds.roads[(ds.roads["class"] != "rail") & (ds.roads["status"] == "open")]
    lines = shapely.union_all(roads.to_crs(32648).geometry.to_numpy())
    for layer in (ds.gates, ds.hubs):
        local = layer[(layer.geometry.x > 105.5) & (layer.geometry.y > 20.6)].to_crs(32648)
        for place in local.itertuples():
            assert lines.distance(place.geometry) <= 1_000, place.id


def test_bundled_files_are_what_the_generator_writes(tmp_path) -> None:
    data = Path(__file__).resolve().parents[1] / "data" / "geojson"
    if not data.exists():
        pytest.skip("not a source checkout")
    for name in ("gates", "hubs", "roads", "markers"):
        text = (data / f"{name}.geojson").read_text(encoding="utf-8")
        assert json.loads(text)["features"]
        assert "/work/" not in text and "/root/" not in text


def test_maps_credit_the_road_layer(ds) -> None:
    import folium

    from bordergeo.maps import ROADS_ATTRIBUTION, add_roads

    m = folium.Map(tiles=None)
    add_roads(m, ds.roads)
    assert ROADS_ATTRIBUTION in m.get_root().render()
    own = folium.Map(tiles=None)  # a user's own roads are not credited to the bundled layer
    add_roads(own, ds.roads.assign(source="my survey"))
    assert ROADS_ATTRIBUTION not in own.get_root().render()
