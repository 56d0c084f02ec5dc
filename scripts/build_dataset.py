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
WIKI_VI_GATES = ("vi.wikipedia list of Vietnam's border gates (its table, as copied in a public "
                 "PHP file; domain notes §3.1)")
NE_PORTS = "Natural Earth 1:10m ports (public domain): Hai Phong"
DOMAIN = "bordergeo domain notes §3 (press sources cited there)"
AUDIT = "bordergeo domain notes §7 (audit of the bundled data, 2026-11)"
DEC865 = "Decision 865/QĐ-TTg, 17 Aug 2024, via Hanoi Times (design capacity)"
EZ_AUG24 = "Đồng Đăng–Lạng Sơn EZ board via vietnam.vn, 22 & 29 Aug 2024 (observed)"
EZ_SEP24 = ("Đồng Đăng–Lạng Sơn EZ board via vietnam.vn, 'Các cửa khẩu vẫn hoạt động xuyên suốt "
            "dịp nghỉ lễ 2/9' (late Aug 2024), "
            "https://vietnam.vn/en/cac-cua-khau-van-hoat-dong-xuyen-suot-dip-nghi-le-2-9")
EZ_FEB26 = ("Đồng Đăng–Lạng Sơn EZ board report of 31 Jan–1 Feb 2026 via Elite Shipping, "
            "https://eliteshipping.com.vn/situation-of-import-and-export-activities-through-"
            "border-gates-of-lang-son-provincefrom-january-31-2026-to-february-1-2026")
SGGP_FEB24 = ("SGGP, '7 border gates in Lang Son Province get back to normal operation' "
              "(Feb 2024), https://en.sggp.org.vn/7-border-gates-in-lang-son-province-get-back-"
              "to-normal-operation-post108235.html")
SGGP_DEC20 = ("SGGP, 'China extends extra 3-hour customs clearance for Vietnamese goods', "
              "11 Dec 2020, https://sggpnews.org.vn/business/china-extends-extra-3-hour-"
              "customs-clearance-for-vietnamese-goods-89720.html")
TUOITRE_APR23 = ("Tuổi Trẻ News, 'Business hours for customs clearance services extended at "
                 "Vietnam-China border gate', 1 Apr 2023, https://tuoitrenews.vn/news/business/"
                 "20230401/business-hours-for-customs-clearance-services-extended-at-"
                 "vietnamchina-border-gate/72400.html")
BROMBERRIES_MAR23 = ("bromberries.com, 'China Extends Border Trading Hours to Reduce "
                     "Congestion' (late Mar 2023, the week of Tuổi Trẻ's 1 Apr 2023 item), "
                     "https://bromberries.com/china-extends-border-trading-hours-to-reduce-"
                     "congestion/")
PAIR_DEC25 = ("vietnam.vn, 'Việt Nam–Trung Quốc thí điểm vận chuyển hàng hóa hai chiều qua cặp "
              "cửa khẩu tại Lạng Sơn' (Dec 2025), https://www.vietnam.vn/en/viet-nam-trung-quoc-"
              "thi-diem-van-chuyen-hang-hoa-hai-chieu-qua-cap-cua-khau-tai-lang-son")
NHANDAN_DEC23 = ("Nhân Dân (fr), 'Lang Son: rétablir le dédouanement au poste-frontière de Na "
                 "Nua' (Dec 2023), https://fr.nhandan.vn/lang-son-retablir-le-dedouanement-au-"
                 "poste-frontiere-de-na-nua-post85736.html")
TBTC_DEC23 = ("VNA via Thời báo Tài chính, 'Lang Son resumes operations of border gate with "
              "China' (Dec 2023), https://thoibaotaichinhvietnam.vn/lang-son-resumes-operations-"
              "of-border-gate-with-china-141581.html")
VIETNAMVN_2025 = ("vietnam.vn, 'Bứt phá xuất nhập khẩu' (review of 2025), "
                  "https://www.vietnam.vn/en/but-pha-xuat-nhap-khau")
