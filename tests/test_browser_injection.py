"""Script injection through every text field, checked in a real browser.

Every text field of every layer (and the analysis layers' labels) holds one of several
payloads: HTML, JavaScript escapes typed literally (``\\u003c`` decodes to ``<`` inside the
template literals folium writes), template and backtick breakouts, quotes, ``</script>``,
Jinja braces and a trailing backslash. The dataset passes validation through the ordinary
loader; the map (routes, corridors, road and gate load, time slider, search) is saved
offline and opened in Debian's Chromium with the network blocked. Every popup is opened and
every tooltip shown through Leaflet's own events; no payload may run (``window.__xss``
stays unset, no dialog opens, no script error) and each payload must show as literal text.

Fields the loader refuses or cannot carry a payload: gate and hub ``id`` (slugs), the
references ``parent_id`` and ``gate_id``, the enumerations (``level``, ``mode``,
``status``, ``kind``, ``class``, ``coord_confidence``) and the opening hours (parsed). A NUL
is cut off by the GeoJSON reader (GDAL), so it is tried in the corridor frame instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from browser_support import ARTIFACTS, launched_browser, open_map, require_chromium
from conftest import write_dataset

from bordergeo import load_dataset
from bordergeo.analysis import analysis_layers
from bordergeo.maps import build_map, save_map

pytestmark = pytest.mark.browser

sync_api = require_chromium()

#: Each payload sets ``window.__xss`` or opens a dialog if it ever runs.
PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    "<svg onload=alert(1)>",
    "\\u003cimg src=x onerror=window.__xss=1\\u003e",      # backslashes typed literally
    "\\x3cimg src=x onerror=alert(1)\\x3e",
    "${window.__xss=1}",
    "`;window.__xss=1;`",
    "\\`;alert(1);\\`",
    "\"';window.__xss=1;//",
    "</script><script>window.__xss=1</script>",
    "{{ 7*7 }}{% if true %}jinja{% endif %}",
    "&lt;img src=x onerror=alert(1)&gt;",                  # must show as typed
    "ends in a backslash \\",
    "line\u2028separator\u2029paragraph",
]
#: Text fields that take any text, by layer.
FIELDS = {
    "gates": ["name_vi", "name_en", "name_zh", "district", "status_note", "counterpart_en",
              "counterpart_zh", "markers", "capacity_date", "capacity_source", "coord_source"],
    "hubs": ["name_vi", "name_en", "name_zh", "note", "coord_source"],
    "markers": ["id", "note", "coord_source"],
    "roads": ["id", "ref", "name", "source"],
    "border": ["id", "name", "source"],
}
#: Beyond the dataset: the time-slider kinds (one per payload), its label and the title.
EXTRA_CASES = len(PAYLOADS) + 2
CASES = len(PAYLOADS) * sum(len(f) for f in FIELDS.values()) + EXTRA_CASES


def _feature(fid: str, geometry: dict, props: dict) -> dict:
    return {"type": "Feature", "properties": {"id": fid, **props}, "geometry": geometry}


def _layers() -> dict:
    """One gate, hub, marker, road and border piece per payload, every text field set."""
    layers: dict[str, list[dict]] = {name: [] for name in FIELDS}
    for i, payload in enumerate(PAYLOADS):
        lon = round(106.60 + 0.05 * i, 5)

        def texts(layer: str, payload: str = payload) -> dict:
            return {f: payload for f in FIELDS[layer] if f != "id"}

        layers["gates"].append(_feature(
            f"gate-{i}", {"type": "Point", "coordinates": [lon, 22.0]},
            {**texts("gates"), "level": "international", "mode": "road", "status": "open",
             "lanes_export": 2, "lanes_import": 2, "hours_vn": "07:00-19:00",
             "hours_cn": "08:00-20:00", "capacity_trucks_day": 500, "coord_confidence": "H"}))
        layers["hubs"].append(_feature(
            f"hub-{i}", {"type": "Point", "coordinates": [lon, 21.85]},
            {**texts("hubs"), "kind": "city"}))
        layers["markers"].append(_feature(
            payload, {"type": "Point", "coordinates": [lon + 0.004, 22.004]},
            {**texts("markers"), "kind": "main", "gate_id": f"gate-{i}"}))
        layers["roads"].append(_feature(
            payload, {"type": "LineString",
                      "coordinates": [[lon, 21.85], [lon, 21.93], [lon, 22.0]]},
            {**texts("roads"), "class": "national", "maxspeed_kph": 60, "lanes": 2}))
        layers["border"].append(_feature(
            payload, {"type": "LineString",
                      "coordinates": [[lon - 0.025, 22.05], [lon + 0.025, 22.05]]},
            texts("border")))
    return {name: {"type": "FeatureCollection", "features": features}
            for name, features in layers.items()}


@pytest.fixture(scope="module")
def injection_map(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("injection")
    dataset = load_dataset(write_dataset(folder / "data", _layers()))
    for layer, fields in FIELDS.items():  # the payloads passed validation unchanged
        frame = getattr(dataset, layer)
        for field in fields:
            assert sorted(frame[field]) == sorted(PAYLOADS), (layer, field)
    scenario = folder / "scenario.json"
    scenario.write_text(json.dumps({"name": f"{PAYLOADS[9]} {PAYLOADS[0]} {PAYLOADS[2]}"}),
                        encoding="utf-8")
    hubs = dataset.hubs["id"].tolist()
    layers = analysis_layers(dataset, routes=True, corridors=True, scenario=scenario,
                             demand=pd.DataFrame({"origin": hubs, "trucks_per_day": 100.0}),
                             days=2)
    assert len(layers["routes"]) == len(PAYLOADS)
    corridors = layers["corridors"].copy()
    corridors.loc[corridors.index[0], "ref"] = "NUL \x00 in a template literal"
    dates = pd.to_datetime(["2026-01-01", "2026-01-02"])
    timeline = pd.DataFrame(
        [{"date": d, "gate_id": f"gate-{i}", "trucks_waiting": 10.0 * (i + 1), "kind": p}
         for d in dates for i, p in enumerate(PAYLOADS)]
        + [{"date": d, "gate_id": "all", "trucks_waiting": 5.0, "kind": "observed"}
           for d in dates])
    m = build_map(dataset, **{**layers, "corridors": corridors, "timeline": timeline,
                              "timeline_label": " | ".join(PAYLOADS) + " \x00"})
    return save_map(m, folder / "injection.html", offline=True)


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser(sync_api)


@pytest.fixture()
def page(browser, injection_map):
    pg = open_map(browser, injection_map, dialogs=True)
    pg.wait_for_selector(".timecontrol-date")
    yield pg
    pg.close()


#: Click and hover every layer on the map through Leaflet's events (groups relay them to
#: the GeoJSON tooltips bound on their parent); collect the text of every popup and tooltip.
OPEN_EVERYTHING = """() => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    const layers = [];
    map.eachLayer(l => {  // the drawn layers, not their groups nor open tooltips or popups
        if (!(l instanceof L.LayerGroup || l instanceof L.DivOverlay)) layers.push(l);
    });
    const out = {layers: layers.length, popups: [], tooltips: []};
    for (const layer of layers) {
        let latlng = map.getCenter();
        try { latlng = layer.getLatLng ? layer.getLatLng() : layer.getCenter(); } catch (e) {}
        layer.fire('mouseover', {latlng}, true);
        const tip = document.querySelector('.leaflet-tooltip:last-of-type');
        if (tip) out.tooltips.push(tip.textContent);
        layer.fire('mouseout', {latlng}, true);
        layer.fire('click', {latlng}, true);
        const open = document.querySelector('.leaflet-popup:last-of-type .leaflet-popup-content');
        if (open) out.popups.push(open.textContent);
        map.closePopup();
    }
    return out;
}"""


def _assert_nothing_ran(pg) -> None:
    pg.wait_for_timeout(300)  # let any image error handler fire
    assert pg.evaluate("typeof window.__xss") == "undefined"
    assert pg.dialogs == []
    assert pg.errors == []
    assert pg.external == []


def test_payloads_in_every_field_show_as_text_and_never_run(page) -> None:
    _assert_nothing_ran(page)  # on load
    page.locator(".leaflet-control-layers-overlays label", has_text="Road congestion").locator(
        "input").check()
    seen = page.evaluate(OPEN_EVERYTHING)
    # gates, hubs, markers, gate-load circles, the time slider's circles (13 gates + all)
    assert len(seen["popups"]) >= 5 * len(PAYLOADS) + 1
    assert len(seen["tooltips"]) >= len(seen["popups"])
    page.locator(".timecontrol-forward").first.click()  # the second day's circles
    page.wait_for_function("document.querySelector('.timecontrol-date').innerText"
                           ".includes('2026-01-02')")
    again = page.evaluate(OPEN_EVERYTHING)
    _assert_nothing_ran(page)
    popups = "\n".join(seen["popups"] + again["popups"])
    tooltips = "\n".join(seen["tooltips"] + again["tooltips"])
    for payload in PAYLOADS:
        assert payload in popups, payload
        assert payload in tooltips, payload
    # the time slider: gate name, label and kind; routes, corridors and road load: the ref
    label = " | ".join(PAYLOADS) + " "  # the NUL after it is dropped by the HTML parser
    assert f"{PAYLOADS[0]}2026-01-01: 10 {label} ({PAYLOADS[0]})" in popups
    assert f"{PAYLOADS[5]}2026-01-02: 60 " in popups
    named = re.escape(PAYLOADS[3])  # route tooltips show the places' names, here payloads
    assert re.search(rf"{named} → {named}: [\d.]+ km, \d+ min via {named}",
                     tooltips)
    assert f"{PAYLOADS[4]}: 100 trucks/day" in tooltips
    assert f"{PAYLOADS[6]} v/c " in tooltips
    assert "NUL \ufffd in a template literal" in tooltips  # the HTML parser's NUL
    title = page.locator("#bordergeo-title").text_content()
    assert title.endswith(f"{PAYLOADS[9]} {PAYLOADS[0]} {PAYLOADS[2]}")
    assert "49" not in title


def test_search_tips_show_payloads_as_text(page) -> None:
    page.locator(".search-button").first.click()
    box = page.locator("input.search-input")
    for query in ("img", "script", "u003c", "jinja", "window"):
        box.fill("")
        box.press_sequentially(query)
        page.wait_for_function("""(query) => {
            const tips = [...document.querySelectorAll('.search-tooltip .search-tip')];
            return tips.length > 0 && tips.every(tip => tip.textContent.includes(query));
        }""", arg=query)
        tips = page.locator(".search-tooltip .search-tip").all_text_contents()
    assert any(tip.startswith(f"{PAYLOADS[0]} / ") for tip in tips)
    page.locator(".search-tooltip .search-tip", has_text=PAYLOADS[0]).first.click()
    assert PAYLOADS[0] in page.wait_for_selector(".leaflet-popup-content").text_content()
    _assert_nothing_ran(page)


@pytest.mark.parametrize("which", [0, 2])
def test_screenshot_of_a_popup_with_payloads(page, which) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(800)  # let the initial fit-to-bounds zoom finish
    page.evaluate("""(payload) => {
        const map = Object.values(window).find(v => v instanceof L.Map);
        map.eachLayer(l => {
            const content = l.getPopup && l.getPopup() && l.getPopup().getContent();
            if (l.options.label && content && content.textContent.includes(payload)) {
                map.setView(l.getLatLng(), 12, {animate: false});
                map.panBy([0, -260], {animate: false});  // room above the gate for the popup
                l.openPopup();
            }
        });
    }""", PAYLOADS[which])
    text = page.wait_for_selector(".leaflet-popup-content").text_content()
    assert PAYLOADS[which] in text
    page.wait_for_timeout(500)
    png = page.screenshot(path=str(ARTIFACTS / f"injection-popup-{which}.png"))
    assert len(png) > 20_000
    _assert_nothing_ran(page)


def test_case_count() -> None:
    assert CASES == len(PAYLOADS) * 26 + EXTRA_CASES == 353
