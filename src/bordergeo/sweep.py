"""Scenario sweeps of the calibrated model, serially or on Dask.

One run of a sweep takes a grid point and a draw of the uncertain inputs
(:mod:`bordergeo.sweepspec`) and

1. changes the gates as the grid point says (lanes, hours, status, reopened gates) on top
   of the calibrated service rates, and scales the rates by the drawn factors;
2. scales the demand (grid and drawn factors, by direction or hub) and assigns it with the
   calibrated gate choice (:func:`bordergeo.assign`);
3. runs the season day by day for every gate that clears goods and each direction: each
   month's demand (times the month's seasonal factor, and the surge in its month) is
   assigned on its own, so busy months move trucks to the less loaded gates; they arrive;
   the gate clears its capacity on that day (0 on the closure calendar's days); the day's
   net arrivals vary at random with the calibrated coefficient of variation (a sample path
   drawn from the run's own seed); the backlog carries over (Lindley's recursion).

Outputs per run, gate, direction and day: ``trucks`` (arrivals), ``capacity``,
``backlog`` (trucks waiting after the day's clearance) and ``wait_h`` (the assignment's
queueing wait plus the hours the backlog needs to clear at that day's capacity; NaN on a
day the gate is shut).

:func:`sweep` runs every run and writes the results as Parquet parts, one per batch of
runs, into an output folder, as batches finish. Runs execute in this process
(``workers=0``), on a local Dask cluster sized to the machine (default), or on an existing
cluster (``scheduler=``). The model (network, gates, demand, calibration, calendar) is
sent to each worker once; a batch's task carries only its run numbers. A run's result
depends only on the specification and its number, so a sweep gives the same rows serially,
on two workers or on twenty; a sweep stopped half-way resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bordergeo.engine import run_pieces
from bordergeo.errors import BorderGeoError
from bordergeo.io import write_parquet
from bordergeo.sweepspec import SweepSpec, _scenario_changes, load_sweep_spec

if TYPE_CHECKING:
    from bordergeo.calibration import Calibration
    from bordergeo.datasets import BorderDataset
    from bordergeo.network import RoadNetwork

__all__ = ["SweepModel", "SweepResult", "read_sweep", "sweep"]

logger = logging.getLogger(__name__)

#: Name of the description file in a sweep's output folder.
META_FILE = "_sweep.json"
#: Name of the table of every run's inputs in a sweep's output folder.
RUNS_FILE = "runs.parquet"
#: Most runs in one task when the batch size is chosen automatically.
MAX_AUTO_BATCH = 50
_DIRECTIONS = ("export", "import")


@dataclass
class SweepModel:
    """Everything a run needs, built once and sent to each worker once.

    Attributes
    ----------
    spec
        The sweep.
    network
        Road network with gates and hubs attached.
    gates
        Gates with the calibrated rates and the base scenario applied.
    demand
        Base demand (``origin``, ``direction``, ``trucks_per_day``).
    assign_options
        Keyword arguments of :func:`bordergeo.assign` (the calibrated gate choice).
    daily_cv
        Calibrated day-to-day variation of net arrivals.
    seasonal
        Monthly demand factors by direction (12 each).
    calendar_share
        Per gate id and direction, the share of capacity on each day of the season.
    """

    spec: SweepSpec
    network: RoadNetwork
    gates: pd.DataFrame
    demand: pd.DataFrame
    assign_options: dict[str, Any]
    daily_cv: float
    seasonal: dict[str, np.ndarray]
    calendar_share: dict[tuple[str, str], np.ndarray]

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Days of the season."""
        return pd.date_range(self.spec.start, self.spec.end, freq="D")

    def _gates_for(self, inputs: dict[str, Any]) -> pd.DataFrame:
        from bordergeo.scenarios import apply_scenario, load_scenario

        point = {axis: inputs[axis] for axis in self.spec.grid}
        gates = apply_scenario(self.gates, load_scenario(_scenario_changes(point)))
        factors = {name.partition(".")[2]: value for name, value in inputs.items()
                   if name.startswith("draw.service_rate")}
        if factors:
            gates = gates.copy()
            factor = np.full(len(gates), factors.get("", 1.0))
            ids = gates["id"].astype(str).to_numpy()
            for gate_id, value in factors.items():
                if gate_id:
                    factor[ids == gate_id.removeprefix("service_rate.")] *= value
            for column in ("service_rate_trucks_h", "service_rate_trucks_h_export",
                           "service_rate_trucks_h_import", "capacity_trucks_day"):
                if column in gates.columns:
                    gates[column] = pd.to_numeric(gates[column], errors="coerce") * factor
        return gates

    def _demand_for(self, inputs: dict[str, Any]) -> pd.DataFrame:
        from bordergeo.scenarios import load_scenario

        point = {axis: inputs[axis] for axis in self.spec.grid}
        demand = load_scenario(_scenario_changes(point)).scaled_demand(self.demand)
        factor = np.ones(len(demand))
        origin = demand["origin"].astype(str).to_numpy()
        direction = (demand["direction"].astype(str).to_numpy() if "direction" in demand
                     else np.full(len(demand), ""))
        for name, value in inputs.items():
            if not name.startswith("draw.demand"):
                continue
            rest = name.removeprefix("draw.demand").lstrip(".")
            hub, _, way = rest.partition(".")
            if rest in _DIRECTIONS:
                hit = direction == rest
            elif rest:
                hit = (origin == hub) & ((direction == way) if way else True)
            else:
                hit = np.ones(len(demand), bool)
            factor = np.where(hit, factor * value, factor)
        return demand.assign(trucks_per_day=demand["trucks_per_day"].to_numpy(float) * factor)

    def run(self, inputs: dict[str, Any]) -> pd.DataFrame:
        """Run one grid point and draw (from :meth:`SweepSpec.run_inputs`).

        Returns
        -------
        pandas.DataFrame
            ``run``, ``gate_id``, ``direction``, ``date`` and the spec's outputs, one row
            per gate that clears goods, direction and day.
        """
        from bordergeo.assignment import assign
        from bordergeo.gates import capacity_gates

        gates = self._gates_for(inputs)
        demand = self._demand_for(inputs)
        keep = gates.loc[capacity_gates(gates).to_numpy(), "id"].astype(str).to_numpy()
        dates = self.dates
        month = dates.month.to_numpy() - 1
        surge = np.ones(len(dates))
        if "draw.surge.size" in inputs:
            surge_month = int(inputs.get("draw.surge.month", 0)) - 1
            surge = np.where(month == surge_month, inputs["draw.surge.size"], 1.0)
        # the demand of each month (seasonal factor × surge) is assigned on its own: in a
        # busy month the calibrated gate choice moves trucks to the less loaded gates
        periods = pd.DataFrame({"month": month, "surge": surge})
        period_of_day = periods.groupby(["month", "surge"], sort=False).ngroup().to_numpy()
        shape = (len(keep), len(dates))
        daily = {d: {k: np.zeros(shape) for k in ("trucks", "capacity", "queue_wait")}
                 for d in _DIRECTIONS}
        for period in range(period_of_day.max() + 1):
            days = period_of_day == period
            m, factor = month[days][0], surge[days][0]
            direction = demand["direction"].astype(str) if "direction" in demand else None
            scale = (np.where(direction == "export", self.seasonal["export"][m],
                              self.seasonal["import"][m]) if direction is not None
                     else 0.5 * (self.seasonal["export"][m] + self.seasonal["import"][m]))
            busy = demand.assign(trucks_per_day=demand["trucks_per_day"].to_numpy(float)
                                 * scale * factor)
            flows = assign(self.network, gates, busy, **self.assign_options).gates
            flows = flows.set_index(flows["gate_id"].astype(str)).reindex(keep)
            for d in _DIRECTIONS:
                for key, column in (("trucks", f"trucks_per_day_{d}"),
                                    ("capacity", f"capacity_trucks_day_{d}"),
                                    ("queue_wait", f"wait_h_{d}")):
                    values = np.nan_to_num(flows[column].to_numpy(float))
                    daily[d][key][:, days] = values[:, None]
        cv = float(inputs.get("draw.daily_cv", self.daily_cv))
        rng = np.random.default_rng(inputs["noise_seed"])
        frames = []
        for direction in _DIRECTIONS:
            arrivals = daily[direction]["trucks"]
            share = np.vstack([self.calendar_share.get((g, direction),
                                                       np.ones(len(dates))) for g in keep])
            capacity = daily[direction]["capacity"] * share
            noise = rng.normal(0.0, 1.0, arrivals.shape) * cv * arrivals
            backlog = np.empty_like(arrivals)
            waiting = np.zeros(len(keep))
            for day in range(len(dates)):  # Lindley: each day depends on the one before
                waiting = np.maximum(waiting + arrivals[:, day] + noise[:, day]
                                     - capacity[:, day], 0.0)
                backlog[:, day] = waiting
            with np.errstate(divide="ignore", invalid="ignore"):
                wait = np.where(capacity > 0,
                                daily[direction]["queue_wait"] + 24.0 * backlog / capacity,
                                np.nan)
            columns = {"trucks": arrivals, "capacity": capacity, "backlog": backlog,
                       "wait_h": wait}
            frames.append(pd.DataFrame({
                "run": np.int64(inputs["run"]),
                "gate_id": np.repeat(keep, len(dates)),
                "direction": direction,
                "date": np.tile(dates.to_numpy(), len(keep)),
                **{name: columns[name].ravel() for name in self.spec.outputs}}))
        return pd.concat(frames, ignore_index=True)

    def run_batch(self, runs: Sequence[int]) -> pd.DataFrame:
        """Run several runs; their rows in run order."""
        return pd.concat([self.run(self.spec.run_inputs(int(r))) for r in runs],
                         ignore_index=True)


