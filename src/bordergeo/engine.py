"""Where independent pieces of work run: in this process, a local Dask cluster, or yours.

Sweeps (:mod:`bordergeo.sweep`) and batch accessibility (:mod:`bordergeo.accessibility`)
both cut their work into pieces that need one large shared object (a model, a network's
travel-time trees) and a small description each (run numbers, a slice of origins).
:func:`run_pieces` runs them

* in this process when ``workers=0`` (no Dask needed);
* on a ``LocalCluster`` of ``workers`` processes (default: one per core), started for the
  call and closed after it;
* on a running cluster when ``scheduler`` gives its address;

sending the shared object to each worker once, and hands every result to a callback in the
calling process as it arrives (the callers write Parquet parts there, so a piece is either
written whole or not at all, whichever worker computed it and however often). A worker
lost mid-way has its pieces run again elsewhere by Dask's scheduler.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bordergeo.errors import BorderGeoError

__all__ = ["run_pieces"]

logger = logging.getLogger(__name__)

#: Seconds to wait for a scheduler given by address.
CONNECT_TIMEOUT_S = 10


def _progress(total: int, done: int, enabled: bool | None, what: str):  # -> tqdm | None
    if enabled is False or (enabled is None and not sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit=what, desc=what, file=sys.stderr)


def run_pieces(func: Callable[[Any, Any], Any], shared: Any, pieces: Sequence[Any],
               on_result: Callable[[int, Any], None], *, scheduler: str | None = None,
               workers: int | None = None, name: str = "bordergeo",
               progress: bool | None = None, done: int = 0) -> str | None:
    """Run ``func(shared, piece)`` for every piece; pass each result to ``on_result``.

    Parameters
    ----------
    func
        A module-level function (it is pickled by reference for the workers).
    shared
        The large object every piece needs; sent to each worker once.
    pieces
        Small descriptions of the pieces.
    on_result
        Called in this process as ``on_result(index, result)`` when piece ``index`` is done
        (in completion order on Dask, in order serially).
    scheduler
        Address of a running Dask scheduler; ``None`` starts a local cluster.
    workers
        Workers of the local cluster (default: one per core); ``0`` runs here, without Dask.
    name
        Prefix of the task keys (shown on the Dask dashboard) and label of the progress bar.
    progress
        Show a progress bar (default: when the error stream is a terminal).
    done
        Pieces already done before this call (the progress bar starts there).

    Returns
    -------
    str or None
        The Dask dashboard's address, when one was running.
    """
    bar = _progress(done + len(pieces), done, progress, name)
    try:
        if scheduler is None and workers == 0:
            for index, piece in enumerate(pieces):
                on_result(index, func(shared, piece))
                if bar is not None:
                    bar.update()
            return None
        return _on_dask(func, shared, pieces, on_result, bar, scheduler=scheduler,
                        workers=workers, name=name)
    finally:
        if bar is not None:
            bar.close()


def _on_dask(func: Callable[[Any, Any], Any], shared: Any, pieces: Sequence[Any],
             on_result: Callable[[int, Any], None], bar: Any, *, scheduler: str | None,
             workers: int | None, name: str) -> str | None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - dask is a dependency
        raise BorderGeoError("running on Dask needs dask[distributed]: pip install "
                             "'dask[distributed]' (or run with workers=0)") from None
    import os

    cluster = None
    if scheduler is None:
        dashboard = ":0" if importlib.util.find_spec("bokeh") else None
        cluster = LocalCluster(n_workers=max(1, workers or os.cpu_count() or 1),
                               threads_per_worker=1, processes=True,
                               dashboard_address=dashboard)
    try:
        try:
            client = Client(cluster if cluster is not None else scheduler,
                            timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise BorderGeoError(f"cannot reach the Dask scheduler at {scheduler} "
                                 f"({exc})") from None
        with client:
            info = client.scheduler_info()
            link = client.dashboard_link if info.get("services", {}).get("dashboard") \
                else None
            logger.info("on Dask: %d workers%s", len(info.get("workers", {})),
                        f", dashboard {link}" if link else "")
            remote = client.scatter(shared, broadcast=True, hash=False)
            futures = {client.submit(func, remote, piece, pure=False,
                                     key=f"{name}-{index}"): index
                       for index, piece in enumerate(pieces)}
            for future in as_completed(futures):
                on_result(futures[future], future.result())
                future.release()
                if bar is not None:
                    bar.update()
            return link
    finally:
        if cluster is not None:
            cluster.close()
