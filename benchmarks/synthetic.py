"""Synthetic road networks for benchmarks: a jittered grid of LineStrings in metres.

100 m blocks, ~8 % of blocks missing, arterials every 10th row/column at 80 km/h, the rest
at 40 km/h, 15 % of residential segments one-way, one interior vertex per line; lines
meet exactly at their endpoints (the case the build targets are set for).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
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
