"""Queues at the gates: steady state (Erlang C, M/G/c) and days-long fluid backlogs.

Steady-state formulas hold only while arrivals stay below capacity (ρ < 1). The Lạng Sơn
gates run far from that — closed at night, capacity set by the Chinese side, harvest
surges — so the core model is the deterministic fluid queue
``Q(t+1) = max(0, Q(t) + A(t) − S(t))`` on hourly or daily steps, with the wait of each
arrival cohort (first in, first out) and the time to clear.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from bordergeo.errors import BorderGeoError, DataFileError
from bordergeo.inputs import (
    MAX_CV2,
    MAX_LANES,
    MAX_RATE_TRUCKS_H,
    MAX_TRUCKS,
    InputRangeError,
    check_finite,
    check_number,
    preview,
    read_small_text,
)

__all__ = [
    "UnstableQueueError",
    "QueueResult",
    "Backlog",
    "erlang_c",
    "mgc_approximation",
    "fluid_backlog",
    "two_stage_backlog",
    "read_observed",
    "replay",
    "OBSERVED_COLUMNS",
    "expected_backlog",
    "arrival_profile",
    "stock_at_hour",
]


class UnstableQueueError(BorderGeoError):
    """Arrivals reach or exceed capacity: no steady state exists."""


@dataclass(frozen=True)
class QueueResult:
    """Steady-state figures of a multi-server queue (times in hours)."""

    servers: int
    arrival_rate_h: float
    service_rate_h: float
    utilisation: float
    p_wait: float
    mean_wait_h: float
    mean_queue: float
    mean_time_in_system_h: float

    def to_dict(self) -> dict[str, float]:
        """JSON-ready figures (keys as the CLI prints them)."""
        return {"p_wait": self.p_wait, "mean_wait_h": self.mean_wait_h,
                "mean_queue": self.mean_queue, "utilisation": self.utilisation,
                "mean_time_in_system_h": self.mean_time_in_system_h,
                "servers": self.servers, "arrival_rate_h": self.arrival_rate_h,
                "service_rate_h": self.service_rate_h}


def _check_rates(servers: int, arrival_rate: float, service_rate: float) -> float:
    servers = check_number(servers, name="servers (lanes)", low=1, high=MAX_LANES, integer=True)
    check_number(arrival_rate, name="arrival rate (trucks/h)", low=0, high=MAX_RATE_TRUCKS_H)
    check_number(service_rate, name="service rate (trucks/h per lane)", low=0, low_open=True,
                 high=MAX_RATE_TRUCKS_H)
    rho = arrival_rate / (servers * service_rate)
    if rho >= 1:
        raise UnstableQueueError(
            f"utilisation ρ = {rho:.2f} ≥ 1 ({arrival_rate:g} trucks/h arrive, "
            f"{servers} × {service_rate:g} = {servers * service_rate:g} trucks/h can be "
            f"served): the queue grows without limit and has no steady state; use the "
            f"backlog model (bordergeo backlog / queues.fluid_backlog)")
    return rho


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> QueueResult:
    """M/M/c queue: probability of waiting (Erlang C), mean wait and queue length.

    Parameters
    ----------
    servers
        Lanes (servers) c.
    arrival_rate
        Trucks arriving per hour, λ.
    service_rate
        Trucks cleared per hour per lane, μ.

    Returns
    -------
    QueueResult
        ``p_wait`` = C(c, a), ``mean_wait_h`` = C / (cμ − λ), ``mean_queue`` = λ·Wq
        (Little's law), ``utilisation`` = λ / (cμ).

    Raises
    ------
    UnstableQueueError
        If λ ≥ cμ (points to the backlog model).

    Examples
    --------
    >>> round(erlang_c(2, 1.0, 1.0).p_wait, 4)   # a = 1, c = 2: C = 1/3
    0.3333
    """
    rho = _check_rates(servers, arrival_rate, service_rate)
    a = arrival_rate / service_rate
    # Erlang B by its stable recursion, then C = c·B / (c − a·(1 − B))
    b = 1.0
    for k in range(1, int(servers) + 1):
        b = a * b / (k + a * b)
    p_wait = servers * b / (servers - a * (1 - b)) if arrival_rate > 0 else 0.0
    wq = p_wait / (servers * service_rate - arrival_rate)
    check_finite([p_wait, wq], what="the Erlang C wait")
    return QueueResult(int(servers), float(arrival_rate), float(service_rate), rho, p_wait,
                       wq, arrival_rate * wq, wq + 1 / service_rate)


def mgc_approximation(servers: int, arrival_rate: float, service_rate: float, *,
                      service_cv2: float = 0.0, arrival_cv2: float = 1.0) -> QueueResult:
    """M/G/c (G/G/c) wait by the Allen–Cunneen approximation.

    ``Wq ≈ Wq(M/M/c) · (Ca² + Cs²) / 2``; ``service_cv2`` = 0 for near-deterministic
    scanning, 1 for exponential service (then it equals Erlang C).

    Parameters
    ----------
    servers, arrival_rate, service_rate
        As in :func:`erlang_c`.
    service_cv2
        Squared coefficient of variation of service times, Cs².
    arrival_cv2
        Squared coefficient of variation of inter-arrival times, Ca² (1 = Poisson).

    Returns
    -------
    QueueResult
    """
    check_number(service_cv2, name="service Cs²", low=0, high=MAX_CV2)
    check_number(arrival_cv2, name="arrival Ca²", low=0, high=MAX_CV2)
    base = erlang_c(servers, arrival_rate, service_rate)
    factor = (arrival_cv2 + service_cv2) / 2
    wq = base.mean_wait_h * factor
    return QueueResult(base.servers, base.arrival_rate_h, base.service_rate_h,
                       base.utilisation, base.p_wait, wq, arrival_rate * wq,
                       wq + 1 / service_rate)


@dataclass
class Backlog:
    """A fluid queue run.

    Attributes
    ----------
    backlog
        Trucks waiting at the end of each step.
    served
        Trucks cleared in each step.
    arrivals, capacity
        The inputs per step.
    cohort_wait_steps
        Steps until the last truck of each arrival cohort is cleared (first in, first
        out; NaN if it is not cleared within the horizon).
    step_hours
        Length of a step (24 for daily steps).
    initial
        Trucks waiting at the start.
    """

    backlog: NDArray[np.float64]
    served: NDArray[np.float64]
    arrivals: NDArray[np.float64]
    capacity: NDArray[np.float64]
    cohort_wait_steps: NDArray[np.float64]
    step_hours: float
    initial: float

    @property
    def days_to_clear(self) -> float | None:
        """Days until the backlog first reaches zero (``None`` if it never does)."""
        empty = np.flatnonzero(self.backlog <= 1e-9)
        if len(empty) == 0:
            return None
        if self.initial <= 0 and empty[0] == 0:
            return 0.0
        return float((empty[0] + 1) * self.step_hours / 24.0)

    @property
    def peak(self) -> float:
        """Largest backlog."""
        return float(max(self.backlog.max(initial=0.0), self.initial))

    def to_frame(self) -> pd.DataFrame:
        """One row per step: arrivals, capacity, served, backlog, cohort wait (hours)."""
        return pd.DataFrame({"arrivals": self.arrivals, "capacity": self.capacity,
                             "served": self.served, "backlog": self.backlog,
                             "cohort_wait_h": self.cohort_wait_steps * self.step_hours})


def fluid_backlog(arrivals: ArrayLike, capacity: ArrayLike, *, initial: float = 0.0,
                  step_hours: float = 24.0) -> Backlog:
    """Deterministic fluid queue ``Q(t+1) = max(0, Q(t) + A(t) − S(t))``.

    Parameters
    ----------
    arrivals
        Trucks arriving in each step.
    capacity
        Trucks that can be cleared in each step (0 while closed). A scalar applies to
        every step.
    initial
        Trucks already waiting.
    step_hours
        Step length: 24 for daily, 1 for hourly steps.

    Returns
    -------
    Backlog
        Backlog at the end of each step, trucks served, and each cohort's wait.

    Raises
    ------
    BorderGeoError
        Negative or non-finite inputs, or lengths that differ.
    """
    try:
        a = np.atleast_1d(np.asarray(arrivals, dtype=float))
        s = np.broadcast_to(np.asarray(capacity, dtype=float), a.shape).astype(float)
    except (TypeError, ValueError):
        raise InputRangeError("arrivals and capacity must be numbers, one per step (or one "
                              "capacity for every step), of the same length") from None
    if a.ndim != 1 or not len(a):
        raise BorderGeoError("arrivals must be a non-empty series")
    for name, values in (("arrivals", a), ("capacity", s)):
        if not np.isfinite(values).all() or (values < 0).any() or (values > MAX_TRUCKS).any():
            raise InputRangeError(f"{name} must be finite numbers between 0 and "
                                  f"{MAX_TRUCKS:,.0f} trucks per step")
    initial = check_number(initial, name="initial backlog", low=0, high=MAX_TRUCKS)
    step_hours = check_number(step_hours, name="step_hours", low=0, low_open=True, high=24 * 366)
    # Lindley's recursion in closed form (reflection map): no Python loop over steps
    net = np.cumsum(a - s) + initial
    lowest = np.minimum.accumulate(np.minimum(net, initial))
    backlog = net - np.minimum(lowest, 0.0)
    previous = np.r_[initial, backlog[:-1]]
    served = previous + a - backlog
    cum_arrivals = initial + np.cumsum(a)
    cum_served = np.cumsum(served)
    done = np.searchsorted(cum_served, cum_arrivals - 1e-9, side="left").astype(float)
    # a cohort with nothing ahead of it (and perhaps no trucks) is cleared the step it comes
    done = np.maximum(done, np.arange(len(a)))
    done[done >= len(a)] = np.nan
    wait = done - np.arange(len(a))
    return Backlog(backlog, served, a, s, wait, float(step_hours), float(initial))


def two_stage_backlog(arrivals: ArrayLike, vn_capacity: ArrayLike, cn_capacity: ArrayLike,
                      *, initial_vn: float = 0.0, initial_yard: float = 0.0,
                      step_hours: float = 24.0) -> tuple[Backlog, Backlog]:
    """Vietnamese control → handover yard → Chinese control, as two fluid queues in series.

    Parameters
    ----------
    arrivals
        Trucks arriving at the Vietnamese control per step.
    vn_capacity, cn_capacity
        Clearance capacity of each stage per step.
    initial_vn, initial_yard
        Trucks already waiting before each stage.
    step_hours
        Step length.

    Returns
    -------
    tuple of Backlog
        The Vietnamese stage and the Chinese stage (whose arrivals are what the first
        stage cleared); the binding stage is the one whose backlog grows.
    """
    first = fluid_backlog(arrivals, vn_capacity, initial=initial_vn, step_hours=step_hours)
    second = fluid_backlog(first.served, cn_capacity, initial=initial_yard,
                           step_hours=step_hours)
    return first, second


def expected_backlog(arrivals_trucks_day: ArrayLike, capacity_trucks_day: ArrayLike, *,
                     cv: float, horizon_days: int = 60) -> NDArray[np.float64]:
    """Return the trucks expected to wait after a day's clearance, when days vary at random.

    Each day ``A`` trucks arrive and the gate can clear ``S``; the day-to-day net
    ``A − S`` is taken as normal with mean ``D − C`` and standard deviation ``cv · D``
    (variation of arrivals and of what the other side accepts, together). By Spitzer's
    identity the expected backlog after ``H`` days from empty is
    ``Σ_{n=1..H} E[(S_n)⁺] / n`` with ``S_n ~ N(n(D − C), n(cv·D)²)``; it tends to the
    stationary backlog when ``D < C`` and grows with the horizon otherwise. A queue near
    saturation is long even when it is stable: this is what makes the ordinary-day stock
    of the Lạng Sơn gates (hundreds of trucks at 20:00) with daily counts below capacity.

    Parameters
    ----------
    arrivals_trucks_day
        Mean arrivals ``D`` per day (one value per gate).
    capacity_trucks_day
        Mean clearance capacity ``C`` per day.
    cv
        Coefficient of variation of the daily net arrivals, relative to ``D``.
    horizon_days
        Days run from an empty queue (60: long enough for any stable queue here).

    Returns
    -------
    numpy.ndarray
        Expected backlog (trucks) per gate.
    """
    mean = np.atleast_1d(np.asarray(arrivals_trucks_day, float))
    capacity = np.broadcast_to(np.asarray(capacity_trucks_day, float), mean.shape)
    cv = check_number(cv, name="cv", low=0, high=10)
    horizon = check_number(horizon_days, name="horizon_days", low=1, high=3660, integer=True)
    n = np.arange(1, horizon + 1, dtype=float)[:, None]
    drift = n * (mean - capacity)[None, :]
    spread = np.sqrt(n) * (cv * mean)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(spread > 0, drift / spread, np.where(drift > 0, np.inf, -np.inf))
    from scipy.special import ndtr  # noqa: PLC0415 - scipy.special is cheap, keep it local

    density = np.exp(-0.5 * np.where(np.isfinite(z), z, 0.0) ** 2) / np.sqrt(2 * np.pi)
    density = np.where(np.isfinite(z), density, 0.0)
    positive = drift * ndtr(z) + spread * density
    positive = np.where(np.isfinite(positive), positive, np.maximum(drift, 0.0))
    return (positive / n).sum(axis=0)


def arrival_profile(window_vn: tuple[float, float] | None, *, window_share: float
                    ) -> NDArray[np.float64]:
    """Share of a day's arrivals in each hour (Hà Nội time, 24 values summing to 1).

    ``window_share`` of the trucks arrive evenly while the gate is open, the rest evenly
    over the other hours (trucks from far hubs drive through the night).

    Parameters
    ----------
    window_vn
        Effective crossing window; ``None``: 07:00–19:00.
    window_share
        Share of arrivals inside the window, 0–1.

    Returns
    -------
    numpy.ndarray
    """
    start, end = window_vn or (7.0, 19.0)
    window_share = check_number(window_share, name="window_share", low=0, high=1)
    hours = np.arange(24) + 0.5
    inside = (hours >= start) & (hours < end)
    if inside.all() or not inside.any():
        return np.full(24, 1 / 24)
    return np.where(inside, window_share / inside.sum(), (1 - window_share) / (~inside).sum())


def stock_at_hour(arrivals_trucks_day: ArrayLike, backlog_after_window: ArrayLike, *,
                  window_vn: tuple[float, float] | None, window_share: float,
                  hour: float = 20.0) -> NDArray[np.float64]:
    """Trucks waiting at a given hour after the window has closed (e.g. the 20:00 stock).

    The backlog left when the window closes plus the trucks that arrived since.

    Parameters
    ----------
    arrivals_trucks_day
        Mean arrivals per day.
    backlog_after_window
        From :func:`expected_backlog`.
    window_vn
        Effective window (Hà Nội time).
    window_share
        As in :func:`arrival_profile`.
    hour
        Hour of the count, at or after the window's end (before midnight).

    Returns
    -------
    numpy.ndarray
    """
    start, end = window_vn or (7.0, 19.0)
    profile = arrival_profile((start, end), window_share=window_share)
    since_close = profile[int(np.floor(end)):int(np.floor(max(hour, end)))].sum()
    return np.asarray(backlog_after_window, float) + np.asarray(arrivals_trucks_day, float) \
        * since_close


OBSERVED_COLUMNS = ("date", "gate_id", "trucks_waiting")


def read_observed(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an observed series of trucks waiting (and cleared, arriving) per gate per day.

    Parameters
    ----------
    path
        CSV with columns ``date`` (YYYY-MM-DD), ``gate_id`` (a gate id, or ``all`` for the
        province), ``trucks_waiting`` (end of day, e.g. the 20:00 count) and optionally
        ``trucks_cleared``, ``trucks_arrived``, ``source``, ``note``.

    Returns
    -------
    pandas.DataFrame
        Sorted by gate and date; ``date`` as datetime64.

    Raises
    ------
    DataFileError
        Missing file or columns, unparsable dates or negative counts, naming the row.
    """
    path = Path(path)
    text = read_small_text(path, what="observed series")
    try:
        frame = pd.read_csv(io.StringIO(text), comment="#", dtype={"gate_id": str})
    except Exception as exc:  # pandas' parser errors
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(f"{path}: cannot read the CSV ({preview(reason, limit=200)})"
                            ) from None
    if frame.empty:
        raise DataFileError(f"{path}: no observations under the header")
    missing = [c for c in OBSERVED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataFileError(f"{path}: missing column(s) {', '.join(missing)}")
    dates = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna())[0])
        raise DataFileError(f"{path}: row {row + 2}, field 'date': "
                            f"{preview(frame['date'].iloc[row])} is not a date like 2021-12-15")
    frame["date"] = dates
    for col in ("trucks_waiting", "trucks_cleared", "trucks_arrived"):
        if col not in frame.columns:
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = (values.isna() & frame[col].notna()) | (values < 0) | (values > MAX_TRUCKS) \
            | np.isinf(values)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataFileError(f"{path}: row {row + 2}, field {col!r}: "
                                f"{preview(frame[col].iloc[row])} is not a count between 0 and "
                                f"{MAX_TRUCKS:,.0f}")
        frame[col] = values
    return frame.sort_values(["gate_id", "date"], kind="stable").reset_index(drop=True)


