"""Column contracts of the five layers and their validation.

Each layer (gates, markers, hubs, roads, border) has a :class:`LayerSchema`: the columns it
must or may have, their types, allowed values and ranges, and the geometry types it takes.
:func:`validate_layer` checks a GeoDataFrame against it and returns a clean copy in
EPSG:4326 with typed columns, or raises :class:`~bordergeo.errors.ValidationError` (a
:class:`~bordergeo.errors.SchemaError`) listing every problem found, each naming the file,
the row id and the field at fault.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from bordergeo.errors import Problem, ValidationError
from bordergeo.inputs import MAX_LANES, preview

__all__ = [
    "Column",
    "LayerSchema",
    "SCHEMAS",
    "GATE_LEVELS",
    "HOURS_COLUMNS",
    "GATE_MODES",
    "GATE_STATUSES",
    "HUB_KINDS",
    "ROAD_CLASSES",
    "ROAD_STATUSES",
    "CONFIDENCE",
    "MAX_TEXT_CHARS",
    "MAX_NOTE_CHARS",
    "AREA_OF_USE_MARGIN_DEG",
    "parse_hours",
    "validate_layer",
]

logger = logging.getLogger(__name__)

GATE_LEVELS = ("international", "main", "secondary", "crossing")
#: Opening-window columns of the gates layer: both directions, then by direction.
HOURS_COLUMNS = ("hours_vn", "hours_cn", "hours_vn_export", "hours_cn_export",
                 "hours_vn_import", "hours_cn_import")
GATE_MODES = ("road", "rail")
GATE_STATUSES = ("open", "closed", "restricted")
HUB_KINDS = ("city", "port", "airport", "icd", "logistics", "production")
MARKER_KINDS = ("main", "sub")
ROAD_CLASSES = ("expressway", "national", "provincial", "local", "cargo_road", "rail")
ROAD_STATUSES = ("open", "construction", "planned")
CONFIDENCE = ("H", "M", "L")

#: Longest id, name, reference or other short text cell. Real names are under 100
#: characters; the bound refuses runaway cells (a whole file pasted into a name).
MAX_TEXT_CHARS = 500
#: Longest note or source citation: the bundled road sources reach 410 characters (a few
#: citations with URLs), so free text gets more room than names.
MAX_NOTE_CHARS = 2_000
#: How far (degrees) reprojected coordinates may stray outside the area of use of their
#: declared projected CRS. Data a little outside its UTM zone is common (all of Vietnam is
#: often kept in UTM 48N, up to 1.5° beyond the zone); a CRS that is plainly wrong puts it
#: much farther off.
AREA_OF_USE_MARGIN_DEG = 2.0
#: Rows named in a message besides the first one; the rest are counted.
_ROWS_NAMED = 3
_INT64_LIMIT = 2.0**63

_HOURS_RE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def parse_hours(text: str) -> tuple[float, float]:
    """Parse an opening window ``"HH:MM-HH:MM"`` into hours since midnight.

    Parameters
    ----------
    text
        The window on one clock, e.g. ``"07:00-19:00"``; ``"00:00-24:00"`` is all day.

    Returns
    -------
    tuple of float
        Opening and closing hour, e.g. ``(7.0, 19.0)``.

    Raises
    ------
    ValueError
        If the text is not of that form or closes before it opens.
    """
    match = _HOURS_RE.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{preview(text)} is not an opening window like '07:00-19:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 + m1 / 60, h2 + m2 / 60
    if start > 24 or end > 24 or end <= start:
        raise ValueError(f"{preview(text)} closes before it opens (or runs past 24:00)")
    return start, end


@dataclass(frozen=True)
class Column:
    """One column of a layer contract.

    Parameters
    ----------
    name
        Column name.
    kind
        ``"str"``, ``"id"`` (string, integers accepted and converted), ``"int"``,
        ``"float"`` or ``"bool"``.
    required
        Whether the column must be present; an optional column that is absent is added
        with its default.
    nullable
        Whether a row may leave it empty.
    choices
        Allowed values, if the column is an enumeration.
    minimum
        Smallest allowed value for numbers.
    positive
        Whether numbers must be strictly greater than zero.
    default
        Value an absent optional column, and every empty cell of a present one (null,
        NaN, empty or blank text), is filled with.
    doc
        What the column means (used in the data README and error hints).
    maximum
        Largest allowed value for numbers.
    max_chars
        Longest allowed text (``"str"`` and ``"id"`` columns).
    """

    name: str
    kind: str
    required: bool = False
    nullable: bool = True
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    positive: bool = False
    default: object = None
    doc: str = ""
    maximum: float | None = None
    max_chars: int = MAX_TEXT_CHARS


@dataclass(frozen=True)
class LayerSchema:
    """The contract of one layer: its columns and geometry types."""

    name: str
    columns: tuple[Column, ...]
    geometry_types: tuple[str, ...]
    extra_checks: tuple[str, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        """Return the :class:`Column` called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        """Names of all columns in contract order."""
        return [c.name for c in self.columns]


