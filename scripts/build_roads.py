"""Rebuild data/geojson/roads.geojson from real road geometry plus cited waypoints.

1. Real layer: the national and provincial roads and the Hà Nội–Đồng Đăng railway of
   ``../shared/data/ctu_vn_roads_rail/vn_roads_rail_aoi.geojson`` (CTU-SematX LegoCity open
   data, CC BY-SA 4.0), clipped to the study area (AOI+: lon 105.5–107.6, lat 20.6–22.7),
   exploded to LineStrings, with the road numbers corrected where the layer mislabels them
   (``RELABEL``).
2. Drawn lines for what the layer lacks (expressways, the QL18 link, QL31, QL279, QL3B, the
   access roads to the gates and hubs, the simplified long-haul QL1A south of Hà Nội),
   through cited waypoints (``W``: GeoNames towns, the gate and hub points, junctions on the
   real layer), densified so that no two vertices are more than ``MAX_STEP_M`` apart.
3. Ends that stop short of another line are joined: a dangling end within ``JOIN_M`` of
   another line gets that line's nearest vertex (or a vertex inserted at the foot of the
   perpendicular), so every builder sees the same junctions.

Deterministic: the same inputs give the same bytes. The output is a derived work of the
CC BY-SA 4.0 layer and stays under that licence (data/geojson/README.md).

    python scripts/build_roads.py
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sys
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_dataset import DEC865, GATES, HUBS, NE_PORTS, WIKI_VI_TANTHANH, WIKI_ZH_YOUYI  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "geojson"
SHARED = ROOT.parent / "shared" / "data"
REAL = SHARED / "ctu_vn_roads_rail" / "vn_roads_rail_aoi.geojson"
BOX = (105.5, 20.6, 107.6, 22.7)  # AOI+ (lon/lat), as ../shared/data clips it
JOIN_M = 300.0  # dangling ends within this distance of another line are joined to it
MIN_PART_M = 20.0  # real-layer parts shorter than this (stubs) are left out
SAME_ROAD_M = 1_000.0  # ... or within this distance of another part of the same feature
MAX_STEP_M = 480.0  # drawn lines: densified to vertices at most this far apart
ON_ROAD_MAX_M = 10_000.0  # a waypoint put "on" a real road must lie this close to it
PLACE_MAX_M = 1_000.0  # every gate and hub lies this close to an open road
GEOD = pyproj.Geod(ellps="WGS84")
CTU = "CTU-SematX LegoCity open data, CC BY-SA 4.0"

# ---------------------------------------------------------------- the real layer
REFS = {"Quốc lộ 1": "QL1A"}  # "Quốc lộ 1" is the same road as "Quốc lộ 1A"
# (gid, part) → (ref, name, why): parts the layer labels wrongly. Parts are numbered as
# they come in the layer's MultiLineString, after clipping.
RELABEL = {
    (247, 0): ("QL1A", "Quốc lộ 1A",
               "labelled QL4A in the layer; it is QL1A Lạng Sơn – Đồng Đăng – Hữu Nghị (km 0 "
               "at the gate; the old waypoints lang-son → cao-loc → dong-dang → huu-nghi)"),
    (298, 0): ("QL18", "Quốc lộ 18",
               "labelled QL10 in the layer; this part runs Biểu Nghi → Hạ Long, the QL18 "
               "corridor (the old waypoints uong-bi → Hạ Long), QL10 ends at Biểu Nghi"),
    (422, 0): (None, "Đường vào cửa khẩu Tân Thanh",
               "unnamed ('Không biết') in the layer; it ends 290 m from the Tân Thanh gate "
               f"({WIKI_VI_TANTHANH})"),
}
RAIL_NAMES = ("Hà Nội - Lạng Sơn", "Hà Nội - Giáp Bát")  # Hà Nội station → Đồng Đăng
RAIL_SKIP = {25}  # labelled "Hà Nội - Lạng Sơn", but it is the Mai Pha – Na Dương branch

# Truck speeds (km/h) by road number, estimates (L): 60 on the four-lane plains roads,
# 50 on two-lane national roads, 40 in the mountains; provincial 40, local 30, cargo 20,
# expressways 90 (the legal limit for trucks).
SPEED = {"QL5": 60.0, "QL18": 60.0, "QL10": 50.0, "QL3": 50.0, "QL2": 50.0, "QL32": 50.0,
         "QL6": 50.0, "QL1B": 40.0, "QL34": 40.0, "QL37": 40.0, "QL2C": 40.0}
FOUR_LANES = {"QL1A", "QL5", "QL18", "QL10"}  # south of lat 21.3


def _real_speed(ref: str | None, cls: str, lat: float) -> float:
    if ref == "QL1A":
        return 60.0 if lat < 21.28 else 50.0 if lat < 21.955 else 40.0
    if ref == "QL4A":
        return 50.0 if lat < 22.06 else 40.0
    if ref == "QL4B":
        return 50.0 if lat > 21.74 else 40.0
    return SPEED.get(ref or "", 50.0 if cls == "national" else 40.0)


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.lower().replace("đ", "d"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def geonames(gid: int) -> str:
    return f"GeoNames {gid} (CC BY 4.0)"


def estimated(how: str) -> str:
    return f"estimated (L): {how}"


# ---------------------------------------------------------------- waypoints (lon, lat, source)
GATE_XY = {g["id"]: (g["lon"], g["lat"]) for g in GATES}
HUB_XY = {h["id"]: (h["lon"], h["lat"]) for h in HUBS}
W = {
    "ha-noi": (*HUB_XY["ha-noi"], geonames(1581130)),
    "gia-lam": (105.929, 21.0301, f"Gia Lâm, where QL1A (gid 189) meets QL5 (gid 302), a "
                                  f"vertex of the real layer ({CTU})"),
    "yen-vien": (105.9167, 21.0833, geonames(1560040)),
    "ql1a-yen-vien": (105.911, 21.0805, f"north-east end of QL1A gid 306 at Yên Viên ({CTU})"),
    "thanh-tri": (105.8850, 20.9960, estimated("Thanh Trì bridge, west end of the Hà Nội–Hải "
                                               "Phòng expressway")),
    "tu-son": (105.9667, 21.1, geonames(1569856)),
    "bac-ninh": (*HUB_XY["bac-ninh"], geonames(1591449)),
    "bich-dong": (106.1007, 21.2742, geonames(8376599)),
    "bac-giang": (*HUB_XY["bac-giang"], geonames(1591527)),
    "bac-giang-ict": (106.2150, 21.2800, estimated("expressway interchange east of Bắc Giang")),
    "kep": (106.2667, 21.4, geonames(1579752)),
    "huu-lung": (106.3446, 21.5056, geonames(1580054)),
    "dong-mo": (*HUB_XY["chi-lang"], geonames(1582743)),
    "ct-cl-1": (106.6400, 21.6900, estimated("Hữu Nghị–Chi Lăng expressway alignment, east "
                                             "of QL1A")),
    "ct-cl-2": (106.7350, 21.8200, estimated("expressway alignment, bypassing Lạng Sơn city")),
    "ct-cl-3": (106.7450, 21.9150, estimated("expressway alignment, east of Đồng Đăng")),
    "cao-loc": (106.7683, 21.8665, geonames(8522260)),
    "huu-nghi": (*GATE_XY["huu-nghi"], WIKI_ZH_YOUYI),
    "huu-nghi-1119": (*GATE_XY["huu-nghi-1119"], "gate point"),
    "tan-my": (*HUB_XY["tan-my"], "hub point"),
    "tan-thanh": (*GATE_XY["tan-thanh"], WIKI_VI_TANTHANH),
    "tan-thanh-1088": (*GATE_XY["tan-thanh-1088"], "gate point"),
    "coc-nam": (*GATE_XY["coc-nam"], "gate point"),
    "na-sam": (106.6151, 22.0564, geonames(1572898)),
    "na-hinh": (*GATE_XY["na-hinh"], "gate point"),
    "that-khe": (106.4736, 22.2553, geonames(1565969)),
    "na-nua": (*GATE_XY["na-nua"], "gate point"),
    "binh-nghi": (*GATE_XY["binh-nghi"], "gate point"),
    "dong-khe": (106.4319, 22.4294, geonames(1582863)),
    "yen-lac": (106.1815, 22.2369, geonames(1560227) + ", Yến Lạc (Na Rì, Bắc Kạn)"),
    "po-nhung": (*GATE_XY["po-nhung"], "gate point"),
    "binh-gia": (106.3645, 21.9609, geonames(1587866)),
    "loc-binh": (106.9233, 21.7587, geonames(1575896)),
    "dinh-lap": (107.0981, 21.5463, geonames(1583342)),
    "chi-ma": (*GATE_XY["chi-ma"], "gate point"),
    "doi-ngo": (106.3867, 21.3063, geonames(8376497)),
    "chu": (106.5665, 21.3738, geonames(1585281)),
    "an-chau": (106.8493, 21.3346, geonames(1594496)),
    "ql18-bac-ninh": (106.0561, 21.1574, f"east end of the real QL18 (gid 442; {CTU})"),
    "chi-linh": (106.3167, 21.0667, geonames(1585489)),
    "dong-trieu": (106.5138, 21.0824, geonames(1582497)),
    "mao-khe": (106.5926, 21.0586, geonames(1574873)),
    "uong-bi": (106.7705, 21.0343, geonames(1563241)),
    "bieu-nghi": (106.8425, 20.9743, f"QL10 × QL18 junction, a vertex of gid 298 ({CTU})"),
    "yen-my": (106.0356, 20.8856, geonames(8612761)),
    "gia-loc": (106.3, 20.8678, geonames(8607197)),
    "an-lao": (106.5558, 20.8229, geonames(8595083)),
    "dinh-vu": (106.7400, 20.8500, estimated("Đình Vũ, east end of the expressway")),
    "tien-yen": (107.4053, 21.3313, geonames(1564589)),
    "van-tien": (107.4400, 21.2200, estimated("Vân Tiên bridge between Vân Đồn and Tiên Yên")),
    "doan-ket": (107.4200, 21.0800, estimated("Vân Đồn interchange, end of the Hạ Long – Vân "
                                              "Đồn expressway")),
    "cam-pha-north": (107.2500, 21.0600, estimated("expressway north of Cẩm Phả")),
    "ha-long-ict": (107.0500, 20.9900, estimated("Hạ Long interchange, where the Hạ Long – Hải "
                                                 "Phòng and Hạ Long – Vân Đồn expressways meet")),
    "bach-dang": (106.8000, 20.8800, estimated("Bạch Đằng bridge, Quảng Ninh – Hải Phòng")),
    "hai-phong-port": (*HUB_XY["hai-phong-port"], NE_PORTS),
    "long-bien-icd": (*HUB_XY["long-bien-icd"], "hub point"),
    # long-haul corridor south (provincial capitals; general knowledge, M)
    "phu-ly": (105.91, 20.54, "general knowledge (M)"),
    "ninh-binh": (105.97, 20.25, "general knowledge (M)"),
    "thanh-hoa": (105.78, 19.80, "general knowledge (M)"),
    "vinh": (105.68, 18.67, "general knowledge (M)"),
    "ha-tinh": (105.90, 18.34, "general knowledge (M)"),
    "dong-hoi": (106.62, 17.47, "general knowledge (M)"),
    "dong-ha": (107.10, 16.82, "general knowledge (M)"),
    "hue": (107.59, 16.46, "general knowledge (M)"),
    "da-nang": (108.20, 16.05, "general knowledge (M)"),
    "quang-ngai": (108.80, 15.12, "general knowledge (M)"),
    "quy-nhon": (*HUB_XY["quy-nhon"], "hub point (domain notes §3.7)"),
    "tuy-hoa": (109.30, 13.10, "general knowledge (M)"),
    "nha-trang": (109.19, 12.24, "general knowledge (M)"),
    "phan-rang": (108.99, 11.56, "general knowledge (M)"),
    "phan-thiet": (*HUB_XY["phan-thiet"], "hub point (domain notes §3.7)"),
    "bien-hoa": (106.82, 10.95, "general knowledge (M)"),
    "ho-chi-minh": (106.70, 10.78, "general knowledge (M)"),
    "tan-an": (*HUB_XY["tan-an"], "hub point (domain notes §3.7)"),
    "my-tho": (*HUB_XY["my-tho"], "hub point (domain notes §3.7)"),
}

VNEXPRESS_2020 = "VnExpress 14 Jan 2020: 64 km, 4 lanes, 100 km/h"
LECOURRIER_2016 = "Le Courrier du Vietnam/VNA 2016: 45.8 km Gia Lâm – Bắc Giang, 100 km/h"
SIMPLIFIED = ("simplified through provincial capitals (outside the real layer): the drawn "
              "length understates the road by ~15 %; long-haul times are indicative")

# A waypoint "key@REF" is the point of the real road REF (or "gid:N") nearest the waypoint
# `key`, inserted there as a shared vertex: the drawn line meets the real one exactly.
# id, ref, name, class, lanes, maxspeed_kph, status, length_m, source, waypoints
DRAWN = [
    ("ct-hn-bg", "CT.01", "Cao tốc Hà Nội – Bắc Giang", "expressway", 4, 90.0, "open", 45_800.0,
     LECOURRIER_2016 + "; trucks limited to 90 km/h",
     ["gia-lam@QL5", "tu-son", "bac-ninh", "bich-dong", "bac-giang-ict@QL1A"]),
    ("ct-bg-ls", "CT.01", "Cao tốc Bắc Giang – Lạng Sơn", "expressway", 4, 90.0, "open",
     64_000.0, VNEXPRESS_2020 + "; trucks limited to 90 km/h; it ends in Chi Lăng district "
     "where the Chi Lăng – Hữu Nghị section starts (VnExpress 1 Oct 2019): junction placed "
     "on QL1A at Đồng Mỏ (L), which fits both cited lengths",
     ["bac-giang-ict@QL1A", "kep", "huu-lung", "dong-mo@QL1A"]),
    ("ct-cl-hn", "CT.01", "Cao tốc Hữu Nghị – Chi Lăng", "expressway", 6, 80.0, "construction",
     43_430.0, "VietnamPlus/SGGP/VOV: 43.43 km main line, works from 21 Apr 2024",
     ["dong-mo@QL1A", "ct-cl-1", "ct-cl-2", "ct-cl-3", "huu-nghi-1119@QL1A"]),
    ("ct-tt-cn", None, "Đường kết nối cửa khẩu Tân Thanh – Cốc Nam", "expressway", 4, 60.0,
     "construction", None, estimated("connector between the Tân Thanh and Cốc Nam gates, "
                                     "alignment not published"),
     ["tan-thanh@gid:422", "coc-nam"]),
    ("ct-dd-tl", None, "Cao tốc Đồng Đăng – Trà Lĩnh", "expressway", 4, 80.0,
     "construction", None, "121 km from the Tân Thanh gate (SGGP 13 Jul 2022) to Trà Lĩnh "
     "(Cao Bằng); phase 1, 93.35 km, under construction since 1 Jan 2024 (Thời báo Tài chính "
     "16 Nov 2024); " + estimated("schematic alignment along the QL4A corridor, drawn as far "
                                  "as Đông Khê"),
     ["tan-thanh@gid:422", "na-sam", "that-khe", "dong-khe"]),
    ("ct-hn-hp", "CT.04", "Cao tốc Hà Nội – Hải Phòng", "expressway", 6, 90.0, "open",
     105_500.0, "Citicom project page: 105.5 km, Thanh Trì bridge – Đình Vũ; through the "
                "districts of Yên Mỹ, Gia Lộc and An Lão",
     ["thanh-tri@QL1A", "yen-my", "gia-loc", "an-lao", "dinh-vu@QL5"]),
    ("ct-hl-hp", "CT.06", "Cao tốc Hạ Long – Hải Phòng", "expressway", 4, 90.0, "open", None,
     "opened 1 Sep 2018 (VNA infographics.vn); alignment estimated (L); trucks limited to "
     "90 km/h", ["ha-long-ict@QL18", "bach-dang", "dinh-vu@QL5"]),
    ("ct-hl-ty", "CT.06", "Cao tốc Hạ Long – Vân Đồn – Tiên Yên", "expressway", 4, 90.0, "open",
     None, "Hạ Long – Vân Đồn expressway and the Vân Đồn – Móng Cái expressway (opened 1 Sep "
     "2022, 80 km; its Vân Tiên bridge links Vân Đồn and Tiên Yên: VietnamPlus 6 Sep 2022) as "
     "far as Tiên Yên; alignment estimated (L); trucks limited to 90 km/h",
     ["ha-long-ict@QL18", "cam-pha-north", "doan-ket", "van-tien", "tien-yen@QL18"]),
    ("hn-chuong-duong", None, "Cầu Chương Dương – Nguyễn Văn Cừ (Hà Nội)", "national", 4, 40.0,
     "open", None, estimated("Hà Nội centre across the Chương Dương bridge to Gia Lâm"),
     ["ha-noi@QL1A", "gia-lam@QL5"]),
    ("ql1a-yen-vien", "QL1A", "Quốc lộ 1A (Yên Viên)", "national", 4, 50.0, "open", None,
     estimated("joins the two real QL1A pieces at Yên Viên"),
     ["ql1a-yen-vien", "yen-vien@gid:189"]),
    ("ql18-bn-ub", "QL18", "Quốc lộ 18", "national", 4, 60.0, "open", None,
     "QL18 Bắc Ninh – Chí Linh – Đông Triều – Uông Bí – Biểu Nghi (missing from the real "
     "layer between gid 442 and gid 298)",
     ["ql18-bac-ninh", "chi-linh", "dong-trieu", "mao-khe", "uong-bi", "bieu-nghi"]),
    ("ql31", "QL31", "Quốc lộ 31", "national", 2, 50.0, "open", None,
     "QL31 Bắc Giang – Lục Nam – Chũ – An Châu – Đình Lập (missing from the real layer)",
     ["bac-giang@QL1A", "doi-ngo", "chu", "an-chau", "dinh-lap@QL4B"]),
    ("ql279", "QL279", "Quốc lộ 279", "national", 2, 40.0, "open", None,
     "QL279 Lạng Sơn – Bắc Kạn (inboundvietnam.com, Lang Son guide); order of the towns "
     "(Chũ – Đồng Mỏ – Bình Gia) general knowledge (L)",
     ["chu", "dong-mo@QL1A", "binh-gia@QL1B"]),
    ("ql3b", "QL3B", "Quốc lộ 3B", "national", 2, 30.0, "open", None,
     "QL3B links Bắc Kạn and Lạng Sơn, largely unpaved (VTV via cnnd.vn); Thất Khê – Yến Lạc "
     "(Na Rì) general knowledge (L)",
     ["that-khe@QL4A", "yen-lac"]),
    ("chi-ma-road", None, "Đường Lộc Bình – Chi Ma", "provincial", 2, 40.0, "open", None,
     estimated("access road from QL4B at Lộc Bình to the Chi Ma gate"),
     ["loc-binh@QL4B", "chi-ma"]),
    ("coc-nam-road", None, "Đường vào Cốc Nam", "local", 2, 30.0, "open", None,
     estimated("access road from QL4A at Tân Mỹ"), ["tan-my@QL4A", "tan-my", "coc-nam"]),
    ("na-hinh-road", None, "Đường vào Na Hình", "local", 2, 30.0, "open", None,
     estimated("access road from QL4A at Na Sầm"), ["na-sam@QL4A", "na-hinh"]),
    ("na-nua-road", None, "Đường vào Nà Nưa", "local", 2, 30.0, "open", None,
     estimated("access road from QL4A at Thất Khê"), ["that-khe@QL4A", "na-nua"]),
    ("binh-nghi-road", None, "Đường vào Bình Nghi", "local", 2, 30.0, "open", None,
     estimated("access road from QL4A at Thất Khê"), ["that-khe@QL4A", "binh-nghi"]),
    ("po-nhung-road", None, "Đường vào Pò Nhùng", "local", 2, 30.0, "open", None,
     estimated("access road from QL1A at Cao Lộc"), ["cao-loc@QL1A", "po-nhung"]),
    ("ql1a-km0", "QL1A", "Quốc lộ 1A (km 0)", "national", 2, 30.0, "open", None,
     "last metres of QL1A to the gate point", ["huu-nghi@QL1A", "huu-nghi"]),
    ("cargo-1119", "1119–1120", "Đường chuyên dụng 1119–1120", "cargo_road", 4, 20.0, "open",
     None, DEC865, ["huu-nghi-1119@QL1A", "huu-nghi-1119"]),
    ("cargo-1088", "1088/2–1089", "Đường chuyên dụng 1088/2–1089", "cargo_road", 2, 20.0, "open",
     None, DEC865, ["tan-thanh@gid:422", "tan-thanh-1088"]),
    ("hp-port", None, "Đường vào cảng Hải Phòng", "local", 4, 40.0, "open", None,
     estimated("from QL5 to the port point"), ["hai-phong-port@QL5", "hai-phong-port"]),
    ("long-bien-icd-road", None, "Đường vào ICD Long Biên", "local", 2, 30.0, "open", None,
     estimated("from QL1A to the ICD point"), ["long-bien-icd@QL1A", "long-bien-icd"]),
    ("ql1a-south", "QL1A", "Quốc lộ 1A (phía Nam, giản lược)", "national", 2, 50.0, "open",
     None, SIMPLIFIED + "; starts where the real QL1A leaves the study area",
     ["phu-ly@QL1A", "phu-ly", "ninh-binh", "thanh-hoa", "vinh", "ha-tinh", "dong-hoi",
      "dong-ha", "hue", "da-nang", "quang-ngai", "quy-nhon"]),
    ("ql1a-south-2", "QL1A", "Quốc lộ 1A (phía Nam, giản lược)", "national", 2, 50.0, "open",
     None, SIMPLIFIED, ["quy-nhon", "tuy-hoa", "nha-trang", "phan-rang", "phan-thiet"]),
    ("ql1a-south-3", "QL1A", "Quốc lộ 1A (phía Nam, giản lược)", "national", 2, 50.0, "open",
     None, SIMPLIFIED, ["phan-thiet", "bien-hoa", "ho-chi-minh", "tan-an", "my-tho"]),
]
# long-haul lines: not densified (thousands of vertices for an indicative line)
NOT_DENSIFIED = {"ql1a-south", "ql1a-south-2", "ql1a-south-3"}


# ---------------------------------------------------------------- geometry helpers
def _r(x: float) -> float:
    return float(f"{x:.6f}")


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def _scale(lat: float) -> tuple[float, float]:
    """Metres per degree (lon, lat) near a latitude: good enough for distances < 5 km."""
    return 111_320.0 * math.cos(math.radians(lat)), 110_574.0


def _nearest_on(coords: list[list[float]], pt: tuple[float, float]) -> tuple[float, int, list]:
    """(distance m, segment index, foot) of the nearest point of a polyline to pt."""
    kx, ky = _scale(pt[1])
    a = np.asarray(coords[:-1], float)
    b = np.asarray(coords[1:], float)
    p = np.asarray(pt, float)
    d = (b - a) * (kx, ky)
    w = (p - a) * (kx, ky)
    den = (d * d).sum(1)
    t = np.clip(np.divide((w * d).sum(1), den, out=np.zeros(len(a)), where=den > 0), 0, 1)
    foot = a + (b - a) * t[:, None]
    dist = np.hypot(*((foot - p) * (kx, ky)).T)
    i = int(np.argmin(dist))
    return float(dist[i]), i, [_r(foot[i][0]), _r(foot[i][1])]


def _put_vertex(coords: list[list[float]], seg: int, foot: list[float], snap_m: float = 25.0
                ) -> list[float]:
    """Return a vertex of the line at foot: an existing one within snap_m, or a new one."""
    for k in (seg, seg + 1):
        if _metres(tuple(coords[k]), tuple(foot)) <= snap_m:
            return coords[k]
    coords.insert(seg + 1, foot)
    return foot


def _densify(coords: list[list[float]]) -> list[list[float]]:
    out = [coords[0]]
    for a, b in itertools.pairwise(coords):
        n = max(1, math.ceil(_metres(tuple(a), tuple(b)) / MAX_STEP_M))
        for k in range(1, n + 1):
            out.append(b if k == n else [_r(a[0] + (b[0] - a[0]) * k / n),
                                         _r(a[1] + (b[1] - a[1]) * k / n)])
    return out


# ---------------------------------------------------------------- building
def real_lines() -> tuple[list[dict], list[dict]]:
    """Roads and railways of the real layer as property dicts with a ``coords`` list."""
    layer = gpd.read_file(REAL)
    roads, rails = [], []
    for pos, row in enumerate(layer.itertuples()):
        kind = row.loai_duong
        if kind == "Đường sắt" and (row.ten not in RAIL_NAMES or int(row.gid) in RAIL_SKIP):
            continue
        clipped = shapely.clip_by_rect(row.geometry, *BOX)
        parts = [p for p in shapely.get_parts(clipped) if p.geom_type == "LineString"
                 and not p.is_empty] if not clipped.is_empty else []
        for k, part in enumerate(parts):
            coords = []
            for x, y in part.coords:
                c = [_r(x), _r(y)]
                if not coords or c != coords[-1]:
                    coords.append(c)
            if len(coords) < 2 or sum(_metres(tuple(a), tuple(b))
                                      for a, b in itertools.pairwise(coords)) < MIN_PART_M:
                continue
            gid = int(row.gid)
            where = (f"{CTU}: giaothong.geojson feature #{pos} (gid {gid}, ten '{row.ten}', "
                     f"loai_duong '{kind}'), part {k}, clipped to the study area")
            if kind == "Đường sắt":
                rails.append({"id": f"rail-g{gid}-{pos}-{k}", "feature": pos, "ref": None,
                              "name": f"Đường sắt {row.ten.replace(' - ', ' – ')}",
                              "class": "rail", "maxspeed_kph": 40.0, "lanes": None,
                              "source": where + "; speed: freight-train estimate (L)",
                              "coords": coords})
                continue
            national = row.cap_duong == "Quốc Gia"
            cls = "national" if national else "provincial"
            name = row.ten
            m = re.match(r"(Quốc lộ|Tỉnh lộ) (\S+)", name)
            ref = None
            if m:
                ref = ("QL" if m.group(1) == "Quốc lộ" else "ĐT.") + m.group(2)
            ref = REFS.get(name, ref)
            if name == "Quốc lộ 1":
                name = "Quốc lộ 1A"
            fix = RELABEL.get((gid, k))
            if fix:
                ref, name, why = fix
                where += f"; relabelled: {why}"
            mid_lat = float(np.mean([c[1] for c in coords]))
            speed = _real_speed(ref, cls, mid_lat)
            lanes = 4 if ref in FOUR_LANES and mid_lat < 21.3 else 2
            roads.append({"id": f"{_slug(ref or name)}-g{gid}-{pos}-{k}", "feature": pos,
                          "ref": ref,
                          "name": name, "class": cls, "maxspeed_kph": speed, "lanes": lanes,
                          "source": where + "; truck speed and lanes: estimates (L)",
                          "coords": coords})
    return roads, rails


def _on_road(roads: list[dict], key: str, target: str) -> list[float]:
    """The vertex of the real road `target` nearest waypoint `key` (inserted if needed)."""
    pt = W[key][:2]
    if target.startswith("gid:"):
        pick = [r for r in roads if f"-g{target[4:]}-" in r["id"]]
    else:
        pick = [r for r in roads if r["ref"] == target and "drawn" not in r]
    best = min(((_nearest_on(r["coords"], pt), n) for n, r in enumerate(pick)),
               key=lambda t: (t[0][0], t[1]))
    (dist, seg, foot), n = best
    if dist > ON_ROAD_MAX_M:
        raise SystemExit(f"waypoint {key} is {dist:.0f} m from {target}")
    return list(_put_vertex(pick[n]["coords"], seg, foot))


def drawn_lines(roads: list[dict]) -> list[dict]:
    out = []
    for rid, ref, name, cls, lanes, speed, status, length, source, way in DRAWN:
        coords, cited = [], []
        for w in way:
            key, _, target = w.partition("@")
            if target:
                coords.append(_on_road(roads, key, target))
                cited.append(f"{key} on {target} (the nearest point of the real road)")
            else:
                coords.append([_r(W[key][0]), _r(W[key][1])])
                cited.append(f"{key} ({W[key][2]})")
        if rid not in NOT_DENSIFIED:
            coords = _densify(coords)
        out.append({"id": rid, "ref": ref, "name": name, "class": cls,
                    "maxspeed_kph": speed, "lanes": lanes, "status": status,
                    "length_m": length, "drawn": True,
                    "source": f"{source}; drawn through waypoints {' → '.join(cited)}; the "
                              f"geometry between waypoints is interpolated (straight)",
                    "coords": coords})
    return out


def join_dangling_ends(lines: list[dict]) -> int:
    """Join each end that meets no other line to the nearest other line.

    Within JOIN_M of any line, or within SAME_ROAD_M of another part of the same feature
    (the layer leaves gaps at some bridges). The end gets that line's nearest vertex, or one
    inserted at the foot of the perpendicular; a line never joins both ends to one point.
    """
    joined = 0
    for n, line in enumerate(lines):
        for end in (0, -1):
            pt = tuple(line["coords"][end])
            if any(pt in map(tuple, other["coords"]) for m, other in enumerate(lines) if m != n):
                continue
            found = []
            for m, other in enumerate(lines):
                if m == n:
                    continue
                limit = SAME_ROAD_M if line.get("feature") is not None and \
                    other.get("feature") == line.get("feature") else JOIN_M
                dist, seg, foot = _nearest_on(other["coords"], pt)
                if dist <= limit:
                    found.append((dist, m, seg, foot))
            other_end = tuple(line["coords"][-1 - end if end == 0 else 0])
            for dist, m, seg, foot in sorted(found, key=lambda t: (t[0], t[1])):
                coords = lines[m]["coords"]
                near = [c for c in (coords[seg], coords[seg + 1])
                        if _metres(tuple(c), tuple(foot)) <= 50.0]
                vertex = near[0] if near else foot
                if tuple(vertex) == other_end:
                    continue
                if not near:
                    coords.insert(seg + 1, foot)
                if _metres(pt, tuple(vertex)) < 1.0:
                    line["coords"][end] = list(vertex)
                elif end == 0:
                    line["coords"].insert(0, list(vertex))
                else:
                    line["coords"].append(list(vertex))
                line["source"] += (f"; {'start' if end == 0 else 'end'} joined to "
                                   f"{lines[m]['id']} ({dist:.0f} m gap)")
                joined += 1
                break
    return joined


def connected_lines(lines: list[dict]) -> tuple[list[dict], list[dict]]:
    """Split the lines into those connected to the largest group and the islands.

    Lines are connected where they share a vertex or cross (the network builders node both).
    """
    parent = list(range(len(lines)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    geoms = [shapely.LineString(line["coords"]) for line in lines]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    roots = [find(i) for i in range(len(lines))]
    main = max(set(roots), key=lambda r: (roots.count(r), -r))
    keep = [line for line, r in zip(lines, roots, strict=True) if r == main]
    islands = [line for line, r in zip(lines, roots, strict=True) if r != main]
    return keep, islands


def check_near_misses(lines: list[dict], within_m: float = 5.0) -> None:
    """No two line ends are distinct yet closer than within_m (builders would snap them)."""
    ends = sorted({tuple(line["coords"][k]) for line in lines for k in (0, -1)})
    xy = np.asarray(ends) * _scale(21.5)  # metres, good to ~15 % over the study area
    for i, j in sorted(cKDTree(xy).query_pairs(within_m * 1.2)):
        if _metres(ends[i], ends[j]) < within_m:
            raise SystemExit(f"line ends {ends[i]} and {ends[j]} are "
                             f"{_metres(ends[i], ends[j]):.1f} m apart")


def check_places(lines: list[dict]) -> None:
    """Every gate and hub lies within PLACE_MAX_M of an open road."""
    open_roads = [r for r in lines if r["class"] != "rail" and r.get("status", "open") == "open"]
    for rec in GATES + HUBS:
        pt = (rec["lon"], rec["lat"])
        dist = min(_nearest_on(r["coords"], pt)[0] for r in open_roads)
        if dist > PLACE_MAX_M:
            raise SystemExit(f"{rec['id']} is {dist:.0f} m from the nearest open road")


def _dedupe(coords: list[list[float]]) -> list[list[float]]:
    out = [coords[0]]
    for c in coords[1:]:
        if c != out[-1]:
            out.append(c)
    return out


def _feature(line: dict) -> dict:
    props = {"id": line["id"], "ref": line["ref"], "name": line["name"],
             "class": line["class"], "oneway": False, "maxspeed_kph": line["maxspeed_kph"],
             "lanes": line["lanes"], "status": line.get("status", "open"),
             "length_m": line.get("length_m"), "source": line["source"]}
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "LineString", "coordinates": line["coords"]}}


def build() -> list[dict]:
    roads, rails = real_lines()
    drawn = drawn_lines(roads)
    lines = roads + drawn
    join_dangling_ends(lines)
    join_dangling_ends(rails)
    lines, islands = connected_lines(lines)
    if islands:
        print("left out (not connected to the network inside the study area): "
              + ", ".join(line["id"] for line in islands))
    check_places(lines)
    check_near_misses(lines)
    check_near_misses(rails)
    ids = [line["id"] for line in lines + rails]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate road ids")
    for line in lines + rails:
        line["coords"] = _dedupe(line["coords"])
    return [_feature(line) for line in lines + rails if len(line["coords"]) >= 2]


def main() -> None:
    if not REAL.exists():
        raise SystemExit(f"the real road layer is not there: {REAL.relative_to(ROOT.parent)}")
    feats = build()
    text = ('{"type":"FeatureCollection","name":"roads","features":[\n'
            + ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":"))
                         for f in feats) + "\n]}\n")
    (DATA / "roads.geojson").write_text(text, encoding="utf-8")
    counts: dict[str, int] = {}
    for f in feats:
        src = f["properties"]["source"]
        kind = ("rail" if f["properties"]["class"] == "rail" else
                "real" if src.startswith(CTU) else "drawn")
        counts[kind] = counts.get(kind, 0) + 1
    print(f"wrote roads ({len(feats)} lines: {counts.get('real', 0)} real-layer roads, "
          f"{counts.get('drawn', 0)} drawn, {counts.get('rail', 0)} railway)")


if __name__ == "__main__":
    main()
