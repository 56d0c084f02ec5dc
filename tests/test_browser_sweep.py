"""The sweep's exceedance layer (issue 15) in Chromium, with the network blocked: circles
coloured by the chance of a long queue, their popups, the legend and escaped names."""

from __future__ import annotations

import pandas as pd
import pytest
from browser_support import launched_browser, open_map, pins_shown, require_chromium

from bordergeo import load_dataset
from bordergeo.maps import build_map, save_map
from bordergeo.overlays import EXCEEDANCE_CLASSES, add_exceedance

sync_api = require_chromium()
pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)>Cốc Nam"
#: A season_exceedance table (by crossing) as bordergeo.sweepsummary computes it.
TABLE = pd.DataFrame({
    "crossing_id": ["huu-nghi"] * 4 + ["chi-ma"] * 2 + ["coc-nam"] * 2,
    "direction": ["export", "export", "import", "import", "export", "export", "import",
                  "import"],
    "threshold": [300.0, 600.0] * 4,
    "probability": [0.9, 0.5, 0.4, 0.1, 0.1, 0.0, 0.5, 0.2],
    "runs_exceeding": [9, 5, 4, 1, 1, 0, 5, 2],
    "runs": 10})


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser(sync_api)


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


@pytest.fixture(scope="module")
def saved(tmp_path_factory, dataset):
    gates = dataset.gates.copy()
    gates.loc[gates["id"] == "coc-nam", "name_vi"] = HOSTILE
    m = build_map(dataset)
    add_exceedance(m, gates, TABLE, name="Chance of a long queue", lang="en")
    return save_map(m, tmp_path_factory.mktemp("sweep-map") / "exceedance.html",
                    offline=True)


def _circles(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll(
        'path.bordergeo-exceedance')].map(p => {
          const r = p.getBoundingClientRect();
          return {fill: p.getAttribute('fill'), x: r.left + r.width / 2,
                  y: r.top + r.height / 2, size: r.width};
        })""")


def _focus(page, dataset, gate_id: str) -> dict:
    """Centre the map on a crossing, zoomed in, and return its circle."""
    point = dataset.gates.set_index("id").geometry[gate_id]
    page.evaluate(f"""() => Object.values(window).find(v => v instanceof L.Map)
        .setView([{point.y}, {point.x}], 15, {{animate: false}})""")
    pins_shown(page)
    centre = page.evaluate("() => [window.innerWidth / 2, window.innerHeight / 2]")
    return min(_circles(page), key=lambda c: abs(c["x"] - centre[0]) + abs(c["y"] - centre[1]))


def _open_popup(page, circle: dict) -> str:
    hit = page.evaluate(f"() => document.elementFromPoint({circle['x']}, {circle['y']})"
                        ".classList.contains('bordergeo-exceedance')")
    assert hit, "something covers the circle"
    page.mouse.click(circle["x"], circle["y"])
    page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    return page.inner_text(".leaflet-popup-content")


def test_circles_legend_and_layer_control(browser, saved):
    page = open_map(browser, saved)
    circles = _circles(page)
    colours = {c for _, c, _ in EXCEEDANCE_CLASSES}
    assert len(circles) == 3 and {c["fill"] for c in circles} <= colours
    # worse direction at 300 trucks: Hữu Nghị 90 % (red), Cốc Nam 50 %, Chi Ma 10 % (green)
    assert sorted(c["fill"] for c in circles) == sorted(
        [EXCEEDANCE_CLASSES[-1][1], EXCEEDANCE_CLASSES[2][1], EXCEEDANCE_CLASSES[0][1]])
    biggest = max(circles, key=lambda c: c["size"])
    assert biggest["fill"] == EXCEEDANCE_CLASSES[-1][1]
    legend = page.inner_text("#bordergeo-exceedance-legend")
    assert "passes 300 trucks" in legend and "> 80 %" in legend and "10 runs" in legend
    control = page.locator(".leaflet-control-layers label", has_text="Chance of a long queue")
    assert control.count() == 1
    control.click()  # the layer control hides and shows the circles
    assert not _circles(page)
    control.click()
    assert len(_circles(page)) == 3
    assert not page.errors and not page.external


def test_popup_lists_each_direction_and_threshold(browser, saved, dataset):
    page = open_map(browser, saved)
    for layer in ("Border gates", "Names of gates and hubs"):  # pins sit on the circles
        page.locator(".leaflet-control-layers label", has_text=layer).click()
    text = _open_popup(page, _focus(page, dataset, "huu-nghi"))
    assert "Hữu Nghị" in text
    for line in ("export > 300 trucks\t90 %\t9 of 10 runs",
                 "export > 600 trucks\t50 %\t5 of 10 runs",
                 "import > 300 trucks\t40 %\t4 of 10 runs",
                 "import > 600 trucks\t10 %\t1 of 10 runs"):
        assert line in text, text
    assert not page.errors and not page.external


def test_names_from_data_stay_text(browser, saved, dataset):
    page = open_map(browser, saved, dialogs=True)
    for layer in ("Border gates", "Names of gates and hubs"):
        page.locator(".leaflet-control-layers label", has_text=layer).click()
    text = _open_popup(page, _focus(page, dataset, "coc-nam"))
    assert HOSTILE in text  # shown as typed, not run
    assert page.locator(".leaflet-popup-content img").count() == 0
    page.wait_for_timeout(300)
    assert not page.dialogs and not page.errors and not page.external
