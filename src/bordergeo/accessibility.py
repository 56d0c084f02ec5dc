"""Travel time from many points (communes, a grid) to every open gate, in pieces.

The expensive part is one reverse shortest-path search per gate on the road network; it is
done once (:meth:`bordergeo.routing.Router.times_to`, the same searches routes and
matrices use). What remains per origin is to find its nearest road node (a k-d tree in
metres) and read the gates' times at that node: cheap, but for millions of origins on a
country-scale layer it is worth spreading. :func:`accessibility` cuts the origins into
slices and runs them through :func:`bordergeo.engine.run_pieces` — in this process, on a
local Dask cluster or on a running one — with the network's trees sent to each worker
once; each slice's rows go to a Parquet part as it finishes, or into the returned table.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bordergeo.engine import run_pieces
from bordergeo.errors import BorderGeoError
from bordergeo.io import write_parquet

if TYPE_CHECKING:
    import geopandas as gpd

    from bordergeo.routing import Router

__all__ = ["accessibility", "open_goods_gates"]

logger = logging.getLogger(__name__)

#: Origins per piece of work.
DEFAULT_SLICE = 200_000


@dataclass
class _Trees:
    """What every slice needs: node lookup in metres and the gates' times and lengths."""

    tree: object  # scipy.spatial.cKDTree over node coordinates in metres
    kx: float
    ky: float
    gate_ids: list[str]
    times_s: np.ndarray  # (gates, nodes)
    lengths_m: np.ndarray  # (gates, nodes)
    max_snap_m: float


def _slice_rows(trees: _Trees, piece: tuple[np.ndarray, np.ndarray, np.ndarray]
                ) -> pd.DataFrame:
    ids, x, y = piece
    distance, node = trees.tree.query(np.column_stack([x * trees.kx, y * trees.ky]))
    far = distance > trees.max_snap_m
    gates = len(trees.gate_ids)
    times = trees.times_s[:, node].T  # (origins, gates)
    lengths = trees.lengths_m[:, node].T
    times[far] = np.inf
    lengths[far] = np.inf
    with np.errstate(invalid="ignore"):
        return pd.DataFrame({
            "origin_id": np.repeat(ids, gates),
            "gate_id": np.tile(np.asarray(trees.gate_ids, dtype=object), len(ids)),
            "travel_time_min": np.where(np.isfinite(times), times / 60.0, np.nan).ravel(),
            "length_km": np.where(np.isfinite(lengths), lengths / 1000.0, np.nan).ravel(),
            "snap_m": np.repeat(distance, gates),
        })


def open_goods_gates(gates: pd.DataFrame) -> list[str]:
    """Gate ids that clear road goods today (open or restricted, with capacity of their own)."""
    from bordergeo.gates import capacity_gates

    chosen = gates[(gates["mode"] == "road") & (gates["status"] != "closed")
                   & capacity_gates(gates).to_numpy()]
    return chosen["id"].astype(str).tolist()


def accessibility(router: Router, origins: gpd.GeoDataFrame, *,
                  gates: Sequence[str] | None = None, id_column: str | None = None,
                  max_snap_m: float = 5_000.0, output: str | os.PathLike[str] | None = None,
                  scheduler: str | None = None, workers: int | None = 0,
                  slice_rows: int = DEFAULT_SLICE, progress: bool | None = None
                  ) -> pd.DataFrame | Path:
    """Travel time and distance from every origin to every gate.

    Parameters
    ----------
    router
        A router on the network, with the dataset's gates attached.
    origins
        Points (any CRS; reprojected to the network's).
    gates
        Gate ids or other places the router knows (default: :func:`open_goods_gates` of
        the router's dataset); named in the table as text.
    id_column
        Column naming the origins (default: the index).
    max_snap_m
        Origins farther than this from any road node get no time (NaN).
    output
        A folder for Parquet parts (one per slice, written as they finish); ``None``
        returns the table instead.
    scheduler, workers
        Where to run (:func:`bordergeo.engine.run_pieces`); default: in this process.
    slice_rows
        Origins per piece.
    progress
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame or pathlib.Path
        ``origin_id``, ``gate_id``, ``travel_time_min``, ``length_km``, ``snap_m`` (one row
        per origin and gate, origins in their order), or the output folder.

    Raises
    ------
    BorderGeoError
        Origins that are not points, an unknown gate, or an output folder in use.
    """
    from scipy.spatial import cKDTree

    from bordergeo.network import _Metric

    if len(origins) and not (origins.geometry.geom_type == "Point").all():
        bad = int(np.flatnonzero((origins.geometry.geom_type != "Point").to_numpy())[0])
        raise BorderGeoError(f"origins: row {bad} is not a point "
                             f"({origins.geometry.iloc[bad].geom_type})")
    if slice_rows < 1:
        raise BorderGeoError(f"slice_rows must be at least 1, not {slice_rows}")
    network = router.network
    if gates is None:
        if router.dataset is None:
            raise BorderGeoError("name the gates: this router has no dataset")
        gates = open_goods_gates(router.dataset.gates)
    gate_ids = [str(g) for g in gates]
    times = router.times_to(list(gates))
    lengths = router.lengths_to(list(gates))
    nodes = np.column_stack([network.node_x, network.node_y])
    metric = _Metric(network.crs, nodes)
    trees = _Trees(cKDTree(nodes * [metric.kx, metric.ky]), metric.kx, metric.ky, gate_ids,
                   times, lengths, float(max_snap_m))
    points = origins.to_crs(network.crs) if origins.crs is not None else origins
    ids = (points[id_column] if id_column else points.index).to_numpy()
    x, y = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    pieces = [(ids[s:s + slice_rows], x[s:s + slice_rows], y[s:s + slice_rows])
              for s in range(0, len(points), slice_rows)]
    logger.info("accessibility: %d origins × %d gates in %d pieces", len(points),
                len(gate_ids), len(pieces))
    if output is None:
        parts: dict[int, pd.DataFrame] = {}
        run_pieces(_slice_rows, trees, pieces, parts.__setitem__, scheduler=scheduler,
                   workers=workers, name="bordergeo-accessibility", progress=progress)
        if not parts:
            return _slice_rows(trees, (ids[:0], x[:0], y[:0]))
        return pd.concat([parts[i] for i in range(len(pieces))], ignore_index=True)
    folder = Path(output)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BorderGeoError(f"{folder}: exists and is not an empty folder")
    folder.mkdir(parents=True, exist_ok=True)

    def write(index: int, frame: pd.DataFrame) -> None:
        write_parquet(frame, folder / f"part-{index:06d}.parquet")

    run_pieces(_slice_rows, trees, pieces, write, scheduler=scheduler, workers=workers,
               name="bordergeo-accessibility", progress=progress)
    return folder
