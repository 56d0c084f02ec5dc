"""Hostile and careless input through the command line.

Each case is one way a user can get a command wrong. Every one must end the same way: exit
status 1, exactly one line on stderr that says what is wrong (and the bound, where there is
one), no traceback, no output file or temporary left behind, and a previous output intact.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import write_dataset

from bordergeo.cli import main
from bordergeo.congestion import sample_path

BOMB = "\n".join(
    ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 9)}]" for k in range(1, 9)]) + "\n"
PREVIOUS = "previous output\n"


def _write(name: str, text: str | bytes) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return make


def _replay(**changes) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        data = json.loads(sample_path("december_2021_scenario.json").read_text("utf-8"))
        data.update(changes)
        (folder / "replay.json").write_text(json.dumps(data), encoding="utf-8")
    return make


def _fifo(name: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        os.mkfifo(folder / name)
    return make


def _folder(name: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / name).mkdir()
    return make


def _nothing(folder: Path) -> None:
    return None


def _dataset_with_fifo_gates(folder: Path) -> None:
    write_dataset(folder / "data")
    (folder / "data" / "gates.geojson").unlink()
    os.mkfifo(folder / "data" / "gates.geojson")


SCENARIO = ["congestion", "--scenario"]
DEMAND = ["congestion", "--demand", "demand.csv"]
QUEUE = ["queue", "--arrival-rate", "10", "--service-rate", "20"]
BACKLOG = ["backlog", "--capacity-per-day", "350"]

#: id → (set-up, argv, words the error line must contain)
CASES: dict[str, tuple[Callable[[Path], None], list[str], list[str]]] = {
    # 3. bombs: alias expansion, nesting, size, things that block
    "yaml-alias-bomb": (_write("bomb.yaml", BOMB), SCENARIO + ["bomb.yaml"],
                        ["more than 10 YAML aliases"]),
    "json-deep-nesting": (_write("deep.json", "[" * 5000 + "]" * 5000),
                          SCENARIO + ["deep.json"], ["nested deeper than"]),
    "scenario-too-large": (_write("big.yaml", "name: x\n" + "#" * (6 * 1024 * 1024)),
                           SCENARIO + ["big.yaml"], ["too large"]),
    "scenario-fifo": (_fifo("pipe.yaml"), SCENARIO + ["pipe.yaml"], ["not a regular file"]),
    "demand-fifo": (_fifo("demand.csv"), DEMAND, ["not a regular file"]),
    "validate-fifo-layer": (_dataset_with_fifo_gates, ["validate", "data"],
                            ["gates.geojson", "not a regular file"]),
    "osm-fifo": (_fifo("extract.osm.pbf"), ["import-osm", "extract.osm.pbf", "-o", "r.gpkg"],
                 ["not a regular file"]),
    "queue-servers-1e20": (_nothing, ["queue", "--servers", "1e20", "--arrival-rate", "1",
                                      "--service-rate", "1"], ["--servers", "1,000"]),
    "backlog-days-1e9": (_nothing, BACKLOG + ["--arrivals-per-day", "1", "--days",
                                              "1000000000"], ["--days", "3,660"]),
    "backlog-values-1e6-list": (_nothing, BACKLOG + ["--arrivals-per-day",
                                                     ",".join(["1"] * 100_000), "--days", "7"],
                                ["100,000 values given for 7 days"]),
    # 4. what used to end in a traceback
    "scenario-not-utf8": (_write("latin.yaml", "name: Hữu Nghị\n".encode("utf-16")),
                          SCENARIO + ["latin.yaml"], ["not UTF-8"]),
    "scenario-is-folder": (_folder("dir.yaml"), SCENARIO + ["dir.yaml"], ["is a folder"]),
    "scenario-lanes-mapping": (_write("m.yaml", "gates:\n  huu-nghi-1119:\n    lanes_export:"
                                                " {a: 1}\n"), SCENARIO + ["m.yaml"],
                               ["lanes_export", "must be a number"]),
    "scenario-lanes-2-63": (_write("l.yaml", "gates:\n  huu-nghi-1119: {lanes_import: "
                                             "9223372036854775808}\n"), SCENARIO + ["l.yaml"],
                            ["lanes_import", "1,000"]),
    "scenario-mixed-keys": (_write("k.yaml", "{1: 2, a: 3}\n"), SCENARIO + ["k.yaml"],
                            ["unknown key"]),
    "scenario-not-a-mapping": (_write("list.yaml", "- a\n- b\n"), SCENARIO + ["list.yaml"],
                               ["a scenario is a mapping"]),
    "scenario-multiplier-nan": (_write("n.yaml", "demand_multiplier: .nan\n"),
                                SCENARIO + ["n.yaml"], ["demand_multiplier", "finite"]),
    "scenario-multiplier-huge": (_write("h.yaml", "demand_multiplier: 1e9\n"),
                                 SCENARIO + ["h.yaml"], ["demand_multiplier", "100"]),
    "scenario-name-3mb": (_write("long.yaml", "name: " + "x" * 3_000_000 + "\n"),
                          SCENARIO + ["long.yaml"], ["3,000,000 characters"]),
    "scenario-unknown-gate-100k": (_write("g.yaml", "open: [" + "y" * 100_000 + "]\n"),
                                   SCENARIO + ["g.yaml"], ["unknown gate", "100,000 characters"]),
    "scenario-hours-number": (_write("hrs.yaml", "gates:\n  tan-thanh: {hours_cn: 8}\n"),
                              SCENARIO + ["hrs.yaml"], ["hours_cn", "short text"]),
    "replay-bad-date": (_replay(start="2021-13-45"),
                        ["congestion", "--observed", "sample", "--replay", "replay.json"],
                        ["2021-13-45", "not a date"]),
    "replay-number-date": (_replay(end=20220201),
                           ["congestion", "--observed", "sample", "--replay", "replay.json"],
                           ["not a date"]),
    "replay-reversed": (_replay(end="2021-11-01"),
                        ["congestion", "--observed", "sample", "--replay", "replay.json"],
                        ["ends", "before it starts"]),
    "replay-value-nan": (_replay(capacity_trucks_day=[{"from": "2021-12-01",
                                                       "to": "2022-03-01", "value": "nan"}]),
                         ["congestion", "--observed", "sample", "--replay", "replay.json"],
                         ["finite"]),
    "replay-not-json": (_write("replay.json", "{not json"),
                        ["congestion", "--observed", "sample", "--replay", "replay.json"],
                        ["cannot parse"]),
    "observed-bad-date": (_write("obs.csv", "date,gate_id,trucks_waiting\n2021-12-40,all,5\n"),
                          ["congestion", "--observed", "obs.csv"], ["2021-12-40"]),
    "observed-header-only": (_write("obs.csv", "date,gate_id,trucks_waiting\n"),
                             ["congestion", "--observed", "obs.csv"], ["no observations"]),
    "demand-header-only": (_write("demand.csv", "origin,trucks_per_day\n"), DEMAND,
                           ["no demand rows"]),
    "demand-thousands-comma": (_write("demand.csv", 'origin,trucks_per_day\nha-noi,"1,300"\n'),
                               DEMAND, ["'1,300'", "without separators"]),
    "demand-negative": (_write("demand.csv", "origin,trucks_per_day\nha-noi,-5\n"), DEMAND,
                        ["data row 1", "trucks_per_day"]),
    "demand-infinite": (_write("demand.csv", "origin,trucks_per_day\nha-noi,inf\n"), DEMAND,
                        ["trucks_per_day"]),
    "demand-1e12": (_write("demand.csv", "origin,trucks_per_day\nha-noi,1e12\n"),
                    ["assign", "--demand", "demand.csv"], ["1,000,000"]),
    "demand-bad-direction": (_write("demand.csv", "origin,trucks_per_day,direction\n"
                                                  "ha-noi,5,sideways\n"), DEMAND,
                             ["direction", "sideways"]),
    "demand-no-origin": (_write("demand.csv", "origin,trucks_per_day\n,5\n"), DEMAND,
                         ["origin", "empty"]),
    "demand-is-folder": (_folder("demand.csv"), DEMAND, ["is a folder"]),
    "backlog-days-negative": (_nothing, BACKLOG + ["--arrivals-per-day", "1", "--days", "-3"],
                              ["--days", "between 1 and"]),
    "congestion-days-zero": (_nothing, ["congestion", "--days", "0"], ["--days"]),
    "map-days-zero": (_nothing, ["map", "--scenario", "smart_gate_phase1", "--days", "0",
                                 "-o", "out.html"], ["--days"]),
    "map-initial-nan": (_nothing, ["map", "--initial-backlog", "nan", "-o", "out.html"],
                        ["--initial-backlog", "finite"]),
    # 4. outputs that cannot be written
    "output-is-folder": (_folder("out.txt"), QUEUE + ["--servers", "2", "-o", "out.txt"],
                         ["out.txt"]),
    "output-parent-is-file": (_write("file", "x"), QUEUE + ["--servers", "2", "-o",
                                                            "file/out.txt"], ["file"]),
    "map-output-is-folder": (_folder("m.html"), ["map", "-o", "m.html"], ["m.html"]),
    "xlsx-output-is-folder": (_folder("g.xlsx"), ["gates", "-o", "g.xlsx"], ["g.xlsx"]),
    "export-shp-long-text": (_nothing, ["export", "shp-out", "--format", "shp"],
                             ["Shapefile", "GeoPackage"]),
    # 5. numbers that used to give a wrong answer with exit 0
    "queue-cv2-nan": (_nothing, QUEUE + ["--servers", "2", "--service-cv2", "nan"],
                      ["--service-cv2", "finite"]),
    "queue-rates-1e308": (_nothing, ["queue", "--servers", "2", "--arrival-rate", "1e308",
                                     "--service-rate", "1e308"], ["--arrival-rate", "100,000"]),
    "queue-service-zero": (_nothing, ["queue", "--servers", "2", "--arrival-rate", "1",
                                      "--service-rate", "0"], ["--service-rate", "greater"]),
    "queue-servers-fraction": (_nothing, QUEUE + ["--servers", "2.5"], ["whole number"]),
    "backlog-arrivals-nan": (_nothing, BACKLOG + ["--arrivals-per-day", "nan", "--days", "3"],
                             ["--arrivals-per-day", "finite"]),
    "backlog-arrivals-overflow": (_nothing, BACKLOG + ["--arrivals-per-day", "1e400",
                                                       "--days", "3"], ["finite"]),
    "backlog-initial-negative": (_nothing, BACKLOG + ["--arrivals-per-day", "1", "--days",
                                                      "3", "--initial", "-1"], ["--initial"]),
    "route-alternatives-zero": (_nothing, ["route", "ha-noi", "huu-nghi", "--alternatives",
                                           "0"], ["--alternatives", "between 1 and 20"]),
    "route-wait-negative": (_nothing, ["route", "ha-noi", "huu-nghi", "--border-wait-h",
                                       "-1"], ["--border-wait-h"]),
    "assign-gap-negative": (_nothing, ["assign", "--gap", "-1"], ["--gap", "greater than 0"]),
    "assign-gap-inf": (_nothing, ["assign", "--gap", "inf"], ["--gap", "finite"]),
    "assign-gap-zero": (_nothing, ["assign", "--gap", "0"], ["--gap"]),
}


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("case", list(CASES))
def test_one_line_exit_1_nothing_left(case, tmp_path, monkeypatch, capsys):
    setup, argv, words = CASES[case]
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)
    previous = tmp_path / "previous.txt"
    previous.write_text(PREVIOUS, encoding="utf-8")
    writes_file = "-o" in argv
    if not writes_file and argv[0] in ("queue", "backlog", "congestion", "assign", "route"):
        argv = [*argv, "-o", "previous.txt"]
    before = _listing(tmp_path)
    status = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert status == 1, err
    assert len(lines) == 1, err
    assert lines[0].startswith("bordergeo: error: ")
    assert "Traceback" not in err and len(lines[0]) < 500, lines[0][:600]
    for word in words:
        assert word in lines[0], lines[0]
    assert _listing(tmp_path) == before  # no output, no temporary
    assert previous.read_text(encoding="utf-8") == PREVIOUS


def test_backlog_cohorts_after_the_queue_empties_wait_zero_days(capsys):
    assert main(["backlog", "--arrivals-per-day", "100,0,0,0", "--capacity-per-day", "350",
                 "--days", "4", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["cohort_wait_days"] == [0, 0, 0, 0]


def test_numbers_at_their_bounds_are_accepted(capsys):
    assert main(["queue", "--servers", "1000", "--arrival-rate", "100000",
                 "--service-rate", "100000", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0 < result["utilisation"] < 1
    assert main(["backlog", "--arrivals-per-day", "400", "--capacity-per-day", "350",
                 "--days", "3660", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["backlog"]) == 3660


def test_stale_temporaries_of_killed_runs_are_removed_at_start(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    old_folder = tmp_path / ".bordergeo-tmp-killed"
    old_folder.mkdir()
    (old_folder / "out.txt").write_text("half", encoding="utf-8")
    legacy = tmp_path / ".bordergeo-ab12cd34"
    legacy.mkdir()
    fresh = tmp_path / ".bordergeo-tmp-running"
    fresh.mkdir()
    two_hours_ago = time.time() - 7200
    for path in (old_folder / "out.txt", old_folder, legacy):
        os.utime(path, (two_hours_ago, two_hours_ago))
    assert main(QUEUE + ["--servers", "2", "-o", "out.txt"]) == 0
    assert not old_folder.exists() and not legacy.exists()
    assert fresh.exists()  # another process may be writing there


def test_csv_and_workbook_outputs_hold_no_live_formula(tmp_path, monkeypatch, small_layers):
    from conftest import write_dataset
    from openpyxl import load_workbook

    monkeypatch.chdir(tmp_path)
    gate = small_layers["gates"]["features"][0]["properties"]
    gate["name_vi"] = "=HYPERLINK(\"http://x.invalid\",\"click\")"
    gate["name_en"] = "@SUM(A1:A2)"
    gate["status_note"] = "+1+cmd|' /C calc'!A0"
    data = write_dataset(tmp_path / "data", small_layers)
    assert main(["gates", "--data", str(data), "--format", "csv", "-o", "g.csv"]) == 0
    text = (tmp_path / "g.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'+1+cmd" in text
    assert main(["gates", "--data", str(data), "-o", "g.xlsx"]) == 0
    sheet = load_workbook(tmp_path / "g.xlsx")["gates"]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == "'=HYPERLINK(\"http://x.invalid\",\"click\")" for c in cells)


def test_dollar_signs_in_names_are_drawn_as_text_in_figures(tmp_path, monkeypatch,
                                                             small_layers):
    monkeypatch.chdir(tmp_path)
    small_layers["gates"]["features"][0]["properties"]["name_vi"] = r"$x^{$ gate"
    small_layers["hubs"]["features"][0]["properties"]["name_vi"] = r"$\frac{1}{2}$ hub"
    data = write_dataset(tmp_path / "data", small_layers)
    assert main(["map", "--data", str(data), "--routes", "-o", "m.html", "--png", "m.svg"]) == 0
    assert main(["route", "--data", str(data), "hub-x", "gate-a", "--chart", "c.svg"]) == 0
    assert (tmp_path / "m.svg").stat().st_size > 0 and (tmp_path / "c.svg").stat().st_size > 0


def test_validate_reports_every_problem_of_every_layer(tmp_path, small_layers, capsys):
    gates = small_layers["gates"]["features"]
    gates[0]["properties"]["lanes_export"] = -2
    gates[1]["properties"]["level"] = "imperial"
    small_layers["hubs"]["features"][0]["properties"]["kind"] = "castle"
    small_layers["roads"]["features"][0]["properties"]["oneway"] = ""  # QGIS: empty = default
    data = write_dataset(tmp_path / "data", small_layers)
    assert main(["validate", str(data)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "3 problems in 2 files" in err
    for word in ("lanes_export", "imperial", "castle"):
        assert word in err
    assert "oneway" not in err
