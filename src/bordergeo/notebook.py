"""Maps that display in a Jupyter notebook with no internet (an intranet, a field laptop).

folium shows a map inline as an ``<iframe srcdoc=...>`` holding the page, and that page
loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs: offline, only the HTML legend
appears. :class:`OfflineMap` is a :class:`folium.Map` whose inline display holds the
self-contained page of :func:`bordergeo.maps.map_html` with ``offline=True`` (every script,
style, icon and font inlined from the copies built into the package), so the notebook
fetches nothing. :func:`show` does the same for any folium map.

The page is rendered from a copy of the map: displaying a map leaves it unchanged, and the
same map always gives the same markup.

The static figures of :mod:`bordergeo.static` display themselves as PNG images (see
:class:`bordergeo.static.InlineFigure`).
"""

from __future__ import annotations

import copy
import html
import logging
import operator
from typing import TYPE_CHECKING, Any

import folium

from bordergeo.errors import AssetsMissingError, BorderGeoError

if TYPE_CHECKING:
    from IPython.display import HTML

__all__ = ["DEFAULT_HEIGHT", "OfflineMap", "iframe_html", "offline_page", "show"]

logger = logging.getLogger(__name__)

#: Height of an inline map in pixels (folium's own display is about as tall in a notebook).
DEFAULT_HEIGHT = 600

_TRUST_HINT = ("Make this Notebook Trusted to load map: File -&gt; Trust Notebook")


def offline_page(m: folium.Map) -> str:
    """Render a map to one self-contained page, leaving the map itself untouched.

    Parameters
    ----------
    m
        The map.

    Returns
    -------
    str
        :func:`bordergeo.maps.map_html` of a copy of ``m`` with ``offline=True``; the same
        map gives the same text every time.

    Raises
    ------
    BorderGeoError
        A script or stylesheet of the map has no offline copy (a plugin bordergeo does not
        vendor).
    AssetsMissingError
        The offline assets were not built into this installation.
    """
    from bordergeo.maps import map_html  # maps imports this module

    # map_html renumbers the elements of the map it renders; rendering a copy keeps the
    # user's map as it was, so a second display (or a later save_map) gives the same page.
    return map_html(copy.deepcopy(m), offline=True)


def _pixels(height: int) -> int:
    try:
        pixels = operator.index(height)
    except TypeError:
        pixels = 0
    if isinstance(height, bool) or pixels <= 0:
        raise BorderGeoError(f"height must be a positive whole number of pixels, "
                             f"not {height!r}")
    return pixels


def iframe_html(m: folium.Map, *, height: int = DEFAULT_HEIGHT) -> str:
    """Return the notebook markup of a map: its offline page in an ``<iframe srcdoc>``.

    Parameters
    ----------
    m
        The map.
    height
        Height of the frame in pixels; it is as wide as the notebook.

    Returns
    -------
    str
        A ``<div>`` holding the frame; the page is HTML-escaped into the ``srcdoc``
        attribute, so the markup has no ``src`` or ``href`` that the browser would fetch.
        When the installation lacks the offline assets, a warning is logged and the frame
        holds folium's usual page, which loads its scripts from CDNs.

    Raises
    ------
    BorderGeoError
        ``height`` is not a positive whole number, or a script or stylesheet of the map
        has no offline copy.
    """
    pixels = _pixels(height)
    try:
        page = offline_page(m)
    except AssetsMissingError as error:
        logger.warning("%s; the map is shown with scripts from CDNs and needs the internet",
                       error)
        from bordergeo.maps import map_html

        page = map_html(copy.deepcopy(m))
    return (f'<div style="position:relative;width:100%;height:{pixels}px;">'
            f'<span style="color:#565656">{_TRUST_HINT}</span>'
            f'<iframe srcdoc="{html.escape(page, quote=True)}" '
            'style="position:absolute;width:100%;height:100%;left:0;top:0;'
            'border:none !important;" '
            "allowfullscreen webkitallowfullscreen mozallowfullscreen></iframe></div>")


def show(m: folium.Map, *, height: int = DEFAULT_HEIGHT) -> HTML:
    """Display any folium map inline without the internet.

    Make it the last expression of a cell (or pass it to ``IPython.display.display``)::

        from bordergeo.notebook import show
        show(bordergeo.build_map(ds))

    Parameters
    ----------
    m
        The map, e.g. from :func:`bordergeo.build_map` or a plain :class:`folium.Map`.
    height
        Height in pixels.

    Returns
    -------
    IPython.display.HTML
        The markup of :func:`iframe_html`.

    Raises
    ------
    ImportError
        IPython is not installed.
    BorderGeoError
        As :func:`iframe_html`.
    """
    try:
        from IPython.display import HTML
    except ImportError as error:  # pragma: no cover - IPython comes with Jupyter
        raise ImportError("bordergeo.notebook.show needs IPython; iframe_html(m) gives the "
                          "same markup as a string") from error
    return HTML(iframe_html(m, height=height))


class OfflineMap(folium.Map):
    """A :class:`folium.Map` that displays inline in a notebook with no internet.

    It takes the arguments of :class:`folium.Map` and behaves the same everywhere except in
    a notebook, where ``m`` as the last expression of a cell shows the self-contained page
    (:func:`iframe_html`) instead of folium's page with CDN scripts.

    Attributes
    ----------
    notebook_height : int
        Height of the inline display in pixels (default :data:`DEFAULT_HEIGHT`); set it on
        a map to change that map's display.
    """

    notebook_height: int = DEFAULT_HEIGHT

    def _repr_html_(self, **kwargs: Any) -> str:
        """Return the inline display: the offline page in an ``<iframe srcdoc>``."""
        return iframe_html(self, height=self.notebook_height)
