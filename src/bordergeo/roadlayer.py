"""Any line layer → a road layer in bordergeo's own columns, ready to route.

Real road layers come with their own columns: OpenStreetMap extracts (``highway``, ``ref``,
``maxspeed``, ``oneway``...), Geofabrik shapefiles (``fclass``), the CTU Vietnamese roads and
rail layer (``gid``, ``ten``, ``loai_duong``, ``cap_duong``, ``chieu_dai``), Chinese data
with class words in names. :func:`normalise_roads` recognises these columns, and the class
words in them, and returns a layer with the project's columns (``id``, ``ref``, ``name``,
``class``, ``highway``, ``maxspeed_kph``, ``oneway``, ``lanes``, ``status``, ``length_m``,
``osm_id``, and ``layer``/``bridge``/``tunnel`` when the input has them). Only a geometry
is required. :func:`read_roads` reads a file and normalises it.

How a line gets its class (first rule that gives an answer):

1. a ``class`` cell that is already a project class (``national``, ``rail``...);
2. railway and ferry evidence: a ``railway`` tag on a line with no ``highway``,
   ``route=ferry``, a rail or ferry word in ``class``, ``highway`` or the CTU
   ``loai_duong`` (``Đường sắt``);
3. road evidence from ``class`` words, ``highway`` and the CTU ``cap_duong``
   (``Quốc Gia`` → national, ``Cấp Tỉnh`` → provincial);
4. path and unbuilt evidence: ``highway`` footway, cycleway, path, steps, pedestrian,
   bridleway (and the like), or construction/proposed/abandoned without a road type;
5. the road number and the name: ``QL1A``, ``Quốc lộ 1A`` → national; ``ĐT279``,
   ``Tỉnh lộ 279`` → provincial; ``CT.01``, ``Cao tốc ...`` → expressway; ``ĐH``,
   ``Đường huyện`` → local; ``G322``/``国道`` → national, ``S325``/``省道`` →
   provincial, ``高速`` → expressway, ``县道``/``乡道`` → local, ``铁路`` → rail.

Words are compared without case or diacritics (:func:`bordergeo.names.fold`). Lines of the
classes in :data:`EXCLUDED_CLASSES` (railways, ferries, paths, unbuilt lines) are left out
and counted in the report; ``exclude_classes=()`` keeps them (railways as class ``rail``,
the others as ``local``). A railway is never driven on: :func:`bordergeo.dataset_network`
leaves class ``rail`` out of the road network whatever is kept here.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from numpy.typing import NDArray

from bordergeo.errors import BorderGeoError, SchemaError
from bordergeo.inputs import MAX_LANES, check_number, preview
from bordergeo.names import fold
from bordergeo.network import CLASS_HIGHWAY
from bordergeo.osm import HIGHWAY_CLASSES
from bordergeo.schema import ROAD_CLASSES, ROAD_STATUSES

__all__ = [
    "COLUMN_CANDIDATES",
    "CLASS_WORDS",
    "DEFAULT_UNKNOWN_SPEED_KPH",
    "EXCLUDED_CLASSES",
    "MAX_SPEED_KPH",
    "NON_ROAD_CLASSES",
    "RoadLayerReport",
    "normalise_roads",
    "read_roads",
]

logger = logging.getLogger(__name__)

#: Line kinds that are not roads. They are told apart so that the report can say why a
#: line was left out; ``unbuilt`` is a construction/proposed/abandoned line with no road
#: type.
NON_ROAD_CLASSES = ("rail", "ferry", "path", "unbuilt")
#: What :func:`normalise_roads` leaves out by default: every non-road kind. Pass
#: ``exclude_classes`` to change it (``()`` keeps everything).
EXCLUDED_CLASSES: tuple[str, ...] = NON_ROAD_CLASSES
#: Speed (km/h) given to lines whose class nothing tells: an estimate, the speed of a
#: local road (see :data:`bordergeo.network.DEFAULT_SPEEDS_KPH`).
DEFAULT_UNKNOWN_SPEED_KPH = 30.0
#: Fastest speed (km/h) accepted from a layer or a user; faster posted limits are ignored.
MAX_SPEED_KPH = 200.0

#: Output column → input columns recognised for it, first present wins (names are
#: compared without case). ``type`` and ``level`` are the CTU ``loai_duong`` (road or
#: railway) and ``cap_duong`` (national or provincial); ``railway``, ``route``,
#: ``junction``, ``construction`` and ``proposed`` are OSM tags read for the class,
#: direction and status.
COLUMN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "id": ("id", "gid", "fid", "objectid", "road_id"),
    "ref": ("ref", "ma_duong", "so_hieu"),
    "name": ("name", "ten", "ten_duong", "name_vi", "name:vi"),
    "class": ("class", "road_class"),
    "highway": ("highway", "fclass"),
    "railway": ("railway",),
    "route": ("route",),
    "type": ("loai_duong",),
    "level": ("cap_duong",),
    "maxspeed_kph": ("maxspeed_kph", "maxspeed", "speed_kph", "toc_do"),
    "oneway": ("oneway",),
    "junction": ("junction",),
    "lanes": ("lanes", "so_lan"),
    "status": ("status", "tinh_trang"),
    "construction": ("construction",),
    "proposed": ("proposed",),
    "length_m": ("length_m", "chieu_dai"),
    "osm_id": ("osm_id", "osmid", "@id"),
    "layer": ("layer",),
    "bridge": ("bridge",),
    "tunnel": ("tunnel",),
    "source": ("source",),
}

_ROAD_CLASSES = tuple(c for c in ROAD_CLASSES if c != "rail")

#: Class word → class (project road class or a :data:`NON_ROAD_CLASSES` kind). A cell
#: matches a word when, folded, it equals the word or starts with it followed by a space
#: (``"quoc lo 1a"``); words of one or two letters (road-number prefixes such as ``QL``,
#: ``ĐT``, ``G``) only match when a number follows (``QL1A``, ``G322``); Chinese words
#: match anywhere in the cell. ``normalise_roads(class_words=...)`` adds or overrides
#: entries.
CLASS_WORDS: dict[str, str] = {
    **dict.fromkeys(ROAD_CLASSES, None),  # filled below: each class is its own word
    **HIGHWAY_CLASSES,  # OSM highway values, as the OSM import reads them
    # expressways
    "freeway": "expressway",
    "cao tốc": "expressway", "đường cao tốc": "expressway", "ct": "expressway",
    "高速": "expressway",
    # national roads
    "quốc lộ": "national", "ql": "national",
    "quốc gia": "national", "national road": "national", "国道": "national", "g": "national",
    # provincial roads
    "tỉnh lộ": "provincial",
    "đường tỉnh": "provincial", "đt": "provincial", "tl": "provincial",
    "cấp tỉnh": "provincial", "省道": "provincial", "s": "provincial",
    # local roads
    "busway": "local", "đường huyện": "local", "huyện lộ": "local",
    "đh": "local", "cấp huyện": "local", "đường xã": "local", "cấp xã": "local",
    "县道": "local", "乡道": "local", "x": "local", "y": "local",
    # border-zone cargo roads
    "cargo road": "cargo_road", "đường chuyên dụng": "cargo_road",
    # not roads
    "railway": "rail", "đường sắt": "rail", "light_rail": "rail", "narrow_gauge": "rail",
    "subway": "rail", "tram": "rail", "monorail": "rail", "funicular": "rail",
    "铁路": "rail", "铁道": "rail",
    "ferry": "ferry", "轮渡": "ferry",
    "footway": "path", "cycleway": "path", "path": "path", "steps": "path",
    "pedestrian": "path", "bridleway": "path", "corridor": "path", "platform": "path",
    "elevator": "path", "sidewalk": "path", "via_ferrata": "path",
    "construction": "unbuilt", "proposed": "unbuilt", "abandoned": "unbuilt",
    "disused": "unbuilt", "razed": "unbuilt",
}
CLASS_WORDS.update({c: c for c in ROAD_CLASSES})

#: OSM ``highway`` written for a line of unknown class (routed as ``local``); lines of a
#: known class get :data:`bordergeo.network.CLASS_HIGHWAY` of their class.
_UNKNOWN_HIGHWAY = "unclassified"

#: Road-number prefixes derived from names: folded word → prefix of ``ref``.
_REF_PREFIXES = {"quoc lo": "QL", "ql": "QL", "tinh lo": "ĐT", "duong tinh": "ĐT",
                 "dt": "ĐT", "tl": "ĐT", "duong huyen": "ĐH", "huyen lo": "ĐH", "dh": "ĐH",
                 "cao toc": "CT.", "ct": "CT."}
_REF_RE = ("^(?P<kind>" + "|".join(sorted(_REF_PREFIXES, key=len, reverse=True))
           + r") ?(?P<num>\d+[a-z]?)(?: |$)")
_CN_REF_RE = r"(?:^|[^a-z0-9])(?P<kind>[gsxy]) ?(?P<num>\d{1,4})(?:[^0-9]|$)"
_CN_SUFFIX_RE = r"(?P<num>\d{1,4}) ?(?P<kind>国道|省道|县道|乡道)"
_CN_KINDS = {"国道": "G", "省道": "S", "县道": "X", "乡道": "Y"}

_STATUS_WORDS = {
    "open": "open", "existing": "open", "hien trang": "open", "dang khai thac": "open",
    "construction": "construction", "under construction": "construction",
    "dang thi cong": "construction", "dang xay dung": "construction",
    "planned": "planned", "proposed": "planned", "quy hoach": "planned",
    "du kien": "planned",
}
_NULL_WORDS = {"", "khong biet", "unknown", "n a", "na", "null", "none", "nan"}
_ONEWAY_FORWARD = {"yes", "true", "1", "t", "y", "1.0"}
_ONEWAY_REVERSE = {"-1", "reverse", "-1.0"}
_SPEED_RE = r"^\W*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>mph|knots)?"
_CJK = re.compile(r"[\u3000-\u9fff\uf900-\ufaff]")


@dataclass
class RoadLayerReport:
    """What :func:`normalise_roads` did to a layer.

    Attributes
    ----------
    source
        Name of the layer (a file name).
    features_in
        Features in the input.
    lines_out
        LineStrings in the result.
    exploded_parts
        Lines of the result that come from multi-part features (one per part).
    generated_ids
        Lines that had no id and got ``road-N``.
    renumbered_ids
        Features whose id repeated an earlier one and got a ``-N`` suffix.
    excluded
        Features left out, by reason (``rail``, ``ferry``, ``path``, ``unbuilt``,
        ``not_a_line``).
    unknown_class
        Features whose class nothing told; they are ``local`` at ``default_speed_kph``.
    reversed_lines
        Features drawn against their one-way direction (OSM ``oneway=-1``), reversed.
    classes
        Lines of the result by class.
    columns
        The input column used for each recognised output column (target → source);
        ``ref`` reads ``"(from name)"`` when numbers were taken from names.
    default_speed_kph
        Speed given to lines of unknown class.
    """

    source: str = "roads"
    features_in: int = 0
    lines_out: int = 0
    exploded_parts: int = 0
    generated_ids: int = 0
    renumbered_ids: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    unknown_class: int = 0
    reversed_lines: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    default_speed_kph: float = DEFAULT_UNKNOWN_SPEED_KPH

    @property
    def excluded_total(self) -> int:
        """Features left out, all reasons."""
        return sum(self.excluded.values())

    def __str__(self) -> str:
        left = ", ".join(f"{n:,} {reason}" for reason, n in self.excluded.items())
        classes = ", ".join(f"{n:,} {c}" for c, n in self.classes.items())
        mapping = ", ".join(f"{t}←{s}" for t, s in self.columns.items()) or "geometry only"
        text = (f"{self.source}: {self.features_in:,} features in, {self.lines_out:,} lines "
                f"out ({classes or 'none'})")
        if self.exploded_parts:
            text += f"; {self.exploded_parts:,} lines are parts of multi-part features"
        text += f"; left out {self.excluded_total:,}" + (f" ({left})" if left else "")
        text += (f"; ids: {self.generated_ids:,} generated, {self.renumbered_ids:,} "
                 f"duplicates renumbered")
        if self.unknown_class:
            text += (f"; {self.unknown_class:,} of unknown class routed as local at "
                     f"{self.default_speed_kph:g} km/h (an estimate)")
        if self.reversed_lines:
            text += f"; {self.reversed_lines:,} one-way lines reversed (oneway=-1)"
        return text + f"; columns: {mapping}."


# ------------------------------------------------------------------------ text helpers


def _fold_array(values: pd.Series) -> pa.Array:
    """Fold text cells like :func:`bordergeo.names.fold`, vectorised (pyarrow)."""
    text = _as_text(values)
    if text.dtype == object:
        arr = pa.array(text.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    else:
        arr = pa.array(text, from_pandas=True).cast(pa.large_string())
    arr = pc.utf8_lower(arr)
    arr = pc.replace_substring(arr, "đ", "d")
    arr = pc.utf8_normalize(arr, "NFKD")
    arr = pc.replace_substring_regex(arr, r"\p{Mn}+", "")
    arr = pc.replace_substring_regex(arr, r"[\s\-_./,()–—]+", " ")
    return pc.utf8_trim_whitespace(arr)


def _as_text(values: pd.Series) -> pd.Series:
    """Cells as text (numbers without a trailing ``.0``); missing cells stay missing.

    A string column comes back as it is; other columns as object Series of str/None.
    """
    series = values.reset_index(drop=True)
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        return series
    if pd.api.types.is_float_dtype(series.dtype):
        nums = series.to_numpy(float)
        whole = np.isfinite(nums) & (nums % 1 == 0)
        out = series.astype(object).where(series.notna(), None)
        out[whole] = nums[whole].astype(np.int64).astype(str)
        out[~whole & series.notna().to_numpy()] = series[~whole].astype(str)
        return out
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype(str).astype(object).where(series.notna(), None)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    texts = np.array([u if isinstance(u, str) else _cell_text(u) for u in uniques] + [None],
                     dtype=object)
    return pd.Series(texts[codes], dtype=object)


def _cell_text(value: object) -> str:
    if isinstance(value, (list, tuple)):  # OSMnx merged ways: first value
        return _cell_text(value[0]) if value else ""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _word_patterns(words: Mapping[str, str]) -> list[tuple[str, str]]:
    """One (category, regex on folded text) per category, most specific kinds first."""
    by_cat: dict[str, list[str]] = {}
    for word, cat in words.items():
        by_cat.setdefault(cat, []).append(word)
    order = ["expressway", "rail", "ferry", "cargo_road", "national", "provincial", "local",
             "path", "unbuilt"]
    patterns = []
    for cat in order:
        keys = by_cat.get(cat, [])
        long = [re.escape(k) for k in keys if len(k) > 2 and not _CJK.search(k)]
        short = [re.escape(k) for k in keys if len(k) <= 2 and not _CJK.search(k)]
        cjk = [re.escape(k) for k in keys if _CJK.search(k)]
        alts = []
        if long:
            alts.append("^(?:" + "|".join(sorted(long, key=len, reverse=True)) + ")(?: |$)")
        if short:
            alts.append("^(?:" + "|".join(short) + r") ?\d")
        if cjk:
            alts.append("(?:" + "|".join(cjk) + ")")
        if alts:
            patterns.append((cat, "|".join(alts)))
    return patterns


_CATEGORIES = (*_ROAD_CLASSES, *NON_ROAD_CLASSES)
_CODE = {c: i for i, c in enumerate(_CATEGORIES)}


def _classify(values: pd.Series | None, words: Mapping[str, str], n: int,
              *, rows: NDArray[np.bool_] | None = None) -> NDArray[np.int16]:
    """Category code of each cell from class words (-1: no word found)."""
    out = np.full(n, -1, dtype=np.int16)
    if values is None:
        return out
    series = values.reset_index(drop=True)
    if rows is not None:
        if not rows.any():
            return out
        series = series[rows]
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if len(uniques) == 0:
        return out
    folded = _fold_array(pd.Series(uniques, dtype=object))
    found = np.full(len(uniques), -1, dtype=np.int16)
    exact = pd.Series(folded.to_numpy(zero_copy_only=False)).map(
        {k: _CODE[v] for k, v in words.items()})
    found[exact.notna().to_numpy()] = exact.dropna().to_numpy(np.int16)
    for cat, pattern in _word_patterns(words):
        todo = found < 0
        if not todo.any():
            break
        hit = pc.match_substring_regex(folded, pattern).to_numpy(zero_copy_only=False)
        hit = np.asarray(pd.array(hit, dtype="boolean").fillna(False), dtype=bool)
        found[todo & hit] = _CODE[cat]
    per_row = np.where(codes >= 0, found[np.maximum(codes, 0)], -1).astype(np.int16)
    if rows is None:
        return per_row
    out[rows] = per_row
    return out


def _first(*codes: NDArray[np.int16]) -> NDArray[np.int16]:
    """Per row, the first code that is not -1."""
    out = codes[0].copy()
    for more in codes[1:]:
        out = np.where(out >= 0, out, more)
    return out


def _only(codes: NDArray[np.int16], allowed: Iterable[str]) -> NDArray[np.int16]:
    keep = np.isin(codes, [_CODE[c] for c in allowed])
    return np.where(keep, codes, -1).astype(np.int16)


# ----------------------------------------------------------------------------- columns


def _resolve_columns(gdf: gpd.GeoDataFrame, columns: Mapping[str, str | None] | None,
                     source: str) -> dict[str, str]:
    """Output column → input column, recognised names first, then the user's mapping."""
    present = [c for c in gdf.columns if c != gdf.geometry.name]
    lower: dict[str, str] = {}
    for col in present:
        lower.setdefault(str(col).lower(), col)
    mapping: dict[str, str] = {}
    for target, names in COLUMN_CANDIDATES.items():
        for name in names:
            if name in present:
                mapping[target] = name
                break
            if name.lower() in lower:
                mapping[target] = lower[name.lower()]
                break
    for target, col in (columns or {}).items():
        if target not in COLUMN_CANDIDATES:
            raise SchemaError(f"unknown road column {preview(target)}; expected one of "
                              f"{', '.join(COLUMN_CANDIDATES)}", source=source)
        if col is None or col == "":
            mapping.pop(target, None)
            continue
        if col not in present:
            if str(col).lower() not in lower:
                shown = ", ".join(preview(c, limit=30) for c in present[:12])
                more = f" and {len(present) - 12} more" if len(present) > 12 else ""
                raise SchemaError(f"no column {preview(col)} (given for {target}); the layer "
                                  f"has {shown or 'no columns'}{more}", source=source)
            col = lower[str(col).lower()]
        mapping[target] = col
    # one input column serves one purpose: a user's mapping wins over a recognised name
    users = {t: c for t, c in (columns or {}).items() if c}
    for target, col in list(mapping.items()):
        if target not in users and col in users.values():
            del mapping[target]
    return mapping


