"""The map in a real browser: Debian's Chromium driven by Playwright, network blocked.

Needs /usr/bin/chromium (``.ci/run`` installs it) and the offline assets built into the
package. Outside CI a missing browser skips these tests; in CI (``CI=true``) it fails them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    click_pin,
    launched_browser,
    open_map,
    pins_shown,
    require_chromium,
)
from conftest import write_dataset

from bordergeo import load_dataset
from bordergeo.maps import build_map, save_map

pytestmark = pytest.mark.browser

PAYLOAD = '<img src=x onerror="window.__xss=1">'
sync_api = require_chromium()


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


@pytest.fixture(scope="module")
def map_file(dataset, tmp_path_factory) -> Path:
    return save_map(build_map(dataset), tmp_path_factory.mktemp("maps") / "langson.html",
                    offline=True)


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser(sync_api)


@pytest.fixture()
def page(browser, map_file):
    pg = open_map(browser, map_file)
    yield pg
    pg.close()


def test_map_draws_every_layer_offline(page, dataset) -> None:
    page.wait_for_function("document.querySelector('canvas.bordergeo-lines')?.dataset.drawn > 0")
    counts = page.evaluate("""() => ({
        paths: document.querySelectorAll('path.leaflet-interactive').length,
        roadLines: +document.querySelector('canvas.bordergeo-lines').dataset.lines,
        legend: document.querySelectorAll('#bordergeo-legend').length,
        layers: document.querySelectorAll('.leaflet-control-layers-overlays input').length,
        faLoaded: [...document.fonts].some(f => f.family.includes('Font Awesome')
                                           && f.status === 'loaded'),
    })""")
    pins = pins_shown(page)  # every gate and hub: alone or in a group badge
    assert pins["pins"] + pins["grouped"] == len(dataset.gates) + len(dataset.hubs)
    # the border and every marker circle is one SVG path; the roads are one canvas
    expected_paths = len(dataset.border) + len(dataset.markers)
    assert counts["paths"] >= expected_paths
    assert counts["roadLines"] == len(dataset.roads)
    # + the names of gates and hubs, and the geographic context
    assert counts["legend"] == 1 and counts["layers"] == 7
    page.evaluate("document.fonts.ready")
    assert page.evaluate("[...document.fonts].some(f => f.family.includes('Font Awesome')"
                         " && f.status === 'loaded')")
    assert page.errors == [] and page.external == []


def test_gate_popup_shows_three_languages(page, dataset) -> None:
    # an international (red) gate: its badge is red while it is grouped
    click_pin(page, ".awesome-marker-icon-red",
              badge=".bordergeo-pin-group-gates[style*='d63e2a']")
    text = page.wait_for_selector(".leaflet-popup-content").inner_text()
    international = dataset.gates[dataset.gates["level"] == "international"]
    # the popup's first line names the gate (its notes may name others)
    shown = [g for g in international.itertuples() if g.name_vi == text.splitlines()[0]]
    assert len(shown) == 1, text
    assert shown[0].name_en in text and shown[0].name_zh in text
    assert "Hours, CN clock (UTC+8)" in text


def test_layer_control_toggles_roads(page, dataset) -> None:
    before = page.locator("path.leaflet-interactive").count()
    assert page.locator("canvas.bordergeo-lines").count() == 1  # the roads
    page.locator(".leaflet-control-layers-overlays label", has_text="Roads").locator(
        "input").uncheck()
    assert page.locator("canvas.bordergeo-lines").count() == 0
    assert page.locator("path.leaflet-interactive").count() == before  # the rest stays


def test_screenshot_for_people(page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(800)  # let the initial fit-to-bounds zoom finish
    png = page.screenshot(path=str(ARTIFACTS / "langson-map.png"))
    assert len(png) > 30_000  # a blank grey page is ~5 KB


def test_injection_payload_does_not_run(browser, tmp_path, small_layers) -> None:
    for layer in ("gates", "hubs", "roads", "markers"):
        for feature in small_layers[layer]["features"]:
            for key in ("name_vi", "name_en", "ref", "name", "coord_source"):
                feature["properties"][key] = PAYLOAD
    ds = load_dataset(write_dataset(tmp_path / "evil", small_layers))
    pg = open_map(browser, save_map(build_map(ds), tmp_path / "evil.html", offline=True))
    try:
        pins_shown(pg)  # the opening zoom and grouping have settled
        for marker in pg.locator(".leaflet-marker-pane .awesome-marker").all():
            marker.dispatch_event("mouseover")
            marker.dispatch_event("click")
        # zoomed out, the gates group; a group's names (the payload) are its tooltip, as text
        pg.evaluate("() => Object.values(window).find(v => v instanceof L.Map).setZoom(5)")
        pins_shown(pg)
        titles = pg.evaluate("() => [...document.querySelectorAll("
                             "'.leaflet-pane .bordergeo-pin-group')].map(b => b.title)")
        assert titles and all(PAYLOAD.split(" ")[0] in title for title in titles)
        for path in pg.locator("path.leaflet-interactive").all():
            path.dispatch_event("mouseover")
            path.dispatch_event("click")
        pg.wait_for_timeout(300)
        assert pg.evaluate("window.__xss") is None
        assert PAYLOAD.split(" ")[0] in pg.locator(".leaflet-popup-content").inner_text()
        assert pg.errors == []
    finally:
        pg.close()


# --- the analysis map: routes, corridors, congestion, time slider --------------------


@pytest.fixture(scope="module")
def analysis_map(tmp_path_factory) -> Path:
    from bordergeo.cli import main

    out = tmp_path_factory.mktemp("analysis") / "x.html"
    assert main(["map", "--routes", "--corridors", "--scenario", "regulation_2026",
                 "--initial-backlog", "4300", "--offline", "-o", str(out)]) == 0
    return out


@pytest.fixture()
def analysis_page(browser, analysis_map):
    pg = open_map(browser, analysis_map)
    yield pg
    pg.close()


def _count(page, selector: str) -> int:
    return page.locator(selector).count()


def test_analysis_map_draws_everything_offline(analysis_page, dataset) -> None:
    pg = analysis_page
    pg.wait_for_selector(".timecontrol-date")
    from bordergeo.gates import capacity_gates

    open_road = dataset.gates[(dataset.gates["mode"] == "road")
                              & (dataset.gates["status"] != "closed")
                              & capacity_gates(dataset.gates)]  # lanes, not their crossings
    pins = pins_shown(pg)
    assert pins["pins"] + pins["grouped"] == len(dataset.gates) + len(dataset.hubs)
    assert _count(pg, "path.bordergeo-route") == len(dataset.hubs)   # one per hub
    assert _count(pg, "path.bordergeo-corridor") >= 10
    assert _count(pg, "path.bordergeo-gate-load") == len(open_road)
    assert pg.locator("textPath").count() > 0                        # direction arrows
    assert _count(pg, ".leaflet-control-search") == 1
    assert _count(pg, ".leaflet-control-zoom-fullscreen") == 1
    assert _count(pg, "#bordergeo-congestion-legend") == 1
    assert pg.errors == [] and pg.external == []


def test_time_slider_steps(analysis_page) -> None:
    pg = analysis_page
    date = pg.wait_for_selector(".timecontrol-date")
    assert "2026-01-01" in date.inner_text()
    pg.locator(".timecontrol-forward").first.click()
    pg.wait_for_function("document.querySelector('.timecontrol-date').innerText"
                         ".includes('2026-01-02')")
    assert pg.errors == []


def test_search_finds_a_gate_without_diacritics_in_the_box(analysis_page) -> None:
    pg = analysis_page
    pg.locator(".search-button").first.click()
    pg.locator("input.search-input").press_sequentially("huu nghi")
    pg.wait_for_selector(".search-tooltip .search-tip")
    gate = pg.locator(".search-tooltip .search-tip", has_text="Hữu Nghị / Huu Nghi")
    assert gate.count() == 1  # the crossing; its lanes and cargo road are tips of their own
    gate.click()
    # the gate shares its point with a lane: its group fans out and its popup opens
    popup = pg.wait_for_selector(".leaflet-popup-content").inner_text()
    assert popup.startswith("Hữu Nghị") and "Huu Nghi (Friendship) international gate" in popup
    assert pg.errors == []


def test_corridor_layer_toggles_and_gate_load_popup_opens(analysis_page) -> None:
    pg = analysis_page
    pg.locator("path.bordergeo-gate-load").first.dispatch_event("click")
    text = pg.wait_for_selector(".leaflet-popup-content").inner_text()
    assert "trucks/day" in text and "Utilisation" in text
    pg.locator(".leaflet-control-layers-overlays label", has_text="Corridors").locator(
        "input").uncheck()
    assert _count(pg, "path.bordergeo-corridor") == 0
    pg.locator(".leaflet-control-layers-overlays label", has_text="Road congestion").locator(
        "input").check()
    assert _count(pg, "path.bordergeo-road-vc") >= 10


def test_analysis_screenshot_for_people(analysis_page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    analysis_page.wait_for_timeout(800)
    png = analysis_page.screenshot(path=str(ARTIFACTS / "langson-analysis.png"))
    assert len(png) > 30_000


def test_injection_payload_in_analysis_layers_does_not_run(browser, tmp_path,
                                                           small_layers) -> None:
    import pandas as pd

    from bordergeo.analysis import fastest_routes
    from bordergeo.routing import Router, dataset_network

    for layer in ("gates", "hubs"):
        for feature in small_layers[layer]["features"]:
            feature["properties"]["name_vi"] = PAYLOAD
    small_layers["roads"]["features"][0]["properties"]["ref"] = PAYLOAD
    ds = load_dataset(write_dataset(tmp_path / "evil", small_layers))
    network = dataset_network(ds)
    routes = fastest_routes(Router(network, ds))
    gate_load = pd.DataFrame({"gate_id": ["gate-a"], "trucks_per_day": [100.0],
                              "capacity_trucks_day": [80.0], "wait_h": [2.0]})
    timeline = pd.DataFrame({"date": pd.to_datetime(["2026-01-01", "2026-01-02"]),
                             "gate_id": ["gate-a", "gate-a"], "trucks_waiting": [20, 40]})
    m = build_map(ds, routes=routes, gate_load=gate_load, timeline=timeline,
                  timeline_label=PAYLOAD)
    pg = open_map(browser, save_map(m, tmp_path / "evil.html", offline=True))
    try:
        for path in pg.locator("path.leaflet-interactive").all():
            path.dispatch_event("mouseover")
            path.dispatch_event("click")
        pg.locator(".search-button").first.click()
        pg.locator("input.search-input").press_sequentially("<img")
        pg.wait_for_timeout(300)
        assert pg.evaluate("window.__xss") is None
        assert pg.errors == []
    finally:
        pg.close()
