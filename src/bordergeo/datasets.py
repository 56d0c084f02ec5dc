"""The bundled Lạng Sơn dataset and users' own datasets.

:func:`load_dataset` returns a :class:`BorderDataset` with five validated GeoDataFrames in
EPSG:4326: ``gates``, ``markers``, ``hubs``, ``roads`` and ``border``. Without arguments it
loads the dataset shipped inside the package; with a folder, a GeoPackage or per-layer
files it loads the user's data under the same contract.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bordergeo.errors import DataFileError, SchemaError
from bordergeo.io import VECTOR_SUFFIXES, read_layer
from bordergeo.names import find_row
from bordergeo.schema import SCHEMAS, validate_layer

__all__ = ["BorderDataset", "LAYERS", "REQUIRED_LAYERS", "bundled_data_dir", "load_dataset",
           "load_layer"]

logger = logging.getLogger(__name__)

LAYERS = ("gates", "markers", "hubs", "roads", "border")
REQUIRED_LAYERS = ("gates", "hubs", "roads")

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
    """
    if layer not in SCHEMAS:
        raise SchemaError(f"unknown layer {layer!r}; expected one of {', '.join(LAYERS)}")
    label = f"{path}" + (f" (layer {gpkg_layer})" if gpkg_layer else "")
    return validate_layer(read_layer(path, layer=gpkg_layer), layer, source=label)


def _check_references(gates: gpd.GeoDataFrame, markers: gpd.GeoDataFrame,
                      sources: dict[str, str]) -> None:
    ids = set(gates["id"])
    for pos, parent in enumerate(gates["parent_id"]):
        if parent is not None and parent not in ids:
            raise SchemaError(f"parent_id {parent!r} is not a gate id",
                              source=sources["gates"], row=gates["id"].iloc[pos],
                              field="parent_id")
    for pos, gate in enumerate(markers["gate_id"]):
        if gate is not None and gate not in ids:
            raise SchemaError(f"gate_id {gate!r} is not a gate id", source=sources["markers"],
                              row=markers["id"].iloc[pos], field="gate_id")


def load_dataset(
    path: PathLike | None = None,
    *,
    gates: PathLike | gpd.GeoDataFrame | None = None,
    markers: PathLike | gpd.GeoDataFrame | None = None,
    hubs: PathLike | gpd.GeoDataFrame | None = None,
    roads: PathLike | gpd.GeoDataFrame | None = None,
    border: PathLike | gpd.GeoDataFrame | None = None,
) -> BorderDataset:
    """Load and validate a border dataset.

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

    Returns
    -------
    BorderDataset
        All five layers, validated, EPSG:4326.

    Raises
    ------
    DataFileError
        A file or folder is missing or unreadable.
    SchemaError
        A layer breaks its contract; the message names the file, row id and field.

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
        base: Path | None = bundled_data_dir()
        source = "bundled"
    else:
        base = Path(path)
        source = str(base)
        if not base.exists():
            raise DataFileError(f"{base}: no such file or folder")
    gpkg = base if base is not None and base.is_file() else None
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
    for layer in LAYERS:
        given = overrides[layer]
        if isinstance(given, gpd.GeoDataFrame):
            frames[layer] = validate_layer(given, layer, source=f"{layer} (GeoDataFrame)")
            sources[layer] = f"{layer} (GeoDataFrame)"
            continue
        if given is not None:
            frames[layer] = load_layer(given, layer)
            sources[layer] = str(given)
            continue
        if gpkg is not None:
            if layer in gpkg_layers:
                frames[layer] = load_layer(gpkg, layer, gpkg_layer=layer)
                sources[layer] = f"{gpkg} (layer {layer})"
                continue
            found = None
        else:
            if base is not None and not base.is_dir():
                raise DataFileError(f"{base}: not a folder")
            found = _find_in_folder(base, layer) if base is not None else None
        if found is not None:
            frames[layer] = load_layer(found, layer)
            sources[layer] = str(found)
        elif layer in REQUIRED_LAYERS:
            where = gpkg or base
            raise DataFileError(f"{where}: no {layer} layer (expected {layer}.geojson, "
                                f"{layer}.gpkg, … or a GeoPackage layer named {layer!r})")
        else:
            logger.info("%s: no %s layer; using an empty one", source, layer)
            frames[layer] = _empty(layer)
            sources[layer] = layer
    _check_references(frames["gates"], frames["markers"], sources)
    return BorderDataset(**frames, source=source)