_COORD = (
    Column("coord_source", "str", doc="where the coordinate comes from",
           max_chars=MAX_NOTE_CHARS),
    Column("coord_confidence", "str", choices=CONFIDENCE, doc="H, M or L (L = estimated)"),
)
_NAMES = (
    Column("name_vi", "str", required=True, nullable=False, doc="Vietnamese name"),
    Column("name_en", "str", doc="English name"),
    Column("name_zh", "str", doc="Chinese name"),
)

GATES = LayerSchema(
    "gates",
    (
        Column("id", "id", required=True, nullable=False, doc="stable ASCII slug"),
        *_NAMES,
        Column("level", "str", required=True, nullable=False, choices=GATE_LEVELS),
        Column("mode", "str", required=True, nullable=False, choices=GATE_MODES),
        Column("parent_id", "str", doc="crossing whose capacity this lane or cargo road is "
                                       "part of (summed once into the parent)"),
        Column("pair_id", "str", doc="international gate pair the crossing legally belongs "
                                     "to (not summed: reporting stays per crossing)"),
        Column("district", "str"),
        Column("status", "str", choices=GATE_STATUSES, nullable=False, default="open"),
        Column("status_note", "str", max_chars=MAX_NOTE_CHARS),
        Column("counterpart_en", "str", doc="Chinese counterpart, English name"),
        Column("counterpart_zh", "str", doc="Chinese counterpart, Chinese name"),
        Column("markers", "str", doc="border markers at the crossing",
               max_chars=MAX_NOTE_CHARS),
        Column("lanes_export", "int", minimum=0, maximum=MAX_LANES),
        Column("lanes_import", "int", minimum=0, maximum=MAX_LANES),
        Column("hours_vn", "str", doc="window on the Vietnamese clock (UTC+7)"),
        Column("hours_cn", "str", doc="window on the Chinese clock (UTC+8)"),
        Column("hours_vn_export", "str", doc="export window, Vietnamese clock (default hours_vn)"),
        Column("hours_cn_export", "str", doc="export window, Chinese clock (default hours_cn)"),
        Column("hours_vn_import", "str", doc="import window, Vietnamese clock (default hours_vn)"),
        Column("hours_cn_import", "str", doc="import window, Chinese clock (default hours_cn)"),
        Column("service_rate_trucks_h", "float", positive=True, doc="per lane"),
        Column("capacity_trucks_day", "float", minimum=0),
        Column("capacity_date", "str"),
        Column("capacity_source", "str", max_chars=MAX_NOTE_CHARS),
        *_COORD,
    ),
    ("Point",),
)

MARKERS = LayerSchema(
    "markers",
    (
        Column("id", "id", required=True, nullable=False, doc="as written, e.g. 1088/2"),
        Column("kind", "str", choices=MARKER_KINDS, default="main"),
        Column("gate_id", "str", doc="the crossing it stands at"),
        Column("note", "str", max_chars=MAX_NOTE_CHARS),
        *_COORD,
    ),
    ("Point",),
)

