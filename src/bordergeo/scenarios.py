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

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from bordergeo.errors import DataFileError, SchemaError
from bordergeo.gates import DEFAULT_SERVICE_RATE_TRUCKS_H, effective_window
from bordergeo.schema import validate_layer

__all__ = ["Scenario", "load_scenario", "apply_scenario", "piecewise_daily"]

_GATE_FIELDS = {"lanes_export", "lanes_import", "hours_vn", "hours_cn",
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
        Factor on every demand (1 = unchanged).
    source
        File it came from.
    """

    name: str = "baseline"
    gates: dict[str, dict[str, object]] = field(default_factory=dict)
    open: list[str] = field(default_factory=list)
    close: list[str] = field(default_factory=list)
    demand_multiplier: float = 1.0
    source: str = "scenario"


def _read(path: Path) -> dict:
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError as exc:  # pragma: no cover - pyyaml is a dependency
                raise DataFileError(f"{path}: YAML scenarios need pyyaml") from exc
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except DataFileError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataFileError(f"{path}: cannot parse the scenario ({first})") from exc
    if not isinstance(data, dict):
        raise DataFileError(f"{path}: a scenario is a mapping of keys "
                            f"({', '.join(sorted(_TOP_KEYS))})")
    return data


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
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SchemaError(f"unknown key {sorted(unknown)[0]!r}; expected "
                          f"{', '.join(sorted(_TOP_KEYS))}", source=source)
    gates = data.get("gates") or {}
    if not isinstance(gates, dict):
        raise SchemaError("'gates' must map gate ids to the fields to change", source=source)
    for gate_id, changes in gates.items():
        if not isinstance(changes, dict):
            raise SchemaError("must be a mapping of fields to values", source=source,
                              row=gate_id)
        bad = set(changes) - _GATE_FIELDS
        if bad:
            raise SchemaError(f"cannot change {sorted(bad)[0]!r}; changeable fields: "
                              f"{', '.join(sorted(_GATE_FIELDS))}", source=source, row=gate_id)
    lists = {}
    for key in ("open", "close"):
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SchemaError(f"'{key}' must be a list of gate ids", source=source)
        lists[key] = value
    multiplier = data.get("demand_multiplier", 1.0)
    if not isinstance(multiplier, (int, float)) or isinstance(multiplier, bool) \
            or multiplier < 0:
        raise SchemaError(f"demand_multiplier must be a number ≥ 0, not {multiplier!r}",
                          source=source)
    return Scenario(name=str(data.get("name") or Path(source).stem), gates=gates,
                    open=lists["open"], close=lists["close"],
                    demand_multiplier=float(multiplier), source=source)


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
            raise SchemaError(f"unknown gate {gate_id!r}; known gates: "
                              f"{', '.join(out['id'])}", source=scenario.source, row=gate_id)
    out = out.astype({c: object for c in _GATE_FIELDS if c in out.columns})
    for gate_id, changes in scenario.gates.items():
        row = ids.get_loc(gate_id)
        factor = _capacity_factor(out.loc[row], changes, source=scenario.source, gate_id=gate_id)
        for key, value in changes.items():
            out.loc[row, key] = value
        if factor != 1.0:
            out.loc[row, "capacity_trucks_day"] = float(out.loc[row, "capacity_trucks_day"]) \
                * factor
    for gate_id in scenario.open:
        out.loc[ids.get_loc(gate_id), "status"] = "open"
    for gate_id in scenario.close:
        out.loc[ids.get_loc(gate_id), "status"] = "closed"
    return validate_layer(out, "gates", source=scenario.source)


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
    days = pd.date_range(start, end, freq="D")
    values = pd.Series(np.nan, index=days)
    for k, piece in enumerate(pieces):
        try:
            first, last = pd.Timestamp(piece["from"]), pd.Timestamp(piece["to"])
            value = float(piece["value"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"{what} entry {k + 1} needs 'from', 'to' (dates) and a numeric "
                              f"'value' ({exc})", source=source) from None
        if value < 0:
            raise SchemaError(f"{what} entry {k + 1} is negative", source=source)
        values[(values.index >= first) & (values.index <= last)] = value
    if values.isna().any():
        raise SchemaError(f"{what} has no value for {values.index[values.isna()][0].date()}",
                          source=source)
    return values
