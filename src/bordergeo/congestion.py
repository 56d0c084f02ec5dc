"""Congestion studies: scenario comparison per gate and replays of observed backlogs.

Combines gate operations, the assignment and the fluid queue: for each scenario, how much
each gate can clear, how many trucks choose it, the wait they face, the backlog after some
days and the time to clear one.
"""

from __future__ import annotations

import contextlib
import os
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from bordergeo.assignment import assign, checked_demand
from bordergeo.calibration import Calibration
from bordergeo.datasets import BorderDataset
from bordergeo.errors import DataFileError, SchemaError
from bordergeo.gates import capacity_gates, gate_operations, operations_table
from bordergeo.inputs import load_structured, preview, read_text_table
from bordergeo.network import RoadNetwork
from bordergeo.queues import fluid_backlog, read_observed, replay
from bordergeo.scenarios import (
    DIRECTION_TRUCKS_DAY,
    Scenario,
    apply_scenario,
    load_scenario,
    piecewise_daily,
)

__all__ = ["sample_path", "bundled_scenarios", "resolve_scenario", "load_demand",
           "checked_demand",
           "compare_scenarios", "compare_ue_so", "replay_file"]

_SAMPLE_FOLDERS = ("observed", "scenarios")


def _data_root(folder: str) -> Path:
    packaged = Path(str(resources.files("bordergeo"))) / "data" / folder
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "data" / folder


def sample_path(name: str) -> Path:
    """Path of a bundled sample in ``data/observed`` or ``data/scenarios``.

    Parameters
    ----------
    name
        e.g. ``"demand_2024.csv"``, ``"langson_2021_2022.csv"``,
        ``"december_2021_scenario.json"`` or ``"smart_gate_phase1.yaml"``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataFileError
        No bundled file has that name.
    """
    for folder in _SAMPLE_FOLDERS:
        path = _data_root(folder) / name
        if path.exists():
            return path
    raise DataFileError(f"bundled sample {name!r} is missing from this installation")


def bundled_scenarios() -> dict[str, Path]:
    """Return the bundled example scenarios, by name (file stem).

    Returns
    -------
    dict
        ``{"smart_gate_phase1": Path(...), ...}``, sorted by name.
    """
    root = _data_root("scenarios")
    files = sorted(p for p in root.glob("*") if p.suffix.lower() in (".yaml", ".yml", ".json"))
    return {p.stem: p for p in files}


def resolve_scenario(spec: str | os.PathLike[str]) -> Path:
    """Return the file of a scenario given as a path or as a bundled scenario's name.

    Parameters
    ----------
    spec
        A file path, or a bundled name such as ``"smart_gate_phase1"`` (``-`` and ``_``
        are interchangeable).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataFileError
        Neither a file nor a bundled scenario.
    """
    return resolve_bundled(spec, bundled_scenarios(), what="scenario")


def resolve_bundled(spec: str | os.PathLike[str], bundled: dict[str, Path], *,
                    what: str) -> Path:
    """Return ``spec`` if it is a file, else the bundled file of that name.

    Parameters
    ----------
    spec
        A path, or a bundled name (``-`` and ``_`` interchangeable, suffix optional).
    bundled
        Bundled files by name.
    what
        What the file is, for the message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataFileError
        Neither a file nor a bundled name.
    """
    path = Path(spec)
    if path.exists():
        return path
    name = str(spec)
    if Path(name).suffix.lower() in (".yaml", ".yml", ".json") and "/" not in name:
        name = Path(name).stem
    key = name.replace("-", "_")
    if key in bundled:
        return bundled[key]
    raise DataFileError(f"{spec}: no such {what} file, nor a bundled {what} "
                        f"({', '.join(bundled) or 'none installed'})")


def load_demand(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read a demand CSV (``origin``, ``trucks_per_day``, optional ``direction``).

    Parameters
    ----------
    path
        A CSV file, or the name of a bundled one (``demand_2024.csv``, the default, or
        ``demand_2024_by_direction.csv``).

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path) if path is not None else sample_path("demand_2024.csv")
    if not path.exists() and path.parent == Path("."):
        with contextlib.suppress(DataFileError):
            path = sample_path(path.name)
    return checked_demand(read_text_table(path, what="demand CSV"), source=str(path))


