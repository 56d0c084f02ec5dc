"""Any line layer → the project's road columns (bordergeo.roadlayer), and routing on it."""

from __future__ import annotations

import json
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import SHARED_DATA, write_dataset

from bordergeo import build_network, load_dataset, normalise_roads, read_roads
from bordergeo.cli import main
from bordergeo.errors import BorderGeoError, SchemaError
from bordergeo.roadlayer import DEFAULT_UNKNOWN_SPEED_KPH, EXCLUDED_CLASSES, RoadLayerReport
from bordergeo.routing import dataset_network

CTU_LAYER = SHARED_DATA / "ctu_vn_roads_rail" / "vn_roads_rail_aoi.geojson"


def _lines(n: int, *, x0: float = 106.70, y0: float = 21.90) -> list[shapely.LineString]:
    return [shapely.LineString([(x0 + 0.01 * i, y0), (x0 + 0.01 * i + 0.005, y0 + 0.01)])
            for i in range(n)]


def _layer(crs: str = "EPSG:4326", **columns: list) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    return gpd.GeoDataFrame(columns, geometry=_lines(n), crs=crs)


def _values(series) -> list:
    """Cells as a list, missing text as None (pandas 3 string columns hold NaN)."""
    return [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v
            for v in series.tolist()]


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and r.name == "bordergeo.roadlayer"]


def test_a_layer_with_only_geometry_and_osm_highway(caplog) -> None:
    layer = _layer(highway=["primary", "residential", "footway", None, "motorway_link"])
    with caplog.at_level(logging.INFO, logger="bordergeo.roadlayer"):
        roads, report = normalise_roads(layer)
    assert roads["id"].tolist() == ["road-1", "road-2", "road-4", "road-5"]
    assert roads["class"].tolist() == ["national", "local", "local", "expressway"]
    assert roads["highway"].tolist() == ["primary", "residential", "unclassified",
                                         "motorway_link"]
    assert report.excluded == {"path": 1} and report.generated_ids == 4
    assert report.unknown_class == 1 and report.columns == {"highway": "highway"}
    assert roads.crs == layer.crs and (roads.geom_type == "LineString").all()
    assert roads["osm_id"].isna().all() and str(roads["osm_id"].dtype) == "Int64"
    assert "5 features in, 4 lines out" in str(report)
    assert any("5 features in" in r.getMessage() for r in caplog.records
               if r.levelno == logging.INFO)


def test_duplicate_ids_are_renumbered_with_one_warning(caplog) -> None:
    layer = _layer(id=["a", "a", "b", "a", "a-2"], **{"class": ["local"] * 5})
    roads, report = normalise_roads(layer)
    assert roads["id"].is_unique
    assert roads["id"].tolist()[:4] == ["a", "a-2", "b", "a-3"]
    assert report.renumbered_ids == 2
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "2 duplicate road ids renumbered" in warnings[0]


def test_multilinestrings_are_exploded_with_part_ids_and_shared_length() -> None:
    multi = shapely.MultiLineString([[(0, 0), (300, 0)], [(300, 0), (300, 100)]])
    single = shapely.LineString([(0, 0), (0, 50)])
    layer = gpd.GeoDataFrame({"id": ["m", "s"], "length_m": [800.0, None]},
                             geometry=[multi, single], crs="EPSG:32648")
    roads, report = normalise_roads(layer)
    assert roads["id"].tolist() == ["m#1", "m#2", "s"]
    assert roads["length_m"].iloc[:2].tolist() == pytest.approx([600.0, 200.0])
    assert np.isnan(roads["length_m"].iloc[2])
    assert report.exploded_parts == 2 and report.lines_out == 3
    assert roads.crs.to_epsg() == 32648


