"""Synthetic road networks for benchmarks: a jittered grid of LineStrings in metres.

100 m blocks, ~8 % of blocks missing, arterials every 10th row/column at 80 km/h, the rest
at 40 km/h, 15 % of residential segments one-way, one interior vertex per line; lines
meet exactly at their endpoints (the case the build targets are set for).
:func:`named_roads` gives the same grid the attributes of a real road layer, for the map
benchmark.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def grid_roads(target_edges: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """Return a road layer with about ``target_edges`` directed edges (EPSG:32648)."""
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(target_edges / 3.4)) + 1
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = ii * 100.0 + rng.uniform(-20, 20, ii.shape) + 500_000
    y = jj * 100.0 + rng.uniform(-20, 20, ii.shape) + 2_400_000
    starts, ends, arterial = [], [], []
    for di, dj in ((1, 0), (0, 1)):
        a_i, a_j = ii[: side - di, : side - dj], jj[: side - di, : side - dj]
        starts.append(np.column_stack([x[a_i, a_j].ravel(), y[a_i, a_j].ravel()]))
        ends.append(np.column_stack([x[a_i + di, a_j + dj].ravel(),
                                     y[a_i + di, a_j + dj].ravel()]))
        arterial.append(((a_j if di else a_i) % 10 == 0).ravel())
    p0, p1, art = np.vstack(starts), np.vstack(ends), np.concatenate(arterial)
    keep = rng.random(len(p0)) > 0.08
    p0, p1, art = p0[keep], p1[keep], art[keep]
    mid = (p0 + p1) / 2 + rng.uniform(-5, 5, p0.shape)
    coords = np.stack([p0, mid, p1], axis=1).reshape(-1, 2)
    lines = shapely.linestrings(coords, indices=np.repeat(np.arange(len(p0)), 3))
    oneway = ~art & (rng.random(len(p0)) < 0.15)
    return gpd.GeoDataFrame(
        {"id": np.arange(len(p0)).astype(str), "class": np.where(art, "national", "local"),
         "maxspeed_kph": np.where(art, 80.0, 40.0), "oneway": oneway},
        geometry=lines, crs="EPSG:32648")


#: Road kinds of :func:`named_roads`: class, ref prefix, name, lanes, speed (km/h).
_KINDS = {
    "expressway": ("CT.", "Cao tốc", 4, 100.0),
    "national": ("QL", "Quốc lộ", 4, 80.0),
    "provincial": ("ĐT", "Đường tỉnh", 2, 60.0),
    "local": ("ĐH", "Đường huyện", 2, 40.0),
}


def named_roads(roads: gpd.GeoDataFrame, *, seed: int = 0,
                construction: float = 0.03) -> gpd.GeoDataFrame:
    """Give the lines of :func:`grid_roads` the attributes of a real road layer.

    Every grid row and column is one road with its own number: every 50th an expressway
    (``CT.07``), every 10th a national road (``QL110``), every 5th a provincial road
    (``ĐT123``), the rest district roads (``ĐH1234``); each line is a numbered section of
    it, so names are distinct (``Đường tỉnh 123 – đoạn 45``). Lanes and speed follow the
    class; ``construction`` of the roads are under construction (drawn dashed).
    """
    rng = np.random.default_rng(seed)
    xy = shapely.get_coordinates(roads.geometry.to_numpy()).reshape(len(roads), 3, 2)
    start, end = xy[:, 0], xy[:, 2]
    along_x = np.abs(end[:, 0] - start[:, 0]) > np.abs(end[:, 1] - start[:, 1])
    i = np.rint((np.minimum(start[:, 0], end[:, 0]) - 500_000) / 100).astype(np.int64)
    j = np.rint((np.minimum(start[:, 1], end[:, 1]) - 2_400_000) / 100).astype(np.int64)
    line = np.where(along_x, j, i)              # the grid row (or column) the road follows
    section = np.where(along_x, i, j) + 1
    road = line * 2 + along_x                   # one number per row and per column
    kind = np.select([line % 50 == 0, line % 10 == 0, line % 5 == 0],
                     ["expressway", "national", "provincial"], "local")
    numbers = pd.Series(road + np.select([kind == "expressway", kind == "national"],
                                         [1, 100], 100)).astype(str)
    ref_prefix = pd.Series([_KINDS[k][0] for k in kind])
    name_prefix = pd.Series([_KINDS[k][1] for k in kind])
    sections = pd.Series(section).astype(str)
    under_works = np.isin(road, rng.choice(np.unique(road), size=max(
        1, int(construction * len(np.unique(road)))), replace=False))
    out = roads.copy()
    out["ref"] = (ref_prefix + numbers).to_numpy()
    out["name"] = (name_prefix + " " + numbers + " – đoạn " + sections).to_numpy()
    out["class"] = kind
    out["lanes"] = np.array([_KINDS[k][2] for k in kind]) - (rng.random(len(out)) < 0.1)
    out["maxspeed_kph"] = np.array([_KINDS[k][3] for k in kind])
    out["status"] = np.where(under_works, "construction", "open")
    return out
