"""Start-up benchmark: what importing bordergeo and running a small command cost.

Each case runs in a fresh interpreter, interleaved over rounds; the table prints the
median wall time of the whole process, the import time Python reports for the top module
(``-X importtime``, cumulative) and the ratio to ``import geopandas`` measured in the same
rounds (the floor of any command that reads a layer).

    python benchmarks/startup.py --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

CASES = [
    ("import geopandas (reference)", [sys.executable, "-X", "importtime", "-c",
                                      "import geopandas"], "geopandas"),
    ("import bordergeo", [sys.executable, "-X", "importtime", "-c", "import bordergeo"],
     "bordergeo"),
    ("import bordergeo.datasets (what reading a layer needs)",
     [sys.executable, "-X", "importtime", "-c", "import bordergeo.datasets"],
     "bordergeo.datasets"),
    ("bordergeo --version", [sys.executable, "-m", "bordergeo", "--version"], None),
    ("bordergeo gates (bundled data, table to stdout)",
     [sys.executable, "-m", "bordergeo", "gates"], None),
]


def _import_us(stderr: str, module: str) -> float:
    """Cumulative import time (µs) of ``module`` from ``-X importtime`` output."""
    for line in stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return float(parts[1])
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    wall: dict[str, list[float]] = {name: [] for name, _, _ in CASES}
    imports: dict[str, list[float]] = {name: [] for name, _, _ in CASES}
    for _ in range(args.rounds + 1):  # the first round warms the file cache, not counted
        for name, command, module in CASES:
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env,
                                  check=True)
            wall[name].append(time.perf_counter() - start)
            if module:
                imports[name].append(_import_us(done.stderr, module) / 1e6)
    reference_wall = statistics.median(wall[CASES[0][0]][1:])
    reference_import = statistics.median(imports[CASES[0][0]][1:])
    print(f"Python {sys.version.split()[0]}, {args.rounds} rounds, medians\n")
    print("| case | wall time (process) | import time (-X importtime) "
          "| import ÷ import geopandas |")
    print("|---|---|---|---|")
    for name, _, module in CASES:
        w = statistics.median(wall[name][1:])
        if module:
            imp = statistics.median(imports[name][1:])
            print(f"| {name} | {w * 1e3:.0f} ms | {imp * 1e3:.0f} ms | "
                  f"{imp / reference_import:.2f}× |")
        else:
            print(f"| {name} | {w * 1e3:.0f} ms | – | wall ÷ geopandas wall "
                  f"{w / reference_wall:.2f}× |")


if __name__ == "__main__":
    main()
