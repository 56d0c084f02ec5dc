"""bordergeo: border gates of Lạng Sơn — data, truck routing, gate congestion and maps.

The public API is importable from the package itself::

    import bordergeo
    ds = bordergeo.load_dataset()
    router = bordergeo.Router(bordergeo.dataset_network(ds), ds)

Each concern lives in its own module (``datasets``, ``network``, ``routing``, ``gates``,
``queues``, ``scenarios``, ``assignment``, ``timeline``, ``calibration``, ``congestion``,
``osm``, ``maps``, and the
safety rules ``inputs`` (bounded numbers and files), ``markup`` (the one escaping function
of the map pages) and ``io`` (the one atomic writer)); the map
functions are loaded on first use so that importing bordergeo does not import Folium.
"""

from __future__ import annotations

import logging
from typing import Any

from bordergeo.assignment import AssignmentResult, assign
from bordergeo.calibration import Calibration, CalibrationResult, calibrate, load_calibration
from bordergeo.congestion import (
    bundled_scenarios,
    compare_scenarios,
    compare_ue_so,
    load_demand,
    replay_file,
    resolve_scenario,
    sample_path,
)
from bordergeo.datasets import BorderDataset, bundled_data_dir, load_dataset, load_layer
from bordergeo.errors import (
    AssetsMissingError,
    BorderGeoError,
    DataFileError,
    DatasetFileError,
    LookupFailedError,
    Problem,
    SchemaError,
    ValidationError,
)
from bordergeo.gates import GateOperations, effective_window, gate_operations, operations_table
from bordergeo.inputs import InputRangeError
from bordergeo.io import (
    csv_text,
    read_layer,
    remove_stale_temporaries,
    write_layer,
    write_layers,
    write_table,
)
from bordergeo.network import NetworkReport, RoadNetwork, build_network, network_from_graph
from bordergeo.queues import (
    UnstableQueueError,
    erlang_c,
    fluid_backlog,
    mgc_approximation,
    read_observed,
    replay,
    two_stage_backlog,
)
from bordergeo.roadlayer import RoadLayerReport, normalise_roads, read_roads
from bordergeo.routing import (
    NoPathError,
    Route,
    Router,
    UnattachedPlaceError,
    dataset_network,
)
from bordergeo.scenarios import Scenario, apply_scenario, load_scenario
from bordergeo.timeline import load_calendar, load_seasonal_factors

__version__ = "0.1.0"

_LAZY = {"build_map": "bordergeo.maps", "save_map": "bordergeo.maps",
         "read_osm": "bordergeo.osm"}

__all__ = [
    "__version__",
    "AssetsMissingError",
    "AssignmentResult",
    "Calibration",
    "CalibrationResult",
    "BorderDataset",
    "BorderGeoError",
    "DataFileError",
    "DatasetFileError",
    "InputRangeError",
    "GateOperations",
    "LookupFailedError",
    "NetworkReport",
    "NoPathError",
    "Problem",
    "RoadLayerReport",
    "RoadNetwork",
    "Route",
    "Router",
    "Scenario",
    "SchemaError",
    "UnattachedPlaceError",
    "UnstableQueueError",
    "ValidationError",
    "apply_scenario",
    "assign",
    "build_map",
    "build_network",
    "bundled_data_dir",
    "bundled_scenarios",
    "calibrate",
    "compare_scenarios",
    "compare_ue_so",
    "csv_text",
    "dataset_network",
    "effective_window",
    "erlang_c",
    "fluid_backlog",
    "gate_operations",
    "load_dataset",
    "load_demand",
    "load_calibration",
    "load_calendar",
    "load_layer",
    "load_seasonal_factors",
    "load_scenario",
    "mgc_approximation",
    "network_from_graph",
    "normalise_roads",
    "operations_table",
    "read_layer",
    "read_roads",
    "read_observed",
    "read_osm",
    "remove_stale_temporaries",
    "replay",
    "replay_file",
    "resolve_scenario",
    "sample_path",
    "save_map",
    "two_stage_backlog",
    "write_layer",
    "write_layers",
    "write_table",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bordergeo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


logging.getLogger(__name__).addHandler(logging.NullHandler())