def test_railways_and_ferries_are_left_out_and_reported() -> None:
    layer = _layer(highway=["trunk", None, None, "construction", "proposed"],
                   railway=[None, "rail", None, None, None],
                   route=[None, None, "ferry", None, None],
                   construction=[None, None, None, "primary", None])
    roads, report = normalise_roads(layer)
    assert report.excluded == {"rail": 1, "ferry": 1, "unbuilt": 1}
    assert roads["class"].tolist() == ["national", "national"]
    assert roads["status"].tolist() == ["open", "construction"]
    assert EXCLUDED_CLASSES == ("rail", "ferry", "path", "unbuilt")
    kept, report = normalise_roads(layer, exclude_classes=())
    assert kept["class"].tolist() == ["national", "rail", "local", "national", "local"]
    assert kept["status"].tolist()[-1] == "planned"
    assert report.excluded == {} and report.unknown_class == 1  # the bare proposed line
    assert np.isnan(kept["maxspeed_kph"].iloc[1])  # a railway gets no truck speed
    only_rail, _ = normalise_roads(layer, exclude_classes=("rail",))
    assert len(only_rail) == 4
    with pytest.raises(BorderGeoError, match="cannot exclude class 'boats'"):
        normalise_roads(layer, exclude_classes=("boats",))


def test_rail_is_never_routed(small_layers, tmp_path) -> None:
    rail = json.loads(json.dumps(small_layers["roads"]["features"][0]))
    rail["properties"] = {"id": "rail-1", "class": "rail", "name": "Đường sắt"}
    small_layers["roads"]["features"].append(rail)
    dataset = load_dataset(write_dataset(tmp_path / "data", small_layers))
    assert (dataset.roads["class"] == "rail").sum() == 1
    network = dataset_network(dataset)
    assert "rail" not in set(network.table["class"])
    kept, _ = normalise_roads(dataset.roads, exclude_classes=())
    assert "rail" in set(kept["class"])
    network = dataset_network(dataset, roads=kept)
    assert "rail" not in set(network.table["class"])


def test_ctu_like_columns() -> None:
    layer = _layer(
        gid=[12, 188, 189, 189, 210, 200],
        ma=["HB01", "HA13", "HA13", "HA13", "HA13", "HA13"],
        ten=["Hà Nội - Lạng Sơn", "Quốc lộ 3", "Quốc lộ 1A", "Quốc lộ 1A", "Không biết",
             "Tỉnh lộ 279"],
        loai_duong=["Đường sắt", "Đường chính", "Đường chính", "Đường chính",
                    "Đường thứ cấp", "Đường thứ cấp"],
        cap_duong=["Quốc Gia", "Quốc Gia", "Quốc Gia", "Quốc Gia", "Cấp Tỉnh", "Cấp Tỉnh"],
        chieu_dai=[5209.9, 7353.0, 40597.6, 80326.8, 120449.4, 42270.9],
    )
    roads, report = normalise_roads(layer)
    assert report.excluded == {"rail": 1} and report.renumbered_ids == 1
    assert roads["id"].tolist() == ["188", "189", "189-2", "210", "200"]
    assert _values(roads["ref"]) == ["QL3", "QL1A", "QL1A", None, "ĐT279"]
    assert _values(roads["name"]) == ["Quốc lộ 3", "Quốc lộ 1A", "Quốc lộ 1A", None,
                                      "Tỉnh lộ 279"]
    assert roads["class"].tolist() == ["national"] * 3 + ["provincial"] * 2
    assert roads["length_m"].tolist() == pytest.approx([7353.0, 40597.6, 80326.8, 120449.4,
                                                        42270.9])
    assert report.columns == {"id": "gid", "name": "ten", "type": "loai_duong",
                              "level": "cap_duong", "length_m": "chieu_dai",
                              "ref": "(from name)"}
    mapped, report = normalise_roads(layer, columns={"ref": "ma", "class": "cap_duong"})
    assert mapped["ref"].tolist()[0] == "HA13" and report.columns["ref"] == "ma"
    assert report.excluded == {"rail": 1}  # loai_duong still says railway


def test_chinese_and_unaccented_class_words() -> None:
    layer = _layer(name=["G322国道", "322国道", "省道S325", "南友高速", "湘桂铁路", "县道X123",
                         "乡道Y001", "Quoc lo 4A", "DT.237", "Duong huyen 12", "Cao toc CT.01",
                         "Đường chuyên dụng 1119"])
    roads, report = normalise_roads(layer)
    assert report.excluded == {"rail": 1} and report.unknown_class == 0
    assert roads["class"].tolist() == ["national", "national", "provincial", "expressway",
                                       "local", "local", "national", "provincial", "local",
                                       "expressway", "cargo_road"]
    assert _values(roads["ref"]) == ["G322", "G322", "S325", None, "X123", "Y001", "QL4A",
                                     "ĐT237", "ĐH12", None, None]


