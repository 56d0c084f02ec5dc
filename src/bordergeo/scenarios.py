"""Scenarios as data: close or reopen gates, change lanes, hours, service rates and demand.

A scenario is a JSON or YAML file (or a dict)::

    name: Smart gate phase 1 and weekend clearance
    gates:
      huu-nghi-1119: {lanes_export: 3, lanes_import: 3, service_rate_trucks_h: 25}
      tan-thanh: {hours_cn: "08:00-22:00"}
    open: [na-nua, na-hinh]        # reopen the secondary gates
    close: [coc-nam]
    demand_multiplier: 1.3         # fruit-season surge

Gate fields are those of the gates layer (``lanes_export``, ``lanes_import``, ``hours_vn``,
``hours_cn``, ``service_rate_trucks_h``, ``status``, ``capacity_trucks_day``); every change is
checked against the gates contract, so a negative lane count or an unparsable window is one
clear error naming the scenario file, the gate and the field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from bordergeo.errors import DataFileError, SchemaError
from bordergeo.gates import DEFAULT_SERVICE_RATE_TRUCKS_H, effective_window
from bordergeo.inputs import (
    MAX_DAYS,
    MAX_LANES,
    MAX_RATE_TRUCKS_H,
    MAX_TRUCKS_PER_DAY,
    InputRangeError,
    check_number,
    load_structured,
    preview,
)
from bordergeo.schema import validate_layer

__all__ = ["DIRECTION_TRUCKS_DAY", "Scenario", "load_scenario", "apply_scenario",
           "piecewise_daily"]

_GATE_FIELDS = {"lanes_export", "lanes_import", "hours_vn", "hours_cn", "hours_vn_export",
                "hours_cn_export", "hours_vn_import", "hours_cn_import",
                "service_rate_trucks_h", "status", "capacity_trucks_day"}
_TOP_KEYS = {"name", "description", "sources", "gates", "open", "close", "demand_multiplier",
             "demand"}


@dataclass
class Scenario:
    """A parsed scenario.

    Attributes
    ----------
    name
        Label used in comparisons.
    gates
        Per gate id, the fields to change.
    open, close
        Gates to reopen or close.
    demand_multiplier
        Factor on every demand (1 = unchanged), or one per direction
        (``{"export": 1.3, "import": 1.0}``): see :meth:`multiplier`.
    source
        File it came from.
    """

    name: str = "baseline"
    gates: dict[str, dict[str, object]] = field(default_factory=dict)
    open: list[str] = field(default_factory=list)
    close: list[str] = field(default_factory=list)
    demand_multiplier: float | dict[str, float] = 1.0
    source: str = "scenario"

    def multiplier(self, direction: str | None = None) -> float:
        """Demand factor of one direction (``None``: demand without a direction).

        A per-direction factor applied to demand without a direction is the mean of the
        two, weighted as the bundled 2024 demand (375 export, 925 import trucks/day).
        """
        value = self.demand_multiplier
        if not isinstance(value, dict):
            return float(value)
        if direction in ("export", "import"):
            return float(value.get(direction, 1.0))
        weights = DIRECTION_TRUCKS_DAY
        return sum(w * float(value.get(d, 1.0)) for d, w in weights.items()) \
            / sum(weights.values())

    def scaled_demand(self, demand: pd.DataFrame) -> pd.DataFrame:
        """Demand multiplied by this scenario's factor(s)."""
        trucks = pd.to_numeric(demand["trucks_per_day"], errors="coerce")
        if "direction" in demand.columns:
            factor = demand["direction"].map(self.multiplier).astype(float)
        else:
            factor = self.multiplier(None)
        return demand.assign(trucks_per_day=trucks * factor)


#: The bundled 2024 demand by direction (trucks/day; Lao Động, VNS: 350–400 export and
#: 900–1,000 import): the weights of a per-direction factor on demand without a direction.
DIRECTION_TRUCKS_DAY = {"export": 375.0, "import": 925.0}

