"""Reading users' layers and writing outputs safely.

Reads GeoJSON, GeoPackage, GeoParquet, Shapefile and FlatGeobuf through pyogrio (via
GeoPandas); every failure becomes a :class:`~bordergeo.errors.DataFileError` that names
the file.

Every output file goes through one atomic writer (:func:`atomic_output`, with
:func:`atomic_write` and :func:`atomic_write_text` on top of it):

* The output is first written inside a temporary folder beside the target, named
  ``.bordergeo-tmp-*`` (:data:`TEMP_PREFIX`), then renamed into place, so a failure never
  leaves a half-written file and the previous output stays intact.
* On any exception the temporary folder (and any folder made for the output) is removed;
  while a write is in progress in the main thread, SIGTERM, SIGINT and SIGHUP remove it too
  before the process ends the usual way. Only ``kill -9`` (or a power cut) can leave one:
  :func:`remove_stale_temporaries` clears those older than an hour.
* Every failure (the target is a folder, its parent is a file, permission denied, a
  read-only or full disk) is one :class:`~bordergeo.errors.DataFileError`.

Outputs are reproducible: the same data gives the same bytes. Where a format stores a
date (GeoPackage ``last_change``, the dBASE header of a Shapefile, the properties and ZIP
entries of an ``.xlsx`` workbook) it is :func:`reproducible_timestamp`: the moment given
by the ``SOURCE_DATE_EPOCH`` environment variable when it is set, else
2000-01-01T00:00:00Z. Figures carry no date at all (see :func:`bordergeo.static.save_figure`).

Tables for spreadsheets (CSV and ``.xlsx``) are protected against formula injection by
:func:`neutralise_formulas`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import io
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import pandas as pd

from bordergeo.errors import BorderGeoError, DataFileError
from bordergeo.inputs import check_regular_file

__all__ = [
    "VECTOR_SUFFIXES",
    "TABLE_SUFFIXES",
    "TEMP_PREFIX",
    "read_layer",
    "write_layer",
    "write_layers",
    "write_table",
    "csv_text",
    "neutralise_formulas",
    "atomic_output",
    "atomic_write",
    "atomic_write_text",
    "write_parquet",
    "remove_stale_temporaries",
    "reproducible_timestamp",
]

logger = logging.getLogger(__name__)

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".parquet", ".geoparquet", ".shp", ".fgb")
#: Table outputs for planning tools: comma-separated text or an Excel workbook.
TABLE_SUFFIXES = (".csv", ".xlsx")
#: Name prefix of every temporary file or folder the atomic writer makes beside an output.
TEMP_PREFIX = ".bordergeo-tmp-"
#: Names of the temporaries of bordergeo 0.x before this writer (``mkdtemp``/``mkstemp``
#: with 8 random characters), which a killed process may also have left.
_LEGACY_TEMP = re.compile(r"^\.bordergeo-[a-z0-9_]{8}$|^\..+\.[a-z0-9_]{8}\.tmp$")

_DEFAULT_TIMESTAMP = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: A dBASE text field holds at most this many bytes; a field name at most this many.
_DBF_TEXT_BYTES = 254
_DBF_NAME_BYTES = 10


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
        If the file does not exist, is not a regular file (a folder, a pipe, a device),
        has an unsupported suffix, or cannot be parsed.
    """
    path = Path(path)
    check_regular_file(path, what="layer")
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


# --------------------------------------------------------------------------------------
# reproducible dates


def reproducible_timestamp() -> dt.datetime:
    """Return the date written into outputs whose format requires one.

    Returns
    -------
    datetime.datetime
        ``SOURCE_DATE_EPOCH`` (seconds since 1970, UTC) when that environment variable holds
        an integer, else 2000-01-01T00:00:00Z; timezone-aware (UTC).
    """
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value:
        try:
            return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
        except (ValueError, OverflowError, OSError):
            logger.warning("SOURCE_DATE_EPOCH=%r is not a number of seconds; using %s",
                           value, _DEFAULT_TIMESTAMP.isoformat())
    return _DEFAULT_TIMESTAMP