def build_model(spec: SweepSpec, *, dataset: BorderDataset | None = None,
                network: RoadNetwork | None = None, demand: pd.DataFrame | None = None,
                calibration: Calibration | None = None) -> SweepModel:
    """Prepare the model of a sweep (on the bundled data and calibration by default).

    Parameters
    ----------
    spec
        The sweep.
    dataset, network, demand, calibration
        The data; ``None`` takes the bundled dataset, its network, the bundled 2024 demand
        by direction and the bundled calibration.

    Returns
    -------
    SweepModel
    """
    from bordergeo.calibration import load_calibration
    from bordergeo.congestion import load_demand, resolve_scenario
    from bordergeo.datasets import load_dataset
    from bordergeo.gates import crossing_ids
    from bordergeo.routing import dataset_network
    from bordergeo.scenarios import apply_scenario, load_scenario
    from bordergeo.timeline import load_calendar, load_seasonal_factors

    dataset = load_dataset() if dataset is None else dataset
    network = dataset_network(dataset) if network is None else network
    demand = load_demand("demand_2024_by_direction.csv") if demand is None else demand
    fitted = load_calibration() if calibration is None else calibration
    gates = fitted.apply(dataset.gates)
    if spec.scenario is not None:
        gates = apply_scenario(gates, load_scenario(resolve_scenario(spec.scenario)))
    seasonal = {d: np.asarray(v, float) for d, v in load_seasonal_factors().items()}
    calendar = load_calendar()
    crossing = crossing_ids(dataset.gates)
    dates = pd.date_range(spec.start, spec.end, freq="D")
    shares = {}
    for gate_id in dataset.gates["id"].astype(str):
        for direction in _DIRECTIONS:
            share = calendar.capacity_shares(dates, gate_id=gate_id,
                                             crossing_id=crossing.get(gate_id),
                                             direction=direction)
            if (share != 1).any():
                shares[(gate_id, direction)] = share
    return SweepModel(spec=spec, network=network, gates=gates, demand=demand,
                      assign_options=fitted.assign_options(),
                      daily_cv=fitted.daily_cv, seasonal=seasonal, calendar_share=shares)


