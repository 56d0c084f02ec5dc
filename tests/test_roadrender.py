"""The canvas road layer: its compact encoding, its escaping, its size and its drawing."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Point

from bordergeo import BorderGeoError, load_dataset
from bordergeo.maps import ROAD_STYLES, ROADS_ATTRIBUTION, add_roads, map_html, save_map
from bordergeo.markup import escape_text, script_json
from bordergeo.roadrender import CanvasLines, LineStyle, decode_lines, encode_lines

PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    "</script><script>window.__xss=1</script>",
    "\\u003cimg src=x onerror=window.__xss=1\\u003e",
    "`${window.__xss=1}`",
    "{{ 7*7 }}{% if true %}jinja{% endif %}",
    "line\u2028separator\u2029paragraph",
    "&lt;b&gt; typed as entities",
    "ends in a backslash \\",
]
_DATA_RE = re.compile(r'<script type="application/json" id="([^"]+)_data">(.*?)</script>', re.S)


def _grid(n: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` three-vertex lines on a jittered ~100 m grid near Lạng Sơn, with names."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    i, j = np.divmod(np.arange(n), side)
    x0 = 106.6 + i * 0.001 + rng.uniform(-2e-4, 2e-4, n)
    y0 = 21.8 + j * 0.001 + rng.uniform(-2e-4, 2e-4, n)
    coords = np.stack([np.c_[x0, y0], np.c_[x0 + 4.5e-4, y0 + 5e-5 * rng.standard_normal(n)],
                       np.c_[x0 + 9e-4, y0]], axis=1)
    kind = np.where(j % 10 == 0, "national", np.where(j % 5 == 0, "provincial", "local"))
    return gpd.GeoDataFrame({
        "ref": [f"ĐT{100 + r}" for r in j],
        "name": [f"Đường tỉnh {100 + r} – đoạn {s + 1}" for r, s in zip(j, i, strict=True)],
        "class": kind,
        "lanes": pd.array(np.where(kind == "local", 2, 4), dtype="Int64"),
        "maxspeed_kph": np.where(kind == "local", 40.0, 80.0),
        "status": np.where(rng.random(n) < 0.03, "construction", "open"),
    }, geometry=shapely.linestrings(coords), crs="EPSG:4326")


def _island(page: str) -> dict:
    found = _DATA_RE.findall(page)
    assert len(found) == 1
    return json.loads(found[0][1])


# --- the encoding ----------------------------------------------------------------------


def test_encoding_round_trips_coordinates_and_attributes() -> None:
    rng = np.random.default_rng(3)
    geoms = [LineString(rng.uniform([100, 10], [110, 25], (k, 2))) for k in rng.integers(2, 9, 300)]
    geoms[5] = MultiLineString([[(106.1, 21.1), (106.2, 21.2)], [(107.0, 22.0), (107.5, 22.5),
                                                                   (107.6, 22.4)]])
    geoms[7] = None
    geoms[9] = LineString()
    geoms[11] = LineString([(-179.99999, -60.0), (179.99999, 84.9)])  # extremes
    names = [f"Quốc lộ {k % 37} – đoạn {k}" for k in range(300)]
    names[1], names[2], names[3] = "𠀀 astral 😀", None, float("nan")
    lanes = pd.array([k % 4 + 1 if k % 7 else None for k in range(300)], dtype="Int64")
    encoded = encode_lines(geoms, columns=[("Name", names), ("Lanes", lanes),
                                           ("Speed", np.arange(300) * 0.5)],
                           style=np.arange(300) % 3, styles=[LineStyle("#111", 1),
                                                             LineStyle("#222", 2),
                                                             LineStyle("#333", 3, dash=(6, 6))])
    decoded = decode_lines(json.loads(script_json(encoded.payload)))
    parts = [(row, part) for row, g in enumerate(geoms) if g is not None and not g.is_empty
             for part in shapely.get_parts(g)]
    assert len(decoded.coords) == len(parts) == len(encoded.rows) == 300 - 2 + 1
    assert sorted(encoded.rows.tolist()) == sorted(row for row, _ in parts)
    expected = {}
    for row, part in parts:
        expected.setdefault(row, []).append(np.round(shapely.get_coordinates(part), 5))
    for line, row in enumerate(encoded.rows):  # a multi-line row gives one line per part
        assert any(np.array_equal(decoded.coords[line], e) for e in expected[row])
        assert decoded.fields["Name"][line] == escape_text(names[row])
        assert decoded.fields["Lanes"][line] == escape_text(lanes[row])
        assert decoded.fields["Speed"][line] == escape_text(row * 0.5)
        assert decoded.style[line] == row % 3
    assert decoded.fields["Name"][list(encoded.rows).index(2)] == ""  # None shows as nothing
    assert decoded.styles[2]["dash"] == [6.0, 6.0]


@pytest.mark.parametrize("precision", [0, 3, 7])
def test_coordinates_keep_the_precision_asked_for(precision) -> None:
    line = LineString([(106.123456789, 21.987654321), (106.2, 21.9), (106.3000001, 22.0)])
    decoded = decode_lines(encode_lines([line], styles=[LineStyle("#000", 1)],
                                        precision=precision).payload)
    assert np.array_equal(decoded.coords[0], np.round(shapely.get_coordinates(line), precision))


def test_encoding_refuses_what_it_cannot_draw() -> None:
    line = LineString([(0, 0), (1, 1)])
    style = [LineStyle("#000", 1)]
    with pytest.raises(BorderGeoError, match="lines expected, not Point"):
        encode_lines([line, Point(0, 0)], styles=style)
    with pytest.raises(BorderGeoError, match="style must give"):
        encode_lines([line], style=[1], styles=style)
    with pytest.raises(BorderGeoError, match="has 2 values for 1 lines"):
        encode_lines([line], columns=[("Name", ["a", "b"])], styles=style)
    with pytest.raises(BorderGeoError, match="precision"):
        encode_lines([line], styles=style, precision=9)
    with pytest.raises(BorderGeoError, match="weight"):
        encode_lines([line], styles=[LineStyle("#000", 0)])


def test_empty_layer_encodes() -> None:
    decoded = decode_lines(encode_lines([], columns=[("Name", [])],
                                        styles=[LineStyle("#000", 1)]).payload)
    assert decoded.coords == [] and decoded.fields == {"Name": []}


def test_size_per_segment_is_bounded() -> None:
    roads = _grid(20_000)
    m = folium.Map(tiles=None)
    add_roads(m, roads)
    data = _DATA_RE.findall(map_html(m))[0][1]
    # distinct names and refs, three vertices per line: ~20 bytes a line (GeoJSON: ~370)
    assert len(data.encode()) / len(roads) < 30
    geometry_only = script_json(encode_lines(roads.geometry.to_numpy(),
                                             styles=[LineStyle("#000", 1)]).payload)
    assert len(geometry_only) / len(roads) < 14


# --- escaping ----------------------------------------------------------------------------


def test_names_with_html_and_script_payloads_are_escaped() -> None:
    roads = _grid(len(PAYLOADS)).assign(name=PAYLOADS, ref=PAYLOADS[::-1])
    m = folium.Map(tiles=None)
    add_roads(m, roads, aliases=["<b>Road</b>", "Name", "Class", "Lanes", "Speed", "Status"])
    page = map_html(m)
    for payload in PAYLOADS:
        if any(c in payload for c in "<>`${"):
            assert payload not in page
    assert "</script><script>" not in page and "\u2028" not in page and "\u2029" not in page
    assert "{{ 7*7 }}" not in page and "<b>Road</b>" not in page
    island = _DATA_RE.findall(page)[0][1]
    assert "<" not in island and ">" not in island and "&" not in island
    decoded = decode_lines(json.loads(island))
    assert sorted(decoded.fields["Name"]) == sorted(escape_text(p) for p in PAYLOADS)
    assert list(decoded.fields)[0] == "&lt;b&gt;Road&lt;/b&gt;"  # labels are escaped too
    assert sorted(decoded.fields["&lt;b&gt;Road&lt;/b&gt;"]) == sorted(
        escape_text(p) for p in PAYLOADS)


def test_data_island_is_written_once_and_the_page_is_deterministic() -> None:
    roads = _grid(500)

    def page() -> str:
        m = folium.Map(tiles=None)
        add_roads(m, roads)
        return map_html(m)

    first = page()
    assert first == page()
    m = folium.Map(tiles=None)
    add_roads(m, roads)
    map_html(m)
    again = map_html(m)  # a second render replaces, never duplicates, the data
    assert len(_DATA_RE.findall(again)) == 1
    assert again.count("L.BordergeoLines = L.Renderer.extend") == 1


# --- add_roads ---------------------------------------------------------------------------


def test_add_roads_keeps_the_class_styles_dashes_and_credit() -> None:
    ds = load_dataset()
    m = folium.Map(tiles=None)
    add_roads(m, ds.roads)
    payload = _island(map_html(m))
    assert payload["attribution"] == ROADS_ATTRIBUTION
    decoded = decode_lines(payload)
    assert list(decoded.fields) == ["Road", "Name", "Class", "Lanes", "Max speed (km/h)",
                                    "Status"]
    for line, style in enumerate(decoded.style):
        cls, status = decoded.fields["Class"][line], decoded.fields["Status"][line]
        sty = decoded.styles[style]
        assert (sty["color"], sty["weight"]) == (ROAD_STYLES[cls][0], ROAD_STYLES[cls][1])
        assert sty["opacity"] == 0.85
        assert (sty["dash"] is None) == (status == "open")
    weights = [s["weight"] for s in decoded.styles]
    assert weights == sorted(weights)  # thin roads drawn first, major ones over them
    assert len(decoded.coords) == len(ds.roads)
    row = ds.roads.iloc[0]
    line = decoded.fields["Name"].index(row["name"])
    assert decoded.fields["Lanes"][line] == str(row["lanes"])


def test_add_roads_reprojects_and_greys_unknown_classes() -> None:
    roads = _grid(50).assign(**{"class": "track", "status": None})
    m = folium.Map(tiles=None)
    add_roads(m, roads.to_crs("EPSG:32648"))
    payload = _island(map_html(m))
    decoded = decode_lines(payload)
    assert payload["attribution"] is None
    assert decoded.styles == [{"color": "#555", "weight": 2.0, "opacity": 0.85,
                               "dash": [6.0, 6.0]}]  # no status: not open, dashed
    xy = np.concatenate(decoded.coords)
    assert np.allclose(np.sort(xy, axis=0),
                       np.sort(np.round(shapely.get_coordinates(roads.geometry), 5), axis=0),
                       atol=2e-5)


def test_add_roads_checks_its_aliases() -> None:
    with pytest.raises(BorderGeoError, match="aliases needs 6 labels"):
        add_roads(folium.Map(tiles=None), _grid(3), aliases=["Road"])


def test_canvas_lines_needs_a_map() -> None:
    layer = CanvasLines([LineString([(0, 0), (1, 1)])], styles=[LineStyle("#000", 1)])
    with pytest.raises(BorderGeoError, match="inside a folium map"):
        layer.render()


# --- in Chromium ---------------------------------------------------------------------------

#: The page point in the middle of each road line's first segment, and whether the canvas
#: has paint there.
ROAD_POINTS = """() => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    let layer;
    map.eachLayer(l => { if (l instanceof L.BordergeoLines) { layer = l; } });
    const canvas = document.querySelector('canvas.bordergeo-lines');
    const box = canvas.getBoundingClientRect(), ctx = canvas.getContext('2d');
    const u = layer._unit, ints = layer._ints, out = [];
    for (let i = 0; i < layer._n; i++) {
        const j = layer._start[i];
        const a = map.latLngToContainerPoint([ints[2 * j + 1] * u, ints[2 * j] * u]);
        const b = map.latLngToContainerPoint([ints[2 * j + 3] * u, ints[2 * j + 2] * u]);
        const p = a.add(b.subtract(a).multiplyBy(0.5)).round();
        const rect = map.getContainer().getBoundingClientRect();
        const x = rect.left + p.x, y = rect.top + p.y;
        const ratio = canvas.width / box.width;
        const pixel = ctx.getImageData(Math.round((x - box.left) * ratio),
                                       Math.round((y - box.top) * ratio), 1, 1).data;
        out.push({x, y, painted: pixel[3] > 0});
    }
    return out;
}"""


@pytest.fixture(scope="module")
def browser():
    from browser_support import launched_browser, require_chromium

    yield from launched_browser(require_chromium())


@pytest.mark.browser
def test_road_layer_draws_and_shows_names_on_hover_and_click(browser, tmp_path) -> None:
    from browser_support import open_map

    roads = gpd.GeoDataFrame({
        "ref": [f"QL{k}" for k in range(len(PAYLOADS))],
        "name": PAYLOADS,
        "class": ["national", "local"] * (len(PAYLOADS) // 2),
        "lanes": 2, "maxspeed_kph": 60.0,
        "status": ["open"] * (len(PAYLOADS) - 1) + ["construction"],
    }, geometry=[LineString([(106.60 + 0.02 * k, 21.80), (106.60 + 0.02 * k, 21.95)])
                 for k in range(len(PAYLOADS))], crs="EPSG:4326")
    m = folium.Map(tiles=None, location=[21.875, 106.67], zoom_start=12)
    add_roads(m, roads)
    folium.CircleMarker([21.99, 106.75], radius=3).add_to(m)  # open_map waits for a path
    page = open_map(browser, save_map(m, tmp_path / "roads.html", offline=True), dialogs=True)
    try:
        page.wait_for_function(
            "document.querySelector('canvas.bordergeo-lines')?.dataset.drawn > 0")
        assert page.evaluate("+document.querySelector('canvas.bordergeo-lines').dataset.lines"
                             ) == len(roads)
        points = page.evaluate(ROAD_POINTS)
        assert len(points) == len(roads) and all(p["painted"] for p in points)
        hovered, clicked = [], []
        for p in points:
            page.mouse.move(p["x"], p["y"])
            tip = page.wait_for_selector(".bordergeo-lines-tip")
            hovered.append(tip.text_content())
            page.mouse.move(5, 5)  # off every road: the tooltip closes
            page.wait_for_selector(".bordergeo-lines-tip", state="detached")
            page.mouse.click(p["x"], p["y"])
            clicked.append(page.wait_for_selector(".bordergeo-lines-tip").text_content())
            page.mouse.move(5, 5)
        for payload in PAYLOADS:  # shown as typed, as text
            assert sum(payload in text for text in hovered) == 1, payload
            assert sum(payload in text for text in clicked) == 1, payload
        assert all(text.startswith("RoadQL") and "Max speed (km/h)60.0" in text
                   for text in hovered)
        page.wait_for_timeout(200)
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert page.dialogs == [] and page.errors == [] and page.external == []
    finally:
        page.close()