@contextlib.contextmanager
def _gdal_fixed_date() -> Iterator[None]:
    """Make GDAL write :func:`reproducible_timestamp` instead of the current time."""
    import pyogrio

    stamp = reproducible_timestamp().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


# --------------------------------------------------------------------------------------
# the atomic writer


class _Staging:
    """One output in progress: a temporary folder beside the target.

    Also remembers the folders made for the output, so that a failure removes them again.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp: Path | None = None
        self.created: list[Path] = []

    def begin(self) -> Path:
        _make_folders(self.target.parent, self.created)
        self.tmp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=self.target.parent))
        return self.tmp / self.target.name

    def commit(self) -> None:
        assert self.tmp is not None
        staged = self.tmp / self.target.name
        target = self.target
        if staged.is_dir():  # a folder of files
            if not target.exists():
                os.replace(staged, target)
                return
            for part in sorted(staged.iterdir()):
                os.replace(part, target / part.name)
            return
        if target.suffix.lower() == ".shp":  # several files: the .shp last
            parts = sorted(self.tmp.iterdir(), key=lambda p: (p.suffix.lower() == ".shp", p.name))
            if not any(p.suffix.lower() == ".shp" for p in parts):
                raise DataFileError(f"{target}: the Shapefile was not written")
            written = {p.suffix.lower() for p in parts}
            for part in parts:
                os.replace(part, target.with_suffix(part.suffix))
            for stale in (".prj", ".cpg", ".qix", ".sbn", ".sbx"):  # of an older Shapefile
                if stale not in written:
                    with contextlib.suppress(FileNotFoundError):
                        target.with_suffix(stale).unlink()
            return
        if not staged.exists():
            raise DataFileError(f"{target}: nothing was written")
        os.replace(staged, target)

    def discard(self) -> None:
        if self.tmp is not None:
            _remove_tree(self.tmp)
        for folder in reversed(self.created):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if still empty

    def end(self) -> None:
        if self.tmp is not None:
            _remove_tree(self.tmp)


def _remove_tree(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()


def _make_folders(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, appending each one made to ``created``."""
    missing = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{probe} is a file, not a folder")
    for part in reversed(missing):
        try:
            part.mkdir()
        except FileExistsError:
            if not part.is_dir():
                raise
            continue
        created.append(part)


# Writes in progress (any thread) and the signal handlers installed for the main thread's.
_ACTIVE: set[_Staging] = set()
_LOCK = threading.Lock()
_MAIN_DEPTH = 0
_PREVIOUS_HANDLERS: dict[int, Any] = {}
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP")
                 if hasattr(signal, name))


def _on_signal(signum: int, frame: Any) -> None:
    """Remove the outputs in progress before a signal ends the process.

    A Python handler that was installed before (e.g. the one raising KeyboardInterrupt for
    SIGINT) is called: the exception it raises unwinds through the writer, which removes its
    temporary folder. A signal whose default action is to end the process: remove the
    temporaries, then let it end the process as it would have.
    """
    previous = _PREVIOUS_HANDLERS.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
        return
    with _LOCK:
        active = list(_ACTIVE)
    for staging in active:
        staging.discard()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _register(staging: _Staging) -> None:
    global _MAIN_DEPTH
    with _LOCK:
        _ACTIVE.add(staging)
    if not _in_main_thread():
        return
    _MAIN_DEPTH += 1
    if _MAIN_DEPTH > 1:
        return
    for signum in _SIGNALS:
        try:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN:
                continue
            _PREVIOUS_HANDLERS[signum] = signal.SIG_DFL if previous is None else previous
            signal.signal(signum, _on_signal)
        except (ValueError, OSError):  # not the main interpreter, or not settable here
            _PREVIOUS_HANDLERS.pop(signum, None)


def _unregister(staging: _Staging) -> None:
    global _MAIN_DEPTH
    with _LOCK:
        _ACTIVE.discard(staging)
    if not _in_main_thread():
        return
    _MAIN_DEPTH -= 1
    if _MAIN_DEPTH > 0:
        return
    for signum, previous in list(_PREVIOUS_HANDLERS.items()):
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(signum) is _on_signal:  # unless someone replaced ours
                signal.signal(signum, previous)
        del _PREVIOUS_HANDLERS[signum]