def _numbers(values: pd.Series, *, target: str, strict: bool, ids: NDArray[np.object_],
             source: str, integer: bool = False, low: float = 0.0,
             high: float | None = None) -> NDArray[np.float64]:
    """Numbers of a column; bad cells are NaN, or an error in the project's own column."""
    series = values.reset_index(drop=True)
    if pd.api.types.is_bool_dtype(series.dtype):
        nums = np.full(len(series), np.nan)
        bad = series.notna().to_numpy()
    elif pd.api.types.is_numeric_dtype(series.dtype):
        nums = series.to_numpy(dtype=float, na_value=np.nan)
        bad = np.zeros(len(series), dtype=bool)
    else:
        text = _as_text(series)
        if target == "maxspeed_kph":
            found = pd.Series(text, dtype="str").str.extract(_SPEED_RE, flags=re.IGNORECASE)
            nums = pd.to_numeric(found["num"], errors="coerce").to_numpy(float)
            unit = found["unit"].str.lower().to_numpy(dtype=object, na_value=None)
            nums = np.where(unit == "mph", nums * 1.609344,
                            np.where(unit == "knots", nums * 1.852, nums))
            if strict:  # the project's column takes plain numbers only
                nums = pd.to_numeric(text, errors="coerce").to_numpy(float)
        elif strict:
            nums = pd.to_numeric(text, errors="coerce").to_numpy(float)
        else:  # "2;3" lanes, "12 km" lengths: the first number
            first = pd.Series(text, dtype="str").str.extract(r"^\s*([-+]?\d+(?:\.\d+)?)")[0]
            nums = pd.to_numeric(first, errors="coerce").to_numpy(float)
        blank = text.isna().to_numpy() | (pd.Series(text, dtype="str").str.strip() == ""
                                          ).fillna(True).to_numpy(bool)
        bad = ~blank & np.isnan(nums)
    with np.errstate(invalid="ignore"):
        out_of_range = ~np.isfinite(nums) & ~np.isnan(nums)
        out_of_range |= nums <= low
        if high is not None:
            out_of_range |= nums > high
        if integer:
            out_of_range |= np.isfinite(nums) & (nums % 1 != 0)
    if strict:
        wrong = bad | out_of_range
        if wrong.any():
            pos = int(np.flatnonzero(wrong)[0])
            value = series.iloc[pos]
            shown = f"{float(value):g}" if isinstance(value, (int, float, np.number)) and \
                not isinstance(value, (bool, np.bool_)) else preview(value)
            if bad[pos]:
                reason = "is not a number"
            elif integer and np.isfinite(nums[pos]) and nums[pos] % 1:
                reason = "is not a whole number"
            elif nums[pos] <= low:
                reason = f"must be greater than {low:g}"
            else:
                reason = f"is too large; it must be at most {high:,g}"
            more = int(wrong.sum()) - 1
            tail = f" (and {more:,} more row{'s' if more > 1 else ''})" if more else ""
            raise SchemaError(f"{shown} {reason}{tail}", source=source, row=ids[pos],
                              field=str(values.name))
    return np.where(out_of_range | bad, np.nan, nums)


