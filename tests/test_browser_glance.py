"""Maps at a glance (issue 13), in Chromium with the network blocked and without any click:
names on the map, credits, the language switch, charts in popups and the backlog layers."""

from __future__ import annotations

import pytest
from browser_support import click_pin, launched_browser, open_map, pins_shown, require_chromium

from bordergeo import load_dataset
from bordergeo.analysis import analysis_layers
from bordergeo.maps import build_map, save_map

sync_api = require_chromium()
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser(sync_api)


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


@pytest.fixture(scope="module")
def maps(tmp_path_factory, dataset):
    folder = tmp_path_factory.mktemp("glance")
    layers = analysis_layers(dataset, corridors=True, scenario="regulation_2026",
                             observed="sample")
    out = {}
    for lang in ("en", "vi"):
        out[lang] = save_map(build_map(dataset, lang=lang, **layers),
                             folder / f"analysis-{lang}.html", offline=True)
    out["plain"] = save_map(build_map(dataset), folder / "plain.html", offline=True)
    return out


def _visible_text(page) -> str:
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        '.bordergeo-label, .bordergeo-place-label')).filter(
        n => getComputedStyle(n).visibility !== 'hidden' && n.offsetParent !== null)
        .map(n => n.innerText).join(' | ')""")


def test_names_and_credits_without_a_click(browser, maps):
    page = open_map(browser, maps["plain"])
    page.wait_for_timeout(300)
    body = page.inner_text("body")
    for name in ("Hữu Nghị", "Tân Thanh", "Chi Ma", "Lạng Sơn"):
        assert name in body, name
    assert "Pingxiang" in body or "Bằng Tường" in body
    assert "OpenStreetMap" in page.inner_text(".leaflet-control-attribution")
    assert not page.external and not page.errors


def test_labels_do_not_overlap_and_follow_the_zoom(browser, maps, dataset):
    page = open_map(browser, maps["plain"])
    page.wait_for_timeout(300)

    def overlaps() -> int:
        return page.evaluate("""() => {
            const r = Array.from(document.querySelectorAll('.bordergeo-label'))
              .filter(n => getComputedStyle(n).visibility !== 'hidden')
              .map(n => n.getBoundingClientRect()).filter(b => b.width > 0);
            let n = 0;
            for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++)
              if (r[i].left < r[j].right && r[i].right > r[j].left &&
                  r[i].top < r[j].bottom && r[i].bottom > r[j].top) n++;
            return n; }""")

    assert overlaps() == 0
    shown_low = _visible_text(page)
    page.evaluate("() => { const m = Object.values(window).find(v => v && v._leaflet_id"
                  " && v.setView); m.setView([21.975, 106.71], 14); }")
    page.wait_for_timeout(500)
    assert overlaps() == 0
    shown_high = _visible_text(page)
    # lanes (e.g. the 1119–1120 cargo road) are named only when zoomed in
    lane = dataset.gates.set_index("id").loc["huu-nghi-1119", "name_vi"]
    assert lane not in shown_low and lane in shown_high


#: Centres (page pixels) and sizes of the gates layer's icons: pins alone and group badges.
_GATE_ICONS_JS = """() => [...document.querySelectorAll(
    '.leaflet-marker-pane .awesome-marker:not(.awesome-marker-icon-darkblue),'
    + '.leaflet-pane .bordergeo-pin-group-gates')].map(e => {
      const r = e.getBoundingClientRect();
      return {x: r.left + r.width / 2, y: r.top + r.height / 2,
              n: e.classList.contains('bordergeo-pin-group') ? Number(e.textContent) : 1,
              title: e.title || ''};
    })"""


def _gate_icons(page) -> list[dict]:
    pins_shown(page)  # wait for the zoom and grouping animations to end
    return page.evaluate(_GATE_ICONS_JS)


def test_gates_close_together_are_grouped_and_fan_out(browser, maps, dataset):
    page = open_map(browser, maps["plain"])
    icons = _gate_icons(page)
    # at the opening view every gate is drawn once, alone or in a badge ...
    assert sum(i["n"] for i in icons) == len(dataset.gates)
    biggest = max(icons, key=lambda i: i["n"])
    assert biggest["n"] >= 3 and "Hữu Nghị" in biggest["title"]  # the Đồng Đăng pile
    # ... and no two of the layer's icons stand on each other
    for i, a in enumerate(icons):
        for b in icons[i + 1:]:
            assert abs(a["x"] - b["x"]) + abs(a["y"] - b["y"]) > 12, (a, b)
    # a click on the badge zooms in until its gates stand apart
    zoom = page.evaluate("() => Object.values(window).find(v => v instanceof L.Map).getZoom()")
    page.mouse.click(biggest["x"], biggest["y"])
    after = _gate_icons(page)
    assert page.evaluate("() => Object.values(window).find(v => v instanceof L.Map)"
                         ".getZoom()") > zoom
    assert len(after) > len(icons) and sum(i["n"] for i in after) <= len(dataset.gates)
    assert not page.errors


def test_gates_on_one_point_fan_out_on_click(browser, maps, dataset):
    page = open_map(browser, maps["plain"])
    crossing = dataset.gates.set_index("id").loc["huu-nghi"].geometry
    pins_shown(page)  # the opening fit-to-bounds ended
    page.evaluate(f"""() => Object.values(window).find(v => v instanceof L.Map)
        .setView([{crossing.y}, {crossing.x}], 16, {{animate: false}})""")
    shared = [i for i in _gate_icons(page) if i["n"] == 2 and "Hữu Nghị" in i["title"]]
    assert len(shared) == 1, _gate_icons(page)  # the crossing and its main lane share a point
    before = pins_shown(page)["pins"]
    page.mouse.click(shared[0]["x"], shared[0]["y"])
    page.wait_for_timeout(600)
    assert pins_shown(page)["pins"] == before + 2  # fanned out: both pins on legs
    assert not page.errors


def test_language_switch(browser, maps):
    page = open_map(browser, maps["vi"])
    control = page.inner_text(".leaflet-control-layers")
    assert "Cửa khẩu" in control and "Đường bộ" in control and "Border gates" not in control
    assert "Thanh thời gian" in page.inner_text("#bordergeo-timeline-legend")
    english = open_map(browser, maps["en"])
    assert "Border gates" in english.inner_text(".leaflet-control-layers")


def test_gate_popup_charts_the_backlog_with_dates(browser, maps):
    page = open_map(browser, maps["en"])
    click_pin(page)
    # the popup of a gate with a series has an SVG chart with its first and last date
    charts = page.evaluate("""() => Array.from(document.querySelectorAll(
        '#bordergeo-timeline-legend svg.bordergeo-chart')).map(s => s.textContent)""")
    assert charts and "2021-12-15" in charts[0]
    html = page.content()
    assert "bordergeo-chart" in html


def test_observed_and_modelled_backlogs_switch_off_apart(browser, maps):
    page = open_map(browser, maps["en"])
    page.wait_for_selector(".bordergeo-backlog-observed", state="attached")

    def shown(kind: str) -> int:
        return page.evaluate(f"""() => Array.from(document.querySelectorAll(
            '.bordergeo-backlog-{kind}')).filter(
            n => getComputedStyle(n).display !== 'none').length""")

    assert shown("observed") > 0 and shown("modelled") > 0
    boxes = page.locator("#bordergeo-timeline-legend input[type=checkbox]")
    boxes.nth(0).uncheck()
    assert shown("observed") == 0 and shown("modelled") > 0
    boxes.nth(0).check()
    boxes.nth(1).uncheck()
    assert shown("observed") > 0 and shown("modelled") == 0


def test_scale_in_kilometres_only_and_title_clear_of_search(browser, maps):
    page = open_map(browser, maps["en"])
    scale = page.inner_text(".leaflet-control-scale")
    assert "km" in scale or " m" in scale
    assert "mi" not in scale and "ft" not in scale
    title = page.locator("#bordergeo-title").bounding_box()
    search = page.locator(".leaflet-control-search").bounding_box()
    assert search["x"] + search["width"] < title["x"] or \
        search["y"] > title["y"] + title["height"]
    assert "fps" not in page.inner_text("body")
    assert "scenario" in page.content() and "bordergeo-scenario-chart" in page.content()