HUBS = LayerSchema(
    "hubs",
    (
        Column("id", "id", required=True, nullable=False),
        *_NAMES,
        Column("kind", "str", required=True, nullable=False, choices=HUB_KINDS),
        Column("note", "str", max_chars=MAX_NOTE_CHARS),
        *_COORD,
    ),
    ("Point",),
)

ROADS = LayerSchema(
    "roads",
    (
        Column("id", "id", required=True, nullable=False),
        Column("ref", "str", doc="road number, e.g. QL1A, CT.01"),
        Column("name", "str"),
        Column("class", "str", required=True, nullable=False, choices=ROAD_CLASSES),
        Column("oneway", "bool", nullable=False, default=False),
        Column("maxspeed_kph", "float", positive=True),
        Column("lanes", "int", minimum=1, maximum=MAX_LANES),
        Column("status", "str", choices=ROAD_STATUSES, nullable=False, default="open"),
        Column("length_m", "float", positive=True, doc="documented length, if cited"),
        Column("source", "str", max_chars=MAX_NOTE_CHARS),
    ),
    ("LineString", "MultiLineString"),
)

BORDER = LayerSchema(
    "border",
    (
        Column("id", "id", required=True, nullable=False),
        Column("name", "str"),
        Column("source", "str", max_chars=MAX_NOTE_CHARS),
    ),
    ("LineString", "MultiLineString"),
)

SCHEMAS: dict[str, LayerSchema] = {
    s.name: s for s in (GATES, MARKERS, HUBS, ROADS, BORDER)
}

_TRUE = {"true", "yes", "1", "t", "y"}
_FALSE = {"false", "no", "0", "f", "n"}


def _show(value: object) -> str:
    """Quote a cell for a message: whole numbers without ``.0``, long text cut short."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return f"{float(value):g}"
    return preview(value)


def _row_label(gdf: pd.DataFrame, position: int) -> object:
    """Name a row for messages: its id, or ``#position`` (1-based) if it has no usable id."""
    if "id" in gdf.columns:
        value = gdf["id"].iloc[position]
        if isinstance(value, str) and value.strip() and len(value) <= 60:
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            return int(value)
    return f"#{position + 1}"


class _Findings:
    """Problems found in one layer, rows with the same problem gathered into one entry."""

    def __init__(self, source: str, frame: pd.DataFrame, *, kind: str = "schema") -> None:
        self.source = source
        self.frame = frame
        self.kind = kind
        self.problems: list[Problem] = []

    def add(self, message: str, *, field: str | None = None, row: object | None = None,
            rows: int = 0) -> None:
        """Record a problem of the whole layer (or of one row given by ``row``)."""
        self.problems.append(Problem(message, source=self.source, row=row, field=field,
                                     rows=rows, kind=self.kind))

    def rows(self, mask: NDArray[np.bool_], field: str | None,
             describe: Callable[[int], str]) -> None:
        """Record one problem for all rows in ``mask``, described from the first of them."""
        positions = np.flatnonzero(mask)
        if not len(positions):
            return
        first = int(positions[0])
        message = describe(first)
        if len(positions) > 1:
            named = [repr(_row_label(self.frame, int(p)))
                     for p in positions[1:1 + _ROWS_NAMED]]
            rest = len(positions) - 1 - len(named)
            message += (f" (also row{'s' if len(positions) > 2 else ''} {', '.join(named)}"
                        + (f" and {rest:,} more" if rest else "") + ")")
        self.add(message, field=field, row=_row_label(self.frame, first), rows=len(positions))


