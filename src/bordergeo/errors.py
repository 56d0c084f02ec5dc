"""The exceptions bordergeo raises.

Every error a user can cause (a bad file, an unknown place, an impossible scenario) is a
subclass of :class:`BorderGeoError`, with a message that names the file, row and field
involved. The command line turns them into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BorderGeoError",
    "DataFileError",
    "SchemaError",
    "LookupFailedError",
    "AssetsMissingError",
    "Problem",
    "ValidationError",
    "DatasetFileError",
]


class BorderGeoError(Exception):
    """Base class of every error bordergeo raises on purpose."""


class DataFileError(BorderGeoError):
    """A data file is missing, unreadable or of an unsupported format."""


class SchemaError(BorderGeoError, ValueError):
    """A layer does not meet its column, type, geometry or CRS contract.

    Parameters
    ----------
    message
        What is wrong.
    source
        The file (or layer name) the data came from.
    row
        The id (or position) of the offending row, if one row is at fault.
    field
        The column at fault, if one column is at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: object | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.row = row
        self.field = field
        self.reason = message
        where = []
        if row is not None:
            where.append(f"row {row!r}")
        if field:
            where.append(f"field {field!r}")
        prefix = f"{source}: " if source else ""
        if where:
            prefix += ", ".join(where) + ": "
        super().__init__(prefix + message)


class LookupFailedError(BorderGeoError, KeyError):
    """A gate, hub or place name matched nothing (the message suggests close names)."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class AssetsMissingError(BorderGeoError):
    """The offline JavaScript/CSS assets were not built into this installation."""


@dataclass(frozen=True)
class Problem:
    """One problem found while validating a layer or a dataset.

    Parameters
    ----------
    message
        What is wrong, never quoting more than a short cut of the user's text. When several
        rows share the problem, it ends with ``(also rows 'b', 'c' and N more)``.
    source
        The file (or layer name) at fault.
    row
        The id (or ``#position``) of the first offending row, if rows are at fault.
    field
        The column at fault, if one column is at fault.
    rows
        How many rows have this problem (0 when it is about the whole file or dataset).
    kind
        ``"file"`` (missing or unreadable), ``"schema"`` (the layer contract) or
        ``"dataset"`` (consistency between layers).
    """

    message: str
    source: str | None = None
    row: object | None = None
    field: str | None = None
    rows: int = 0
    kind: str = "schema"

    def __str__(self) -> str:
        return str(SchemaError(self.message, source=self.source, row=self.row,
                               field=self.field))

    @property
    def detail(self) -> str:
        """The problem without its source: ``"row 'x', field 'y': message"``."""
        return str(SchemaError(self.message, row=self.row, field=self.field))


class ValidationError(SchemaError):
    """A layer or dataset has one or more problems; ``problems`` lists every one.

    It reads as its first problem followed by ``(and N more problems)``; ``source``,
    ``row``, ``field`` and ``reason`` are those of the first problem.

    Parameters
    ----------
    problems
        All problems found, most fundamental first (at least one).
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("a ValidationError needs at least one problem")
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.message, source=first.source, row=first.row, field=first.field)

    def __str__(self) -> str:
        more = len(self.problems) - 1
        text = super().__str__()
        if more:
            text += f" (and {more} more problem{'s' if more > 1 else ''})"
        return text

    def __reduce__(self) -> tuple:  # pickles (multiprocessing) with its problems
        return (type(self), (self.problems,))


class DatasetFileError(ValidationError, DataFileError):
    """A dataset has layer files that are missing or cannot be read (maybe among other problems).

    Both a :class:`ValidationError` (``problems`` lists every problem, the file problems
    first) and a :class:`DataFileError`.
    """