#: Bounds on the numeric gate fields a scenario may set (the gates contract checks the rest).
_FIELD_BOUNDS: dict[str, dict[str, object]] = {
    "lanes_export": {"low": 0, "high": MAX_LANES, "integer": True},
    "lanes_import": {"low": 0, "high": MAX_LANES, "integer": True},
    "service_rate_trucks_h": {"low": 0, "low_open": True, "high": MAX_RATE_TRUCKS_H},
    "capacity_trucks_day": {"low": 0, "high": MAX_TRUCKS_PER_DAY},
}
_TEXT_FIELDS = {"hours_vn", "hours_cn", "hours_vn_export", "hours_cn_export",
                "hours_vn_import", "hours_cn_import", "status"}
#: Longest scenario name kept (it labels tables and sheets).
MAX_NAME_CHARS = 200
#: Largest demand multiplier (a surge of a hundred times is already no longer a scenario).
MAX_DEMAND_MULTIPLIER = 100.0


def _read(path: Path) -> dict:
    data = load_structured(path, what="scenario")
    if not isinstance(data, dict):
        raise DataFileError(f"{path}: a scenario is a mapping of keys "
                            f"({', '.join(sorted(_TOP_KEYS))}), not {preview(data)}")
    return data


def _checked_changes(gate_id: str, changes: dict, source: str) -> dict[str, object]:
    """Check the kind and range of every field a scenario sets on one gate."""
    checked: dict[str, object] = {}
    for key, value in changes.items():
        if key in _FIELD_BOUNDS:
            if value is None:
                checked[key] = None
                continue
            try:
                checked[key] = check_number(value, name=key, **_FIELD_BOUNDS[key])
            except InputRangeError as exc:
                raise SchemaError(str(exc).removeprefix(f"{key} "), source=source,
                                  row=gate_id, field=key) from None
        elif key in _TEXT_FIELDS:
            if not isinstance(value, str) or len(value) > 100:
                raise SchemaError(f"must be a short text, not {preview(value)}",
                                  source=source, row=gate_id, field=key)
            checked[key] = value
    return checked
def load_scenario(spec: str | os.PathLike[str] | dict) -> Scenario:
    """Read a scenario from a JSON/YAML file or a dict and check its shape.

    Parameters
    ----------
    spec
        Path or mapping.

    Returns
    -------
    Scenario

    Raises
    ------
    DataFileError
        Unreadable file.
    SchemaError
        Unknown keys or fields, or values of the wrong kind.
    """
    source = "scenario" if isinstance(spec, dict) else str(spec)
    data = dict(spec) if isinstance(spec, dict) else _read(Path(spec))
    unknown = sorted(str(k) for k in set(data) - _TOP_KEYS)
    if unknown:
        raise SchemaError(f"unknown key {preview(unknown[0])}; expected "
                          f"{', '.join(sorted(_TOP_KEYS))}", source=source)
    gates = data.get("gates") or {}
    if not isinstance(gates, dict):
        raise SchemaError("'gates' must map gate ids to the fields to change", source=source)
    checked_gates: dict[str, dict[str, object]] = {}
    for gate_id, changes in gates.items():
        if not isinstance(gate_id, str):
            raise SchemaError(f"gate ids are text, not {preview(gate_id)}", source=source)
        shown_id = preview(gate_id).strip("'") if len(gate_id) > 60 else gate_id
        if not isinstance(changes, dict):
            raise SchemaError("must be a mapping of fields to values", source=source,
                              row=shown_id)
        bad = sorted(str(k) for k in set(changes) - _GATE_FIELDS)
        if bad:
            raise SchemaError(f"cannot change {preview(bad[0])}; changeable fields: "
                              f"{', '.join(sorted(_GATE_FIELDS))}", source=source, row=shown_id)
        checked_gates[gate_id] = _checked_changes(shown_id, changes, source)
    lists = {}
    for key in ("open", "close"):
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SchemaError(f"'{key}' must be a list of gate ids", source=source)
        lists[key] = value
    raw = data.get("demand_multiplier", 1.0)
    try:
        if isinstance(raw, dict):
            extra = sorted(str(k) for k in set(raw) - {"export", "import"})
            if extra:
                raise SchemaError(f"demand_multiplier by direction takes export and import, "
                                  f"not {preview(extra[0])}", source=source)
            multiplier: float | dict[str, float] = {
                str(k): check_number(v, name=f"demand_multiplier {k}", low=0,
                                     high=MAX_DEMAND_MULTIPLIER) for k, v in raw.items()}
        else:
            multiplier = check_number(raw, name="demand_multiplier", low=0,
                                      high=MAX_DEMAND_MULTIPLIER)
    except InputRangeError as exc:
        raise SchemaError(str(exc), source=source) from None
    name = data.get("name") or Path(source).stem
    if not isinstance(name, (str, int, float)) or len(str(name)) > MAX_NAME_CHARS:
        raise SchemaError(f"name must be a text of at most {MAX_NAME_CHARS} characters, not "
                          f"{preview(name)}", source=source)
    return Scenario(name=str(name), gates=checked_gates, open=lists["open"],
                    close=lists["close"], demand_multiplier=multiplier, source=source)


