"""bordergeo: border gates of Lạng Sơn — data, truck routing, gate congestion and maps."""

from __future__ import annotations

import logging

from bordergeo.datasets import BorderDataset, bundled_data_dir, load_dataset, load_layer
from bordergeo.errors import (
    AssetsMissingError,
    BorderGeoError,
    DataFileError,
    LookupFailedError,
    SchemaError,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "AssetsMissingError",
    "BorderDataset",
    "BorderGeoError",
    "DataFileError",
    "LookupFailedError",
    "SchemaError",
    "bundled_data_dir",
    "load_dataset",
    "load_layer",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
