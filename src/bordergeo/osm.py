"""OpenStreetMap import: ``.osm.pbf`` / ``.osm`` files → roads and candidate gates.

Reads local files with pyosmium (no download). Ways with a ``highway`` tag become road
LineStrings in the roads-layer schema (``class`` from the highway type, ``oneway``,
``maxspeed_kph``, ``ref``, ``name``, ``lanes``); ``barrier=border_control`` nodes become
candidate gates. A progress bar (tqdm) shows on large files.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bordergeo.errors import DataFileError
from bordergeo.inputs import check_regular_file

__all__ = ["HIGHWAY_CLASSES", "DRIVABLE", "read_osm"]

logger = logging.getLogger(__name__)

#: OSM ``highway`` value → bordergeo road class.
HIGHWAY_CLASSES: dict[str, str] = {
    "motorway": "expressway", "motorway_link": "expressway",
    "trunk": "national", "trunk_link": "national",
    "primary": "national", "primary_link": "national",
    "secondary": "provincial", "secondary_link": "provincial",
    "tertiary": "local", "tertiary_link": "local",
    "unclassified": "local", "residential": "local", "living_street": "local",
    "service": "local", "road": "local", "track": "local",
}

#: Highway values trucks can drive (the default filter).
DRIVABLE = frozenset(HIGHWAY_CLASSES) - {"track"}

_SPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)
_ONEWAY_FORWARD = {"yes", "true", "1"}
_ONEWAY_REVERSE = {"-1", "reverse"}


def _speed_kph(text: str | None) -> float:
    if not text:
        return np.nan
    match = _SPEED_RE.match(text.split(";")[0])
    if not match:
        return np.nan
    value = float(match.group(1))
    return value * 1.609344 if (match.group(2) or "").lower() == "mph" else value


def _lanes(text: str | None) -> float:
    try:
        return float(int(str(text).split(";")[0]))
    except (TypeError, ValueError):
        return np.nan


def read_osm(
    path: str | os.PathLike[str],
    *,
    highways: frozenset[str] | set[str] | None = DRIVABLE,
    progress: bool = True,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read roads and border-control nodes from an OSM file.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz``.
    highways
        ``highway`` values to keep; ``None`` keeps every way with a ``highway`` tag
        (unknown values become class ``local``).
    progress
        Show a tqdm progress bar (on stderr) while reading.

    Returns
    -------
    roads : geopandas.GeoDataFrame
        EPSG:4326 LineStrings with ``id`` (``w<osm id>``), ``osmid``, ``ref``, ``name``,
        ``highway``, ``class``, ``oneway``, ``maxspeed_kph``, ``lanes``. Ways tagged
        ``oneway=-1`` are reversed so that they run in the allowed direction.
    border_controls : geopandas.GeoDataFrame
        ``barrier=border_control`` nodes as candidate gates (``id``, ``osmid``, ``name``,
        ``name_vi``, ``name_en``, ``name_zh``).

    Raises
    ------
    DataFileError
        Missing or unreadable file.
    """
    try:
        import osmium
    except ImportError as exc:  # pragma: no cover - osmium is a dependency
        raise DataFileError("OSM import needs the 'osmium' package (pip install osmium)") from exc
    path = Path(path)
    if not path.name.lower().endswith((".pbf", ".osm", ".osm.bz2", ".osm.gz")):
        raise DataFileError(f"{path}: not an OSM file (.osm.pbf, .osm, .osm.bz2, .osm.gz)")
    check_regular_file(path, what="OSM extract")
    rows: list[tuple] = []
    coords: list[list[tuple[float, float]]] = []
    gates: list[tuple] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(unit=" OSM objects", unit_scale=True, desc=f"reading {path.name}",
                   disable=None, leave=False)
    try:
        processor = osmium.FileProcessor(str(path)).with_locations()
        seen = 0
        for obj in processor:
            seen += 1
            if bar is not None and seen % 50_000 == 0:
                bar.update(50_000)
            if obj.is_node():
                if obj.tags.get("barrier") == "border_control":
                    tags = obj.tags
                    gates.append((f"n{obj.id}", obj.id, tags.get("name"), tags.get("name:vi"),
                                  tags.get("name:en"), tags.get("name:zh"),
                                  obj.location.lon, obj.location.lat))
                continue
            if not obj.is_way():
                continue
            tags = obj.tags
            highway = tags.get("highway")
            if highway is None or (highways is not None and highway not in highways):
                continue
            line = [(n.location.lon, n.location.lat) for n in obj.nodes
                    if n.location.valid()]
            if len(line) < 2:
                continue
            oneway_tag = (tags.get("oneway") or "").lower()
            oneway = (oneway_tag in _ONEWAY_FORWARD | _ONEWAY_REVERSE
                      or tags.get("junction") == "roundabout")
            if oneway_tag in _ONEWAY_REVERSE:
                line.reverse()
            rows.append((f"w{obj.id}", obj.id, tags.get("ref"), tags.get("name"), highway,
                         HIGHWAY_CLASSES.get(highway, "local"), oneway,
                         _speed_kph(tags.get("maxspeed")), _lanes(tags.get("lanes"))))
            coords.append(line)
    except RuntimeError as exc:
        raise DataFileError(f"{path}: cannot read the OSM file ({exc})") from exc
    finally:
        if bar is not None:
            bar.close()
    columns = ["id", "osmid", "ref", "name", "highway", "class", "oneway", "maxspeed_kph",
               "lanes"]
    table = pd.DataFrame(rows, columns=columns)
    table["lanes"] = table["lanes"].astype("Int64")
    geometry = [shapely.LineString(c) for c in coords]
    roads = gpd.GeoDataFrame(table, geometry=geometry, crs="EPSG:4326")
    controls = pd.DataFrame(gates, columns=["id", "osmid", "name", "name_vi", "name_en",
                                            "name_zh", "lon", "lat"])
    border_controls = gpd.GeoDataFrame(
        controls.drop(columns=["lon", "lat"]),
        geometry=shapely.points(controls["lon"].to_numpy(float),
                                controls["lat"].to_numpy(float)), crs="EPSG:4326")
    logger.info("%s: %d road ways, %d border-control nodes", path, len(roads),
                len(border_controls))
    return roads, border_controls
