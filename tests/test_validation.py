"""Every validation case, each with a real bad file on disk."""

from __future__ import annotations

import json
import os
import pickle
import signal
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import replace_layer, write_dataset
from shapely.geometry import Point

from bordergeo import DataFileError, SchemaError, load_dataset
from bordergeo.cli import main
from bordergeo.datasets import MAX_GATE_BORDER_M, MAX_PLACE_ROAD_M, load_layer
from bordergeo.errors import DatasetFileError, Problem, ValidationError
from bordergeo.schema import MAX_TEXT_CHARS, validate_layer


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


# --------------------------------------------------------------------------------------
# every problem, not just the first


def _validate(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _several_problems(layers: dict) -> dict:
    gates = layers["gates"]["features"]
    gates[0]["properties"]["lanes_export"] = -4
    gates[0]["properties"]["hours_cn"] = "8am-8pm"
    gates[1]["properties"]["level"] = "interntional"
    gates[1]["geometry"] = {"type": "LineString", "coordinates": [[106.6, 22.0], [106.7, 22.0]]}
    layers["roads"]["features"][0]["properties"]["class"] = "motorway"
    return layers


def test_several_problems_in_one_file_are_all_reported(tmp_path, small_layers) -> None:
    folder = write_dataset(tmp_path / "bad", _several_problems(small_layers))
    with pytest.raises(ValidationError) as info:
        load_layer(folder / "gates.geojson", "gates")
    problems = info.value.problems
    assert [(p.row, p.field) for p in problems] == [
        ("gate-b", "level"), ("gate-a", "lanes_export"), ("gate-b", "geometry"),
        ("gate-a", "hours_cn")]
    assert all(p.source.endswith("gates.geojson") and p.rows == 1 for p in problems)
    assert str(info.value).endswith("(and 3 more problems)")
    assert isinstance(info.value, SchemaError)  # old callers keep working
    # the dataset: both files, all five problems
    with pytest.raises(ValidationError) as info:
        load_dataset(folder)
    assert len(info.value.problems) == 5
    assert info.value.problems[-1].source.endswith("roads.geojson")


def test_cli_lists_every_problem_grouped_by_file(tmp_path, small_layers, capsys) -> None:
    folder = write_dataset(tmp_path / "bad", _several_problems(small_layers))
    code, out, err = _validate(capsys, str(folder))
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"bordergeo: error: {folder}: 5 problems in 2 files"
    assert lines[1] == f"{folder / 'gates.geojson'}: 4 problems"
    assert lines[2].startswith("  row 'gate-b', field 'level': unknown value 'interntional'")
    assert "  row 'gate-a', field 'lanes_export': -4 is negative; it must be at least 0" in lines
    assert any("field 'hours_cn': '8am-8pm' is not an opening window" in x for x in lines)
    assert any("geometry is a LineString" in x for x in lines)
    assert lines[6] == f"{folder / 'roads.geojson'}: 1 problem"
    assert lines[7].startswith("  row 'r1', field 'class': unknown value 'motorway'")
    assert len(lines) == 8


def test_cli_caps_the_problems_printed(tmp_path, small_layers, capsys) -> None:
    folder = write_dataset(tmp_path / "bad", _several_problems(small_layers))
    code, _, err = _validate(capsys, str(folder), "--max-problems", "2")
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 5  # summary, file header, two problems, the rest counted
    assert lines[-1] == "… and 3 more problems (--max-problems 0 lists them all)"
    code, _, err = _validate(capsys, str(folder), "--max-problems", "0")
    assert len(err.splitlines()) == 8
    assert main(["validate", str(folder), "--max-problems", "-1"]) == 1
    assert "--max-problems must be" in capsys.readouterr().err


def test_many_rows_with_one_problem_make_one_entry() -> None:
    n = 10_000
    roads = gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(n)], "class": ["national"] * n,
         "lanes": [-1] * (n - 1) + [2], "maxspeed_kph": ["fast"] * n},
        geometry=shapely.linestrings(np.stack([np.c_[np.linspace(106, 107, n), np.full(n, 22)],
                                               np.c_[np.linspace(106, 107, n) + 1e-3,
                                                     np.full(n, 22.001)]], axis=1)),
        crs=4326)
    with pytest.raises(ValidationError) as info:
        validate_layer(roads, "roads", source="big.gpkg")
    first, second = info.value.problems
    assert (first.field, first.rows, second.field, second.rows) == (
        "maxspeed_kph", n, "lanes", n - 1)
    assert first.message == ("'fast' is not a number (also rows 'r1', 'r2', 'r3' and "
                             "9,996 more)")
    assert str(second) == ("big.gpkg: row 'r0', field 'lanes': -1 is negative; it must be at "
                           "least 1 (also rows 'r1', 'r2', 'r3' and 9,995 more)")