def _check_target(path: Path, *, folder: bool) -> None:
    if folder:
        if path.exists() and not path.is_dir():
            raise DataFileError(f"{path}: is a file, not a folder")
    elif path.is_dir():
        raise DataFileError(f"{path}: is a folder; give the name of a file to write")
    elif path.exists() and not path.is_file():
        # renaming a finished file onto a device or a pipe would replace it (e.g. /dev/null)
        raise DataFileError(f"{path}: is a device or a pipe, not a file: bordergeo replaces "
                            f"its outputs whole (leave out -o to print to the terminal)")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise DataFileError(f"{path}: {parent} is a file, not a folder")
            break


_ERRNO_REASONS = {
    errno.ENOSPC: "no space left on the disk",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the folder is on a read-only file system",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the name is too long",
}
if hasattr(errno, "EDQUOT"):
    _ERRNO_REASONS[errno.EDQUOT] = "disk quota exceeded"


def _reason(exc: BaseException) -> str:
    """One line saying why a write failed (an errno is put in plain words)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _ERRNO_REASONS:
            return _ERRNO_REASONS[seen.errno]
        seen = seen.__cause__ or seen.__context__
    text = str(exc).strip()
    if "No space left on device" in text:  # GDAL reports errno as text
        return _ERRNO_REASONS[errno.ENOSPC]
    if "Permission denied" in text:
        return _ERRNO_REASONS[errno.EACCES]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], *, what: str = "the file",
                  folder: bool = False) -> Iterator[Path]:
    """Stage an output beside ``path`` and move it into place only if the block succeeds.

    This is the one writer every bordergeo output goes through.

    Parameters
    ----------
    path
        Final destination; its folder is created if needed (and removed again on failure).
    what
        Words for the output in error messages ("the GeoPackage").
    folder
        The output is a folder of files: create the yielded path as a folder and write into
        it. A new folder appears whole; into an existing folder the files are moved one by
        one, only after all were written.

    Yields
    ------
    pathlib.Path
        Where to write: ``<temporary folder>/<name of path>``. For a Shapefile, every file
        written beside it moves to ``path`` with its own suffix.

    Raises
    ------
    DataFileError
        For a file system failure (``OSError``: permission denied, disk full, ...) naming
        ``path``. Any other exception raised in the block passes through unchanged. Either
        way the previous output is left untouched and the temporary folder is removed.
    """
    path = Path(path)
    _check_target(path, folder=folder)
    staging = _Staging(path)
    _register(staging)
    try:
        staged = staging.begin()
        yield staged
        staging.commit()
    except BorderGeoError:
        staging.discard()
        raise
    except OSError as exc:
        staging.discard()
        raise DataFileError(f"{path}: cannot write {what} ({_reason(exc)})") from exc
    except BaseException:
        staging.discard()
        raise
    finally:
        staging.end()
        _unregister(staging)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], *, mode: str = "w") -> Iterator[IO]:
    """Open a file that replaces ``path`` only if the block succeeds (see :func:`atomic_output`).

    Parameters
    ----------
    path
        Final destination; its folder is created if needed.
    mode
        ``"w"`` for text (UTF-8, newlines as written) or ``"wb"`` for bytes.

    Yields
    ------
    file object
        Write to it; on an exception nothing replaces ``path``.

    Raises
    ------
    DataFileError
        If the file cannot be written.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', not {mode!r}")
    kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
    with atomic_output(path) as tmp, open(tmp, mode, **kwargs) as handle:
        yield handle


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8) and return the path."""
    with atomic_write(path) as handle:
        handle.write(text)
    return Path(path)


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table as one Parquet file atomically (whole or not at all).

    Parameters
    ----------
    frame
        The table (its index is not written).
    path
        The file.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    with atomic_write(path, mode="wb") as handle:
        frame.to_parquet(handle, index=False)
    return path


@contextlib.contextmanager
def _library_errors(path: Path, what: str) -> Iterator[None]:
    """Turn what GDAL, pyarrow or openpyxl raise while writing ``path`` into DataFileError."""
    try:
        yield
    except BorderGeoError:
        raise
    except Exception as exc:  # pyogrio, pyarrow and openpyxl raise many types
        raise DataFileError(f"{path}: cannot write {what} ({_reason(exc)})") from exc


def _stale_age(path: Path, now: float) -> float:
    """Seconds since anything in ``path`` (a file or a folder tree) last changed."""
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    return now - newest


def remove_stale_temporaries(folder: str | os.PathLike[str], *,
                             older_than_s: float = 3600.0) -> int:
    """Remove temporaries the writer left in ``folder`` when a process was killed.

    Only files and folders named ``.bordergeo-tmp-*`` (:data:`TEMP_PREFIX`, or the names
    earlier versions used: ``.bordergeo-XXXXXXXX``, ``.NAME.XXXXXXXX.tmp``) in which
    nothing changed for ``older_than_s`` seconds are removed, so a write in progress in
    another process is left alone.

    Parameters
    ----------
    folder
        An output folder; a missing folder has nothing to remove.
    older_than_s
        Minimum age in seconds.

    Returns
    -------
    int
        How many files or folders were removed.
    """
    folder = Path(folder)
    try:
        entries = [p for p in folder.iterdir()
                   if p.name.startswith(TEMP_PREFIX) or _LEGACY_TEMP.match(p.name)]
    except OSError:  # missing, not a folder, or unreadable: nothing of ours to remove
        return 0
    now = time.time()
    removed = 0
    for entry in entries:
        try:
            if _stale_age(entry, now) < older_than_s:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as exc:
            logger.warning("cannot remove the stale temporary %s (%s)", entry, exc)
            continue
        logger.info("removed the stale temporary %s", entry)
        removed += 1
    return removed


# --------------------------------------------------------------------------------------
# layers


def _shapefile_problems(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Refuse data a Shapefile would silently cut: long texts, colliding field names."""
    hint = "write a GeoPackage (.gpkg) instead"
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    cut: dict[str, list[str]] = {}
    for name in columns:
        short = str(name).encode("utf-8")[:_DBF_NAME_BYTES].decode("utf-8", "ignore")
        cut.setdefault(short.upper(), []).append(str(name))
    for names in cut.values():
        if len(names) > 1:
            raise DataFileError(
                f"{path}: fields {', '.join(map(repr, names))} would share one name in a "
                f"Shapefile, whose field names hold {_DBF_NAME_BYTES} characters; {hint}")
    ids = gdf["id"].tolist() if "id" in gdf.columns else None
    for name in columns:
        column = gdf[name]
        if not (pd.api.types.is_object_dtype(column.dtype)
                or isinstance(column.dtype, pd.StringDtype)):
            continue
        sizes = [len(v.encode("utf-8")) if isinstance(v, str) else 0 for v in column]
        too_long = [pos for pos, size in enumerate(sizes) if size > _DBF_TEXT_BYTES]
        if too_long:
            pos = too_long[0]
            row = ids[pos] if ids is not None else pos
            raise DataFileError(
                f"{path}: row {row!r}, field {name!r}: the text is {sizes[pos]} bytes long, "
                f"a Shapefile keeps {_DBF_TEXT_BYTES} and would cut it ({len(too_long)} "
                f"such row(s)); {hint}")