def replay(observed: pd.DataFrame, *, arrivals: ArrayLike, capacity: ArrayLike,
           gate_id: str = "all") -> pd.DataFrame:
    """Run the daily fluid model from the first observation and set it beside the data.

    Parameters
    ----------
    observed
        From :func:`read_observed`.
    arrivals, capacity
        Trucks per day for each day from the first to the last observed date (scalars
        apply to every day).
    gate_id
        Which series to replay.

    Returns
    -------
    pandas.DataFrame
        One row per day: ``date``, ``gate_id``, ``model_backlog``, ``observed_backlog``
        (NaN on days without an observation), ``arrivals``, ``capacity``.
    """
    series = observed[observed["gate_id"] == gate_id]
    if series.empty:
        raise BorderGeoError(f"no observations for gate {gate_id!r}")
    days = pd.date_range(series["date"].min(), series["date"].max(), freq="D")
    first = float(series["trucks_waiting"].iloc[0])
    n = len(days) - 1
    a = np.broadcast_to(np.asarray(arrivals, dtype=float), (n,))
    s = np.broadcast_to(np.asarray(capacity, dtype=float), (n,))
    run = fluid_backlog(a, s, initial=first) if n else None
    model = np.r_[first, run.backlog] if run is not None else np.array([first])
    out = pd.DataFrame({"date": days, "gate_id": gate_id, "model_backlog": model,
                        "arrivals": np.r_[np.nan, a], "capacity": np.r_[np.nan, s]})
    obs = series.groupby("date")["trucks_waiting"].last()
    out["observed_backlog"] = out["date"].map(obs)
    return out

