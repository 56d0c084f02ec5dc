"""Maps at a glance (issue 13), in Chromium with the network blocked and without any click:
names on the map, credits, the language switch, charts in popups and the backlog layers."""

from __future__ import annotations

import pytest
from browser_support import launched_browser, open_map, require_chromium

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


def test_language_switch(browser, maps):
    page = open_map(browser, maps["vi"])
    control = page.inner_text(".leaflet-control-layers")
    assert "Cửa khẩu" in control and "Đường bộ" in control and "Border gates" not in control
    assert "Thanh thời gian" in page.inner_text("#bordergeo-timeline-legend")
    english = open_map(browser, maps["en"])
    assert "Border gates" in english.inner_text(".leaflet-control-layers")


def test_gate_popup_charts_the_backlog_with_dates(browser, maps):
    page = open_map(browser, maps["en"])
    page.locator(".leaflet-marker-pane .awesome-marker").first.click(force=True)
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
