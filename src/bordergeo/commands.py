"""What each ``bordergeo`` command does, once :mod:`bordergeo.cli` has parsed its arguments.

Each ``cmd_*`` function takes the parsed arguments and returns the exit status; errors are
the project's exceptions, which the command line turns into one line.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bordergeo.cli import EXIT_NOT_CONVERGED, EXIT_USER_ERROR
from bordergeo.datasets import LAYERS, BorderDataset, load_dataset, load_layer
from bordergeo.errors import BorderGeoError, ValidationError
from bordergeo.inputs import MAX_TRUCKS_PER_DAY, check_number
from bordergeo.io import atomic_write_text, csv_text, remove_stale_temporaries

__all__ = ["clear_stale_temporaries"]

logger = logging.getLogger("bordergeo")


_GATE_TABLE_COLUMNS = ["id", "name_vi", "name_en", "name_zh", "level", "mode", "status",
                       "lanes_export", "lanes_import", "hours_vn", "hours_cn",
                       "capacity_trucks_day"]

#: Options naming a file (or folder) the command writes.
_OUTPUT_OPTIONS = ("output", "png", "chart", "roads_output", "gates_output", "summary",
                   "fan_chart", "map")


def clear_stale_temporaries(args: argparse.Namespace) -> None:
    """Remove what killed runs left beside this run's outputs (older than an hour)."""
    folders = set()
    for name in _OUTPUT_OPTIONS:
        value = getattr(args, name, None)
        if value:
            path = Path(value)
            folders.add(path.parent)
            if path.is_dir():
                folders.add(path)
    for folder in sorted(folders):
        remove_stale_temporaries(folder)


def _dataset(args: argparse.Namespace) -> BorderDataset:
    return load_dataset(args.data)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        atomic_write_text(output, text)
        print(f"wrote {output}", file=sys.stderr)


def _workbook(output: Path | None, sheets: dict[str, pd.DataFrame]) -> bool:
    """Write ``sheets`` to an .xlsx output and say so; False when the output is not .xlsx."""
    if output is None or output.suffix.lower() != ".xlsx":
        return False
    from bordergeo.io import write_table

    print(f"wrote {write_table(sheets, output)}", file=sys.stderr)
    return True


def _records(gdf: gpd.GeoDataFrame) -> list[dict]:
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame["lon"] = gdf.geometry.x.round(6)
    frame["lat"] = gdf.geometry.y.round(6)
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict(orient="records")