@dataclass
class _Cells:
    """The cells of one column as Python objects, with their types when mixed."""

    values: NDArray[np.object_]
    missing: NDArray[np.bool_]
    types: NDArray[np.object_] | None  # None: a typed column (no per-cell types needed)
    is_text: NDArray[np.bool_]
    strings: pd.Series | None = None  # the column itself when it is a string column

    @classmethod
    def of(cls, series: pd.Series) -> _Cells:
        values = series.to_numpy(dtype=object)
        missing = series.isna().to_numpy(dtype=bool)
        types = None
        if series.dtype == object:
            types = np.fromiter(map(type, values), dtype=object, count=len(values))
        cells = cls(values, missing, types, np.zeros(len(values), dtype=bool))
        if pd.api.types.is_string_dtype(series.dtype) and types is None:
            cells.is_text = ~missing
            cells.strings = series.reset_index(drop=True)
        else:
            cells.is_text = cells.mask(_is_text) & ~missing
        return cells

    def mask(self, accept: Callable[[type], bool]) -> NDArray[np.bool_]:
        """Cells whose Python type passes ``accept`` (tested once per distinct type)."""
        mask = np.zeros(len(self.values), dtype=bool)
        if self.types is not None:
            for kind in set(self.types.tolist()):
                if accept(kind):
                    mask |= self.types == kind
        return mask

    def text(self, mask: NDArray[np.bool_]) -> pd.Series:
        """Return the text cells in ``mask`` as a (pyarrow-backed) string Series."""
        if self.strings is not None:
            return self.strings[mask]
        return pd.Series(self.values[mask], dtype="str")


def _is_text(kind: type) -> bool:
    return issubclass(kind, str)


def _is_integer(kind: type) -> bool:
    return issubclass(kind, (int, np.integer)) and not issubclass(kind, (bool, np.bool_))


def _is_bool(kind: type) -> bool:
    return issubclass(kind, (bool, np.bool_))


def _is_number(kind: type) -> bool:
    return issubclass(kind, (int, float, np.number)) and not _is_bool(kind)


def _coerce_text(col: Column, series: pd.Series, cells: _Cells, present: NDArray[np.bool_],
                 found: _Findings) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    values, n = cells.values, len(cells.values)
    if pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype):  # an integer column read from a file
        ints = present if col.kind == "id" else np.zeros(n, dtype=bool)
    else:
        ints = cells.mask(_is_integer) & present if col.kind == "id" else np.zeros(n, bool)
    accepted = cells.is_text | ints
    found.rows(present & ~accepted, col.name, lambda p: f"{_show(values[p])} is not text")
    out = np.full(n, None, dtype=object)
    text = present & cells.is_text
    out[text] = values[text]
    if ints.any():
        out[ints] = pd.Series(values[ints], dtype=object).astype(str).to_numpy(object)
    lengths = np.zeros(n, dtype=np.int64)
    if text.any():
        lengths[text] = cells.text(text).str.len().to_numpy(np.int64)
    too_long = text & (lengths > col.max_chars)
    found.rows(too_long, col.name, lambda p: f"{_show(values[p])} is too long; "
                                             f"{col.name} takes at most {col.max_chars:,} "
                                             f"characters")
    valid = present & accepted & ~too_long
    out[~valid] = None
    return out, valid


def _coerce_bool(col: Column, series: pd.Series, cells: _Cells, present: NDArray[np.bool_],
                 found: _Findings) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    values = cells.values
    parsed = np.full(len(values), None, dtype=object)
    valid = np.zeros(len(values), dtype=bool)
    if cells.types is None:  # a typed column: booleans, numbers or text
        flags = present & pd.api.types.is_bool_dtype(series.dtype)
        numbers = present & pd.api.types.is_numeric_dtype(series.dtype) & ~flags
    else:
        flags = present & cells.mask(_is_bool)
        numbers = present & cells.mask(_is_number)
    parsed[flags] = values[flags].astype(bool)
    valid |= flags
    if numbers.any():
        nums = pd.to_numeric(pd.Series(values[numbers], dtype=object),
                             errors="coerce").to_numpy(float)
        ok = (nums == 0) | (nums == 1)
        where = np.flatnonzero(numbers)[ok]
        parsed[where] = nums[ok] == 1
        valid[where] = True
    words = present & cells.is_text
    if words.any():
        lowered = cells.text(words).str.strip().str.lower()
        truthy = lowered.isin(_TRUE).to_numpy()
        known = truthy | lowered.isin(_FALSE).to_numpy()
        where = np.flatnonzero(words)[known]
        parsed[where] = truthy[known]
        valid[where] = True
    found.rows(present & ~valid, col.name, lambda p: f"{_show(values[p])} is not true or false")
    return parsed, valid


