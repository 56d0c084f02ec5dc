"""Map composition, escaping and determinism (no browser needed)."""

from __future__ import annotations

import re

import pytest
from conftest import write_dataset

from bordergeo import BorderGeoError, load_dataset
from bordergeo.maps import build_map, map_html, safe_text, save_map
from bordergeo.markup import escape_text

PAYLOAD = "<img src=x onerror=alert(1)>"


def test_safe_text_escapes_html_and_template_literals() -> None:
    assert safe_text is escape_text  # one escaping function, under its older name too
    assert safe_text(PAYLOAD) == "&lt;img src=x onerror=alert(1)&gt;"
    assert safe_text("`${alert(1)}`") == "&#96;&#36;&#123;alert(1)&#125;&#96;"
    assert safe_text("\\u003c") == "&#92;u003c"
    assert safe_text(None) == "" and safe_text(float("nan")) == ""


def test_injection_in_every_text_field_is_escaped(tmp_path, small_layers) -> None:
    for layer in ("gates", "hubs", "roads", "markers"):
        for feature in small_layers[layer]["features"]:
            props = feature["properties"]
            for key in ("name_vi", "name_en", "name_zh", "ref", "name", "note", "status_note",
                        "coord_source"):
                props[key] = PAYLOAD + "`${alert(2)}`"
    ds = load_dataset(write_dataset(tmp_path / "evil", small_layers))
    page = map_html(build_map(ds))
    assert "<img src=x" not in page
    assert "${alert(2)}" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_js_escapes_typed_in_data_stay_text(tmp_path, small_layers) -> None:
    # a literal \u003c in a template literal would decode to "<"
    escaped = "\\u003cimg src=x onerror=alert(1)\\u003e"
    for layer in ("gates", "hubs", "markers"):
        for feature in small_layers[layer]["features"]:
            feature["properties"]["coord_source"] = escaped
            if layer != "markers":
                feature["properties"]["name_vi"] = escaped
    small_layers["roads"]["features"][0]["properties"]["ref"] = escaped
    ds = load_dataset(write_dataset(tmp_path / "evil", small_layers))
    page = map_html(build_map(ds))
    assert "\\u003cimg" not in page and "\\\\u003cimg" not in page
    assert "&#92;u003cimg src=x onerror=alert(1)&#92;u003e" in page


def test_title_is_never_a_jinja_template(small_dataset_dir) -> None:
    page = map_html(build_map(load_dataset(small_dataset_dir), title="{{ 7*7 }} {% if 1 %}x"))
    assert "&#123;&#123; 7*7 &#125;&#125; &#123;% if 1 %&#125;x" in page
    assert ">49 " not in page


def test_layers_and_no_tiles_by_default(small_dataset_dir) -> None:
    page = map_html(build_map(load_dataset(small_dataset_dir)))
    assert "L.tileLayer" not in page  # no basemap, nothing requested online
    for name in ("Border gates", "Inland hubs", "Roads", "Border markers", "No basemap"):
        assert name in page
    assert "bordergeo-legend" in page
    plain = map_html(build_map(load_dataset(small_dataset_dir), labels=False))
    assert plain.count("L.marker(") == 3  # 2 gates + 1 hub
    # one name per gate and hub (and one number per road ref) with its zoom rule
    assert page.count("data-minzoom") == 3 + page.count("bordergeo-label road")


def test_online_basemap_is_opt_in(small_dataset_dir) -> None:
    page = map_html(build_map(load_dataset(small_dataset_dir), basemap="osm"))
    assert "L.tileLayer" in page and "OpenStreetMap (online)" in page
    with pytest.raises(BorderGeoError, match="unknown basemap 'google'"):
        build_map(load_dataset(small_dataset_dir), basemap="google")


def test_deterministic_output(tmp_path, small_dataset_dir) -> None:
    ds = load_dataset(small_dataset_dir)
    a = save_map(build_map(ds), tmp_path / "a.html").read_bytes()
    b = save_map(build_map(ds), tmp_path / "b.html").read_bytes()
    assert a == b
    assert not re.search(rb"[0-9a-f]{32}", a)  # no random folium ids left


def test_closed_gate_is_grey(small_dataset_dir) -> None:
    page = map_html(build_map(load_dataset(small_dataset_dir)))
    assert '"markerColor": "gray"' in page and '"markerColor": "red"' in page