def cmd_gates(args: argparse.Namespace) -> int:
    """List the gates as a table, JSON, GeoJSON or CSV."""
    gates = _dataset(args).gates
    if _workbook(args.output, {"gates": pd.DataFrame(_records(gates))}):
        return 0
    if args.format == "json":
        text = json.dumps(_records(gates), ensure_ascii=False, indent=2)
    elif args.format == "geojson":
        text = gates.to_json(ensure_ascii=False, indent=1, drop_id=True)
    elif args.format == "csv":
        text = csv_text(pd.DataFrame(_records(gates)))
    else:
        table = pd.DataFrame(gates[[c for c in _GATE_TABLE_COLUMNS if c in gates.columns]])
        table = table.astype(object).where(table.notna(), "")
        text = table.to_string(index=False)
    _emit(text, args.output)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate a dataset folder, a GeoPackage, or one layer file."""
    path = Path(args.path)
    layer = args.layer
    if layer is None and path.is_file() and path.suffix.lower() != ".gpkg":
        stem = path.stem.lower()
        layer = next((name for name in LAYERS if stem == name or stem.startswith(name)), None)
        if layer is None:
            raise BorderGeoError(f"{path}: cannot tell which layer this file is from its name; "
                                 f"pass --layer ({', '.join(LAYERS)})")
    cap = args.max_problems
    try:
        if layer is not None:
            gdf = load_layer(path, layer)
            print(f"ok: {path} is a valid {layer} layer ({len(gdf)} rows)")
            return 0
        dataset = load_dataset(path, strict=True)
    except ValidationError as exc:
        problems = exc.problems
        if len(problems) == 1:  # the one-line form main() uses for every error
            print(f"bordergeo: error: {problems[0]}", file=sys.stderr)
            return EXIT_USER_ERROR
        by_file: dict[str, list] = {}
        for problem in problems:
            by_file.setdefault(problem.source or str(path), []).append(problem)
        lines = [f"bordergeo: error: {path}: {len(problems)} problems in {len(by_file)} "
                 f"file{'s' if len(by_file) > 1 else ''}"]
        shown = 0
        for source, found in by_file.items():
            if cap and shown >= cap:
                break
            lines.append(f"{source}: {len(found)} problem{'s' if len(found) > 1 else ''}")
            for problem in found[:cap - shown] if cap else found:
                lines.append(f"  {problem.detail}")
                shown += 1
        if shown < len(problems):
            lines.append(f"… and {len(problems) - shown} more problems (--max-problems 0 "
                         f"lists them all)")
        print("\n".join(lines), file=sys.stderr)
        return EXIT_USER_ERROR
    counts = ", ".join(f"{name} {len(gdf)}" for name, gdf in dataset.layers().items())
    print(f"ok: {path} is a valid dataset ({counts})")
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    """Render the interactive map to an HTML file."""
    from bordergeo.maps import build_map, save_map

    output = Path(args.output)
    if output.suffix.lower() not in (".html", ".htm"):
        raise BorderGeoError(f"{output}: the map is an HTML file; use a .html name")
    if args.png is not None and Path(args.png).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise BorderGeoError(f"{args.png}: the static figure is a .png, .svg or .pdf file")
    dataset = _dataset(args)
    layers: dict = {}
    if args.routes or args.corridors or args.scenario or args.congestion or args.replay:
        from bordergeo.analysis import analysis_layers
        from bordergeo.congestion import load_demand

        layers = analysis_layers(dataset, routes=args.routes, corridors=args.corridors,
                                 scenario=args.scenario, observed=args.congestion,
                                 replay=args.replay,
                                 demand=load_demand(args.demand) if args.demand else None,
                                 days=args.days, initial_backlog=args.initial_backlog,
                                 calibration=args.calibration)
    provinces = None
    if args.provinces:
        from bordergeo.io import read_layer

        provinces = read_layer(args.provinces)
    m = build_map(dataset, basemap=args.basemap, provinces=provinces, lang=args.lang,
                  title=args.title, **layers)
    written = save_map(m, output, offline=args.offline)
    print(f"wrote {written}")
    if args.png is not None:
        from bordergeo.maps import default_title
        from bordergeo.static import plot_map, save_figure

        heading = args.title or default_title(dataset, lang=args.lang)
        if layers.get("subtitle"):
            heading = f"{heading}: {layers['subtitle']}"
        figure = plot_map(dataset, routes=layers.get("routes"), corridors=layers.get("corridors"),
                          gate_load=layers.get("gate_load"), title=heading)
        print(f"wrote {save_figure(figure, args.png)}")
    return 0


def _router(args: argparse.Namespace):  # -> Router, imported lazily
    from bordergeo.roadlayer import read_roads
    from bordergeo.routing import Router, dataset_network

    dataset = _dataset(args)
    roads = None
    if getattr(args, "roads", None):
        roads, _ = read_roads(args.roads, columns=getattr(args, "road_columns", None))
    elif getattr(args, "road_columns", None):
        raise BorderGeoError("--road-columns needs --roads FILE")
    speeds = getattr(args, "class_speeds", None)
    options = {"speeds_kph": speeds} if speeds else {}
    snap_km = getattr(args, "max_snap_km", None)  # farther gates/hubs: a warning, left out
    snap = {"max_snap_m": snap_km * 1000.0} if snap_km is not None else {}
    return Router(dataset_network(dataset, roads=roads, **options, **snap), dataset, **snap)


def _default_gates(router) -> list[str]:
    gates = router.dataset.gates
    usable = gates[(gates["mode"] == "road") & (gates["status"] != "closed")]
    return usable["id"].tolist()


def cmd_route(args: argparse.Namespace) -> int:
    """Print the fastest route (and alternatives) between two places."""
    if args.chart and Path(args.chart).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise BorderGeoError(f"{args.chart}: the chart is a .png, .svg or .pdf file")
    router = _router(args)
    if args.alternatives > 1:
        routes = router.alternatives(args.origin, args.destination, k=args.alternatives)
    else:
        routes = [router.route(args.origin, args.destination)]
    if args.format == "json":
        text = json.dumps([r.to_dict() for r in routes], ensure_ascii=False, indent=2)
    elif args.format == "geojson":
        frame = pd.concat([r.to_gdf(router.network.crs) for r in routes], ignore_index=True)
        text = gpd.GeoDataFrame(frame, crs=router.network.crs).to_json(ensure_ascii=False,
                                                                        drop_id=True)
    else:
        lines = []
        for k, r in enumerate(routes, start=1):
            label = f"route {k}: " if len(routes) > 1 else ""
            lines.append(f"{label}{r.origin.display} → {r.destination.display}: "
                         f"{r.length_km:.1f} km, {r.travel_time_min:.0f} min via "
                         f"{r.road_sequence or '(unnamed roads)'} (snapped "
                         f"{r.origin.snap_m:.0f} m / {r.destination.snap_m:.0f} m)")
        text = "\n".join(lines)
    _emit(text, args.output)
    if args.chart:
        from bordergeo.static import save_figure, time_distance_chart

        figure = time_distance_chart(routes[0], router.network, border_wait_h=args.border_wait_h)
        print(f"wrote {save_figure(figure, args.chart)}", file=sys.stderr)
    return 0


def _place_names(dataset: BorderDataset) -> dict[str, str]:
    """Gate and hub id → the name people use (Vietnamese), for text tables."""
    names: dict[str, str] = {}
    for layer in (dataset.gates, dataset.hubs):
        for place_id, name in zip(layer["id"].astype(str), layer["name_vi"], strict=True):
            names[place_id] = name if isinstance(name, str) and name.strip() else place_id
    return names


def cmd_matrix(args: argparse.Namespace) -> int:
    """Print the travel-time and distance matrix from hubs to gates."""
    router = _router(args)
    origins = args.origins or router.dataset.hubs["id"].tolist()
    gates = args.destinations or _default_gates(router)
    if args.close_road or args.close_gate:
        table = router.closure_impact(origins, gates, closed_gates=args.close_gate or (),
                                      roads=args.close_road or ())
    else:
        table = router.matrix(origins, gates)
    if _workbook(args.output, {"matrix": table}):
        return 0
    if args.format == "json":
        records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
        text = json.dumps(records, ensure_ascii=False, indent=2)
    elif args.format == "csv":
        text = csv_text(table, float_format="%.3f")
    else:
        shown = table.copy()
        if "reachable" in shown.columns:
            shown["travel_time_min"] = [f"{t:.0f}" if ok else "unreachable" for t, ok in
                                        zip(shown["travel_time_min"], shown["reachable"],
                                            strict=True)]
            shown["length_km"] = [f"{x:.1f}" if ok else "" for x, ok in
                                  zip(shown["length_km"], shown["reachable"], strict=True)]
            shown = shown.pivot(index="origin", columns="destination",
                                values="travel_time_min").loc[list(dict.fromkeys(
                                    shown["origin"]))]
            names = _place_names(router.dataset)
            shown = shown.rename(index=names, columns=names).rename_axis(
                index="from", columns="to")
            text = "travel time (min) by fastest route\n" + shown.to_string()
        else:
            text = shown.round(1).to_string(index=False)
    _emit(text, args.output)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the dataset's layers to a GeoPackage or to a folder of files."""
    from bordergeo.io import write_layers

    layers = {name: gdf for name, gdf in _dataset(args).layers().items() if len(gdf)}
    for path in write_layers(layers, args.output, suffix=f".{args.format}"):
        print(f"wrote {path}")
    return 0


