"""The ``bordergeo`` command: a thin layer over the library.

Every verb calls library functions and formats their results. Errors the user can cause
come back as one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bordergeo import __version__
from bordergeo.datasets import LAYERS, BorderDataset, load_dataset, load_layer
from bordergeo.errors import BorderGeoError
from bordergeo.io import atomic_write_text

__all__ = ["main", "build_parser"]

logger = logging.getLogger("bordergeo")

EXIT_USER_ERROR = 1

_GATE_TABLE_COLUMNS = ["id", "name_vi", "name_en", "name_zh", "level", "mode", "status",
                       "lanes_export", "lanes_import", "hours_vn", "hours_cn",
                       "capacity_trucks_day"]


def _dataset(args: argparse.Namespace) -> BorderDataset:
    return load_dataset(args.data)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        atomic_write_text(output, text)
        print(f"wrote {output}", file=sys.stderr)


def _records(gdf: gpd.GeoDataFrame) -> list[dict]:
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame["lon"] = gdf.geometry.x.round(6)
    frame["lat"] = gdf.geometry.y.round(6)
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict(orient="records")


def cmd_gates(args: argparse.Namespace) -> int:
    """List the gates as a table, JSON, GeoJSON or CSV."""
    gates = _dataset(args).gates
    if args.format == "json":
        text = json.dumps(_records(gates), ensure_ascii=False, indent=2)
    elif args.format == "geojson":
        text = gates.to_json(ensure_ascii=False, indent=1, drop_id=True)
    elif args.format == "csv":
        buffer = io.StringIO()
        pd.DataFrame(_records(gates)).to_csv(buffer, index=False, lineterminator="\n")
        text = buffer.getvalue()
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
    if layer is not None:
        gdf = load_layer(path, layer)
        print(f"ok: {path} is a valid {layer} layer ({len(gdf)} rows)")
        return 0
    dataset = load_dataset(path)
    counts = ", ".join(f"{name} {len(gdf)}" for name, gdf in dataset.layers().items())
    print(f"ok: {path} is a valid dataset ({counts})")
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    """Render the interactive map to an HTML file."""
    from bordergeo.maps import build_map, save_map

    output = Path(args.output)
    if output.suffix.lower() not in (".html", ".htm"):
        raise BorderGeoError(f"{output}: the map is an HTML file; use a .html name")
    m = build_map(_dataset(args), basemap=args.basemap)
    written = save_map(m, output, offline=args.offline)
    print(f"wrote {written}")
    return 0


def _router(args: argparse.Namespace):  # -> Router, imported lazily
    from bordergeo.routing import Router, dataset_network

    dataset = _dataset(args)
    roads = load_layer(args.roads, "roads") if getattr(args, "roads", None) else None
    return Router(dataset_network(dataset, roads=roads), dataset)


def _default_gates(router) -> list[str]:
    gates = router.dataset.gates
    usable = gates[(gates["mode"] == "road") & (gates["status"] != "closed")]
    return usable["id"].tolist()


def cmd_route(args: argparse.Namespace) -> int:
    """Print the fastest route (and alternatives) between two places."""
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
            lines.append(f"{label}{r.origin.label} → {r.destination.label}: "
                         f"{r.length_km:.1f} km, {r.travel_time_min:.0f} min via "
                         f"{r.road_sequence or '(unnamed roads)'} (snapped "
                         f"{r.origin.snap_m:.0f} m / {r.destination.snap_m:.0f} m)")
        text = "\n".join(lines)
    _emit(text, args.output)
    return 0


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
    if args.format == "json":
        records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
        text = json.dumps(records, ensure_ascii=False, indent=2)
    elif args.format == "csv":
        buffer = io.StringIO()
        table.to_csv(buffer, index=False, lineterminator="\n", float_format="%.3f")
        text = buffer.getvalue()
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
            text = "travel time (min) by fastest route\n" + shown.to_string()
        else:
            text = shown.round(1).to_string(index=False)
    _emit(text, args.output)
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
                    "bordergeo data contract; print one line per problem found.")
    validate.add_argument("path", help="folder, .gpkg, or a layer file")
    validate.add_argument("--layer", choices=LAYERS, default=None,
                          help="which layer a single file is (default: from its name)")
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
    map_.set_defaults(func=cmd_map)

    routing = argparse.ArgumentParser(add_help=False)
    routing.add_argument("--roads", metavar="FILE", default=None,
                         help="route on this road layer instead of the dataset's roads")
    routing.add_argument("-o", "--output", type=Path, default=None,
                         help="write to this file instead of standard output")

    route = sub.add_parser(
        "route", parents=[common, routing], help="fastest route between two places",
        description="Fastest truck route between two places. A place is a gate or hub id or "
                    "name (diacritics optional) or a coordinate 'LAT,LON'.")
    route.add_argument("origin", help="e.g. 'ha noi', 'bac-giang' or '21.03,105.85'")
    route.add_argument("destination", help="e.g. 'huu nghi', 'tan-thanh'")
    route.add_argument("--alternatives", type=int, default=1, metavar="K",
                       help="return up to K meaningfully different routes")
    route.add_argument("--format", choices=["text", "json", "geojson"], default="text")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 on a data or input error, 2 on a usage error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args))
    except BorderGeoError as exc:
        print(f"bordergeo: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("bordergeo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
