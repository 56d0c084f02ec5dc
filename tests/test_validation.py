"""Every validation case, each with a real bad file on disk."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import write_dataset
from shapely.geometry import Point

from bordergeo import DataFileError, SchemaError, load_dataset
from bordergeo.datasets import load_layer


def _load_broken(tmp_path: Path, layers: dict) -> None:
    load_dataset(write_dataset(tmp_path / "broken", layers))


def test_small_dataset_is_valid(small_dataset_dir: Path) -> None:
    ds = load_dataset(small_dataset_dir)
    assert list(ds.gates["id"]) == ["gate-a", "gate-b"]
    assert ds.gates.crs.to_epsg() == 4326
    assert str(ds.gates["lanes_export"].dtype) == "Int64"
    assert ds.roads["oneway"].tolist() == [False, False]  # default filled in
    assert len(ds.border) == 0  # optional layer absent → empty


def test_missing_column(tmp_path, small_layers) -> None:
    for feature in small_layers["gates"]["features"]:
        del feature["properties"]["level"]
    with pytest.raises(SchemaError, match=r"gates\.geojson: missing required column\(s\): level"):
        _load_broken(tmp_path, small_layers)


def test_wrong_type(tmp_path, small_layers) -> None:
    small_layers["gates"]["features"][0]["properties"]["lanes_export"] = "four"
    with pytest.raises(SchemaError, match=r"gates\.geojson: row 'gate-a', field 'lanes_export': "
                                          r"'four' is not a number"):
        _load_broken(tmp_path, small_layers)


def test_fractional_integer(tmp_path, small_layers) -> None:
    small_layers["roads"]["features"][1]["properties"]["lanes"] = 2.5
    with pytest.raises(SchemaError, match=r"row 'r2', field 'lanes': .*whole number"):
        _load_broken(tmp_path, small_layers)


def test_invalid_geometry(tmp_path, small_layers) -> None:
    small_layers["roads"]["features"][1]["geometry"]["coordinates"] = [[106.7, 21.95],
                                                                       [106.7, 21.95]]
    with pytest.raises(SchemaError, match=r"roads\.geojson: row 'r2', field 'geometry': "
                                          r"invalid geometry \(Too few points"):
        _load_broken(tmp_path, small_layers)


def test_missing_geometry(tmp_path, small_layers) -> None:
    small_layers["hubs"]["features"][0]["geometry"] = None
    with pytest.raises(SchemaError, match=r"hubs\.geojson: row 'hub-x', field 'geometry': "
                                          r"has no geometry"):
        _load_broken(tmp_path, small_layers)


def test_empty_geometry(tmp_path, small_layers) -> None:
    small_layers["roads"]["features"][0]["geometry"]["coordinates"] = []
    with pytest.raises(SchemaError, match=r"row 'r1', field 'geometry': has an empty geometry"):
        _load_broken(tmp_path, small_layers)


def test_wrong_geometry_type(tmp_path, small_layers) -> None:
    small_layers["gates"]["features"][1]["geometry"] = {
        "type": "LineString", "coordinates": [[106.6, 22.0], [106.7, 22.0]]}
    with pytest.raises(SchemaError, match=r"row 'gate-b', field 'geometry': geometry is a "
                                          r"LineString; the gates layer takes Point"):
        _load_broken(tmp_path, small_layers)


def test_missing_crs(tmp_path) -> None:
    gdf = gpd.GeoDataFrame({"id": ["hub-x"], "name_vi": ["X"], "kind": ["city"]},
                           geometry=[Point(106.76, 21.85)], crs=None)
    path = tmp_path / "hubs.shp"
    gdf.to_file(path)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(SchemaError, match=r"hubs\.shp: field 'geometry': has no coordinate "
                                          r"reference system"):
        load_layer(path, "hubs")


def test_projected_coordinates_under_a_geographic_crs(tmp_path, small_layers) -> None:
    small_layers["hubs"]["features"][0]["geometry"]["coordinates"] = [627000.0, 2417000.0]
    with pytest.raises(SchemaError, match=r"row 'hub-x', field 'geometry': coordinates "
                                          r"\(627000, 2.417e\+06\) look projected"):
        _load_broken(tmp_path, small_layers)


def test_projected_crs_is_reprojected(tmp_path) -> None:
    utm = gpd.GeoDataFrame({"id": ["hub-x"], "name_vi": ["X"], "kind": ["city"]},
                           geometry=[Point(106.761, 21.8526)], crs=4326).to_crs(32648)
    path = tmp_path / "hubs.gpkg"
    utm.to_file(path)
    hubs = load_layer(path, "hubs")
    assert hubs.crs.to_epsg() == 4326
    assert hubs.geometry.iloc[0].x == pytest.approx(106.761, abs=1e-7)
    assert hubs.geometry.iloc[0].y == pytest.approx(21.8526, abs=1e-7)


def test_swapped_lat_lon(tmp_path, small_layers) -> None:
    small_layers["gates"]["features"][0]["geometry"]["coordinates"] = [21.97111, 106.71083]
    with pytest.raises(SchemaError, match=r"row 'gate-a', field 'geometry': latitude 106\.711 "
                                          r".*look swapped"):
        _load_broken(tmp_path, small_layers)


def test_duplicate_ids(tmp_path, small_layers) -> None:
    small_layers["gates"]["features"][1]["properties"]["id"] = "gate-a"
    with pytest.raises(SchemaError, match=r"gates\.geojson: row 'gate-a', field 'id': "
                                          r"duplicate id"):
        _load_broken(tmp_path, small_layers)


def test_unknown_enum_value(tmp_path, small_layers) -> None:
    small_layers["gates"]["features"][0]["properties"]["level"] = "interntional"
    with pytest.raises(SchemaError, match=r"row 'gate-a', field 'level': unknown value "
                                          r"'interntional'; expected one of international"):
        _load_broken(tmp_path, small_layers)


def test_negative_lanes(tmp_path, small_layers) -> None:
    small_layers["gates"]["features"][0]["properties"]["lanes_import"] = -2
    with pytest.raises(SchemaError, match=r"row 'gate-a', field 'lanes_import': -2 is negative"):
        _load_broken(tmp_path, small_layers)


def test_hours_that_do_not_parse(tmp_path, small_layers) -> None:
    small_layers["gates"]["features"][0]["properties"]["hours_cn"] = "8am-8pm"
    with pytest.raises(SchemaError, match=r"row 'gate-a', field 'hours_cn': '8am-8pm' is not "
                                          r"an opening window"):
        _load_broken(tmp_path, small_layers)


def test_unknown_marker_gate(tmp_path, small_layers) -> None:
    small_layers["markers"]["features"][0]["properties"]["gate_id"] = "gate-z"
    with pytest.raises(SchemaError, match=r"markers\.geojson: row '1116', field 'gate_id'"):
        _load_broken(tmp_path, small_layers)


def test_unreadable_file(tmp_path, small_layers) -> None:
    folder = write_dataset(tmp_path / "broken", small_layers)
    (folder / "roads.geojson").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"roads\.geojson: cannot read the file"):
        load_dataset(folder)


def test_missing_required_layer(tmp_path, small_layers) -> None:
    del small_layers["roads"]
    with pytest.raises(DataFileError, match=r"no roads layer"):
        _load_broken(tmp_path, small_layers)


@pytest.mark.filterwarnings("ignore:Normalized/laundered field name")
@pytest.mark.parametrize("suffix", [".gpkg", ".parquet", ".shp"])
def test_other_formats(tmp_path, small_dataset_dir, suffix) -> None:
    ds = load_dataset(small_dataset_dir)
    folder = tmp_path / "formats"
    folder.mkdir()
    for name in ("gates", "hubs", "roads"):
        gdf = getattr(ds, name)
        if suffix == ".parquet":
            gdf.to_parquet(folder / f"{name}{suffix}")
        else:
            gdf.to_file(folder / f"{name}{suffix}")
    again = load_dataset(folder)
    assert list(again.gates["id"]) == ["gate-a", "gate-b"]
    assert again.roads.to_crs(32648).length.sum() == pytest.approx(
        ds.roads.to_crs(32648).length.sum())
    # Shapefile cuts field names to 10 characters (maxspeed_kph → maxspeed_k): restored
    assert again.roads["maxspeed_kph"].tolist()[0] == 60


def test_single_geopackage_with_layers(tmp_path, small_dataset_dir) -> None:
    ds = load_dataset(small_dataset_dir)
    gpkg = tmp_path / "study.gpkg"
    for name in ("gates", "hubs", "roads", "markers"):
        getattr(ds, name).to_file(gpkg, layer=name)
    again = load_dataset(gpkg)
    assert len(again.gates) == 2 and len(again.markers) == 1


def test_geojson_written_with_json_crs_member_is_read(tmp_path, small_layers) -> None:
    small_layers["hubs"]["crs"] = {"type": "name",
                                   "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    ds = load_dataset(write_dataset(tmp_path / "ok", small_layers))
    assert ds.hubs.crs.to_epsg() == 4326 or ds.hubs.crs.to_string().endswith("CRS84")


def test_gate_override_geodataframe(small_dataset_dir) -> None:
    gates = load_dataset(small_dataset_dir).gates.iloc[:1]
    ds = load_dataset(small_dataset_dir, gates=gates)
    assert list(ds.gates["id"]) == ["gate-a"]
    assert json.loads(ds.gates.to_json())["features"][0]["properties"]["name_vi"] == "Cửa khẩu A"