def _coerce_number(col: Column, series: pd.Series, cells: _Cells, present: NDArray[np.bool_],
                   found: _Findings) -> tuple[pd.Series, NDArray[np.bool_]]:
    values, n = cells.values, len(cells.values)
    if pd.api.types.is_bool_dtype(series.dtype):
        numeric = pd.Series(np.full(n, np.nan))
        flags = present.copy()
    elif pd.api.types.is_numeric_dtype(series.dtype):
        numeric = series.reset_index(drop=True)
        flags = np.zeros(n, dtype=bool)
    else:
        flags = cells.mask(_is_bool)
        numeric = pd.to_numeric(pd.Series(np.where(present & ~flags, values, None), dtype=object),
                                errors="coerce")
    nums = numeric.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        not_number = present & (flags | np.isnan(nums))
        found.rows(not_number, col.name, lambda p: f"{_show(values[p])} is not a number")
        ok = present & ~not_number
        infinite = ok & ~np.isfinite(nums)
        found.rows(infinite, col.name, lambda p: f"{_show(values[p])} is not a finite number")
        ok &= ~infinite
        if col.kind == "int":
            fractional = ok & (nums % 1 != 0)
            found.rows(fractional, col.name,
                       lambda p: f"{_show(values[p])} is not a whole number")
            ok &= ~fractional
            huge = ok & ((nums >= _INT64_LIMIT) | (nums < -_INT64_LIMIT))
            found.rows(huge, col.name, lambda p: f"{_show(values[p])} does not fit in a 64-bit "
                                                 f"integer (whole numbers in integer fields "
                                                 f"must lie between ±9.2e18)")
            ok &= ~huge
        if col.minimum is not None:
            low = ok & (nums < col.minimum)
            found.rows(low, col.name, lambda p: (
                f"{_show(values[p])} is {'negative' if nums[p] < 0 else 'too small'}; it must "
                f"be at least {col.minimum:g}"))
            ok &= ~low
        if col.positive:
            low = ok & (nums <= 0)
            found.rows(low, col.name, lambda p: f"{_show(values[p])} must be greater than 0")
            ok &= ~low
        if col.maximum is not None:
            high = ok & (nums > col.maximum)
            found.rows(high, col.name, lambda p: f"{_show(values[p])} is too large; it must "
                                                 f"be at most {col.maximum:,g}")
            ok &= ~high
    if col.kind == "int":
        if numeric.dtype.kind == "i":
            out = pd.Series(numeric.to_numpy(), dtype="Int64")
        else:
            out = pd.Series(np.where(ok, nums, 0.0)).astype("int64").astype("Int64")
        out[~ok] = pd.NA
    else:
        out = pd.Series(np.where(ok, nums, np.nan), dtype=float)
    return out, ok


def _coerce_column(gdf: gpd.GeoDataFrame, col: Column, found: _Findings) -> pd.Series:
    """Type one column; record its problems; bad cells come back empty."""
    series = gdf[col.name]
    cells = _Cells.of(series)
    blank = np.zeros(len(series), dtype=bool)
    if cells.is_text.any():
        blank[cells.is_text] = (cells.text(cells.is_text).str.strip() == "").to_numpy(bool)
    if col.kind == "id":
        found.rows(blank, col.name, lambda p: "is blank")
        empty = cells.missing
    else:
        empty = cells.missing | blank
    if col.default is None and not col.nullable:
        found.rows(empty, col.name, lambda p: "is empty but must have a value")
    present = ~empty & ~blank
    out: pd.Series
    if col.kind in ("str", "id"):
        typed, valid = _coerce_text(col, series, cells, present, found)
        out = pd.Series(typed, dtype=object)
    elif col.kind == "bool":
        typed, valid = _coerce_bool(col, series, cells, present, found)
        out = pd.Series(typed, dtype="boolean")
    else:
        out, valid = _coerce_number(col, series, cells, present, found)
    if col.choices is not None:
        unknown = valid & ~out.isin(col.choices).to_numpy()
        found.rows(unknown, col.name, lambda p: f"unknown value {_show(out.iloc[p])}; expected "
                                                f"one of {', '.join(col.choices)}")
    if col.default is not None and empty.any():
        out[empty] = col.default
    out.index = series.index
    return out