def cmd_import_osm(args: argparse.Namespace) -> int:
    """Convert an OSM extract to a roads layer (and candidate gates)."""
    from bordergeo.io import write_layer
    from bordergeo.osm import DRIVABLE, read_osm

    roads, controls = read_osm(args.file, highways=None if args.all_highways else DRIVABLE,
                               progress=not args.quiet)
    written = write_layer(roads, args.output, layer="roads")
    print(f"wrote {written} ({len(roads)} roads)")
    if args.gates_output:
        gates_written = write_layer(controls, args.gates_output, layer="gates")
        print(f"wrote {gates_written} ({len(controls)} border-control nodes)")
    elif len(controls):
        print(f"{len(controls)} border-control nodes found; --gates-output FILE keeps them")
    return 0


def _json_text(data: object) -> str:
    def clean(value: object) -> object:
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if hasattr(value, "item"):  # numpy scalars
            return clean(value.item())
        if isinstance(value, pd.Timestamp):
            return value.date().isoformat()
        return value
    return json.dumps(clean(data), ensure_ascii=False, indent=2)


def _frame_records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def cmd_queue(args: argparse.Namespace) -> int:
    """Steady-state wait at a gate (Erlang C, or M/G/c with --service-cv2)."""
    from bordergeo.queues import erlang_c, mgc_approximation

    if args.service_cv2 is None:
        result = erlang_c(args.servers, args.arrival_rate, args.service_rate)
        model = "M/M/c (Erlang C)"
    else:
        result = mgc_approximation(args.servers, args.arrival_rate, args.service_rate,
                                   service_cv2=args.service_cv2)
        model = f"M/G/c (Allen–Cunneen, service Cs² = {args.service_cv2:g})"
    if args.format == "json":
        text = _json_text({"model": model, **result.to_dict()})
    else:
        text = (f"{model}: {result.servers} lanes, {result.arrival_rate_h:g} trucks/h arriving, "
                f"{result.service_rate_h:g} trucks/h per lane\n"
                f"  utilisation       {result.utilisation:.3f}\n"
                f"  P(wait)           {result.p_wait:.3f}\n"
                f"  mean wait         {result.mean_wait_h * 60:.1f} min\n"
                f"  mean queue        {result.mean_queue:.2f} trucks")
    _emit(text, args.output)
    return 0