@dataclass
class SweepResult:
    """Where a sweep's results are and how it ran.

    Attributes
    ----------
    path
        The output folder (Parquet parts, ``runs.parquet``, ``_sweep.json``).
    runs
        Runs in the sweep.
    batches
        Batches (Parquet parts) in the sweep.
    computed
        Batches computed by this call (the others were already there).
    seconds
        Wall time of this call.
    dashboard
        The Dask dashboard's address, when one was running.
    """

    path: Path
    runs: int
    batches: int
    computed: int
    seconds: float
    dashboard: str | None = None

    def read(self) -> pd.DataFrame:
        """Return every row of the sweep (see :func:`read_sweep`)."""
        return read_sweep(self.path)


def _part(folder: Path, batch: int) -> Path:
    return folder / f"part-{batch:06d}.parquet"


def _batches(n_runs: int, size: int) -> list[range]:
    return [range(start, min(start + size, n_runs)) for start in range(0, n_runs, size)]


def _prepare_folder(folder: Path, spec: SweepSpec, batch_size: int, *, resume: bool
                    ) -> int:
    """Create or check the output folder; return the batch size to use."""
    meta_path = folder / META_FILE
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BorderGeoError(f"{meta_path}: unreadable sweep description ({exc})") from None
        if meta.get("fingerprint") != spec.fingerprint():
            raise BorderGeoError(f"{folder}: holds the results of another sweep; choose "
                                 f"another output folder or remove it")
        if not resume:
            raise BorderGeoError(f"{folder}: holds this sweep's results already; resume it "
                                 f"or choose another output folder")
        return int(meta["batch_size"])
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BorderGeoError(f"{folder}: exists and is not a sweep's output folder")
    folder.mkdir(parents=True, exist_ok=True)
    from bordergeo.io import atomic_write_text

    runs = pd.DataFrame([_flat(spec.run_inputs(r)) for r in range(spec.n_runs)])
    write_parquet(runs, folder / RUNS_FILE)
    atomic_write_text(meta_path, json.dumps({
        "bordergeo_sweep": 1, "fingerprint": spec.fingerprint(), "runs": spec.n_runs,
        "batch_size": batch_size, "spec": spec.to_dict()}, ensure_ascii=False, indent=1,
        default=str))
    return batch_size


