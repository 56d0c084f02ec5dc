"""Planning-tool outputs: CSV and Excel tables, GeoPackage and GeoParquet layers."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from bordergeo import load_dataset
from bordergeo.cli import main
from bordergeo.errors import DataFileError
from bordergeo.io import write_layers, write_table


def test_dataset_round_trips_through_one_geopackage(tmp_path, capsys):
    out = tmp_path / "langson.gpkg"
    assert main(["export", str(out)]) == 0
    names = [name for name, _ in pyogrio.list_layers(out)]
    assert names == ["gates", "markers", "hubs", "roads", "border"]
    again = load_dataset(out)
    original = load_dataset()
    assert again.gates["id"].tolist() == original.gates["id"].tolist()
    assert again.roads.to_crs(32648).length.sum() == pytest.approx(
        original.roads.to_crs(32648).length.sum())


def test_dataset_as_geoparquet_folder(tmp_path, capsys):
    assert main(["export", str(tmp_path / "pq"), "--format", "parquet"]) == 0
    gates = gpd.read_parquet(tmp_path / "pq" / "gates.parquet")
    assert len(gates) == len(load_dataset().gates) and gates.crs.to_epsg() == 4326
    assert load_dataset(tmp_path / "pq").hubs["id"].tolist() == load_dataset().hubs["id"].tolist()


def test_matrix_and_assignment_to_excel(tmp_path, capsys):
    matrix = tmp_path / "matrix.xlsx"
    assert main(["matrix", "-o", str(matrix)]) == 0
    table = pd.read_excel(matrix)
    assert {"origin", "destination", "travel_time_min", "length_km", "reachable"} <= set(
        table.columns)
    gates = load_dataset().gates
    usable = gates[(gates["mode"] == "road") & (gates["status"] != "closed")]
    assert len(table) == len(load_dataset().hubs) * len(usable)
    assigned = tmp_path / "assign.xlsx"
    assert main(["assign", "-o", str(assigned)]) == 0
    sheets = pd.read_excel(assigned, sheet_name=None)
    assert list(sheets) == ["gates", "origins", "origin_gates", "costs", "convergence"]
    assert sheets["gates"]["trucks_per_day"].sum() == pytest.approx(1300)


def test_scenario_comparison_to_excel_and_csv(tmp_path, capsys):
    book = tmp_path / "compare.xlsx"
    assert main(["congestion", "--scenario", "smart_gate_phase1", "--observed", "sample",
                 "-o", str(book)]) == 0
    sheets = pd.read_excel(book, sheet_name=None)
    assert list(sheets) == ["scenarios", "replay"]
    assert set(sheets["scenarios"]["scenario"]) == {"baseline",
                                                    "smart gate phase 1 (6 lanes at 1119–1120)"}
    text = tmp_path / "compare.csv"
    assert main(["congestion", "--scenario", "smart_gate_phase1", "--format", "csv",
                 "-o", str(text)]) == 0
    table = pd.read_csv(text)
    lane = table[table["gate_id"] == "huu-nghi-1119"].set_index("scenario")
    # 4 → 6 lanes at 1119–1120: half as much again
    assert lane["capacity_trucks_day"].iloc[1] == pytest.approx(
        1.5 * lane["capacity_trucks_day"].iloc[0], rel=1e-3)


def test_bad_export_targets(tmp_path):
    frames = {"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"y": [2]})}
    with pytest.raises(DataFileError, match="need an .xlsx workbook"):
        write_table(frames, tmp_path / "two.csv")
    with pytest.raises(DataFileError, match=".csv or .xlsx"):
        write_table(frames["a"], tmp_path / "t.ods")
    with pytest.raises(DataFileError, match="a .gpkg file or to a folder"):
        write_layers(load_dataset().layers(), tmp_path / "x.txt")
    assert not list(tmp_path.iterdir())


def test_export_twice_gives_the_same_geopackage(tmp_path, capsys):
    first, second = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    assert main(["export", str(first)]) == 0
    assert main(["export", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_shapefile_export_refuses_what_it_would_cut(tmp_path, capsys):
    # the bundled roads carry source notes longer than a dBASE field holds
    assert main(["export", str(tmp_path / "shp"), "--format", "shp"]) == 1
    err = capsys.readouterr().err
    assert "Shapefile" in err and "GeoPackage" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_formula_in_an_exported_table_is_text(tmp_path):
    frame = pd.DataFrame({"scenario": ["=cmd|'/C calc'!A0", "baseline"], "wait_h": [-1.5, 2.0]})
    write_table(frame, tmp_path / "s.csv")
    assert (tmp_path / "s.csv").read_text(encoding="utf-8").splitlines() == [
        "scenario,wait_h", "'=cmd|'/C calc'!A0,-1.5", "baseline,2.0"]
    write_table({"scenarios": frame}, tmp_path / "s.xlsx")
    back = pd.read_excel(tmp_path / "s.xlsx")
    assert back["scenario"].tolist() == ["'=cmd|'/C calc'!A0", "baseline"]
    assert back["wait_h"].tolist() == [-1.5, 2.0]
