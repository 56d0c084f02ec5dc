"""The bundled daily reports of the Lạng Sơn crossings: one cited figure per row.

Reads only the bundled file (no network, no ../shared): every row must parse, carry a
known gate, measure and direction, a non-negative value and an http(s) source, and the
itemised splits must add up the way the sources say.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest

from bordergeo import sample_path
from bordergeo.datasets import bundled_data_dir

NAME = "border_daily_reports.csv"
COLUMNS = ["date", "gate_id", "direction", "measure", "value", "at_hour", "source_title",
           "source_url", "source_date", "note"]
GATES = {"huu-nghi", "huu-nghi-1119", "dong-dang-rail", "chi-ma", "tan-thanh",
         "tan-thanh-1088", "tan-thanh-1090", "huu-nghi-1116", "co-sau", "coc-nam", "na-hinh",
         "na-nua", "binh-nghi", "po-nhung"}
MEASURES = {"vehicles_cleared", "vehicles_arrived", "trucks_waiting"}
DIRECTIONS = {"export", "import", "both"}


def _read() -> tuple[list[str], list[dict[str, str]]]:
    text = sample_path(NAME).read_text(encoding="utf-8")
    body = "".join(line for line in text.splitlines(keepends=True)
                   if not line.startswith("#"))
    reader = csv.DictReader(io.StringIO(body))
    return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return _read()[1]


def _value(rows, date, gate, direction, measure, at_hour=None) -> float:
    found = [r for r in rows if (r["date"], r["gate_id"], r["direction"], r["measure"])
             == (date, gate, direction, measure)
             and (at_hour is None or r["at_hour"] == at_hour)]
    assert len(found) == 1, (date, gate, direction, measure, found)
    return float(found[0]["value"])


def test_file_parses_with_the_documented_columns(rows):
    columns, _ = _read()
    assert columns == COLUMNS
    assert len(rows) >= 25
    assert all(None not in r and len(r) == len(COLUMNS) for r in rows), "ragged row"


def test_every_row_is_valid_and_cited(rows):
    for n, r in enumerate(rows, start=1):
        where = f"row {n}: {r}"
        assert dt.date.fromisoformat(r["date"]).isoformat() == r["date"], where
        day = dt.date.fromisoformat(r["date"])
        assert dt.date(2021, 1, 1) <= day <= dt.date(2026, 12, 31), where
        assert r["gate_id"] in GATES | {"all"}, where
        assert r["direction"] in DIRECTIONS, where
        assert r["measure"] in MEASURES, where
        value = float(r["value"])
        assert value >= 0 and value == value, where
        if r["at_hour"]:
            assert re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", r["at_hour"]), where
            assert r["measure"] == "trucks_waiting", where
        assert r["source_title"].strip(), where
        assert re.match(r"https?://[^\s/]+\.[^\s/]+", r["source_url"]), where
        if r["source_date"]:
            assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", r["source_date"]), where
        assert r["note"].strip(), where


def test_no_figure_is_entered_twice(rows):
    keys = [(r["date"], r["gate_id"], r["direction"], r["measure"], r["at_hour"],
             r["source_url"]) for r in rows]
    assert len(keys) == len(set(keys))


def test_gate_ids_exist_in_the_bundled_gates_layer():
    layer = json.loads((bundled_data_dir() / "gates.geojson").read_text(encoding="utf-8"))
    ids = {f["properties"]["id"] for f in layer["features"]}
    assert ids >= GATES
    used = {r["gate_id"] for r in _read()[1]} - {"all"}
    assert used <= ids


def test_coverage_across_gates_measures_and_years(rows):
    gates = {r["gate_id"] for r in rows} - {"all"}
    assert len(gates) >= 3
    assert {r["measure"] for r in rows} == MEASURES
    assert len({r["date"][:4] for r in rows}) >= 4


def test_23_january_2024_split_sums_as_the_source_says(rows):
    d = "2024-01-23"
    total = _value(rows, d, "all", "both", "vehicles_cleared")
    assert total == 1238
    assert _value(rows, d, "all", "export", "vehicles_cleared") \
        + _value(rows, d, "all", "import", "vehicles_cleared") == total
    hn = _value(rows, d, "huu-nghi", "both", "vehicles_cleared")
    tt = _value(rows, d, "tan-thanh", "both", "vehicles_cleared")
    cm = _value(rows, d, "chi-ma", "both", "vehicles_cleared")
    assert (hn, tt, cm) == (657, 482, 82)
    assert _value(rows, d, "huu-nghi", "export", "vehicles_cleared") \
        + _value(rows, d, "huu-nghi", "import", "vehicles_cleared") == hn
    assert (_value(rows, d, "tan-thanh", "export", "vehicles_cleared"),
            _value(rows, d, "tan-thanh", "import", "vehicles_cleared")) == (314, 168)
    assert tt == 314 + 168
    parts = [r for r in rows if r["date"] == d and r["gate_id"] != "all"
             and r["direction"] == "both" and r["measure"] == "vehicles_cleared"]
    assert sum(float(r["value"]) for r in parts) <= total
    assert _value(rows, d, "all", "export", "trucks_waiting", "20:00") == 591


@pytest.mark.parametrize("date", ["2024-08-22", "2024-08-29"])
def test_august_2024_reports_add_up(rows, date):
    total = _value(rows, date, "all", "both", "vehicles_cleared")
    assert _value(rows, date, "all", "export", "vehicles_cleared") \
        + _value(rows, date, "all", "import", "vehicles_cleared") == total
    for gate in ("huu-nghi", "tan-thanh"):
        both = _value(rows, date, gate, "both", "vehicles_cleared")
        assert _value(rows, date, gate, "export", "vehicles_cleared") \
            + _value(rows, date, gate, "import", "vehicles_cleared") == both
    parts = [float(r["value"]) for r in rows if r["date"] == date and r["gate_id"] != "all"
             and r["direction"] == "both" and r["measure"] == "vehicles_cleared"]
    assert sum(parts) <= total
    if date == "2024-08-22":  # every open gate is itemised that day
        assert sum(parts) == total == 1243


def test_parts_never_exceed_the_province_total_of_the_same_day(rows):
    totals = {(r["date"], r["direction"], r["measure"], r["at_hour"], r["source_url"]):
              float(r["value"]) for r in rows if r["gate_id"] == "all"}
    sums: dict[tuple, float] = {}
    for r in rows:
        if r["gate_id"] == "all":
            continue
        key = (r["date"], r["direction"], r["measure"], r["at_hour"], r["source_url"])
        sums[key] = sums.get(key, 0.0) + float(r["value"])
    for key, value in sums.items():
        if key in totals:
            assert value <= totals[key], key


def test_readme_documents_the_file():
    readme = (sample_path(NAME).parent / "README.md").read_text(encoding="utf-8")
    assert NAME in readme
    for column in COLUMNS:
        assert f"`{column}`" in readme, column
