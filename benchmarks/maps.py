"""Offline map size and load time: the bundled maps and a 100k-segment road network.

Renders each map as one self-contained offline HTML file, opens it in Debian's Chromium
(Playwright, network blocked) and reports the file size and the time until Leaflet has
drawn every road path. The issue's target: ≤ 15 MB and ≤ 3 s for 100k segments.

    python benchmarks/maps.py                 # bundled + 100k segments
    python benchmarks/maps.py --segments 20000 --rounds 1
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import grid_roads  # noqa: E402

from bordergeo import load_dataset  # noqa: E402
from bordergeo.maps import build_map, save_map  # noqa: E402
from bordergeo.overlays import analysis_layers  # noqa: E402
from bordergeo.schema import validate_layer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def synthetic_dataset(segments: int):
    """Bundled gates, hubs and border with a synthetic grid of ``segments`` road lines."""
    base = load_dataset()
    roads = grid_roads(int(segments * 1.9), seed=1).head(segments).to_crs("EPSG:4326")
    # move the grid under the gates, so that the browser really paints it
    x0, y0, _, _ = roads.total_bounds
    roads = roads.set_geometry(roads.geometry.translate(106.62 - x0, 21.78 - y0))
    roads = roads.assign(ref="", name="", status="open")
    roads = validate_layer(roads, "roads", source="synthetic roads")
    return dataclasses.replace(base, roads=roads, source=f"synthetic {segments}")


def load_seconds(path: Path, expected_paths: int, rounds: int) -> tuple[float, int]:
    """Median seconds from navigation to the map painted, and the SVG paths drawn."""
    from playwright.sync_api import sync_playwright

    times, drawn = [], 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(rounds):
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.route("http*://**/*", lambda route: route.abort())
            start = time.perf_counter()
            page.goto(path.as_uri(), timeout=120_000, wait_until="load")
            # Leaflet adds the layers synchronously while the page loads; two animation
            # frames later they are painted
            page.evaluate("() => new Promise(r => requestAnimationFrame("
                          "() => requestAnimationFrame(r)))")
            times.append(time.perf_counter() - start)
            count = page.evaluate("document.querySelectorAll('path.leaflet-interactive').length")
            if count < expected_paths:
                raise RuntimeError(f"only {count} paths drawn, expected {expected_paths}")
            drawn = count
            page.close()
        browser.close()
    return statistics.median(times), drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bundled = load_dataset()
        cases = [("bundled, base layers", bundled, {}),
                 ("bundled, routes + corridors + scenario", bundled,
                  analysis_layers(bundled, routes=True, corridors=True,
                                  scenario="regulation_2026", initial_backlog=4300)),
                 (f"synthetic {args.segments:,} road segments", synthetic_dataset(args.segments),
                  {})]
        for label, dataset, layers in cases:
            start = time.perf_counter()
            out = save_map(build_map(dataset, **layers), folder / "map.html", offline=True)
            render_s = time.perf_counter() - start
            size_mb = out.stat().st_size / 1e6
            expected = 1 + len(dataset.markers)   # at least the roads, border, markers
            load_s, drawn = load_seconds(out, expected, args.rounds)
            rows.append((label, f"{len(dataset.roads):,}", f"{size_mb:.2f} MB",
                         f"{render_s:.2f} s", f"{load_s:.2f} s", f"{drawn:,}"))
            print(f"{label}: {size_mb:.2f} MB, rendered in {render_s:.2f} s, "
                  f"drawn in Chromium in {load_s:.2f} s", flush=True)
    print()
    print("| map | road lines | offline HTML | Python render + inline | Chromium load "
          "(median) | SVG paths drawn |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\nTarget (100k segments): ≤ 15 MB and ≤ 3 s to load.")


if __name__ == "__main__":
    main()
