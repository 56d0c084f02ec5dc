"""Time in the model: a calendar of closures and monthly seasonal factors of demand.

The calendar (``data/observed/calendar.csv``) lists days when a gate, a crossing or all
gates cleared nothing or only part of their traffic (Tết, Chinese holidays, suspensions),
each with its source. Seasonal factors (``data/observed/seasonal_factors.csv``) scale the
demand of one direction by month (fresh-fruit exports peak before Tết and in the summer
harvests); the twelve factors of a direction average 1.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bordergeo.errors import DataFileError
from bordergeo.inputs import preview, read_text_table

__all__ = ["Calendar", "load_calendar", "load_seasonal_factors", "seasonal_factor"]

_CALENDAR_COLUMNS = ("date_from", "date_to", "gate_id", "direction", "capacity_share")
_DIRECTIONS = ("export", "import", "both")


def _bundled(name: str) -> Path:
    from bordergeo.congestion import sample_path  # noqa: PLC0415 - avoids an import cycle

    return sample_path(name)


def _rows_error(path: Path, bad: np.ndarray, field: str, frame: pd.DataFrame,
                expected: str) -> DataFileError:
    row = int(np.flatnonzero(bad)[0])
    return DataFileError(f"{path}: data row {row + 1}, field {field!r}: "
                         f"{preview(frame[field].iloc[row])} is not {expected}")


@dataclass
class Calendar:
    """Days of reduced clearance.

    Attributes
    ----------
    table
        ``date_from``, ``date_to`` (dates, inclusive), ``gate_id`` (a gate, a crossing or
        ``all``), ``direction`` (``export``, ``import``, ``both``), ``capacity_share``
        (0 closed … 1 normal) and the source columns.
    """

    table: pd.DataFrame

    def capacity_share(self, day: dt.date, *, gate_id: str, crossing_id: str | None = None,
                       direction: str = "both") -> float:
        """Share of its normal capacity a gate clears on a day (the lowest that applies).

        Parameters
        ----------
        day
            The day.
        gate_id
            The gate (a lane or cargo road, or a crossing without lanes).
        crossing_id
            Its crossing; rows for the crossing apply to all its lanes.
        direction
            ``export``, ``import`` or ``both``.

        Returns
        -------
        float
        """
        table = self.table
        if table.empty:
            return 1.0
        stamp = pd.Timestamp(day)
        names = {"all", gate_id} | ({crossing_id} if crossing_id else set())
        hit = ((table["date_from"] <= stamp) & (table["date_to"] >= stamp)
               & table["gate_id"].isin(names)
               & (table["direction"].isin(["both", direction]) | (direction == "both")))
        return float(table.loc[hit, "capacity_share"].min()) if hit.any() else 1.0

    def capacity_shares(self, dates: pd.DatetimeIndex, *, gate_id: str,
                        crossing_id: str | None = None, direction: str = "both"
                        ) -> np.ndarray:
        """:meth:`capacity_share` for many days at once.

        Parameters
        ----------
        dates
            The days.
        gate_id, crossing_id, direction
            As for :meth:`capacity_share`.

        Returns
        -------
        numpy.ndarray
            One share per day.
        """
        shares = np.ones(len(dates))
        table = self.table
        if table.empty:
            return shares
        names = {"all", gate_id} | ({crossing_id} if crossing_id else set())
        rows = table[table["gate_id"].isin(names)
                     & (table["direction"].isin(["both", direction]) | (direction == "both"))]
        stamps = pd.DatetimeIndex(dates).normalize()
        for start, end, share in zip(rows["date_from"], rows["date_to"],
                                     rows["capacity_share"], strict=True):
            hit = (stamps >= start) & (stamps <= end)
            shares[hit] = np.minimum(shares[hit], float(share))
        return shares

    def closed_days(self, gate_id: str, *, crossing_id: str | None = None,
                    direction: str = "both") -> set[dt.date]:
        """Every day on which the gate clears nothing."""
        days: set[dt.date] = set()
        names = {"all", gate_id} | ({crossing_id} if crossing_id else set())
        rows = self.table[(self.table["capacity_share"] == 0) & self.table["gate_id"].isin(names)
                          & self.table["direction"].isin(["both", direction])]
        for start, end in zip(rows["date_from"], rows["date_to"], strict=True):
            days.update(d.date() for d in pd.date_range(start, end, freq="D"))
        return days


def load_calendar(path: str | os.PathLike[str] | None = None) -> Calendar:
    """Read a closure calendar (default: the bundled one; empty if it is not installed).

    Parameters
    ----------
    path
        CSV with ``date_from``, ``date_to``, ``gate_id``, ``direction``,
        ``capacity_share`` (and source columns).

    Returns
    -------
    Calendar

    Raises
    ------
    DataFileError
        Missing columns, a date that does not parse, ``date_to`` before ``date_from``, an
        unknown direction or a share outside 0–1; the message names the row.
    """
    if path is None:
        try:
            path = _bundled("calendar.csv")
        except DataFileError:
            return Calendar(pd.DataFrame(columns=list(_CALENDAR_COLUMNS)))
    path = Path(path)
    frame = read_text_table(path, what="calendar", columns=_CALENDAR_COLUMNS)
    out = frame.copy()
    for column in ("date_from", "date_to"):
        parsed = pd.to_datetime(frame[column].str.strip(), format="%Y-%m-%d", errors="coerce")
        if parsed.isna().any():
            raise _rows_error(path, parsed.isna().to_numpy(), column, frame,
                              "a date (YYYY-MM-DD)")
        out[column] = parsed
    backwards = (out["date_to"] < out["date_from"]).to_numpy()
    if backwards.any():
        raise _rows_error(path, backwards, "date_to", frame, "on or after date_from")
    out["direction"] = frame["direction"].str.strip().str.lower()
    wrong = ~out["direction"].isin(_DIRECTIONS).to_numpy()
    if wrong.any():
        raise _rows_error(path, wrong, "direction", frame, "export, import or both")
    share = pd.to_numeric(frame["capacity_share"].str.strip(), errors="coerce")
    bad = (share.isna() | (share < 0) | (share > 1)).to_numpy()
    if bad.any():
        raise _rows_error(path, bad, "capacity_share", frame, "a number from 0 to 1")
    out["capacity_share"] = share.astype(float)
    out["gate_id"] = frame["gate_id"].str.strip()
    return Calendar(out)


def load_seasonal_factors(path: str | os.PathLike[str] | None = None
                          ) -> dict[str, np.ndarray]:
    """Read monthly demand factors by direction (default: the bundled ones).

    Parameters
    ----------
    path
        CSV with ``direction``, ``month`` (1–12) and ``factor`` (≥ 0).

    Returns
    -------
    dict
        ``{"export": array of 12, "import": array of 12}``; a direction or month not
        listed has factor 1.

    Raises
    ------
    DataFileError
        Missing columns, a month outside 1–12, a negative factor or an unknown direction.
    """
    factors = {d: np.ones(12) for d in ("export", "import")}
    if path is None:
        try:
            path = _bundled("seasonal_factors.csv")
        except DataFileError:
            return factors
    path = Path(path)
    frame = read_text_table(path, what="seasonal factors", columns=("direction", "month", "factor"))
    direction = frame["direction"].str.strip().str.lower()
    wrong = ~direction.isin(["export", "import"]).to_numpy()
    if wrong.any():
        raise _rows_error(path, wrong, "direction", frame, "export or import")
    month = pd.to_numeric(frame["month"].str.strip(), errors="coerce")
    bad = (month.isna() | ~month.isin(range(1, 13))).to_numpy()
    if bad.any():
        raise _rows_error(path, bad, "month", frame, "a month number 1–12")
    factor = pd.to_numeric(frame["factor"].str.strip(), errors="coerce")
    bad = (factor.isna() | (factor < 0) | (factor > 100)).to_numpy()
    if bad.any():
        raise _rows_error(path, bad, "factor", frame, "a number from 0 to 100")
    for d, m, f in zip(direction, month.astype(int), factor, strict=True):
        factors[d][m - 1] = float(f)
    return factors


def seasonal_factor(factors: dict[str, np.ndarray], day: dt.date | pd.Timestamp,
                    direction: str) -> float:
    """Factor of a direction's demand in the month of ``day`` (1 if not given)."""
    values = factors.get(direction)
    return 1.0 if values is None else float(values[pd.Timestamp(day).month - 1])
