"""Offline map size and time to first paint: the bundled maps and synthetic road networks.

Renders each map as one self-contained offline HTML file, opens it in Debian's Chromium
(Playwright, network blocked) and reports the file size and the time from navigation until
the road layer has drawn and the page has painted (``performance.now()`` two animation
frames after the canvas layer's first draw; for the old SVG layer, after the load event).
Median of ``--rounds`` page loads.

The synthetic roads are the grid of ``synthetic.py`` with the attributes of a real layer
(``named_roads``: distinct section names such as "Đường tỉnh 123 – đoạn 45", refs such as
"ĐT123", four classes, lanes, speeds, some roads under construction). The same data is also
drawn the old way, one ``folium.GeoJson`` (one SVG path and one feature per line), for a
like-for-like comparison. The issue's target: ≤ 15 MB and ≤ 3 s for 100k segments.

    python benchmarks/maps.py                          # bundled, 100k (both ways), 1M
    python benchmarks/maps.py --segments 20000 --rounds 1 --no-geojson
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import folium  # noqa: E402
import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from synthetic import grid_roads, named_roads  # noqa: E402

from bordergeo import load_dataset, maps  # noqa: E402
from bordergeo.maps import ROAD_STYLES, build_map, save_map  # noqa: E402
from bordergeo.markup import (  # noqa: E402
    escape_text,
    escaped_frame,
    feature_group,
    geojson_tooltip,
)
from bordergeo.overlays import analysis_layers  # noqa: E402
from bordergeo.schema import validate_layer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
CANVAS = "canvas.bordergeo-lines"


def synthetic_dataset(segments: int):
    """Bundled gates, hubs and border with ``segments`` named synthetic road lines."""
    base = load_dataset()
    roads = named_roads(grid_roads(int(segments * 1.9), seed=1).head(segments), seed=1)
    roads = roads.to_crs("EPSG:4326")
    # move the grid under the gates, so that the browser really paints it
    x0, y0, _, _ = roads.total_bounds
    roads = roads.set_geometry(roads.geometry.translate(106.62 - x0, 21.78 - y0))
    roads = validate_layer(roads, "roads", source="synthetic roads")
    return dataclasses.replace(base, roads=roads, source=f"synthetic {segments}")


def geojson_roads(m: folium.Map, roads: gpd.GeoDataFrame, *, name: str = "Roads",
                  **_options: object) -> folium.FeatureGroup:
    """The old ``add_roads``: one folium.GeoJson, one SVG path per line.

    Its merging of lines with equal attributes is left out: with distinct names no two
    lines merge.
    """
    group = feature_group(name, show=True)
    fields = ["ref", "name", "class", "lanes", "maxspeed_kph", "status"]
    frame = escaped_frame(roads, fields)
    rounded = shapely.transform(frame.geometry.to_numpy(), lambda xy: np.round(xy, 5))
    frame = frame.set_geometry(gpd.GeoSeries(rounded, index=frame.index, crs=frame.crs))
    styles = {escape_text(c): s for c, s in ROAD_STYLES.items()}

    def style(feature: dict) -> dict:
        props = feature["properties"]
        colour, weight = styles.get(props["class"], ("#555", 2))
        dash = None if props["status"] == "open" else "6 6"
        return {"color": colour, "weight": weight, "dashArray": dash, "opacity": 0.85}

    folium.GeoJson(
        frame.to_geo_dict(show_bbox=False, drop_id=False), name=name, style_function=style,
        tooltip=geojson_tooltip(fields, aliases=["Road", "Name", "Class", "Lanes",
                                                 "Max speed (km/h)", "Status"]),
    ).add_to(group)
    group.add_to(m)
    return group


@contextlib.contextmanager
def old_roads() -> Iterator[None]:
    """Let build_map draw roads the old way while inside."""
    new = maps.add_roads
    maps.add_roads = geojson_roads
    try:
        yield
    finally:
        maps.add_roads = new


def first_paint(path: Path, *, canvas: bool, rounds: int) -> dict[str, float]:
    """Median milliseconds from navigation to the roads painted; the canvas draw figures."""
    from playwright.sync_api import sync_playwright

    ready = (f"() => document.querySelector('{CANVAS}')?.dataset.drawn !== undefined"
             if canvas else "() => document.readyState === 'complete'")
    paint, draw, drawn, heap = [], [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(rounds):
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.route("http*://**/*", lambda route: route.abort())
            page.goto(path.as_uri(), timeout=300_000, wait_until="commit")
            page.wait_for_function(ready, timeout=300_000, polling="raf")
            paint.append(page.evaluate("() => new Promise(r => requestAnimationFrame("
                                       "() => requestAnimationFrame(() => r(performance.now()))))"))
            if canvas:
                data = page.evaluate(f"Object.assign({{}}, document.querySelector('{CANVAS}')"
                                     ".dataset)")
                draw.append(float(data["drawMs"]))
                drawn.append(int(data["drawn"]))
            else:
                drawn.append(page.evaluate(
                    "document.querySelectorAll('path.leaflet-interactive').length"))
            heap.append(page.evaluate("performance.memory ? performance.memory.usedJSHeapSize"
                                      " : 0") / 1e6)
            if errors:
                raise RuntimeError(f"{path.name}: {errors[0]}")
            page.close()
        browser.close()
    return {"paint_ms": statistics.median(paint),
            "draw_ms": statistics.median(draw) if draw else float("nan"),
            "drawn": max(drawn), "heap_mb": statistics.median(heap)}


def redraws(path: Path) -> dict[str, float]:
    """Milliseconds until the page has painted again after a pan and after zooming in.

    Median of 5 pans (300 px) and of zooming in 1, 2 and 3 levels from the first view;
    the canvas draw and Chrome's raster of it included.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.route("http*://**/*", lambda route: route.abort())
        page.goto(path.as_uri(), timeout=300_000, wait_until="commit")
        page.wait_for_function(f"() => document.querySelector('{CANVAS}')?.dataset.drawn",
                               timeout=300_000)
        times = page.evaluate(f"""async () => {{
            const map = Object.values(window).find(v => v instanceof L.Map);
            const c = document.querySelector('{CANVAS}');
            const frame = () => new Promise(r => requestAnimationFrame(r));
            async function timed(move) {{
                const before = c.dataset.draws, t = performance.now();
                move();
                while (c.dataset.draws === before) {{ await frame(); }}
                await frame(); await frame();
                return performance.now() - t;
            }}
            const median = xs => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
            const pans = [], zooms = [], centre = map.getCenter(), zoom = map.getZoom();
            for (let i = 0; i < 5; i++) {{
                pans.push(await timed(() => map.panBy([i % 2 ? -300 : 300, 0],
                                                      {{animate: false}})));
            }}
            for (const dz of [1, 2, 3]) {{
                zooms.push(await timed(() => map.setView(centre, zoom + dz, {{animate: false}})));
            }}
            return {{pan: median(pans), zoom: median(zooms)}};
        }}""")
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="synthetic network sizes (default: 100000 1000000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--geojson-rounds", type=int, default=1,
                        help="page loads of the old GeoJSON layer (slow: minutes at 100k)")
    parser.add_argument("--no-geojson", action="store_true",
                        help="skip the old GeoJSON/SVG layer")
    args = parser.parse_args()
    bundled = load_dataset()
    old = not args.no_geojson
    cases = [("bundled, base layers", lambda: bundled, {}, False)]
    if old:
        cases.append(("bundled, base layers, old GeoJSON (SVG)", lambda: bundled, {}, True))
    cases.append(("bundled, routes + corridors + scenario", lambda: bundled,
                  analysis_layers(bundled, routes=True, corridors=True,
                                  scenario="regulation_2026", initial_backlog=4300), False))
    for i, n in enumerate(sorted(args.segments)):
        cases.append((f"synthetic {n:,} named segments", lambda n=n: synthetic_dataset(n),
                      {}, False))
        if i == 0 and old:
            cases.append((f"synthetic {n:,} named segments, old GeoJSON (SVG)",
                          lambda n=n: synthetic_dataset(n), {}, True))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, dataset_of, layers, geojson in cases:
            dataset = dataset_of()
            start = time.perf_counter()
            with old_roads() if geojson else contextlib.nullcontext():
                out = save_map(build_map(dataset, **layers), Path(tmp) / "map.html",
                               offline=True)
            render_s = time.perf_counter() - start
            size_mb = out.stat().st_size / 1e6
            result = first_paint(out, canvas=not geojson,
                                 rounds=args.geojson_rounds if geojson else args.rounds)
            again = {"pan": float("nan"), "zoom": float("nan")} if geojson else redraws(out)
            rows.append((label, f"{len(dataset.roads):,}", f"{size_mb:.2f} MB",
                         f"{render_s:.1f} s", f"{result['paint_ms'] / 1000:.2f} s",
                         "–" if geojson else f"{again['pan'] / 1000:.2f} s",
                         "–" if geojson else f"{again['zoom'] / 1000:.2f} s",
                         f"{result['heap_mb']:.0f} MB"))
            print(f"{label}: {size_mb:.2f} MB, rendered in {render_s:.1f} s, painted in "
                  f"{result['paint_ms'] / 1000:.2f} s (canvas draw {result['draw_ms']:.0f} ms, "
                  f"{result['drawn']:,} lines/paths drawn, JS heap {result['heap_mb']:.0f} MB; "
                  f"painted again after a pan {again['pan']:.0f} ms, after zooming in "
                  f"{again['zoom']:.0f} ms)", flush=True)
    print()
    print("| map | road lines | offline HTML | Python render + inline | first paint in Chromium "
          "(median) | repaint after a pan | repaint after zooming in | JS heap |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\nTarget (100k named segments): ≤ 15 MB and ≤ 3 s to first paint.")


if __name__ == "__main__":
    main()