def test_unreadable_layer_and_bad_layer_reported_together(tmp_path, small_layers) -> None:
    small_layers["gates"]["features"][0]["properties"]["level"] = "nope"
    folder = write_dataset(tmp_path / "bad", small_layers)
    (folder / "roads.geojson").write_text("{not json", encoding="utf-8")
    with pytest.raises(DatasetFileError) as info:
        load_dataset(folder)
    error = info.value
    assert isinstance(error, DataFileError) and isinstance(error, ValidationError)
    assert [p.kind for p in error.problems] == ["file", "schema"]
    assert str(error).startswith(f"{folder / 'roads.geojson'}: cannot read the file")


def test_validation_error_pickles_and_problem_reads_like_schema_error() -> None:
    problems = [Problem("is bad", source="x.gpkg", row="a", field="f", rows=1),
                Problem("is worse", source="y.gpkg")]
    error = pickle.loads(pickle.dumps(ValidationError(problems)))
    assert error.problems == problems
    assert str(error) == "x.gpkg: row 'a', field 'f': is bad (and 1 more problem)"
    assert (error.source, error.row, error.field, error.reason) == ("x.gpkg", "a", "f", "is bad")
    assert problems[0].detail == "row 'a', field 'f': is bad"


# --------------------------------------------------------------------------------------
# empty cells take the column's default


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_empty_oneway_and_status_take_their_default(tmp_path, small_layers, capsys,
                                                   empty) -> None:
    for feature in small_layers["roads"]["features"]:
        feature["properties"]["oneway"] = empty
        feature["properties"]["status"] = empty
    small_layers["gates"]["features"][1]["properties"]["status"] = empty
    folder = write_dataset(tmp_path / "qgis", small_layers)
    ds = load_dataset(folder)
    assert ds.roads["oneway"].tolist() == [False, False]
    assert ds.roads["status"].tolist() == ["open", "open"]
    assert ds.gates["status"].tolist() == ["open", "open"]
    assert _validate(capsys, str(folder))[0] == 0


def test_nan_and_blank_cells_in_a_geodataframe_take_the_default(small_dataset_dir) -> None:
    roads = load_dataset(small_dataset_dir).roads.astype({"oneway": object})
    roads["oneway"] = [np.nan, "yes"]
    roads["lanes"] = pd.array([pd.NA, 2], dtype="Int64")
    roads["maxspeed_kph"] = ["", " "]  # blank numbers are empty, not "not a number"
    out = validate_layer(roads, "roads")
    assert out["oneway"].tolist() == [False, True]
    assert out["maxspeed_kph"].isna().all()


def test_empty_required_value_is_still_refused(tmp_path, small_layers) -> None:
    small_layers["gates"]["features"][0]["properties"]["level"] = "  "
    with pytest.raises(SchemaError, match=r"row 'gate-a', field 'level': is empty but must "
                                          r"have a value"):
        _load_broken(tmp_path, small_layers)


# --------------------------------------------------------------------------------------
# the CRS must fit the coordinates