def _write_vector(gdf: gpd.GeoDataFrame, tmp: Path, *, layer: str | None = None) -> None:
    suffix = tmp.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        gdf.to_parquet(tmp)
        return
    options: dict[str, str] = {}
    if layer and suffix == ".gpkg":
        options["layer"] = layer
    with contextlib.ExitStack() as stack:
        if suffix == ".shp":
            options["DBF_DATE_LAST_UPDATE"] = reproducible_timestamp().strftime("%Y-%m-%d")
            stack.enter_context(warnings.catch_warnings())
            warnings.filterwarnings("ignore", "Column names longer than 10")
            warnings.filterwarnings("ignore", "Normalized/laundered field name")
            cut = [str(c) for c in gdf.columns if c != gdf.geometry.name
                   and len(str(c).encode("utf-8")) > _DBF_NAME_BYTES]
            if cut:  # collisions were refused before; bordergeo restores these names
                logger.warning("%s: field names cut to %d characters in the Shapefile: %s",
                               tmp.name, _DBF_NAME_BYTES, ", ".join(cut))
        stack.enter_context(_gdal_fixed_date())
        gdf.to_file(tmp, engine="pyogrio", **options)


def _check_suffix(path: Path, suffix: str) -> None:
    if suffix not in VECTOR_SUFFIXES:
        raise DataFileError(f"{path}: unsupported output format {suffix or '(no suffix)'!r}; "
                            f"use one of {', '.join(VECTOR_SUFFIXES)}")


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

    Raises
    ------
    DataFileError
        If the format is unknown, a Shapefile would cut texts or field names (checked
        before anything is written), or the file cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    _check_suffix(path, suffix)
    if suffix == ".shp":
        _shapefile_problems(gdf, path)
    with atomic_output(path, what="the file") as tmp, _library_errors(path, "the file"):
        _write_vector(gdf, tmp, layer=layer)
    return path