VNS_JUN23 = ("VNS, 'Lạng Sơn's border gates speed up customs clearance', 9 Jun 2023 (copy: "
             "https://www.einpresswire.com/article/638581939/l-ng-s-n-s-border-gates-speed-up-"
             "customs-clearance)")
VNP_FEB23 = ("VietnamPlus, 'Lang Son posts 1.7 billion USD in goods trade via border gates', "
             "2 Feb 2023, https://en.vietnamplus.vn/lang-son-posts-17-billion-usd-in-goods-trade-"
             "via-border-gates/247760.vnp")
TBTC_FEB26 = ("Thời báo Tài chính, 'Trung Quốc tạm dừng thông quan hàng hóa tại các cửa khẩu "
              "Lạng Sơn từ 15–23/2', 8 Feb 2026, https://thoibaotaichinhvietnam.vn/trung-quoc-"
              "tam-dung-thong-quan-hang-hoa-tai-cac-cua-khau-lang-son-tu-15-232-192060.html")
BIZHUB_MAY20 = ("VNS via bizhub, 'PM permits re-opening of sub-border gates with China', 13 May "
                "2020, http://bizhub.vn/news/pm-permits-re-opening-of-sub-border-gates-with-"
                "china_315518.html")


def geonames(gid: int) -> str:
    return f"GeoNames {gid} (CC BY 4.0)"


def estimated(how: str) -> str:
    return f"estimated (L): {how}"


# Column order of a gate record; gate() fills the optional ones a record leaves out with None
# (pair_id; the direction windows, which are None where they equal hours_vn / hours_cn).
GATE_COLUMNS = ("id", "name_vi", "name_en", "name_zh", "level", "mode", "parent_id", "pair_id",
                "district", "status", "status_note", "counterpart_en", "counterpart_zh",
                "markers", "lanes_export", "lanes_import", "hours_vn", "hours_cn",
                "hours_vn_export", "hours_cn_export", "hours_vn_import", "hours_cn_import",
                "service_rate_trucks_h", "capacity_trucks_day", "capacity_date",
                "capacity_source", "coord_source", "coord_confidence", "lon", "lat")
OPTIONAL = {"pair_id", "hours_vn_export", "hours_cn_export", "hours_vn_import",
            "hours_cn_import"}


def gate(**fields: object) -> dict:
    """One gate record with every column, in GATE_COLUMNS order."""
    unknown = set(fields) - set(GATE_COLUMNS)
    missing = set(GATE_COLUMNS) - set(fields) - OPTIONAL
    if unknown or missing:
        raise SystemExit(f"gate {fields.get('id')}: unknown {sorted(unknown)}, "
                         f"missing {sorted(missing)}")
    return {k: fields.get(k) for k in GATE_COLUMNS}


def group_of(*children: str) -> str:
    """capacity_source of a crossing that groups lanes (it has no capacity of its own)."""
    return "sum of its lanes: " + " + ".join(children)


# ---------------------------------------------------------------- gates (Vietnamese side)
# Hierarchy: a crossing that groups lanes or cargo roads (huu-nghi, tan-thanh) has no lanes,
# rate or capacity; its children (parent_id) carry them and are summed once into it.
# pair_id: the international gate pair a crossing legally belongs to (not summed).
HUU_NGHI_XY = dict(lon=106.71083, lat=21.97111)     # zh.wikipedia 友谊口岸
TAN_THANH_XY = dict(lon=106.68250, lat=22.00310)    # GeoNames 8311182
HUU_NGHI_COORD = (WIKI_ZH_YOUYI + "; 249 m inside Vietnam from the OSM border line. Kept "
                  "rather than GeoNames 8522374 (21.97515, 106.71120; " + AUDIT + "), which "
                  "lies 147 m inside the OSM China polygon")