def test_unknown_class_gets_the_default_speed_and_one_warning(caplog) -> None:
    layer = _layer(id=["x", "y", "z"], maxspeed=["70", None, None])
    roads, report = normalise_roads(layer)
    assert roads["class"].tolist() == ["local"] * 3
    assert roads["maxspeed_kph"].tolist() == [70.0, DEFAULT_UNKNOWN_SPEED_KPH,
                                              DEFAULT_UNKNOWN_SPEED_KPH]
    assert roads["speed_estimated"].tolist() == [False, True, True]
    assert report.unknown_class == 3
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "3 lines of unknown class" in warnings[0]
    slower, _ = normalise_roads(layer, default_speed_kph=25)
    assert slower["maxspeed_kph"].tolist() == [70.0, 25.0, 25.0]


def test_osm_tags_oneway_speeds_lanes_and_ids() -> None:
    layer = _layer(**{"@id": ["way/11", "way/12", "way/13", "way/14"]},
                   highway=["primary", "secondary_link", "tertiary", "trunk"],
                   oneway=["-1", "yes", "no", None],
                   maxspeed=["60 mph", "none", "50;70", "signals"],
                   lanes=["2;3", "1", None, "x"],
                   bridge=["yes", None, "no", "viaduct"], layer=["1", None, "-1", "a"])
    roads, report = normalise_roads(layer)
    original = shapely.get_coordinates(layer.geometry.iloc[0])
    assert (shapely.get_coordinates(roads.geometry.iloc[0]) == original[::-1]).all()
    assert roads["oneway"].tolist() == [True, True, False, False]
    assert report.reversed_lines == 1
    assert roads["maxspeed_kph"].iloc[0] == pytest.approx(96.56, abs=0.01)
    assert np.isnan(roads["maxspeed_kph"].iloc[1]) and roads["maxspeed_kph"].iloc[2] == 50
    assert roads["lanes"].tolist()[:2] == [2, 1] and roads["lanes"].isna().tolist()[2:] == [
        True, True]
    assert roads["osm_id"].tolist() == [11, 12, 13, 14]
    assert roads["class"].tolist() == ["national", "provincial", "local", "national"]
    assert roads["bridge"].tolist() == [True, False, False, True]
    assert _values(roads["layer"]) == [1, None, -1, None]
    network = build_network(roads.set_crs(4326, allow_override=True))
    assert set(network.table["road_id"]) == set(roads["id"])


def test_project_layers_pass_through(small_layers, tmp_path) -> None:
    dataset = load_dataset(write_dataset(tmp_path / "data", small_layers))
    roads, report = normalise_roads(dataset.roads)
    assert roads["id"].tolist() == dataset.roads["id"].tolist()
    assert roads["class"].tolist() == dataset.roads["class"].tolist()
    assert roads["ref"].tolist() == ["QL1A", "QL4A"] and roads["maxspeed_kph"].iloc[0] == 60
    assert report.generated_ids == report.renumbered_ids == report.unknown_class == 0
    again, _ = normalise_roads(roads)
    assert again.drop(columns="geometry").equals(roads.drop(columns="geometry"))
    bundled, report = normalise_roads(load_dataset().roads)
    assert report.renumbered_ids == 0 and "rail" not in set(bundled["class"])


def test_bad_values_in_the_project_columns_are_errors() -> None:
    layer = _layer(id=["r1", "r2"], maxspeed_kph=[50.0, -5.0])
    with pytest.raises(SchemaError, match=r"row 'r2', field 'maxspeed_kph': -5 must be "
                                          r"greater than 0"):
        normalise_roads(layer, source="roads.geojson")
    with pytest.raises(SchemaError, match="no column 'nope' \\(given for ref\\)"):
        normalise_roads(layer, columns={"ref": "nope"})
    with pytest.raises(SchemaError, match="unknown road column 'colour'"):
        normalise_roads(layer, columns={"colour": "id"})
    with pytest.raises(BorderGeoError, match="between 1 and 200"):
        normalise_roads(layer, class_speeds_kph={"national": 900})


