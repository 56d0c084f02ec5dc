"""Self-contained offline HTML: every script, style, icon and font inlined.

folium pages load about 27 files from CDNs; offline, Leaflet never loads and the page is
blank. :func:`localize_html` swaps each ``<script src=CDN>`` and ``<link href=CDN>`` for the
file's content from the vendor folder built into the package (from the npm packages pinned
in ``assets/package.json``); CSS ``url()`` images and fonts become ``data:`` URIs. A CDN
address with no local copy is an error, so a new plugin cannot silently need the internet.

Rebuild the vendor folder of a source checkout with ``python -m bordergeo.offline build``.
"""

from __future__ import annotations

import argparse
import base64
import logging
import mimetypes
import re
import sys
from functools import lru_cache
from pathlib import Path

from bordergeo._vendoring import CDN_TO_VENDOR, build_vendor
from bordergeo.errors import AssetsMissingError, BorderGeoError

__all__ = ["CDN_TO_VENDOR", "localize_html", "vendor_dir"]

logger = logging.getLogger(__name__)

_SCRIPT_RE = re.compile(r'<script\s+src="([^"]+)"\s*>\s*</script>')
_LINK_RE = re.compile(r'<link\s+rel="stylesheet"\s+href="([^"]+)"\s*/?>')
_EXTERNAL_RE = re.compile(r'<(?:script|link)\b[^>]*(?:src|href)="((?:https?:)?//[^"]+)"')
_URL_RE = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_FONT_TYPES = {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf",
               ".svg": "image/svg+xml", ".eot": "application/vnd.ms-fontobject"}


def vendor_dir() -> Path:
    """Return the folder of offline assets built into this installation.

    Raises
    ------
    AssetsMissingError
        When the installation was built without them (no npm at build time).
    """
    vendor = Path(__file__).resolve().parent / "_vendor"
    if not (vendor / "MANIFEST.json").exists():
        raise AssetsMissingError(
            "offline assets are not built into this installation; reinstall with "
            "`pip install .` (the build fetches them from the npm registry) or run "
            "`python -m bordergeo.offline build` in a source checkout")
    return vendor


def _strip(ref: str) -> str:
    return ref.split("?")[0].split("#")[0]


def _data_uri(path: Path) -> str:
    mime = _FONT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    return f"data:{mime or 'application/octet-stream'};base64," + base64.b64encode(
        path.read_bytes()).decode("ascii")


def _best_font_sources(css: str) -> str:
    """In each @font-face keep only the best font format (woff2 > woff > ttf)."""
    def pick(match: re.Match[str]) -> str:
        entries = [e.strip() for e in match.group(1).split(",")]
        for fmt in (".woff2", ".woff", ".ttf"):
            keep = [e for e in entries if fmt + "'" in e or fmt + '"' in e or fmt + ")" in e
                    or fmt + "?" in e or fmt + "#" in e]
            if keep:
                return "src:" + ",".join(keep)
        return "src:" + match.group(1)
    return re.sub(r"src:\s*([^;}]*url\([^;}]*)", pick, css)


def _drop_repeated_font_faces(css: str) -> str:
    """Font Awesome declares each font file for three families; inline it once."""
    seen: set[str] = set()

    def once(match: re.Match[str]) -> str:
        refs = frozenset(_strip(m.group(2)) for m in _URL_RE.finditer(match.group(0)))
        if refs and refs <= seen:
            return ""
        seen.update(refs)
        return match.group(0)
    return re.sub(r"@font-face\s*{[^}]*}", once, css)


@lru_cache(maxsize=64)
def _inline_css(path: Path) -> str:
    css = _drop_repeated_font_faces(_best_font_sources(path.read_text(encoding="utf-8")))

    def embed(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "#", "http:", "https:", "//")):
            return match.group(0)
        target = path.parent / _strip(ref)
        return f'url("{_data_uri(target)}")' if target.exists() else match.group(0)
    return _URL_RE.sub(embed, css)


@lru_cache(maxsize=64)
def _inline_js(path: Path) -> str:
    return path.read_text(encoding="utf-8").replace("</script", "<\\/script")


def _leaflet_icon_fix(vendor: Path) -> str:
    # Leaflet finds its marker images through leaflet.css's url(); inlined as data: URIs
    # that lookup fails, so name them explicitly.
    images = vendor / "leaflet/dist/images"
    return ("<script>L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions({"
            f"iconUrl:'{_data_uri(images / 'marker-icon.png')}',"
            f"iconRetinaUrl:'{_data_uri(images / 'marker-icon-2x.png')}',"
            f"shadowUrl:'{_data_uri(images / 'marker-shadow.png')}'}});</script>")


def localize_html(html: str, *, vendor: Path | None = None) -> str:
    """Inline every CDN script and stylesheet of a rendered folium page.

    Parameters
    ----------
    html
        The page, e.g. ``m.get_root().render()``.
    vendor
        Folder of offline assets (default: the one built into the package).

    Returns
    -------
    str
        One self-contained page; the same input gives the same text.

    Raises
    ------
    BorderGeoError
        A script or stylesheet address has no local copy.
    AssetsMissingError
        The offline assets were not built into this installation.
    """
    vendor = Path(vendor) if vendor is not None else vendor_dir()
    seen: set[str] = set()
    missing: list[str] = []

    def local(url: str) -> str | None:
        rel = CDN_TO_VENDOR.get(url)
        if rel is None:
            missing.append(url)
        return rel

    def script(match: re.Match[str]) -> str:
        rel = local(match.group(1))
        if rel is None:
            return match.group(0)
        if rel in seen:  # the same file asked for twice (jQuery)
            return ""
        seen.add(rel)
        out = f"<script>/* {rel} */\n{_inline_js(vendor / rel)}\n</script>"
        if rel == "leaflet/dist/leaflet.js":
            out += _leaflet_icon_fix(vendor)
        return out

    def stylesheet(match: re.Match[str]) -> str:
        rel = local(match.group(1))
        if rel is None:
            return match.group(0)
        if rel in seen:
            return ""
        seen.add(rel)
        return f"<style>/* {rel} */\n{_inline_css(vendor / rel)}\n</style>"

    out = _LINK_RE.sub(stylesheet, _SCRIPT_RE.sub(script, html))
    missing += [u for u in _EXTERNAL_RE.findall(out) if u not in missing]
    if missing:
        raise BorderGeoError("no offline copy for " + ", ".join(sorted(set(missing)))
                             + "; add it to assets/package.json and bordergeo._vendoring")
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m bordergeo.offline build``: rebuild the vendor folder with npm."""
    parser = argparse.ArgumentParser(prog="python -m bordergeo.offline")
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--assets", type=Path,
                        default=Path(__file__).resolve().parents[2] / "assets",
                        help="folder with package.json (default: the checkout's assets/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    target = Path(__file__).resolve().parent / "_vendor"
    if not (args.assets / "package.json").exists():
        logger.error("no %s; run this in a source checkout", args.assets / "package.json")
        return 1
    build_vendor(args.assets, target)
    logger.info("built %s", target)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