def compare_scenarios(dataset: BorderDataset, network: RoadNetwork, demand: pd.DataFrame,
                      scenarios: list[Scenario | str | os.PathLike[str] | dict], *,
                      objective: str = "ue", days: int = 7,
                      initial_backlog: float = 0.0,
                      calibration: Calibration | None = None) -> pd.DataFrame:
    """Compare gates across scenarios: capacity, flow, wait, backlog, time to clear.

    Parameters
    ----------
    dataset
        Gates (and hubs) of the baseline.
    network
        Road network with gates and hubs attached.
    demand
        ``origin``, ``trucks_per_day`` (multiplied by each scenario's demand_multiplier).
    scenarios
        Scenarios (objects, dicts, files or bundled names such as ``"smart_gate_phase1"``);
        the baseline is always the first row group.
    objective
        ``"ue"`` or ``"so"`` for the assignment.
    days
        Horizon of the fluid backlog run (assigned flow arriving daily).
    initial_backlog
        Trucks waiting at every gate at the start (e.g. after a closure).
    calibration
        Fitted rates, gate choice and day-to-day variation
        (:func:`bordergeo.calibration.load_calibration`); with one, the UE is the
        calibrated logit equilibrium and the table gains ``stock_20h_export`` and
        ``stock_20h_import``: the trucks expected to wait at 20:00 on an ordinary day
        (backlog of a queue whose days vary at random, plus the evening's arrivals). The
        export stock is what the economic-zone board reports each evening; import trucks
        wait on the Chinese side and are not in that count.

    Returns
    -------
    pandas.DataFrame
        One row per scenario and gate that carries capacity (a crossing's lanes, not the
        crossing itself): ``scenario``, ``gate_id``, ``crossing_id``, ``status``,
        ``capacity_trucks_day``, ``trucks_per_day``, ``wait_h``, ``backlog_end``
        (after ``days``, no day-to-day variation), ``days_to_clear`` (NaN if it never
        clears) and, with a calibration, ``stock_20h_export`` / ``stock_20h_import``.
    """
    runs = [Scenario(name="baseline")] + [
        s if isinstance(s, Scenario) else load_scenario(s if isinstance(s, dict)
                                                        else resolve_scenario(s))
        for s in scenarios]
    rows = []
    base = calibration.apply(dataset.gates) if calibration is not None else dataset.gates
    choice = calibration.assign_options() if calibration is not None and objective == "ue" \
        else {}
    for scenario in runs:
        gates = apply_scenario(base, scenario)
        scaled = scenario.scaled_demand(demand)
        result = assign(network, gates, scaled, objective=objective, **choice)
        flows = result.gates.set_index("gate_id")
        ops = operations_table(gates).set_index("gate_id")
        ops = ops[capacity_gates(gates).to_numpy()]
        stock = _stock_20h(result.gates, gates, calibration) if calibration is not None \
            else {}
        for gate_id, op in ops.iterrows():
            flow = float(flows["trucks_per_day"].get(gate_id, 0.0))
            capacity = float(op["capacity_trucks_day"])
            capacity = 0.0 if not np.isfinite(capacity) else capacity
            run = fluid_backlog(np.full(days, flow), capacity, initial=initial_backlog)
            clear = run.days_to_clear
            rows.append({"scenario": scenario.name, "gate_id": gate_id,
                         "crossing_id": op["crossing_id"],
                         "status": op["status"], "capacity_trucks_day": capacity,
                         "trucks_per_day": flow,
                         "wait_h": float(flows["wait_h"].get(gate_id, np.nan)),
                         "backlog_end": float(run.backlog[-1]),
                         "days_to_clear": np.nan if clear is None else clear,
                         **{f"stock_20h_{d}": stock.get((gate_id, d), 0.0)
                            for d in ("export", "import") if calibration is not None}})
    return pd.DataFrame(rows)


def _stock_20h(flows: pd.DataFrame, gates: pd.DataFrame, calibration: Calibration
               ) -> dict[tuple[str, str], float]:
    """Trucks expected to wait at 20:00 at each gate, by direction.

    Demand without a direction is split as the bundled 2024 demand (375 export, 925
    import of 1,300).
    """
    by_id = gates.set_index(gates["id"].astype(str))
    stock: dict[tuple[str, str], float] = {}
    total = sum(DIRECTION_TRUCKS_DAY.values())
    for direction, trucks in DIRECTION_TRUCKS_DAY.items():
        share = trucks / total
        if f"trucks_per_day_{direction}" in flows.columns:
            trucks = flows[f"trucks_per_day_{direction}"].to_numpy(float)
            capacity = flows[f"capacity_trucks_day_{direction}"].to_numpy(float)
        else:
            trucks = flows["trucks_per_day"].to_numpy(float) * share
            capacity = flows["capacity_trucks_day"].to_numpy(float) / 2
        windows = [gate_operations(by_id.loc[g]).window_for(direction) for g in flows["gate_id"]]
        _, at_20 = calibration.stock(trucks, capacity, windows, hour=20.0)
        for gate_id, value in zip(flows["gate_id"], at_20, strict=True):
            stock[(str(gate_id), direction)] = float(value)
    return stock