def _restore_truncated_names(gdf: gpd.GeoDataFrame, schema: LayerSchema) -> gpd.GeoDataFrame:
    """Undo the 10-character limit of Shapefile (dBASE) field names."""
    renames = {}
    for name in gdf.columns:
        if name in schema.column_names or len(name) != 10:
            continue
        full = [c for c in schema.column_names if c.startswith(name) and c not in gdf.columns]
        if len(full) == 1:
            renames[name] = full[0]
    return gdf.rename(columns=renames) if renames else gdf


def _crs_label(crs: pyproj.CRS) -> str:
    """``EPSG:3857 (WGS 84 / Pseudo-Mercator)``, or the CRS name when it has no code."""
    code = crs.to_epsg()
    return f"EPSG:{code} ({crs.name})" if code else preview(crs.name)


def _crs_code(crs: pyproj.CRS) -> str:
    """``EPSG:4326``-like text of a CRS, or its label when that text is a long WKT."""
    text = crs.to_string()
    return text if len(text) <= 40 else _crs_label(crs)


def _unit_text(crs: pyproj.CRS) -> str:
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    return {"metre": "metres", "foot": "feet", "US survey foot": "US survey feet"}.get(
        unit, unit)


def _row_bounds(gdf: gpd.GeoDataFrame) -> NDArray[np.float64]:
    """Per-row (xmin, ymin, xmax, ymax); NaN for missing or empty geometries."""
    return np.asarray(shapely.bounds(gdf.geometry.to_numpy()), dtype=float).reshape(-1, 4)