def _capacity_factor(gate: pd.Series, changes: dict[str, object], *, source: str,
                     gate_id: str) -> float:
    """Scale a published capacity when hours or the rate change on a gate without lanes.

    A gate whose lanes are unknown keeps the dataset's daily figure, which was measured at
    its documented hours and rate; longer hours or a faster rate scale that figure
    proportionally unless the scenario sets ``capacity_trucks_day`` itself.
    """
    if "capacity_trucks_day" in changes or not pd.isna(gate.get("lanes_export")) \
            or pd.isna(gate.get("capacity_trucks_day")):
        return 1.0
    factor = 1.0
    if "hours_vn" in changes or "hours_cn" in changes:
        old = {k: None if pd.isna(gate.get(k)) else gate.get(k) for k in ("hours_vn", "hours_cn")}
        try:
            before = effective_window(old["hours_vn"], old["hours_cn"])
            after = effective_window(changes.get("hours_vn", old["hours_vn"]),
                                     changes.get("hours_cn", old["hours_cn"]))
        except (ValueError, TypeError) as exc:
            field_name = "hours_cn" if "hours_cn" in changes else "hours_vn"
            raise SchemaError(str(exc), source=source, row=gate_id, field=field_name) from None
        if before is not None and after is not None and before[1] > before[0]:
            factor *= (after[1] - after[0]) / (before[1] - before[0])
    if "service_rate_trucks_h" in changes:
        old_rate = gate.get("service_rate_trucks_h")
        old_rate = DEFAULT_SERVICE_RATE_TRUCKS_H if pd.isna(old_rate) else float(old_rate)
        try:
            factor *= float(changes["service_rate_trucks_h"]) / old_rate
        except (TypeError, ValueError):
            raise SchemaError("must be a number", source=source, row=gate_id,
                              field="service_rate_trucks_h") from None
    return factor


