"""Timing and formatting helpers shared by the benchmark scripts."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Run ``fn`` once after a garbage collection; return (seconds, result)."""
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def fmt(seconds: float) -> str:
    """Seconds in µs, ms or s."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def ratio(value: float) -> str:
    """A speed-up like ×12 or ×3.5."""
    return f"×{value:.1f}" if value < 10 else f"×{value:.0f}"
