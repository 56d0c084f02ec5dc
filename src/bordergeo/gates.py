"""Gate operations: lanes, service rates, opening hours on two clocks, daily capacity.

Gates form a hierarchy: a crossing (Hữu Nghị, Tân Thanh) groups its lanes or cargo roads
(``parent_id``); capacity lives on the gates that are no one's parent and is summed once
into their crossing. Observed counts are observations (``data/observed``), never capacities.

Vietnam keeps UTC+7 (Hà Nội time), China UTC+8 (Beijing time): a truck can cross only while
both sides are open, so the effective window on the Vietnamese clock is
``[max(open_VN, open_CN − 1 h), min(close_VN, close_CN − 1 h)]``. Daily capacity per
direction is lanes × service rate per lane × effective open hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from bordergeo.errors import BorderGeoError
from bordergeo.schema import parse_hours

__all__ = [
    "CN_MINUS_VN_HOURS",
    "DIRECTIONS",
    "by_crossing",
    "capacity_gates",
    "crossing_ids",
    "DEFAULT_SERVICE_RATE_TRUCKS_H",
    "GateOperations",
    "effective_window",
    "gate_operations",
    "operations_table",
]

#: China's clock runs one hour ahead of Vietnam's (UTC+8 vs UTC+7).
CN_MINUS_VN_HOURS = 1.0

#: Trucks per hour per lane where a gate gives no rate: 800 vehicles/day over 4 lanes and a
#: 12-hour window at the 1119–1120 cargo road (Decision 865 capacity; derived, L).
DEFAULT_SERVICE_RATE_TRUCKS_H = 800 / 4 / 12


def effective_window(hours_vn: str | None, hours_cn: str | None
                     ) -> tuple[float, float] | None:
    """Return the window when both sides are open, in hours on the Vietnamese clock.

    Parameters
    ----------
    hours_vn
        Vietnamese opening window on the Vietnamese clock, e.g. ``"07:00-19:00"``.
    hours_cn
        Chinese opening window on the Chinese clock, e.g. ``"08:00-20:00"``.

    Returns
    -------
    tuple of float or None
        ``(start, end)`` in hours since midnight, Hà Nội time; ``(0, 0)`` when the two
        windows do not overlap; ``None`` when neither side's hours are known.

    Examples
    --------
    >>> effective_window("07:00-23:00", "08:00-20:00")   # China 08–20 Beijing = 07–19 VN
    (7.0, 19.0)
    """
    windows = []
    if hours_vn:
        windows.append(parse_hours(hours_vn))
    if hours_cn:
        start, end = parse_hours(hours_cn)
        windows.append((start - CN_MINUS_VN_HOURS, end - CN_MINUS_VN_HOURS))
    if not windows:
        return None
    start = max(w[0] for w in windows)
    end = min(w[1] for w in windows)
    return (start, end) if end > start else (0.0, 0.0)


DIRECTIONS = ("export", "import")


@dataclass
class GateOperations:
    """How one gate (a lane group that carries capacity) operates, per direction.

    Attributes
    ----------
    gate_id
        The gate.
    lanes_export, lanes_import
        Lanes by direction (``None`` if unknown).
    service_rate_trucks_h
        Trucks cleared per hour per lane (both directions, unless ``service_rates``
        gives a direction its own rate).
    window_vn
        Effective crossing window on the Vietnamese clock, ``(start, end)`` hours.
    closed_dates
        Days with no clearance (Tết, suspensions).
    status
        ``open``, ``closed`` or ``restricted``.
    capacity_trucks_day_data
        The dataset's own daily figure, used when lanes are unknown.
    windows_vn
        Direction-specific effective windows (``{"import": (7.0, 21.0)}``); a direction
        not given uses ``window_vn``.
    service_rates
        Direction-specific rates per lane (``{"export": 14.2}``), e.g. from a calibration.
    """

    gate_id: str
    lanes_export: int | None
    lanes_import: int | None
    service_rate_trucks_h: float
    window_vn: tuple[float, float] | None
    status: str = "open"
    closed_dates: set[dt.date] = field(default_factory=set)
    capacity_trucks_day_data: float | None = None
    windows_vn: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    service_rates: dict[str, float] = field(default_factory=dict)

    @property
    def open_hours(self) -> float:
        """Effective open hours per day (0 when closed; 12 h assumed if hours unknown)."""
        return self.open_hours_for("both")

    def window_for(self, direction: str) -> tuple[float, float] | None:
        """Effective window of one direction (``"both"``: the general window)."""
        return self.windows_vn.get(direction, self.window_vn)

    def open_hours_for(self, direction: str) -> float:
        """Effective open hours per day of one direction, or of the general window."""
        if self.status == "closed":
            return 0.0
        window = self.window_for(direction)
        if window is None:
            return 12.0
        return window[1] - window[0]

    def rate_for(self, direction: str) -> float:
        """Trucks per hour per lane of one direction."""
        return float(self.service_rates.get(direction, self.service_rate_trucks_h))

    def capacity_trucks_day(self, direction: str = "both", *,
                            date: dt.date | None = None) -> float:
        """Daily clearance capacity: Σ over directions of lanes × rate × effective hours.

        Parameters
        ----------
        direction
            ``"export"``, ``"import"`` or ``"both"``.
        date
            A day; 0 when the gate is closed that day.

        Returns
        -------
        float
            Trucks per day; the dataset's figure when lanes are unknown (split evenly
            by direction); NaN when nothing is known.
        """
        if direction not in ("export", "import", "both"):
            raise BorderGeoError(f"direction must be export, import or both, not {direction!r}")
        if self.status == "closed" or (date is not None and date in self.closed_dates):
            return 0.0
        lanes = {"export": self.lanes_export, "import": self.lanes_import}
        wanted = list(DIRECTIONS) if direction == "both" else [direction]
        if all(lanes[d] is not None for d in wanted):
            return float(sum(lanes[d] * self.rate_for(d) * self.open_hours_for(d)
                             for d in wanted))
        if self.capacity_trucks_day_data is None or np.isnan(self.capacity_trucks_day_data):
            return float("nan")
        share = 1.0 if direction == "both" else 0.5
        return float(self.capacity_trucks_day_data) * share

    def hourly_capacity(self, hours: int, *, start: dt.datetime | None = None,
                        direction: str = "both") -> np.ndarray:
        """Capacity per hour for ``hours`` consecutive hours (0 while closed).

        Parameters
        ----------
        hours
            Number of hourly steps.
        start
            First hour, Hà Nội time (default: a midnight with no closure).
        direction
            ``"export"``, ``"import"`` or ``"both"`` (the two directions summed, each
            in its own window).

        Returns
        -------
        numpy.ndarray
            Trucks that can be cleared in each hour.
        """
        if direction == "both":
            return sum(self.hourly_capacity(hours, start=start, direction=d)
                       for d in DIRECTIONS)
        start = start or dt.datetime(2000, 1, 1)
        times = pd.date_range(start, periods=hours, freq="h")
        hour_of_day = times.hour.to_numpy() + 0.5
        window = self.window_for(direction) or (6.0, 18.0)
        is_open = (hour_of_day >= window[0]) & (hour_of_day < window[1])
        closed_day = np.array([t.date() in self.closed_dates for t in times])
        daily = self.capacity_trucks_day(direction)
        open_hours = self.open_hours_for(direction)
        per_hour = daily / open_hours if open_hours > 0 and np.isfinite(daily) else 0.0
        return np.where(is_open & ~closed_day, per_hour, 0.0)


def _clock(hours: float) -> str:
    minutes = int(round(hours * 60))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _int_or_none(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _cell(gate: pd.Series, name: str) -> object:
    value = gate.get(name)
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def gate_operations(gate: pd.Series, *, service_rate_trucks_h: float | None = None,
                    closed_dates: Iterable[dt.date] = ()) -> GateOperations:
    """Build the operations of one gate from a gates-layer row.

    Parameters
    ----------
    gate
        A row of the gates layer; optional ``hours_vn_export`` … ``hours_cn_import``
        give a direction its own window, and ``service_rate_trucks_h_export`` /
        ``_import`` (set by a calibration) its own rate.
    service_rate_trucks_h
        Override the rate per lane (default: the row's, else
        :data:`DEFAULT_SERVICE_RATE_TRUCKS_H`); it also replaces direction rates.
    closed_dates
        Days without clearance.

    Returns
    -------
    GateOperations
    """
    rate = service_rate_trucks_h
    if rate is None:
        row_rate = _cell(gate, "service_rate_trucks_h")
        rate = DEFAULT_SERVICE_RATE_TRUCKS_H if row_rate is None else float(row_rate)
    rates: dict[str, float] = {}
    windows: dict[str, tuple[float, float] | None] = {}
    for direction in DIRECTIONS:
        own_rate = _cell(gate, f"service_rate_trucks_h_{direction}")
        if own_rate is not None and service_rate_trucks_h is None:
            rates[direction] = float(own_rate)
        hours_vn = _cell(gate, f"hours_vn_{direction}")
        hours_cn = _cell(gate, f"hours_cn_{direction}")
        if hours_vn is not None or hours_cn is not None:
            windows[direction] = effective_window(hours_vn or _cell(gate, "hours_vn"),
                                                  hours_cn or _cell(gate, "hours_cn"))
    cap = _cell(gate, "capacity_trucks_day")
    return GateOperations(
        gate_id=str(gate["id"]),
        lanes_export=_int_or_none(gate.get("lanes_export")),
        lanes_import=_int_or_none(gate.get("lanes_import")),
        service_rate_trucks_h=float(rate),
        window_vn=effective_window(_cell(gate, "hours_vn"), _cell(gate, "hours_cn")),
        status=str(gate.get("status") or "open"),
        closed_dates=set(closed_dates),
        capacity_trucks_day_data=None if cap is None else float(cap),
        windows_vn=windows,
        service_rates=rates,
    )


def crossing_ids(gates: pd.DataFrame) -> pd.Series:
    """Return the crossing of each gate: its parent when the parent is in the layer.

    Parameters
    ----------
    gates
        The gates layer.

    Returns
    -------
    pandas.Series
        Crossing id, indexed by gate id (a crossing maps to itself).
    """
    ids = gates["id"].astype(str)
    parents = gates["parent_id"] if "parent_id" in gates.columns else pd.Series(
        [None] * len(gates), index=gates.index)
    known = set(ids)
    crossing = [str(p) if isinstance(p, str) and p in known else i
                for i, p in zip(ids, parents, strict=True)]
    return pd.Series(crossing, index=ids.to_numpy(), name="crossing_id")


def capacity_gates(gates: pd.DataFrame) -> pd.Series:
    """Mark the gates that carry capacity: every gate that is not the parent of another.

    A crossing with lanes or cargo roads (Hữu Nghị: 1116–1117 and 1119–1120) has no
    capacity of its own; its capacity is the sum of its children's, counted once.

    Parameters
    ----------
    gates
        The gates layer.

    Returns
    -------
    pandas.Series of bool
        Aligned with ``gates``.
    """
    crossing = crossing_ids(gates)
    groups = set(crossing[crossing.index != crossing.to_numpy()].to_numpy())
    return ~gates["id"].astype(str).isin(groups)


def by_crossing(table: pd.DataFrame, gates: pd.DataFrame, *, columns: list[str],
                gate_column: str = "gate_id") -> pd.DataFrame:
    """Sum per-gate figures into their crossings (each lane counted once).

    Parameters
    ----------
    table
        One row per gate (``gate_column``) with the numeric ``columns``.
    gates
        The gates layer, for the hierarchy.
    columns
        Columns to sum.
    gate_column
        Column of ``table`` with gate ids.

    Returns
    -------
    pandas.DataFrame
        ``crossing_id`` and the summed columns, in the order crossings first appear.
    """
    crossing = crossing_ids(gates)
    ids = table[gate_column].astype(str)
    keyed = table.assign(crossing_id=ids.map(crossing).fillna(ids).to_numpy())
    return keyed.groupby("crossing_id", sort=False)[columns].sum().reset_index()


def operations_table(gates: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """Operations of every gate: window on both clocks, open hours, capacity by direction.

    Parameters
    ----------
    gates
        The gates layer.

    Returns
    -------
    pandas.DataFrame
        One row per gate: ``gate_id``, ``crossing_id``, ``window_vn``, ``open_hours``,
        ``lanes_export``, ``lanes_import``, ``service_rate_trucks_h``,
        ``capacity_export_trucks_day``, ``capacity_import_trucks_day``,
        ``capacity_trucks_day`` and ``capacity_method`` (``lanes×rate×hours``,
        ``dataset figure`` or ``sum of its lanes`` for a crossing whose children carry
        the capacity).
    """
    crossing = crossing_ids(gates)
    carries = capacity_gates(gates).to_numpy()
    rows = []
    for (_, gate), own in zip(gates.iterrows(), carries, strict=True):
        ops = gate_operations(gate)
        lanes_known = ops.lanes_export is not None and ops.lanes_import is not None
        window = "" if ops.window_vn is None else "-".join(_clock(h) for h in ops.window_vn)
        rows.append({
            "gate_id": ops.gate_id, "crossing_id": crossing[ops.gate_id],
            "status": ops.status, "window_vn": window,
            "open_hours": ops.open_hours, "lanes_export": ops.lanes_export,
            "lanes_import": ops.lanes_import, "service_rate_trucks_h": ops.service_rate_trucks_h,
            "capacity_export_trucks_day": ops.capacity_trucks_day("export"),
            "capacity_import_trucks_day": ops.capacity_trucks_day("import"),
            "capacity_trucks_day": ops.capacity_trucks_day("both"),
            "capacity_method": ("lanes×rate×hours" if lanes_known else "dataset figure")
            if own else "sum of its lanes",
        })
    table = pd.DataFrame(rows)
    capacity = ["capacity_export_trucks_day", "capacity_import_trucks_day",
                "capacity_trucks_day"]
    lanes = table[carries & (table["gate_id"] != table["crossing_id"]).to_numpy()]
    sums = lanes.groupby("crossing_id")[capacity].sum(min_count=1)
    groups = ~carries
    for column in capacity:
        table.loc[groups, column] = table.loc[groups, "gate_id"].map(sums[column]).to_numpy()
    return table