def _gates_with_crs(small_dataset_dir: Path, crs: int) -> Path:
    gates = load_dataset(small_dataset_dir).gates.set_crs(crs, allow_override=True)
    return replace_layer(small_dataset_dir, "gates", gates)


@pytest.mark.parametrize("crs, name", [(3857, r"EPSG:3857 \(WGS 84 / Pseudo-Mercator\)"),
                                       (32648, r"EPSG:32648 \(WGS 84 / UTM zone 48N\)")])
def test_projected_crs_holding_degrees_is_refused(small_dataset_dir, capsys, crs, name) -> None:
    path = _gates_with_crs(small_dataset_dir, crs)
    expected = (r"gates\.gpkg: row 'gate-a', field 'geometry': coordinates \(106\.711, "
                r"21\.9711\) look like degrees \(longitude, latitude\) but the file declares "
                + name + r", in metres; if they are lon/lat, set the CRS to EPSG:4326 "
                r"\(also row 'gate-b'\)")
    with pytest.raises(SchemaError, match=expected):
        load_layer(path, "gates")
    with pytest.raises(ValidationError, match=expected):
        load_dataset(small_dataset_dir)
    code, out, err = _validate(capsys, str(small_dataset_dir))
    assert code == 1 and out == ""
    assert "look like degrees" in err and f"EPSG:{crs}" in err and len(err.splitlines()) == 1


def test_coordinates_outside_the_area_of_use_are_refused(small_dataset_dir, capsys) -> None:
    # UTM 48N metres declared as Lambert-93 (France): lands far from France
    gates = load_dataset(small_dataset_dir).gates.to_crs(32648).set_crs(2154,
                                                                        allow_override=True)
    path = replace_layer(small_dataset_dir, "gates", gates)
    with pytest.raises(SchemaError, match=r"row 'gate-a', field 'geometry': coordinates "
                                          r"\(6\d{5}, 2\.43\d+e\+06\) fall at lon 2\.8\d, "
                                          r"lat 11\.0\d, outside the area where EPSG:2154 "
                                          r"\(RGF93 v1 / Lambert-93\) is used .*the declared "
                                          r"CRS looks wrong"):
        load_layer(path, "gates")
    assert _validate(capsys, str(path))[0] == 1


@pytest.mark.parametrize("crs", [3857, 32648, 3405])
def test_projected_layers_with_real_projected_coordinates_are_accepted(small_dataset_dir,
                                                                      capsys, crs) -> None:
    ds = load_dataset(small_dataset_dir)
    for name in ("gates", "hubs", "roads", "markers"):
        replace_layer(small_dataset_dir, name, getattr(ds, name).to_crs(crs))
    again = load_dataset(small_dataset_dir)
    assert again.gates.crs.to_epsg() == 4326
    assert np.allclose(shapely.get_coordinates(again.roads.geometry),
                       shapely.get_coordinates(ds.roads.geometry), atol=1e-6)
    code, out, _ = _validate(capsys, str(small_dataset_dir))
    assert code == 0 and out.startswith("ok: ")


# --------------------------------------------------------------------------------------
# the layers must fit together


def test_roads_on_another_continent_are_refused(tmp_path, small_layers, capsys) -> None:
    for feature in small_layers["roads"]["features"]:  # same shapes, in the Atlantic
        feature["geometry"]["coordinates"] = [[x - 176.0, y + 18.0]
                                              for x, y in feature["geometry"]["coordinates"]]
    folder = write_dataset(tmp_path / "far", small_layers)
    with pytest.raises(ValidationError) as info:
        load_dataset(folder)
    messages = [str(p) for p in info.value.problems]
    assert len(messages) == 2  # one per layer the roads miss, not one per gate or hub
    assert messages[0].startswith(f"{folder / 'roads.geojson'}: the open roads (lon -69.")
    assert "do not reach the gates layer (lon 106.68 to 106.71" in messages[0]
    assert "km apart; are both layers of the same area, each with its right CRS?" in messages[0]
    assert "do not reach the hubs layer" in messages[1]
    code, _, err = _validate(capsys, str(folder))
    assert code == 1 and "2 problems in 1 file" in err


