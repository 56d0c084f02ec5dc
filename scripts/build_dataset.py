"""Rebuild the bundled Lạng Sơn layers: gates, markers, hubs and roads (GeoJSON).

Every record carries its source; data/geojson/README.md lists the sources in full. The
markers are placed on data/geojson/border.geojson (run scripts/build_border.py first).
Deterministic: the same inputs give the same bytes.

    python scripts/build_dataset.py
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

DATA = Path(__file__).resolve().parents[1] / "data" / "geojson"

# Sources, cited by key in the records (full list in data/geojson/README.md).
WIKI_ZH_YOUYI = "zh.wikipedia 友谊口岸 (coordinate of the VN-side gate)"
WIKI_VI_TANTHANH = "vi.wikipedia Cửa khẩu Tân Thanh"
WIKI_VI_DDSTATION = "vi.wikipedia Ga Đồng Đăng"
NE_PORTS = "Natural Earth 1:10m ports (public domain): Hai Phong"
DOMAIN = "bordergeo domain notes §3 (press sources cited there)"
DEC865 = "Decision 865/QĐ-TTg, 17 Aug 2024, via Hanoi Times (design capacity)"
EZ_AUG24 = "Đồng Đăng–Lạng Sơn EZ board via vietnam.vn, 22 & 29 Aug 2024 (observed)"


def geonames(gid: int) -> str:
    return f"GeoNames {gid} (CC BY 4.0)"


def estimated(how: str) -> str:
    return f"estimated: {how}"


# ---------------------------------------------------------------- gates (Vietnamese side)
GATES = [
    dict(id="huu-nghi", name_vi="Hữu Nghị", name_en="Huu Nghi (Friendship) international gate",
         name_zh="友谊关口岸 (越方)", level="international", mode="road", parent_id=None,
         district="Cao Lộc (Đồng Đăng)", status="open",
         status_note="km 0 of QL1A; 'Hữu Nghị' figures after May 2024 may include its routes",
         counterpart_en="Youyiguan (Pingxiang)", counterpart_zh="友谊关", markers="1116/1117",
         lanes_export=None, lanes_import=None, hours_vn="07:00-19:00", hours_cn="08:00-20:00",
         service_rate_trucks_h=None, capacity_trucks_day=861.0, capacity_date="2024-08-29",
         capacity_source=EZ_AUG24 + ": 861 vehicles cleared (244 export, 617 import)",
         coord_source=WIKI_ZH_YOUYI, coord_confidence="M", lon=106.71083, lat=21.97111),
    dict(id="huu-nghi-1119", name_vi="Đường chuyên dụng mốc 1119–1120",
         name_en="Huu Nghi specialised cargo road, markers 1119–1120",
         name_zh="友谊关货运专用通道 (1119–1120号界碑)", level="international", mode="road",
         parent_id="huu-nghi", district="Cao Lộc", status="open",
         status_note="smart-gate pilot (Decision 865/QĐ-TTg); 4 → 6 lanes inaugurated "
                     "27 Nov 2025, phase 2 to 14 lanes",
         counterpart_en="Youyiguan freight channel", counterpart_zh="友谊关货运通道",
         markers="1119–1120", lanes_export=2, lanes_import=2, hours_vn="07:00-19:00",
         hours_cn="08:00-20:00", service_rate_trucks_h=16.7, capacity_trucks_day=800.0,
         capacity_date="2024-08-17", capacity_source=DEC865 + "; 800 vehicles/day now",
         coord_source=estimated("~1 km east of the Hữu Nghị gate, 400 m inside Vietnam from "
                                "the OSM border line (domain notes: ≈21.97, 106.72)"),
         coord_confidence="L", lon=106.71981, lat=21.97065),
    dict(id="dong-dang-rail", name_vi="Ga Đồng Đăng", name_en="Dong Dang international railway "
         "station", name_zh="同登站", level="international", mode="rail", parent_id=None,
         district="Cao Lộc (Đồng Đăng)", status="open",
         status_note="dual gauge 1,000/1,435 mm to Pingxiang; bulk goods",
         counterpart_en="Pingxiang railway station", counterpart_zh="凭祥站", markers=None,
         lanes_export=None, lanes_import=None, hours_vn=None, hours_cn=None,
         service_rate_trucks_h=None, capacity_trucks_day=None, capacity_date=None,
         capacity_source=None, coord_source=WIKI_VI_DDSTATION, coord_confidence="M",
         lon=106.69722, lat=21.94389),
    dict(id="chi-ma", name_vi="Chi Ma", name_en="Chi Ma main gate", name_zh="支麻口岸",
         level="main", mode="road", parent_id=None, district="Lộc Bình (Yên Khoái)",
         status="open", status_note="planned upgrade to international; logistics hub",
         counterpart_en="Aidian (Ningming)", counterpart_zh="爱店", markers="near 1223–1224",
         lanes_export=None, lanes_import=None, hours_vn="07:00-19:00", hours_cn="08:00-20:00",
         service_rate_trucks_h=None, capacity_trucks_day=103.0, capacity_date="2024-08",
         capacity_source=EZ_AUG24 + ": 82 (Jan) / 103 (Aug 2024) vehicles/day",
         coord_source=estimated("opposite Aidian (21.82000, 107.02694, zh.wikipedia 愛店口岸), "
                                "400 m inside Vietnam from the OSM border line"),
         coord_confidence="L", lon=107.02323, lat=21.81625),
    dict(id="tan-thanh", name_vi="Tân Thanh", name_en="Tan Thanh gate", name_zh="新清口岸",
         level="secondary", mode="road", parent_id=None,
         district="Văn Lãng (Tân Thanh)", status="open",
         status_note="largest fruit-export route; crossing at markers 1090–1091",
         counterpart_en="Pò Chài / Puzhai", counterpart_zh="浦寨", markers="1090–1091",
         lanes_export=None, lanes_import=None, hours_vn="07:00-19:00", hours_cn="08:00-20:00",
         service_rate_trucks_h=None, capacity_trucks_day=300.0, capacity_date="2024-05",
         capacity_source="Customs via VNS May 2024: ~200 export trucks/day in season, up to "
                         "~300",
         coord_source=WIKI_VI_TANTHANH + " (62 m inside the OSM China polygon: within the "
                                         "border lines' tolerance)",
         coord_confidence="M", lon=106.68389, lat=22.00306),
    dict(id="tan-thanh-1088", name_vi="Đường chuyên dụng mốc 1088/2–1089",
         name_en="Tan Thanh – Po Chai specialised cargo road, markers 1088/2–1089",
         name_zh="浦寨货运专用通道 (1088/2–1089号界碑)", level="international", mode="road",
         parent_id="huu-nghi", district="Văn Lãng", status="open",
         status_note="legally a route of the Hữu Nghị–Youyiguan pair since 2024",
         counterpart_en="Puzhai freight channel", counterpart_zh="浦寨", markers="1088/2–1089",
         lanes_export=None, lanes_import=None, hours_vn="07:00-19:00", hours_cn="08:00-20:00",
         service_rate_trucks_h=None, capacity_trucks_day=400.0, capacity_date="2024-08-17",
         capacity_source=DEC865 + "; 400 vehicles/day now (437 observed 29 Aug 2024)",
         coord_source=estimated("beside Tân Thanh to the north, 400 m inside Vietnam from "
                                "the OSM border line"),
         coord_confidence="L", lon=106.68731, lat=22.01178),
    dict(id="coc-nam", name_vi="Cốc Nam", name_en="Coc Nam gate", name_zh="谷南口岸",
         level="secondary", mode="road", parent_id="huu-nghi", district="Văn Lãng (Tân Mỹ)",
         status="open", status_note="route of the Hữu Nghị pair since 27 May 2024",
         counterpart_en="Lũng Nghịu / Nongyao", counterpart_zh="弄尧", markers="1104–1105",
         lanes_export=None, lanes_import=None, hours_vn="07:00-19:00", hours_cn="08:00-20:00",
         service_rate_trucks_h=None, capacity_trucks_day=11.0, capacity_date="2024",
         capacity_source="VNA/Lao Động 2024: 9–11 vehicles/day (observed)",
         coord_source=estimated("on the border between Tân Thanh (1088–1091) and Hữu Nghị "
                                "(1116), as markers 1104–1105 lie; 400 m inside Vietnam"),
         coord_confidence="L", lon=106.68697, lat=21.96499),
    dict(id="na-hinh", name_vi="Na Hình", name_en="Na Hinh gate", name_zh="那形口岸",
         level="secondary", mode="road", parent_id=None, district="Văn Lãng",
         status="restricted", status_note="reopened 2023; no goods cleared since May 2024",
         counterpart_en=None, counterpart_zh=None, markers=None, lanes_export=None,
         lanes_import=None, hours_vn=None, hours_cn=None, service_rate_trucks_h=None,
         capacity_trucks_day=0.0, capacity_date="2026-02",
         capacity_source="EZ board: no clearance since May 2024, none in Feb 2026",
         coord_source=estimated("placeholder in Văn Lãng moved onto the border, 400 m "
                                "inside Vietnam"), coord_confidence="L",
         lon=106.68848, lat=22.11878),
    dict(id="na-nua", name_vi="Nà Nưa", name_en="Na Nua gate", name_zh="那努口岸",
         level="secondary", mode="road", parent_id=None, district="Tràng Định",
         status="restricted",
         status_note="reopened 14 Dec 2023 (≈270,000 t/yr before COVID); no goods cleared "
                     "since May 2024",
         counterpart_en="Nahua (Longzhou)", counterpart_zh="那花", markers=None,
         lanes_export=None, lanes_import=None, hours_vn=None, hours_cn=None,
         service_rate_trucks_h=None, capacity_trucks_day=0.0, capacity_date="2026-02",
         capacity_source="EZ board: no clearance since May 2024, none in Feb 2026",
         coord_source=estimated("placeholder in Tràng Định moved onto the border, 400 m "
                                "inside Vietnam"), coord_confidence="L",
         lon=106.55638, lat=22.34695),
    dict(id="binh-nghi", name_vi="Bình Nghi", name_en="Binh Nghi gate", name_zh="平宜口岸",
         level="secondary", mode="road", parent_id=None, district="Tràng Định",
         status="closed",
         status_note="closed in the epidemic; resumption and upgrade requested Nov 2023",
         counterpart_en="Ping'erguan (Pingxiang)", counterpart_zh="平而关", markers=None,
         lanes_export=None, lanes_import=None, hours_vn=None, hours_cn=None,
         service_rate_trucks_h=None, capacity_trucks_day=None, capacity_date=None,
         capacity_source=None,
         coord_source=estimated("placeholder in Tràng Định moved onto the border, 400 m "
                                "inside Vietnam"), coord_confidence="L",
         lon=106.58295, lat=22.33569),
    dict(id="po-nhung", name_vi="Pò Nhùng", name_en="Po Nhung gate", name_zh="波绒口岸",
         level="secondary", mode="road", parent_id=None, district="Cao Lộc", status="closed",
         status_note="provincial gate; reopening requested 2023; customs team 15B3 under "
                     "Hữu Nghị customs",
         counterpart_en=None, counterpart_zh=None, markers=None, lanes_export=None,
         lanes_import=None, hours_vn=None, hours_cn=None, service_rate_trucks_h=None,
         capacity_trucks_day=None, capacity_date=None, capacity_source=None,
         coord_source=estimated("placeholder east of Hữu Nghị moved onto the border, 400 m "
                                "inside Vietnam"), coord_confidence="L",
         lon=106.79697, lat=21.97789),
]

# ---------------------------------------------------------------- hubs
HUBS = [
    dict(id="ha-noi", name_vi="Hà Nội", name_en="Hanoi", name_zh="河内", kind="city",
         note=None, coord_source=geonames(1581130), coord_confidence="M",
         lon=105.84117, lat=21.0245),
    dict(id="long-bien-icd", name_vi="ICD Long Biên", name_en="Long Bien ICD",
         name_zh="龙边内陆港", kind="icd", note="first CBTA Chinese trucks, May 2025",
         coord_source=estimated("domain notes ≈21.05, 105.89"), coord_confidence="L",
         lon=105.89, lat=21.05),
    dict(id="bac-ninh", name_vi="Bắc Ninh", name_en="Bac Ninh", name_zh="北宁", kind="city",
         note="electronics industrial zones", coord_source=geonames(1591449),
         coord_confidence="M", lon=106.07631, lat=21.18608),
    dict(id="bac-giang", name_vi="Bắc Giang", name_en="Bac Giang", name_zh="北江", kind="city",
         note="lychee area (Lục Ngạn) to the east", coord_source=geonames(1591527),
         coord_confidence="M", lon=106.1946, lat=21.27307),
    dict(id="hai-phong-port", name_vi="Cảng Hải Phòng", name_en="Hai Phong port",
         name_zh="海防港", kind="port", note=None, coord_source=NE_PORTS,
         coord_confidence="M", lon=106.675, lat=20.867),
    dict(id="lang-son", name_vi="Thành phố Lạng Sơn", name_en="Lang Son city",
         name_zh="谅山市", kind="city", note=None, coord_source=geonames(1576633),
         coord_confidence="M", lon=106.76101, lat=21.85264),
    dict(id="dong-dang", name_vi="Đồng Đăng", name_en="Dong Dang town", name_zh="同登",
         kind="city", note="border-gate economic zone", coord_source=geonames(1582998),
         coord_confidence="M", lon=106.69767, lat=21.9511),
    dict(id="chi-lang", name_vi="Chi Lăng (Đồng Mỏ)", name_en="Chi Lang (Dong Mo)",
         name_zh="支棱", kind="city", note="truck holding stations on QL1A in surges",
         coord_source=geonames(1582743), coord_confidence="M", lon=106.5783, lat=21.657),
    dict(id="tan-my", name_vi="Khu phi thuế quan Tân Mỹ", name_en="Tan My non-tariff zone",
         name_zh="新美非关税区", kind="logistics",
         note="holds export and empty trucks since Sep 2024; 6 km from Tân Thanh, 8 km from "
              "Hữu Nghị (VNA)",
         coord_source=estimated("between the two gates at the cited road distances"),
         coord_confidence="L", lon=106.655, lat=21.96),
    dict(id="my-tho", name_vi="Mỹ Tho (Tiền Giang)", name_en="My Tho (Tien Giang)",
         name_zh="美萩", kind="production", note="dragon fruit; ~1,700 km to Lạng Sơn (VnExpress)",
         coord_source=DOMAIN + " §3.7", coord_confidence="M", lon=106.36, lat=10.36),
    dict(id="tan-an", name_vi="Tân An (Long An)", name_en="Tan An (Long An)", name_zh="新安",
         kind="production", note="dragon fruit; ~1,800 km to Lạng Sơn (VnExpress)",
         coord_source=DOMAIN + " §3.7", coord_confidence="M", lon=106.41, lat=10.54),
    dict(id="phan-thiet", name_vi="Phan Thiết (Bình Thuận)", name_en="Phan Thiet (Binh Thuan)",
         name_zh="藩切", kind="production", note="dragon fruit",
         coord_source=DOMAIN + " §3.7", coord_confidence="M", lon=108.10, lat=10.93),
    dict(id="quy-nhon", name_vi="Quy Nhơn (Bình Định)", name_en="Quy Nhon (Binh Dinh)",
         name_zh="归仁", kind="production", note="watermelon",
         coord_source=DOMAIN + " §3.7", coord_confidence="M", lon=109.22, lat=13.78),
]

# ---------------------------------------------------------------- road waypoints
# (lon, lat, source). Junctions are shared waypoints, so the lines meet exactly there.
GATE_XY = {g["id"]: (g["lon"], g["lat"]) for g in GATES}
HUB_XY = {h["id"]: (h["lon"], h["lat"]) for h in HUBS}
W = {
    "ha-noi": (*HUB_XY["ha-noi"], geonames(1581130)),
    "long-bien": (105.9, 21.0333, geonames(1564064)),
    "gia-lam": (105.939, 21.02, geonames(9871722)),
    "yen-vien": (105.9167, 21.0833, geonames(1560040)),
    "tu-son": (105.9667, 21.1, geonames(1569856)),
    "bac-ninh": (*HUB_XY["bac-ninh"], geonames(1591449)),
    "bich-dong": (106.1007, 21.2742, geonames(8376599)),
    "bac-giang": (*HUB_XY["bac-giang"], geonames(1591527)),
    "bac-giang-ict": (106.2150, 21.2800, estimated("expressway interchange east of Bắc Giang")),
    "kep": (106.2667, 21.4, geonames(1579752)),
    "huu-lung": (106.3446, 21.5056, geonames(1580054)),
    "chi-lang-town": (106.5026, 21.5736, geonames(8522285)),
    "dong-mo": (*HUB_XY["chi-lang"], geonames(1582743)),
    "lang-son": (*HUB_XY["lang-son"], geonames(1576633)),
    "ct-cl-1": (106.6400, 21.6900, estimated("Hữu Nghị–Chi Lăng expressway alignment, east "
                                             "of QL1A")),
    "ct-cl-2": (106.7350, 21.8200, estimated("expressway alignment, bypassing Lạng Sơn city")),
    "ct-cl-3": (106.7450, 21.9150, estimated("expressway alignment, east of Đồng Đăng")),
    "cao-loc": (106.7683, 21.8665, geonames(8522260)),
    "dong-dang": (*HUB_XY["dong-dang"], geonames(1582998)),
    "huu-nghi": (*GATE_XY["huu-nghi"], WIKI_ZH_YOUYI),
    "huu-nghi-1119-jct": (106.7135, 21.9690, estimated("junction of the cargo road with QL1A "
                                                       "below the gate")),
    "huu-nghi-1119": (*GATE_XY["huu-nghi-1119"], "gate point"),
    "dong-dang-station": (*GATE_XY["dong-dang-rail"], WIKI_VI_DDSTATION),
    "tan-my": (*HUB_XY["tan-my"], "hub point"),
    "tan-thanh-jct": (106.6700, 21.9900, estimated("QL4A turn-off to the Tân Thanh gate")),
    "tan-thanh": (*GATE_XY["tan-thanh"], WIKI_VI_TANTHANH),
    "tan-thanh-1088": (*GATE_XY["tan-thanh-1088"], "gate point"),
    "coc-nam": (*GATE_XY["coc-nam"], "gate point"),
    "na-sam": (106.6151, 22.0564, geonames(1572898)),
    "na-hinh": (*GATE_XY["na-hinh"], "gate point"),
    "that-khe": (106.4736, 22.2553, geonames(1565969)),
    "na-nua": (*GATE_XY["na-nua"], "gate point"),
    "binh-nghi": (*GATE_XY["binh-nghi"], "gate point"),
    "dong-khe": (106.4319, 22.4294, geonames(1582863)),
    "cao-bang": (106.2579, 22.6657, geonames(1586185)),
    "po-nhung": (*GATE_XY["po-nhung"], "gate point"),
    "van-quan": (106.5392, 21.8652, geonames(1562984)),
    "binh-gia": (106.3645, 21.9609, geonames(1587866)),
    "dinh-ca": (106.0752, 21.7522, geonames(1583393)),
    "thai-nguyen": (105.8482, 21.5942, geonames(1566319)),
    "loc-binh": (106.9233, 21.7587, geonames(1575896)),
    "na-duong": (106.9555, 21.7025, geonames(1573844)),
    "dinh-lap": (107.0981, 21.5463, geonames(1583342)),
    "tien-yen": (107.4053, 21.3313, geonames(1564589)),
    "chi-ma": (*GATE_XY["chi-ma"], "gate point"),
    "doi-ngo": (106.3867, 21.3063, geonames(8376497)),
    "chu": (106.5665, 21.3738, geonames(1585281)),
    "an-chau": (106.8493, 21.3346, geonames(1594496)),
    "chi-linh": (106.3167, 21.0667, geonames(1585489)),
    "dong-trieu": (106.5138, 21.0824, geonames(1582497)),
    "mao-khe": (106.5926, 21.0586, geonames(1574873)),
    "uong-bi": (106.7705, 21.0343, geonames(1563241)),
    "nui-deo": (106.6744, 20.9157, geonames(1571768)),
    "hai-phong": (106.6834, 20.8648, geonames(1581298)),
    "hai-phong-port": (*HUB_XY["hai-phong-port"], NE_PORTS),
    "nhu-quynh": (105.9849, 20.9817, geonames(1572018)),
    "my-hao": (106.0833, 20.9167, geonames(1574155)),
    "lai-cach": (106.2476, 20.9325, geonames(1577958)),
    "hai-duong": (106.333, 20.941, geonames(1581326)),
    "phu-thai": (106.5095, 20.9628, geonames(8607234)),
    "an-duong": (106.6133, 20.8638, geonames(1594454)),
    "thanh-tri": (105.8850, 20.9960, estimated("Thanh Trì bridge, west end of the Hà Nội–Hải "
                                               "Phòng expressway")),
    "dinh-vu": (106.7400, 20.8500, estimated("Đình Vũ, east end of the expressway")),
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
    "quy-nhon": (*HUB_XY["quy-nhon"], DOMAIN),
    "tuy-hoa": (109.30, 13.10, "general knowledge (M)"),
    "nha-trang": (109.19, 12.24, "general knowledge (M)"),
    "phan-rang": (108.99, 11.56, "general knowledge (M)"),
    "phan-thiet": (*HUB_XY["phan-thiet"], DOMAIN),
    "bien-hoa": (106.82, 10.95, "general knowledge (M)"),
    "ho-chi-minh": (106.70, 10.78, "general knowledge (M)"),
    "tan-an": (*HUB_XY["tan-an"], DOMAIN),
    "my-tho": (*HUB_XY["my-tho"], DOMAIN),
    "long-bien-icd": (*HUB_XY["long-bien-icd"], "hub point"),
}

VNEXPRESS_2020 = "VnExpress 14 Jan 2020: 64 km, 4 lanes, 100 km/h"
LECOURRIER_2016 = "Le Courrier du Vietnam/VNA 2016: 45.8 km Gia Lâm – Bắc Giang, 100 km/h"

# id, ref, name, class, lanes, maxspeed_kph, status, length_m, source, waypoints
ROADS = [
    ("ct-hn-bg", "CT.01", "Cao tốc Hà Nội – Bắc Giang", "expressway", 4, 90.0, "open", 45_800.0,
     LECOURRIER_2016 + "; trucks limited to 90 km/h",
     ["gia-lam", "tu-son", "bac-ninh", "bich-dong", "bac-giang-ict"]),
    ("ct-bg-ls", "CT.01", "Cao tốc Bắc Giang – Lạng Sơn", "expressway", 4, 90.0, "open",
     64_000.0, VNEXPRESS_2020 + "; trucks limited to 90 km/h",
     ["bac-giang-ict", "kep", "huu-lung", "chi-lang-town"]),
    ("ct-cl-hn", "CT.01", "Cao tốc Hữu Nghị – Chi Lăng", "expressway", 6, 80.0, "construction",
     43_430.0, "VietnamPlus/SGGP/VOV: 43.43 km main line, works from 21 Apr 2024",
     ["chi-lang-town", "ct-cl-1", "ct-cl-2", "ct-cl-3", "huu-nghi-1119-jct"]),
    ("ql1a-hn-bn", "QL1A", "Quốc lộ 1A", "national", 4, 60.0, "open", None, "waypoints",
     ["ha-noi", "long-bien", "yen-vien", "tu-son"]),
    ("ql1a-bn-bg", "QL1A", "Quốc lộ 1A", "national", 4, 60.0, "open", None, "waypoints",
     ["tu-son", "bac-ninh", "bac-giang"]),
    ("ql1a-bg-kep", "QL1A", "Quốc lộ 1A", "national", 2, 60.0, "open", None, "waypoints",
     ["bac-giang", "bac-giang-ict", "kep"]),
    ("ql1a-kep-cl", "QL1A", "Quốc lộ 1A", "national", 2, 50.0, "open", None, "waypoints",
     ["kep", "huu-lung", "chi-lang-town"]),
    ("ql1a-cl-ls", "QL1A", "Quốc lộ 1A", "national", 2, 50.0, "open", None, "waypoints",
     ["chi-lang-town", "dong-mo", "lang-son"]),
    ("ql1a-ls-dd", "QL1A", "Quốc lộ 1A", "national", 2, 50.0, "open", None,
     "waypoints; Đồng Đăng 14 km from Lạng Sơn", ["lang-son", "cao-loc", "dong-dang"]),
    ("ql1a-dd-jct", "QL1A", "Quốc lộ 1A", "national", 2, 40.0, "open", None,
     "waypoints; Hữu Nghị 3 km east of Đồng Đăng", ["dong-dang", "huu-nghi-1119-jct"]),
    ("ql1a-jct-hn", "QL1A", "Quốc lộ 1A (km 0)", "national", 2, 30.0, "open", None,
     "waypoints", ["huu-nghi-1119-jct", "huu-nghi"]),
    ("cargo-1119", "1119–1120", "Đường chuyên dụng 1119–1120", "cargo_road", 4, 20.0, "open",
     None, DEC865, ["huu-nghi-1119-jct", "huu-nghi-1119"]),
    ("dd-station", None, "Đường vào ga Đồng Đăng", "local", 2, 30.0, "open", None, "waypoints",
     ["dong-dang", "dong-dang-station"]),
    ("ql4a-dd-tm", "QL4A", "Quốc lộ 4A", "national", 2, 50.0, "open", None, "waypoints",
     ["dong-dang", "tan-my"]),
    ("ql4a-tm-jct", "QL4A", "Quốc lộ 4A", "national", 2, 50.0, "open", None, "waypoints",
     ["tan-my", "tan-thanh-jct"]),
    ("ql4a-jct-ns", "QL4A", "Quốc lộ 4A", "national", 2, 50.0, "open", None, "waypoints",
     ["tan-thanh-jct", "na-sam"]),
    ("ql4a-ns-tk", "QL4A", "Quốc lộ 4A", "national", 2, 40.0, "open", None, "waypoints",
     ["na-sam", "that-khe"]),
    ("ql4a-tk-cb", "QL4A", "Quốc lộ 4A", "national", 2, 40.0, "open", None, "waypoints",
     ["that-khe", "dong-khe", "cao-bang"]),
    ("tan-thanh-road", None, "Đường vào cửa khẩu Tân Thanh", "provincial", 2, 30.0, "open", None,
     "waypoints", ["tan-thanh-jct", "tan-thanh"]),
    ("cargo-1088", "1088/2–1089", "Đường chuyên dụng 1088/2–1089", "cargo_road", 2, 20.0, "open",
     None, DEC865, ["tan-thanh", "tan-thanh-1088"]),
    ("coc-nam-road", None, "Đường vào Cốc Nam", "local", 2, 30.0, "open", None, "waypoints",
     ["tan-my", "coc-nam"]),
    ("na-hinh-road", None, "Đường vào Na Hình", "local", 2, 30.0, "open", None, "waypoints",
     ["na-sam", "na-hinh"]),
    ("na-nua-road", None, "Đường vào Nà Nưa", "local", 2, 30.0, "open", None, "waypoints",
     ["that-khe", "na-nua"]),
    ("binh-nghi-road", None, "Đường vào Bình Nghi", "local", 2, 30.0, "open", None, "waypoints",
     ["that-khe", "binh-nghi"]),
    ("po-nhung-road", None, "Đường vào Pò Nhùng", "local", 2, 30.0, "open", None, "waypoints",
     ["cao-loc", "po-nhung"]),
    ("ql1b", "QL1B", "Quốc lộ 1B", "national", 2, 40.0, "open", None, "waypoints",
     ["lang-son", "van-quan", "binh-gia", "dinh-ca", "thai-nguyen"]),
    ("ql4b-ls-lb", "QL4B", "Quốc lộ 4B", "national", 2, 50.0, "open", None, "waypoints",
     ["lang-son", "loc-binh"]),
    ("ql4b-lb-dl", "QL4B", "Quốc lộ 4B", "national", 2, 40.0, "open", None, "waypoints",
     ["loc-binh", "na-duong", "dinh-lap"]),
    ("ql4b-dl-ty", "QL4B", "Quốc lộ 4B", "national", 2, 40.0, "open", None, "waypoints",
     ["dinh-lap", "tien-yen"]),
    ("chi-ma-road", "ĐT.237", "Đường Lộc Bình – Chi Ma", "provincial", 2, 40.0, "open", None,
     "waypoints", ["loc-binh", "chi-ma"]),
    ("ql31", "QL31", "Quốc lộ 31", "national", 2, 50.0, "open", None, "waypoints",
     ["bac-giang", "doi-ngo", "chu", "an-chau", "dinh-lap"]),
    ("ql18", "QL18", "Quốc lộ 18", "national", 4, 60.0, "open", None, "waypoints",
     ["bac-ninh", "chi-linh", "dong-trieu", "mao-khe", "uong-bi"]),
    ("ql10", "QL10", "Quốc lộ 10", "national", 4, 60.0, "open", None, "waypoints",
     ["uong-bi", "nui-deo", "hai-phong"]),
    ("ql5-hn-hd", "QL5", "Quốc lộ 5", "national", 4, 60.0, "open", None, "waypoints",
     ["gia-lam", "nhu-quynh", "my-hao", "lai-cach", "hai-duong"]),
    ("ql5-hd-hp", "QL5", "Quốc lộ 5", "national", 4, 60.0, "open", None, "waypoints",
     ["hai-duong", "phu-thai", "an-duong", "hai-phong"]),
    ("hp-port", None, "Đường vào cảng Hải Phòng", "local", 4, 40.0, "open", None, "waypoints",
     ["hai-phong", "hai-phong-port"]),
    ("ct-hn-hp", "CT.04", "Cao tốc Hà Nội – Hải Phòng", "expressway", 6, 90.0, "open",
     105_500.0, "Citicom project page: 105.5 km, Thanh Trì bridge – Đình Vũ",
     ["thanh-tri", "nhu-quynh", "dinh-vu"]),
    ("hn-thanh-tri", None, "Đường vành đai 3 (Hà Nội)", "national", 4, 50.0, "open", None,
     "waypoints", ["ha-noi", "thanh-tri"]),
    ("dinh-vu-port", None, "Đình Vũ – cảng Hải Phòng", "local", 4, 40.0, "open", None,
     "waypoints", ["dinh-vu", "hai-phong-port"]),
    ("gia-lam-hn", None, "Cầu Chương Dương", "national", 4, 40.0, "open", None, "waypoints",
     ["ha-noi", "gia-lam"]),
    ("long-bien-icd-road", None, "Đường vào ICD Long Biên", "local", 2, 30.0, "open", None,
     "waypoints", ["long-bien", "long-bien-icd"]),
    ("ql1a-south", "QL1A", "Quốc lộ 1A (phía Nam, giản lược)", "national", 2, 50.0, "open",
     None, "simplified through provincial capitals: drawn length understates the road by "
           "~15 %; long-haul times are indicative",
     ["ha-noi", "phu-ly", "ninh-binh", "thanh-hoa", "vinh", "ha-tinh", "dong-hoi", "dong-ha",
      "hue", "da-nang", "quang-ngai", "quy-nhon"]),
    ("ql1a-south-2", "QL1A", "Quốc lộ 1A (phía Nam, giản lược)", "national", 2, 50.0, "open",
     None, "simplified through provincial capitals (see ql1a-south)",
     ["quy-nhon", "tuy-hoa", "nha-trang", "phan-rang", "phan-thiet"]),
    ("ql1a-south-3", "QL1A", "Quốc lộ 1A (phía Nam, giản lược)", "national", 2, 50.0, "open",
     None, "simplified through provincial capitals (see ql1a-south)",
     ["phan-thiet", "bien-hoa", "ho-chi-minh", "tan-an", "my-tho"]),
]

# marker id, kind, gate, gate whose border point it sits at, offset along the line (m)
MARKERS = [
    ("1116", "main", "huu-nghi", "huu-nghi", 0.0),
    ("1117", "main", "huu-nghi", "huu-nghi", 150.0),
    ("1119", "main", "huu-nghi-1119", "huu-nghi-1119", -100.0),
    ("1120", "main", "huu-nghi-1119", "huu-nghi-1119", 100.0),
    ("1088/2", "sub", "tan-thanh-1088", "tan-thanh-1088", -100.0),
    ("1089", "main", "tan-thanh-1088", "tan-thanh-1088", 100.0),
    ("1090", "main", "tan-thanh", "tan-thanh", -100.0),
    ("1091", "main", "tan-thanh", "tan-thanh", 100.0),
    ("1104", "main", "coc-nam", "coc-nam", -100.0),
    ("1105", "main", "coc-nam", "coc-nam", 100.0),
]


def _fmt(x: float) -> float:
    return float(f"{x:.6f}")


def _feature(props: dict, geometry: dict) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _write(name: str, features: list[dict]) -> None:
    lines = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":"))
                       for f in features)
    text = ('{"type":"FeatureCollection","name":"' + name + '","features":[\n' + lines
            + "\n]}\n")
    (DATA / f"{name}.geojson").write_text(text, encoding="utf-8")


def _points(records: list[dict]) -> list[dict]:
    out = []
    for rec in records:
        props = {k: v for k, v in rec.items() if k not in ("lon", "lat")}
        out.append(_feature(props, {"type": "Point",
                                    "coordinates": [_fmt(rec["lon"]), _fmt(rec["lat"])]}))
    return out


def build_roads() -> list[dict]:
    feats = []
    for rid, ref, name, cls, lanes, speed, status, length, source, way in ROADS:
        coords = [[_fmt(W[w][0]), _fmt(W[w][1])] for w in way]
        waypoint_sources = sorted({W[w][2] for w in way})
        feats.append(_feature(
            {"id": rid, "ref": ref, "name": name, "class": cls, "oneway": False,
             "maxspeed_kph": speed, "lanes": lanes, "status": status, "length_m": length,
             "source": f"{source}; waypoints: {' → '.join(way)} ({'; '.join(waypoint_sources)})"},
            {"type": "LineString", "coordinates": coords}))
    return feats


def build_markers() -> list[dict]:
    border = gpd.read_file(DATA / "border.geojson").to_crs(32648)
    line = shapely.line_merge(border.geometry.iloc[0])
    parts = shapely.get_parts(line)
    gates = {g["id"]: g for g in GATES}
    feats = []
    for mid, kind, gate_id, at, offset in MARKERS:
        gate = gpd.GeoSeries([shapely.Point(gates[at]["lon"], gates[at]["lat"])],
                             crs=4326).to_crs(32648).iloc[0]
        part = parts[int(np.argmin([p.distance(gate) for p in parts]))]
        pos = float(np.clip(part.project(gate) + offset, 0, part.length))
        point = gpd.GeoSeries([part.interpolate(pos)], crs=32648).to_crs(4326).iloc[0]
        how = ("the OSM border line at the point nearest the gate"
               + (f", {abs(offset):.0f} m along it" if offset else ""))
        feats.append(_feature(
            {"id": mid, "kind": kind, "gate_id": gate_id,
             "note": "marker numbers from the 2024 legal note on the Hữu Nghị routes (VNA/SGGP)",
             "coord_source": estimated(how), "coord_confidence": "L"},
            {"type": "Point", "coordinates": [_fmt(point.x), _fmt(point.y)]}))
    return feats


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    _write("gates", _points(GATES))
    _write("hubs", _points(HUBS))
    _write("roads", build_roads())
    _write("markers", build_markers())
    print(f"wrote gates ({len(GATES)}), hubs ({len(HUBS)}), roads ({len(ROADS)}), "
          f"markers ({len(MARKERS)})")


if __name__ == "__main__":
    main()