def replay_file(observed: str | os.PathLike[str], spec: str | os.PathLike[str]
                ) -> pd.DataFrame:
    """Replay an observed series with the arrivals and capacity of a replay file.

    Parameters
    ----------
    observed
        CSV read by :func:`bordergeo.queues.read_observed`.
    spec
        JSON with ``gate_id``, ``start``, ``end`` and piecewise ``arrivals_trucks_day`` and
        ``capacity_trucks_day`` (``[{"from", "to", "value", "source"}]``).

    Returns
    -------
    pandas.DataFrame
        Daily ``date``, ``gate_id``, ``model_backlog``, ``observed_backlog``,
        ``arrivals``, ``capacity``.
    """
    path = Path(spec)
    data = load_structured(path, what="replay")
    if not isinstance(data, dict) or not {"start", "end"} <= set(data):
        raise SchemaError("a replay is a mapping with start, end, arrivals_trucks_day and "
                          "capacity_trucks_day", source=str(path))
    start, end, gate_id = data["start"], data["end"], data.get("gate_id", "all")
    if not isinstance(gate_id, str) or len(gate_id) > 100:
        raise SchemaError(f"gate_id must be a gate id, not {preview(gate_id)}", source=str(path))
    arrivals = piecewise_daily(data.get("arrivals_trucks_day", []), start, end,
                               what="arrivals_trucks_day", source=str(path))
    capacity = piecewise_daily(data.get("capacity_trucks_day", []), start, end,
                               what="capacity_trucks_day", source=str(path))
    series = read_observed(observed)
    series = series[(series["gate_id"] == gate_id)
                    & (series["date"] >= arrivals.index[0])
                    & (series["date"] <= arrivals.index[-1])]
    if series.empty:
        raise DataFileError(f"{observed}: no observations of gate {gate_id!r} between {start} "
                            f"and {end} (the period of {path.name})")
    days = pd.date_range(series["date"].min(), series["date"].max(), freq="D")[1:]
    return replay(series, arrivals=arrivals.loc[days].to_numpy(),
                  capacity=capacity.loc[days].to_numpy(), gate_id=gate_id)



def compare_ue_so(network: RoadNetwork, gates: pd.DataFrame, demand: pd.DataFrame, *,
                  target_gap: float = 1e-4, algorithm: str = "gp"
                  ) -> tuple[pd.DataFrame, dict[str, float]]:
    """Set the drivers' choice (UE) beside the province's best regulation (SO).

    Parameters
    ----------
    network
        Road network with gates and hubs attached.
    gates
        Gates layer (after any scenario).
    demand
        ``origin``, ``trucks_per_day``.
    target_gap
        Relative gap both assignments run to.
    algorithm
        As in :func:`bordergeo.assignment.assign`.

    Returns
    -------
    per_gate : pandas.DataFrame
        ``gate_id``, ``ue_trucks_per_day``, ``so_trucks_per_day``, ``ue_wait_h``,
        ``so_wait_h``, ``capacity_trucks_day``.
    totals : dict
        ``ue_truck_hours``, ``so_truck_hours`` (per day), ``ue_so_gap`` (the share of UE
        truck-hours that regulation could save), the two final relative gaps and whether
        each reached ``target_gap`` (``ue_converged``, ``so_converged``).
    """
    ue = assign(network, gates, demand, objective="ue", target_gap=target_gap,
                algorithm=algorithm)
    so = assign(network, gates, demand, objective="so", target_gap=target_gap,
                algorithm=algorithm)
    per_gate = pd.DataFrame({
        "gate_id": ue.gates["gate_id"],
        "capacity_trucks_day": ue.gates["capacity_trucks_day"],
        "ue_trucks_per_day": ue.gates["trucks_per_day"],
        "so_trucks_per_day": so.gates["trucks_per_day"].to_numpy(),
        "ue_wait_h": ue.gates["wait_h"],
        "so_wait_h": so.gates["wait_h"].to_numpy()})
    gap = (ue.total_truck_hours - so.total_truck_hours) / ue.total_truck_hours \
        if ue.total_truck_hours > 0 else 0.0
    totals = {"ue_truck_hours": ue.total_truck_hours, "so_truck_hours": so.total_truck_hours,
              "ue_so_gap": gap, "ue_relative_gap": ue.relative_gap[-1],
              "so_relative_gap": so.relative_gap[-1], "ue_converged": ue.converged,
              "so_converged": so.converged}
    return per_gate, totals
