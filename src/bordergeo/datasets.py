"""The bundled Lạng Sơn dataset and users' own datasets.

:func:`load_dataset` returns a :class:`BorderDataset` with five validated GeoDataFrames in
EPSG:4326: ``gates``, ``markers``, ``hubs``, ``roads`` and ``border``. Without arguments it
loads the dataset shipped inside the package; with a folder, a GeoPackage or per-layer
files it loads the user's data under the same contract.
"""

from __future__ import annotations

import inspect
import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from bordergeo.crs import GEOD
from bordergeo.errors import (
    DataFileError,
    DatasetFileError,
    Problem,
    SchemaError,
    ValidationError,
)
from bordergeo.inputs import LAYERS, REQUIRED_LAYERS, check_regular_file
from bordergeo.io import VECTOR_SUFFIXES, read_layer
from bordergeo.names import find_row
from bordergeo.network import _Metric, build_network
from bordergeo.schema import SCHEMAS, _Findings, _show, validate_layer

__all__ = ["BorderDataset", "LAYERS", "MAX_GATE_BORDER_M", "MAX_PLACE_ROAD_M",
           "REQUIRED_LAYERS", "bundled_data_dir", "load_dataset", "load_layer"]

logger = logging.getLogger(__name__)


#: Farthest a gate may lie from the border line (when a border layer is given). The bundled
#: gates lie at most 1.8 km from the bundled border (Đồng Đăng station, on the railway
#: inland; the road gates about 0.4 km); 10 km leaves room for inland customs posts and
#: still catches a gate put in the wrong place or the wrong CRS.
MAX_GATE_BORDER_M = 10_000.0
#: Farthest a gate or hub may lie from every open road: the router attaches places up to
#: the ``max_snap_m`` default of :func:`~bordergeo.network.build_network` (read from it).
MAX_PLACE_ROAD_M = float(inspect.signature(build_network).parameters["max_snap_m"].default)

PathLike = str | os.PathLike[str]


def bundled_data_dir() -> Path:
    """Return the folder of the bundled Lạng Sơn GeoJSON files.

    Installed wheels carry it as ``bordergeo/data/geojson``; a source checkout (editable
    install) uses the repository's ``data/geojson``.
    """
    packaged = Path(str(resources.files("bordergeo"))) / "data" / "geojson"
    if (packaged / "gates.geojson").exists():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "data" / "geojson"
    if (checkout / "gates.geojson").exists():
        return checkout
    raise DataFileError("the bundled dataset is missing from this installation "
                        "(expected bordergeo/data/geojson); reinstall bordergeo")


@dataclass(frozen=True)
class BorderDataset:
    """The layers of a border-gate study area, validated and in EPSG:4326.

    Attributes
    ----------
    gates
        Crossings on the Vietnamese side, one row per gate or cargo route.
    markers
        Border markers near the crossings.
    hubs
        Inland origins: cities, ports, ICDs, logistics zones, production areas.
    roads
        Road (and rail) lines, to be turned into a network.
    border
        The international boundary line.
    source
        Where the layers came from (a folder, a file, or ``"bundled"``).
    """

    gates: gpd.GeoDataFrame
    markers: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    border: gpd.GeoDataFrame
    source: str = "bundled"

    def gate(self, query: str) -> pd.Series:
        """Return the gate whose id or name matches ``query`` (diacritics optional)."""
        return self.gates.iloc[find_row(self.gates, query, what="gate")]

    def hub(self, query: str) -> pd.Series:
        """Return the hub whose id or name matches ``query`` (diacritics optional)."""
        return self.hubs.iloc[find_row(self.hubs, query, what="hub")]

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the five layers by name."""
        return {name: getattr(self, name) for name in LAYERS}


def _empty(layer: str) -> gpd.GeoDataFrame:
    schema = SCHEMAS[layer]
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in schema.column_names},
                            geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def _find_in_folder(folder: Path, layer: str) -> Path | None:
    found = [folder / f"{layer}{suffix}" for suffix in VECTOR_SUFFIXES
             if (folder / f"{layer}{suffix}").exists()]
    if len(found) > 1:
        raise DataFileError(f"{folder}: several files for the {layer} layer "
                            f"({', '.join(p.name for p in found)}); keep one")
    if found:
        check_regular_file(found[0], what="layer")
    return found[0] if found else None


def load_layer(path: PathLike, layer: str, *, gpkg_layer: str | None = None
               ) -> gpd.GeoDataFrame:
    """Read and validate one layer file.

    Parameters
    ----------
    path
        The file.
    layer
        Which contract applies: ``"gates"``, ``"markers"``, ``"hubs"``, ``"roads"`` or
        ``"border"``.
    gpkg_layer
        Layer name inside a GeoPackage.

    Returns
    -------
    geopandas.GeoDataFrame
        The validated layer in EPSG:4326.

    Raises
    ------
    DataFileError
        The file is missing, not a regular file (a folder, a pipe, a device) or unreadable.
    ValidationError
        The layer breaks its contract; ``problems`` lists every problem.
    """
    if layer not in SCHEMAS:
        raise SchemaError(f"unknown layer {_show(layer)}; expected one of {', '.join(LAYERS)}")
    label = f"{path}" + (f" (layer {gpkg_layer})" if gpkg_layer else "")
    return validate_layer(read_layer(path, layer=gpkg_layer), layer, source=label)


def _extent(bounds: NDArray[np.float64]) -> str:
    x0, y0, x1, y1 = bounds
    return f"lon {x0:.2f} to {x1:.2f}, lat {y0:.2f} to {y1:.2f}"


def _gap_m(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Distance (m, on the ellipsoid) between the nearest points of two lon/lat boxes."""
    ends = []
    for low, high in ((0, 2), (1, 3)):
        if a[high] < b[low]:
            ends.append((a[high], b[low]))
        elif b[high] < a[low]:
            ends.append((a[low], b[high]))
        else:
            inside = max(a[low], b[low])
            ends.append((inside, inside))
    (xa, xb), (ya, yb) = ends
    return float(GEOD.inv(xa, ya, xb, yb)[2])