def _with_border_and_far_gate(layers: dict) -> dict:
    layers["border"] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "b1", "name": "border"},
         "geometry": {"type": "LineString",
                      "coordinates": [[106.66, 22.02], [106.71, 21.98], [106.75, 21.96]]}}]}
    far = {"type": "Feature", "properties": {"id": "gate-c", "name_vi": "C", "level": "main",
                                             "mode": "road"},
           "geometry": {"type": "Point", "coordinates": [106.761, 21.40]}}
    layers["gates"]["features"].append(far)
    layers["roads"]["features"].append(
        {"type": "Feature", "properties": {"id": "r3", "class": "provincial"},
         "geometry": {"type": "LineString", "coordinates": [[106.761, 21.8526],
                                                            [106.761, 21.40]]}})
    return layers


def test_gate_far_from_the_border_is_refused(tmp_path, small_layers, capsys) -> None:
    folder = write_dataset(tmp_path / "far", _with_border_and_far_gate(small_layers))
    with pytest.raises(ValidationError) as info:
        load_dataset(folder)
    (problem,) = info.value.problems
    assert (problem.row, problem.field, problem.kind) == ("gate-c", "geometry", "dataset")
    assert problem.message.startswith("is 6")  # about 62 km
    assert problem.message.endswith("km from the border line; a gate must lie within 10 km of "
                                    "it (wrong coordinates, or the wrong border?)")
    code, _, err = _validate(capsys, str(folder))
    assert code == 1 and "row 'gate-c', field 'geometry': is 6" in err


def test_gates_near_the_border_are_accepted(tmp_path, small_layers) -> None:
    layers = _with_border_and_far_gate(small_layers)
    layers["gates"]["features"].pop()
    ds = load_dataset(write_dataset(tmp_path / "ok", layers))
    assert len(ds.border) == 1 and len(ds.gates) == 2


def test_bundled_gates_are_well_within_the_border_bound() -> None:
    ds = load_dataset()
    utm = ds.border.estimate_utm_crs()
    farthest = ds.gates.to_crs(utm).distance(ds.border.to_crs(utm).union_all()).max()
    assert farthest < MAX_GATE_BORDER_M / 4  # the bound keeps a wide margin


def test_hub_beyond_the_snap_limit_is_refused(tmp_path, small_layers, capsys) -> None:
    small_layers["hubs"]["features"].append(
        {"type": "Feature", "properties": {"id": "hub-y", "name_vi": "Y", "kind": "icd"},
         "geometry": {"type": "Point", "coordinates": [106.70, 21.70]}})
    folder = write_dataset(tmp_path / "far", small_layers)
    with pytest.raises(ValidationError, match=r"hubs\.geojson: row 'hub-y', field 'geometry': "
                                              r"is 1\d\.\d km from the nearest open road; the "
                                              r"router attaches places up to 5 km from a road"):
        load_dataset(folder, strict=True)
    assert MAX_PLACE_ROAD_M == 5_000.0
    assert _validate(capsys, str(folder))[0] == 1


def test_hub_near_only_a_planned_road_is_refused(tmp_path, small_layers) -> None:
    small_layers["roads"]["features"].append(
        {"type": "Feature", "properties": {"id": "r9", "class": "local", "status": "planned"},
         "geometry": {"type": "LineString", "coordinates": [[106.761, 21.8526],
                                                            [106.70, 21.70]]}})
    small_layers["hubs"]["features"].append(
        {"type": "Feature", "properties": {"id": "hub-y", "name_vi": "Y", "kind": "icd"},
         "geometry": {"type": "Point", "coordinates": [106.70, 21.70]}})
    with pytest.raises(ValidationError, match=r"row 'hub-y'.*nearest open road"):
        load_dataset(write_dataset(tmp_path / "broken", small_layers), strict=True)


