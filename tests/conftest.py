"""Shared fixtures: a small valid dataset written as real files, and helpers to break it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _point(fid: str, lon: float, lat: float, **props) -> dict:
    return {"type": "Feature", "properties": {"id": fid, **props},
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def _line(fid: str, coords: list[list[float]], **props) -> dict:
    return {"type": "Feature", "properties": {"id": fid, **props},
            "geometry": {"type": "LineString", "coordinates": coords}}


def _collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


SMALL = {
    "gates": _collection([
        _point("gate-a", 106.71083, 21.97111, name_vi="Cửa khẩu A", name_en="Gate A",
               level="international", mode="road", status="open", lanes_export=2,
               lanes_import=2, hours_vn="07:00-19:00", hours_cn="08:00-20:00"),
        _point("gate-b", 106.68389, 22.00306, name_vi="Cửa khẩu B", name_en="Gate B",
               level="secondary", mode="road", status="closed"),
    ]),
    "hubs": _collection([
        _point("hub-x", 106.761, 21.8526, name_vi="Thành phố X", kind="city"),
    ]),
    "roads": _collection([
        _line("r1", [[106.761, 21.8526], [106.70, 21.95], [106.71083, 21.97111]],
              ref="QL1A", **{"class": "national"}, maxspeed_kph=60, lanes=2),
        _line("r2", [[106.70, 21.95], [106.68389, 22.00306]], ref="QL4A",
              **{"class": "national"}),
    ]),
    "markers": _collection([
        _point("1116", 106.7120, 21.9730, kind="main", gate_id="gate-a"),
    ]),
}


def write_dataset(folder: Path, layers: dict | None = None) -> Path:
    """Write the layers (default: SMALL) as GeoJSON files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, collection in (layers or SMALL).items():
        (folder / f"{name}.geojson").write_text(json.dumps(collection, ensure_ascii=False),
                                                encoding="utf-8")
    return folder


@pytest.fixture()
def small_layers() -> dict:
    """A deep copy of the small valid dataset, to break in a test."""
    return copy.deepcopy(SMALL)


@pytest.fixture()
def small_dataset_dir(tmp_path: Path) -> Path:
    """A folder holding the small valid dataset as GeoJSON files."""
    return write_dataset(tmp_path / "data")


def replace_layer(folder: Path, name: str, gdf, suffix: str = ".gpkg") -> Path:
    """Replace the ``name`` layer of a dataset folder by ``gdf`` written as ``suffix``."""
    for old in folder.glob(f"{name}.*"):
        old.unlink()
    path = folder / f"{name}{suffix}"
    if suffix == ".parquet":
        gdf.to_parquet(path)
    else:
        gdf.to_file(path)
    return path


def two_gate_layers() -> dict:
    """One hub, one road to each of two gates of different capacity (a known equilibrium)."""
    return {
        "gates": _collection([
            _point("gate-a", 106.65, 21.95, name_vi="A", level="international", mode="road",
                   status="open", lanes_export=2, lanes_import=2, service_rate_trucks_h=10.0,
                   hours_vn="07:00-19:00", hours_cn="08:00-20:00"),
            _point("gate-b", 106.76, 21.96, name_vi="B", level="main", mode="road",
                   status="open", lanes_export=1, lanes_import=1, service_rate_trucks_h=10.0,
                   hours_vn="07:00-19:00", hours_cn="08:00-20:00"),
        ]),
        "hubs": _collection([_point("hub", 106.70, 21.90, name_vi="Hub", kind="city")]),
        "roads": _collection([
            _line("ra", [[106.70, 21.90], [106.65, 21.95]], ref="A", lanes=2,
                  **{"class": "national"}),
            _line("rb", [[106.70, 21.90], [106.76, 21.96]], ref="B", lanes=2,
                  **{"class": "national"}),
        ]),
    }


#: A small sweep: six runs over three weeks of the early fruit season.
SWEEP_SPEC = {
    "name": "test sweep",
    "start": "2026-05-25", "end": "2026-06-14",
    "grid": {"huu-nghi-1119.lanes_export": [2, 4]},
    "draws": {"count": 3, "seed": 7, "inputs": {
        "demand.export": {"dist": "uniform", "low": 0.8, "high": 1.2},
        "service_rate": {"dist": "lognormal", "sigma": 0.1, "low": 0.7, "high": 1.3},
        "surge.size": {"dist": "triangular", "low": 1.0, "mode": 1.2, "high": 1.5},
        "surge.month": {"dist": "choice", "values": [6]}}},
}
