"""The notebooks: kept in git without outputs, and their maps and figures show offline.

pytest --nbmake executes the notebooks themselves; the tests here check the inline display
(``OfflineMap._repr_html_``, ``bordergeo.notebook.show``, the figures' ``_repr_png_``), in
process, in a Jupyter kernel whose sockets refuse to connect, and in Chromium with every
request aborted.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import folium
import pytest
from branca.element import JavascriptLink

from bordergeo import AssetsMissingError, BorderGeoError, load_dataset, offline
from bordergeo.maps import build_map, map_html, save_map
from bordergeo.notebook import DEFAULT_HEIGHT, OfflineMap, iframe_html, offline_page, show

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
#: A script, stylesheet, image or frame that the browser would fetch from the network.
EXTERNAL = re.compile(r"<(?:script|link|img|iframe|source|embed)\b[^>]*\s(?:src|href)\s*=\s*"
                      r"[\"']?(?:(?:https?:)?//)", re.IGNORECASE)
PNG = b"\x89PNG\r\n\x1a\n"


def test_the_four_journeys_are_there():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    book = json.loads(path.read_text(encoding="utf-8"))
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


# --- the inline map ------------------------------------------------------------------


class _Frames(HTMLParser):
    """Collect the iframes of some markup and every other src/href attribute."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.frames: list[dict[str, str | None]] = []
        self.fetched: list[str | None] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.frames.append(dict(attrs))
        self.fetched += [value for name, value in attrs if name in ("src", "href")]


def _srcdoc(markup: str) -> str:
    parsed = _Frames(markup)
    assert len(parsed.frames) == 1 and parsed.fetched == []  # nothing outside the frame
    page = parsed.frames[0]["srcdoc"]
    assert page
    return page


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


@pytest.fixture(scope="module")
def inline_markup(dataset) -> str:
    return build_map(dataset)._repr_html_()


def test_inline_map_fetches_nothing_and_carries_leaflet(inline_markup) -> None:
    page = _srcdoc(inline_markup)
    assert not EXTERNAL.search(page)
    assert "/* leaflet/dist/leaflet.js */" in page and "/* leaflet/dist/leaflet.css */" in page
    assert "L.map(" in page and "bordergeo-legend" in page
    assert "data:font/woff2;base64," in page  # Font Awesome for the gate icons
    assert f"height:{DEFAULT_HEIGHT}px" in inline_markup
    assert "allowfullscreen" in inline_markup  # the full-screen button works in the frame


def test_page_is_escaped_into_the_attribute(inline_markup) -> None:
    start = inline_markup.index('srcdoc="') + len('srcdoc="')
    attribute = inline_markup[start:inline_markup.index('" style=', start)]
    assert '"' not in attribute and "<" not in attribute
    assert "&quot;" in attribute and "&lt;script" in attribute


def test_display_is_the_offline_page_and_leaves_the_map_alone(dataset) -> None:
    m = build_map(dataset)
    first = m._repr_html_()
    assert m._repr_html_() == first  # displayed twice: the same markup
    assert _srcdoc(first) == offline_page(m) == map_html(m, offline=True)
    assert map_html(build_map(dataset), offline=True) == _srcdoc(first)


def test_display_after_save_map_is_the_saved_page(dataset, tmp_path) -> None:
    m = build_map(dataset)
    saved = save_map(m, tmp_path / "langson.html", offline=True).read_text(encoding="utf-8")
    assert _srcdoc(m._repr_html_()) == saved


def test_build_map_makes_an_offline_map(dataset) -> None:
    assert isinstance(build_map(dataset), OfflineMap)


def test_offline_map_is_a_folium_map_outside_a_notebook() -> None:
    pages = []
    for cls in (folium.Map, OfflineMap):
        m = cls(tiles=None, maxZoom=18, location=[21.9, 106.7], zoom_start=9)
        folium.Marker([21.97, 106.71], icon=folium.Icon(icon="truck", prefix="fa")).add_to(m)
        pages.append(map_html(m, offline=True))
    assert pages[0] == pages[1]


