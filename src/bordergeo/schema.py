"""Column contracts of the five layers and their validation.

Each layer (gates, markers, hubs, roads, border) has a :class:`LayerSchema`: the columns it
must or may have, their types, allowed values and ranges, and the geometry types it takes.
:func:`validate_layer` checks a GeoDataFrame against it and returns a clean copy in
EPSG:4326 with typed columns, or raises :class:`~bordergeo.errors.SchemaError` naming the
file, the row id and the field at fault.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bordergeo.errors import SchemaError

__all__ = [
    "Column",
    "LayerSchema",
    "SCHEMAS",
    "GATE_LEVELS",
    "GATE_MODES",
    "GATE_STATUSES",
    "HUB_KINDS",
    "ROAD_CLASSES",
    "ROAD_STATUSES",
    "CONFIDENCE",
    "parse_hours",
    "validate_layer",
]

logger = logging.getLogger(__name__)

GATE_LEVELS = ("international", "main", "secondary", "crossing")
GATE_MODES = ("road", "rail")
GATE_STATUSES = ("open", "closed", "restricted")
HUB_KINDS = ("city", "port", "airport", "icd", "logistics", "production")
MARKER_KINDS = ("main", "sub")
ROAD_CLASSES = ("expressway", "national", "provincial", "local", "cargo_road", "rail")
ROAD_STATUSES = ("open", "construction", "planned")
CONFIDENCE = ("H", "M", "L")

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
        raise ValueError(f"{text!r} is not an opening window like '07:00-19:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 + m1 / 60, h2 + m2 / 60
    if start > 24 or end > 24 or end <= start:
        raise ValueError(f"{text!r} closes before it opens (or runs past 24:00)")
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
        Value an absent optional column is filled with.
    doc
        What the column means (used in the data README and error hints).
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
    Column("coord_source", "str", doc="where the coordinate comes from"),
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
        Column("parent_id", "str", doc="gate pair this route belongs to"),
        Column("district", "str"),
        Column("status", "str", choices=GATE_STATUSES, nullable=False, default="open"),
        Column("status_note", "str"),
        Column("counterpart_en", "str", doc="Chinese counterpart, English name"),
        Column("counterpart_zh", "str", doc="Chinese counterpart, Chinese name"),
        Column("markers", "str", doc="border markers at the crossing"),
        Column("lanes_export", "int", minimum=0),
        Column("lanes_import", "int", minimum=0),
        Column("hours_vn", "str", doc="window on the Vietnamese clock (UTC+7)"),
        Column("hours_cn", "str", doc="window on the Chinese clock (UTC+8)"),
        Column("service_rate_trucks_h", "float", positive=True, doc="per lane"),
        Column("capacity_trucks_day", "float", minimum=0),
        Column("capacity_date", "str"),
        Column("capacity_source", "str"),
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
        Column("note", "str"),
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
        Column("note", "str"),
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
        Column("lanes", "int", minimum=1),
        Column("status", "str", choices=ROAD_STATUSES, nullable=False, default="open"),
        Column("length_m", "float", positive=True, doc="documented length, if cited"),
        Column("source", "str"),
    ),
    ("LineString", "MultiLineString"),
)

BORDER = LayerSchema(
    "border",
    (
        Column("id", "id", required=True, nullable=False),
        Column("name", "str"),
        Column("source", "str"),
    ),
    ("LineString", "MultiLineString"),
)

SCHEMAS: dict[str, LayerSchema] = {
    s.name: s for s in (GATES, MARKERS, HUBS, ROADS, BORDER)
}

_TRUE = {"true", "yes", "1", "t", "y"}
_FALSE = {"false", "no", "0", "f", "n", ""}


def _row_label(gdf: pd.DataFrame, position: int) -> object:
    if "id" in gdf.columns:
        value = gdf["id"].iloc[position]
        if isinstance(value, str) and value or isinstance(value, (int, np.integer)):
            return value
    return f"#{position + 1}"


def _show(value: object) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return f"{float(value):g}"
    return repr(value)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _coerce_column(
    gdf: gpd.GeoDataFrame, col: Column, src: str
) -> pd.Series:
    series = gdf[col.name]
    missing = series.isna().to_numpy()
    if not col.nullable and missing.any():
        pos = _first(missing)
        raise SchemaError("is empty but must have a value", source=src,
                          row=_row_label(gdf, pos), field=col.name)
    present = ~missing
    values = series.to_numpy(dtype=object)

    def bad(pos: int, what: str) -> SchemaError:
        return SchemaError(f"{_show(values[pos])} is not {what}", source=src,
                           row=_row_label(gdf, pos), field=col.name)

    if col.kind in ("str", "id"):
        ok_types = (str, int, np.integer) if col.kind == "id" else (str,)
        wrong = np.array([p and (not isinstance(v, ok_types) or isinstance(v, bool))
                          for v, p in zip(values, present, strict=True)], dtype=bool)
        if wrong.any():
            raise bad(_first(wrong), "text")
        out = pd.Series([str(v) if p else None for v, p in zip(values, present, strict=True)],
                        index=series.index, dtype=object)
        if col.kind == "id":
            blank = np.array([p and not v.strip() for v, p in zip(out, present, strict=True)],
                             dtype=bool)
            if blank.any():
                raise SchemaError("is blank", source=src, row=f"#{_first(blank) + 1}",
                                  field=col.name)
    elif col.kind == "bool":
        parsed = []
        for pos, (v, p) in enumerate(zip(values, present, strict=True)):
            if not p:
                parsed.append(None)
            elif isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, np.integer))
                                                     and v in (0, 1)):
                parsed.append(bool(v))
            elif isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
                parsed.append(v.strip().lower() in _TRUE)
            else:
                raise bad(pos, "true or false")
        out = pd.Series(parsed, index=series.index, dtype="boolean")
    else:
        numeric = pd.to_numeric(series, errors="coerce")
        not_number = present & numeric.isna().to_numpy()
        if not_number.any() or any(isinstance(v, (bool, np.bool_)) for v in values[present]):
            pos = _first(not_number) if not_number.any() else _first(
                np.array([isinstance(v, (bool, np.bool_)) for v in values]))
            raise bad(pos, "a number")
        nums = numeric.to_numpy(dtype=float)
        if not np.isfinite(nums[present]).all():
            raise bad(_first(present & ~np.isfinite(nums)), "a finite number")
        if col.kind == "int":
            fractional = present & (np.nan_to_num(nums) % 1 != 0)
            if fractional.any():
                raise bad(_first(fractional), "a whole number")
            out = pd.Series(numeric, index=series.index).astype("Int64")
        else:
            out = pd.Series(nums, index=series.index, dtype=float)
        if col.minimum is not None:
            low = present & (np.nan_to_num(nums, nan=col.minimum) < col.minimum)
            if low.any():
                raise SchemaError(f"{_show(values[_first(low)])} is negative; it must be at least "
                                  f"{col.minimum:g}", source=src,
                                  row=_row_label(gdf, _first(low)), field=col.name)
        if col.positive:
            low = present & (np.nan_to_num(nums, nan=1.0) <= 0)
            if low.any():
                raise SchemaError(f"{_show(values[_first(low)])} must be greater than 0",
                                  source=src, row=_row_label(gdf, _first(low)),
                                  field=col.name)
    if col.choices is not None:
        unknown = np.array([p and v not in col.choices for v, p in zip(out, present,
                                                                        strict=True)],
                           dtype=bool)
        if unknown.any():
            pos = _first(unknown)
            raise SchemaError(f"unknown value {out.iloc[pos]!r}; expected one of "
                              f"{', '.join(col.choices)}", source=src,
                              row=_row_label(gdf, pos), field=col.name)
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


def _check_crs(gdf: gpd.GeoDataFrame, src: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise SchemaError("has no coordinate reference system (CRS); set one, "
                          "e.g. EPSG:4326 for lon/lat", source=src, field="geometry")
    if not gdf.crs.is_geographic:
        logger.info("%s: reprojecting from %s to EPSG:4326", src, gdf.crs.to_string())
        try:
            gdf = gdf.to_crs(4326)
        except Exception as exc:  # pyproj raises several types
            raise SchemaError(f"cannot reproject from {gdf.crs.to_string()} to "
                              f"EPSG:4326: {exc}", source=src, field="geometry") from exc
        return gdf
    x0, y0, x1, y1 = (np.full(len(gdf), np.nan) for _ in range(4))
    present = ~(gdf.geometry.isna().to_numpy() | gdf.geometry.is_empty.to_numpy())
    if present.any():
        b = shapely.bounds(gdf.geometry.to_numpy()[present])
        x0[present], y0[present], x1[present], y1[present] = b.T
    with np.errstate(invalid="ignore"):
        lat_bad = (np.abs(y0) > 90) | (np.abs(y1) > 90)
        lon_bad = (np.abs(x0) > 180) | (np.abs(x1) > 180)
    if lon_bad.any() or lat_bad.any():
        pos = _first(lon_bad | lat_bad)
        if lon_bad[pos] or (np.abs(x0[pos]) > 90 and np.abs(y0[pos]) > 90):
            msg = (f"coordinates ({x0[pos]:.6g}, {y0[pos]:.6g}) look projected (metres), "
                   f"but the CRS says {gdf.crs.to_string()} (degrees); set the real CRS")
        else:
            msg = (f"latitude {y0[pos]:.6g} is beyond ±90 while longitude is "
                   f"{x0[pos]:.6g}: longitude and latitude look swapped (x must be "
                   f"longitude)")
        raise SchemaError(msg, source=src, row=_row_label(gdf, pos), field="geometry")
    if not gdf.crs.equals(4326):
        gdf = gdf.to_crs(4326)
    return gdf


def _check_geometry(gdf: gpd.GeoDataFrame, schema: LayerSchema, src: str) -> None:
    geoms = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geoms)
    if missing.any():
        raise SchemaError("has no geometry", source=src,
                          row=_row_label(gdf, _first(missing)), field="geometry")
    empty = shapely.is_empty(geoms)
    if empty.any():
        raise SchemaError("has an empty geometry", source=src,
                          row=_row_label(gdf, _first(empty)), field="geometry")
    types = shapely.get_type_id(geoms)
    names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                      "MultiLineString", "MultiPolygon", "GeometryCollection"])[types]
    wrong = ~np.isin(names, schema.geometry_types)
    if wrong.any():
        pos = _first(wrong)
        raise SchemaError(f"geometry is a {names[pos]}; the {schema.name} layer takes "
                          f"{' or '.join(schema.geometry_types)}", source=src,
                          row=_row_label(gdf, pos), field="geometry")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        pos = _first(invalid)
        raise SchemaError(f"invalid geometry ({shapely.is_valid_reason(geoms[pos])})",
                          source=src, row=_row_label(gdf, pos), field="geometry")
    coords = shapely.get_coordinates(geoms)
    if not np.isfinite(coords).all():
        raise SchemaError("geometry has non-finite coordinates", source=src, field="geometry")


def validate_layer(
    gdf: gpd.GeoDataFrame | pd.DataFrame,
    layer: str | LayerSchema,
    *,
    source: str | None = None,
) -> gpd.GeoDataFrame:
    """Check a layer against its contract and return a clean, typed copy.

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
        EPSG:4326, contract columns first (optional ones filled with their default),
        extra columns kept after them, index reset.

    Raises
    ------
    SchemaError
        On the first problem found: missing columns, wrong types, unknown enum values,
        negative numbers, duplicate or empty ids, missing/empty/invalid geometry, wrong
        geometry type, missing CRS, coordinates that look projected or swapped.
    """
    schema = SCHEMAS[layer] if isinstance(layer, str) else layer
    src = source or schema.name
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise SchemaError("is not a spatial layer (no geometry column)", source=src)
    gdf = gdf.reset_index(drop=True)
    gdf = _restore_truncated_names(gdf, schema)
    missing_cols = [c.name for c in schema.columns if c.required and c.name not in gdf.columns]
    if missing_cols:
        raise SchemaError(f"missing required column(s): {', '.join(missing_cols)} "
                          f"(the {schema.name} layer needs "
                          f"{', '.join(c.name for c in schema.columns if c.required)})",
                          source=src)
    gdf = _check_crs(gdf, src)
    typed: dict[str, pd.Series] = {}
    for col in schema.columns:
        if col.name not in gdf.columns:
            default = col.default
            dtype = {"int": "Int64", "float": float, "bool": "boolean"}.get(col.kind, object)
            typed[col.name] = pd.Series([default] * len(gdf), index=gdf.index, dtype=dtype)
            continue
        typed[col.name] = _coerce_column(gdf, col, src)
    ids = typed["id"]
    dup = ids.duplicated(keep="first").to_numpy()
    if dup.any():
        raise SchemaError("duplicate id (ids must be unique)", source=src,
                          row=ids.iloc[_first(dup)], field="id")
    _check_geometry(gdf, schema, src)
    if schema is GATES:
        for clock in ("hours_vn", "hours_cn"):
            for pos, text in enumerate(typed[clock]):
                if text is None:
                    continue
                try:
                    parse_hours(text)
                except ValueError as exc:
                    raise SchemaError(str(exc), source=src, row=ids.iloc[pos],
                                      field=clock) from None
    if schema in (GATES, HUBS):
        not_slug = [i for i in ids if not _SLUG_RE.match(i)]
        if not_slug:
            raise SchemaError("ids must be lower-case ASCII slugs like 'huu-nghi'",
                              source=src, row=not_slug[0], field="id")
    extra = [c for c in gdf.columns if c not in typed and c != gdf.geometry.name]
    out = gpd.GeoDataFrame({**typed, **{c: gdf[c] for c in extra}},
                           geometry=gdf.geometry.to_numpy(), crs="EPSG:4326")
    return out