def _flags(values: pd.Series | None, n: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_],
                                                      NDArray[np.bool_]]:
    """OSM-style yes/no/-1 cells → (given, forward one-way, reversed one-way)."""
    given = np.zeros(n, dtype=bool)
    forward = np.zeros(n, dtype=bool)
    backward = np.zeros(n, dtype=bool)
    if values is None:
        return given, forward, backward
    series = values.reset_index(drop=True)
    if pd.api.types.is_bool_dtype(series.dtype):
        given = series.notna().to_numpy()
        forward = series.fillna(False).to_numpy(bool)
        return given, forward, backward
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    words = np.array([_cell_text(u).strip().lower() for u in uniques] + [""], dtype=object)
    per_row = words[codes]
    given = per_row != ""
    forward = np.isin(per_row, list(_ONEWAY_FORWARD))
    backward = np.isin(per_row, list(_ONEWAY_REVERSE))
    return given, forward | backward, backward


def _present_flag(values: pd.Series) -> pd.Series:
    """``bridge``/``tunnel`` cells → nullable booleans (yes, viaduct, 1... are True)."""
    series = values.reset_index(drop=True)
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean")
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    truth = np.array([_cell_text(u).strip().lower() not in ("", "no", "false", "0", "n", "f")
                      for u in uniques] + [False])
    out = pd.Series(truth[codes], dtype="boolean")
    out[codes < 0] = pd.NA
    return out


