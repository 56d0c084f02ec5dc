"""The bundled Lạng Sơn dataset: completeness, cited coordinates, and a routable network."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from conftest import SHARED_DATA

from bordergeo import load_dataset
from bordergeo.cli import main
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


@pytest.mark.parametrize("origin,gate,low_km,high_km", [
    # Lạng Sơn → Đồng Đăng 14 km, Đồng Đăng → Hữu Nghị 3 km (travel guides)
    ("lang-son", "huu-nghi", 14, 20),
    # 154 km north of Hà Nội (Citizendium); 45.8 + 64 km of expressway are cited lengths
    ("ha-noi", "huu-nghi", 150, 185),
    # Long An → Lạng Sơn ~1,800 km (VnExpress); the southern line is simplified
    ("tan-an", "lang-son", 1_500, 1_900),
])
def test_route_lengths_match_the_real_roads(router, origin, gate, low_km, high_km) -> None:
    route = router.route(origin, gate)
    assert low_km <= route.length_km <= high_km
    assert route.refs  # named roads


def test_hanoi_route_uses_the_expressway(router) -> None:
    route = router.route("Hà Nội", "Hữu Nghị")
    assert route.road_sequence.startswith("CT.01") or "CT.01" in route.refs
    assert route.refs[-1] == "QL1A"
    assert 120 <= route.travel_time_min <= 200  # ~2–2.5 h by car (VnExpress, CAND)


def test_bundled_files_are_what_the_generator_writes(tmp_path) -> None:
    data = Path(__file__).resolve().parents[1] / "data" / "geojson"
    if not data.exists():
        pytest.skip("not a source checkout")
    for name in ("gates", "hubs", "roads", "markers"):
        text = (data / f"{name}.geojson").read_text(encoding="utf-8")
        assert json.loads(text)["features"]
        assert "/work/" not in text and "/root/" not in text