def _distances_m(points: NDArray[np.object_], lines: NDArray[np.object_],
                 tree: shapely.STRtree, *, lat0: float, limit_m: float) -> NDArray[np.float64]:
    """Distance (m) from each point to its nearest line, in the router's metric frame.

    Exact up to ``limit_m``; beyond it, the distance to the nearest line in degrees.
    """
    metric = _Metric(pyproj.CRS.from_epsg(4326), np.array([[0.0, lat0]]))

    def metres(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
        return shapely.transform(geoms, metric.scale)

    dist = np.full(len(points), np.inf)
    pidx, lidx = tree.query_nearest(points, all_matches=False)
    dist[pidx] = shapely.distance(metres(points[pidx]), metres(lines[lidx]))
    far = np.flatnonzero(dist > limit_m)
    if len(far):  # the nearest line in degrees may not be the nearest in metres
        qi, li = tree.query(points[far], predicate="dwithin",
                            distance=limit_m / min(metric.kx, metric.ky))
        if len(qi):
            near = dist[far]
            np.minimum.at(near, qi, shapely.distance(metres(points[far][qi]),
                                                     metres(lines[li])))
            dist[far] = near
    return dist


def _check_references(frames: dict[str, gpd.GeoDataFrame], sources: dict[str, str],
                      ok: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    if "gates" not in ok:
        return problems
    gate_ids = frames["gates"]["id"]
    checks = [("gates", "parent_id", "parent_id {} is not a gate id"),
              ("markers", "gate_id", "gate_id {} is not a gate id"),
              ("hubs", "id", "id {} is also a gate id; ids must be unique across the gates "
                             "and hubs layers")]
    for layer, column, text in checks:
        if layer not in ok:
            continue
        values = frames[layer][column]
        found = _Findings(sources[layer], frames[layer], kind="dataset")
        hit = values.isin(gate_ids).to_numpy()
        bad = (values.notna().to_numpy() & ~hit) if layer != "hubs" else hit
        found.rows(bad, column, lambda p, v=values, t=text: t.format(_show(v.iloc[p])))
        problems += found.problems
    return problems


def _check_places_reach_roads(frames: dict[str, gpd.GeoDataFrame], sources: dict[str, str],
                              ok: set[str]) -> tuple[list[Problem], list[Problem]]:
    """Return the layers the open roads do not reach at all, and the places too far off."""
    problems: list[Problem] = []
    far: list[Problem] = []
    if "roads" not in ok:
        return problems, far
    roads = frames["roads"]
    roads = roads[roads["status"].eq("open").to_numpy()]
    layers = [name for name in ("gates", "hubs") if name in ok and len(frames[name])]
    if not len(roads) or not layers:
        return problems, far
    lines = roads.geometry.to_numpy()
    road_box = roads.total_bounds
    bounds = shapely.bounds(lines)
    lat0 = float(np.mean((bounds[:, 1] + bounds[:, 3]) / 2))
    tree: shapely.STRtree | None = None
    for name in layers:
        places = frames[name]
        box = places.total_bounds
        gap = _gap_m(box, road_box)
        if gap > MAX_PLACE_ROAD_M:
            problems.append(Problem(
                f"the open roads ({_extent(road_box)}) do not reach the {name} layer "
                f"({_extent(box)}): they lie {gap / 1000:,.0f} km apart; are both layers of "
                f"the same area, each with its right CRS?", source=sources["roads"],
                kind="dataset"))
            continue
        tree = tree or shapely.STRtree(lines)
        dist = _distances_m(places.geometry.to_numpy(), lines, tree, lat0=lat0,
                            limit_m=MAX_PLACE_ROAD_M)
        found = _Findings(sources[name], places, kind="dataset")
        found.rows(dist > MAX_PLACE_ROAD_M, "geometry", lambda p, d=dist: (
            f"is {d[p] / 1000:,.1f} km from the nearest open road; the router attaches "
            f"places up to {MAX_PLACE_ROAD_M / 1000:g} km from a road (add a road to it or "
            f"fix its coordinates)"))
        far += found.problems
    return problems, far


def _check_gates_near_border(frames: dict[str, gpd.GeoDataFrame], sources: dict[str, str],
                             ok: set[str]) -> list[Problem]:
    if not {"gates", "border"} <= ok or not len(frames["gates"]) or not len(frames["border"]):
        return []
    gates, border = frames["gates"], frames["border"]
    gap = _gap_m(gates.total_bounds, border.total_bounds)
    if gap > MAX_GATE_BORDER_M:
        return [Problem(f"the border ({_extent(border.total_bounds)}) and the gates "
                        f"({_extent(gates.total_bounds)}) do not overlap: they lie "
                        f"{gap / 1000:,.0f} km apart; are both layers of the same area, each "
                        f"with its right CRS?", source=sources["border"], kind="dataset")]
    lines = border.geometry.to_numpy()
    points = gates.geometry.to_numpy()
    dist = _distances_m(points, lines, shapely.STRtree(lines),
                        lat0=float(np.mean(shapely.get_y(points))), limit_m=MAX_GATE_BORDER_M)
    found = _Findings(sources["gates"], gates, kind="dataset")
    found.rows(dist > MAX_GATE_BORDER_M, "geometry", lambda p: (
        f"is {dist[p] / 1000:,.1f} km from the border line; a gate must lie within "
        f"{MAX_GATE_BORDER_M / 1000:g} km of it (wrong coordinates, or the wrong border?)"))
    return found.problems


def _file_problem(exc: DataFileError, where: str) -> Problem:
    message = str(exc)
    prefix = f"{where}: "
    if message.startswith(prefix):
        return Problem(message[len(prefix):], source=where, kind="file")
    return Problem(message, kind="file")


def load_dataset(
    path: PathLike | None = None,
    *,
    gates: PathLike | gpd.GeoDataFrame | None = None,
    markers: PathLike | gpd.GeoDataFrame | None = None,
    hubs: PathLike | gpd.GeoDataFrame | None = None,
    roads: PathLike | gpd.GeoDataFrame | None = None,
    border: PathLike | gpd.GeoDataFrame | None = None,
    strict: bool = False,
) -> BorderDataset:
    """Load and validate a border dataset.

    Every layer is read and checked, then the layers against each other: references
    between them, whether they cover the same area, gates near the border line
    (:data:`MAX_GATE_BORDER_M`) and gates and hubs within reach of an open road
    (:data:`MAX_PLACE_ROAD_M`). All problems are raised together.

    Parameters
    ----------
    path
        ``None`` for the bundled Lạng Sơn dataset; a folder holding ``gates``,
        ``markers``, ``hubs``, ``roads`` and ``border`` files (any of .geojson, .gpkg,
        .parquet, .shp, .fgb); or one GeoPackage with layers of those names. ``markers``
        and ``border`` may be absent (empty layers).
    gates, markers, hubs, roads, border
        Replace one layer with a file or a GeoDataFrame (e.g. the user's own roads on
        top of the bundled gates).
    strict
        Also refuse gates and hubs beyond the router's reach of an open road (what
        ``bordergeo validate`` checks). By default they are one logged warning: the
        router leaves them unattached, and only routes that need them fail.

    Returns
    -------
    BorderDataset
        All five layers, validated, EPSG:4326.

    Raises
    ------
    DataFileError
        The dataset path is missing or is neither a folder nor a GeoPackage.
    DatasetFileError
        Some layer file is missing or unreadable (a :class:`DataFileError` and a
        :class:`ValidationError`; ``problems`` lists those first, then any others).
    ValidationError
        Layers break their contract or disagree with each other; ``problems`` lists
        every problem, each naming the file, row id and field.

    Examples
    --------
    >>> ds = load_dataset()
    >>> ds.gate("huu nghi")["name_vi"]
    'Hữu Nghị'
    """
    overrides = {"gates": gates, "markers": markers, "hubs": hubs, "roads": roads,
                 "border": border}
    frames: dict[str, gpd.GeoDataFrame] = {}
    sources: dict[str, str] = {}
    if path is None:
        base = bundled_data_dir()
        source = "bundled"
    else:
        base = Path(path)
        source = str(base)
        if not base.exists():
            raise DataFileError(f"{base}: no such file or folder")
        if not base.is_dir() and not base.is_file():
            raise DataFileError(f"{base}: is not a folder or a regular file (a pipe or a "
                                f"device?); give a dataset folder or a GeoPackage")
    gpkg = base if base.is_file() else None
    if gpkg is not None and gpkg.suffix.lower() != ".gpkg":
        raise DataFileError(f"{gpkg}: a dataset is a folder of layer files or one GeoPackage "
                            f"with layers {', '.join(LAYERS)}")
    gpkg_layers: set[str] = set()
    if gpkg is not None:
        import pyogrio

        try:
            gpkg_layers = {str(name) for name, _ in pyogrio.list_layers(gpkg)}
        except Exception as exc:
            raise DataFileError(f"{gpkg}: cannot read the GeoPackage ({exc})") from exc
    file_problems: list[Problem] = []
    problems: list[Problem] = []
    for layer in LAYERS:
        given = overrides[layer]
        where = str(base)
        try:
            if isinstance(given, gpd.GeoDataFrame):
                sources[layer] = f"{layer} (GeoDataFrame)"
                frames[layer] = validate_layer(given, layer, source=sources[layer])
                continue
            if given is not None:
                where = sources[layer] = str(given)
                frames[layer] = load_layer(given, layer)
                continue
            if gpkg is not None and layer in gpkg_layers:
                where, sources[layer] = str(gpkg), f"{gpkg} (layer {layer})"
                frames[layer] = load_layer(gpkg, layer, gpkg_layer=layer)
                continue
            found = _find_in_folder(base, layer) if gpkg is None else None
            if found is not None:
                where = sources[layer] = str(found)
                frames[layer] = load_layer(found, layer)
            elif layer in REQUIRED_LAYERS:
                file_problems.append(Problem(
                    f"no {layer} layer (expected {layer}.geojson, {layer}.gpkg, … or a "
                    f"GeoPackage layer named {layer!r})", source=str(base), kind="file"))
            else:
                logger.info("%s: no %s layer; using an empty one", source, layer)
                frames[layer] = _empty(layer)
                sources[layer] = layer
        except ValidationError as exc:
            problems += exc.problems
        except SchemaError as exc:
            problems.append(Problem(exc.reason, source=exc.source, row=exc.row,
                                    field=exc.field))
        except DataFileError as exc:
            file_problems.append(_file_problem(exc, where))
    ok = set(frames)
    problems += _check_references(frames, sources, ok)
    problems += _check_gates_near_border(frames, sources, ok)
    apart, far = _check_places_reach_roads(frames, sources, ok)
    problems += apart
    if strict:
        problems += far
    elif far:
        logger.warning("%d place%s beyond %g km of an open road (the router leaves them "
                       "unattached): %s", len(far), "s" if len(far) > 1 else "",
                       MAX_PLACE_ROAD_M / 1000, "; ".join(str(p) for p in far[:3]))
    if file_problems:
        raise DatasetFileError(file_problems + problems)
    if problems:
        raise ValidationError(problems)
    return BorderDataset(**frames, source=source)