def apply_scenario(gates: gpd.GeoDataFrame, scenario: Scenario) -> gpd.GeoDataFrame:
    """Return the gates layer changed by a scenario, re-validated.

    Parameters
    ----------
    gates
        The (validated) gates layer.
    scenario
        From :func:`load_scenario`.

    Returns
    -------
    geopandas.GeoDataFrame
        A changed copy.

    Raises
    ------
    SchemaError
        An unknown gate id, or a change that breaks the gates contract (negative lanes,
        hours that do not parse, unknown status).
    """
    out = gates.copy()
    ids = pd.Index(out["id"])
    mentioned = list(scenario.gates) + scenario.open + scenario.close
    for gate_id in mentioned:
        if gate_id not in ids:
            raise SchemaError(f"unknown gate {preview(gate_id)}; known gates: "
                              f"{', '.join(out['id'])}", source=scenario.source)
    out = out.astype({c: object for c in _GATE_FIELDS if c in out.columns})
    for gate_id, changes in scenario.gates.items():
        row = ids.get_loc(gate_id)
        factor = _capacity_factor(out.loc[row], changes, source=scenario.source, gate_id=gate_id)
        for key, value in changes.items():
            if key not in out.columns:
                out[key] = None
            out.loc[row, key] = value
        if "service_rate_trucks_h" in changes:  # the scenario's rate replaces fitted ones
            for column in ("service_rate_trucks_h_export", "service_rate_trucks_h_import"):
                if column in out.columns:
                    out.loc[row, column] = np.nan
        if factor != 1.0:
            out.loc[row, "capacity_trucks_day"] = float(out.loc[row, "capacity_trucks_day"]) \
                * factor
    for gate_id in scenario.open:
        out.loc[ids.get_loc(gate_id), "status"] = "open"
    for gate_id in scenario.close:
        out.loc[ids.get_loc(gate_id), "status"] = "closed"
    return validate_layer(out, "gates", source=scenario.source)


def _day(value: object, *, what: str, source: str) -> pd.Timestamp:
    """Parse a date given as text (``2021-12-15``) or a YAML date; a clear error otherwise."""
    try:
        if not isinstance(value, (str, date)) or (isinstance(value, str) and len(value) > 40):
            raise ValueError
        day = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise SchemaError(f"{what}: {preview(value)} is not a date like 2021-12-15",
                          source=source) from None
    if pd.isna(day) or not 1900 <= day.year <= 2200:
        raise SchemaError(f"{what}: {preview(value)} is not a date between 1900 and 2200",
                          source=source)
    return day.normalize()


def piecewise_daily(pieces: list[dict], start: str, end: str, *, what: str = "value",
                    source: str = "scenario") -> pd.Series:
    """Expand ``[{"from": date, "to": date, "value": x}, …]`` into one value per day.

    Parameters
    ----------
    pieces
        Date ranges (inclusive) and their daily value.
    start, end
        The days to cover (inclusive).
    what
        Name used in error messages.
    source
        File name used in error messages.

    Returns
    -------
    pandas.Series
        Indexed by day.

    Raises
    ------
    SchemaError
        Gaps, bad dates or negative values.
    """
    first_day, last_day = (_day(start, what=f"{what} start", source=source),
                           _day(end, what=f"{what} end", source=source))
    if last_day < first_day:
        raise SchemaError(f"{what}: the period ends ({last_day.date()}) before it starts "
                          f"({first_day.date()})", source=source)
    if (last_day - first_day).days >= MAX_DAYS:
        raise SchemaError(f"{what}: the period is longer than {MAX_DAYS:,} days", source=source)
    if not isinstance(pieces, list):
        raise SchemaError(f"{what} must be a list of {{from, to, value}} entries, not "
                          f"{preview(pieces)}", source=source)
    days = pd.date_range(first_day, last_day, freq="D")
    values = pd.Series(np.nan, index=days)
    for k, piece in enumerate(pieces):
        if not isinstance(piece, dict) or not {"from", "to", "value"} <= set(piece):
            raise SchemaError(f"{what} entry {k + 1} needs 'from', 'to' (dates) and a numeric "
                              f"'value'", source=source)
        first = _day(piece["from"], what=f"{what} entry {k + 1} 'from'", source=source)
        last = _day(piece["to"], what=f"{what} entry {k + 1} 'to'", source=source)
        try:
            value = check_number(piece["value"], name=f"{what} entry {k + 1} value", low=0,
                                 high=MAX_TRUCKS_PER_DAY)
        except InputRangeError as exc:
            raise SchemaError(str(exc), source=source) from None
        values[(values.index >= first) & (values.index <= last)] = value
    if values.isna().any():
        raise SchemaError(f"{what} has no value for {values.index[values.isna()][0].date()}",
                          source=source)
    return values