def write_layers(layers: dict[str, gpd.GeoDataFrame], path: str | os.PathLike[str], *,
                 suffix: str = ".geojson") -> list[Path]:
    """Write several layers: into one GeoPackage, or as one file each in a folder.

    Parameters
    ----------
    layers
        Layer name → GeoDataFrame.
    path
        A ``.gpkg`` file (one layer per entry) or a folder. Either appears only once every
        layer is written; a failure leaves no file and no folder behind.
    suffix
        File type in a folder: ``.geojson``, ``.gpkg``, ``.parquet``, ``.fgb`` or ``.shp``.

    Returns
    -------
    list of pathlib.Path
        The file(s) written.
    """
    path = Path(path)
    if path.suffix.lower() == ".gpkg":
        with atomic_output(path, what="the GeoPackage") as tmp, \
                _library_errors(path, "the GeoPackage"):
            for name, gdf in layers.items():
                _write_vector(gdf, tmp, layer=name)
        return [path]
    if path.suffix:
        raise DataFileError(f"{path}: write several layers to a .gpkg file or to a folder")
    suffix = suffix.lower()
    _check_suffix(path / f"layer{suffix}", suffix)
    targets = {name: path / f"{name}{suffix}" for name in layers}
    if suffix == ".shp":
        for name, gdf in layers.items():
            _shapefile_problems(gdf, targets[name])
    with atomic_output(path, what="the layers", folder=True) as tmp:
        tmp.mkdir()
        for name, gdf in layers.items():
            with _library_errors(targets[name], "the layer"):
                _write_vector(gdf, tmp / targets[name].name, layer=name)
    return list(targets.values())


# --------------------------------------------------------------------------------------
# tables

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _neutral(value: Any) -> Any:
    """Apply the OWASP rule to one cell: a text that would run as a formula gets a ``'``."""
    if (isinstance(value, str) and value.startswith(_FORMULA_STARTS)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def _is_text(dtype: Any) -> bool:
    return (pd.api.types.is_object_dtype(dtype)
            or isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype)))


def _map_text(frame: pd.DataFrame, func: Any, *, index: bool) -> pd.DataFrame:
    """Apply ``func`` to every cell, column name and (with ``index``) index label of text."""
    out = frame.copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if _is_text(column.dtype):
            out.isetitem(position, column.map(func))
    if not isinstance(out.columns, pd.MultiIndex):
        out.columns = out.columns.map(func)
    if index and not isinstance(out.index, pd.MultiIndex) and _is_text(out.index.dtype):
        out.index = out.index.map(func)
    return out


def neutralise_formulas(frame: pd.DataFrame, *, index: bool = False) -> pd.DataFrame:
    """Protect a table against spreadsheet formula injection (CSV and ``.xlsx`` outputs).

    The OWASP rule: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return gets a single quote ``'`` in front, so a spreadsheet shows it as text
    instead of running it (``=HYPERLINK(...)`` becomes ``'=HYPERLINK(...)``). The quote is
    part of the written text. Column names (and index labels with ``index=True``) are
    treated the same way.

    Numbers are never changed: a negative number stays a number. A text that is exactly a
    plain decimal number (``"-5"``, ``"+3.25"``, ``"-1e3"``) is left as it is too: a
    spreadsheet can only read it as that number, never as a formula.

    Parameters
    ----------
    frame
        The table; not modified.
    index
        Also treat the index labels (when the index is written).

    Returns
    -------
    pandas.DataFrame
        A copy with the text cells neutralised.
    """
    return _map_text(frame, _neutral, index=index)