def _flat(inputs: dict[str, Any]) -> dict[str, Any]:
    """Run inputs as table cells (lists of gates as text)."""
    return {k: (",".join(v) if isinstance(v, list) else v) for k, v in inputs.items()}


def _auto_batch(n_runs: int, workers: int) -> int:
    """Return runs per task: about four tasks per worker, at most :data:`MAX_AUTO_BATCH`."""
    return max(1, min(MAX_AUTO_BATCH, math.ceil(n_runs / max(1, 4 * workers))))


def _run_model_batch(model: SweepModel, runs: range) -> pd.DataFrame:
    return model.run_batch(runs)


def sweep(spec: SweepSpec | str | os.PathLike[str] | dict, *,
          output: str | os.PathLike[str], dataset: BorderDataset | None = None,
          network: RoadNetwork | None = None, demand: pd.DataFrame | None = None,
          calibration: Calibration | None = None, scheduler: str | None = None,
          workers: int | None = None, resume: bool = True,
          progress: bool | None = None) -> SweepResult:
    """Run a sweep and write its results to a folder of Parquet parts.

    Parameters
    ----------
    spec
        The sweep (:class:`~bordergeo.sweepspec.SweepSpec`, a YAML/JSON file or a dict).
    output
        Output folder; created, or resumed when it holds this sweep's unfinished results.
    dataset, network, demand, calibration
        The data (bundled by default, see :func:`build_model`).
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); ``None`` starts a local
        cluster.
    workers
        Workers of the local cluster (default: one per core); ``0`` runs in this process
        without Dask.
    resume
        Continue a sweep found in ``output`` (otherwise that is an error).
    progress
        Show a progress bar (default: when the error stream is a terminal).

    Returns
    -------
    SweepResult

    Raises
    ------
    SchemaError
        A bad specification (before any work starts).
    BorderGeoError
        An output folder holding something else.
    """
    started = time.perf_counter()
    if not isinstance(spec, SweepSpec):
        from bordergeo.datasets import load_dataset

        dataset = load_dataset() if dataset is None else dataset
        spec = load_sweep_spec(spec, known_gates=set(dataset.gates["id"].astype(str)),
                               known_origins=set(dataset.hubs["id"].astype(str)))
    if workers is not None and workers < 0:
        raise BorderGeoError(f"workers must be 0 (no Dask) or more, not {workers}")
    n_workers = (os.cpu_count() or 1) if workers is None else workers
    folder = Path(output)
    batch_size = _prepare_folder(folder, spec, spec.batch_size or _auto_batch(
        spec.n_runs, max(1, n_workers)), resume=resume)
    batches = _batches(spec.n_runs, batch_size)
    todo = [b for b in range(len(batches)) if not _part(folder, b).exists()]
    logger.info("sweep %s: %d runs in %d batches, %d to compute", spec.name, spec.n_runs,
                len(batches), len(todo))
    result = SweepResult(folder, spec.n_runs, len(batches), len(todo), 0.0)
    if todo:
        model = build_model(spec, dataset=dataset, network=network, demand=demand,
                            calibration=calibration)
        fingerprint = spec.fingerprint()
        result.dashboard = run_pieces(
            _run_model_batch, model, [batches[b] for b in todo],
            lambda index, frame: write_parquet(frame, _part(folder, todo[index])),
            scheduler=scheduler, workers=workers, name=f"bordergeo-sweep-{fingerprint}",
            progress=progress, done=len(batches) - len(todo))
    result.seconds = time.perf_counter() - started
    return result


def _parts(folder: Path) -> Iterator[Path]:
    yield from sorted(folder.glob("part-*.parquet"))


def read_sweep(path: str | os.PathLike[str], *, with_inputs: bool = False) -> pd.DataFrame:
    """Read every row a sweep wrote, in run order.

    Parameters
    ----------
    path
        The sweep's output folder.
    with_inputs
        Join each row with its run's grid values and drawn inputs.

    Returns
    -------
    pandas.DataFrame
        ``run``, ``gate_id``, ``direction``, ``date`` and the outputs.

    Raises
    ------
    BorderGeoError
        Not a sweep's folder, or a sweep still missing batches.
    """
    folder = Path(path)
    meta = folder / META_FILE
    if not meta.exists():
        raise BorderGeoError(f"{folder}: not a sweep's output folder (no {META_FILE})")
    info = json.loads(meta.read_text(encoding="utf-8"))
    parts = list(_parts(folder))
    expected = len(_batches(int(info["runs"]), int(info["batch_size"])))
    if len(parts) != expected:
        raise BorderGeoError(f"{folder}: {len(parts)} of {expected} batches done; run the "
                             f"sweep again to finish it")
    frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    if with_inputs:
        frame = frame.merge(pd.read_parquet(folder / RUNS_FILE), on="run", how="left")
    return frame

