"""What the browser tests share: Debian's Chromium driven by Playwright, network blocked.

Outside CI a missing browser skips the calling test module; in CI (``CI=true``) it fails,
since ``.ci/run`` installs Chromium.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("BORDERGEO_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-quic", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def require_chromium():  # -> the playwright.sync_api module
    """Skip the calling module (fail in CI) without Chromium; return Playwright's sync API."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"CI needs Debian's chromium at {CHROMIUM} (.ci/run installs it)")
        pytest.skip(f"no Chromium at {CHROMIUM}; apt-get install chromium to run browser "
                    f"tests", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api")


def launched_browser(sync_api):
    """Yield a headless Chromium for a module-scoped fixture; closed afterwards."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_map(browser, path: Path, *, dialogs: bool = False):
    """Open a saved map with every request to the network aborted; wait for Leaflet.

    The page records console and page errors (``page.errors``), attempted requests
    (``page.external``) and, with ``dialogs``, every dialog (``page.dialogs``, dismissed).
    """
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.set_default_timeout(10000)
    page.errors, page.external, page.dialogs = [], [], []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: r.url.startswith("http") and page.external.append(r.url))
    if dialogs:
        page.on("dialog", lambda d: (page.dialogs.append(f"{d.type}: {d.message}"),
                                     d.dismiss()))
    page.route("http*://**/*", lambda route: route.abort())  # never touch the network
    page.goto(path.as_uri())
    page.wait_for_function("typeof L !== 'undefined' && "
                           "document.querySelectorAll('.leaflet-interactive').length > 0",
                           timeout=15000)
    return page


#: Pins drawn one by one, and pins held by the group badges (the legend's sample aside).
PINS_JS = """() => {
  const badges = [...document.querySelectorAll('.leaflet-pane .bordergeo-pin-group')];
  return {pins: document.querySelectorAll('.leaflet-marker-pane .awesome-marker').length,
          badges: badges.length,
          grouped: badges.reduce((n, b) => n + Number(b.textContent), 0)};
}"""


def pins_shown(page_or_frame, *, settle_ms: int = 400, tries: int = 10) -> dict:
    """Count pins (gates and hubs) drawn alone and held by group badges.

    While a zoom animates, the groups of both zooms are in the page: the count is read
    until two readings ``settle_ms`` apart agree.
    """
    last = page_or_frame.evaluate(PINS_JS)
    for _ in range(tries):
        page_or_frame.wait_for_timeout(settle_ms)
        now = page_or_frame.evaluate(PINS_JS)
        if now == last and not page_or_frame.locator(".leaflet-cluster-anim").count():
            return now
        last = now
    return last


def click_pin(page, pin: str = ".awesome-marker:not(.awesome-marker-icon-darkblue)", *,
              badge: str = ".bordergeo-pin-group-gates", tries: int = 6) -> None:
    """Click a pin in view as a user would: click its group badge until it stands alone.

    ``pin`` (a gate by default) and ``badge`` are CSS selectors within the marker pane and
    the badge pane.
    """
    viewport = page.viewport_size

    def in_view(locator):
        for element in locator.all():
            box = element.bounding_box()
            if box and 0 <= box["x"] < viewport["width"] and 0 <= box["y"] < viewport["height"]:
                return element
        return None

    for _ in range(tries):
        pins_shown(page)  # animations ended
        alone = in_view(page.locator(f".leaflet-marker-pane {pin}"))
        if alone is not None:
            alone.click(force=True)
            return
        group = in_view(page.locator(f".leaflet-pane {badge}"))
        if group is None:
            break
        group.click()
    raise AssertionError(f"no pin {pin} in view after clicks on badges {badge}")
