"""The one escaping function and the markup built on it (no browser needed)."""

from __future__ import annotations

import copy
import json
import pickle
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from bordergeo.markup import (
    Html,
    as_html,
    escape_text,
    escaped_frame,
    feature_group,
    geojson_tooltip,
    html,
    is_blank,
    join,
    page_element,
    popup,
    script_json,
    tooltip,
)

NASTY = "<img src=\"x\" onerror='a()'> & \\u003c \\x3c `${x}` {{ 7*7 }}"
ESCAPED = ("&lt;img src=&quot;x&quot; onerror=&#x27;a()&#x27;&gt; &amp; &#92;u003c &#92;x3c "
           "&#96;&#36;&#123;x&#125;&#96; &#123;&#123; 7*7 &#125;&#125;")


@pytest.mark.parametrize("raw, expected", [
    (NASTY, ESCAPED),
    ("Hữu Nghị 友谊关", "Hữu Nghị 友谊关"),
    ("a\\", "a&#92;"),
    ("`;alert(1);`", "&#96;;alert(1);&#96;"),
    ("</script><script>", "&lt;/script&gt;&lt;script&gt;"),
    ("\x00\u2028\u2029", "\x00\u2028\u2029"),  # legal in template literals, left alone
    (12, "12"),
    (1.5, "1.5"),
    (None, ""),
    (float("nan"), ""),
    (np.float32("nan"), ""),
    (pd.NA, ""),
    (pd.NaT, ""),
])
def test_escape_text(raw, expected) -> None:
    assert escape_text(raw) == expected


def test_escaped_text_has_no_character_special_to_html_js_or_jinja() -> None:
    every = "".join(chr(c) for c in range(0x20, 0x7f))
    out = escape_text(every)
    for char in "<>\"'`\\${}":
        assert char not in out
    assert escape_text(out) != out  # escaping is not idempotent: "&" is escaped again


def test_is_blank() -> None:
    assert is_blank(None) and is_blank("") and is_blank(float("nan")) and is_blank(pd.NA)
    assert not is_blank(0) and not is_blank(" ") and not is_blank("x")


def test_html_escapes_values_but_not_the_template() -> None:
    out = html("<b title='{t}'>{}</b> {:,.0f} trucks, {:.1f} km", "<i>x</i>", 1234.4, 2.25,
               t="a'b")
    assert isinstance(out, Html)
    assert out == "<b title='a&#x27;b'>&lt;i&gt;x&lt;/i&gt;</b> 1,234 trucks, 2.2 km"
    assert html("{}", None) == "" and html("{:,.0f}", float("nan")) == ""
    assert html("{{literal}}") == "{literal}"


def test_html_values_go_in_once() -> None:
    inner = html("<i>{}</i>", "<b>")
    outer = html("<p>{}{}</p>", inner, "<b>")
    assert outer == "<p><i>&lt;b&gt;</i>&lt;b&gt;</p>"
    assert as_html(inner) is inner
    assert as_html("<b>") == "&lt;b&gt;"


def test_html_cannot_be_made_from_raw_text() -> None:
    with pytest.raises(TypeError, match="html\\(\\)"):
        Html("<img src=x onerror=alert(1)>")
    with pytest.raises(TypeError, match="template must be str"):
        html(3)
    # gluing markup with + or str methods gives plain text, escaped again at the boundary
    glued = html("<b>x</b>") + "<i>"
    assert not isinstance(glued, Html)
    assert as_html(glued) == "&lt;b&gt;x&lt;/b&gt;&lt;i&gt;"
    assert not isinstance(html("<b>{}</b>", "x").replace("x", "<i>"), Html)


def test_html_survives_copy_and_pickle() -> None:
    value = html("<b>{}</b>", "<")
    for clone in (copy.deepcopy(value), pickle.loads(pickle.dumps(value))):
        assert isinstance(clone, Html) and clone == value


def test_join() -> None:
    out = join([html("<b>a</b>"), "<c>", None], sep=" / ")
    assert isinstance(out, Html)
    assert out == "<b>a</b> / &lt;c&gt; / "
    assert join([], sep="<") == ""
    assert join(["x", "y"], sep=html("<br>")) == "x<br>y"


def _rendered(element: folium.MacroElement, parent: folium.map.Layer) -> str:
    m = folium.Map(tiles=None)
    parent.add_to(m)
    element.add_to(parent)
    return m.get_root().render()


def test_tooltip_and_popup_escape_text_and_keep_markup() -> None:
    page = _rendered(tooltip("\\u003cimg src=x\\u003e `"), folium.Marker([0, 0]))
    assert "&#92;u003cimg src=x&#92;u003e &#96;" in page
    assert "\\u003cimg" not in page
    page = _rendered(tooltip(html("<b>{}</b>", "<x>")), folium.Marker([0, 0]))
    assert "<b>&lt;x&gt;</b>" in page
    page = _rendered(popup(html("<b>{}</b>", "${a}"), max_width=200), folium.Marker([0, 0]))
    assert "<b>&#36;&#123;a&#125;</b>" in page and '"maxWidth": 200' in page
    page = _rendered(popup("<b>raw</b>"), folium.Marker([0, 0]))
    assert "&lt;b&gt;raw&lt;/b&gt;" in page and "<b>raw" not in page


def test_geojson_tooltip_and_layer_names_are_escaped() -> None:
    tip = geojson_tooltip(["name"], aliases=["<b>Name</b>"], labels=True)
    assert tip.aliases == ["&lt;b&gt;Name&lt;/b&gt;"]
    assert geojson_tooltip(["a", "b"]).aliases == ["a", "b"]
    m = folium.Map(tiles=None)
    feature_group("<img src=x onerror=alert(1)>", show=False).add_to(m)
    folium.LayerControl().add_to(m)
    page = m.get_root().render()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.replace("\\u0026", "&")
    assert "<img src=x" not in page


def test_page_element_is_written_verbatim_never_compiled() -> None:
    m = folium.Map(tiles=None)
    m.get_root().html.add_child(page_element(html("<div>{{{{ 7*7 }}}} {}</div>", "{% x")))
    m.get_root().html.add_child(page_element("<p>{{ 7*7 }}</p>"))
    page = m.get_root().render()
    assert "<div>{{ 7*7 }} &#123;% x</div>" in page
    assert "&lt;p&gt;&#123;&#123; 7*7 &#125;&#125;&lt;/p&gt;" in page
    assert not re.search(r">\s*49\b", page)  # element ids are random hex: look at text only


def test_escaped_frame() -> None:
    gdf = gpd.GeoDataFrame({"name": ["<b>", None], "n": [1, np.nan]},
                           geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:4326", index=[5, 9])
    out = escaped_frame(gdf, ["name", "n", "absent"])
    assert out["name"].tolist() == ["&lt;b&gt;", ""]
    assert out["n"].tolist() == ["1.0", ""]
    assert out["absent"].tolist() == ["", ""]
    assert list(out.index) == [0, 1] and out.crs == gdf.crs


def test_script_json() -> None:
    value = {"popup": "<b>x</b></script><!-- & ' \u2028"}
    text = script_json(value)
    for bad in ("<", ">", "&", "'", "\u2028"):
        assert bad not in text
    assert json.loads(text) == value
