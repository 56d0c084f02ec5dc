"""bordergeo: border gates of Lạng Sơn — data, truck routing, gate congestion and maps.

The public API is importable from the package itself::

    import bordergeo
    ds = bordergeo.load_dataset()
    router = bordergeo.Router(bordergeo.dataset_network(ds), ds)

Each concern lives in its own module (``datasets``, ``network``, ``routing``, ``gates``,
``queues``, ``scenarios``, ``assignment``, ``timeline``, ``calibration``, ``congestion``,
``osm``, ``maps``, and the
safety rules ``inputs`` (bounded numbers and files), ``markup`` (the one escaping function
of the map pages) and ``io`` (the one atomic writer)). Every name below is loaded on first
use: ``import bordergeo`` (or ``from bordergeo import __version__``) imports neither
GeoPandas, NetworkX, SciPy nor Folium, so a command or a script pays only for what it uses.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

__version__ = "0.1.0"

#: The public API by the module that defines it, imported when a name is first used.
_LAZY_EXPORTS = {
    "bordergeo.assignment": ("AssignmentResult", "assign"),
    "bordergeo.calibration": ("Calibration", "CalibrationResult", "calibrate",
                              "load_calibration"),
    "bordergeo.congestion": ("bundled_scenarios", "compare_scenarios", "compare_ue_so",
                             "load_demand", "replay_file", "resolve_scenario", "sample_path"),
    "bordergeo.datasets": ("BorderDataset", "bundled_data_dir", "load_dataset", "load_layer"),
    "bordergeo.errors": ("AssetsMissingError", "BorderGeoError", "DataFileError",
                         "DatasetFileError", "LookupFailedError", "Problem", "SchemaError",
                         "ValidationError"),
    "bordergeo.gates": ("GateOperations", "effective_window", "gate_operations",
                        "operations_table"),
    "bordergeo.inputs": ("InputRangeError",),
    "bordergeo.io": ("csv_text", "read_layer", "remove_stale_temporaries", "write_layer",
                     "write_layers", "write_table"),
    "bordergeo.maps": ("build_map", "save_map"),
    "bordergeo.network": ("NetworkReport", "RoadNetwork", "build_network", "network_from_graph"),
    "bordergeo.osm": ("read_osm",),
    "bordergeo.queues": ("UnstableQueueError", "erlang_c", "fluid_backlog", "mgc_approximation",
                         "read_observed", "replay", "two_stage_backlog"),
    "bordergeo.roadlayer": ("RoadLayerReport", "normalise_roads", "read_roads"),
    "bordergeo.routing": ("NoPathError", "Route", "Router", "UnattachedPlaceError",
                          "dataset_network"),
    "bordergeo.scenarios": ("Scenario", "apply_scenario", "load_scenario"),
    "bordergeo.timeline": ("load_calendar", "load_seasonal_factors"),
}
_LAZY = {name: module for module, names in _LAZY_EXPORTS.items() for name in names}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # the next lookup is a plain attribute
        return value
    raise AttributeError(f"module 'bordergeo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


logging.getLogger(__name__).addHandler(logging.NullHandler())
