"""What users hand in: bounded numbers, small text files and bounded YAML/JSON.

Every number a user gives (a CLI option, a model input, a value in a scenario) passes
:func:`check_number`, which refuses NaN, infinities and values outside a stated range and
puts the range in its message. Scenario, replay and demand files are read by
:func:`read_small_text` (a regular file, of bounded size, in UTF-8) and structured files by
:func:`load_structured`, which refuses YAML alias bombs and deep nesting before anything is
built from them. Error messages quote user text through :func:`preview`, so a
multi-megabyte value never comes back whole.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

from bordergeo.errors import BorderGeoError, DataFileError

__all__ = [
    "LAYERS",
    "REQUIRED_LAYERS",
    "read_text_table",
    "MAX_ALIASES",
    "MAX_CV2",
    "MAX_DAYS",
    "MAX_DEPTH",
    "MAX_INPUT_BYTES",
    "MAX_LANES",
    "MAX_RATE_TRUCKS_H",
    "MAX_TARGET_GAP",
    "MAX_TRUCKS",
    "MAX_TRUCKS_PER_DAY",
    "InputRangeError",
    "check_number",
    "check_finite",
    "check_regular_file",
    "load_structured",
    "preview",
    "read_small_text",
]

#: The layers of a dataset (a file or table each), and those a dataset cannot do without.
LAYERS = ("gates", "markers", "hubs", "roads", "border")
REQUIRED_LAYERS = ("gates", "hubs", "roads")
#: Longest horizon of a day-by-day model run: ten years.
MAX_DAYS = 3_660
#: Most trucks per day from one origin, through one gate, or cleared by one gate. The whole
#: Lạng Sơn border clears about 1,000–2,000 a day; a thousand times that is a typing error.
MAX_TRUCKS_PER_DAY = 1_000_000.0
#: Most trucks in a stock (a backlog at the start of a run).
MAX_TRUCKS = 10_000_000.0
#: Most lanes (servers) at one gate.
MAX_LANES = 1_000
#: Fastest service or arrival rate, trucks per hour.
MAX_RATE_TRUCKS_H = 100_000.0
#: Largest squared coefficient of variation of service or arrival times (exponential is 1).
MAX_CV2 = 100.0
#: Loosest relative gap an assignment may be asked for: above it flows say little.
MAX_TARGET_GAP = 0.5
#: Largest scenario, replay or demand file read whole into memory.
MAX_INPUT_BYTES = 5 * 1024 * 1024
#: YAML aliases (``*name``) allowed in one file: scenarios need none, and ten cannot build
#: more than a few dozen values however they are nested (a "billion laughs" needs dozens).
MAX_ALIASES = 10
#: Deepest nesting of mappings and lists in a YAML/JSON input.
MAX_DEPTH = 20

_PREVIEW_CHARS = 60


class InputRangeError(BorderGeoError):
    """A number is missing, not finite, or outside the range the model accepts."""


def preview(value: object, *, limit: int = _PREVIEW_CHARS) -> str:
    """Quote a user value for an error message, cut to ``limit`` characters.

    Parameters
    ----------
    value
        Any value; containers are not expanded beyond ``limit`` characters of their repr.
    limit
        Characters kept.

    Returns
    -------
    str
        ``repr(value)``, or its first ``limit`` characters and how long the whole was.
    """
    if hasattr(value, "item") and not isinstance(value, (dict, list, tuple, set)):
        value = value.item()  # numpy scalars
    if isinstance(value, (dict, list, tuple, set)):
        kind = type(value).__name__
        return f"a {kind} of {len(value)} item{'s' if len(value) != 1 else ''}"
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return repr(value) if isinstance(value, str) else text
    return f"{text[:limit]!r}… ({len(text):,} characters)"


def check_number(value: object, *, name: str, low: float | None = None,
                 high: float | None = None, low_open: bool = False,
                 integer: bool = False) -> float | int:
    """Parse and bound a number from a user.

    Parameters
    ----------
    value
        A number, or text such as ``"350"`` or ``"1e-4"``.
    name
        What it is, for the message (an option name such as ``--days``, or a field).
    low, high
        Inclusive bounds (``low`` exclusive with ``low_open``); ``None`` for no bound.
    low_open
        Require ``value > low`` instead of ``value >= low``.
    integer
        Require a whole number (returned as ``int``).

    Returns
    -------
    float or int
        The number.

    Raises
    ------
    InputRangeError
        Not a number, NaN or infinite, fractional where a whole number is needed, or out
        of range; the message names the bounds.
    """
    if isinstance(value, bool):
        raise InputRangeError(f"{name} must be a number, not {value!r}")
    number: float | int
    if isinstance(value, (int, float)):
        number = value
    else:
        text = str(value).strip()
        try:
            number = int(text) if integer and text.lstrip("+-").isdigit() else float(text)
        except (TypeError, ValueError, OverflowError):
            raise InputRangeError(f"{name} must be a number, not {preview(value)}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise InputRangeError(f"{name} must be a finite number, not {number}")
    if integer and isinstance(number, float):
        if not number.is_integer():
            raise InputRangeError(f"{name} must be a whole number, not {number:g}")
        number = int(number)
    out_of_range = ((low is not None and (number <= low if low_open else number < low))
                    or (high is not None and number > high))
    if out_of_range:
        raise InputRangeError(f"{name} must be {_range_text(low, high, low_open)}, not "
                              f"{_short_number(number)}")
    return number


def _short_number(number: float | int) -> str:
    text = f"{number:g}" if isinstance(number, float) else str(number)
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} digits)"


def _range_text(low: float | None, high: float | None, low_open: bool) -> str:
    def fmt(x: float) -> str:
        return f"{x:,g}" if isinstance(x, float) else f"{x:,}"

    if low is not None and high is not None:
        return (f"greater than {fmt(low)} and at most {fmt(high)}" if low_open
                else f"between {fmt(low)} and {fmt(high)}")
    if low is not None:
        return f"greater than {fmt(low)}" if low_open else f"at least {fmt(low)}"
    return f"at most {fmt(high)}"


def check_finite(values: object, *, what: str) -> None:
    """Raise when a model result holds NaN or infinities (a bug or an overflow).

    Parameters
    ----------
    values
        Numbers or arrays of numbers.
    what
        Name of the result, for the message.

    Raises
    ------
    InputRangeError
        Some value is not finite.
    """
    import numpy as np

    array = np.asarray(values, dtype=float)
    if not np.isfinite(array).all():
        raise InputRangeError(f"{what} is not finite for these inputs (overflow?); use "
                              f"smaller numbers")


def check_regular_file(path: str | os.PathLike[str], *, what: str = "file") -> os.stat_result:
    """Make sure ``path`` is an existing regular file before anything opens it.

    A FIFO or a device would block or stream forever when read; a folder gives an
    unhelpful error from deep inside a parser.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages.

    Returns
    -------
    os.stat_result
        Its status (size, times).

    Raises
    ------
    DataFileError
        Missing, a folder, or not a regular file.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DataFileError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataFileError(f"{path}: is a folder, not a {what} file")
    if not stat.S_ISREG(info.st_mode):
        raise DataFileError(f"{path}: is not a regular file (a pipe or a device?); give a "
                            f"{what} file")
    return info


