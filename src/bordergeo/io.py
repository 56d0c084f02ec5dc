"""Reading users' layers and writing outputs safely.

Reads GeoJSON, GeoPackage, GeoParquet, Shapefile and FlatGeobuf through pyogrio (via
GeoPandas); every failure becomes a :class:`~bordergeo.errors.DataFileError` that names
the file. Outputs are written atomically: to a temporary file beside the target, then
renamed, so a failure never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import geopandas as gpd
import pandas as pd

from bordergeo.errors import DataFileError

__all__ = [
    "VECTOR_SUFFIXES",
    "TABLE_SUFFIXES",
    "read_layer",
    "write_layer",
    "write_layers",
    "write_table",
    "atomic_write",
    "atomic_write_text",
]

logger = logging.getLogger(__name__)

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".parquet", ".geoparquet", ".shp", ".fgb")
#: Table outputs for planning tools: comma-separated text or an Excel workbook.
TABLE_SUFFIXES = (".csv", ".xlsx")


def read_layer(path: str | os.PathLike[str], *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read one vector layer from a file.

    Parameters
    ----------
    path
        A GeoJSON, GeoPackage, GeoParquet, Shapefile or FlatGeobuf file.
    layer
        Layer name inside a multi-layer file (GeoPackage).

    Returns
    -------
    geopandas.GeoDataFrame
        The layer as stored (not yet validated).

    Raises
    ------
    DataFileError
        If the file does not exist, has an unsupported suffix, or cannot be parsed.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise DataFileError(f"{path}: unsupported format {suffix or '(no suffix)'!r}; use one "
                            f"of {', '.join(VECTOR_SUFFIXES)}")
    try:
        if suffix in (".parquet", ".geoparquet"):
            return gpd.read_parquet(path)
        kwargs = {"layer": layer} if layer else {}
        return gpd.read_file(path, **kwargs)
    except ImportError as exc:
        raise DataFileError(f"{path}: reading {suffix} needs an optional package: {exc}") from exc
    except Exception as exc:  # pyogrio, pyarrow and json raise many types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(f"{path}: cannot read the file ({reason})") from exc


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], *, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` only if the block succeeds.

    Parameters
    ----------
    path
        Final destination; its folder is created if needed.
    mode
        ``"w"`` for text (UTF-8) or ``"wb"`` for bytes.

    Yields
    ------
    file object
        Write to it; on an exception the temporary file is removed and ``path`` is left
        untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8) and return the path."""
    with atomic_write(path) as handle:
        handle.write(text)
    return Path(path)


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], *,
                layer: str | None = None) -> Path:
    """Write a layer to GeoJSON, GeoPackage, GeoParquet, Shapefile or FlatGeobuf.

    The format follows the suffix; the file appears only once it is complete.

    Parameters
    ----------
    gdf
        The layer.
    path
        Destination file.
    layer
        Layer name for GeoPackage output.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise DataFileError(f"{path}: unsupported output format {suffix!r}")
    with _staged(path, "the file") as tmp:
        if suffix in (".parquet", ".geoparquet"):
            gdf.to_parquet(tmp)
        else:
            kwargs = {"layer": layer} if layer and suffix == ".gpkg" else {}
            gdf.to_file(tmp, **kwargs)
    return path


@contextlib.contextmanager
def _staged(path: Path, what: str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move what was written into place.

    A Shapefile is several files: each moves to ``path`` with its own suffix. Any error
    becomes one :class:`DataFileError` naming ``path``, and nothing is left behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=".bordergeo-", dir=path.parent))
    try:
        yield tmpdir / path.name
        for part in tmpdir.iterdir():
            os.replace(part, path.with_suffix(part.suffix) if path.suffix.lower() == ".shp"
                       else path)
    except DataFileError:
        raise
    except Exception as exc:
        raise DataFileError(f"{path}: cannot write {what} ({exc})") from exc
    finally:
        for part in tmpdir.iterdir():
            part.unlink()
        tmpdir.rmdir()


def write_layers(layers: dict[str, gpd.GeoDataFrame], path: str | os.PathLike[str], *,
                 suffix: str = ".geojson") -> list[Path]:
    """Write several layers: into one GeoPackage, or as one file each in a folder.

    Parameters
    ----------
    layers
        Layer name → GeoDataFrame.
    path
        A ``.gpkg`` file (one layer per entry, written atomically as a whole) or a folder.
    suffix
        File type in a folder: ``.geojson``, ``.gpkg``, ``.parquet``, ``.fgb`` or ``.shp``.

    Returns
    -------
    list of pathlib.Path
        The file(s) written.
    """
    path = Path(path)
    if path.suffix.lower() == ".gpkg":
        with _staged(path, "the GeoPackage") as tmp:
            for name, gdf in layers.items():
                gdf.to_file(tmp, layer=name, driver="GPKG")
        return [path]
    if path.suffix:
        raise DataFileError(f"{path}: write several layers to a .gpkg file or to a folder")
    if suffix not in VECTOR_SUFFIXES:
        raise DataFileError(f"unsupported layer format {suffix!r}; use one of "
                            f"{', '.join(VECTOR_SUFFIXES)}")
    return [write_layer(gdf, path / f"{name}{suffix}", layer=name)
            for name, gdf in layers.items()]


def write_table(tables: pd.DataFrame | dict[str, pd.DataFrame],
                path: str | os.PathLike[str]) -> Path:
    """Write a table (CSV or Excel) or several tables (Excel sheets) atomically.

    Parameters
    ----------
    tables
        One DataFrame, or sheet name → DataFrame (``.xlsx`` only, or a single entry).
    path
        ``.csv`` or ``.xlsx`` file.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataFileError(f"{path}: tables are written as .csv or .xlsx")
    sheets = tables if isinstance(tables, dict) else {"table": tables}
    if suffix == ".csv":
        if len(sheets) != 1:
            raise DataFileError(f"{path}: {len(sheets)} tables ({', '.join(sheets)}) need an "
                                f".xlsx workbook, one sheet each")
        with atomic_write(path) as handle:
            next(iter(sheets.values())).to_csv(handle, index=False, lineterminator="\n")
        return path
    with atomic_write(path, mode="wb") as handle, \
            pd.ExcelWriter(handle, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
            for col in plain.columns:
                if isinstance(plain[col].dtype, pd.DatetimeTZDtype):
                    plain[col] = plain[col].dt.tz_localize(None)
            plain.to_excel(writer, sheet_name=str(name)[:31], index=False)
    return path