TAN_THANH_COORD = (geonames(8311182) + " (" + AUDIT + "): 60 m inside Vietnam from the OSM "
                   "border line; the " + WIKI_VI_TANTHANH + " point (22.00306, 106.68389) "
                   "lies 62 m inside the OSM China polygon")

GATES = [
    gate(id="huu-nghi", name_vi="Hữu Nghị", name_en="Huu Nghi (Friendship) international gate",
         name_zh="友谊口岸", level="international", mode="road", parent_id=None,
         pair_id="huu-nghi", district="Cao Lộc (Đồng Đăng)", status="open",
         status_note="the crossing as a group of its lanes (1116–1117 main gate, 1119–1120 "
                     "cargo road); km 0 of QL1A. Daily counts reported for 'Hữu Nghị' are "
                     "observations (data/observed), and after May 2024 may include the other "
                     "routes of the pair. 友谊关 is the pass on the Chinese side",
         counterpart_en="Youyiguan (Pingxiang)", counterpart_zh="友谊关",
         markers="1116/1117, 1119–1120", lanes_export=None, lanes_import=None,
         hours_vn="07:00-19:00", hours_cn="08:00-20:00", service_rate_trucks_h=None,
         capacity_trucks_day=None, capacity_date=None,
         capacity_source=group_of("huu-nghi-1116", "huu-nghi-1119"),
         coord_source=HUU_NGHI_COORD, coord_confidence="M", **HUU_NGHI_XY),
    gate(id="huu-nghi-1116", name_vi="Hữu Nghị – làn cửa khẩu mốc 1116–1117",
         name_en="Huu Nghi main gate lanes, markers 1116–1117",
         name_zh="友谊口岸 (1116–1117号界碑通道)", level="international", mode="road",
         parent_id="huu-nghi", pair_id="huu-nghi", district="Cao Lộc (Đồng Đăng)",
         status="open",
         status_note="main gate at km 0 of QL1A, mixed passengers and cargo. Hours "
                     "07:00–19:00 Hà Nội time, one hour longer than "
                     "before (" + TUOITRE_APR23 + "). Imports: Vietnamese customs let goods "
                     "from China through until 22:00 every day (" + BROMBERRIES_MAR23 + "); "
                     "the source gives no clock: read as Hà Nội time because the Vietnamese "
                     "side announced it (domain notes §6), i.e. 23:00 Beijing time (L)",
         counterpart_en="Youyiguan (Pingxiang)", counterpart_zh="友谊关", markers="1116/1117",
         lanes_export=1, lanes_import=1, hours_vn="07:00-19:00", hours_cn="08:00-20:00",
         hours_vn_import="07:00-22:00", hours_cn_import="08:00-23:00",
         service_rate_trucks_h=None, capacity_trucks_day=None, capacity_date="2024",
         capacity_source=estimated(
             "1 export + 1 import lane, no official figure. QL1A reaches the km 0 gate as a "
             "two-way road shared with passengers and tourists, and a dedicated cargo road "
             "(1119–1120, domain notes §3.5) has carried freight since 2017; at its rate "
             "(800/day ÷ 4 lanes ÷ 12 h ≈ 16.7 trucks/h per lane) this gives ≈ 200 exports and "
             "≈ 250 imports (to 22:00) a day, which with 1119–1120's 800 covers the 657–861 "
             "vehicles/day observed for all of Hữu Nghị in 2024 (" + EZ_AUG24 + ")"),
         coord_source="same point as huu-nghi: " + HUU_NGHI_COORD, coord_confidence="M",
         **HUU_NGHI_XY),
    gate(id="huu-nghi-1119", name_vi="Đường chuyên dụng mốc 1119–1120",
         name_en="Huu Nghi specialised cargo road, markers 1119–1120",
         name_zh="友谊关货运专用通道 (1119–1120号界碑)", level="international", mode="road",
         parent_id="huu-nghi", pair_id="huu-nghi", district="Cao Lộc", status="open",
         status_note="smart-gate pilot (Decision 865/QĐ-TTg). Baseline = 2024: 2 export + 2 "
                     "import lanes; phase 1 (6 lanes, inaugurated 27 Nov 2025, xe.today 29 Nov "
                     "2025) and phase 2 (14 lanes) are scenarios (data/scenarios)",
         counterpart_en="Youyiguan freight channel", counterpart_zh="友谊关货运通道",
         markers="1119–1120", lanes_export=2, lanes_import=2, hours_vn="07:00-19:00",
         hours_cn="08:00-20:00", service_rate_trucks_h=16.7, capacity_trucks_day=800.0,
         capacity_date="2024-08-17", capacity_source=DEC865 + "; 800 vehicles/day now",
         coord_source=estimated("~1 km east of the Hữu Nghị gate, 400 m inside Vietnam from "
                                "the OSM border line (domain notes: ≈21.97, 106.72)"),
         coord_confidence="L", lon=106.71981, lat=21.97065),
    gate(id="dong-dang-rail", name_vi="Ga Đồng Đăng", name_en="Dong Dang international "
         "railway station", name_zh="同登站", level="international", mode="rail",
         parent_id=None, district="Cao Lộc (Đồng Đăng)", status="open",
         status_note="dual gauge 1,000/1,435 mm to Pingxiang; bulk goods",
         counterpart_en="Pingxiang railway station", counterpart_zh="凭祥站", markers=None,
         lanes_export=None, lanes_import=None, hours_vn=None, hours_cn=None,
         service_rate_trucks_h=None, capacity_trucks_day=None, capacity_date=None,
         capacity_source=None, coord_source=WIKI_VI_DDSTATION, coord_confidence="M",
         lon=106.69722, lat=21.94389),
    gate(id="chi-ma", name_vi="Chi Ma", name_en="Chi Ma main gate", name_zh="支麻口岸",
         level="main", mode="road", parent_id=None, district="Lộc Bình (Yên Khoái)",
         status="open",
         status_note="planned upgrade to international; logistics hub. Observed (not "
                     "capacity): 82 (23 Jan 2024) and 103 (22 Aug 2024) vehicles/day, " +
                     EZ_AUG24 + "; hours have no gate-specific source (L)",
         counterpart_en="Aidian (Ningming)", counterpart_zh="爱店", markers="near 1223–1224",
         lanes_export=1, lanes_import=1, hours_vn="07:00-19:00", hours_cn="08:00-20:00",
         service_rate_trucks_h=None, capacity_trucks_day=None, capacity_date="2024",
         capacity_source=estimated(
             "1 export + 1 import lane, no official figure: a bilateral gate at the end of "
             "one access road from QL4B at Lộc Bình, clearing 82–103 vehicles/day in 2024 "
             "(20–30 exports/day in Jan 2022), well within one lane per direction at the "
             "1119–1120 rate (≈ 200 trucks per lane in 12 h)"),
         coord_source=estimated("opposite Aidian (21.82000, 107.02694, zh.wikipedia 愛店口岸), "
                                "400 m inside Vietnam from the OSM border line"),
         coord_confidence="L", lon=107.02323, lat=21.81625),
    gate(id="tan-thanh", name_vi="Tân Thanh", name_en="Tan Thanh gate", name_zh="新清口岸",
         level="secondary", mode="road", parent_id=None, pair_id="huu-nghi",
         district="Văn Lãng (Tân Thanh)", status="open",
         status_note="the Tân Thanh – Pò Chài crossing as a group of its lanes (1090–1091 "
                     "crossing, 1088/2–1089 cargo road); largest fruit-export route; its "
                     "routes belong to the Hữu Nghị international gate (seed 003, domain "
                     "notes §7; " + TBTC_FEB26 + "). "
                     "Observations, not capacity: ~200 export trucks/day in season, up to "
                     "~300 (customs via VNS, May 2024); ~300 vehicles/day on average and "
                     "'about 1,100–1,200 at maximum' (scope unclear, " + VNS_JUN23 + ")",
         counterpart_en="Pò Chài / Puzhai", counterpart_zh="浦寨",
         markers="1088/2–1089, 1090–1091", lanes_export=None, lanes_import=None,
         hours_vn="07:00-19:00", hours_cn="08:00-20:00", service_rate_trucks_h=None,
         capacity_trucks_day=None, capacity_date=None,
         capacity_source=group_of("tan-thanh-1090", "tan-thanh-1088"),
         coord_source=TAN_THANH_COORD, coord_confidence="M", **TAN_THANH_XY),
    gate(id="tan-thanh-1090", name_vi="Tân Thanh – làn cửa khẩu mốc 1090–1091",
         name_en="Tan Thanh crossing lanes, markers 1090–1091",
         name_zh="新清口岸 (1090–1091号界碑通道)", level="secondary", mode="road",
         parent_id="tan-thanh", pair_id="huu-nghi", district="Văn Lãng (Tân Thanh)",
         status="open",
         status_note="the Tân Thanh – Pò Chài crossing at the border market. China's hours "
                     "08:00–20:00 Beijing time (" + SGGP_DEC20 + "); Vietnamese hours as at "
                     "Hữu Nghị (L)",
         counterpart_en="Pò Chài / Puzhai", counterpart_zh="浦寨", markers="1090–1091",
         lanes_export=1, lanes_import=1, hours_vn="07:00-19:00", hours_cn="08:00-20:00",
         service_rate_trucks_h=None, capacity_trucks_day=None, capacity_date="2024",
         capacity_source=estimated(
             "1 export + 1 import lane, no official figure: one two-way access road (the "
             "road to the gate from QL4A) ends at the crossing, and the province's daily "
             "reports count Tân Thanh's freight on the 1088/2–1089 road (" + EZ_AUG24 + "), "
             "so this crossing is taken to carry one lane of goods each way (≈ 200 trucks "
             "per lane in 12 h at the 1119–1120 rate)"),
         coord_source="same point as tan-thanh: " + TAN_THANH_COORD, coord_confidence="M",
         **TAN_THANH_XY),
    gate(id="tan-thanh-1088", name_vi="Đường chuyên dụng mốc 1088/2–1089",
         name_en="Tan Thanh – Po Chai specialised cargo road, markers 1088/2–1089",
         name_zh="浦寨货运专用通道 (1088/2–1089号界碑)", level="international", mode="road",
         parent_id="tan-thanh", pair_id="huu-nghi", district="Văn Lãng", status="open",
         status_note="a route of the Hữu Nghị–Youyiguan pair (opened as such 27 May 2024; " +
                     PAIR_DEC25 + "); its lanes are part of the Tân Thanh crossing",
         counterpart_en="Puzhai freight channel", counterpart_zh="浦寨", markers="1088/2–1089",
         lanes_export=1, lanes_import=1, hours_vn="07:00-19:00", hours_cn="08:00-20:00",
         service_rate_trucks_h=None, capacity_trucks_day=400.0, capacity_date="2024-08-17",
         capacity_source=DEC865 + "; 400 vehicles/day now. Lanes " + estimated(
             "1 export + 1 import: 400/day at the 1119–1120 rate of ≈ 200 trucks per lane "
             "in 12 h"),
         coord_source=estimated("beside Tân Thanh to the north, 400 m inside Vietnam from "
                                "the OSM border line"),
         coord_confidence="L", lon=106.68731, lat=22.01178),
    gate(id="coc-nam", name_vi="Cốc Nam", name_en="Coc Nam gate", name_zh="谷南口岸",
         level="secondary", mode="road", parent_id=None, pair_id="huu-nghi",
         district="Văn Lãng (Tân Mỹ)", status="open",
         status_note="clearance route (lối thông quan) of the Hữu Nghị–Youyiguan pair since "
                     "27 May 2024 (" + PAIR_DEC25 + "). Observed, not capacity: 9–11 "
                     "vehicles/day (VNA/Lao Động 2024; 9 on 22 Aug 2024, " + EZ_AUG24 + "); "
                     "hours have no gate-specific source (L)",
         counterpart_en="Lũng Nghịu / Nongyao", counterpart_zh="弄尧", markers="1104–1105",
         lanes_export=1, lanes_import=1, hours_vn="07:00-19:00", hours_cn="08:00-20:00",
         service_rate_trucks_h=None, capacity_trucks_day=None, capacity_date="2024",
         capacity_source=estimated(
             "1 export + 1 import lane, no official figure: a clearance point on a local "
             "road, the smallest of the pair's routes (9–11 vehicles/day in 2024)"),
         coord_source=estimated("on the border between Tân Thanh (1088–1091) and Hữu Nghị "
                                "(1116), as markers 1104–1105 lie; 400 m inside Vietnam"),
         coord_confidence="L", lon=106.68697, lat=21.96499),
    gate(id="na-hinh", name_vi="Na Hình", name_en="Na Hinh gate", name_zh="那形口岸",
         level="secondary", mode="road", parent_id=None, district="Văn Lãng",
         status="restricted",
         status_note="open on paper, no goods: clearing again by mid-Dec 2023 (" +
                     NHANDAN_DEC23 + "); one of seven gates resuming after Tết, Feb 2024 (" +
                     SGGP_FEB24 + "); 'still operating normally, however, from May 2024 until "
                     "now, no import and export goods have been cleared' (" + EZ_SEP24 + "); "
                     "no import or export activity on 31 Jan–1 Feb 2026 (" + EZ_FEB26 + "). "
                     "Listed among five gates keeping clearance operations in 2025 (" +
                     VIETNAMVN_2025 + ")",
         counterpart_en=None, counterpart_zh=None, markers=None, lanes_export=None,
         lanes_import=None, hours_vn=None, hours_cn=None, service_rate_trucks_h=None,
         capacity_trucks_day=None, capacity_date=None, capacity_source=None,
         coord_source=estimated("placeholder in Văn Lãng moved onto the border, 400 m "
                                "inside Vietnam"), coord_confidence="L",
         lon=106.68848, lat=22.11878),
    gate(id="na-nua", name_vi="Nà Nưa", name_en="Na Nua gate", name_zh="那努口岸",
         level="secondary", mode="road", parent_id=None, district="Tràng Định",
         status="restricted",
         status_note="open on paper, no goods: customs clearance resumed 14 Dec 2023 after "
                     "a halt since Jan 2020 (≈270,000 t/yr before COVID; " + TBTC_DEC23 +
                     "); one of seven gates resuming after Tết, Feb 2024 (" + SGGP_FEB24 +
                     "); 'still operating normally, however, from May 2024 until now, no "
                     "import and export goods have been cleared' (" + EZ_SEP24 + "); no "
                     "import or export activity on 31 Jan–1 Feb 2026 (" + EZ_FEB26 + ")",
         counterpart_en="Nahua (Longzhou)", counterpart_zh="那花", markers=None,
         lanes_export=None, lanes_import=None, hours_vn=None, hours_cn=None,
         service_rate_trucks_h=None, capacity_trucks_day=None, capacity_date=None,
         capacity_source=None,
         coord_source=estimated("placeholder in Tràng Định moved onto the border, 400 m "
                                "inside Vietnam"), coord_confidence="L",
         lon=106.55638, lat=22.34695),
    gate(id="binh-nghi", name_vi="Bình Nghi", name_en="Binh Nghi gate", name_zh="平宜口岸",
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
    gate(id="po-nhung", name_vi="Pò Nhùng", name_en="Po Nhung gate", name_zh="波绒口岸",
         level="secondary", mode="road", parent_id=None, district="Cao Lộc", status="closed",
         status_note="provincial gate; reopening requested 2023; customs team 15B3 under "
                     "Hữu Nghị customs",
         counterpart_en=None, counterpart_zh=None, markers=None, lanes_export=None,
         lanes_import=None, hours_vn=None, hours_cn=None, service_rate_trucks_h=None,
         capacity_trucks_day=None, capacity_date=None, capacity_source=None,
         coord_source=estimated("placeholder east of Hữu Nghị moved onto the border, 400 m "
                                "inside Vietnam"), coord_confidence="L",
         lon=106.79697, lat=21.97789),
    gate(id="co-sau", name_vi="Co Sâu", name_en="Co Sau gate", name_zh="Co Sâu 口岸",
         level="secondary", mode="road", parent_id=None, district="Cao Lộc", status="closed",
         status_note="provincial-level road gate (cửa khẩu cấp tỉnh) in Cao Lộc, no Chinese "
                     "counterpart named (" + WIKI_VI_GATES + "). Closed (L): it is in none "
                     "of the lists of Lạng Sơn gates clearing goods in 2023–2026 (" +
                     VNP_FEB23 + "; " + SGGP_FEB24 + "; " + EZ_SEP24 + "; " + EZ_FEB26 +
                     ") nor among the secondary gates allowed to reopen in 2020 (Bình Nghi, "
                     "Na Hình, Nà Nưa, Pò Nhùng; " + BIZHUB_MAY20 + "). Its Chinese name is "
                     "not known: name_zh keeps the Vietnamese name",
         counterpart_en=None, counterpart_zh=None, markers=None, lanes_export=None,
         lanes_import=None, hours_vn=None, hours_cn=None, service_rate_trucks_h=None,
         capacity_trucks_day=None, capacity_date=None, capacity_source=None,
         coord_source=estimated(
             "placeholder: no source gives its position beyond the district. The gate list "
             "runs along the border from east to west (Chi Ma, Co Sâu, Pò Nhùng, Hữu Nghị, "
             "Đồng Đăng, Cốc Nam, Tân Thanh, …), so it is put on the Cao Lộc border ~1.3 km "
             "east of the Pò Nhùng placeholder along the OSM border line, 400 m inside "
             "Vietnam, within reach of the drawn Pò Nhùng access road; it may lie km further "
             "east"), coord_confidence="L", lon=106.80132, lat=21.97483),
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
         # hub text stays under 254 bytes (Shapefile); full citation in data/geojson/README.md
         note="holds export and empty trucks since Sep 2024; Tân Mỹ commune, 6 km from Tân "
              "Thanh, 8 km from Hữu Nghị (Le Courrier du Vietnam/VNA, Sep 2024)",
         coord_source=estimated("no published point; on QL4A in Tân Mỹ where the bundled "
                                "roads best fit 6 and 8 km: 7.3 and 9.8 km (the roads join "
                                "the gates only via Đồng Đăng, 17 km)"),
         coord_confidence="L", lon=106.67050, lat=21.98067),
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
    ("1116", "main", "huu-nghi-1116", "huu-nghi-1116", 0.0),
    ("1117", "main", "huu-nghi-1116", "huu-nghi-1116", 150.0),
    ("1119", "main", "huu-nghi-1119", "huu-nghi-1119", -100.0),
    ("1120", "main", "huu-nghi-1119", "huu-nghi-1119", 100.0),
    ("1088/2", "sub", "tan-thanh-1088", "tan-thanh-1088", -100.0),
    ("1089", "main", "tan-thanh-1088", "tan-thanh-1088", 100.0),
    ("1090", "main", "tan-thanh-1090", "tan-thanh-1090", -100.0),
    ("1091", "main", "tan-thanh-1090", "tan-thanh-1090", 100.0),
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