def read_small_text(path: str | os.PathLike[str], *, what: str = "file",
                    max_bytes: int = MAX_INPUT_BYTES) -> str:
    """Read a small UTF-8 text file whole, refusing what could hang or exhaust memory.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages (``"scenario"``, ``"replay"``).
    max_bytes
        Largest size read.

    Returns
    -------
    str
        The text.

    Raises
    ------
    DataFileError
        Missing, not a regular file (a folder, a FIFO, a device), too large, unreadable
        or not UTF-8.
    """
    path = Path(path)
    info = check_regular_file(path, what=what)
    if info.st_size > max_bytes:
        raise DataFileError(f"{path}: {info.st_size:,} bytes is too large for a {what} "
                            f"(at most {max_bytes:,})")
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    if len(raw) > max_bytes:
        raise DataFileError(f"{path}: too large for a {what} (at most {max_bytes:,} bytes)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: the {what} is not UTF-8 text (byte {exc.start + 1}); "
                            f"save it as UTF-8") from None


class _NestingError(Exception):
    """Raised inside the YAML composer; turned into a DataFileError by the caller."""


def _bounded_yaml_loader():  # -> type[yaml.SafeLoader], imported lazily
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        """Safe YAML loader that counts aliases and nesting while composing."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.alias_count = 0
            self.depth = 0

        def compose_node(self, parent, index):  # noqa: D102 - PyYAML hook
            if self.check_event(yaml.AliasEvent):
                self.alias_count += 1
                if self.alias_count > MAX_ALIASES:
                    raise _NestingError(f"more than {MAX_ALIASES} YAML aliases (*name); "
                                        f"write the values out")
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _NestingError(f"nested deeper than {MAX_DEPTH} levels")
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return BoundedLoader


def _depth(value: object, limit: int) -> int:
    """Nesting depth of parsed data, visiting each shared container once (YAML aliases)."""
    stack = [(value, 1)]
    seen: set[int] = set()
    deepest = 0
    while stack:
        item, level = stack.pop()
        if not isinstance(item, (dict, list)) or id(item) in seen:
            continue
        seen.add(id(item))
        deepest = max(deepest, level)
        if level > limit:
            return level
        children = item.values() if isinstance(item, dict) else item
        stack.extend((v, level + 1) for v in children)
    return deepest


def load_structured(path: str | os.PathLike[str], *, what: str = "file") -> object:
    """Read a JSON or YAML file (by suffix) with bounds on size, aliases and nesting.

    Parameters
    ----------
    path
        ``.json``, ``.yaml`` or ``.yml`` file.
    what
        What the file is, for messages.

    Returns
    -------
    object
        The parsed data.

    Raises
    ------
    DataFileError
        Unreadable, too large, not UTF-8, not parsable, more than :data:`MAX_ALIASES`
        aliases or nested deeper than :data:`MAX_DEPTH`.
    """
    path = Path(path)
    text = read_small_text(path, what=what)
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            loader = _bounded_yaml_loader()(text)
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
        else:
            data = json.loads(text)
    except _NestingError as exc:
        raise DataFileError(f"{path}: {exc}") from None
    except RecursionError:
        raise DataFileError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    except Exception as exc:  # yaml.YAMLError, json.JSONDecodeError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(f"{path}: cannot parse the {what} ({preview(first, limit=200)})"
                            ) from None
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise DataFileError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    return data


def read_text_table(path: str | os.PathLike[str], *, what: str = "CSV",
                    columns: tuple[str, ...] = ()):  # -> pandas.DataFrame, imported lazily
    """Read a small CSV whose every cell stays text (lines starting with ``#`` are comments).

    Parameters
    ----------
    path
        The file (checked and bounded as :func:`read_small_text` does).
    what
        Words for the file in messages ("calendar").
    columns
        Columns that must be present (after stripping spaces from the header).

    Returns
    -------
    pandas.DataFrame
        Empty cells as ``""``.

    Raises
    ------
    DataFileError
        Unreadable, not a CSV, or a required column missing; the message names the file.
    """
    import io

    import pandas as pd

    text = read_small_text(path, what=what)
    try:
        frame = pd.read_csv(io.StringIO(text), comment="#", dtype=str, keep_default_na=False)
    except Exception as exc:  # pandas' parser errors
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(f"{path}: cannot read the {what} ({preview(reason, limit=200)})"
                            ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataFileError(f"{path}: missing column(s) {', '.join(missing)} of the {what} "
                            f"(found {preview(', '.join(frame.columns), limit=120)})")
    return frame