def _check_crs(gdf: gpd.GeoDataFrame, found: _Findings
               ) -> tuple[gpd.GeoDataFrame, NDArray[np.bool_]]:
    """Check the CRS against the coordinates; return the layer in EPSG:4326 if possible.

    The mask marks rows already reported here (their geometry is not checked again).
    """
    crs = gdf.crs
    flagged = np.zeros(len(gdf), dtype=bool)
    if crs is None:
        found.add("has no coordinate reference system (CRS); set one, e.g. EPSG:4326 for "
                  "lon/lat", field="geometry")
        return gdf, flagged
    x0, y0, x1, y1 = _row_bounds(gdf).T
    with np.errstate(invalid="ignore"):
        if crs.is_geographic:
            lat_bad = (np.abs(y0) > 90) | (np.abs(y1) > 90)
            lon_bad = (np.abs(x0) > 180) | (np.abs(x1) > 180)
            bad = lat_bad | lon_bad
            projected = bad & (lon_bad | ((np.abs(x0) > 90) & (np.abs(y0) > 90)))
            found.rows(projected, "geometry", lambda p: (
                f"coordinates ({x0[p]:.6g}, {y0[p]:.6g}) look projected (metres), but the CRS "
                f"says {_crs_code(crs)} (degrees); set the real CRS"))
            found.rows(bad & ~projected, "geometry", lambda p: (
                f"latitude {y0[p]:.6g} is beyond ±90 while longitude is {x0[p]:.6g}: "
                f"longitude and latitude look swapped (x must be longitude)"))
            if bad.any() or crs.equals(4326):
                return gdf, bad
        else:
            degrees = ((np.abs(x0) <= 180) & (np.abs(x1) <= 180) & (np.abs(y0) <= 90)
                       & (np.abs(y1) <= 90))
            found.rows(degrees, "geometry", lambda p: (
                f"coordinates ({x0[p]:.6g}, {y0[p]:.6g}) look like degrees (longitude, "
                f"latitude) but the file declares {_crs_label(crs)}, in {_unit_text(crs)}; "
                f"if they are lon/lat, set the CRS to EPSG:4326"))
            flagged |= degrees
    logger.info("%s: reprojecting from %s to EPSG:4326", found.source, crs.to_string())
    try:
        out = gdf.to_crs(4326)
    except Exception as exc:  # pyproj raises several types
        found.add(f"cannot reproject from {_crs_code(crs)} to EPSG:4326: "
                  f"{preview(str(exc), limit=200)}", field="geometry")
        return gdf, np.ones(len(gdf), dtype=bool)
    if crs.is_geographic:
        return out, flagged
    present = ~np.isnan(x0)
    lon0, lat0, lon1, lat1 = _row_bounds(out).T
    lost = present & ~flagged & ~np.isfinite(np.c_[lon0, lat0, lon1, lat1]).all(axis=1)
    found.rows(lost, "geometry", lambda p: (
        f"coordinates ({x0[p]:.6g}, {y0[p]:.6g}) cannot be placed on the Earth under "
        f"{_crs_label(crs)}; the declared CRS looks wrong"))
    flagged |= lost
    area = crs.area_of_use
    if area is not None:
        m = AREA_OF_USE_MARGIN_DEG
        with np.errstate(invalid="ignore"):
            outside = (lat0 < area.south - m) | (lat1 > area.north + m)
            if area.west <= area.east:  # areas across the antimeridian: latitude only
                outside |= (lon0 < area.west - m) | (lon1 > area.east + m)
        outside &= present & ~flagged
        found.rows(outside, "geometry", lambda p: (
            f"coordinates ({x0[p]:.6g}, {y0[p]:.6g}) fall at lon {lon0[p]:.4g}, lat "
            f"{lat0[p]:.4g}, outside the area where {_crs_label(crs)} is used (lon "
            f"{area.west:g} to {area.east:g}, lat {area.south:g} to {area.north:g}); the "
            f"declared CRS looks wrong"))
        flagged |= outside
    return out, flagged


_GEOMETRY_NAMES = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                            "MultiLineString", "MultiPolygon", "GeometryCollection"])


def _check_geometry(gdf: gpd.GeoDataFrame, schema: LayerSchema, found: _Findings,
                    flagged: NDArray[np.bool_]) -> None:
    geoms = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geoms)
    found.rows(missing, "geometry", lambda p: "has no geometry")
    empty = ~missing & shapely.is_empty(geoms)
    found.rows(empty, "geometry", lambda p: "has an empty geometry")
    ok = ~missing & ~empty
    names = _GEOMETRY_NAMES[np.clip(shapely.get_type_id(geoms), 0, 7)]
    wrong = ok & ~np.isin(names, schema.geometry_types)
    found.rows(wrong, "geometry", lambda p: (
        f"geometry is a {names[p]}; the {schema.name} layer takes "
        f"{' or '.join(schema.geometry_types)}"))
    ok &= ~wrong & ~flagged
    coords = shapely.get_coordinates(geoms[ok])
    if not np.isfinite(coords).all():
        coords, index = shapely.get_coordinates(geoms[ok], return_index=True)
        bad_rows = np.unique(index[~np.isfinite(coords).all(axis=1)])
        nonfinite = np.zeros(len(geoms), dtype=bool)
        nonfinite[np.flatnonzero(ok)[bad_rows]] = True
        found.rows(nonfinite, "geometry", lambda p: "geometry has non-finite coordinates")
        ok &= ~nonfinite
    invalid = ok.copy()
    invalid[ok] = ~shapely.is_valid(geoms[ok])
    found.rows(invalid, "geometry", lambda p: (
        f"invalid geometry ({preview(shapely.is_valid_reason(geoms[p]), limit=120)[1:-1]})"))


