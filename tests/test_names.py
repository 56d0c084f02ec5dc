from __future__ import annotations

import pandas as pd
import pytest

from bordergeo import LookupFailedError
from bordergeo.names import find_place, find_row, fold

TABLE = pd.DataFrame({
    "id": ["huu-nghi", "tan-thanh", "dong-dang-rail", "chi-ma"],
    "name_vi": ["Hữu Nghị", "Tân Thanh", "Ga Đồng Đăng", "Chi Ma"],
    "name_en": ["Huu Nghi (Friendship)", "Tan Thanh", "Dong Dang railway station", "Chi Ma"],
    "name_zh": ["友谊关", "新清", "同登站", "支麻"],
})


@pytest.mark.parametrize("query,expected", [
    ("huu nghi", 0), ("Hữu Nghị", 0), ("HUU-NGHI", 0), ("hữu nghị", 0), ("Cửa khẩu Hữu Nghị", 0),
    ("huunghi", 0), ("tan thanh", 1), ("dong dang", 2), ("Đồng Đăng", 2), ("友谊关", 0),
    ("chi-ma", 3),
])
def test_lookup_ignores_case_and_diacritics(query: str, expected: int) -> None:
    assert find_row(TABLE, query, what="gate") == expected


def test_fold() -> None:
    assert fold("Cửa khẩu Đồng Đăng") == "cua khau dong dang"


def test_miss_suggests_close_names() -> None:
    with pytest.raises(LookupFailedError, match=r"no gate named 'huu nhgi'; did you mean "
                                                r"Hữu Nghị \(huu-nghi\)\?"):
        find_row(TABLE, "huu nhgi", what="gate")


def test_miss_without_suggestion() -> None:
    with pytest.raises(LookupFailedError, match=r"^no hub named 'xyz'$"):
        find_row(TABLE, "xyz", what="hub")


def test_ambiguous() -> None:
    table = pd.DataFrame({"id": ["a", "b"], "name_vi": ["Na", "Ná"]})
    with pytest.raises(LookupFailedError, match="ambiguous: it matches a, b"):
        find_row(table, "na")


GATES = pd.DataFrame({
    "id": ["huu-nghi", "huu-nghi-1119", "dong-dang-rail", "tan-thanh", "tan-thanh-1088"],
    "name_vi": ["Hữu Nghị", "Đường chuyên dụng mốc 1119–1120", "Ga Đồng Đăng", "Tân Thanh",
                "Đường chuyên dụng mốc 1088/2–1089"],
    "name_en": ["Huu Nghi (Friendship) international gate", "Huu Nghi cargo road",
                "Dong Dang railway station", "Tan Thanh border gate", "Tan Thanh cargo road"],
    "name_zh": ["友谊口岸", "友谊关货运专用通道", "同登站", "新清口岸", "浦寨货运专用通道"],
    "counterpart_zh": ["友谊关", "友谊关货运通道", "凭祥站", "浦寨", "浦寨"],
    "parent_id": [None, "huu-nghi", None, None, "tan-thanh"],
})
HUBS = pd.DataFrame({"id": ["dong-dang", "lang-son"], "name_vi": ["Đồng Đăng", "Lạng Sơn"],
                     "name_en": ["Dong Dang", "Lang Son"], "name_zh": ["同登", "谅山"],
                     "aliases": ["Đồng Đăng town|thi tran Dong Dang", None]})
PLACES = {"gate": GATES, "hub": HUBS}


@pytest.mark.parametrize("query,expected", [
    ("dong-dang", ("hub", 0)),             # an exact id wins over a gate's short name
    ("Đồng Đăng", ("hub", 0)),             # a full name wins over a short name
    ("Ga Đồng Đăng", ("gate", 2)), ("dong-dang-rail", ("gate", 2)),
    ("友谊关", ("gate", 0)),                 # Chinese counterpart name
    ("友谊", ("gate", 0)),                   # Chinese name without 口岸
    ("凭祥站", ("gate", 2)), ("新清", ("gate", 3)),
    ("浦寨", ("gate", 3)),                   # a crossing wins over its own cargo road
    ("Tan Thanh gate", ("gate", 3)), ("thi tran dong dang", ("hub", 0)),
    ("谅山", ("hub", 1)),
])
def test_places_across_gates_and_hubs(query, expected) -> None:
    assert find_place(PLACES, query) == expected


def test_a_name_of_a_gate_and_a_hub_is_ambiguous_and_lists_both_ids() -> None:
    with pytest.raises(LookupFailedError, match=r"'Dong Dang station' is ambiguous: it matches "
                                                r"gate dong-dang-rail, hub dong-dang; use an id"):
        find_place(PLACES, "Dong Dang station")


def test_a_miss_across_layers_suggests_and_never_repeats_long_text() -> None:
    with pytest.raises(LookupFailedError, match=r"did you mean Tân Thanh \(tan-thanh\)"):
        find_place(PLACES, "tan thahn")
    with pytest.raises(LookupFailedError) as info:
        find_place(PLACES, "x" * 100_000)
    assert len(str(info.value)) < 200