def test_show_any_folium_map() -> None:
    m = folium.Map(tiles=None, location=[21.97, 106.71], zoom_start=10)
    folium.Marker([21.97, 106.71], icon=folium.Icon(icon="truck", prefix="fa")).add_to(m)
    shown = show(m, height=420)
    assert shown.data == iframe_html(m, height=420)
    page = _srcdoc(shown.data)
    assert "height:420px" in shown.data and not EXTERNAL.search(page)
    assert "L.marker(" in page


@pytest.mark.parametrize("height", [0, -5, 1.5, "600px", True, None])
def test_height_must_be_pixels(height) -> None:
    with pytest.raises(BorderGeoError, match="height must be a positive whole number"):
        iframe_html(folium.Map(tiles=None), height=height)


def test_plugin_without_an_offline_copy_is_an_error() -> None:
    m = OfflineMap(tiles=None)
    m.get_root().header.add_child(JavascriptLink("https://cdn.example.org/new-plugin.js"))
    with pytest.raises(BorderGeoError, match=r"no offline copy for https://cdn\.example\.org"):
        m._repr_html_()


def test_missing_assets_fall_back_to_folium_with_a_warning(monkeypatch, caplog) -> None:
    def missing() -> Path:
        raise AssetsMissingError("offline assets are not built into this installation")

    monkeypatch.setattr(offline, "vendor_dir", missing)
    with caplog.at_level("WARNING", logger="bordergeo.notebook"):
        markup = OfflineMap(tiles=None)._repr_html_()
    assert "needs the internet" in caplog.text
    assert EXTERNAL.search(_srcdoc(markup))  # folium's page, as before


# --- the figures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def figures(dataset):
    from bordergeo.routing import Router, dataset_network
    from bordergeo.static import plot_map, time_distance_chart

    network = dataset_network(dataset)
    route = Router(network, dataset).route("Hà Nội", "Hữu Nghị")
    return {"chart": time_distance_chart(route, network, border_wait_h=3.0),
            "map": plot_map(dataset)}


@pytest.mark.parametrize("name", ["chart", "map"])
def test_figures_display_as_png_without_pyplot(figures, name) -> None:
    from IPython.core.formatters import DisplayFormatter
    from matplotlib._pylab_helpers import Gcf

    fig = figures[name]
    open_figures = Gcf.get_num_fig_managers()
    png = fig._repr_png_()
    assert png.startswith(PNG) and len(png) > 10_000
    assert fig._repr_png_() == png  # no date, no software: the same bytes
    # IPython's own formatter (no inline backend registered here) picks the image
    data, _ = DisplayFormatter().format(fig)
    assert data["image/png"].startswith(PNG)
    assert Gcf.get_num_fig_managers() == open_figures  # nothing registered with pyplot


# --- a Jupyter kernel whose sockets refuse to connect --------------------------------

_KERNEL_CELLS = [
    # every socket of the kernel's Python refuses to connect and records the attempt
    # (the kernel talks to Jupyter through libzmq, which does not use Python's sockets)
    """\
import socket

attempts = []

def _refuse(self, address, *args, **kwargs):
    attempts.append(repr(address))
    raise OSError("network blocked by the test")

def _no_lookup(host, *args, **kwargs):
    attempts.append(f"lookup {host}")
    raise socket.gaierror("network blocked by the test")

socket.socket.connect = socket.socket.connect_ex = _refuse
socket.getaddrinfo = _no_lookup
try:
    socket.create_connection(("192.0.2.1", 80), timeout=1)
except OSError:
    pass
assert attempts, "the block did not take"
attempts.clear()
""",
    "import bordergeo\n\nds = bordergeo.load_dataset()",
    "bordergeo.build_map(ds)",  # the map as the last expression of a cell
    """\
import sys

from bordergeo.static import time_distance_chart

network = bordergeo.dataset_network(ds)
route = bordergeo.Router(network, ds).route("Hà Nội", "Hữu Nghị")
print("pyplot imported:", "matplotlib.pyplot" in sys.modules)
time_distance_chart(route, network, border_wait_h=3.0)
""",
    "print('attempts:', attempts)",
]