def _line_breaks_as(terminator: str) -> Any:
    r"""Write line breaks inside text cells with the terminator's own character.

    Python's CSV writer quotes a cell only for the characters of the line terminator: with
    ``"\n"`` rows, a carriage return inside a cell would be written bare and split the row
    in spreadsheets (a new row that may start with a formula).
    """
    if "\r" in terminator and "\n" in terminator:
        return None
    brk = "\r" if "\r" in terminator else "\n"

    def unify(value: Any) -> Any:
        if isinstance(value, str) and ("\r" in value or "\n" in value):
            return value.replace("\r\n", brk).replace("\r", brk).replace("\n", brk)
        return value

    return unify


def csv_text(frame: pd.DataFrame, *, index: bool = False, **to_csv_kwargs: Any) -> str:
    r"""Return a table as CSV text, protected against formula injection.

    Text cells are neutralised by :func:`neutralise_formulas`; a line break inside a text
    cell is written as the line terminator's character (``"\r\n"`` and ``"\r"`` become
    ``"\n"`` by default), so such a cell is always quoted and never splits its row.

    Parameters
    ----------
    frame
        The table.
    index
        Write the index as the first column.
    **to_csv_kwargs
        Passed to :meth:`pandas.DataFrame.to_csv` (e.g. ``float_format="%.3f"``);
        ``lineterminator`` defaults to ``"\n"``.

    Returns
    -------
    str
        The CSV text, the same on every platform.
    """
    terminator = to_csv_kwargs.setdefault("lineterminator", "\n")
    safe = neutralise_formulas(frame, index=index)
    unify = _line_breaks_as(terminator)
    if unify is not None:
        safe = _map_text(safe, unify, index=index)
    buffer = io.StringIO()
    safe.to_csv(buffer, index=index, **to_csv_kwargs)
    return buffer.getvalue()


_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def _reproducible_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Rewrite an .xlsx (a ZIP) with fixed entry dates and document dates."""
    when = stamp.astimezone(dt.UTC)
    date_time = max((when.year, when.month, when.day, when.hour, when.minute, when.second),
                    (1980, 1, 1, 0, 0, 0))  # the earliest date a ZIP entry can hold
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = _CORE_DATES.sub(rb"\g<1>" + iso + rb"\g<3>", body)
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, body)
    return out.getvalue()


def _workbook_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    stamp = reproducible_timestamp()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
            for col in plain.columns:
                if isinstance(plain[col].dtype, pd.DatetimeTZDtype):
                    plain[col] = plain[col].dt.tz_localize(None)
            neutralise_formulas(plain).to_excel(writer, sheet_name=str(name)[:31], index=False)
        book = writer.book
        for sheet in book.worksheets:  # openpyxl makes "=…" a formula and "#N/A" an error
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.data_type != "s":
                        cell.data_type = "s"
        naive = stamp.astimezone(dt.UTC).replace(tzinfo=None)
        book.properties.created = naive
        book.properties.modified = naive
    return _reproducible_zip(buffer.getvalue(), stamp)


def write_table(tables: pd.DataFrame | dict[str, pd.DataFrame],
                path: str | os.PathLike[str]) -> Path:
    """Write a table (CSV or Excel) or several tables (Excel sheets) atomically.

    Text cells are protected against formula injection (:func:`neutralise_formulas`);
    the bytes are the same on every run (:func:`reproducible_timestamp`).

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
        return atomic_write_text(path, csv_text(next(iter(sheets.values()))))
    with atomic_output(path, what="the workbook") as tmp:
        with _library_errors(path, "the workbook"):
            data = _workbook_bytes(sheets)
        tmp.write_bytes(data)
    return path
