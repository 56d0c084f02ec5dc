"""Sweep specifications: a grid of scenarios × Monte Carlo draws of uncertain inputs.

A sweep asks the calibrated model the same question many times. Its specification (YAML or
JSON, or a dict) says which scenario fields to vary on a grid, which inputs are uncertain
and how (a distribution each, one seed for all), the season to run day by day and the
outputs wanted::

    name: fruit season 2026, lanes at 1119–1120 and reopened secondary gates
    scenario: baseline_2026          # bundled name or file; default: the calibrated baseline
    start: 2026-05-01                 # first and last day of the day-by-day backlog
    end: 2026-08-31
    grid:                             # every combination is run
      huu-nghi-1119.lanes_export: [2, 3, 7]
      huu-nghi-1119.lanes_import: [2, 3, 7]
      open: [[], [na-hinh, na-nua]]
    draws:                            # each grid point is run `count` times
      count: 100
      seed: 2026
      inputs:
        demand.export: {dist: uniform, low: 0.7, high: 1.3}
        demand.import: {dist: normal, mean: 1.0, sd: 0.15, low: 0.5, high: 1.5}
        service_rate: {dist: lognormal, sigma: 0.1}
        surge.size: {dist: triangular, low: 1.0, mode: 1.3, high: 1.8}
        surge.month: {dist: choice, values: [5, 6, 7]}
    outputs: [trucks, capacity, backlog, wait_h]
    thresholds: [300, 600]            # trucks waiting, for exceedance probabilities

Every value is checked before any run starts, and a wrong one is one error naming the
file and the field. :meth:`SweepSpec.runs` lists the runs; each run's random inputs come
from its own generator seeded by ``(seed, run)``, so a run's result does not depend on
how runs are batched or where they execute.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bordergeo.errors import SchemaError
from bordergeo.inputs import MAX_DAYS, InputRangeError, check_number, load_structured, preview

__all__ = ["DISTRIBUTIONS", "INPUTS", "OUTPUTS", "SweepSpec", "bundled_sweeps",
           "load_sweep_spec", "resolve_sweep"]

#: Outputs per gate, direction and day a sweep may keep.
OUTPUTS = ("trucks", "capacity", "backlog", "wait_h")
#: Uncertain inputs a draw may set (``<gate>``: a gate id, ``<origin>``: a hub id).
INPUTS = {
    "demand": "factor on every demand",
    "demand.export": "factor on export demand",
    "demand.import": "factor on import demand",
    "demand.<origin>": "factor on one hub's demand",
    "service_rate": "factor on every gate's calibrated service rate",
    "service_rate.<gate>": "factor on one gate's service rate",
    "daily_cv": "day-to-day variation of net arrivals (calibrated value if not drawn)",
    "surge.size": "factor on demand in the surge month (1 = no surge)",
    "surge.month": "month of the surge (1–12)",
}
#: Distributions and their parameters (``low``/``high`` also truncate normal and lognormal).
DISTRIBUTIONS = {
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("sigma",),
    "triangular": ("low", "mode", "high"),
    "choice": ("values",),
}
#: Most runs one specification may ask for.
MAX_RUNS = 1_000_000
#: Most values on one grid axis.
MAX_GRID_VALUES = 1_000
_TOP_KEYS = {"name", "description", "scenario", "start", "end", "grid", "draws", "outputs",
             "thresholds", "batch_size", "sources"}
_DIRECTIONS = ("export", "import")


@dataclass(frozen=True)
class Distribution:
    """One uncertain input's distribution (see :data:`DISTRIBUTIONS`)."""

    kind: str
    params: dict[str, Any]

    def draw(self, rng: np.random.Generator) -> float:
        """Draw one value (truncated normal/lognormal by rejection, then clipping)."""
        p = self.params
        if self.kind == "uniform":
            return float(rng.uniform(p["low"], p["high"]))
        if self.kind == "triangular":
            return float(rng.triangular(p["low"], p["mode"], p["high"]))
        if self.kind == "choice":
            return float(p["values"][int(rng.integers(len(p["values"])))])
        low, high = p.get("low", -np.inf), p.get("high", np.inf)
        for _ in range(100):
            value = (rng.normal(p["mean"], p["sd"]) if self.kind == "normal"
                     else rng.lognormal(p.get("mean", 0.0), p["sigma"]))
            if low <= value <= high:
                return float(value)
        return float(np.clip(value, low, high))


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep specification (see the module's description).

    Attributes
    ----------
    name
        Label of the sweep.
    scenario
        Base scenario (a bundled name or file), ``None`` for the calibrated baseline.
    start, end
        First and last day of the day-by-day backlog.
    grid
        Axis name → values; every combination is run.
    draws
        Runs per grid point (1 without uncertain inputs).
    seed
        Seed of every draw.
    inputs
        Input name → its distribution.
    outputs
        Columns kept per gate, direction and day.
    thresholds
        Backlogs (trucks) whose exceedance probability the summaries report.
    batch_size
        Runs per task (``None``: chosen from the number of runs and workers).
    source
        Where the specification came from.
    """

    name: str
    scenario: str | None
    start: dt.date
    end: dt.date
    grid: dict[str, list[Any]] = field(default_factory=dict)
    draws: int = 1
    seed: int = 0
    inputs: dict[str, Distribution] = field(default_factory=dict)
    outputs: tuple[str, ...] = OUTPUTS
    thresholds: tuple[float, ...] = ()
    batch_size: int | None = None
    source: str = "sweep"

    @property
    def days(self) -> int:
        """Days in the season."""
        return (self.end - self.start).days + 1

    @property
    def grid_points(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values, in a fixed order."""
        axes = list(self.grid)
        return [dict(zip(axes, values, strict=True))
                for values in itertools.product(*(self.grid[a] for a in axes))]

    @property
    def n_runs(self) -> int:
        """Number of runs: grid points × draws."""
        return int(np.prod([len(v) for v in self.grid.values()], dtype=np.int64)) * self.draws

    def run_inputs(self, run: int) -> dict[str, Any]:
        """Grid values and drawn inputs of one run (``run`` in ``range(n_runs)``).

        The draws come from a generator seeded by ``(seed, run)``: the same run gets the
        same inputs whatever the batching.
        """
        points = self.grid_points
        point = points[run // self.draws]
        rng = np.random.default_rng([self.seed, run])
        drawn = {name: dist.draw(rng) for name, dist in self.inputs.items()}
        return {"run": run, "grid_point": run // self.draws, **point,
                **{f"draw.{k}": v for k, v in drawn.items()},
                "noise_seed": int(rng.integers(2**62))}

    def fingerprint(self) -> str:
        """Return a hash of everything that changes results (resuming checks it)."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"name": self.name, "scenario": self.scenario, "start": str(self.start),
                "end": str(self.end), "grid": self.grid, "draws": self.draws,
                "seed": self.seed,
                "inputs": {k: {"dist": d.kind, **d.params} for k, d in self.inputs.items()},
                "outputs": list(self.outputs), "thresholds": list(self.thresholds)}


def bundled_sweeps() -> dict[str, Path]:
    """Return the bundled example sweeps, by name (file stem)."""
    from bordergeo.congestion import _data_root

    root = _data_root("scenarios") / "sweeps"
    return {p.stem: p for p in sorted(root.glob("*"))
            if p.suffix.lower() in (".yaml", ".yml", ".json")}


def resolve_sweep(spec: str | os.PathLike[str]) -> Path:
    """Return the file of a sweep given as a path or a bundled name (``fruit_season_2026``).

    Raises
    ------
    DataFileError
        Neither a file nor a bundled sweep.
    """
    from bordergeo.congestion import resolve_bundled

    return resolve_bundled(spec, bundled_sweeps(), what="sweep")


def _error(message: str, source: str, field_name: str | None = None) -> SchemaError:
    return SchemaError(message, source=source, field=field_name)


def _date(value: object, name: str, source: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _error(f"{preview(value)} is not a date (YYYY-MM-DD)", source, name) from None


def _number(value: object, name: str, source: str, **bounds: Any) -> float:
    try:
        return check_number(value, name=name, **bounds)
    except InputRangeError as exc:
        raise _error(str(exc), source, name) from None


def _check_input_name(name: str, source: str) -> None:
    parts = name.split(".")
    ok = (name in INPUTS
          or (parts[0] in ("demand", "service_rate") and len(parts) in (2, 3)
              and all(parts[1:]))
          )
    if not ok:
        raise _error(f"unknown uncertain input {preview(name)}; use one of "
                     f"{', '.join(INPUTS)}", source, "draws.inputs")


def _distribution(name: str, raw: object, source: str) -> Distribution:
    where = f"draws.inputs.{name}"
    if not isinstance(raw, dict) or "dist" not in raw:
        raise _error("must be a mapping with 'dist' and its parameters, e.g. "
                     "{dist: uniform, low: 0.7, high: 1.3}", source, where)
    kind = str(raw["dist"])
    if kind not in DISTRIBUTIONS:
        raise _error(f"unknown distribution {preview(kind)}; use one of "
                     f"{', '.join(DISTRIBUTIONS)}", source, where)
    needed = DISTRIBUTIONS[kind]
    allowed = set(needed) | ({"low", "high", "mean"} if kind in ("normal", "lognormal")
                             else set())
    extra = sorted(set(raw) - allowed - {"dist"})
    missing = [p for p in needed if p not in raw]
    if extra or missing:
        what = f"needs {', '.join(missing)}" if missing else f"does not take {extra[0]}"
        raise _error(f"{kind} {what} (parameters: {', '.join(needed)})", source, where)
    if kind == "choice":
        values = raw["values"]
        if not isinstance(values, list) or not values or len(values) > MAX_GRID_VALUES:
            raise _error(f"values must be a list of 1 to {MAX_GRID_VALUES} numbers", source,
                         where)
        params: dict[str, Any] = {"values": [_number(v, f"{where} values", source)
                                             for v in values]}
    else:
        params = {k: _number(raw[k], f"{where} {k}", source,
                             low=0 if k in ("sd", "sigma") else None)
                  for k in allowed if k in raw}
    if kind in ("uniform", "triangular") and not params["low"] <= params["high"]:
        raise _error("low must not exceed high", source, where)
    if kind == "triangular" and not params["low"] <= params["mode"] <= params["high"]:
        raise _error("mode must lie between low and high", source, where)
    if name == "surge.month":
        values = params.get("values", [params.get("low", 1), params.get("high", 12)])
        if kind != "choice" or not all(float(v).is_integer() and 1 <= v <= 12
                                       for v in values):
            raise _error("surge.month is a choice of months 1–12, e.g. "
                         "{dist: choice, values: [5, 6, 7]}", source, where)
    return Distribution(kind, params)


def _grid(raw: object, source: str) -> dict[str, list[Any]]:
    from bordergeo.scenarios import load_scenario

    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _error("must map '<gate>.<field>', 'demand.<direction>' or 'open'/'close' to "
                     "lists of values", source, "grid")
    grid: dict[str, list[Any]] = {}
    for axis, values in raw.items():
        where = f"grid.{axis}"
        if not isinstance(values, list) or not values or len(values) > MAX_GRID_VALUES:
            raise _error(f"must be a list of 1 to {MAX_GRID_VALUES} values", source, where)
        axis = str(axis)
        for value in values:  # each value must make a valid scenario on its own
            try:
                load_scenario(_scenario_changes({axis: value}, source=source, where=where))
            except SchemaError as exc:
                raise _error(f"{preview(value)}: {exc.reason}", source, where) from None
        grid[axis] = list(values)
    return grid


def _scenario_changes(point: dict[str, Any], *, source: str = "sweep",
                      where: str = "grid") -> dict[str, Any]:
    """Return the scenario mapping of one grid point (``load_scenario`` checks values)."""
    data: dict[str, Any] = {"name": "grid point", "gates": {}, "open": [], "close": []}
    multiplier: dict[str, float] = {}
    for axis, value in point.items():
        head, _, rest = axis.partition(".")
        if axis in ("open", "close"):
            if not isinstance(value, list):
                raise _error(f"each value of {axis} is a list of gate ids", source, where)
            data[axis] = data[axis] + list(value)
        elif head == "demand":
            if rest not in ("", *_DIRECTIONS):
                raise _error("demand on the grid is 'demand', 'demand.export' or "
                             "'demand.import'", source, where)
            for direction in ([rest] if rest else _DIRECTIONS):
                multiplier[direction] = multiplier.get(direction, 1.0) * float(
                    _number(value, where, source, low=0))
        elif rest and "." not in rest:
            data["gates"].setdefault(head, {})[rest] = value
        else:
            raise _error(f"unknown grid axis {preview(axis)}; use '<gate>.<field>', "
                         "'demand', 'demand.<direction>', 'open' or 'close'", source, where)
    if multiplier:
        data["demand_multiplier"] = multiplier
    return data


def load_sweep_spec(spec: str | os.PathLike[str] | dict, *,
                    known_gates: set[str] | None = None,
                    known_origins: set[str] | None = None) -> SweepSpec:
    """Read and check a sweep specification (YAML/JSON file or dict).

    Parameters
    ----------
    spec
        The file (or a bundled sweep's name) or mapping (see :mod:`bordergeo.sweepspec`).
    known_gates, known_origins
        Gate and hub ids of the dataset; when given, grid axes and inputs that name
        others are errors.

    Returns
    -------
    SweepSpec

    Raises
    ------
    DataFileError
        Unreadable file.
    SchemaError
        Any value out of place, naming the field.
    """
    source = "sweep" if isinstance(spec, dict) else str(spec)
    if not isinstance(spec, dict):
        spec = resolve_sweep(spec)
        source = str(spec)
    data = dict(spec) if isinstance(spec, dict) else load_structured(Path(spec),
                                                                     what="sweep")
    if not isinstance(data, dict):
        raise _error("a sweep is a mapping (name, start, end, grid, draws, outputs)", source)
    unknown = sorted(str(k) for k in set(data) - _TOP_KEYS)
    if unknown:
        raise _error(f"unknown key {preview(unknown[0])}; expected "
                     f"{', '.join(sorted(_TOP_KEYS))}", source)
    for key in ("start", "end"):
        if key not in data:
            raise _error("is required (YYYY-MM-DD)", source, key)
    start, end = _date(data["start"], "start", source), _date(data["end"], "end", source)
    if not start <= end or (end - start).days + 1 > MAX_DAYS:
        raise _error(f"must be on or after start and at most {MAX_DAYS} days later", source,
                     "end")
    grid = _grid(data.get("grid"), source)
    draws_raw = data.get("draws") or {}
    if not isinstance(draws_raw, dict):
        raise _error("must be a mapping with count, seed and inputs", source, "draws")
    extra = sorted(set(draws_raw) - {"count", "seed", "inputs"})
    if extra:
        raise _error(f"unknown key {preview(extra[0])}; expected count, seed, inputs", source,
                     "draws")
    inputs_raw = draws_raw.get("inputs") or {}
    if not isinstance(inputs_raw, dict):
        raise _error("must map input names to distributions", source, "draws.inputs")
    inputs = {}
    for name, raw in inputs_raw.items():
        _check_input_name(str(name), source)
        inputs[str(name)] = _distribution(str(name), raw, source)
    count = int(_number(draws_raw.get("count", 1 if not inputs else 100), "draws.count",
                        source, low=1, high=MAX_RUNS, integer=True))
    seed = int(_number(draws_raw.get("seed", 0), "draws.seed", source, low=0, high=2**63 - 1,
                       integer=True))
    outputs = data.get("outputs", list(OUTPUTS))
    if not isinstance(outputs, list) or not outputs or any(o not in OUTPUTS for o in outputs):
        raise _error(f"must be a list of {', '.join(OUTPUTS)}", source, "outputs")
    thresholds = data.get("thresholds") or []
    if not isinstance(thresholds, list):
        raise _error("must be a list of backlogs (trucks)", source, "thresholds")
    thresholds = [_number(t, "thresholds", source, low=0) for t in thresholds]
    batch = data.get("batch_size")
    batch = None if batch is None else int(_number(batch, "batch_size", source, low=1,
                                                   high=100_000, integer=True))
    scenario = data.get("scenario")
    if scenario is not None and not isinstance(scenario, str):
        raise _error("is a bundled scenario name or a file", source, "scenario")
    name = str(data.get("name") or Path(source).stem)
    result = SweepSpec(name=name, scenario=scenario, start=start, end=end, grid=grid,
                       draws=count, seed=seed, inputs=inputs, outputs=tuple(dict.fromkeys(
                           outputs)), thresholds=tuple(thresholds), batch_size=batch,
                       source=source)
    if result.n_runs > MAX_RUNS:
        raise _error(f"asks for {result.n_runs:,} runs; at most {MAX_RUNS:,}", source, "grid")
    _check_names(result, known_gates, known_origins)
    return result


def _check_names(spec: SweepSpec, gates: set[str] | None, origins: set[str] | None) -> None:
    if gates is not None:
        for axis, values in spec.grid.items():
            head = axis.partition(".")[0]
            named = ([g for v in values for g in v] if axis in ("open", "close")
                     else [] if head == "demand" else [head])
            for gate in named:
                if gate not in gates:
                    raise _error(f"no gate {preview(gate)} in the dataset", spec.source,
                                 f"grid.{axis}")
        for name in spec.inputs:
            head, _, rest = name.partition(".")
            if head == "service_rate" and rest and rest not in gates:
                raise _error(f"no gate {preview(rest)} in the dataset", spec.source,
                             f"draws.inputs.{name}")
    if origins is not None:
        for name in spec.inputs:
            head, _, rest = name.partition(".")
            origin = rest.partition(".")[0]
            if head == "demand" and rest and rest not in _DIRECTIONS and origin not in origins:
                raise _error(f"no hub {preview(origin)} in the dataset", spec.source,
                             f"draws.inputs.{name}")
