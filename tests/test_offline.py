"""Offline HTML: every CDN script and style inlined, unknown ones refused (no browser)."""

from __future__ import annotations

import re

import folium
import pytest
from branca.colormap import LinearColormap
from folium import plugins

from bordergeo import AssetsMissingError, BorderGeoError, offline
from bordergeo.offline import CDN_TO_VENDOR, localize_html, vendor_dir

EXTERNAL = re.compile(r'<(?:script|link)\b[^>]*(?:src|href)="(?:https?:)?//')


def full_map() -> folium.Map:
    m = folium.Map(tiles=None, maxZoom=18, location=[21.9, 106.7], zoom_start=9)
    LinearColormap(["green", "red"], vmin=0, vmax=1, caption="wait").add_to(m)
    points = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Hữu Nghị"},
         "geometry": {"type": "Point", "coordinates": [106.71, 21.97]}}]}
    layer = folium.GeoJson(points, name="gates",
                           tooltip=folium.GeoJsonTooltip(["name"])).add_to(m)
    folium.Marker([21.97, 106.71], icon=folium.Icon(icon="truck", prefix="fa")).add_to(m)
    plugins.Search(layer=layer, search_label="name").add_to(m)
    plugins.Fullscreen().add_to(m)
    plugins.MarkerCluster().add_to(m)
    plugins.AntPath([[21.8, 106.7], [21.97, 106.71]]).add_to(m)
    plugins.HeatMap([[21.97, 106.71, 1.0]]).add_to(m)
    line = folium.PolyLine([[21.8, 106.7], [21.97, 106.71]]).add_to(m)
    plugins.PolyLineTextPath(line, "QL1A").add_to(m)
    plugins.TimestampedGeoJson({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.71, 21.97]},
         "properties": {"times": ["2021-12-15"]}}]}).add_to(m)
    folium.LayerControl().add_to(m)
    return m


def test_vendor_folder_is_built() -> None:
    vendor = vendor_dir()
    for rel in set(CDN_TO_VENDOR.values()):
        assert (vendor / rel).is_file(), rel
    assert (vendor / "leaflet" / "LICENSE").exists()


def test_every_cdn_reference_is_inlined() -> None:
    page = full_map().get_root().render()
    assert EXTERNAL.search(page)  # folium's own page does use CDNs
    inlined = localize_html(page)
    assert not EXTERNAL.search(inlined)
    assert "L.Icon.Default.mergeOptions" in inlined
    assert "data:font/woff2;base64," in inlined  # Font Awesome / glyphicons
    assert inlined.count("/* jquery/dist/jquery.min.js */") == 1  # duplicate dropped


def test_unknown_cdn_address_is_an_error() -> None:
    page = full_map().get_root().render().replace(
        "</head>", '<script src="https://cdn.example.org/new-plugin.js"></script></head>')
    with pytest.raises(BorderGeoError, match=r"no offline copy for "
                                             r"https://cdn\.example\.org/new-plugin\.js"):
        localize_html(page)


def test_protocol_relative_stylesheet_is_an_error() -> None:
    page = "<head><link rel=\"stylesheet\" href=\"//cdn.example.org/x.css\"/></head>"
    with pytest.raises(BorderGeoError, match="//cdn.example.org/x.css"):
        localize_html(page)


def test_deterministic() -> None:
    page = full_map().get_root().render()
    assert localize_html(page) == localize_html(page)


def test_missing_assets_explain_how_to_get_them(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(offline, "__file__", str(tmp_path / "offline.py"))
    with pytest.raises(AssetsMissingError, match="offline assets are not built"):
        vendor_dir()
