"""Render the example outputs of the bundled data: ``python -m bordergeo.examples [FOLDER]``.

Writes (default folder ``maps/``):

- ``langson.html``: the base map (border, gates, markers, hubs, roads);
- ``regulation-2026.html`` and ``regulation-2026.png``: each hub's fastest route, the road
  corridors of the assigned demand, and gate load under the bundled ``regulation_2026``
  scenario with a 4,300-truck backlog (the December 2021 stock) clearing on the time slider;
- ``december-2021.html``: the observed backlog of December 2021 – February 2022 and the
  replayed fluid model beside it on the time slider;
- ``ha-noi-huu-nghi.png``: time–distance chart of Hà Nội → Hữu Nghị with the modelled
  wait at the gate.

All HTML files are offline (self-contained) and byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bordergeo.analysis import analysis_layers
from bordergeo.datasets import load_dataset
from bordergeo.errors import BorderGeoError
from bordergeo.maps import build_map, default_title, save_map
from bordergeo.routing import Router, dataset_network
from bordergeo.static import plot_map, save_figure, time_distance_chart

__all__ = ["render_examples", "main"]

logger = logging.getLogger(__name__)


def render_examples(folder: str | os.PathLike[str] = "maps") -> list[Path]:
    """Render every example output of the bundled data into ``folder``.

    Parameters
    ----------
    folder
        Destination folder (created if needed).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    folder = Path(folder)
    dataset = load_dataset()
    written = [save_map(build_map(dataset), folder / "langson.html", offline=True)]
    layers = analysis_layers(dataset, routes=True, corridors=True, scenario="regulation_2026",
                             initial_backlog=4300, days=14)
    written.append(save_map(build_map(dataset, **layers), folder / "regulation-2026.html",
                            offline=True))
    written.append(save_figure(plot_map(dataset, routes=layers["routes"],
                                        corridors=layers["corridors"],
                                        gate_load=layers["gate_load"],
                                        title=f"{default_title(dataset)}: {layers['subtitle']}"),
                               folder / "regulation-2026.png"))
    observed = analysis_layers(dataset, observed="sample")
    written.append(save_map(build_map(dataset, **observed), folder / "december-2021.html",
                            offline=True))
    network = dataset_network(dataset)
    route = Router(network, dataset).route("ha-noi", "huu-nghi")
    load = layers["gate_load"].set_index("gate_id")
    wait_h = float(load.loc["huu-nghi", "wait_h"]) if "huu-nghi" in load.index else 0.0
    written.append(save_figure(time_distance_chart(route, network, border_wait_h=wait_h,
                                                   title="Hà Nội → Hữu Nghị"),
                               folder / "ha-noi-huu-nghi.png"))
    for path in written:
        logger.info("wrote %s", path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bordergeo.examples",
                                     description="Render the example maps and figures.")
    parser.add_argument("folder", nargs="?", default="maps")
    args = parser.parse_args(argv)
    try:
        for path in render_examples(args.folder):
            print(f"wrote {path}")
    except BorderGeoError as exc:
        print(f"bordergeo: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