def _check_hours(typed: dict[str, pd.Series], found: _Findings) -> None:
    for clock in HOURS_COLUMNS:
        text = typed[clock]
        given = text.notna().to_numpy()
        parts = text.str.strip().str.extract(_HOURS_RE).astype(float)
        start = (parts[0] + parts[1] / 60).to_numpy()
        end = (parts[2] + parts[3] / 60).to_numpy()
        with np.errstate(invalid="ignore"):
            shape = given & np.isnan(start)
            order = given & ~shape & ((start > 24) | (end > 24) | (end <= start))

        def describe(pos: int, clock: str = clock) -> str:
            try:
                parse_hours(typed[clock].iloc[pos])
            except ValueError as exc:
                return str(exc)
            return "is not an opening window"  # pragma: no cover - masks agree with parse

        found.rows(shape, clock, describe)
        found.rows(order, clock, describe)


def validate_layer(
    gdf: gpd.GeoDataFrame | pd.DataFrame,
    layer: str | LayerSchema,
    *,
    source: str | None = None,
) -> gpd.GeoDataFrame:
    """Check a layer against its contract and return a clean, typed copy.

    Every column and row is checked; all problems are gathered (rows sharing a problem
    are reported together) and raised at once.

    Parameters
    ----------
    gdf
        The layer as read from a file or built in code.
    layer
        ``"gates"``, ``"markers"``, ``"hubs"``, ``"roads"``, ``"border"`` or a
        :class:`LayerSchema`.
    source
        Name of the file or layer, used in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, contract columns first (optional ones filled with their default, also
        in empty cells), extra columns kept after them, index reset.

    Raises
    ------
    ValidationError
        A :class:`~bordergeo.errors.SchemaError` whose ``problems`` list every problem
        (its message is the first one): missing columns, wrong types, unknown enum values,
        numbers out of range or too large for their type, text too long, duplicate or
        empty ids, missing/empty/invalid geometry, wrong geometry type, missing CRS,
        coordinates that look projected, swapped, or in degrees under a projected CRS,
        or outside the area of use of their CRS.
    """
    schema = SCHEMAS[layer] if isinstance(layer, str) else layer
    src = source or schema.name
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise ValidationError([Problem("is not a spatial layer (no geometry column)",
                                       source=src)])
    gdf = gdf.reset_index(drop=True)
    gdf = _restore_truncated_names(gdf, schema)
    found = _Findings(src, gdf)
    missing_cols = [c.name for c in schema.columns if c.required and c.name not in gdf.columns]
    if missing_cols:
        found.add(f"missing required column(s): {', '.join(missing_cols)} (the {schema.name} "
                  f"layer needs {', '.join(c.name for c in schema.columns if c.required)})")
    gdf, flagged = _check_crs(gdf, found)
    typed: dict[str, pd.Series] = {}
    for col in schema.columns:
        if col.name in gdf.columns:
            typed[col.name] = _coerce_column(gdf, col, found)
        elif not col.required:
            dtype = {"int": "Int64", "float": float, "bool": "boolean"}.get(col.kind, object)
            typed[col.name] = pd.Series([col.default] * len(gdf), index=gdf.index, dtype=dtype)
    if "id" in typed:
        ids = typed["id"]
        dup = (ids.notna() & ids.duplicated(keep="first")).to_numpy()
        found.rows(dup, "id", lambda p: "duplicate id (ids must be unique)")
    _check_geometry(gdf, schema, found, flagged)
    if schema is GATES and "hours_vn" in typed:
        _check_hours(typed, found)
    if schema in (GATES, HUBS) and "id" in typed:
        given = typed["id"].notna().to_numpy()
        not_slug = np.zeros(len(given), dtype=bool)
        not_slug[given] = ~typed["id"][given].str.match(_SLUG_RE).to_numpy(bool)
        found.rows(not_slug, "id", lambda p: "ids must be lower-case ASCII slugs like "
                                             "'huu-nghi'")
    if found.problems:
        raise ValidationError(found.problems)
    extra = [c for c in gdf.columns if c not in typed and c != gdf.geometry.name]
    return gpd.GeoDataFrame({**typed, **{c: gdf[c] for c in extra}},
                            geometry=gdf.geometry.to_numpy(), crs="EPSG:4326")
