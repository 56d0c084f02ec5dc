"""What a sweep says: percentiles, exceedance probabilities, sensitivity and fan charts.

A sweep (:func:`bordergeo.sweep.sweep`) leaves one row per run, gate, direction and day.
The functions here turn those rows into the few tables and figures planners look at:

* :func:`percentiles` — the spread of an output across runs, per gate (or crossing),
  direction and day (``p5`` … ``p95``);
* :func:`exceedance` and :func:`season_exceedance` — the share of runs in which the
  backlog passes a threshold on a day, or at any time in the season;
* :func:`sensitivity` — which input (grid axis or uncertain draw) moves the outcome most;
* :func:`fan_chart` — the percentiles over the season as shaded bands, one panel per
  crossing;
* :func:`summarise` — the three tables of a finished sweep's folder at once.

With ``by_crossing=True`` the lanes of one crossing (Hữu Nghị's 1116–1117 and 1119–1120
cargo roads, Tân Thanh's 1088 and 1090) are added up per run, direction and day before
any statistic: the backlog of a crossing is the sum of its lanes' backlogs on the same
day, so its season maximum is the peak of that sum, not the sum of the lanes' peaks.

Nothing here runs the model; every function reads computed rows.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bordergeo.errors import BorderGeoError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_THRESHOLDS",
    "PERCENTILES",
    "crossing_totals",
    "exceedance",
    "fan_chart",
    "percentiles",
    "season_exceedance",
    "sensitivity",
    "summarise",
]

logger = logging.getLogger(__name__)

#: Percentiles reported by default (and drawn by the fan chart).
PERCENTILES = (5, 25, 50, 75, 95)
#: Backlog thresholds (trucks) when a sweep's specification states none.
DEFAULT_THRESHOLDS = (300.0, 600.0)
#: Outputs that add up over the lanes of a crossing.
_ADDITIVE = ("trucks", "capacity", "backlog")
#: Unit of each output (sensitivity swings, chart axes).
_UNITS = {"trucks": "trucks/day", "capacity": "trucks/day", "backlog": "trucks",
          "wait_h": "h"}
_AXIS_LABELS = {"trucks": "trucks arriving per day", "capacity": "capacity (trucks/day)",
                "backlog": "trucks waiting", "wait_h": "wait (h)"}
#: Colours of the thresholds' dashed lines in the fan chart, lowest threshold first.
_THRESHOLD_COLOURS = ("#ef6c00", "#c62828", "#6a1b9a")
#: Columns of the runs table that are not inputs.
_NOT_INPUTS = ("run", "grid_point", "noise_seed")
_DIRECTIONS = ("export", "import")


# --- inputs ---------------------------------------------------------------------------


def _require(rows: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(rows, pd.DataFrame):
        raise BorderGeoError(f"{what} needs a table of sweep rows, not "
                             f"{type(rows).__name__}")
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise BorderGeoError(f"{what} needs the column{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(missing)} (have {', '.join(map(str, rows.columns))})")


def _thresholds(thresholds: Sequence[float] | float) -> np.ndarray:
    values = np.atleast_1d(np.asarray(thresholds, dtype=object))
    try:
        out = values.astype(float)
    except (TypeError, ValueError):
        raise BorderGeoError(f"thresholds must be numbers, not {list(values)!r}") from None
    if not len(out) or not np.isfinite(out).all():
        raise BorderGeoError("thresholds must be one or more finite numbers")
    return np.unique(out)


def _crossing_map(gates: pd.DataFrame | None) -> pd.Series:
    from bordergeo.gates import crossing_ids

    if gates is None:
        from bordergeo.datasets import load_dataset

        gates = load_dataset().gates
    return crossing_ids(gates)


def crossing_totals(rows: pd.DataFrame, *, gates: pd.DataFrame | None = None
                    ) -> pd.DataFrame:
    """Add up the lanes of each crossing per run, direction and day.

    Parameters
    ----------
    rows
        Sweep rows: ``run``, ``gate_id``, ``direction``, ``date`` and outputs.
    gates
        The gates layer that names each lane's crossing
        (:func:`bordergeo.gates.crossing_ids`); default: the bundled gates. A gate it
        does not know is its own crossing.

    Returns
    -------
    pandas.DataFrame
        ``run``, ``crossing_id``, ``direction``, ``date`` and the outputs the rows have:
        ``trucks``, ``capacity`` and ``backlog`` summed over the lanes, ``wait_h`` the
        lanes' mean weighted by trucks (by lane where no trucks arrive; NaN when every
        lane is shut).
    """
    _require(rows, ("run", "gate_id", "direction", "date"), "crossing totals")
    crossing = _crossing_map(gates)
    ids = rows["gate_id"].astype(str)
    mapped = ids.map(crossing)
    if mapped.isna().any():
        unknown = sorted(set(ids[mapped.isna()]))
        logger.warning("gates %s are not in the gates layer: each is its own crossing",
                       ", ".join(unknown))
        mapped = mapped.fillna(ids)
    keys = ["run", "crossing_id", "direction", "date"]
    frame = rows.assign(crossing_id=mapped.to_numpy())
    grouped = frame.groupby(keys, sort=True, observed=True)
    present = [c for c in _ADDITIVE if c in rows.columns]
    out = grouped[present].sum(min_count=1) if present else grouped.size().to_frame("_n")
    if "wait_h" in rows.columns:
        wait = frame["wait_h"].to_numpy(float)
        finite = np.isfinite(wait)
        weight = (np.where(finite, frame["trucks"].to_numpy(float), 0.0)
                  if "trucks" in rows.columns else finite.astype(float))
        parts = pd.DataFrame({"wx": np.where(finite, wait, 0.0) * weight, "w": weight,
                              "x": np.where(finite, wait, np.nan)})
        sums = parts.groupby([frame[k] for k in keys], sort=True, observed=True).agg(
            wx=("wx", "sum"), w=("w", "sum"), x=("x", "mean"))
        with np.errstate(invalid="ignore", divide="ignore"):
            weighted = sums["wx"] / sums["w"]
        out["wait_h"] = weighted.where(sums["w"] > 0, sums["x"])
    return out.drop(columns="_n", errors="ignore").reset_index()


def _frame(rows: pd.DataFrame, value: str, by_crossing: bool, gates: pd.DataFrame | None,
           what: str) -> tuple[pd.DataFrame, str]:
    """Return the rows (summed by crossing if asked) and the name of their id column."""
    _require(rows, ("run", "gate_id", "direction", "date", value), what)
    if by_crossing:
        return crossing_totals(rows[["run", "gate_id", "direction", "date", value]
                                    + (["trucks"] if value == "wait_h" and "trucks" in rows
                                       else [])], gates=gates), "crossing_id"
    return rows, "gate_id"


def _by(by: Sequence[str], id_column: str) -> list[str]:
    keys = [id_column if k in ("gate_id", "crossing_id") else str(k) for k in by]
    if len(set(keys)) != len(keys):
        raise BorderGeoError(f"by names a column twice: {list(by)}")
    return keys


# --- percentiles and exceedance -------------------------------------------------------


def percentiles(rows: pd.DataFrame, *, value: str = "backlog",
                q: Sequence[float] = PERCENTILES,
                by: Sequence[str] = ("gate_id", "direction", "date"),
                by_crossing: bool = False, gates: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """Percentiles of an output across the runs, per gate, direction and day.

    Parameters
    ----------
    rows
        Sweep rows (:func:`bordergeo.sweep.read_sweep`).
    value
        The output: ``backlog``, ``wait_h``, ``trucks`` or ``capacity``.
    q
        Percentiles, 0–100 (linear interpolation, as :func:`numpy.percentile`).
    by
        Columns that make a group (``gate_id`` stands for ``crossing_id`` when
        ``by_crossing``).
    by_crossing
        Add up the lanes of each crossing first (:func:`crossing_totals`).
    gates
        The gates layer for ``by_crossing`` (default: the bundled gates).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``p5`` … ``p95`` (one per ``q``, named ``p`` + the number)
        and ``runs`` (runs with a value: a shut gate's ``wait_h`` has none).

    Raises
    ------
    BorderGeoError
        A missing column or a percentile outside 0–100.
    """
    levels = np.asarray(list(q), dtype=float)
    if not len(levels) or not np.isfinite(levels).all() or (levels < 0).any() \
            or (levels > 100).any() or len(np.unique(levels)) != len(levels):
        raise BorderGeoError(f"q must be distinct percentiles between 0 and 100, not {q!r}")
    frame, id_column = _frame(rows, value, by_crossing, gates, "percentiles")
    keys = _by(by, id_column)
    _require(frame, keys, "percentiles")
    grouped = frame.groupby(keys, sort=True, observed=True)[value]
    table = grouped.quantile(levels / 100.0).unstack(level=-1)[list(levels / 100.0)]
    table.columns = [f"p{level:g}" for level in levels]
    table["runs"] = grouped.count()
    return table.reset_index()


def _share_over(frame: pd.DataFrame, keys: list[str], value: str,
                thresholds: np.ndarray) -> pd.DataFrame:
    """Per group and threshold: runs whose value is above it, runs with a value, share."""
    values = frame[value].to_numpy(float)
    over = pd.DataFrame(values[:, None] > thresholds[None, :],
                        columns=pd.Index(range(len(thresholds))))
    group = [frame[k].reset_index(drop=True) for k in keys]
    hits = over.groupby(group, sort=True).sum()
    counted = pd.Series(np.isfinite(values)).groupby(group, sort=True).sum()
    hits.index.names = keys
    long = hits.melt(ignore_index=False, var_name="_t", value_name="runs_exceeding")
    long = long.reset_index()
    long["threshold"] = thresholds[long["_t"].to_numpy(int)]
    long["runs"] = counted.to_numpy()[np.tile(np.arange(len(hits)), len(thresholds))]
    with np.errstate(invalid="ignore", divide="ignore"):
        long["probability"] = long["runs_exceeding"] / long["runs"].where(long["runs"] > 0)
    long = long.astype({"runs_exceeding": np.int64, "runs": np.int64})
    return (long.sort_values([*keys, "threshold"], kind="stable")
            [[*keys, "threshold", "probability", "runs_exceeding", "runs"]]
            .reset_index(drop=True))


def exceedance(rows: pd.DataFrame, thresholds: Sequence[float] | float, *,
               value: str = "backlog", by_crossing: bool = False,
               gates: pd.DataFrame | None = None) -> pd.DataFrame:
    """Share of runs in which an output is above each threshold, per gate, direction and day.

    Parameters
    ----------
    rows
        Sweep rows (:func:`bordergeo.sweep.read_sweep`).
    thresholds
        One or more levels (trucks for ``backlog``, hours for ``wait_h``).
    value
        The output compared.
    by_crossing
        Add up the lanes of each crossing first (:func:`crossing_totals`).
    gates
        The gates layer for ``by_crossing`` (default: the bundled gates).

    Returns
    -------
    pandas.DataFrame
        ``gate_id`` (or ``crossing_id``), ``direction``, ``date``, ``threshold``,
        ``probability`` (``runs_exceeding / runs``; strictly above the threshold),
        ``runs_exceeding`` and ``runs`` (runs with a value that day).
    """
    levels = _thresholds(thresholds)
    frame, id_column = _frame(rows, value, by_crossing, gates, "exceedance")
    return _share_over(frame, [id_column, "direction", "date"], value, levels)


def season_exceedance(rows: pd.DataFrame, thresholds: Sequence[float] | float, *,
                      value: str = "backlog", by_crossing: bool = False,
                      gates: pd.DataFrame | None = None) -> pd.DataFrame:
    """Share of runs whose season maximum is above each threshold, per gate and direction.

    Each run's maximum over the days comes first; the share of runs above the threshold
    is then the probability that the gate's backlog passes it at some time in the season.

    Parameters
    ----------
    rows
        Sweep rows (:func:`bordergeo.sweep.read_sweep`).
    thresholds
        One or more levels (trucks for ``backlog``).
    value
        The output compared.
    by_crossing
        Add up the lanes of each crossing per day first (:func:`crossing_totals`).
    gates
        The gates layer for ``by_crossing`` (default: the bundled gates).

    Returns
    -------
    pandas.DataFrame
        ``gate_id`` (or ``crossing_id``), ``direction``, ``threshold``, ``probability``,
        ``runs_exceeding`` and ``runs``.
    """
    levels = _thresholds(thresholds)
    frame, id_column = _frame(rows, value, by_crossing, gates, "season exceedance")
    peaks = (frame.groupby([id_column, "direction", "run"], sort=True, observed=True)[value]
             .max().reset_index())
    return _share_over(peaks, [id_column, "direction"], value, levels)


# --- sensitivity ----------------------------------------------------------------------


def _run_outcome(rows: pd.DataFrame, value: str) -> pd.Series:
    """Per run, the mean of ``value`` over gates, directions and days (wait_h by trucks)."""
    x = rows[value].to_numpy(float)
    finite = np.isfinite(x)
    if value == "wait_h" and "trucks" in rows.columns:
        weight = np.where(finite, rows["trucks"].to_numpy(float), 0.0)
    else:
        weight = finite.astype(float)
    parts = pd.DataFrame({"wx": np.where(finite, x, 0.0) * weight, "w": weight})
    sums = parts.groupby(rows["run"].to_numpy(), sort=True).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        outcome = sums["wx"] / sums["w"].where(sums["w"] > 0)
    outcome.index.name = "run"
    return outcome.rename("outcome")


def _quarters(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Masks of the bottom and top quarter of an input's values, and what they are."""
    low, high = np.quantile(x, [0.25, 0.75])
    bottom, top = x <= low, x >= high
    if low == high:  # most runs share one value: that value against the others
        if (x > high).any():
            top = x > high
        else:
            bottom = x < low
    return bottom, top, f"≤ {low:.4g} vs ≥ {high:.4g}"


def _category_label(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else str(value)
    return text or "(none)"


def sensitivity(rows: pd.DataFrame, runs: pd.DataFrame, *, value: str = "wait_h"
                ) -> pd.DataFrame:
    """Rank the inputs of a sweep by how much they move the outcome.

    Each run's outcome is the mean of ``value`` over every gate, direction and day
    (``wait_h`` weighted by trucks, shut days left out). For every input that varies
    across the runs — grid axes and drawn inputs (``draw.*``) — the table gives the
    Spearman rank correlation with the outcome and the *swing*: the mean outcome of the
    runs in the input's top quarter minus that of its bottom quarter. A grid axis whose
    values are not numbers (``open``: lists of gates) has no rank; its swing is the spread
    of the mean outcome between its values (highest minus lowest).

    Parameters
    ----------
    rows
        Sweep rows: ``run`` and ``value`` (and ``trucks`` to weight waits).
    runs
        One row per run: ``run``, the grid axes and ``draw.*`` columns (a sweep folder's
        ``runs.parquet``).
    value
        The outcome: ``wait_h`` (hours) or ``backlog`` (trucks), or another output.

    Returns
    -------
    pandas.DataFrame
        ``input``, ``kind`` (``grid`` or ``draw``), ``spearman_rho`` (NaN for a
        category), ``swing`` (in ``unit``), ``unit`` and ``detail`` (the quarters'
        bounds, or the categories with the highest and lowest mean), sorted by the size
        of the swing, largest first.

    Raises
    ------
    BorderGeoError
        Missing columns, or runs without inputs.
    """
    from scipy.stats import spearmanr

    _require(rows, ("run", value), "sensitivity")
    _require(runs, ("run",), "sensitivity")
    outcome = _run_outcome(rows, value)
    table = runs.merge(outcome, left_on="run", right_index=True, how="inner")
    table = table[np.isfinite(table["outcome"].to_numpy(float))]
    unit = _UNITS.get(value, value)
    records: list[dict[str, Any]] = []
    for column in runs.columns:
        if column in _NOT_INPUTS or table[column].nunique(dropna=False) < 2:
            continue
        kind = "draw" if str(column).startswith("draw.") else "grid"
        y = table["outcome"].to_numpy(float)
        cells = table[column]
        numeric = (pd.api.types.is_numeric_dtype(cells)
                   and not pd.api.types.is_bool_dtype(cells)
                   and cells.notna().all())
        if numeric:
            x = cells.to_numpy(float)
            with warnings.catch_warnings():  # a constant outcome has no rank correlation
                warnings.simplefilter("ignore")
                rho = float(spearmanr(x, y).statistic)
            bottom, top, detail = _quarters(x)
            swing = float(y[top].mean() - y[bottom].mean())
        else:
            means = pd.Series(y).groupby(cells.map(_category_label).to_numpy()).mean()
            rho, swing = math.nan, float(means.max() - means.min())
            detail = f"highest: {means.idxmax()}; lowest: {means.idxmin()}"
        records.append({"input": str(column), "kind": kind, "spearman_rho": rho,
                        "swing": swing, "unit": unit, "detail": detail})
    columns = ["input", "kind", "spearman_rho", "swing", "unit", "detail"]
    if not records:
        logger.info("sensitivity: no input varies across the %d runs", len(table))
        return pd.DataFrame(columns=columns)
    result = pd.DataFrame.from_records(records, columns=columns)
    return result.sort_values("swing", key=np.abs, ascending=False, kind="stable",
                              na_position="last").reset_index(drop=True)


# --- fan chart ------------------------------------------------------------------------


def fan_chart(rows: pd.DataFrame, *, gate_ids: Sequence[str] | None = None,
              direction: str = "export", value: str = "backlog", by_crossing: bool = True,
              title: str | None = None, thresholds: Sequence[float] = (),
              gates: pd.DataFrame | None = None, max_panels: int = 8, ncols: int = 2,
              figsize: tuple[float, float] | None = None) -> Figure:
    """Draw the spread of an output over the season: one panel per crossing (or gate).

    Each panel shades the 5–95 % and 25–75 % bands of the runs, day by day, and draws
    the median; thresholds are dashed lines.

    Parameters
    ----------
    rows
        Sweep rows (:func:`bordergeo.sweep.read_sweep`).
    gate_ids
        Crossings (or gates, without ``by_crossing``) to draw, in this order; default:
        those whose 95th percentile is above zero on some day, the largest median peak
        first, at most ``max_panels``.
    direction
        ``export`` or ``import``.
    value
        The output drawn.
    by_crossing
        One panel per crossing, its lanes added up (:func:`crossing_totals`).
    title
        Figure title (default: what is drawn and over how many runs).
    thresholds
        Levels drawn as dashed lines (e.g. the sweep's exceedance thresholds).
    gates
        The gates layer: crossings of lanes and the names of the panels (default: the
        bundled gates).
    max_panels
        Most panels drawn by default.
    ncols
        Panels per row.
    figsize
        Inches (default: from the number of panels).

    Returns
    -------
    InlineFigure
        A :class:`matplotlib.figure.Figure` that displays inline in a notebook; write it
        with :func:`bordergeo.static.save_figure` (PNG/SVG).

    Raises
    ------
    BorderGeoError
        An unknown direction or gate, or no rows to draw.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    from bordergeo.static import InlineFigure

    if direction not in _DIRECTIONS:
        raise BorderGeoError(f"direction must be export or import, not {direction!r}")
    if ncols < 1 or max_panels < 1:
        raise BorderGeoError("ncols and max_panels must be at least 1")
    levels = _thresholds(thresholds) if len(thresholds) else np.array([])
    _require(rows, ("run", "gate_id", "direction", "date", value), "a fan chart")
    if gates is None and by_crossing:
        from bordergeo.datasets import load_dataset

        gates = load_dataset().gates
    chosen = rows[rows["direction"].astype(str) == direction]
    table = percentiles(chosen, value=value, q=PERCENTILES, by_crossing=by_crossing,
                        gates=gates)
    id_column = "crossing_id" if by_crossing else "gate_id"
    if not len(table):
        raise BorderGeoError(f"no {direction} rows to draw")
    if gate_ids is None:
        peaks = table.groupby(id_column, sort=True).agg(p95=("p95", "max"),
                                                        p50=("p50", "max"))
        shown = peaks[peaks["p95"] > 0] if (peaks["p95"] > 0).any() else peaks
        ids = list(shown.sort_values(["p50", "p95"], ascending=False, kind="stable")
                   .index[:max_panels])
    else:
        ids = [str(g) for g in gate_ids]
        unknown = sorted(set(ids) - set(table[id_column].astype(str)))
        if unknown or not ids:
            raise BorderGeoError(f"no {direction} rows for {', '.join(unknown) or 'no gate'}"
                                 f"; have {', '.join(sorted(set(table[id_column])))}")
    names = ({} if gates is None else
             dict(zip(gates["id"].astype(str), gates["name_vi"].astype(str), strict=True))
             if "name_vi" in gates.columns else {})
    n_runs = int(rows["run"].nunique())
    columns = min(ncols, len(ids))
    nrows = math.ceil(len(ids) / columns)
    size = figsize or (5.2 * columns, 2.7 * nrows + 0.7)
    with matplotlib.rc_context({"text.parse_math": False}):  # a "$" in a name is a "$"
        fig = InlineFigure(figsize=size, layout="constrained")
        FigureCanvasAgg(fig)
        axes = np.atleast_1d(fig.subplots(nrows, columns, sharex=True, squeeze=False)).ravel()
        for ax, gate_id in zip(axes, ids, strict=False):
            part = table[table[id_column].astype(str) == gate_id].sort_values("date")
            dates = part["date"].to_numpy()
            ax.fill_between(dates, part["p5"], part["p95"], color="#1565c0", alpha=0.18,
                            linewidth=0, label="5–95 %")
            ax.fill_between(dates, part["p25"], part["p75"], color="#1565c0", alpha=0.38,
                            linewidth=0, label="25–75 %")
            ax.plot(dates, part["p50"], color="#0d2b52", linewidth=1.6, label="median")
            for level, colour in zip(levels, itertools.cycle(_THRESHOLD_COLOURS),
                                     strict=False):
                ax.axhline(level, color=colour, linestyle="--", linewidth=1,
                           label=f"{level:,.0f} {_UNITS.get(value, '')}".strip())
            ax.set_title(names.get(gate_id, gate_id), fontsize=10)
            ax.set_ylim(bottom=0)
            ax.grid(True, alpha=0.3)
            ax.set_ylabel(_AXIS_LABELS.get(value, value), fontsize=8)
            locator = AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            ax.tick_params(labelsize=8)
        for ax in axes[len(ids):]:
            ax.remove()
        axes[0].legend(loc="upper left", fontsize=7, framealpha=0.9)
        fig.suptitle(title or f"{_AXIS_LABELS.get(value, value).capitalize()}, {direction}: "
                     f"median and bands of {n_runs} runs", fontsize=11)
    return fig


# --- a sweep's folder -----------------------------------------------------------------


def summarise(folder: str | os.PathLike[str], *, gates: pd.DataFrame | None = None,
              thresholds: Sequence[float] | None = None) -> dict[str, pd.DataFrame]:
    """Read a finished sweep and return the tables people look at.

    Parameters
    ----------
    folder
        The sweep's output folder (:func:`bordergeo.sweep.sweep`).
    gates
        The gates layer of the sweep's dataset (default: the bundled gates).
    thresholds
        Backlogs (trucks) for the exceedance table; default: the specification's
        ``thresholds``, or :data:`DEFAULT_THRESHOLDS` when it has none.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``percentiles`` (backlog per crossing, direction and day), ``season_exceedance``
        (per crossing, direction and threshold) and ``sensitivity`` (of the trucks-weighted
        wait, or the backlog when the sweep kept no waits).

    Raises
    ------
    BorderGeoError
        Not a sweep's folder, or an unfinished sweep.
    """
    from bordergeo.sweep import META_FILE, RUNS_FILE, read_sweep

    path = Path(folder)
    rows = read_sweep(path)
    spec = json.loads((path / META_FILE).read_text(encoding="utf-8")).get("spec", {})
    if thresholds is None:
        thresholds = spec.get("thresholds") or DEFAULT_THRESHOLDS
    runs = pd.read_parquet(path / RUNS_FILE)
    if gates is None:
        from bordergeo.datasets import load_dataset

        gates = load_dataset().gates
    outcome = "wait_h" if "wait_h" in rows.columns else "backlog"
    return {
        "percentiles": percentiles(rows, by_crossing=True, gates=gates),
        "season_exceedance": season_exceedance(rows, thresholds, by_crossing=True,
                                               gates=gates),
        "sensitivity": sensitivity(rows, runs, value=outcome),
    }
