"""Words of the map pages in Vietnamese and English (legends, layer names, popups, slider).

Data stays in the language it was written in (gate names are shown in Vietnamese with the
Chinese beneath); only the interface changes with ``lang``.
"""

from __future__ import annotations

from bordergeo.errors import BorderGeoError

__all__ = ["LANGUAGES", "text"]

#: Interface languages.
LANGUAGES = ("en", "vi")

_TEXT: dict[str, dict[str, str]] = {
    "title_bundled": {"en": "Lạng Sơn border gates", "vi": "Cửa khẩu Lạng Sơn"},
    "title_other": {"en": "Border gates", "vi": "Cửa khẩu"},
    "no_basemap": {"en": "No basemap (offline)", "vi": "Không có nền (ngoại tuyến)"},
    "border": {"en": "Border (VN–CN)", "vi": "Biên giới Việt – Trung"},
    "roads": {"en": "Roads", "vi": "Đường bộ"},
    "road_numbers": {"en": "Road numbers", "vi": "Số hiệu đường"},
    "labels": {"en": "Names of gates and hubs", "vi": "Tên cửa khẩu và đầu mối"},
    "hubs": {"en": "Inland hubs", "vi": "Đầu mối nội địa"},
    "markers": {"en": "Border markers", "vi": "Cột mốc"},
    "gates": {"en": "Border gates", "vi": "Cửa khẩu"},
    "routes": {"en": "Routes to the gates", "vi": "Tuyến đến cửa khẩu"},
    "corridors": {"en": "Corridors (trucks/day)", "vi": "Hành lang (xe/ngày)"},
    "road_congestion": {"en": "Road congestion (volume/capacity)",
                        "vi": "Tắc nghẽn đường (lưu lượng/năng lực)"},
    "gate_congestion": {"en": "Gate congestion", "vi": "Ùn tắc tại cửa khẩu"},
    "provinces": {"en": "Provinces", "vi": "Tỉnh"},
    "search": {"en": "Search a gate", "vi": "Tìm cửa khẩu"},
    # legend
    "legend_gates": {"en": "Gates", "vi": "Cửa khẩu"},
    "legend_road": {"en": "road", "vi": "đường bộ"},
    "legend_rail": {"en": "rail", "vi": "đường sắt"},
    "legend_roads": {"en": "Roads", "vi": "Đường"},
    "legend_other": {"en": "Other", "vi": "Khác"},
    "legend_planned": {"en": "under construction / planned", "vi": "đang xây / quy hoạch"},
    "legend_border": {"en": "VN–CN border", "vi": "biên giới Việt – Trung"},
    "legend_gate_group": {"en": "gates close together (click to spread)",
                          "vi": "cửa khẩu gần nhau (bấm để tách)"},
    "legend_hub": {"en": "inland hub", "vi": "đầu mối nội địa"},
    "legend_marker": {"en": "border marker", "vi": "cột mốc"},
    "international": {"en": "international", "vi": "quốc tế"},
    "main": {"en": "main", "vi": "chính"},
    "secondary": {"en": "secondary", "vi": "phụ"},
    "crossing": {"en": "crossing", "vi": "lối mở"},
    "open": {"en": "open", "vi": "mở"},
    "closed": {"en": "closed", "vi": "đóng"},
    "restricted": {"en": "restricted", "vi": "hạn chế"},
    "expressway": {"en": "expressway", "vi": "cao tốc"},
    "national": {"en": "national", "vi": "quốc lộ"},
    "provincial": {"en": "provincial", "vi": "tỉnh lộ"},
    "local": {"en": "local", "vi": "đường địa phương"},
    "cargo_road": {"en": "cargo road", "vi": "đường chuyên dụng"},
    "rail": {"en": "rail", "vi": "đường sắt"},
    # gate popup
    "level": {"en": "Level", "vi": "Cấp"},
    "status": {"en": "Status", "vi": "Trạng thái"},
    "note": {"en": "Note", "vi": "Ghi chú"},
    "counterpart": {"en": "Counterpart (CN)", "vi": "Cửa khẩu đối diện (TQ)"},
    "crossing_of": {"en": "Part of", "vi": "Thuộc"},
    "markers_field": {"en": "Markers", "vi": "Mốc"},
    "lanes": {"en": "Lanes", "vi": "Làn"},
    "lanes_value": {"en": "{} export / {} import", "vi": "{} xuất / {} nhập"},
    "hours_vn": {"en": "Hours, VN clock (UTC+7)", "vi": "Giờ mở, giờ Hà Nội (UTC+7)"},
    "hours_cn": {"en": "Hours, CN clock (UTC+8)", "vi": "Giờ mở, giờ Bắc Kinh (UTC+8)"},
    "capacity": {"en": "Capacity", "vi": "Năng lực"},
    "capacity_source": {"en": "Capacity source", "vi": "Nguồn năng lực"},
    "coordinate": {"en": "Coordinate", "vi": "Tọa độ"},
    "trucks_day": {"en": "trucks/day", "vi": "xe/ngày"},
    "trucks": {"en": "trucks", "vi": "xe"},
    "model_flow": {"en": "Modelled trucks/day", "vi": "Số xe/ngày (mô hình)"},
    "model_wait": {"en": "Modelled mean wait at the gate",
                   "vi": "Thời gian chờ trung bình (mô hình)"},
    "model_queue": {"en": "Modelled queue after {} days", "vi": "Hàng chờ sau {} ngày (mô hình)"},
    "minutes": {"en": "min", "vi": "phút"},
    "backlog_chart": {"en": "Trucks waiting, by day", "vi": "Số xe tồn theo ngày"},
    "observed": {"en": "observed", "vi": "thực tế"},
    "modelled": {"en": "modelled", "vi": "mô hình"},
    # hub / marker popups
    "kind": {"en": "Kind", "vi": "Loại"},
    "chinese": {"en": "Chinese", "vi": "Tiếng Trung"},
    "marker": {"en": "marker", "vi": "mốc"},
    # congestion
    "utilisation": {"en": "Utilisation (flow / capacity)",
                    "vi": "Mức sử dụng (lưu lượng / năng lực)"},
    "capacity_day": {"en": "Capacity/day", "vi": "Năng lực/ngày"},
    "days_to_clear": {"en": "Days to clear the queue", "vi": "Số ngày giải tỏa hàng chờ"},
    "never": {"en": "not within {} days (it grows)", "vi": "không giải tỏa trong {} ngày"},
    "load_title": {"en": "Load (flow / capacity)", "vi": "Tải (lưu lượng / năng lực)"},
    "load_size": {"en": "circle size: trucks/day", "vi": "cỡ vòng tròn: xe/ngày"},
    "below_50": {"en": "below 50 %", "vi": "dưới 50 %"},
    "over": {"en": "over capacity: the queue grows", "vi": "quá năng lực: hàng chờ tăng"},
    # time slider
    "slider_title": {"en": "Time slider", "vi": "Thanh thời gian"},
    "slider_size": {"en": "ring size: trucks waiting; plays {} days per second",
                    "vi": "cỡ vòng: số xe tồn; chạy {} ngày mỗi giây"},
    "slider_show": {"en": "show", "vi": "hiện"},
    "backlog_observed": {"en": "observed backlog", "vi": "xe tồn thực tế"},
    "backlog_modelled": {"en": "modelled backlog", "vi": "xe tồn theo mô hình"},
    "all_gates": {"en": "All open road gates", "vi": "Tất cả cửa khẩu đường bộ đang mở"},
    "trucks_waiting": {"en": "trucks waiting", "vi": "xe đang chờ"},
    "scenario_chart": {"en": "Scenarios: trucks/day by crossing",
                       "vi": "Kịch bản: xe/ngày theo cửa khẩu"},
    # sweep: chance that the season's backlog passes a threshold
    "exceedance": {"en": "Chance of a long queue (sweep)",
                   "vi": "Xác suất hàng chờ dài (nhiều kịch bản)"},
    "exceed_title": {"en": "Chance the season's peak queue passes {} trucks",
                     "vi": "Xác suất hàng chờ cao nhất mùa vượt {} xe"},
    "exceed_note": {"en": "share of {} runs, the worse direction",
                    "vi": "tỉ lệ trong {} lần chạy, chiều bất lợi hơn"},
    "exceed_popup": {"en": "Chance the season's peak queue passes",
                     "vi": "Xác suất hàng chờ cao nhất mùa vượt"},
    "exceed_runs": {"en": "{} of {} runs", "vi": "{} / {} lần chạy"},
    "exceed_export": {"en": "export", "vi": "xuất"},
    "exceed_import": {"en": "import", "vi": "nhập"},
}


def text(key: str, lang: str = "en") -> str:
    """Return an interface word in ``lang`` (``en`` or ``vi``).

    Parameters
    ----------
    key
        A key of the table (e.g. ``"roads"``).
    lang
        ``"en"`` or ``"vi"``.

    Returns
    -------
    str

    Raises
    ------
    BorderGeoError
        An unknown language.
    """
    if lang not in LANGUAGES:
        raise BorderGeoError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    entry = _TEXT.get(key)
    return key if entry is None else entry[lang]
