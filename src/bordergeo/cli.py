"""The ``bordergeo`` command: a thin layer over the library.

Every verb calls library functions and formats their results. Errors the user can cause
come back as one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bordergeo import __version__
from bordergeo.datasets import LAYERS, BorderDataset, load_dataset, load_layer
from bordergeo.errors import BorderGeoError, ValidationError
from bordergeo.inputs import (
    MAX_CV2,
    MAX_DAYS,
    MAX_LANES,
    MAX_RATE_TRUCKS_H,
    MAX_TARGET_GAP,
    MAX_TRUCKS,
    MAX_TRUCKS_PER_DAY,
    check_number,
)
from bordergeo.io import atomic_write_text, csv_text, remove_stale_temporaries

__all__ = ["main", "build_parser", "reference_markdown"]

logger = logging.getLogger("bordergeo")

EXIT_USER_ERROR = 1
#: Exit status of an assignment that stopped above its target gap (results still written).
EXIT_NOT_CONVERGED = 3
#: Most alternative routes asked for.
MAX_ALTERNATIVES = 20

_GATE_TABLE_COLUMNS = ["id", "name_vi", "name_en", "name_zh", "level", "mode", "status",
                       "lanes_export", "lanes_import", "hours_vn", "hours_cn",
                       "capacity_trucks_day"]


#: Options naming a file (or folder) the command writes.
_OUTPUT_OPTIONS = ("output", "png", "chart", "roads_output", "gates_output")


def _clear_stale_temporaries(args: argparse.Namespace) -> None:
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


def _whole(name: str, low: int, high: int):  # -> Callable[[str], int]
    """Argparse type: a whole number in [low, high] (errors reach main() as one line)."""
    def parse(text: str) -> int:
        return int(check_number(text, name=name, low=low, high=high, integer=True))
    parse.__name__ = "whole number"
    return parse


def _real(name: str, low: float, high: float, *, low_open: bool = False):
    """Argparse type: a finite number in [low, high] ((low, high] with ``low_open``)."""
    def parse(text: str) -> float:
        return float(check_number(text, name=name, low=low, high=high, low_open=low_open))
    parse.__name__ = "number"
    return parse


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


def _pairs(option: str, text: str, example: str) -> dict[str, str]:
    """Parse ``KEY=VALUE,KEY=VALUE`` (errors are one line naming the option)."""
    from bordergeo.inputs import preview

    if len(text) > 2_000:
        raise BorderGeoError(f"{option}: {preview(text)} is too long")
    pairs: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or key in pairs:
            what = (f"repeats {preview(key)}" if key in pairs
                    else f"{preview(item.strip())} is not KEY=VALUE")
            raise BorderGeoError(f"{option}: {what} (e.g. {example})")
        pairs[key] = value
    return pairs


def _road_columns(text: str) -> dict[str, str | None]:
    """Argparse type of ``--road-columns``: ``ref=ma,name=ten`` (``ref=`` ignores one)."""
    from bordergeo.inputs import preview
    from bordergeo.roadlayer import COLUMN_CANDIDATES

    pairs = _pairs("--road-columns", text, "ref=ma,name=ten,class=cap_duong")
    for target in pairs:
        if target not in COLUMN_CANDIDATES:
            raise BorderGeoError(f"--road-columns: unknown column {preview(target)}; use "
                                 f"{', '.join(COLUMN_CANDIDATES)}")
    return {t: (c or None) for t, c in pairs.items()}


def _class_speeds(text: str) -> dict[str, float]:
    """Argparse type of ``--class-speeds``: ``expressway=80,national=50`` (1–200 km/h)."""
    from bordergeo.inputs import preview
    from bordergeo.roadlayer import MAX_SPEED_KPH
    from bordergeo.schema import ROAD_CLASSES

    classes = [c for c in ROAD_CLASSES if c != "rail"]
    speeds = {}
    for cls, value in _pairs("--class-speeds", text, "expressway=80,national=50").items():
        if cls not in classes:
            raise BorderGeoError(f"--class-speeds: unknown road class {preview(cls)}; use "
                                 f"{', '.join(classes)}")
        speeds[cls] = float(check_number(value, name=f"--class-speeds {cls}", low=1,
                                         high=MAX_SPEED_KPH))
    return speeds


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


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``bordergeo`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", metavar="PATH", default=None,
                        help="use a dataset folder or GeoPackage instead of the bundled "
                             "Lạng Sơn data")
    common.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")

    parser = argparse.ArgumentParser(
        prog="bordergeo",
        description="Border gates of Lạng Sơn: data, routing, congestion and maps.")
    parser.add_argument("--version", action="version", version=f"bordergeo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    gates = sub.add_parser("gates", parents=[common], help="list the border gates",
                           description="List the border gates of the dataset.")
    gates.add_argument("--format", choices=["table", "json", "geojson", "csv"],
                       default="table", help="output format (default: table)")
    gates.add_argument("-o", "--output", type=Path, default=None,
                       help="write to this file instead of standard output")
    gates.set_defaults(func=cmd_gates)

    validate = sub.add_parser(
        "validate", parents=[common], help="check a dataset or a layer file",
        description="Check a dataset folder, a GeoPackage or one layer file against the "
                    "bordergeo data contract, and the layers against each other; print "
                    "every problem found (one line each, grouped by file) on stderr and "
                    "exit with status 1 if there are any.")
    validate.add_argument("path", help="folder, .gpkg, or a layer file")
    validate.add_argument("--layer", choices=LAYERS, default=None,
                          help="which layer a single file is (default: from its name)")
    validate.add_argument("--max-problems", type=_whole("--max-problems", 0, 1_000_000),
                          default=50, metavar="N",
                          help="print at most N problems (default 50; 0 prints all)")
    validate.set_defaults(func=cmd_validate)

    map_ = sub.add_parser("map", parents=[common], help="render the interactive map",
                          description="Draw the border, gates, markers, hubs and roads on an "
                                      "interactive HTML map.")
    map_.add_argument("-o", "--output", default="maps/langson.html",
                      help="HTML file to write (default: maps/langson.html)")
    map_.add_argument("--offline", action="store_true",
                      help="inline all scripts, styles and fonts: one file, no internet needed")
    map_.add_argument("--basemap", choices=["osm", "carto"], default=None,
                      help="offer an online basemap (off until chosen in the layer control)")
    map_.add_argument("--routes", action="store_true",
                      help="draw each hub's fastest route to its quickest open road gate")
    map_.add_argument("--corridors", action="store_true",
                      help="draw road flows of the assigned demand (width by trucks/day) "
                           "and their volume/capacity")
    which = map_.add_mutually_exclusive_group()
    which.add_argument("--congestion", metavar="FILE", default=None,
                       help="observed trucks waiting per gate and day (CSV) on a time slider; "
                            "'sample' for the bundled Dec 2021 – Feb 2022 series")
    which.add_argument("--scenario", metavar="FILE", default=None,
                       help="scenario file or bundled name: gate load, waits and a modelled "
                            "backlog on the time slider")
    map_.add_argument("--replay", metavar="FILE", default=None,
                      help="with --congestion: a replay file whose modelled backlog joins the "
                           "observed one (default with 'sample': the bundled Dec 2021 one)")
    map_.add_argument("--demand", metavar="FILE", default=None,
                      help="CSV of origin,trucks_per_day (default: the bundled estimate)")
    map_.add_argument("--days", type=_whole("--days", 1, MAX_DAYS), default=7,
                      help="days of modelled backlog on the slider (default 7)")
    map_.add_argument("--initial-backlog", type=_real("--initial-backlog", 0, MAX_TRUCKS),
                      default=0.0, metavar="TRUCKS",
                      help="trucks already waiting when the modelled days start, shared by "
                           "capacity (e.g. 4300, the December 2021 stock)")
    map_.add_argument("--provinces", metavar="FILE", default=None,
                      help="outline these administrative areas (a polygon layer)")
    map_.add_argument("--png", metavar="FILE", default=None,
                      help="also write the same layers as a static figure (.png/.svg/.pdf)")
    map_.add_argument("--lang", choices=["en", "vi"], default="en",
                      help="language of legends, layer names, popups and the slider")
    map_.add_argument("--title", metavar="TEXT", default=None,
                      help="title of the map (default: from the data: 'Lạng Sơn border gates' "
                           "for the bundled data, else the data's folder name)")
    map_.add_argument("--calibration", metavar="FILE", default=None,
                      help="calibration for --corridors/--scenario (default: the bundled one; "
                           "'none' for shortest-time gate choice)")
    map_.set_defaults(func=cmd_map)

    routing = argparse.ArgumentParser(add_help=False)
    routing.add_argument("--roads", metavar="FILE", default=None,
                         help="route on this road layer instead of the dataset's roads "
                              "(any line layer: OSM, CTU and project columns are recognised; "
                              "railways, ferries and paths are left out)")
    routing.add_argument("--road-columns", type=_road_columns, default=None,
                         metavar="TARGET=COLUMN,...",
                         help="which --roads column gives id, ref, name, class, "
                              "maxspeed_kph, oneway, lanes, status, length_m..., e.g. "
                              "ref=ma,name=ten,class=cap_duong ('ref=' ignores a column)")
    routing.add_argument("--class-speeds", type=_class_speeds, default=None,
                         metavar="CLASS=KPH,...",
                         help="truck speed by road class where a road has no speed limit, "
                              "e.g. expressway=80,national=50 (1–200 km/h)")
    routing.add_argument("--max-snap-km", type=_real("--max-snap-km", 0.01, 100), default=None,
                         metavar="KM",
                         help="attach gates, hubs and coordinates up to this far from a road "
                              "(default 5; farther gates and hubs are left out with a "
                              "warning, and only routes to them fail)")
    routing.add_argument("-o", "--output", type=Path, default=None,
                         help="write to this file instead of standard output")

    route = sub.add_parser(
        "route", parents=[common, routing], help="fastest route between two places",
        description="Fastest truck route between two places. A place is a gate or hub id or "
                    "name (diacritics optional) or a coordinate 'LAT,LON'.")
    route.add_argument("origin", help="e.g. 'ha noi', 'bac-giang' or '21.03,105.85'")
    route.add_argument("destination", help="e.g. 'huu nghi', 'tan-thanh'")
    route.add_argument("--alternatives", type=_whole("--alternatives", 1, MAX_ALTERNATIVES),
                       default=1, metavar="K",
                       help="return up to K meaningfully different routes")
    route.add_argument("--format", choices=["text", "json", "geojson"], default="text")
    route.add_argument("--chart", metavar="FILE", default=None,
                       help="write a time–distance chart of the (first) route (.png/.svg/.pdf)")
    route.add_argument("--border-wait-h", type=_real("--border-wait-h", 0, 24 * MAX_DAYS),
                       default=0.0, metavar="HOURS",
                       help="wait at the gate, drawn as a step at the end of the chart")
    route.set_defaults(func=cmd_route)

    matrix = sub.add_parser(
        "matrix", parents=[common, routing], help="hubs × gates travel times and distances",
        description="Travel time and distance of the fastest route from each origin to each "
                    "gate (default: every hub to every open road gate). Unreachable pairs "
                    "are marked, never given a made-up number.")
    matrix.add_argument("--from", dest="origins", nargs="+", metavar="PLACE")
    matrix.add_argument("--to", dest="destinations", nargs="+", metavar="GATE")
    matrix.add_argument("--close-road", nargs="+", metavar="REF",
                        help="scenario: close these roads (id or ref) and compare")
    matrix.add_argument("--close-gate", nargs="+", metavar="GATE",
                        help="scenario: close these gates and compare")
    matrix.add_argument("--format", choices=["table", "csv", "json"], default="table")
    matrix.set_defaults(func=cmd_matrix)

    export = sub.add_parser(
        "export", parents=[common], help="write the layers to GeoPackage / GeoParquet / ...",
        description="Write the dataset's layers (gates, markers, hubs, roads, border) to one "
                    "GeoPackage (OUT.gpkg, one layer each) or to a folder, one file per layer.")
    export.add_argument("output", type=Path, help="a .gpkg file or a folder")
    export.add_argument("--format", choices=["geojson", "gpkg", "parquet", "fgb", "shp"],
                        default="geojson", help="file type in a folder (default geojson)")
    export.set_defaults(func=cmd_export)

    osm = sub.add_parser(
        "import-osm", parents=[common], help="OSM extract → roads layer",
        description="Read a local .osm.pbf or .osm file and write its drivable roads as a "
                    "roads layer (GeoPackage, GeoJSON, GeoParquet...).")
    osm.add_argument("file", help=".osm.pbf, .osm, .osm.bz2 or .osm.gz")
    osm.add_argument("-o", "--output", required=True, help="roads file to write")
    osm.add_argument("--gates-output", default=None,
                     help="also write barrier=border_control nodes to this file")
    osm.add_argument("--all-highways", action="store_true",
                     help="keep every highway way, not only drivable ones")
    osm.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    osm.set_defaults(func=cmd_import_osm)

    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("--format", choices=["text", "json"], default="text",
                     help="json for scripts (default: text)")
    out.add_argument("-o", "--output", type=Path, default=None,
                     help="write to this file instead of standard output")

    queue = sub.add_parser(
        "queue", parents=[out], help="steady-state wait at a gate (Erlang C / M/G/c)",
        description="Probability of waiting, mean wait and queue length at a gate with C "
                    "lanes, Poisson arrivals at L trucks/h and M trucks/h per lane. Refuses "
                    "L ≥ C·M (no steady state: use 'bordergeo backlog').")
    queue.add_argument("--servers", type=_whole("--servers", 1, MAX_LANES), required=True,
                       metavar="C",
                       help="lanes (servers)")
    queue.add_argument("--arrival-rate", type=_real("--arrival-rate", 0, MAX_RATE_TRUCKS_H),
                       required=True, metavar="L",
                       help="trucks arriving per hour")
    queue.add_argument("--service-rate", required=True, metavar="M",
                       type=_real("--service-rate", 0, MAX_RATE_TRUCKS_H, low_open=True),
                       help="trucks cleared per hour per lane")
    queue.add_argument("--service-cv2", type=_real("--service-cv2", 0, MAX_CV2), default=None,
                       metavar="CS2",
                       help="squared coefficient of variation of service times: use the "
                            "M/G/c approximation (0 = deterministic scanning)")
    queue.set_defaults(func=cmd_queue)

    backlog = sub.add_parser(
        "backlog", parents=[out], help="days-long backlog (fluid queue)",
        description="Trucks waiting at the end of each day by Q(t+1) = max(0, Q(t) + A(t) − "
                    "S(t)), the wait of each day's arrivals (first in, first out) and the "
                    "days to clear.")
    backlog.add_argument("--arrivals-per-day", required=True, metavar="A",
                         help="trucks arriving per day (one value, or one per day: 420,420,200)")
    backlog.add_argument("--capacity-per-day", required=True, metavar="S",
                         help="trucks cleared per day at most (one value, or one per day)")
    backlog.add_argument("--days", type=_whole("--days", 1, MAX_DAYS), required=True,
                         metavar="N", help=f"days to model (1–{MAX_DAYS:,})")
    backlog.add_argument("--initial", type=_real("--initial", 0, MAX_TRUCKS), default=0.0,
                         metavar="Q",
                         help="trucks waiting at the start (default 0)")
    backlog.set_defaults(func=cmd_backlog)

    study = argparse.ArgumentParser(add_help=False)
    study.add_argument("--scenario", nargs="+", metavar="FILE",
                       help="scenario file(s) (YAML/JSON) or bundled names such as "
                            "smart_gate_phase1, regulation_2026")
    study.add_argument("--demand", metavar="FILE", default=None,
                       help="CSV of origin,trucks_per_day[,direction] (default: the bundled "
                            "2024 estimate by direction)")
    study.add_argument("--calibration", metavar="FILE", default=None,
                       help="calibration file from 'bordergeo calibrate' (default: the bundled "
                            "one, fitted on the bundled reports); 'none' for shortest-time "
                            "gate choice and the dataset's rates")

    congestion = sub.add_parser(
        "congestion", parents=[common, study], help="gates under scenarios; observed replays",
        description="Per gate and scenario: capacity, assigned trucks/day, wait, backlog after "
                    "N days and days to clear. With --observed, the observed series (and a "
                    "replay of the fluid model beside it).")
    congestion.add_argument("--observed", metavar="FILE", default=None,
                            help="CSV of date,gate_id,trucks_waiting; 'sample' for the bundled "
                                 "Dec 2021 – Feb 2022 series")
    congestion.add_argument("--replay", metavar="FILE", default=None,
                            help="JSON of arrivals and capacity to replay the observed series "
                                 "(default with --observed sample: the bundled Dec 2021 one)")
    congestion.add_argument("--objective", choices=["ue", "so"], default="ue")
    congestion.add_argument("--days", type=_whole("--days", 1, MAX_DAYS), default=7,
                            help="backlog horizon (days)")
    congestion.add_argument("--initial", type=_real("--initial", 0, MAX_TRUCKS), default=0.0,
                            help="trucks waiting at every gate at the start")
    congestion.add_argument("--format", choices=["text", "json", "csv"], default="text")
    congestion.add_argument("-o", "--output", type=Path, default=None)
    congestion.set_defaults(func=cmd_congestion)

    assign_ = sub.add_parser(
        "assign", parents=[common, study, out], help="gate choice: UE / SO assignment",
        description="Assign truck demand from the hubs over roads (BPR) and gates (queue "
                    "delay): user equilibrium (drivers' choice), system optimum "
                    "(regulated), or both with the UE–SO gap.")
    assign_.add_argument("--objective", choices=["ue", "so", "both"], default="ue")
    assign_.add_argument("--gap", type=_real("--gap", 0, MAX_TARGET_GAP, low_open=True),
                         default=1e-4, help="stop at this relative gap (default 1e-4); exit "
                                            "status 3 when it is not reached")
    assign_.add_argument("--algorithm", choices=["gp", "cfw", "fw"], default="gp",
                         help="gradient projection (default), conjugate or classic "
                              "Frank–Wolfe")
    assign_.add_argument("--roads-output", metavar="FILE", default=None,
                         help="write loaded road edges (flow, v/c) to a GeoPackage/GeoJSON")
    assign_.set_defaults(func=cmd_assign)

    calibrate_ = sub.add_parser(
        "calibrate", parents=[common, out], help="fit the model to the reported days",
        description="Fit the logit gate choice (dispersion, constants per crossing), the "
                    "service rate per lane by direction, the arrival profile and day-to-day "
                    "variation, and the demand level per year to the observed daily reports "
                    "(vehicles cleared per crossing and direction, trucks waiting at 20:00), "
                    "target by target, with a hold-out. -o prints the fit to a file; --write "
                    "saves the calibration for assign/congestion/map --calibration FILE.")
    calibrate_.add_argument("--observations", metavar="FILE", default=None,
                            help="daily reports, columns as border_daily_reports.csv "
                                 "(default: the bundled ones)")
    calibrate_.add_argument("--demand", metavar="FILE", default=None,
                            help="demand by hub and direction whose shares spread the fitted "
                                 "levels (default: demand_2024_by_direction.csv)")
    calibrate_.add_argument("--holdout", metavar="DATES", default=None,
                            help="comma-separated days left out of a first fit and predicted "
                                 "by it (default: the second August 2024 report, 2024-08-29; "
                                 "'' for none)")
    calibrate_.add_argument("--calendar", metavar="FILE", default=None,
                            help="closure calendar CSV (default: the bundled one)")
    calibrate_.add_argument("--seasonal-factors", metavar="FILE", default=None,
                            help="monthly demand factors CSV (default: the bundled ones)")
    calibrate_.add_argument("--write", metavar="FILE", type=Path, default=None,
                            help="save the calibration file here")
    calibrate_.set_defaults(func=cmd_calibrate)
    return parser


def reference_markdown(*, width: int = 96) -> str:
    """Return the CLI reference (every verb's ``--help``) as Markdown for the README.

    Parameters
    ----------
    width
        Line width of the help text.

    Returns
    -------
    str
        A section per verb with its help in a text block.
    """
    import os

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        parser = build_parser()
        sections = [f"```text\n$ bordergeo --help\n{parser.format_help().rstrip()}\n```"]
        verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        for name, sub in verbs.choices.items():
            sections.append(f"#### `bordergeo {name}`\n\n```text\n{sub.format_help().rstrip()}"
                            f"\n```")
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    return "\n\n".join(sections) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 on a data or input error (including a number out of its bounds),
        2 on a usage error, 3 when an assignment stopped above its target gap.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False)
                            else logging.WARNING,
                            format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
        _clear_stale_temporaries(args)
        return int(args.func(args))
    except BorderGeoError as exc:
        print(f"bordergeo: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("bordergeo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
