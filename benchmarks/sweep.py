"""Sweep benchmark: runs per second serially and on a local Dask cluster, same sweep.

The same specification (a grid of lanes at 1119–1120 × draws of demand, service rates and
surge, a 61-day season) runs on the bundled calibrated model

* serially in this process (``workers=0``), and
* on a ``LocalCluster`` of ``--workers`` worker processes (one thread each), started
  beforehand (its start-up is printed apart), with the default batching;

both write the same Parquet rows (checked). It also prints what a task costs Dask (an empty
task's round trip) and the bytes sent: the model once per worker, a batch's run numbers per
task, and the rows coming back.

    python benchmarks/sweep.py --runs 48 --workers 2 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import fmt  # noqa: E402

from bordergeo import load_dataset  # noqa: E402
from bordergeo.sweep import _auto_batch, build_model, read_sweep, sweep  # noqa: E402
from bordergeo.sweepspec import load_sweep_spec  # noqa: E402


def spec_for(runs: int) -> dict:
    """A season sweep of ``runs`` runs: 4 lane settings × draws."""
    return {
        "name": "benchmark", "start": "2026-05-01", "end": "2026-06-30",
        "grid": {"huu-nghi-1119.lanes_export": [2, 3, 4, 7]},
        "draws": {"count": max(1, runs // 4), "seed": 1, "inputs": {
            "demand.export": {"dist": "uniform", "low": 0.7, "high": 1.3},
            "demand.import": {"dist": "normal", "mean": 1.0, "sd": 0.15, "low": 0.5,
                              "high": 1.5},
            "service_rate": {"dist": "lognormal", "sigma": 0.1},
            "surge.size": {"dist": "triangular", "low": 1.0, "mode": 1.2, "high": 1.6},
            "surge.month": {"dist": "choice", "values": [5, 6]}}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from dask.distributed import Client, LocalCluster

    dataset = load_dataset()
    spec = load_sweep_spec(spec_for(args.runs))
    model = build_model(spec, dataset=dataset)
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    startup = time.perf_counter() - start
    serial, dask = [], []
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):  # interleaved: serial, then Dask, each round
            t0 = time.perf_counter()
            done = sweep(spec, output=Path(tmp) / f"serial{r}", dataset=dataset, workers=0,
                         progress=False)
            serial.append(time.perf_counter() - t0)
            rows = read_sweep(done.path)
            reference = rows if reference is None else reference
            t0 = time.perf_counter()
            done = sweep(spec, output=Path(tmp) / f"dask{r}", dataset=dataset,
                         scheduler=cluster.scheduler_address, progress=False)
            dask.append(time.perf_counter() - t0)
            pd.testing.assert_frame_equal(read_sweep(done.path), reference)
            batches = done.batches
        one_task = []
        for _ in range(200):
            t0 = time.perf_counter()
            client.submit(int, 0, pure=False).result()
            one_task.append(time.perf_counter() - t0)
        sample = model.run_batch(range(_auto_batch(spec.n_runs, args.workers)))
    client.close()
    cluster.close()
    s, d = statistics.median(serial), statistics.median(dask)
    n = spec.n_runs
    print(f"{n} runs of a {spec.days}-day season, {args.rounds} rounds (medians), "
          f"{args.workers} Dask workers; outputs equal (checked)\n")
    print("| engine | wall time | runs / s | runs / s per core | vs serial |")
    print("|---|---|---|---|---|")
    print(f"| serial (workers=0) | {fmt(s)} | {n / s:.2f} | {n / s:.2f} | ×1.0 |")
    print(f"| Dask LocalCluster, {args.workers} processes ({batches} tasks) | {fmt(d)} | "
          f"{n / d:.2f} | {n / d / args.workers:.2f} | ×{s / d:.2f} |")
    print(f"\nLocalCluster start-up (not in the times above): {fmt(startup)}; an empty "
          f"task's round trip: {fmt(statistics.median(one_task))} (median of 200)")
    print(f"Sent once per worker: the model, {len(pickle.dumps(model)) / 1e6:.2f} MB pickled; "
          f"per task: its run numbers ({len(pickle.dumps(range(0, 12)))} B); back per task "
          f"of {len(sample['run'].unique())} runs: {len(pickle.dumps(sample)) / 1e6:.2f} MB "
          f"of rows ({len(sample) / len(sample['run'].unique()):.0f} rows per run)")


if __name__ == "__main__":
    main()
