"""Calibration: fit the gate-choice, clearance and arrival parameters to what the border reported.

The observed targets are the daily reports of the crossings (``border_daily_reports.csv``):
vehicles cleared per crossing and direction, and the stock of trucks waiting at a stated
hour. For each reported day the model

1. sets the day's demand by direction: the fitted level of its year × the month's
   seasonal factor (:mod:`bordergeo.timeline`), spread over the hubs as the demand file;
2. splits it between the gates by a logit stochastic user equilibrium on the road
   network's path times plus each gate's queue delay, with a fitted dispersion θ and
   gate-specific constants for what time does not explain (the same model as
   ``assign(choice="logit")``);
3. clears each gate at lanes × service rate × open hours (× the calendar's share that
   day), the service rate per lane fitted by direction;
4. gives the stock at the reported hour: the expected backlog of a queue whose days
   vary at random (:func:`bordergeo.queues.expected_backlog`, with a fitted coefficient of
   variation) plus the trucks that arrived since the window closed (the fitted within-day
   arrival profile).

Parameters are fitted by least squares on log ratios (``scipy.optimize.least_squares``),
with weak priors on the parameters the reports barely inform (stated in the output). The
result is a calibration file that ``assign``, ``congestion`` and the maps use by default.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bordergeo.assignment import (
    _akcelik_derivative,
    _Links,
    akcelik,
    checked_demand,
    logit_shares,
)
from bordergeo.datasets import BorderDataset
from bordergeo.errors import BorderGeoError, DataFileError
from bordergeo.gates import (
    DIRECTIONS,
    capacity_gates,
    crossing_ids,
    gate_operations,
)
from bordergeo.inputs import load_structured, preview, read_text_table
from bordergeo.network import RoadNetwork
from bordergeo.queues import expected_backlog, stock_at_hour
from bordergeo.scenarios import DIRECTION_TRUCKS_DAY
from bordergeo.timeline import Calendar, load_calendar, load_seasonal_factors

__all__ = ["Calibration", "CalibrationResult", "calibrate", "load_calibration",
           "read_targets", "default_calibration_path", "ERAS", "DEFAULT_HOLDOUT"]

logger = logging.getLogger(__name__)

#: Format version written into calibration files.
CALIBRATION_FORMAT = 1
#: Dates from which a bundled scenario describes the gates: phase 1 of the smart gate
#: (1119–1120 at 3 + 3 lanes) was inaugurated on 27 Nov 2025 (xe.today, 29 Nov 2025).
ERAS: tuple[tuple[str, str], ...] = (("2025-11-27", "baseline_2026"),)
#: Days from which the gate-choice constants are fitted anew: on 27 May 2024 the Tân Thanh –
#: Pò Chài and Cốc Nam routes became routes of the Hữu Nghị international gate (VNA / Lao
#: Động 2024; vietnam.vn Dec 2025), and the reported split moved from Tân Thanh to Hữu Nghị.
CHOICE_PERIODS: tuple[str, ...] = ("2024-05-27",)
#: Reported days held out of the fit to test it (the second August 2024 report).
DEFAULT_HOLDOUT = ("2024-08-29",)
#: Reports before this day are episodes the daily model does not describe (COVID checks
#: in 2021–2022, the 2023 hours); the December 2021 replay covers the first.
FIRST_TARGET_DAY = "2024-01-01"
#: Priors (centre, spread) of the parameters the reports inform least; each adds the
#: residual (value − centre) / spread to the fit.
PRIORS = {"log_rate_scale": (0.0, 1.0), "log_rate_by_crossing": (0.0, 1.0),
          "daily_cv": (0.25, 0.15),
          "window_share": (0.5, 0.3), "constant_h": (0.0, 3.0),
          "log_growth_per_year": (0.0, 0.5), "log_demand_vs_table": (0.0, 0.15)}
_BOUNDS = {"dispersion_per_h": (0.02, 10.0), "constant_h": (-15.0, 15.0),
           "log_rate_scale": (-1.5, 1.5), "log_rate_by_crossing": (-1.5, 1.5),
           "daily_cv": (0.02, 1.0), "window_share": (0.0, 1.0),
           "level": (10.0, 20_000.0)}


def default_calibration_path() -> Path:
    """Path of the bundled calibration (fitted on the bundled observations)."""
    from bordergeo.congestion import sample_path  # noqa: PLC0415 - avoids an import cycle

    return sample_path("calibration.json")


@dataclass
class Calibration:
    """Fitted parameters of the gate-choice, clearance and stock models.

    Attributes
    ----------
    dispersion_per_h
        θ of the logit gate choice (1/h).
    constants_h
        Gate-choice constants by crossing and direction (hours-equivalent; the most used
        crossing is the reference at 0).
    service_rates_trucks_h
        Trucks per hour per lane, by gate and direction.
    window_share
        Share of a day's arrivals that come while the gates are open.
    daily_cv
        Coefficient of variation of the daily net arrivals (arrivals and acceptance).
    demand_trucks_per_day
        Fitted demand level by year and direction (before seasonal factors).
    seasonal_factors
        Monthly factors by direction (12 values each).
    horizon_days
        Horizon of the expected backlog.
    fit
        The fit, target by target (see :class:`CalibrationResult`), as stored.
    """

    dispersion_per_h: float
    constants_h: dict[str, dict[str, float]]
    service_rates_trucks_h: dict[str, dict[str, float]]
    window_share: float
    daily_cv: float
    demand_trucks_per_day: dict[str, dict[str, float]] = field(default_factory=dict)
    seasonal_factors: dict[str, list[float]] = field(default_factory=dict)
    horizon_days: int = 60
    fit: dict = field(default_factory=dict)
    constants_by_period: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def constants_on(self, day: str | pd.Timestamp | None = None
                     ) -> dict[str, dict[str, float]]:
        """Gate-choice constants in force on a day (default: the latest period's).

        Parameters
        ----------
        day
            A day (``YYYY-MM-DD``); the constants of the last period starting on or before it.

        Returns
        -------
        dict
            ``{crossing: {"export": …, "import": …}}``.
        """
        if day is None or not self.constants_by_period:
            return self.constants_h
        stamp = pd.Timestamp(day)
        starts = sorted(self.constants_by_period)
        chosen = starts[0]
        for start in starts:
            if start == "" or pd.Timestamp(start) <= stamp:
                chosen = start
        return self.constants_by_period[chosen]

    def apply(self, gates: pd.DataFrame) -> pd.DataFrame:
        """Return the gates layer with the fitted service rates by direction.

        Gates the calibration does not know keep their own rate.
        """
        out = gates.copy()
        for direction in DIRECTIONS:
            column = f"service_rate_trucks_h_{direction}"
            fitted = out["id"].astype(str).map(
                lambda g, d=direction: self.service_rates_trucks_h.get(g, {}).get(d, np.nan))
            if column in out.columns:
                fitted = fitted.where(fitted.notna(), out[column])
            out[column] = fitted.astype(float)
        return out

    def assign_options(self, day: str | pd.Timestamp | None = None) -> dict[str, object]:
        """Keyword arguments of :func:`bordergeo.assign` for the fitted gate choice.

        Parameters
        ----------
        day
            Use the constants in force that day (default: the latest period's).
        """
        return {"choice": "logit", "dispersion_per_h": self.dispersion_per_h,
                "gate_constants_h": self.constants_on(day)}

    def stock(self, flows: np.ndarray, capacity: np.ndarray,
              windows: Sequence[tuple[float, float] | None], *, hour: float = 20.0
              ) -> tuple[np.ndarray, np.ndarray]:
        """Return the expected backlog after the window and the stock at ``hour``, per gate."""
        flows = np.asarray(flows, float)
        capacity = np.asarray(capacity, float)
        backlog = np.where(capacity > 0, expected_backlog(flows, np.maximum(capacity, 1e-9),
                                                          cv=self.daily_cv,
                                                          horizon_days=self.horizon_days),
                           flows * self.horizon_days)
        stock = np.array([float(stock_at_hour(f, b, window_vn=w, window_share=self.window_share,
                                              hour=hour))
                          for f, b, w in zip(flows, backlog, windows, strict=True)])
        return backlog, stock

    def to_dict(self) -> dict:
        """JSON-ready form (the calibration file)."""
        return {"bordergeo_calibration": CALIBRATION_FORMAT,
                "gate_choice": {"model": "logit", "dispersion_per_h": self.dispersion_per_h,
                                "constants_h": self.constants_h,
                                "constants_by_period": self.constants_by_period},
                "service_rates_trucks_h": self.service_rates_trucks_h,
                "arrivals": {"window_share": self.window_share, "daily_cv": self.daily_cv,
                             "horizon_days": self.horizon_days},
                "demand_trucks_per_day": self.demand_trucks_per_day,
                "seasonal_factors": self.seasonal_factors,
                "fit": self.fit}

    @classmethod
    def from_dict(cls, data: object, *, source: str = "calibration") -> Calibration:
        """Read the form written by :meth:`to_dict`; a clear error for anything else."""
        try:
            if not isinstance(data, dict) or data.get("bordergeo_calibration") \
                    != CALIBRATION_FORMAT:
                raise ValueError(f"not a bordergeo calibration (format "
                                 f"{CALIBRATION_FORMAT}); write one with 'bordergeo calibrate'")
            choice, arrivals = data["gate_choice"], data["arrivals"]
            constants = {str(k): {str(d): _finite(x, f"constant {k}") for d, x in v.items()}
                         for k, v in choice["constants_h"].items()}
            rates = {str(k): {str(d): _finite(x, f"rate {k}", low=1e-6) for d, x in v.items()}
                     for k, v in data["service_rates_trucks_h"].items()}
            return cls(
                dispersion_per_h=_finite(choice["dispersion_per_h"], "dispersion_per_h", low=0),
                constants_h=constants, service_rates_trucks_h=rates,
                window_share=_finite(arrivals["window_share"], "window_share", low=0, high=1),
                daily_cv=_finite(arrivals["daily_cv"], "daily_cv", low=0, high=10),
                demand_trucks_per_day={str(y): {str(d): _finite(x, "demand", low=0)
                                                for d, x in v.items()}
                                       for y, v in data.get("demand_trucks_per_day",
                                                            {}).items()},
                seasonal_factors={str(d): [_finite(x, "seasonal factor", low=0) for x in v]
                                  for d, v in data.get("seasonal_factors", {}).items()},
                horizon_days=int(_finite(arrivals.get("horizon_days", 60), "horizon_days",
                                         low=1, high=3660)),
                constants_by_period={
                    str(p): {str(k): {str(d): _finite(x, f"constant {k}") for d, x in v.items()}
                             for k, v in by.items()}
                    for p, by in choice.get("constants_by_period", {}).items()},
                fit=data.get("fit", {}) if isinstance(data.get("fit", {}), dict) else {})
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise DataFileError(f"{source}: {preview(what, limit=200)[1:-1]}") from None


def _finite(value: object, name: str, *, low: float | None = None,
            high: float | None = None) -> float:
    number = float(value)  # type: ignore[arg-type]
    if not np.isfinite(number) or (low is not None and number < low) \
            or (high is not None and number > high):
        raise ValueError(f"{name} is {preview(value)}, out of range")
    return number


def load_calibration(path: str | os.PathLike[str] | None = None) -> Calibration:
    """Read a calibration file (default: the bundled one).

    Parameters
    ----------
    path
        JSON written by ``bordergeo calibrate`` / :meth:`CalibrationResult.save`.

    Returns
    -------
    Calibration

    Raises
    ------
    DataFileError
        Not a calibration file, or a value out of range.
    """
    path = Path(path) if path is not None else default_calibration_path()
    return Calibration.from_dict(load_structured(path, what="calibration"), source=str(path))


# ------------------------------------------------------------------------------- targets
_TARGET_COLUMNS = ("date", "gate_id", "direction", "measure", "value")


def read_targets(path: str | os.PathLike[str] | None = None, *,
                 first_day: str = FIRST_TARGET_DAY) -> pd.DataFrame:
    """Read observed daily reports and keep those the daily model can be compared with.

    Kept: ``vehicles_cleared`` by gate/crossing/``all`` and direction, and
    ``trucks_waiting`` at a stated hour, from ``first_day`` on; a ``both`` row is dropped
    when the same report gives both directions (it would count them twice).

    Parameters
    ----------
    path
        CSV with the columns of ``border_daily_reports.csv`` (default: the bundled one).
    first_day
        Earliest report used.

    Returns
    -------
    pandas.DataFrame
        ``date`` (Timestamp), ``gate_id``, ``direction``, ``measure``, ``value``,
        ``at_hour`` (float or NaN), ``source`` and ``name``.
    """
    from bordergeo.congestion import sample_path  # noqa: PLC0415 - avoids an import cycle

    path = Path(path) if path is not None else sample_path("border_daily_reports.csv")
    frame = read_text_table(path, what="observed reports", columns=_TARGET_COLUMNS)
    date = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    value = pd.to_numeric(frame["value"], errors="coerce")
    for bad, what in ((date.isna(), "date"), (value.isna() | (value < 0), "value")):
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataFileError(f"{path}: data row {row + 1}, field {what!r}: "
                                f"{preview(frame[what].iloc[row])} is not valid")
    hour = frame.get("at_hour", pd.Series([""] * len(frame)))
    parts = hour.str.extract(r"^\s*(\d{1,2}):(\d{2})\s*$").astype(float)
    out = pd.DataFrame({"date": date, "gate_id": frame["gate_id"].str.strip(),
                        "direction": frame["direction"].str.strip().str.lower(),
                        "measure": frame["measure"].str.strip(), "value": value.astype(float),
                        "at_hour": (parts[0] + parts[1] / 60).to_numpy(),
                        "source": (frame.get("source_title", "") + " — "
                                   + frame.get("source_url", "")).str.strip(" —")})
    keep = (out["date"] >= pd.Timestamp(first_day)) & (
        (out["measure"] == "vehicles_cleared")
        | ((out["measure"] == "trucks_waiting") & out["at_hour"].notna()))
    out = out[keep & out["direction"].isin(["export", "import", "both"])].copy()
    split = out[out["direction"] != "both"].groupby(["date", "gate_id", "measure"])[
        "direction"].nunique()
    complete = set(split[split == 2].index)
    redundant = (out["direction"] == "both") & pd.Series(
        [k in complete for k in zip(out["date"], out["gate_id"], out["measure"], strict=True)],
        index=out.index)
    out = out[~redundant].reset_index(drop=True)
    out["name"] = [f"{d:%Y-%m-%d} {g} {m.replace('vehicles_', '').replace('trucks_', '')} "
                   f"{r}" + ("" if np.isnan(h) else f" at {int(h):02d}:{int(h % 1 * 60):02d}")
                   for d, g, m, r, h in zip(out["date"], out["gate_id"], out["measure"],
                                            out["direction"], out["at_hour"], strict=True)]
    return out


# ------------------------------------------------------------------------------- model
@dataclass
class _Era:
    """The gates of one period and the road times from every hub to every gate."""

    gate_ids: list[str]
    crossing: list[str]
    lanes: dict[str, np.ndarray]
    prior_rate: dict[str, np.ndarray]
    hours: dict[str, np.ndarray]
    windows: dict[str, list[tuple[float, float] | None]]
    road_h: dict[str, np.ndarray]


class _Model:
    """The daily model of the reported days (see the module docstring)."""

    def __init__(self, dataset: BorderDataset, network: RoadNetwork, demand: pd.DataFrame,
                 *, calendar: Calendar, factors: dict[str, np.ndarray],
                 eras: Sequence[tuple[str, str]]) -> None:
        from bordergeo.congestion import resolve_scenario  # noqa: PLC0415
        from bordergeo.scenarios import apply_scenario, load_scenario  # noqa: PLC0415

        demand = checked_demand(demand, source="demand")
        if "direction" not in demand.columns:
            raise BorderGeoError("calibration needs demand by direction (a 'direction' "
                                 "column: export/import), e.g. demand_2024_by_direction.csv")
        self.hubs = list(dict.fromkeys(demand["origin"]))
        unknown = [h for h in self.hubs if h not in network.places]
        if unknown:
            raise BorderGeoError(f"demand origin {unknown[0]!r} is not a hub of this network")
        self.origins = np.array([network.places[h] for h in self.hubs], dtype=np.int64)
        self.shares: dict[str, np.ndarray] = {}
        self.totals: dict[str, float] = {}
        for direction in DIRECTIONS:
            part = demand[demand["direction"] == direction].groupby("origin")[
                "trucks_per_day"].sum().reindex(self.hubs, fill_value=0.0).to_numpy(float)
            self.shares[direction] = part / part.sum() if part.sum() > 0 else part
            self.totals[direction] = float(part.sum())
        self.calendar, self.factors = calendar, factors
        self._shares: dict[tuple[pd.Timestamp, str], tuple[_Era, np.ndarray]] = {}
        self.eras: list[tuple[pd.Timestamp, _Era]] = [
            (pd.Timestamp.min, self._era(dataset.gates, network))]
        for start, name in eras:
            gates = apply_scenario(dataset.gates, load_scenario(resolve_scenario(name)))
            self.eras.append((pd.Timestamp(start), self._era(gates, network)))

    def _era(self, gates: pd.DataFrame, network: RoadNetwork) -> _Era:
        carriers = gates[capacity_gates(gates).to_numpy() & (gates["mode"] == "road").to_numpy()
                         & (gates["status"] != "closed").to_numpy()]
        crossing = crossing_ids(gates)
        era = _Era([], [], {}, {}, {}, {}, {})
        ops = []
        for _, gate in carriers.iterrows():
            op = gate_operations(gate)
            if str(gate["id"]) not in network.places or op.lanes_export is None \
                    or op.lanes_import is None:
                continue
            ops.append(op)
            era.gate_ids.append(op.gate_id)
            era.crossing.append(str(crossing[op.gate_id]))
        if not ops:
            raise BorderGeoError("no open road gate with lanes by direction to calibrate")
        base_rate = {op.gate_id: op.service_rate_trucks_h for op in ops}
        for direction in DIRECTIONS:
            era.lanes[direction] = np.array([getattr(op, f"lanes_{direction}") for op in ops],
                                            float)
            era.prior_rate[direction] = np.array([base_rate[op.gate_id] for op in ops])
            era.hours[direction] = np.array([op.open_hours_for(direction) for op in ops])
            era.windows[direction] = [op.window_for(direction) for op in ops]
            rows = gates[gates["id"].isin(era.gate_ids)].set_index("id").loc[era.gate_ids]
            links = _Links(network, rows.reset_index(), direction=direction, truck_pce=2.88,
                           lane_capacity_pcu_h=1_800.0, reverse_roads=direction == "import")
            trees = links.gate_trees(links.t0.copy(), self.origins)
            via = trees.via - links.t0[links.n_roads:][None, :]
            order = [links.gate_ids.index(g) if g in links.gate_ids else -1
                     for g in era.gate_ids]
            road = np.full((len(self.origins), len(era.gate_ids)), np.inf)
            for k, j in enumerate(order):
                if j >= 0:
                    road[:, k] = via[:, j]
            era.road_h[direction] = road
        return era

    def era(self, day: pd.Timestamp) -> _Era:
        chosen = self.eras[0][1]
        for start, era in self.eras:
            if day >= start:
                chosen = era
        return chosen

    def _capacity_share(self, day: pd.Timestamp, direction: str) -> tuple[_Era, np.ndarray]:
        key = (day, direction)
        if key not in self._shares:
            era = self.era(day)
            self._shares[key] = (era, np.array([
                self.calendar.capacity_share(day.date(), gate_id=g, crossing_id=c,
                                             direction=direction)
                for g, c in zip(era.gate_ids, era.crossing, strict=True)]))
        return self._shares[key]

    def day(self, day: pd.Timestamp, direction: str, params: _Params) -> dict:
        """Flows, clearances and backlogs of every gate on one day, one direction."""
        era, share = self._capacity_share(day, direction)
        rate = era.prior_rate[direction] * np.exp(
            [params.log_rate(c, direction) for c in era.crossing])
        capacity = era.lanes[direction] * rate * era.hours[direction] * share
        volume = params.level(day.year, direction) \
            * float(self.factors[direction][day.month - 1]) * self.shares[direction]
        constants = np.array([params.constant(c, direction, day) for c in era.crossing])
        usable = capacity > 0
        road = np.where(usable[None, :], era.road_h[direction], np.inf)
        period = np.maximum(era.hours[direction], 1.0)
        safe_capacity = np.maximum(capacity, 1e-9)
        base = road + 1.0 / rate[None, :]
        flows = _logit_fixed_point(base, volume, safe_capacity, period, usable,
                                   dispersion_per_h=params.dispersion_per_h,
                                   constants_h=constants)
        backlog = np.where(usable, expected_backlog(flows, safe_capacity, cv=params.daily_cv,
                                                    horizon_days=params.horizon_days),
                           flows * params.horizon_days)
        return {"flows": flows, "capacity": capacity, "cleared": np.minimum(flows, capacity),
                "backlog": backlog, "era": era, "windows": era.windows[direction]}

    def evaluate(self, targets: pd.DataFrame, params: _Params) -> np.ndarray:
        """Modelled value of every target."""
        cache: dict[tuple[pd.Timestamp, str], dict] = {}
        out = np.empty(len(targets))
        for k, row in enumerate(targets.itertuples(index=False)):
            directions = DIRECTIONS if row.direction == "both" else (row.direction,)
            total = 0.0
            for direction in directions:
                key = (row.date, direction)
                if key not in cache:
                    cache[key] = self.day(row.date, direction, params)
                day = cache[key]
                era = day["era"]
                member = np.array([row.gate_id in ("all", g, c)
                                   for g, c in zip(era.gate_ids, era.crossing, strict=True)])
                if row.measure == "vehicles_cleared":
                    total += float(day["cleared"][member].sum())
                else:
                    for j in np.flatnonzero(member):
                        total += float(stock_at_hour(
                            day["flows"][j], day["backlog"][j], window_vn=day["windows"][j],
                            window_share=params.window_share, hour=row.at_hour))
            out[k] = total
        return out


def _logit_fixed_point(base_h: np.ndarray, volume: np.ndarray, capacity: np.ndarray,
                       period_h: np.ndarray, usable: np.ndarray, *, dispersion_per_h: float,
                       constants_h: np.ndarray) -> np.ndarray:
    """Gate flows ``f = Σ_o v_o P_o(base + wait(f))`` of the logit equilibrium, by Newton.

    The map's Jacobian is ``−θ Σ_o v_o (diag P_o − P_o P_oᵀ) diag(wait′)``, so each
    Newton step solves a system the size of the number of gates; steps are halved until
    the residual falls.
    """
    def shares(flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wait = np.where(usable, akcelik(0.0, flows, capacity, period_h), 0.0)
        probability = logit_shares(base_h + wait[None, :], dispersion_per_h=dispersion_per_h,
                                   constants_h=constants_h[None, :])
        return probability, probability.T @ volume - flows

    flows = shares(np.zeros(len(capacity)))[0].T @ volume
    probability, residual = shares(flows)
    scale = max(float(volume.sum()), 1.0)
    for _ in range(60):
        if float(np.abs(residual).sum()) < 1e-8 * scale:
            break
        slope = np.where(usable, _akcelik_derivative(flows, capacity, period_h), 0.0)
        weighted = probability * volume[:, None]
        jacobian = -dispersion_per_h * (np.diag(weighted.sum(axis=0))
                                        - probability.T @ weighted) * slope[None, :]
        step = np.linalg.solve(np.eye(len(flows)) - jacobian, residual)
        size = float(np.abs(residual).sum())
        for _ in range(30):
            trial = np.maximum(flows + step, 0.0)
            trial_probability, trial_residual = shares(trial)
            if float(np.abs(trial_residual).sum()) < size:
                break
            step = step / 2
        flows, probability, residual = trial, trial_probability, trial_residual
    return flows


@dataclass
class _Params:
    """The free parameters as named values, and their packing into one vector."""

    dispersion_per_h: float
    constants: dict[str, float]  # "crossing" or "crossing|direction"
    log_rate_scale: dict[str, float]  # "direction", or "crossing|direction" on top
    daily_cv: float
    window_share: float
    levels: dict[str, float]  # "year|direction"
    horizon_days: int = 60
    periods: tuple[str, ...] = ()
    demand_table: dict[str, float] = field(default_factory=dict)  # "year|direction"

    def log_rate(self, crossing: str, direction: str) -> float:
        """Log factor on the prior rate per lane: the direction's, times the crossing's."""
        return self.log_rate_scale[direction] + self.log_rate_scale.get(
            f"{crossing}|{direction}", 0.0)

    def period(self, day: pd.Timestamp) -> str:
        """Start of the choice period of a day ("" before the first)."""
        chosen = ""
        for start in self.periods:
            if day >= pd.Timestamp(start):
                chosen = start
        return chosen

    def constant(self, crossing: str, direction: str, day: pd.Timestamp | None = None
                 ) -> float:
        period = self.period(day) if day is not None else (self.periods[-1] if self.periods
                                                           else "")
        for key in (f"{crossing}|{direction}@{period}", f"{crossing}@{period}",
                    f"{crossing}|{direction}", crossing):
            if key in self.constants:
                return self.constants[key]
        return 0.0

    def level(self, year: int, direction: str) -> float:
        key = f"{year}|{direction}"
        if key in self.levels:
            return self.levels[key]
        years = sorted(int(k.split("|")[0]) for k in self.levels if k.endswith(direction))
        if not years:
            raise BorderGeoError(f"no fitted {direction} demand level")
        nearest = min(years, key=lambda y: abs(y - year))
        return self.levels[f"{nearest}|{direction}"]

    def keys(self) -> list[tuple[str, str]]:
        return ([("dispersion_per_h", "")] + [("constant_h", k) for k in self.constants]
                + [("log_rate_scale", k) for k in self.log_rate_scale] + [("daily_cv", ""),
                                                                ("window_share", "")]
                + [("level", k) for k in self.levels])

    def vector(self) -> np.ndarray:
        values = []
        for kind, key in self.keys():
            values.append({"dispersion_per_h": lambda _k: self.dispersion_per_h,
                           "constant_h": lambda k: self.constants[k],
                           "log_rate_scale": lambda k: self.log_rate_scale[k],
                           "daily_cv": lambda _k: self.daily_cv,
                           "window_share": lambda _k: self.window_share,
                           "level": lambda k: self.levels[k]}[kind](key))
        return np.array(values, float)

    def with_vector(self, x: np.ndarray) -> _Params:
        out = _Params(self.dispersion_per_h, dict(self.constants), dict(self.log_rate_scale),
                      self.daily_cv, self.window_share, dict(self.levels), self.horizon_days,
                      self.periods, self.demand_table)
        for (kind, key), value in zip(self.keys(), x, strict=True):
            if kind == "dispersion_per_h":
                out.dispersion_per_h = float(value)
            elif kind == "constant_h":
                out.constants[key] = float(value)
            elif kind == "log_rate_scale":
                out.log_rate_scale[key] = float(value)
            elif kind == "daily_cv":
                out.daily_cv = float(value)
            elif kind == "window_share":
                out.window_share = float(value)
            else:
                out.levels[key] = float(value)
        return out

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        pairs = [_BOUNDS["log_rate_by_crossing" if kind == "log_rate_scale" and "|" in key
                         else kind] for kind, key in self.keys()]
        return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])

    def priors(self) -> np.ndarray:
        residuals = [(value - PRIORS[kind][0]) / PRIORS[kind][1]
                     for key, value in self.log_rate_scale.items()
                     for kind in ["log_rate_by_crossing" if "|" in key else "log_rate_scale"]]
        residuals.append((self.daily_cv - PRIORS["daily_cv"][0]) / PRIORS["daily_cv"][1])
        residuals.append((self.window_share - PRIORS["window_share"][0])
                         / PRIORS["window_share"][1])
        residuals += [(v - PRIORS["constant_h"][0]) / PRIORS["constant_h"][1]
                      for v in self.constants.values()]
        centre, spread = PRIORS["log_growth_per_year"]
        for direction in DIRECTIONS:
            years = sorted(int(k.split("|")[0]) for k in self.levels if k.endswith(direction))
            for before, after in zip(years, years[1:], strict=False):
                growth = np.log(self.levels[f"{after}|{direction}"]
                                / self.levels[f"{before}|{direction}"]) / (after - before)
                residuals.append((growth - centre) / spread)
        centre, spread = PRIORS["log_demand_vs_table"]
        for key, total in self.demand_table.items():
            if key in self.levels and total > 0:
                residuals.append((np.log(self.levels[key] / total) - centre) / spread)
        return np.array(residuals)

    def as_calibration(self, model: _Model | None = None) -> Calibration:
        crossings = list(dict.fromkeys(k.split("@")[0].split("|")[0] for k in self.constants))
        by_period = {period: {c: {d: round(self.constant(c, d, pd.Timestamp(period or
                                                                           "1900-01-01")), 6)
                                  for d in DIRECTIONS} for c in crossings}
                     for period in ("", *self.periods)} if self.periods else {}
        constants = {c: {d: round(self.constant(c, d), 6) for d in DIRECTIONS}
                     for c in crossings}
        rates: dict[str, dict[str, float]] = {}
        if model is not None:
            for _, era in model.eras:
                for j, gate_id in enumerate(era.gate_ids):
                    rates[gate_id] = {d: round(float(era.prior_rate[d][j] * np.exp(
                        self.log_rate(era.crossing[j], d))), 6) for d in DIRECTIONS}
        levels: dict[str, dict[str, float]] = {}
        for key, value in self.levels.items():
            year, _, direction = key.partition("|")
            levels.setdefault(year, {})[direction] = round(float(value), 3)
        factors = {d: [round(float(x), 6) for x in model.factors[d]] for d in DIRECTIONS} \
            if model is not None else {}
        return Calibration(round(self.dispersion_per_h, 6), constants, rates,
                           round(self.window_share, 6), round(self.daily_cv, 6), levels,
                           factors, self.horizon_days, {}, by_period)


def _initial(targets: pd.DataFrame, model: _Model, periods: Sequence[str] = (),
             demand_year: int | None = None) -> _Params:
    """Choose starting values, and free constants for the crossings that were reported."""
    cleared = targets[targets["measure"] == "vehicles_cleared"]
    crossings = [g for g in dict.fromkeys(cleared["gate_id"]) if g != "all"]
    eras = [era for _, era in model.eras]
    known = {c for era in eras for c in era.crossing} | {g for era in eras for g in era.gate_ids}
    crossings = [c for c in crossings if c in known]
    if not crossings:
        reference = None
    else:
        volume = cleared[cleared["gate_id"].isin(crossings)].groupby("gate_id")["value"].sum()
        reference = str(volume.idxmax())
    constants: dict[str, float] = {}
    starts = tuple(sorted(periods))
    probe = _Params(1.0, {}, {}, 0.25, 0.5, {}, periods=starts)
    for crossing in crossings:
        if crossing == reference:
            continue
        rows = cleared[cleared["gate_id"] == crossing]
        seen = sorted({probe.period(d) for d in rows["date"]})
        for period in seen:
            suffix = f"@{period}" if len(seen) > 1 else ""
            here = rows[[probe.period(d) == period for d in rows["date"]]]
            if set(here["direction"]) >= {"export", "import"}:
                for d in DIRECTIONS:
                    constants[f"{crossing}|{d}{suffix}"] = 0.0
            else:
                constants[f"{crossing}{suffix}"] = 0.0
    used = tuple(p for p in starts if any("@" + p in k for k in constants))
    rate_keys = dict.fromkeys(DIRECTIONS, 0.0)
    for crossing in crossings:  # other crossings reported by direction get their own rates
        if crossing == reference:
            continue
        directions = set(cleared[cleared["gate_id"] == crossing]["direction"])
        for d in DIRECTIONS:
            if d in directions:
                rate_keys[f"{crossing}|{d}"] = 0.0
    levels: dict[str, float] = {}
    for year in sorted({d.year for d in targets["date"]}):
        for direction in DIRECTIONS:
            rows = cleared[(cleared["date"].dt.year == year) & (cleared["gate_id"] == "all")]
            same = rows[rows["direction"] == direction]["value"]
            both = rows[rows["direction"] == "both"]["value"]
            guess = float(same.mean()) if len(same) else \
                float(both.mean()) * (0.3 if direction == "export" else 0.7) if len(both) \
                else DIRECTION_TRUCKS_DAY[direction]
            levels[f"{year}|{direction}"] = guess
    table = {f"{demand_year}|{d}": model.totals[d] for d in DIRECTIONS} \
        if demand_year is not None else {}
    return _Params(1.0, constants, rate_keys, 0.25, 0.5, levels,
                   periods=used, demand_table=table)


@dataclass
class CalibrationResult:
    """A fitted calibration and its fit, target by target.

    Attributes
    ----------
    calibration
        Parameters fitted on every target.
    targets
        ``name``, ``date``, ``gate_id``, ``direction``, ``measure``, ``observed``,
        ``modelled``, ``relative_error`` and ``source`` of every target (fit on all).
    holdout
        The same columns for the held-out days, modelled by a fit without them.
    holdout_dates
        Days held out.
    """

    calibration: Calibration
    targets: pd.DataFrame
    holdout: pd.DataFrame
    holdout_dates: list[str]
    cost: float = 0.0

    @property
    def median_relative_error(self) -> float:
        """Median |modelled − observed| / observed over the fitted targets."""
        return float(self.targets["relative_error"].abs().median())

    @property
    def holdout_median_relative_error(self) -> float:
        """The same over the held-out targets (NaN without a hold-out)."""
        return float(self.holdout["relative_error"].abs().median()) if len(self.holdout) \
            else float("nan")

    def parameters(self) -> dict:
        """Return the fitted parameters, as stored in the calibration file."""
        data = self.calibration.to_dict()
        return {k: v for k, v in data.items() if k not in ("bordergeo_calibration", "fit")}

    def to_dict(self) -> dict:
        """``{"targets": [...], "parameters": {...}, "holdout": [...], "summary": {...}}``."""
        def records(frame: pd.DataFrame) -> list[dict]:
            return [{"name": r["name"], "date": f"{r['date']:%Y-%m-%d}", "gate_id": r["gate_id"],
                     "direction": r["direction"], "measure": r["measure"],
                     "observed": float(r["observed"]), "modelled": round(float(r["modelled"]), 2),
                     "relative_error": round(float(r["relative_error"]), 4),
                     "source": r["source"]} for _, r in frame.iterrows()]

        return {"targets": records(self.targets), "parameters": self.parameters(),
                "holdout": records(self.holdout),
                "summary": {"targets": len(self.targets),
                            "median_relative_error": round(self.median_relative_error, 4),
                            "holdout_dates": self.holdout_dates,
                            "holdout_targets": len(self.holdout),
                            "holdout_median_relative_error":
                                round(self.holdout_median_relative_error, 4)
                                if len(self.holdout) else None,
                            "priors": {k: list(v) for k, v in PRIORS.items()}}}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the calibration file (atomically) with the fit summary inside."""
        from bordergeo.io import atomic_output  # noqa: PLC0415

        calibration = self.calibration
        calibration.fit = {k: v for k, v in self.to_dict().items() if k != "parameters"}
        text = json.dumps(calibration.to_dict(), ensure_ascii=False, indent=1)
        with atomic_output(Path(path)) as tmp:
            Path(tmp).write_text(text + "\n", encoding="utf-8")
        return Path(path)


def _fit(model: _Model, targets: pd.DataFrame, *, prior_weight: float,
         periods: Sequence[str] = (), demand_year: int | None = None
         ) -> tuple[_Params, float]:
    from scipy.optimize import least_squares  # noqa: PLC0415

    params = _initial(targets, model, periods, demand_year)
    observed = targets["value"].to_numpy(float)
    floor = 1.0  # a count of zero compares as one truck

    def residuals(x: np.ndarray) -> np.ndarray:
        trial = params.with_vector(x)
        modelled = model.evaluate(targets, trial)
        fit = np.log(np.maximum(modelled, floor) / np.maximum(observed, floor))
        return np.r_[fit, prior_weight * trial.priors()] if prior_weight > 0 else fit

    low, high = params.bounds()
    x0 = np.clip(params.vector(), low + 1e-9, high - 1e-9)
    solution = least_squares(residuals, x0, bounds=(low, high), x_scale="jac",
                             diff_step=1e-4, max_nfev=400)
    logger.info("calibration: %d targets, cost %.4g after %d evaluations (%s)",
                len(targets), solution.cost, solution.nfev, solution.message)
    return params.with_vector(solution.x), float(solution.cost)


def _table(targets: pd.DataFrame, modelled: np.ndarray) -> pd.DataFrame:
    observed = targets["value"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.where(observed > 0, (modelled - observed) / observed, np.nan)
    return pd.DataFrame({"name": targets["name"], "date": targets["date"],
                         "gate_id": targets["gate_id"], "direction": targets["direction"],
                         "measure": targets["measure"], "observed": observed,
                         "modelled": modelled, "relative_error": error,
                         "source": targets["source"]})


def calibrate(dataset: BorderDataset, network: RoadNetwork, demand: pd.DataFrame, *,
              observations: str | os.PathLike[str] | pd.DataFrame | None = None,
              holdout: Sequence[str] = DEFAULT_HOLDOUT,
              calendar: Calendar | str | os.PathLike[str] | None = None,
              seasonal_factors: dict[str, np.ndarray] | str | os.PathLike[str] | None = None,
              eras: Sequence[tuple[str, str]] = ERAS, prior_weight: float = 1.0,
              choice_periods: Sequence[str] = CHOICE_PERIODS,
              demand_year: int | None = 2024) -> CalibrationResult:
    """Fit the model's free parameters to the observed daily reports.

    Parameters
    ----------
    dataset, network
        Gates (with lanes by direction) and the road network they are attached to.
    demand
        Demand by hub and direction (its per-direction shares spread the fitted levels).
    observations
        Reports as in ``border_daily_reports.csv`` (a path or a table already read by
        :func:`read_targets`); default: the bundled reports.
    holdout
        Days (``YYYY-MM-DD``) left out of a first fit and predicted by it.
    calendar, seasonal_factors
        Default: the bundled ones.
    eras
        ``(first day, scenario)`` pairs: the gates as a scenario describes them from that
        day (default: the 2026 baseline from 27 Nov 2025).
    prior_weight
        Weight of the priors (0: the reports alone).
    choice_periods
        Days from which a crossing's gate-choice constants are fitted anew (when it was
        reported on both sides of the day); default: 27 May 2024.
    demand_year
        The year whose average the demand table gives (the bundled one: 2024, the
        province's Jan–Oct average); its totals by direction are a prior on that year's
        fitted level. ``None``: the table only spreads the levels over the hubs.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    BorderGeoError
        No targets, demand without directions, gates without lanes by direction.
    """
    targets = observations if isinstance(observations, pd.DataFrame) \
        else read_targets(observations)
    if targets.empty:
        raise BorderGeoError("no observed targets to calibrate on")
    calendar = calendar if isinstance(calendar, Calendar) else load_calendar(calendar)
    factors = seasonal_factors if isinstance(seasonal_factors, dict) \
        else load_seasonal_factors(seasonal_factors)
    model = _Model(dataset, network, demand, calendar=calendar, factors=factors, eras=eras)
    held = set()
    for text in holdout:
        day = pd.to_datetime(str(text), format="%Y-%m-%d", errors="coerce")
        if pd.isna(day):
            raise BorderGeoError(f"hold-out day {preview(text)} is not a date (YYYY-MM-DD)")
        held.add(day)
    unknown = sorted(f"{d:%Y-%m-%d}" for d in held - set(targets["date"]))
    if unknown:
        raise BorderGeoError(f"hold-out day {unknown[0]} has no observed target")
    holdout_table = _table(targets.iloc[:0], np.zeros(0))
    if held:
        train = targets[~targets["date"].isin(held)].reset_index(drop=True)
        test = targets[targets["date"].isin(held)].reset_index(drop=True)
        partial, _ = _fit(model, train, prior_weight=prior_weight, periods=choice_periods,
                          demand_year=demand_year)
        holdout_table = _table(test, model.evaluate(test, partial))
    params, cost = _fit(model, targets, prior_weight=prior_weight, periods=choice_periods,
                        demand_year=demand_year)
    table = _table(targets, model.evaluate(targets, params))
    return CalibrationResult(params.as_calibration(model), table, holdout_table,
                             [f"{d:%Y-%m-%d}" for d in sorted(held)], cost)
