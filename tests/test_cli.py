"""The command line: outputs, formats, and one clear line on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_dataset

from bordergeo.cli import main


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    return subprocess.run([sys.executable, "-m", "bordergeo", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


def test_gates_json_on_user_data(small_dataset_dir, capsys) -> None:
    assert main(["gates", "--data", str(small_dataset_dir), "--format", "json"]) == 0
    gates = json.loads(capsys.readouterr().out)
    assert [g["id"] for g in gates] == ["gate-a", "gate-b"]
    assert gates[0]["name_vi"] == "Cửa khẩu A" and gates[0]["lanes_export"] == 2
    assert gates[0]["lon"] == pytest.approx(106.71083)


@pytest.mark.parametrize("fmt", ["table", "csv", "geojson"])
def test_gates_other_formats(small_dataset_dir, capsys, fmt) -> None:
    assert main(["gates", "--data", str(small_dataset_dir), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "gate-b" in out and "Cửa khẩu B" in out
    if fmt == "geojson":
        assert json.loads(out)["type"] == "FeatureCollection"


def test_validate_ok(small_dataset_dir, capsys) -> None:
    assert main(["validate", str(small_dataset_dir)]) == 0
    out = capsys.readouterr().out
    assert "valid dataset (gates 2, markers 1, hubs 1, roads 2, border 0)" in out
    assert main(["validate", str(small_dataset_dir / "roads.geojson")]) == 0
    assert "valid roads layer (2 rows)" in capsys.readouterr().out


def test_validate_bad_file_one_line_no_traceback(tmp_path, small_layers) -> None:
    small_layers["gates"]["features"][0]["properties"]["lanes_export"] = -4
    folder = write_dataset(tmp_path / "bad", small_layers)
    result = run("validate", str(folder))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bordergeo: error: ")
    assert "gates.geojson: row 'gate-a', field 'lanes_export': -4 is negative" in lines[0]
    assert "Traceback" not in result.stderr


def test_map_failure_leaves_no_file(tmp_path, small_layers) -> None:
    small_layers["roads"]["features"][0]["properties"]["class"] = "motorway"
    folder = write_dataset(tmp_path / "bad", small_layers)
    out = tmp_path / "maps" / "x.html"
    result = run("map", "--data", str(folder), "-o", str(out))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "unknown value 'motorway'" in result.stderr
    assert not out.exists()
    assert not list(out.parent.glob("*")) if out.parent.exists() else True


def test_map_writes_html(tmp_path, small_dataset_dir, capsys) -> None:
    out = tmp_path / "m.html"
    assert main(["map", "--data", str(small_dataset_dir), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    text = out.read_text(encoding="utf-8")
    assert "Cửa khẩu A" in text and "L.map(" in text


def test_unknown_data_folder(tmp_path) -> None:
    result = run("gates", "--data", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"bordergeo: error: {tmp_path / 'nope'}: no such file or folder"


def test_usage_error_exit_2() -> None:
    result = run("gates", "--format", "xml")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_map_requires_html_suffix(tmp_path, small_dataset_dir) -> None:
    result = run("map", "--data", str(small_dataset_dir), "-o", str(tmp_path / "m.png"))
    assert result.returncode == 1
    assert "use a .html name" in result.stderr


def test_route_text_and_json(capsys) -> None:
    assert main(["route", "ha noi", "Hữu Nghị"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("Hà Nội → Hữu Nghị: ") and " km, " in line and "QL1A" in line
    assert main(["route", "bac-giang", "tan thanh", "--format", "json",
                 "--alternatives", "2"]) == 0
    routes = json.loads(capsys.readouterr().out)
    assert 1 <= len(routes) <= 2
    assert routes[0]["to"] == "tan-thanh" and routes[0]["length_km"] > 0
    assert routes == sorted(routes, key=lambda r: r["travel_time_min"])


def test_route_from_a_coordinate(capsys) -> None:
    assert main(["route", "21.03,105.85", "huu-nghi", "--format", "geojson"]) == 0
    feature = json.loads(capsys.readouterr().out)["features"][0]
    assert feature["geometry"]["type"] == "LineString"
    assert feature["properties"]["from_snap_m"] < 2_000


def test_route_unknown_place_one_line() -> None:
    result = run("route", "huu nhgi", "ha-noi")
    assert result.returncode == 1
    assert result.stderr.strip().startswith(
        "bordergeo: error: no gate or hub named 'huu nhgi'; did you mean Hữu Nghị (huu-nghi)")
    assert len(result.stderr.strip().splitlines()) == 1


def test_route_place_too_far_from_roads() -> None:
    result = run("route", "30.0,100.0", "huu-nghi")
    assert result.returncode == 1
    assert "km from the nearest road node" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_matrix_csv_and_closure(capsys) -> None:
    assert main(["matrix", "--from", "ha-noi", "lang-son", "--to", "huu-nghi", "chi-ma",
                 "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "origin,destination,travel_time_min,length_km,reachable,reason"
    assert len(lines) == 5
    assert main(["matrix", "--from", "lang-son", "--to", "huu-nghi", "tan-thanh",
                 "--close-gate", "huu-nghi", "--format", "json"]) == 0
    impact = json.loads(capsys.readouterr().out)[0]
    assert impact["gate_before"] == "huu-nghi" and impact["gate_after"] == "tan-thanh"
    assert impact["delta_min"] > 0


def test_matrix_marks_unreachable_pairs(tmp_path, small_layers, capsys) -> None:
    small_layers["roads"]["features"][1]["geometry"]["coordinates"] = [
        [106.60, 22.10], [106.68389, 22.00306]]  # gate-b's road no longer joins
    folder = write_dataset(tmp_path / "cut", small_layers)
    assert main(["matrix", "--data", str(folder), "--format", "json", "--to", "gate-a",
                 "gate-b"]) == 0
    rows = {r["destination"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["gate-a"]["reachable"] is True
    assert rows["gate-b"]["reachable"] is False and rows["gate-b"]["travel_time_min"] is None


def test_import_osm(tmp_path) -> None:
    pyrosm = pytest.importorskip("pyrosm")
    out = tmp_path / "roads.gpkg"
    result = run("import-osm", pyrosm.get_data("test_pbf"), "-o", str(out), "-q")
    assert result.returncode == 0, result.stderr
    assert out.exists() and "roads)" in result.stdout
    assert run("validate", str(out), "--layer", "roads").returncode == 0


def test_route_with_a_bad_roads_file(tmp_path) -> None:
    bad = tmp_path / "roads.geojson"
    bad.write_text('{"type":"FeatureCollection","features":[{"type":"Feature",'
                   '"properties":{"id":"r1","class":"national","maxspeed_kph":-5},'
                   '"geometry":{"type":"LineString","coordinates":[[106.7,21.9],[106.8,22.0]]}}]}',
                   encoding="utf-8")
    result = run("route", "lang-son", "huu-nghi", "--roads", str(bad))
    assert result.returncode == 1
    assert "roads.geojson: row 'r1', field 'maxspeed_kph': -5 must be greater than 0" in \
        result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_route_with_no_path(tmp_path, small_layers) -> None:
    small_layers["roads"]["features"][1]["geometry"]["coordinates"] = [
        [106.60, 22.10], [106.68389, 22.00306]]
    folder = write_dataset(tmp_path / "cut", small_layers)
    result = run("route", "hub-x", "gate-b", "--data", str(folder))
    assert result.returncode == 1
    assert result.stderr.strip() == ("bordergeo: error: no route from 'hub-x' to 'gate-b': "
                                     "the road network does not connect them")