def test_class_words_and_class_speeds() -> None:
    layer = _layer(kind=["Đường chính", "Đường nhánh"])
    roads, report = normalise_roads(layer, columns={"class": "kind"},
                                    class_words={"Duong chinh": "national",
                                                 "đường nhánh": "local"},
                                    class_speeds_kph={"national": 45})
    assert roads["class"].tolist() == ["national", "local"]
    assert roads["maxspeed_kph"].iloc[0] == 45 and roads["speed_estimated"].tolist() == [
        True, False]
    assert report.unknown_class == 0 and isinstance(report, RoadLayerReport)


def _roads_file(tmp_path, small_layers, *, props: list[dict]) -> str:
    features = []
    for feature, extra in zip(small_layers["roads"]["features"], props, strict=True):
        features.append({"type": "Feature", "properties": extra,
                         "geometry": feature["geometry"]})
    path = tmp_path / "real_roads.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_cli_routes_on_a_real_layer_with_road_columns(tmp_path, small_layers, capsys,
                                                      caplog) -> None:
    folder = write_dataset(tmp_path / "data", small_layers)
    roads = _roads_file(tmp_path, small_layers, props=[
        {"gid": 1, "so": "QL1A", "ten_goc": "Quốc lộ 1A", "cap": "Quốc Gia"},
        {"gid": 1, "so": "QL4A", "ten_goc": "Quốc lộ 4A", "cap": "Quốc Gia"}])
    assert main(["route", "hub-x", "gate-a", "--data", str(folder), "--roads", roads,
                 "--road-columns", "ref=so,name=ten_goc,class=cap",
                 "--class-speeds", "national=45", "--format", "json"]) == 0
    route = json.loads(capsys.readouterr().out)[0]
    assert route["roads"] == ["QL1A"]
    assert route["travel_time_min"] == pytest.approx(route["length_km"] / 45 * 60, rel=1e-3)
    assert len(_warnings(caplog)) == 1
    assert "1 duplicate road id renumbered" in _warnings(caplog)[0]


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--road-columns", "ref", "--road-columns: 'ref' is not KEY=VALUE"),
    ("--road-columns", "colour=ma", "--road-columns: unknown column 'colour'"),
    ("--road-columns", "ref=a,ref=b", "--road-columns: repeats 'ref'"),
    ("--class-speeds", "national=0", "--class-speeds national must be between 1 and 200"),
    ("--class-speeds", "rail=40", "--class-speeds: unknown road class 'rail'"),
])
def test_cli_bad_road_options_are_one_line(small_dataset_dir, capsys, option, value,
                                           message) -> None:
    roads = str(small_dataset_dir / "roads.geojson")
    assert main(["route", "hub-x", "gate-a", "--data", str(small_dataset_dir), "--roads",
                 roads, option, value]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"bordergeo: error: {message}") and len(err.splitlines()) == 1


def test_cli_road_columns_need_roads_and_an_existing_column(small_dataset_dir, capsys) -> None:
    assert main(["route", "hub-x", "gate-a", "--data", str(small_dataset_dir),
                 "--road-columns", "ref=ma"]) == 1
    assert "--road-columns needs --roads FILE" in capsys.readouterr().err
    roads = str(small_dataset_dir / "roads.geojson")
    assert main(["route", "hub-x", "gate-a", "--data", str(small_dataset_dir), "--roads",
                 roads, "--road-columns", "ref=ma"]) == 1
    err = capsys.readouterr().err.strip()
    assert "no column 'ma' (given for ref)" in err and len(err.splitlines()) == 1


@pytest.mark.skipif(not CTU_LAYER.exists(), reason="../shared/data (the CTU roads and rail "
                                                   "layer) is not on this machine")
def test_the_real_ctu_layer() -> None:
    raw = gpd.read_file(CTU_LAYER)
    roads, report = read_roads(CTU_LAYER)
    is_road = (raw["loai_duong"] != "Đường sắt").to_numpy()
    assert is_road.sum() == 82 + 8
    parts = shapely.get_num_geometries(raw.geometry.to_numpy())
    assert report.features_in == 106 and report.excluded == {"rail": 16}
    assert report.lines_out == len(roads) == parts[is_road].sum()
    assert roads["id"].is_unique and (roads.geom_type == "LineString").all()
    assert set(roads["class"]) == {"national", "provincial"}
    assert roads["length_m"].sum() == pytest.approx(raw["chieu_dai"][is_road].sum())
    assert "QL1A" in set(roads["ref"]) and "ĐT279" in set(roads["ref"])