# ---------------------------------------------------------------------------- the pass


def _check_options(exclude_classes: Iterable[str], class_words: Mapping[str, str] | None,
                   class_speeds_kph: Mapping[str, float] | None, default_speed_kph: float
                   ) -> tuple[set[str], dict[str, str], dict[str, float], float]:
    excluded = {str(c) for c in exclude_classes}
    unknown = sorted(excluded - set(NON_ROAD_CLASSES) - set(ROAD_CLASSES))
    if unknown:
        raise BorderGeoError(f"cannot exclude class {preview(unknown[0])}; classes are "
                             f"{', '.join(ROAD_CLASSES + NON_ROAD_CLASSES[1:])}")
    words = {fold(k): v for k, v in CLASS_WORDS.items()}
    for word, cat in (class_words or {}).items():
        if cat not in _CODE:
            raise BorderGeoError(f"class word {preview(word)} maps to {preview(cat)}; a class "
                                 f"is one of {', '.join(_CATEGORIES)}")
        words[fold(word)] = cat
    speeds: dict[str, float] = {}
    for cls, speed in (class_speeds_kph or {}).items():
        if cls not in _ROAD_CLASSES:
            raise BorderGeoError(f"no speed for class {preview(cls)}: give speeds for "
                                 f"{', '.join(_ROAD_CLASSES)} (railways are not driven on)")
        speeds[cls] = float(check_number(speed, name=f"speed of {cls} (km/h)", low=1,
                                         high=MAX_SPEED_KPH))
    default = float(check_number(default_speed_kph, name="default_speed_kph", low=1,
                                 high=MAX_SPEED_KPH))
    return excluded, words, speeds, default


