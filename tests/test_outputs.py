"""Outputs: one atomic writer, reproducible bytes, formula neutralisation, clear errors."""

from __future__ import annotations

import csv
import errno
import importlib.util
import io
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
import tomllib
import types
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
from conftest import write_dataset
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

import bordergeo.io as bio
from bordergeo import load_dataset
from bordergeo.cli import main
from bordergeo.errors import DataFileError
from bordergeo.io import (
    TEMP_PREFIX,
    atomic_output,
    atomic_write,
    atomic_write_text,
    csv_text,
    neutralise_formulas,
    remove_stale_temporaries,
    reproducible_timestamp,
    write_layer,
    write_layers,
    write_table,
)

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3",
           "@SUM(A1:A2)", "\tTAB", "\rCR", "=1"]


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def _points(n: int = 2, **columns) -> gpd.GeoDataFrame:
    data = {"id": [f"p{i}" for i in range(n)], **columns}
    return gpd.GeoDataFrame(data, geometry=[Point(106.7 + i / 100, 21.9) for i in range(n)],
                            crs=4326)


# ---------------------------------------------------------------- formula neutralisation


def test_owasp_rule_on_text_cells_only():
    frame = pd.DataFrame({"name": HOSTILE + ["-5", "+3.25", "-1e3", "plain", None],
                          "number": list(range(-6, 6))})
    frame["=col"] = 1
    out = neutralise_formulas(frame)
    assert out["name"].tolist()[:len(HOSTILE)] == ["'" + h for h in HOSTILE]
    # a text that is just a number cannot be a formula: left alone; so are other texts
    assert out["name"].tolist()[len(HOSTILE):-1] == ["-5", "+3.25", "-1e3", "plain"]
    assert pd.isna(out["name"].iloc[-1])
    assert out["number"].tolist() == list(range(-6, 6))  # negative numbers stay numbers
    assert out["number"].dtype == frame["number"].dtype
    assert list(out.columns) == ["name", "number", "'=col"]
    assert frame["name"].iloc[0] == HOSTILE[0]  # the input is not modified


def test_csv_text_neutralises_and_keeps_to_csv_options():
    frame = pd.DataFrame({"gate": ["=1+1", "Hữu Nghị"], "wait_h": [-1.23456, 2.0]})
    text = csv_text(frame, float_format="%.3f", lineterminator="\r\n")
    assert text == "gate,wait_h\r\n'=1+1,-1.235\r\nHữu Nghị,2.000\r\n"
    assert csv_text(frame).endswith("2.0\n")  # "\n" by default
    labelled = frame.set_index("gate")
    assert csv_text(labelled, index=True).splitlines()[1].startswith("'=1+1,")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12))
def test_no_csv_cell_starts_a_formula(value):
    text = csv_text(pd.DataFrame({"v": [value]}))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    cell = rows[1][0] if len(rows) > 1 and rows[1] else ""
    assert len(rows) <= 2  # a line break in a cell never starts a new row
    expected = value.replace("\r\n", "\n").replace("\r", "\n")
    assert cell in (expected, "'" + expected)
    if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
        assert bio._PLAIN_NUMBER.fullmatch(cell)  # "-5": a number, never a formula