def _daily_values(text: str, *, days: int, name: str) -> list[float]:
    parts = text.split(",")
    if len(parts) not in (1, days):
        raise BorderGeoError(f"{name}: {len(parts):,} values given for {days:,} days; give one "
                             f"value or one per day")
    values = [check_number(v, name=name, low=0, high=MAX_TRUCKS_PER_DAY) for v in parts]
    return values * days if len(values) == 1 else values


def cmd_backlog(args: argparse.Namespace) -> int:
    """Days-long backlog by the daily fluid queue."""
    from bordergeo.queues import fluid_backlog

    arrivals = _daily_values(args.arrivals_per_day, days=args.days, name="--arrivals-per-day")
    capacity = _daily_values(args.capacity_per_day, days=args.days, name="--capacity-per-day")
    run = fluid_backlog(arrivals, capacity, initial=args.initial)
    frame = run.to_frame()
    if args.format == "json":
        text = _json_text({"backlog": frame["backlog"].round(3).tolist(),
                           "days_to_clear": run.days_to_clear,
                           "peak": run.peak, "initial": run.initial,
                           "cleared": frame["served"].round(3).tolist(),
                           "cohort_wait_days": (frame["cohort_wait_h"] / 24).round(3).tolist()})
    else:
        frame.insert(0, "day", range(1, len(frame) + 1))
        frame["cohort_wait_days"] = frame.pop("cohort_wait_h") / 24
        clear = ("not cleared within the horizon" if run.days_to_clear is None
                 else f"cleared in {run.days_to_clear:g} days")
        text = (frame.round(1).to_string(index=False)
                + f"\nstart {run.initial:g} trucks, peak {run.peak:.0f}, {clear}")
    _emit(text, args.output)
    return 0


def _scenario_list(args: argparse.Namespace) -> list:
    from bordergeo.congestion import resolve_scenario
    from bordergeo.scenarios import load_scenario

    return [load_scenario(resolve_scenario(spec)) for spec in args.scenario or []]