def test_id_both_gate_and_hub_is_refused(tmp_path, small_layers) -> None:
    small_layers["hubs"]["features"][0]["properties"]["id"] = "gate-a"
    with pytest.raises(ValidationError, match=r"hubs\.geojson: row 'gate-a', field 'id': id "
                                              r"'gate-a' is also a gate id"):
        _load_broken(tmp_path, small_layers)


# --------------------------------------------------------------------------------------
# bounded text and numbers


def test_huge_name_is_refused_with_a_short_message(tmp_path, small_layers, capsys) -> None:
    small_layers["gates"]["features"][0]["properties"]["name_vi"] = "Hữu Nghị " * 600_000
    folder = write_dataset(tmp_path / "huge", small_layers)
    with pytest.raises(SchemaError) as info:
        load_dataset(folder)
    message = str(info.value)
    assert len(message) < 300
    assert "field 'name_vi': 'Hữu Nghị Hữu Nghị" in message
    assert f"… (5,400,000 characters) is too long; name_vi takes at most {MAX_TEXT_CHARS} " \
           f"characters" in message
    code, _, err = _validate(capsys, str(folder))
    assert code == 1 and len(err) < 400


def test_messages_never_repeat_long_user_text(tmp_path, small_layers) -> None:
    small_layers["roads"]["features"][0]["properties"]["class"] = "x" * 400
    small_layers["gates"]["features"][0]["properties"]["parent_id"] = "p" * 400
    small_layers["gates"]["features"][1]["properties"]["id"] = "G" * 400
    with pytest.raises(ValidationError) as info:
        _load_broken(tmp_path, small_layers)
    for problem in info.value.problems:
        assert len(str(problem)) < 320, problem
        assert "x" * 61 not in str(problem) and "G" * 61 not in str(problem)
    assert any("(400 characters)" in p.message for p in info.value.problems)


def test_note_may_be_longer_than_a_name(tmp_path, small_layers) -> None:
    small_layers["roads"]["features"][0]["properties"]["source"] = "cited " * 150  # 900 chars
    assert len(_load_ok(tmp_path, small_layers).roads) == 2


def _load_ok(tmp_path: Path, layers: dict):
    return load_dataset(write_dataset(tmp_path / "ok", layers))


@pytest.mark.parametrize("value, match", [
    (2**63, r"9223372036854775808 does not fit in a 64-bit integer"),
    (10**30, r"1000000000000000000000000000000 does not fit in a 64-bit integer"),
    (2**62, r"4611686018427387904 is too large; it must be at most 1,000"),
    (1001, r"1001 is too large; it must be at most 1,000"),
    (0, r"0 is too small; it must be at least 1"),
])
def test_huge_integers_are_refused(small_dataset_dir, value, match) -> None:
    roads = load_dataset(small_dataset_dir).roads.astype({"lanes": object})
    roads["lanes"] = [value, 2]
    with pytest.raises(ValidationError, match=r"roads \(GeoDataFrame\): row 'r1', field "
                                              r"'lanes': " + match):
        load_dataset(small_dataset_dir, roads=roads)


def test_lanes_two_to_the_63_in_a_file(small_dataset_dir, capsys) -> None:
    roads = load_dataset(small_dataset_dir).roads
    roads["lanes"] = np.array([2**63, 2], dtype=np.uint64)
    path = replace_layer(small_dataset_dir, "roads", roads, ".parquet")
    with pytest.raises(SchemaError, match=r"row 'r1', field 'lanes': 9223372036854775808 does "
                                          r"not fit in a 64-bit integer"):
        load_layer(path, "roads")
    code, _, err = _validate(capsys, str(small_dataset_dir))
    assert code == 1 and "does not fit in a 64-bit integer" in err
    # GeoJSON cannot even hold it: a clean read error, no traceback
    (small_dataset_dir / "roads.parquet").unlink()
    bad = small_dataset_dir / "roads.geojson"
    bad.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                   '{"id":"r1","class":"national","lanes":9223372036854775808},"geometry":'
                   '{"type":"LineString","coordinates":[[106.7,21.9],[106.8,22.0]]}}]}',
                   encoding="utf-8")
    code, _, err = _validate(capsys, str(bad))
    assert code == 1 and "roads.geojson: cannot read the file" in err


