"""Studies behind the analysis maps: fastest routes, assignment under a scenario, backlogs.

The map modules draw computed results; this module computes them (routing, the calibrated
assignment, the fluid backlog, replays of observed series) and hands
:func:`bordergeo.maps.build_map` its keyword arguments.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bordergeo.datasets import BorderDataset
from bordergeo.errors import BorderGeoError
from bordergeo.routing import Route, Router

__all__ = ["analysis_layers", "fastest_routes"]


def fastest_routes(router: Router, *, origins: Sequence[str] | None = None,
                   gates: Sequence[str] | None = None) -> list[Route]:
    """Return each origin's fastest route to its quickest open road gate.

    Parameters
    ----------
    router
        A router over the dataset's network.
    origins
        Hub ids or names (default: every hub).
    gates
        Gate ids to choose from (default: open road gates).

    Returns
    -------
    list of Route
        One per origin that reaches a gate, in the order given.
    """
    dataset = router.dataset
    if dataset is None:
        raise BorderGeoError("fastest_routes needs a router built with the dataset")
    origins = list(origins) if origins is not None else dataset.hubs["id"].tolist()
    if gates is None:
        usable = dataset.gates[(dataset.gates["mode"] == "road")
                               & (dataset.gates["status"] == "open")]
        gates = usable["id"].tolist()
    table = router.matrix(origins, list(gates))
    table = table[table["reachable"]]
    best = table.loc[table.groupby("origin", sort=False)["travel_time_min"].idxmin()]
    return [router.route(o, d) for o, d in zip(best["origin"], best["destination"],
                                               strict=True)]


def analysis_layers(dataset: BorderDataset, *, routes: bool = False, corridors: bool = False,
                    scenario: str | os.PathLike[str] | None = None,
                    observed: str | os.PathLike[str] | None = None,
                    replay: str | os.PathLike[str] | None = None,
                    demand: pd.DataFrame | None = None, days: int = 7,
                    initial_backlog: float = 0.0, start_date: str = "2026-01-01",
                    calibration: str | os.PathLike[str] | None = None
                    ) -> dict[str, object]:
    """Compute the analysis layers of :func:`bordergeo.maps.build_map` from the dataset.

    Parameters
    ----------
    dataset
        Gates, hubs and roads.
    routes
        Each hub's fastest route to its quickest open road gate.
    corridors
        Road flows of the user-equilibrium assignment of ``demand`` (width by trucks/day)
        and their volume/capacity.
    scenario
        A scenario file or bundled name: assign under it and show per-gate load, waits and
        a modelled daily backlog on the time slider.
    observed
        An observed CSV (``date``, ``gate_id``, ``trucks_waiting``) for the time slider;
        ``"sample"`` for the bundled Dec 2021 – Feb 2022 series.
    replay
        A replay file (arrivals and capacity, see
        :func:`bordergeo.congestion.replay_file`) whose modelled backlog joins the observed
        one on the slider; with ``observed="sample"`` the bundled December 2021 replay is
        used unless another is given.
    demand
        ``origin``, ``trucks_per_day`` (default: the bundled estimate).
    days
        Days of modelled backlog on the slider.
    initial_backlog
        Trucks already waiting when the modelled days start, shared among the gates in
        proportion to their capacity (e.g. 4,300 for the December 2021 stock).
    start_date
        First day of the modelled slider (the model has no calendar; fixed for
        reproducible output).
    calibration
        Calibration file for the gate choice and rates (default: the bundled one;
        ``"none"`` for shortest-time choice).

    Returns
    -------
    dict
        Keyword arguments for :func:`bordergeo.maps.build_map` (``routes``, ``corridors``,
        ``road_load``, ``gate_load``, ``timeline``, ``scenario_table``, ``subtitle``).
    """
    from bordergeo.assignment import assign
    from bordergeo.calibration import load_calibration
    from bordergeo.congestion import load_demand, replay_file, resolve_scenario, sample_path
    from bordergeo.queues import fluid_backlog, read_observed
    from bordergeo.routing import Router, dataset_network
    from bordergeo.scenarios import Scenario, apply_scenario, load_scenario

    layers: dict[str, object] = {}
    network = dataset_network(dataset)
    if routes:
        layers["routes"] = fastest_routes(Router(network, dataset))
    titles = []
    if corridors or scenario is not None:
        chosen = load_scenario(resolve_scenario(scenario)) if scenario is not None \
            else Scenario()
        fitted = None if calibration is not None and str(calibration).lower() == "none" \
            else load_calibration(calibration)
        base = fitted.apply(dataset.gates) if fitted is not None else dataset.gates
        gates = apply_scenario(base, chosen)
        trucks = load_demand("demand_2024_by_direction.csv") if demand is None else demand
        trucks = chosen.scaled_demand(trucks)
        result = assign(network, gates, trucks,
                        **(fitted.assign_options() if fitted is not None else {}))
        titles.append(chosen.name if scenario is not None
                      else "2024 demand" + (", calibrated gate choice" if fitted else ""))
        if corridors:
            layers["corridors"] = result.roads
            layers["road_load"] = result.roads
        if scenario is not None:
            load = result.gates.copy()
            share = load["capacity_trucks_day"] / load["capacity_trucks_day"].sum()
            dates = pd.date_range(start_date, periods=days, freq="D")
            series, ends, clears = [], [], []
            for row, part in zip(load.itertuples(), share, strict=True):
                run = fluid_backlog(np.full(days, row.trucks_per_day), row.capacity_trucks_day,
                                    initial=initial_backlog * part)
                ends.append(float(run.backlog[-1]))
                clears.append(np.nan if run.days_to_clear is None else run.days_to_clear)
                series.append(pd.DataFrame({"date": dates, "gate_id": row.gate_id,
                                            "trucks_waiting": run.backlog,
                                            "kind": "modelled"}))
            load["backlog_end"], load["days_to_clear"] = ends, clears
            load["horizon_days"] = days
            layers["gate_load"] = load
            layers["timeline"] = pd.concat(series, ignore_index=True)
            layers["scenario_table"] = _scenario_table(dataset, load, chosen.name, network,
                                                       trucks_base=demand, fitted=fitted)
    if observed is not None:
        sample = str(observed) == "sample"
        path = sample_path("langson_2021_2022.csv") if sample else observed
        seen = read_observed(path).assign(kind="observed")
        spec = replay if replay is not None else (
            sample_path("december_2021_scenario.json") if sample else None)
        if spec is not None:
            model = replay_file(path, spec)
            seen = pd.concat([seen, pd.DataFrame({
                "date": model["date"], "gate_id": model["gate_id"],
                "trucks_waiting": model["model_backlog"], "kind": "modelled"})],
                ignore_index=True)
        layers["timeline"] = seen
        first, last = pd.to_datetime(seen["date"]).min(), pd.to_datetime(seen["date"]).max()
        titles.append(f"trucks waiting {first:%d %b %Y} – {last:%d %b %Y}"
                      + (", observed and replayed" if spec is not None else ", observed"))
    elif replay is not None:
        raise BorderGeoError("a replay needs the observed series it replays (observed=...)")
    if titles:
        layers["subtitle"] = "; ".join(titles)
    return layers


def _scenario_table(dataset: BorderDataset, load: pd.DataFrame, name: str, network,
                    *, trucks_base: pd.DataFrame | None, fitted) -> pd.DataFrame:
    """Trucks/day by crossing: the baseline beside the scenario (for the comparison chart)."""
    from bordergeo.assignment import assign
    from bordergeo.congestion import load_demand
    from bordergeo.gates import by_crossing

    demand = load_demand("demand_2024_by_direction.csv") if trucks_base is None \
        else trucks_base
    base_gates = fitted.apply(dataset.gates) if fitted is not None else dataset.gates
    baseline = assign(network, base_gates, demand,
                      **(fitted.assign_options() if fitted is not None else {})).gates
    names = dataset.gates.set_index(dataset.gates["id"].astype(str))["name_vi"]
    rows = []
    for label, flows in (("baseline", baseline), (name, load)):
        table = by_crossing(flows, dataset.gates, columns=["trucks_per_day"])
        rows.append(table.assign(scenario=label,
                                 name=table["crossing_id"].map(names).fillna(
                                     table["crossing_id"])))
    return pd.concat(rows, ignore_index=True)
