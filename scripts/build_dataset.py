"""Rebuild the bundled Lạng Sơn layers: gates, markers and hubs (GeoJSON).

Every record carries its source; data/geojson/README.md lists the sources in full. The
markers are placed on data/geojson/border.geojson (run scripts/build_border.py first).
The roads are built by scripts/build_roads.py (it reads the gate and hub records here).
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
    _write("markers", build_markers())
    print(f"wrote gates ({len(GATES)}), hubs ({len(HUBS)}), markers ({len(MARKERS)}); "
          f"roads.geojson is written by scripts/build_roads.py")


if __name__ == "__main__":
    main()