@pytest.fixture(scope="module")
def kernel_outputs(tmp_path_factory) -> list[list[dict]]:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(code) for code in _KERNEL_CELLS]
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    cwd = tmp_path_factory.mktemp("kernel")
    nbclient.NotebookClient(book, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}}).execute()
    return [cell["outputs"] for cell in book.cells]


def _rich(outputs: list[dict], mime: str) -> list:
    return [o["data"][mime] for o in outputs
            if o["output_type"] in ("execute_result", "display_data") and mime in o["data"]]


def test_kernel_with_sockets_blocked_shows_the_map_and_the_figure(kernel_outputs) -> None:
    [markup] = _rich(kernel_outputs[2], "text/html")
    page = _srcdoc(markup)
    assert not EXTERNAL.search(page) and "/* leaflet/dist/leaflet.js */" in page
    [png] = _rich(kernel_outputs[3], "image/png")  # base64 in the notebook
    assert png.startswith("iVBORw0KGgo")
    assert "attempts: []" in "".join(o.get("text", "") for o in kernel_outputs[4])


# --- in Chromium, every request aborted ----------------------------------------------


@pytest.fixture(scope="module")
def browser():
    from browser_support import launched_browser, require_chromium

    yield from launched_browser(require_chromium())


def _open_output(browser, markup: str, folder: Path):
    """Open a cell output as a notebook would show it, aborting every request but the page."""
    path = folder / "cell-output.html"
    path.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>output</title>"
                    f"</head><body><div class='output_html'>{markup}</div></body></html>",
                    encoding="utf-8")
    own = path.as_uri()
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.set_default_timeout(15000)
    page.errors, page.requested = [], []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: r.url != own and not r.url.startswith(("data:", "about:"))
            and page.requested.append(r.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url == own
               else route.abort())
    page.goto(own)
    [frame] = page.main_frame.child_frames
    frame.wait_for_function("typeof L !== 'undefined' && "
                            "document.querySelectorAll('.leaflet-interactive').length > 0")
    return page, frame


def _drawn(frame) -> dict:
    frame.evaluate("document.fonts.ready")
    return frame.evaluate("""() => ({
        containers: document.querySelectorAll('.leaflet-container').length,
        markers: document.querySelectorAll('.leaflet-marker-pane .awesome-marker').length
                 + [...document.querySelectorAll('.leaflet-pane .bordergeo-pin-group')]
                   .reduce((n, b) => n + Number(b.textContent), 0),
        paths: document.querySelectorAll('path.leaflet-interactive').length,
        legend: document.querySelectorAll('#bordergeo-legend').length,
        fontAwesome: [...document.fonts].some(f => f.family.includes('Font Awesome')
                                              && f.status === 'loaded'),
    })""")


def _check_drawn(page, frame, dataset) -> None:
    drawn = _drawn(frame)
    assert drawn["containers"] == 1 and drawn["legend"] == 1
    # the gates and hubs as icons, alone or in group badges
    assert drawn["markers"] == len(dataset.gates) + len(dataset.hubs)
    assert drawn["paths"] > 0  # the border and the roads as SVG
    assert drawn["fontAwesome"]
    box = page.locator("iframe").bounding_box()
    assert box["height"] == DEFAULT_HEIGHT and box["width"] > 1000
    assert page.errors == [] and page.requested == []


@pytest.mark.browser
def test_inline_map_draws_in_chromium_with_the_network_blocked(browser, inline_markup,
                                                               dataset, tmp_path) -> None:
    page, frame = _open_output(browser, inline_markup, tmp_path)
    try:
        _check_drawn(page, frame, dataset)
    finally:
        page.close()


@pytest.mark.browser
def test_kernel_output_draws_in_chromium_with_the_network_blocked(browser, kernel_outputs,
                                                                  dataset, tmp_path) -> None:
    [markup] = _rich(kernel_outputs[2], "text/html")
    page, frame = _open_output(browser, markup, tmp_path)
    try:
        _check_drawn(page, frame, dataset)
    finally:
        page.close()