def test_csv_file_and_workbook_hold_text_not_formulas(tmp_path):
    frame = pd.DataFrame({"name": HOSTILE + ["#N/A", "-5"], "value": range(-4, 5)})
    write_table(frame, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    # a line break is written as "\n" in both (XML readers turn a CR into one anyway)
    expected = ["'" + h.replace("\r", "\n") for h in HOSTILE] + ["#N/A", "-5"]
    assert [row[0] for row in rows[1:]] == expected
    assert [row[1] for row in rows[1:]] == [str(v) for v in range(-4, 5)]
    write_table({"s": frame}, tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx")["s"]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type in ("f", "e")]
    names = [sheet.cell(row=r, column=1) for r in range(2, len(frame) + 2)]
    assert [c.value for c in names] == expected
    assert {c.data_type for c in names} == {"s"}
    values = [sheet.cell(row=r, column=2).value for r in range(2, len(frame) + 2)]
    assert values == list(range(-4, 5))  # numbers, negative ones too
    with zipfile.ZipFile(tmp_path / "t.xlsx") as book:
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")


def test_hostile_gate_name_through_the_command_line(tmp_path, small_layers, capsys):
    small_layers["gates"]["features"][0]["properties"]["name_vi"] = "=WEBSERVICE(\"x\")"
    data = write_dataset(tmp_path / "data", small_layers)
    book = tmp_path / "gates.xlsx"
    assert main(["gates", "--data", str(data), "-o", str(book)]) == 0
    sheet = openpyxl.load_workbook(book).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert "'=WEBSERVICE(\"x\")" in [c.value for c in cells]
    assert not [c for c in cells if c.data_type == "f"]


# ---------------------------------------------------------------- reproducible bytes

_WRITE_ALL = textwrap.dedent("""
    import sys, warnings
    from pathlib import Path
    import pandas as pd
    from bordergeo import load_dataset
    from bordergeo.io import write_layer, write_layers, write_table
    from bordergeo.maps import build_map, save_map
    from bordergeo.static import plot_map, save_figure
    warnings.simplefilter("ignore")
    out = Path(sys.argv[1])
    ds = load_dataset()
    write_layers(ds.layers(), out / "all.gpkg")
    for suffix in (".geojson", ".fgb", ".parquet", ".shp", ".gpkg"):
        write_layer(ds.hubs, out / f"hubs{suffix}", layer="hubs")
    write_layers({"hubs": ds.hubs, "markers": ds.markers}, out / "folder", suffix=".parquet")
    gates = pd.DataFrame(ds.gates.drop(columns="geometry"))
    write_table(gates, out / "gates.csv")
    write_table({"gates": gates, "hubs": pd.DataFrame(ds.hubs.drop(columns="geometry"))},
                out / "book.xlsx")
    figure = plot_map(ds)
    for suffix in (".png", ".svg", ".pdf"):
        save_figure(figure, out / f"map{suffix}")
    save_map(build_map(ds), out / "map.html")
""")


def test_two_runs_write_the_same_bytes(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    started = time.time()
    subprocess.run([sys.executable, "-c", _WRITE_ALL, str(tmp_path / "a")], check=True,
                   env=env, cwd=tmp_path)
    time.sleep(max(0.0, 2.2 - (time.time() - started)))  # another second, another ZIP date
    subprocess.run([sys.executable, "-c", _WRITE_ALL, str(tmp_path / "b")], check=True,
                   env=env, cwd=tmp_path)
    first = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                   if p.is_file())
    second = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*")
                    if p.is_file())
    assert first == second
    suffixes = {p.suffix for p in first}
    assert {".gpkg", ".xlsx", ".svg", ".pdf", ".png", ".csv", ".geojson", ".parquet", ".fgb",
            ".shp", ".dbf", ".html"} <= suffixes
    differ = [str(p) for p in first
              if (tmp_path / "a" / p).read_bytes() != (tmp_path / "b" / p).read_bytes()]
    assert differ == []
    assert not _temporaries(tmp_path)


def test_source_date_epoch_is_the_written_date(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    assert reproducible_timestamp().isoformat() == "2023-11-14T22:13:20+00:00"
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.xlsx")
    with zipfile.ZipFile(tmp_path / "t.xlsx") as book:
        assert {i.date_time for i in book.infolist()} == {(2023, 11, 14, 22, 13, 20)}
        core = book.read("docProps/core.xml").decode()
    assert core.count("2023-11-14T22:13:20Z") == 2
    hubs = load_dataset().hubs
    write_layer(hubs, tmp_path / "h.gpkg", layer="hubs")
    with sqlite3.connect(tmp_path / "h.gpkg") as db:
        assert db.execute("SELECT last_change FROM gpkg_contents").fetchall() == [
            ("2023-11-14T22:13:20.000Z",)]
    write_layer(hubs, tmp_path / "h.shp")
    assert tuple((tmp_path / "h.dbf").read_bytes()[1:4]) == (123, 11, 14)
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") is None  # restored


def test_default_date_without_source_date_epoch(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert reproducible_timestamp().isoformat() == "2000-01-01T00:00:00+00:00"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert reproducible_timestamp().year == 2000
    assert "SOURCE_DATE_EPOCH" in caplog.text
    write_layer(load_dataset().hubs, tmp_path / "h.shp")
    assert tuple((tmp_path / "h.dbf").read_bytes()[1:4]) == (100, 1, 1)


# ---------------------------------------------------------------- temporaries and signals


def test_every_temporary_has_the_one_name_and_goes_away(tmp_path):
    target = tmp_path / "out" / "x.txt"
    with atomic_output(target) as staged:
        staged.write_text("x")
        inside = [p.name for p in target.parent.iterdir()]
        assert len(inside) == 1 and inside[0].startswith(TEMP_PREFIX)
        assert staged.parent.name.startswith(TEMP_PREFIX)
    assert [p.name for p in target.parent.iterdir()] == ["x.txt"]
    with atomic_write(tmp_path / "y.bin", mode="wb") as handle:
        handle.write(b"\x00")
        assert len(_temporaries(tmp_path)) == 1
    assert not _temporaries(tmp_path)


def test_an_exception_leaves_nothing_behind(tmp_path):
    (tmp_path / "old.txt").write_text("previous")
    with pytest.raises(ValueError, match="boom"), atomic_write(tmp_path / "old.txt") as handle:
        handle.write("half")
        raise ValueError("boom")
    assert (tmp_path / "old.txt").read_text() == "previous"
    with pytest.raises(ValueError), atomic_write(tmp_path / "new" / "deeper" / "x.txt"):
        raise ValueError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.txt"]  # folders made: gone


def test_remove_stale_temporaries(tmp_path):
    old = time.time() - 7200
    stale_file = tmp_path / f"{TEMP_PREFIX}abc"
    stale_file.write_text("x")
    stale_dir = tmp_path / f"{TEMP_PREFIX}def"
    (stale_dir / "sub").mkdir(parents=True)
    (stale_dir / "sub" / "big.gpkg").write_bytes(b"\x00" * 1000)
    busy_dir = tmp_path / f"{TEMP_PREFIX}busy"  # an old folder still being written into
    busy_dir.mkdir()
    (busy_dir / "x.gpkg").write_text("growing")
    fresh = tmp_path / f"{TEMP_PREFIX}new"
    fresh.write_text("x")
    foreign = tmp_path / ".hidden-of-someone-else"
    foreign.write_text("x")
    for path in (stale_file, stale_dir / "sub" / "big.gpkg", stale_dir / "sub", stale_dir,
                 busy_dir, foreign):
        os.utime(path, (old, old))
    assert remove_stale_temporaries(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [busy_dir.name, fresh.name, foreign.name])
    assert remove_stale_temporaries(tmp_path, older_than_s=0) == 2
    assert [p.name for p in tmp_path.iterdir()] == [foreign.name]
    assert remove_stale_temporaries(tmp_path / "missing") == 0


def test_sigint_in_process_removes_the_temporary_and_restores_the_handler(tmp_path):
    before = signal.getsignal(signal.SIGINT)
    (tmp_path / "out.txt").write_text("previous")
    with pytest.raises(KeyboardInterrupt), atomic_write(tmp_path / "out.txt") as handle:
        assert signal.getsignal(signal.SIGINT) is not before  # ours, while writing
        handle.write("half")
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(2)
    assert signal.getsignal(signal.SIGINT) is before
    assert not _temporaries(tmp_path)
    assert (tmp_path / "out.txt").read_text() == "previous"


class _StopError(Exception):
    pass


def test_sigterm_goes_to_the_applications_own_handler(tmp_path):
    def handler(signum, frame):
        raise _StopError(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with pytest.raises(_StopError), atomic_write(tmp_path / "out.txt") as handle:
            with atomic_write(tmp_path / "inner.txt") as inner:  # nested writes
                inner.write("inner")
            assert signal.getsignal(signal.SIGTERM) is not handler  # still ours
            handle.write("half")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(2)
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inner.txt"]


def test_no_handlers_from_other_threads(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    seen = []

    def write():
        with atomic_write(tmp_path / "t.txt") as handle:
            seen.append(signal.getsignal(signal.SIGTERM))
            handle.write("x")

    worker = threading.Thread(target=write)
    worker.start()
    worker.join()
    assert seen == [before] and (tmp_path / "t.txt").read_text() == "x"


_KILLED_WHILE_WRITING = textwrap.dedent("""
    import sys, time
    from bordergeo.io import atomic_write
    with atomic_write(sys.argv[1]) as handle:
        handle.write("half")
        print("writing", flush=True)
        time.sleep(30)
    print("finished", flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_killed_process_leaves_no_temporary(tmp_path, signum):
    target = tmp_path / "out.txt"
    target.write_text("previous")
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WHILE_WRITING, str(target)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        assert len(_temporaries(tmp_path)) == 1
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == -signum  # ended by the signal, as without bordergeo
    assert "finished" not in out
    assert not _temporaries(tmp_path)
    assert target.read_text() == "previous"


# ---------------------------------------------------------------- output path errors


def _writers(target: Path):
    frame = pd.DataFrame({"a": [1]})
    hubs = _points()
    return {
        "text": lambda: atomic_write_text(target.with_suffix(".txt"), "new"),
        "csv": lambda: write_table(frame, target.with_suffix(".csv")),
        "xlsx": lambda: write_table({"s": frame}, target.with_suffix(".xlsx")),
        "gpkg": lambda: write_layer(hubs, target.with_suffix(".gpkg")),
        "shp": lambda: write_layer(hubs, target.with_suffix(".shp")),
        "parquet": lambda: write_layer(hubs, target.with_suffix(".parquet")),
        "layers": lambda: write_layers({"h": hubs}, target.with_suffix(".gpkg")),
        "figure": lambda: _save_figure(target.with_suffix(".png")),
    }


def _save_figure(path: Path) -> Path:
    from matplotlib.figure import Figure

    from bordergeo.static import save_figure

    return save_figure(Figure(figsize=(1, 1)), path)


@pytest.mark.parametrize("kind", list(_writers(Path("x"))))
def test_target_is_a_folder(tmp_path, kind):
    target = tmp_path / "out"
    suffix = {"text": ".txt", "csv": ".csv", "xlsx": ".xlsx", "gpkg": ".gpkg", "shp": ".shp",
              "parquet": ".parquet", "layers": ".gpkg", "figure": ".png"}[kind]
    (tmp_path / f"out{suffix}").mkdir()
    with pytest.raises(DataFileError, match=r"is a folder"):
        _writers(target)[kind]()
    assert not _temporaries(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [f"out{suffix}"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("kind", ["text", "csv", "gpkg"])
def test_target_is_a_pipe_or_device(tmp_path, kind):
    # renaming the finished file onto a device replaced /dev/null itself once: refuse
    suffix = {"text": ".txt", "csv": ".csv", "gpkg": ".gpkg"}[kind]
    pipe = tmp_path / f"out{suffix}"
    os.mkfifo(pipe)
    with pytest.raises(DataFileError, match=r"is a device or a pipe, not a file"):
        _writers(tmp_path / "out")[kind]()
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert not _temporaries(tmp_path)


def test_cli_output_to_a_device_leaves_it_alone(capsys):
    before = os.stat(os.devnull)
    assert main(["gates", "-o", os.devnull]) == 1
    assert "is a device or a pipe" in capsys.readouterr().err
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode) == stat.S_ISCHR(before.st_mode)


@pytest.mark.parametrize("kind", list(_writers(Path("x"))))
def test_parent_is_a_file(tmp_path, kind):
    (tmp_path / "file").write_text("I am a file")
    with pytest.raises(DataFileError, match=r"file is a file, not a folder"):
        _writers(tmp_path / "file" / "sub" / "out")[kind]()
    assert (tmp_path / "file").read_text() == "I am a file"
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def _mkdtemp_failing(code: int):
    def mkdtemp(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    return mkdtemp


@pytest.mark.parametrize(("code", "words"), [(errno.EROFS, "read-only file system"),
                                             (errno.EACCES, "permission denied"),
                                             (errno.ENOSPC, "no space left")])
@pytest.mark.parametrize("kind", ["text", "xlsx", "gpkg", "figure"])
def test_folder_refuses_the_temporary(tmp_path, monkeypatch, code, words, kind):
    writers = _writers(tmp_path / "out")
    monkeypatch.setattr(bio.tempfile, "mkdtemp", _mkdtemp_failing(code))
    with pytest.raises(DataFileError, match=words):
        writers[kind]()
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_really_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "t.csv").write_text("previous")
    folder.chmod(0o555)
    try:
        with pytest.raises(DataFileError, match="permission denied"):
            write_table(pd.DataFrame({"a": [1]}), folder / "t.csv")
    finally:
        folder.chmod(0o755)
    assert (folder / "t.csv").read_text() == "previous"


def test_disk_full_while_writing(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("previous")
    with pytest.raises(DataFileError, match=r"out\.txt: cannot write the file \(no space"), \
            atomic_write(target) as handle:
        handle.write("half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "previous" and not _temporaries(tmp_path)

    layer = tmp_path / "out.gpkg"
    write_layer(_points(), layer)
    before = layer.read_bytes()

    def to_file(self, path, **kwargs):
        Path(path).write_bytes(b"SQLite format 3\x00 half")
        raise pyogrio.errors.DataSourceError("failed to write: No space left on device")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", to_file)
    with pytest.raises(DataFileError, match=r"out\.gpkg: cannot write the file \(no space"):
        write_layer(_points(3), layer)
    assert layer.read_bytes() == before and not _temporaries(tmp_path)


def test_permission_denied_when_replacing(tmp_path, monkeypatch):
    target = tmp_path / "t.csv"
    target.write_text("previous")

    def replace(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(bio.os, "replace", replace)
    with pytest.raises(DataFileError, match=r"t\.csv: cannot write the file \(permission"):
        write_table(pd.DataFrame({"a": [1]}), target)
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_command_line_reports_a_folder_target_in_one_line(tmp_path, capsys):
    assert main(["gates", "--format", "csv", "-o", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bordergeo: error: ") and "is a folder" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_bad_figure_suffix_is_a_data_file_error(tmp_path):
    with pytest.raises(DataFileError, match=r"\.png, \.svg or \.pdf"):
        _save_figure(tmp_path / "map.gif")
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- Shapefile limits


def test_shapefile_refuses_long_text_before_writing(tmp_path):
    gdf = _points(3, note=["short", "ệ" * 90, "x" * 300])  # 270 bytes in 90 characters
    with pytest.raises(DataFileError, match=r"row 'p1', field 'note': the text is 270 bytes "
                                            r"long.*254.*\(2 such row\(s\)\).*GeoPackage"):
        write_layer(gdf, tmp_path / "notes.shp")
    assert not list(tmp_path.iterdir())
    write_layer(_points(1, note=["ệ" * 84 + "xx"]), tmp_path / "ok.shp")  # exactly 254 bytes
    assert gpd.read_file(tmp_path / "ok.shp")["note"][0] == "ệ" * 84 + "xx"


def test_shapefile_refuses_field_names_that_collide_when_cut(tmp_path):
    gdf = _points(1, counterpart_en=["Youyiguan"], counterpart_zh=["友谊关"])
    with pytest.raises(DataFileError, match=r"'counterpart_en', 'counterpart_zh' would share "
                                            r"one name.*10 characters.*GeoPackage"):
        write_layer(gdf, tmp_path / "gates.shp")
    assert not list(tmp_path.iterdir())
    write_layer(_points(1, maxspeed_kph=[60]), tmp_path / "roads.shp")  # cut, but no clash
    assert "maxspeed_k" in gpd.read_file(tmp_path / "roads.shp").columns


def test_shapefile_folder_refused_before_any_file(tmp_path):
    layers = {"hubs": _points(1), "roads": _points(1, source=["s" * 400])}
    with pytest.raises(DataFileError, match=r"roads\.shp: row 'p0', field 'source'"):
        write_layers(layers, tmp_path / "out", suffix=".shp")
    assert not list(tmp_path.iterdir())


def test_shapefile_replaces_all_its_parts(tmp_path):
    write_layer(_points(2), tmp_path / "p.shp")
    stale = tmp_path / "p.qix"
    stale.write_bytes(b"old index")
    no_crs = _points(1).set_crs(None, allow_override=True)
    write_layer(no_crs, tmp_path / "p.shp")
    assert not stale.exists() and not (tmp_path / "p.prj").exists()
    assert len(gpd.read_file(tmp_path / "p.shp")) == 1


# ---------------------------------------------------------------- folders and Parquet


def test_failed_folder_export_leaves_no_folder(tmp_path, monkeypatch):
    def to_parquet(self, path, **kwargs):
        Path(path).write_bytes(b"PAR1")
        raise ImportError("pyarrow is missing")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_parquet", to_parquet)
    with pytest.raises(DataFileError, match=r"gates\.parquet: cannot write the layer "
                                            r"\(pyarrow is missing\)"):
        write_layers({"gates": _points()}, tmp_path / "a" / "b" / "pq", suffix=".parquet")
    assert not list(tmp_path.iterdir())
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "gates.parquet").write_bytes(b"previous")
    with pytest.raises(DataFileError):
        write_layers({"gates": _points()}, existing, suffix=".parquet")
    assert [p.name for p in existing.iterdir()] == ["gates.parquet"]
    assert (existing / "gates.parquet").read_bytes() == b"previous"


def test_folder_export_into_an_existing_folder(tmp_path):
    folder = tmp_path / "layers"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    written = write_layers({"a": _points(), "b": _points(3)}, folder, suffix=".fgb")
    assert written == [folder / "a.fgb", folder / "b.fgb"]
    assert sorted(p.name for p in folder.iterdir()) == ["a.fgb", "b.fgb", "keep.txt"]
    assert len(gpd.read_file(folder / "b.fgb")) == 3


def test_pyarrow_is_a_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(dep.replace(" ", "").startswith("pyarrow>=") for dep in project["dependencies"])
    assert project["optional-dependencies"]["parquet"] == []  # kept as an alias


# ---------------------------------------------------------------- build hook


def _hook_module(monkeypatch):
    """Load hatch_build.py with a stand-in for hatchling (only needed inside a build)."""
    interface = types.ModuleType("hatchling.builders.hooks.plugin.interface")

    class BuildHookInterface:
        def __init__(self, root, target_name, app):
            self.root, self.target_name, self.app = root, target_name, app

    interface.BuildHookInterface = BuildHookInterface
    for name in ("hatchling", "hatchling.builders", "hatchling.builders.hooks",
                 "hatchling.builders.hooks.plugin"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, interface.__name__, interface)
    spec = importlib.util.spec_from_file_location("_test_hatch_build", ROOT / "hatch_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _App:
    def __init__(self):
        self.warnings, self.infos = [], []

    def display_warning(self, text):
        self.warnings.append(text)

    def display_info(self, text):
        self.infos.append(text)


def _fake_root(tmp_path: Path) -> Path:
    package = tmp_path / "src" / "bordergeo"
    package.mkdir(parents=True)
    (package / "_vendoring.py").write_text(
        "def build_vendor(assets, vendor):\n"
        "    raise RuntimeError('npm ci failed: cannot reach registry.npmjs.org')\n",
        encoding="utf-8")
    return tmp_path


def test_build_fails_loudly_without_assets(tmp_path, monkeypatch):
    monkeypatch.delenv("BORDERGEO_ALLOW_NO_ASSETS", raising=False)
    hook_module = _hook_module(monkeypatch)
    app = _App()
    hook = hook_module.CustomBuildHook(str(_fake_root(tmp_path)), "wheel", app)
    with pytest.raises(RuntimeError, match=r"could not be built \(npm ci failed: cannot reach "
                                           r"registry.npmjs.org\).*BORDERGEO_ALLOW_NO_ASSETS=1"):
        hook.initialize("0.1.0", {})
    assert not app.infos and not app.warnings
    hook_module.CustomBuildHook(str(tmp_path), "sdist", app).initialize("0.1.0", {})  # no-op


def test_build_without_assets_on_purpose(tmp_path, monkeypatch):
    monkeypatch.setenv("BORDERGEO_ALLOW_NO_ASSETS", "1")
    hook_module = _hook_module(monkeypatch)
    app = _App()
    hook_module.CustomBuildHook(str(_fake_root(tmp_path)), "wheel", app).initialize("0.1.0", {})
    assert len(app.warnings) == 1 and "npm ci failed" in app.warnings[0]
    assert "map --offline" in app.warnings[0]


def test_build_with_prepared_assets_needs_no_npm(tmp_path, monkeypatch):
    monkeypatch.delenv("BORDERGEO_ALLOW_NO_ASSETS", raising=False)
    hook_module = _hook_module(monkeypatch)
    root = _fake_root(tmp_path)
    vendor = root / "src" / "bordergeo" / "_vendor"
    vendor.mkdir()
    (vendor / "MANIFEST.json").write_text("{}", encoding="utf-8")
    app = _App()
    assert hook_module.ensure_assets(root, info=app.display_info, warn=app.display_warning)
    assert not app.warnings
