"""Analysis layers of the map, the static figures and the map command's options."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import write_dataset

from bordergeo import load_dataset
from bordergeo.analysis import analysis_layers, fastest_routes
from bordergeo.cli import main
from bordergeo.errors import BorderGeoError
from bordergeo.maps import build_map, map_html
from bordergeo.overlays import load_colour
from bordergeo.routing import Router, dataset_network
from bordergeo.static import plot_map, save_figure, time_distance_chart


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


@pytest.fixture(scope="module")
def layers(dataset):
    return analysis_layers(dataset, routes=True, corridors=True, scenario="regulation_2026",
                           initial_backlog=4300, days=5)


def test_fastest_routes_end_at_the_quickest_open_gate(dataset):
    router = Router(dataset_network(dataset), dataset)
    routes = fastest_routes(router)
    assert len(routes) == len(dataset.hubs)
    open_road = set(dataset.gates.loc[(dataset.gates["mode"] == "road")
                                      & (dataset.gates["status"] == "open"), "id"])
    matrix = router.matrix(["ha-noi"], sorted(open_road))
    hanoi = next(r for r in routes if r.origin.label == "ha-noi")
    assert hanoi.destination.label in open_road
    assert hanoi.travel_time_min == pytest.approx(matrix["travel_time_min"].min())


def test_analysis_layers_from_a_scenario(layers, dataset):
    assert {"routes", "corridors", "road_load", "gate_load", "timeline", "subtitle",
            "scenario_table"} <= set(layers)
    # regulation_2026 is the export surge (×1.5): 925 import + 562.5 export trucks/day
    assert layers["gate_load"]["trucks_per_day"].sum() == pytest.approx(1487.5)
    timeline = layers["timeline"]
    assert timeline["date"].nunique() == 5
    # the 4,300 trucks waiting at the start are shared out and then shrink
    first = timeline[timeline["date"] == timeline["date"].min()]["trucks_waiting"].sum()
    last = timeline[timeline["date"] == timeline["date"].max()]["trucks_waiting"].sum()
    assert 0 <= last < first < 4300
    assert (layers["corridors"]["trucks_per_day"] > 0).all()


def test_map_html_has_every_layer_and_is_deterministic(layers, dataset):
    page = map_html(build_map(dataset, **layers))
    assert page.count("bordergeo-route") == len(layers["routes"])
    assert page.count("bordergeo-gate-load") == int(
        (layers["gate_load"]["capacity_trucks_day"] > 0).sum())
    assert "bordergeo-corridor" in page and "bordergeo-road-vc" in page
    assert "L.Control.TimeDimension" in page and "L.Control.Search" in page
    assert "Control.FullScreen" in page or "fullscreenControl" in page.lower() \
        or "L.control.fullscreen" in page
    again = map_html(build_map(dataset, **layers))
    assert page == again


def test_load_colours():
    assert load_colour(0.2) == "#2e7d32"
    assert load_colour(0.9) == "#ef6c00"
    assert load_colour(1.3) == "#c62828"
    assert load_colour(float("nan")) == "#9e9e9e"


def test_timeline_and_gate_load_reject_unknown_gates(dataset):
    bad = pd.DataFrame({"date": ["2026-01-01"], "gate_id": ["atlantis"],
                        "trucks_waiting": [10]})
    with pytest.raises(BorderGeoError, match="unknown gate 'atlantis'"):
        build_map(dataset, timeline=bad)
    with pytest.raises(BorderGeoError, match="unknown gate 'atlantis'"):
        build_map(dataset, gate_load=pd.DataFrame({"gate_id": ["atlantis"],
                                                   "trucks_per_day": [1.0],
                                                   "capacity_trucks_day": [2.0]}))


def test_static_map_png(tmp_path, layers, dataset):
    figure = plot_map(dataset, routes=layers["routes"], corridors=layers["corridors"],
                      gate_load=layers["gate_load"], title="test")
    out = save_figure(figure, tmp_path / "map.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000


def test_time_distance_chart_has_the_border_wait_as_a_step(dataset, tmp_path):
    network = dataset_network(dataset)
    route = Router(network, dataset).route("ha noi", "huu nghi")
    figure = time_distance_chart(route, network, border_wait_h=6.5)
    driving, wait = figure.axes[0].get_lines()[:2]
    x, y = driving.get_data()
    assert x[-1] == pytest.approx(route.length_km)
    assert y[-1] == pytest.approx(route.travel_time_s / 3600)
    assert np.all(np.diff(y) >= 0)
    wx, wy = wait.get_data()
    assert wx[0] == wx[1] == pytest.approx(route.length_km)
    assert wy[1] - wy[0] == pytest.approx(6.5)
    save_figure(figure, tmp_path / "tcd.svg")
    assert (tmp_path / "tcd.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    with pytest.raises(BorderGeoError, match="border_wait_h"):
        time_distance_chart(route, network, border_wait_h=-1)


def test_cli_map_with_every_layer_and_png(tmp_path, capsys):
    out, png = tmp_path / "maps" / "x.html", tmp_path / "x.png"
    assert main(["map", "--routes", "--corridors", "--scenario", "smart_gate_phase1",
                 "-o", str(out), "--png", str(png)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and f"wrote {png}" in printed
    assert "bordergeo-route" in out.read_text(encoding="utf-8")
    assert png.stat().st_size > 50_000


def test_cli_map_with_observed_congestion(tmp_path, capsys):
    out = tmp_path / "obs.html"
    assert main(["map", "--congestion", "sample", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "trucks waiting (observed)" in page
    assert len(re.findall(r'"times": \["2021-12-1\d"\]', page)) >= 3


def test_cli_map_bad_observed_file_writes_nothing(tmp_path, capsys):
    observed = tmp_path / "obs.csv"
    observed.write_text("date,gate_id,trucks_waiting\n2021-12-15,atlantis,10\n",
                        encoding="utf-8")
    out = tmp_path / "obs.html"
    assert main(["map", "--congestion", str(observed), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "atlantis" in err[0]
    assert not out.exists()
    assert main(["map", "--routes", "-o", str(out), "--png", str(tmp_path / "x.gif")]) == 1
    assert ".png, .svg or .pdf" in capsys.readouterr().err
    assert not out.exists()


def test_routes_on_a_small_user_dataset(tmp_path):
    ds = load_dataset(write_dataset(tmp_path / "small"))
    layers = analysis_layers(ds, routes=True)
    assert [r.destination.label for r in layers["routes"]] == ["gate-a"]


def test_examples_render_reproducibly(tmp_path):
    from bordergeo.examples import main as examples_main

    assert examples_main([str(tmp_path / "a")]) == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["december-2021.html", "ha-noi-huu-nghi.png", "langson.html",
                     "regulation-2026.html", "regulation-2026.png"]
    examples_main([str(tmp_path / "b")])
    for name in names:
        if name.endswith(".html"):
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_user_provinces_are_outlined_and_checked(tmp_path, dataset, capsys):
    import geopandas as gpd
    from shapely.geometry import Point, box

    areas = gpd.GeoDataFrame({"name_vi": ["Lạng Sơn <b>x</b>"]},
                             geometry=[box(106.0, 21.3, 107.4, 22.5)], crs="EPSG:4326")
    path = tmp_path / "provinces.geojson"
    areas.to_file(path)
    out = tmp_path / "p.html"
    assert main(["map", "--provinces", str(path), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Provinces" in page and "\\u0026lt;b\\u0026gt;x" in page and "<b>x</b>" not in page
    points = gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(106, 21)], crs="EPSG:4326")
    points.to_file(tmp_path / "points.geojson")
    assert main(["map", "--provinces", str(tmp_path / "points.geojson"),
                 "-o", str(tmp_path / "q.html")]) == 1
    assert "must be polygons" in capsys.readouterr().err
    assert not (tmp_path / "q.html").exists()


def test_observed_backlog_beside_the_replayed_model(dataset, tmp_path, capsys):
    layers = analysis_layers(dataset, observed="sample")
    timeline = layers["timeline"]
    assert set(timeline["kind"]) == {"observed", "modelled"}
    model = timeline[timeline["kind"] == "modelled"]
    assert model["date"].min() == pd.Timestamp("2021-12-15")
    assert model["date"].max() == pd.Timestamp("2022-01-24")   # one per day of the replay
    assert len(model) == 41
    page = map_html(build_map(dataset, **layers))
    assert "(modelled)" in page and "bordergeo-timeline-legend" in page
    assert main(["map", "--replay", "x.json", "-o", str(tmp_path / "r.html")]) == 1
    assert "needs the observed series" in capsys.readouterr().err
