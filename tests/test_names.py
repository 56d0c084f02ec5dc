from __future__ import annotations

import pandas as pd
import pytest

from bordergeo import LookupFailedError
from bordergeo.names import find_row, fold

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
