"""Choice of a metric CRS and geodesic lengths.

Public layers are EPSG:4326; metric work (snapping tolerances, lengths, noding) happens in
the UTM zone of the data (EPSG:32648, UTM 48N, for Lạng Sơn) and is converted back.
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

__all__ = ["utm_crs_for", "geodesic_length_m", "GEOD"]

GEOD = pyproj.Geod(ellps="WGS84")


def utm_crs_for(lon: float, lat: float) -> pyproj.CRS:
    """Return the WGS 84 UTM CRS of the zone containing ``(lon, lat)``.

    Parameters
    ----------
    lon, lat
        A point in degrees (e.g. the centre of the data).

    Returns
    -------
    pyproj.CRS
        E.g. EPSG:32648 (UTM 48N) for Lạng Sơn.
    """
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def geodesic_length_m(lines: NDArray[np.object_]) -> NDArray[np.float64]:
    """Return the length on the WGS 84 ellipsoid of each lon/lat LineString, in metres.

    Parameters
    ----------
    lines
        Array of shapely LineStrings in EPSG:4326.

    Returns
    -------
    numpy.ndarray
        One length per line; vectorised over all segments at once.
    """
    lines = np.asarray(lines, dtype=object)
    coords, index = shapely.get_coordinates(lines, return_index=True)
    if len(coords) < 2:
        return np.zeros(len(lines))
    same_line = index[1:] == index[:-1]
    _, _, seg = GEOD.inv(coords[:-1, 0][same_line], coords[:-1, 1][same_line],
                         coords[1:, 0][same_line], coords[1:, 1][same_line])
    return np.bincount(index[1:][same_line], weights=seg, minlength=len(lines))