def normalise_roads(
    gdf: gpd.GeoDataFrame,
    *,
    columns: Mapping[str, str | None] | None = None,
    class_words: Mapping[str, str] | None = None,
    class_speeds_kph: Mapping[str, float] | None = None,
    exclude_classes: Iterable[str] = EXCLUDED_CLASSES,
    default_speed_kph: float = DEFAULT_UNKNOWN_SPEED_KPH,
    source: str = "roads",
) -> tuple[gpd.GeoDataFrame, RoadLayerReport]:
    """Turn any line layer into a road layer in the project's columns.

    Parameters
    ----------
    gdf
        LineStrings or MultiLineStrings with any columns (see :data:`COLUMN_CANDIDATES`);
        only the geometry is required. Features with no line (points, empty geometries)
        are left out and counted.
    columns
        Output column → input column, overriding the recognised names, e.g.
        ``{"ref": "ma", "name": "ten", "class": "cap_duong"}``; ``None`` (or ``""``)
        ignores a recognised column.
    class_words
        Class word → class, added over :data:`CLASS_WORDS` (e.g. ``{"Đường chính":
        "national"}``); words are compared folded (no case, no diacritics).
    class_speeds_kph
        Speed (km/h, 1–200) by class for lines with no posted limit; written into
        ``maxspeed_kph`` (flagged in ``speed_estimated``). Classes not given keep no
        speed here: the network's :data:`~bordergeo.network.DEFAULT_SPEEDS_KPH` applies.
    exclude_classes
        Kinds of line left out (default :data:`EXCLUDED_CLASSES`: rail, ferry, path,
        unbuilt); ``()`` keeps all of them (railways as class ``rail``, which the router
        never drives on; ferries and paths as ``local``). Road classes may be listed too.
    default_speed_kph
        Speed (km/h) of lines whose class nothing tells (an estimate, one warning).
    source
        Name used in messages and the report.

    Returns
    -------
    roads : geopandas.GeoDataFrame
        One LineString per row, in the input CRS, with ``id`` (unique text; parts of a
        multi-part feature get ``#1``, ``#2``...), ``ref``, ``name``, ``class`` (one of
        :data:`~bordergeo.schema.ROAD_CLASSES`), ``highway`` (the OSM value given, else
        one mapped from the class), ``maxspeed_kph``, ``speed_estimated``, ``oneway``
        (lines tagged ``oneway=-1`` are reversed), ``lanes``, ``status`` (open,
        construction, planned), ``length_m`` (a documented length, shared between parts
        by drawn length), ``osm_id`` (nullable int64, only from OSM ids), and
        ``layer`` (nullable int), ``bridge`` and ``tunnel`` (booleans: ``yes``,
        ``viaduct``... are true, empty cells false) and ``source`` when the input has them.
    report : RoadLayerReport
        Counts of what was done, also logged at INFO level.

    Raises
    ------
    SchemaError
        Not a GeoDataFrame, a mapped column that does not exist, or a bad value in one
        of the project's own numeric columns (``maxspeed_kph``, ``lanes``, ``length_m``).
    BorderGeoError
        A bad option (an unknown class, a speed out of range).
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError("roads must be a GeoDataFrame", source=source)
    excluded_set, words, class_speeds, default_speed = _check_options(
        exclude_classes, class_words, class_speeds_kph, default_speed_kph)
    mapping = _resolve_columns(gdf, columns, source)
    frame = gdf.reset_index(drop=True)
    n = len(frame)
    report = RoadLayerReport(source=source, features_in=n, default_speed_kph=default_speed)

    def col(target: str) -> pd.Series | None:
        return frame[mapping[target]].reset_index(drop=True) if target in mapping else None

    # geometry: line parts of every feature (multi-part lines and collections exploded)
    geoms = frame.geometry.to_numpy()
    kinds = shapely.get_type_id(geoms)
    if n and (kinds == 1).all():
        parts, part_of = geoms, np.arange(n)
    else:
        parts, part_of = shapely.get_parts(geoms, return_index=True)
        line = shapely.get_type_id(parts) == 1
        parts, part_of = parts[line], part_of[line]
    usable = shapely.get_num_coordinates(parts) >= 2
    if not usable.all():
        parts, part_of = parts[usable], part_of[usable]
    n_parts = np.bincount(part_of, minlength=n)
    no_line = n_parts == 0

    # class of each feature
    project = col("class")
    proj_code = np.full(n, -1, dtype=np.int16)
    if project is not None:
        codes, uniques = pd.factorize(project, use_na_sentinel=True)
        per_unique = np.array([_CODE.get(u, -1) if u in ROAD_CLASSES else -1
                               for u in uniques] + [-1], dtype=np.int16)
        proj_code = per_unique[codes]
    class_words_code = _classify(project, words, n, rows=proj_code < 0)
    highway = col("highway")
    hw_code = _classify(highway, words, n)
    status_hint = np.full(n, "", dtype=object)
    if highway is not None:
        hw_text = pd.Series(_as_text(highway), dtype="str").str.strip().str.lower()
        for tag, status in (("construction", "construction"), ("proposed", "planned")):
            is_tag = hw_text.eq(tag).fillna(False).to_numpy(bool)
            if is_tag.any():
                status_hint[is_tag] = status
                sub = _classify(col(tag), words, n, rows=is_tag)
                hw_code = np.where(is_tag, np.where(
                    np.isin(sub, [_CODE[c] for c in _ROAD_CLASSES]), sub, _CODE["unbuilt"]),
                    hw_code).astype(np.int16)
    has_highway = (hw_code >= 0) if highway is None else _as_text(highway).notna().to_numpy()
    rail_tag = np.zeros(n, dtype=bool)
    if col("railway") is not None:
        rail_text = _as_text(col("railway"))
        rail_tag = rail_text.notna().to_numpy() & ~has_highway
        rail_tag &= ~pd.Series(rail_text, dtype="str").str.strip().str.lower().isin(
            ["", "no"]).fillna(True).to_numpy(bool)
    ferry_tag = np.zeros(n, dtype=bool)
    if col("route") is not None:
        ferry_tag = pd.Series(_as_text(col("route")), dtype="str").str.strip().str.lower(
        ).eq("ferry").fillna(False).to_numpy(bool)
    type_code = _classify(col("type"), words, n)
    level_code = _classify(col("level"), words, n)
    tag_code = np.where(rail_tag, _CODE["rail"], np.where(ferry_tag, _CODE["ferry"], -1))
    hard = _first(_only(class_words_code, ("rail", "ferry")), tag_code.astype(np.int16),
                  _only(hw_code, ("rail", "ferry")), _only(type_code, ("rail", "ferry")))
    strong = _first(_only(class_words_code, _ROAD_CLASSES), _only(hw_code, _ROAD_CLASSES),
                    _only(type_code, _ROAD_CLASSES), _only(level_code, _ROAD_CLASSES))
    soft = _first(_only(class_words_code, ("path", "unbuilt")),
                  _only(hw_code, ("path", "unbuilt")))
    code = _first(proj_code, hard, strong, soft)

    # names and road numbers: class where nothing else told, ref where none is given
    name = col("name")
    name_text = _as_text(name) if name is not None else pd.Series([None] * n, dtype=object)
    if name is not None:
        codes, uniques = pd.factorize(name_text, use_na_sentinel=True)
        folded = _fold_array(pd.Series(uniques, dtype=object)).to_numpy(zero_copy_only=False)
        null_unique = np.r_[pd.Series(folded).isin(_NULL_WORDS).to_numpy(bool), False]
        null_name = null_unique[codes]
        if null_name.any():
            name_text = name_text.where(~null_name, None)
    ref = col("ref")
    ref_text = _as_text(ref) if ref is not None else pd.Series([None] * n, dtype=object)
    blank_ref = pd.Series(ref_text, dtype="str").str.strip().eq("").fillna(False).to_numpy()
    if blank_ref.any():
        ref_text = ref_text.where(~blank_ref, None)
    derived = _refs_from_names(name_text, ref_text.isna().to_numpy())
    if derived.notna().any():
        ref_text = ref_text.where(ref_text.notna(), derived)
        report.columns["ref"] = (f"{mapping['ref']} + (from name)" if "ref" in mapping
                                 else "(from name)")
    todo = code < 0
    weak = _first(_classify(ref_text, words, n, rows=todo),
                  _classify(name_text, words, n, rows=todo))
    code = _first(code, weak)

    # leave out what is not kept
    category = np.array([*_CATEGORIES, ""], dtype=object)[code]  # -1 → "" (unknown)
    drop = np.isin(category, list(excluded_set)) | no_line
    reasons = pd.Series(np.where(no_line, "not_a_line", category)[drop])
    report.excluded = {str(k): int(v) for k, v in reasons.value_counts(sort=False).items()}
    keep = np.flatnonzero(~drop)
    code, category, status_hint = code[keep], category[keep], status_hint[keep]
    unknown = (code < 0) | (code == _CODE["unbuilt"])
    report.unknown_class = int(unknown.sum())
    # rail keeps its class; ferries, paths, unbuilt and unknown lines become local roads
    class_index = np.where((code >= 0) & (code <= _CODE["rail"]), code,
                           ROAD_CLASSES.index("local"))
    road_class = np.array(ROAD_CLASSES, dtype=object)[class_index]

    # ids: given, generated, renumbered
    m = len(keep)
    ids_in = col("id")
    if ids_in is not None:
        ids = _take(_as_text(ids_in), keep, n)
        blank = pd.Series(ids, dtype="str").str.strip().eq("").fillna(False).to_numpy()
        if blank.any():
            ids = ids.where(~blank, None)
    else:
        ids = pd.Series([None] * m, dtype=object)
    missing_id = ids.isna().to_numpy()
    report.generated_ids = int(missing_id.sum())
    if missing_id.any():
        ids = ids.astype(object)
        ids[missing_id] = "road-" + pd.Series(keep[missing_id] + 1).astype(str).to_numpy()
    ids, report.renumbered_ids = _unique_ids(ids)
    if report.renumbered_ids:
        logger.warning("%s: %d duplicate road id%s renumbered (a -2, -3... suffix)", source,
                       report.renumbered_ids, "s" if report.renumbered_ids > 1 else "")
    label = ids

    # attributes of the kept features
    speeds = np.full(m, np.nan)
    if "maxspeed_kph" in mapping:
        speeds = _numbers(_take(col("maxspeed_kph"), keep, n), target="maxspeed_kph",
                          strict=mapping["maxspeed_kph"] == "maxspeed_kph", ids=label,
                          source=source, high=None if mapping["maxspeed_kph"] ==
                          "maxspeed_kph" else MAX_SPEED_KPH)
        if mapping["maxspeed_kph"] != "maxspeed_kph":
            speeds = np.where(speeds > MAX_SPEED_KPH, np.nan, speeds)
    estimated = np.zeros(m, dtype=bool)
    for cls, speed in class_speeds.items():
        fill = np.isnan(speeds) & (road_class == cls) & ~unknown
        speeds[fill], estimated[fill] = speed, True
    fill = np.isnan(speeds) & unknown
    speeds[fill], estimated[fill] = default_speed, True
    if report.unknown_class:
        logger.warning("%s: %d line%s of unknown class routed as local at %g km/h (an "
                       "estimate); map a class column with columns={'class': ...}", source,
                       report.unknown_class, "s" if report.unknown_class > 1 else "",
                       default_speed)
    lanes = np.full(m, np.nan)
    if "lanes" in mapping:
        lane_cells = _take(col("lanes"), keep, n)  # OSM "lanes" is text ("2;3"): strict if numeric
        strict = mapping["lanes"] == "lanes" and pd.api.types.is_numeric_dtype(lane_cells)
        lanes = _numbers(lane_cells, target="lanes", strict=strict, ids=label, source=source,
                         integer=True, high=MAX_LANES)
        lanes = np.where(lanes % 1 == 0, lanes, np.nan)
    length = np.full(m, np.nan)
    if "length_m" in mapping:
        length = _numbers(_take(col("length_m"), keep, n), target="length_m",
                          strict=mapping["length_m"] == "length_m", ids=label, source=source)
    given, oneway, backward = _flags(col("oneway"), n)
    if col("junction") is not None:
        roundabout = pd.Series(_as_text(col("junction")), dtype="str").str.strip().str.lower(
        ).isin(["roundabout", "circular"]).fillna(False).to_numpy(bool)
        oneway |= roundabout & ~given
    oneway, backward = oneway[keep], backward[keep]
    report.reversed_lines = int(backward.sum())
    status = _statuses(col("status"), n)[keep]
    status = np.where(status_hint != "", status_hint, status)
    highway_out = _highways(highway, keep, n, class_index, unknown)

    # one row per line part
    row_part = np.isin(part_of, keep)
    parts, part_of = parts[row_part], part_of[row_part]
    row = np.searchsorted(keep, part_of)  # kept feature of each part
    many = n_parts[part_of] > 1
    report.exploded_parts = int(many.sum())
    if backward.any():
        flip = backward[row]
        parts = parts.copy()
        parts[flip] = shapely.reverse(parts[flip])
    identity = len(row) == m and bool((row == np.arange(m)).all())

    def per_part(series: pd.Series) -> pd.Series:
        return series if identity else series.take(row).reset_index(drop=True)

    part_ids = per_part(ids)
    if many.any():
        rank = pd.Series(row[many]).groupby(row[many]).cumcount().to_numpy() + 1
        part_ids = part_ids.astype(object)
        part_ids[many] = (part_ids[many].astype(str).to_numpy(object) + "#"
                          + rank.astype(str).astype(object))
        drawn = shapely.length(parts)
        total = np.bincount(row, weights=drawn, minlength=m)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total[row] > 0, drawn / total[row], 1.0 / n_parts[part_of])
        part_length = length[row] * share
        part_ids, extra = _unique_ids(part_ids)
        report.renumbered_ids += extra
    else:
        part_length = length[row]
    out = {
        "id": pd.Series(part_ids, dtype="str"),
        "ref": pd.Series(per_part(_take(ref_text, keep, n)), dtype="str"),
        "name": pd.Series(per_part(_take(name_text, keep, n)), dtype="str"),
        "class": pd.Series(road_class[row], dtype="str"),
        "highway": pd.Series(per_part(highway_out), dtype="str"),
        "maxspeed_kph": speeds[row],
        "speed_estimated": estimated[row],
        "oneway": oneway[row],
        "lanes": pd.array(lanes[row], dtype="Int64"),
        "status": pd.Series(status[row], dtype="str"),
        "length_m": part_length,
        "osm_id": pd.array(_osm_ids(col("osm_id"), keep, n)[row], dtype="Int64"),
    }
    for extra_col in ("layer", "bridge", "tunnel", "source"):
        series = col(extra_col)
        if series is None:
            continue
        if extra_col == "layer":
            values = _numbers(_take(series, keep, n), target="layer", strict=False, ids=label,
                              source=source, low=-np.inf)
            nums = np.where(values % 1 == 0, values, np.nan)
            out["layer"] = pd.array(nums[row], dtype="Int64")
        elif extra_col == "source":
            out["source"] = pd.Series(per_part(_take(_as_text(series), keep, n)), dtype="str")
        else:
            flags = _present_flag(series).fillna(False).to_numpy(bool)
            out[extra_col] = flags[keep][row]
    table = pd.DataFrame(out)
    result = gpd.GeoDataFrame(table, geometry=parts, crs=gdf.crs)
    report.lines_out = len(result)
    report.classes = {c: int(k) for c, k in
                      pd.Series(table["class"]).value_counts().items()}
    report.columns = {**mapping, **report.columns}
    logger.info("%s", report)
    return result, report


def _refs_from_names(names: pd.Series, wanted: NDArray[np.bool_]) -> pd.Series:
    """``QL1A`` from ``Quốc lộ 1A``, ``ĐT279`` from ``Tỉnh lộ 279``, ``G322`` from ``322国道``."""
    out = pd.Series([None] * len(names), dtype=object)
    rows = wanted & names.notna().to_numpy()
    if not rows.any():
        return out
    codes, uniques = pd.factorize(names[rows])
    folded = _fold_array(pd.Series(uniques, dtype=object))
    refs = np.full(len(uniques), None, dtype=object)
    found = pc.extract_regex(folded, _REF_RE)
    kind = found.field("kind").to_numpy(zero_copy_only=False)
    num = found.field("num").to_numpy(zero_copy_only=False)
    hit = np.asarray(found.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if hit.any():
        prefix = pd.Series(kind[hit]).map(_REF_PREFIXES).to_numpy(object)
        refs[hit] = prefix + pd.Series(num[hit]).str.upper().to_numpy(object)
    for pattern, kinds in ((_CN_SUFFIX_RE, _CN_KINDS), (_CN_REF_RE, None)):
        todo = pd.isna(refs)
        if not todo.any():
            break
        found = pc.extract_regex(folded, pattern)
        ok = np.asarray(found.is_valid().to_numpy(zero_copy_only=False), dtype=bool) & todo
        if kinds is None:  # "G322", "S325": only in Chinese names or bare road numbers
            text = pd.Series(folded.to_numpy(zero_copy_only=False), dtype=object)
            bare = text.str.fullmatch(r"[gsxy] ?\d{1,4}").fillna(False).to_numpy(bool)
            ok &= bare | text.str.contains(_CJK.pattern, regex=True).fillna(False).to_numpy(
                bool)
        if ok.any():
            kind = found.field("kind").to_numpy(zero_copy_only=False)[ok]
            num = found.field("num").to_numpy(zero_copy_only=False)[ok]
            letters = (pd.Series(kind).map(kinds) if kinds else pd.Series(kind).str.upper())
            refs[ok] = letters.to_numpy(object) + num.astype(object)
    out[rows] = refs[codes]
    return out


def _take(series: pd.Series, rows: NDArray[np.int64], n: int) -> pd.Series:
    """Rows ``rows`` (sorted, unique) of a Series of ``n``, without copying all of them."""
    series = series.reset_index(drop=True)
    return series if len(rows) == n else series.take(rows).reset_index(drop=True)


def _unique_ids(ids: pd.Series) -> tuple[pd.Series, int]:
    """Give repeated ids a ``-2``, ``-3``... suffix (the first keeps its id)."""
    ids = ids.reset_index(drop=True)
    if ids.is_unique:
        return ids, 0
    ids = ids.astype(object)
    rank = ids.groupby(ids, sort=False).cumcount().to_numpy()
    dup = rank > 0
    count = int(dup.sum())
    ids[dup] = ids[dup].astype(str) + "-" + pd.Series(rank[dup] + 1).astype(str).to_numpy()
    for attempt in range(10):  # a new id may collide with a given one: suffix again
        clash = ids.duplicated(keep="first").to_numpy()
        if not clash.any():
            break
        suffix = pd.Series(np.flatnonzero(clash) + 1).astype(str).to_numpy()
        ids[clash] = ids[clash] + f"-{'r' * (attempt + 1)}" + suffix
    return ids, count


def _statuses(values: pd.Series | None, n: int) -> NDArray[np.object_]:
    if values is None:
        return np.full(n, "open", dtype=object)
    codes, uniques = pd.factorize(values.reset_index(drop=True), use_na_sentinel=True)
    mapped = []
    unknown = 0
    for value in uniques:
        key = fold(_cell_text(value))
        status = value if value in ROAD_STATUSES else _STATUS_WORDS.get(key)
        if status is None:
            unknown += int((codes == len(mapped)).sum())
            status = "open"
        mapped.append(status)
    if unknown:
        logger.warning("%d line%s with an unknown status taken as open (statuses: %s)",
                       unknown, "s" if unknown > 1 else "", ", ".join(ROAD_STATUSES))
    return np.array([*mapped, "open"], dtype=object)[codes]


def _highways(highway: pd.Series | None, keep: NDArray[np.int64], n: int,
              class_index: NDArray[np.int64], unknown: NDArray[np.bool_]) -> pd.Series:
    """Return the OSM ``highway`` given, else one mapped from the class (none for rail)."""
    table = np.array([CLASS_HIGHWAY.get(c) for c in ROAD_CLASSES], dtype=object)
    from_class = pd.Series(np.where(unknown, _UNKNOWN_HIGHWAY, table[class_index]),
                           dtype=object)
    if highway is None:
        return from_class
    text = _take(_as_text(highway), keep, n)
    tag = pd.Series(text, dtype="str").str.strip().str.lower()
    given = (text.notna() & ~tag.isin(["", "construction", "proposed"])).to_numpy(bool)
    return pd.Series(text.to_numpy(dtype=object), dtype=object).where(given, from_class)


def _osm_ids(values: pd.Series | None, keep: NDArray[np.int64], n: int
             ) -> NDArray[np.float64]:
    """OSM ids (``way/123``, ``w123``, ``123``, a list's first) as floats (NaN: none)."""
    if values is None:
        return np.full(len(keep), np.nan)
    values = _take(values, keep, n)
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    text = pd.Series(_as_text(values), dtype="str")
    digits = text.str.extract(r"(\d{1,15})")[0]
    return pd.to_numeric(digits, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def read_roads(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str | None] | None = None,
    layer: str | None = None,
    **options: object,
) -> tuple[gpd.GeoDataFrame, RoadLayerReport]:
    """Read a line layer from a file and normalise it (:func:`normalise_roads`).

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, GeoParquet, Shapefile or FlatGeobuf file.
    columns
        Output column → input column (see :func:`normalise_roads`).
    layer
        Layer name inside a GeoPackage.
    **options
        Passed to :func:`normalise_roads` (``class_words``, ``class_speeds_kph``,
        ``exclude_classes``, ``default_speed_kph``).

    Returns
    -------
    roads : geopandas.GeoDataFrame
        The normalised layer.
    report : RoadLayerReport
        What normalising did.

    Raises
    ------
    DataFileError
        Missing, not a regular file, or unreadable.
    SchemaError
        See :func:`normalise_roads`.
    """
    from bordergeo.io import read_layer

    label = f"{path}" + (f" (layer {layer})" if layer else "")
    gdf = read_layer(path, layer=layer)
    return normalise_roads(gdf, columns=columns, source=label, **options)  # type: ignore[arg-type]
