"""The ``bordergeo`` command line: its arguments, and one line per error.

Arguments are parsed before anything heavy is imported (``bordergeo --help`` and a usage
error cost no GeoPandas); the commands themselves live in :mod:`bordergeo.commands`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bordergeo import __version__
from bordergeo.errors import BorderGeoError
from bordergeo.inputs import (
    LAYERS,
    MAX_CV2,
    MAX_DAYS,
    MAX_LANES,
    MAX_RATE_TRUCKS_H,
    MAX_TARGET_GAP,
    MAX_TRUCKS,
    check_number,
)

__all__ = ["main", "build_parser", "reference_markdown"]

logger = logging.getLogger("bordergeo")

EXIT_USER_ERROR = 1
#: Exit status of an assignment that stopped above its target gap (results still written).
EXIT_NOT_CONVERGED = 3

#: Most alternative routes asked for.
MAX_ALTERNATIVES = 20


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
    gates.set_defaults(func="cmd_gates")

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
    validate.set_defaults(func="cmd_validate")

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
    map_.set_defaults(func="cmd_map")

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
    route.set_defaults(func="cmd_route")

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
    matrix.set_defaults(func="cmd_matrix")

    export = sub.add_parser(
        "export", parents=[common], help="write the layers to GeoPackage / GeoParquet / ...",
        description="Write the dataset's layers (gates, markers, hubs, roads, border) to one "
                    "GeoPackage (OUT.gpkg, one layer each) or to a folder, one file per layer.")
    export.add_argument("output", type=Path, help="a .gpkg file or a folder")
    export.add_argument("--format", choices=["geojson", "gpkg", "parquet", "fgb", "shp"],
                        default="geojson", help="file type in a folder (default geojson)")
    export.set_defaults(func="cmd_export")

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
    osm.set_defaults(func="cmd_import_osm")

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
    queue.set_defaults(func="cmd_queue")

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
    backlog.set_defaults(func="cmd_backlog")

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
    congestion.set_defaults(func="cmd_congestion")

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
    assign_.set_defaults(func="cmd_assign")

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
    calibrate_.set_defaults(func="cmd_calibrate")

    sweep_ = sub.add_parser(
        "sweep", parents=[common], help="run a scenario sweep (grid × draws), on Dask",
        description="Run the calibrated model for every grid point and draw of a sweep "
                    "specification (YAML/JSON), day by day over the season, and write the "
                    "rows per run, gate, direction and day as Parquet parts into a folder as "
                    "they finish. Without --scheduler a local Dask cluster sized to the "
                    "machine runs them; --workers 0 runs them in this process. Run it again "
                    "on the same folder to finish a sweep that was stopped.")
    sweep_.add_argument("spec", metavar="SPEC", help="sweep specification (.yaml/.json)")
    sweep_.add_argument("-o", "--output", type=Path, required=True, metavar="FOLDER",
                        help="output folder (Parquet parts, runs.parquet, _sweep.json)")
    sweep_.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="address of a running Dask scheduler (tcp://host:8786)")
    sweep_.add_argument("--workers", type=_whole("--workers", 0, 1024), default=None,
                        help="workers of the local cluster (default: one per core; 0: no "
                             "Dask)")
    sweep_.add_argument("--demand", metavar="FILE", default=None,
                        help="CSV of origin,direction,trucks_per_day (default: the bundled "
                             "2024 estimate by direction)")
    sweep_.add_argument("--calibration", metavar="FILE", default=None,
                        help="calibration file (default: the bundled one)")
    sweep_.add_argument("--summary", type=Path, metavar="FILE", default=None,
                        help="write the summary tables (.xlsx: percentiles by crossing and "
                             "day, season exceedance, sensitivity; .csv: the exceedance)")
    sweep_.add_argument("--fan-chart", type=Path, metavar="FILE", default=None,
                        help="write a fan chart of the export backlog by crossing (.png/.svg)")
    sweep_.add_argument("--map", type=Path, metavar="FILE", default=None,
                        help="write an offline map with the exceedance layer (.html)")
    sweep_.set_defaults(func="cmd_sweep")
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
        commands = importlib.import_module("bordergeo.commands")
        commands.clear_stale_temporaries(args)
        return int(getattr(commands, args.func)(args))
    except BorderGeoError as exc:
        print(f"bordergeo: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("bordergeo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