def _calibration(args: argparse.Namespace):  # -> Calibration | None, imported lazily
    from bordergeo.calibration import load_calibration

    spec = getattr(args, "calibration", None)
    if spec is not None and str(spec).lower() == "none":
        return None
    return load_calibration(spec)


def _study_demand(args: argparse.Namespace) -> pd.DataFrame:
    from bordergeo.congestion import load_demand

    return load_demand(args.demand or "demand_2024_by_direction.csv")


def _observed_paths(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    from bordergeo.congestion import sample_path

    if args.observed is None:
        if args.replay:
            raise BorderGeoError("--replay needs --observed FILE (or --observed sample)")
        return None, None
    if args.observed == "sample":
        observed = sample_path("langson_2021_2022.csv")
        spec = args.replay or sample_path("december_2021_scenario.json")
        return observed, Path(spec)
    return Path(args.observed), Path(args.replay) if args.replay else None


def _observed_summary(observed: Path) -> pd.DataFrame:
    from bordergeo.queues import read_observed

    series = read_observed(observed)
    rows = []
    for gate_id, group in series.groupby("gate_id", sort=False):
        peak = group.loc[group["trucks_waiting"].idxmax()]
        rows.append({"gate_id": gate_id, "first_date": group["date"].min(),
                     "last_date": group["date"].max(), "observations": len(group),
                     "peak_trucks_waiting": peak["trucks_waiting"], "peak_date": peak["date"],
                     "last_trucks_waiting": group["trucks_waiting"].iloc[-1]})
    return pd.DataFrame(rows)


def cmd_congestion(args: argparse.Namespace) -> int:
    """Per-gate capacity, flow, wait and backlog under scenarios; replays of observations."""
    from bordergeo.congestion import compare_scenarios, replay_file
    from bordergeo.routing import dataset_network

    dataset = _dataset(args)
    scenarios = _scenario_list(args)
    observed, spec = _observed_paths(args)
    comparison = compare_scenarios(dataset, dataset_network(dataset), _study_demand(args),
                                   scenarios, objective=args.objective, days=args.days,
                                   initial_backlog=args.initial,
                                   calibration=_calibration(args))
    result: dict[str, pd.DataFrame] = {"scenarios": comparison}
    if observed is not None and spec is not None:
        result["replay"] = replay_file(observed, spec)
    elif observed is not None:
        result["observed"] = _observed_summary(observed)
    if _workbook(args.output, result):
        return 0
    if args.format == "json":
        text = _json_text({k: _frame_records(v) for k, v in result.items()})
    elif args.format == "csv":
        text = csv_text(comparison, float_format="%.3f")
    else:
        parts = []
        for name, frame in comparison.groupby("scenario", sort=False):
            shown = frame[frame["status"] != "closed"].drop(columns="scenario")
            parts.append(f"== {name} ({args.objective.upper()}, {args.days}-day backlog)\n"
                         + shown.round(2).to_string(index=False))
        if "replay" in result:
            replayed = result["replay"].copy()
            replayed["date"] = replayed["date"].dt.date
            parts.append("== replay of the observed backlog\n"
                         + replayed.round(0).to_string(index=False, na_rep=""))
        if "observed" in result:
            parts.append("== observed series\n" + result["observed"].to_string(index=False))
        text = "\n\n".join(parts)
    _emit(text, args.output)
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    """Gate choice: assign truck demand to roads and gates (UE, SO or both)."""
    from bordergeo.assignment import assign
    from bordergeo.congestion import compare_ue_so
    from bordergeo.routing import dataset_network
    from bordergeo.scenarios import Scenario, apply_scenario

    dataset = _dataset(args)
    scenarios = _scenario_list(args)
    if len(scenarios) > 1:
        raise BorderGeoError("assign takes one --scenario; compare several with "
                             "'bordergeo congestion --scenario A B'")
    scenario = scenarios[0] if scenarios else Scenario()
    calibration = _calibration(args)
    base = calibration.apply(dataset.gates) if calibration is not None else dataset.gates
    gates = apply_scenario(base, scenario)
    demand = scenario.scaled_demand(_study_demand(args))
    choice = calibration.assign_options() if calibration is not None \
        and args.objective == "ue" else {}
    network = dataset_network(dataset)
    if args.objective == "both":
        per_gate, totals = compare_ue_so(network, gates, demand, target_gap=args.gap,
                                         algorithm=args.algorithm)
        status = 0 if totals["ue_converged"] and totals["so_converged"] else EXIT_NOT_CONVERGED
        if _workbook(args.output, {"gates": per_gate,
                                   "totals": pd.DataFrame([totals])}):
            return status
        if args.format == "json":
            text = _json_text({"scenario": scenario.name, **totals,
                               "gates": per_gate.set_index("gate_id").to_dict(orient="index")})
        else:
            text = (f"scenario: {scenario.name}\n" + per_gate.round(2).to_string(index=False)
                    + f"\ntruck-hours per day: UE {totals['ue_truck_hours']:.1f}, "
                      f"SO {totals['so_truck_hours']:.1f} "
                      f"(regulation saves {100 * totals['ue_so_gap']:.2f} %)")
        _emit(text, args.output)
        return status
    result = assign(network, gates, demand, objective=args.objective, target_gap=args.gap,
                    algorithm=args.algorithm, **choice)
    if args.roads_output:
        from bordergeo.io import write_layer

        written = write_layer(result.roads, args.roads_output)
        print(f"wrote {written} ({len(result.roads)} loaded road edges)", file=sys.stderr)
    if _workbook(args.output, {"gates": result.gates, "origins": result.origins,
                               "origin_gates": result.origin_gates,
                               **({"goods": result.goods} if len(result.goods) else {}),
                               "costs": result.costs,
                               "convergence": pd.DataFrame({
                                   "iteration": range(1, result.iterations + 1),
                                   "relative_gap": result.relative_gap})}):
        return 0 if result.converged else EXIT_NOT_CONVERGED
    if args.format == "json":
        text = _json_text({"scenario": scenario.name, **result.to_dict(),
                           "crossings": _crossing_split(result.gates, gates),
                           "origin_gates": _frame_records(result.origin_gates),
                           **({"goods": _frame_records(result.goods)}
                              if len(result.goods) else {}),
                           "relative_gap_by_iteration": result.relative_gap})
    else:
        shown = result.gates.copy()
        model = "logit SUE (calibrated)" if choice else f"{args.objective.upper()} " \
                                                          f"({args.algorithm})"
        split = _crossing_split(result.gates, gates)
        text = (f"scenario: {scenario.name}; {model} after "
                f"{result.iterations} iterations, relative gap {result.relative_gap[-1]:.2e}"
                + ("" if result.converged else f" (NOT converged: target {args.gap:g})") + "\n"
                + shown.round(3).to_string(index=False)
                + f"\ntotal {result.total_trucks_per_day:.0f} trucks/day, "
                  f"{result.total_truck_hours:.1f} truck-hours/day\nby crossing (lanes summed "
                  f"once): " + ", ".join(f"{k} {v['trucks_per_day']:.0f} ({v['share']:.1%})"
                                         for k, v in split.items()))
        if len(result.goods):
            columns = ["goods"] + (["direction"] if "direction" in result.goods.columns else [])
            by_goods = result.goods.pivot_table(index=columns, columns="gate_id",
                                                values="trucks_per_day", aggfunc="sum",
                                                fill_value=0.0)
            text += "\ntrucks/day by goods class and gate\n" + by_goods.round(1).to_string()
    _emit(text, args.output)
    return 0 if result.converged else EXIT_NOT_CONVERGED


def _crossing_split(gate_flows: pd.DataFrame, gates: pd.DataFrame) -> dict[str, dict]:
    from bordergeo.gates import by_crossing

    table = by_crossing(gate_flows, gates, columns=["trucks_per_day"])
    total = float(table["trucks_per_day"].sum())
    return {str(row.crossing_id): {"trucks_per_day": float(row.trucks_per_day),
                                   "share": float(row.trucks_per_day) / total if total else 0.0}
            for row in table.itertuples(index=False)}


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the model to the observed daily reports; write the calibration file."""
    from bordergeo.calibration import calibrate
    from bordergeo.routing import dataset_network

    dataset = _dataset(args)
    from bordergeo.calibration import DEFAULT_HOLDOUT

    text = ",".join(DEFAULT_HOLDOUT) if args.holdout is None else args.holdout
    holdout = [d.strip() for d in text.split(",") if d.strip()]
    result = calibrate(dataset, dataset_network(dataset), _study_demand(args),
                       observations=args.observations, holdout=holdout,
                       calendar=args.calendar, seasonal_factors=args.seasonal_factors)
    if args.write:
        written = result.save(args.write)
        print(f"wrote {written} (calibration: {len(result.targets)} targets, median relative "
              f"error {result.median_relative_error:.1%})", file=sys.stderr)
    if args.format == "json":
        text = _json_text(result.to_dict())
    else:
        table = result.targets.assign(date=result.targets["date"].dt.date)
        shown = ["name", "observed", "modelled", "relative_error"]
        text = ("fit on every target (log-ratio least squares):\n"
                + table[shown].round(3).to_string(index=False)
                + f"\nmedian relative error {result.median_relative_error:.1%} over "
                  f"{len(table)} targets")
        if len(result.holdout):
            text += ("\n\nhold-out (" + ", ".join(result.holdout_dates) + ", predicted by a "
                     "fit without them):\n" + result.holdout[shown].round(3).to_string(
                         index=False)
                     + f"\nmedian relative error {result.holdout_median_relative_error:.1%}")
        text += "\n\nparameters:\n" + json.dumps(result.parameters(), ensure_ascii=False,
                                                  indent=1)
    _emit(text, args.output)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a sweep into a folder of Parquet parts; report where and how long."""
    from bordergeo.calibration import load_calibration
    from bordergeo.congestion import load_demand
    from bordergeo.sweep import sweep

    if not args.verbose:  # the sweep's own lines (plan, dashboard), not Dask's chatter
        import distributed  # noqa: F401 - configures its loggers on import; quieted below

        logging.getLogger("distributed").setLevel(logging.WARNING)
        logging.getLogger("bordergeo.sweep").setLevel(logging.INFO)
    dataset = _dataset(args)
    result = sweep(args.spec, output=args.output, dataset=dataset,
                   demand=None if args.demand is None else load_demand(args.demand),
                   calibration=None if args.calibration is None
                   else load_calibration(args.calibration),
                   scheduler=args.scheduler, workers=args.workers)
    print(f"wrote {result.path}: {result.runs:,} runs in {result.batches:,} parts "
          f"({result.computed:,} computed now) in {result.seconds:.1f} s", file=sys.stderr)
    if args.summary or args.fan_chart or args.map:
        _sweep_outputs(args, result.path, dataset)
    return 0


def _sweep_outputs(args: argparse.Namespace, folder: Path, dataset: BorderDataset) -> None:
    """Write the summary tables, fan chart and map a sweep command asked for."""
    from bordergeo.sweep import read_sweep
    from bordergeo.sweepsummary import fan_chart, summarise

    tables = summarise(folder, gates=dataset.gates)
    if args.summary:
        from bordergeo.io import write_table

        chosen = tables if args.summary.suffix.lower() == ".xlsx" \
            else tables["season_exceedance"]
        print(f"wrote {write_table(chosen, args.summary)}", file=sys.stderr)
    if args.fan_chart:
        from bordergeo.static import save_figure

        thresholds = tables["season_exceedance"]["threshold"].unique().tolist()
        figure = fan_chart(read_sweep(folder), gates=dataset.gates, thresholds=thresholds)
        print(f"wrote {save_figure(figure, args.fan_chart)}", file=sys.stderr)
    if args.map:
        from bordergeo.maps import build_map, save_map

        m = build_map(dataset, exceedance=tables["season_exceedance"],
                      subtitle=f"sweep {folder.name}: chance the season's backlog passes")
        print(f"wrote {save_map(m, args.map, offline=True)}", file=sys.stderr)
