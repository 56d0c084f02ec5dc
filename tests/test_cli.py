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
