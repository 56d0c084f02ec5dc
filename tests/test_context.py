"""Bundled geographic context (data/context) and its map layer (bordergeo.context).

Every test but the rebuild reads only what is committed; the rebuild compares the script's
output with the committed files when ``../shared/data`` is beside the checkout.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import folium
import geopandas as gpd
import pytest
import shapely
from conftest import SHARED_DATA

from bordergeo import context
from bordergeo.context import (
    CONTEXT_ATTRIBUTIONS,
    CONTEXT_LAYERS,
    add_context,
    context_dir,
    load_context,
)
from bordergeo.errors import BorderGeoError

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "build_context.py"
README = ROOT / "data" / "context" / "README.md"
AOI_PLUS = (105.5, 20.6, 107.6, 22.7)
LICENCES = {"provinces": "Public domain", "province_lines": "Public domain",
            "china": "ODbL 1.0", "coast": "Public domain", "rivers": "Public domain",
            "places": "CC BY 4.0"}


def js(text: str) -> str:
    """``text`` as it appears inside the JSON strings folium writes (``\\u`` escapes)."""
    escaped = json.dumps(text)[1:-1]
    return escaped.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    return load_context()


def render(m: folium.Map) -> str:
    return m.get_root().render()


# ---------------------------------------------------------------- the bundled files
def test_bundled_files_exist_and_are_small() -> None:
    files = [context_dir() / f"{name}.geojson" for name in CONTEXT_LAYERS]
    assert all(f.is_file() for f in files)
    assert sum(f.stat().st_size for f in files) < 500_000


def test_layers_lie_in_the_study_area_with_rounded_coordinates(layers) -> None:
    box = shapely.box(*AOI_PLUS).buffer(1e-6)
    for name, gdf in layers.items():
        assert len(gdf), name
        assert gdf.crs.to_epsg() == 4326, name
        assert gdf.geometry.is_valid.all(), name
        assert box.contains(shapely.union_all(gdf.geometry.to_numpy())), name
    text = (context_dir() / "places.geojson").read_text(encoding="utf-8")
    assert not re.search(r"\d\.\d{6,}", text)  # 5 decimals at most


def test_langson_is_the_one_highlighted_province(layers) -> None:
    provinces = layers["provinces"]
    highlighted = provinces[provinces["highlight"].astype(bool)]
    assert highlighted[["name", "iso"]].values.tolist() == [["Lạng Sơn", "VN-09"]]
    assert {"Cao Bằng", "Bắc Giang", "Quảng Ninh", "Hà Nội", "Hải Phòng"} <= set(provinces["name"])
    lines = layers["province_lines"]
    assert lines["highlight"].astype(bool).sum() >= 4  # Cao Bằng, Bắc Kạn, Thái Nguyên, ...


def test_china_is_one_polygon_named_in_three_languages(layers) -> None:
    china = layers["china"]
    assert len(china) == 1
    assert china.geometry.iloc[0].geom_type in ("Polygon", "MultiPolygon")
    assert china["name"].iloc[0] == "Quảng Tây (Trung Quốc) / Guangxi (China) / 广西"


def test_places_hold_the_towns_with_ranks(layers) -> None:
    places = layers["places"].set_index("name")
    required = {"Lạng Sơn", "Đồng Đăng", "Cao Lộc", "Lộc Bình", "Na Sầm", "Chi Lăng",
                "Hữu Lũng", "Đình Lập", "Thất Khê", "Bắc Giang", "Bắc Ninh", "Hà Nội",
                "Hải Phòng", "Bằng Tường", "Ningming", "Chongzuo"}
    assert required <= set(places.index)
    assert places.loc["Thất Khê", "seat_of"] == "Tràng Định"
    pingxiang = places.loc["Bằng Tường"]
    assert (pingxiang["name_en"], pingxiang["name_zh"], pingxiang["country"]) == (
        "Pingxiang", "凭祥", "CN")
    rank1 = set(places.index[places["rank"] == 1])
    assert rank1 == {"Hà Nội", "Hải Phòng", "Lạng Sơn", "Bắc Giang", "Bằng Tường"}
    assert set(places["rank"]) == {1, 2}
    assert set(places["label_at"]) <= {"e", "w", "n", "s"}
    assert places.loc["Lạng Sơn"].geometry.distance(shapely.Point(106.761, 21.853)) < 0.01


def test_every_file_has_its_source_and_licence_in_the_readme() -> None:
    rows = {m.group(1): m.group(0) for m in
            re.finditer(r"^\| `(\w+)\.geojson` \|.*$", README.read_text(encoding="utf-8"),
                        flags=re.MULTILINE)}
    assert set(rows) == set(CONTEXT_LAYERS)
    for name in CONTEXT_LAYERS:
        assert LICENCES[name] in rows[name], name
        assert context._LAYER_ATTRIBUTION[name] in rows[name], name
    assert "ODbL" in README.read_text(encoding="utf-8").split("## Known limits")[0]
    assert set(context._LAYER_ATTRIBUTION.values()) == set(CONTEXT_ATTRIBUTIONS)


# ---------------------------------------------------------------- the map layer
def test_add_context_draws_names_and_attributions() -> None:
    m = folium.Map(location=[21.9, 106.7], zoom_start=9, tiles=None)
    attributions = add_context(m)
    folium.LayerControl().add_to(m)
    assert attributions == CONTEXT_ATTRIBUTIONS
    page = render(m)
    for name in ("Lạng Sơn", "Bằng Tường (Pingxiang)", "凭祥", "Thất Khê (Tràng Định)",
                 "Hà Nội"):
        assert js(name) in page, name
    for attribution in attributions:
        assert f'"attribution": "{js(attribution)}"' in page, attribution
    assert page.count("bordergeo-place-label bordergeo-place-rank1") == 5
    assert js("Bối cảnh") in page  # the layer's name in the layer control
    assert '"interactive": false' in page and '"pane": "bordergeoContext"' in page
    assert "bordergeo-ctx-lowzoom" in page  # the zoom rule of rank-2 labels


def test_english_labels_use_english_names() -> None:
    m = folium.Map(tiles=None)
    add_context(m, lang="en")
    page = render(m)
    assert js("Pingxiang") in page and js("Bằng Tường") not in page
    assert js("Hanoi") in page and js("Lạng Sơn") in page
    assert "Context" in page


def test_unknown_language_is_one_clear_error() -> None:
    with pytest.raises(BorderGeoError, match="language"):
        add_context(folium.Map(tiles=None), lang="fr")


def test_panes_and_zoom_script_are_added_once() -> None:
    m = folium.Map(tiles=None)
    add_context(m)
    add_context(m)
    page = render(m)
    assert len(re.findall(r'createPane\(\s*"bordergeoContext"\)', page)) == 1
    assert len(re.findall(r'createPane\(\s*"bordergeoContextLabels"\)', page)) == 1
    assert page.count('classes.toggle("bordergeo-ctx-lowzoom"') == 1


def test_place_names_are_escaped(monkeypatch, layers) -> None:
    hostile = "<img src=x onerror=alert(1)>${x}`"
    places = layers["places"].copy()
    places.loc[places.index[0], "name"] = hostile
    places.loc[places.index[0], "name_en"] = ""
    places.loc[places.index[0], "seat_of"] = "</script><b>"
    places.loc[places.index[0], "label_at"] = '"><script>'
    patched = {**layers, "places": places}
    monkeypatch.setattr(context, "load_context", lambda: patched)
    m = folium.Map(tiles=None)
    add_context(m)
    page = render(m)
    assert "\\u003cimg" not in page and "<img" not in page
    assert js("&lt;img src=x onerror=alert(1)&gt;&#36;&#123;x&#125;&#96;") in page
    assert js("&lt;/script&gt;&lt;b&gt;") in page
    assert "\\u003cscript" not in page  # an unknown side falls back to "e"


def test_missing_file_is_a_data_file_error(monkeypatch, tmp_path) -> None:
    from bordergeo.errors import DataFileError

    monkeypatch.setattr(context, "context_dir", lambda: tmp_path)
    with pytest.raises(DataFileError, match="provinces.geojson"):
        load_context()


# ---------------------------------------------------------------- the build script
@pytest.mark.skipif(not SHARED_DATA.is_dir(),
                    reason="../shared/data (the reference data the script reads) is not "
                           "beside this checkout")
def test_build_script_reproduces_the_bundled_files(tmp_path) -> None:
    out = tmp_path / "context"
    done = subprocess.run([sys.executable, str(SCRIPT), "--shared", str(SHARED_DATA),
                           "--out", str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for name in CONTEXT_LAYERS:
        built = (out / f"{name}.geojson").read_bytes()
        assert built == (ROOT / "data" / "context" / f"{name}.geojson").read_bytes(), name


def test_build_script_names_the_missing_shared_folder(tmp_path) -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--shared", str(tmp_path / "nowhere"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          check=False)
    assert done.returncode != 0
    assert "nowhere" in done.stderr and "../shared/data" in done.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- in a browser
@pytest.mark.browser
def test_labels_show_without_a_click_and_follow_the_zoom(tmp_path) -> None:
    from browser_support import CHROMIUM, require_chromium

    from bordergeo.maps import save_map

    sync_api = require_chromium()
    m = folium.Map(location=[21.9, 106.7], zoom_start=9, tiles=None)
    add_context(m, lang="vi")
    path = save_map(m, tmp_path / "context.html", offline=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("http*://**/*", lambda route: route.abort())
            page.goto(path.as_uri())
            page.wait_for_function("document.querySelectorAll('.bordergeo-place-label')"
                                   ".length > 20")
            text = page.evaluate("document.body.innerText")
            assert "Lạng Sơn" in text and "Bằng Tường (Pingxiang)" in text
            assert "Lộc Bình" not in text  # rank 2: from zoom 10
            name = page.evaluate("Object.keys(window).find(k => k.startsWith('map_'))")
            page.evaluate(f"{name}.setZoom(11, {{animate: false}})")
            page.wait_for_function("document.body.innerText.includes('Lộc Bình')")
            assert "geoBoundaries (public domain)" in page.evaluate("document.body.innerText")
            assert errors == []
        finally:
            browser.close()