# --------------------------------------------------------------------------------------
# FIFOs, devices and folders are not layer files


@pytest.fixture()
def deadline():
    """Fail instead of hanging if something opens a FIFO."""
    def timeout(signum, frame):
        raise AssertionError("validation blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_named_gates_geojson_is_refused_quickly(small_dataset_dir, capsys,
                                                     deadline) -> None:
    (small_dataset_dir / "gates.geojson").unlink()
    fifo = small_dataset_dir / "gates.geojson"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(DataFileError, match=r"gates\.geojson: is not a regular file \(a pipe "
                                            r"or a device\?\)"):
        load_layer(fifo, "gates")
    with pytest.raises(DatasetFileError, match=r"gates\.geojson: is not a regular file"):
        load_dataset(small_dataset_dir)
    code, _, err = _validate(capsys, str(small_dataset_dir))
    assert code == 1 and "gates.geojson: is not a regular file" in err
    code, _, err = _validate(capsys, str(fifo), "--layer", "gates")
    assert code == 1 and "is not a regular file" in err
    code, _, err = _validate(capsys, str(fifo))
    assert code == 1 and "is not a folder or a regular file" in err
    assert time.monotonic() - start < 10


def test_folder_named_gates_geojson_is_refused(small_dataset_dir, capsys) -> None:
    (small_dataset_dir / "gates.geojson").unlink()
    (small_dataset_dir / "gates.geojson").mkdir()
    with pytest.raises(DatasetFileError, match=r"gates\.geojson: is a folder, not a layer "
                                               r"file"):
        load_dataset(small_dataset_dir)
    assert _validate(capsys, str(small_dataset_dir))[0] == 1


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_device_is_not_a_layer(capsys) -> None:
    with pytest.raises(DataFileError, match="is not a regular file"):
        load_layer("/dev/null", "gates")


def test_missing_id_does_not_hide_or_fake_other_id_problems(tmp_path, small_layers) -> None:
    del small_layers["gates"]["features"][0]["properties"]["id"]
    small_layers["gates"]["features"][1]["properties"]["id"] = "Gate B"
    with pytest.raises(ValidationError) as info:
        load_layer(write_dataset(tmp_path / "bad", small_layers) / "gates.geojson", "gates")
    assert [(p.row, p.field, p.message) for p in info.value.problems] == [
        ("#1", "id", "is empty but must have a value"),
        ("Gate B", "id", "ids must be lower-case ASCII slugs like 'huu-nghi'")]


def test_a_far_hub_loads_with_a_warning_and_only_its_routes_fail(tmp_path, small_layers,
                                                                  caplog) -> None:
    from bordergeo import Router, UnattachedPlaceError, dataset_network

    small_layers["hubs"]["features"].append(
        {"type": "Feature", "properties": {"id": "hub-y", "name_vi": "Y", "kind": "icd"},
         "geometry": {"type": "Point", "coordinates": [106.70, 21.70]}})
    with caplog.at_level("WARNING", logger="bordergeo.datasets"):
        ds = load_dataset(write_dataset(tmp_path / "far", small_layers))
    assert "1 place beyond 5 km of an open road" in caplog.text and "hub-y" in caplog.text
    router = Router(dataset_network(ds), ds)
    assert router.route("hub-x", "gate-a").length_km > 0
    with pytest.raises(UnattachedPlaceError, match="hub 'hub-y' is 1"):
        router.route("hub-y", "gate-a")
