"""The exceptions bordergeo raises.

Every error a user can cause (a bad file, an unknown place, an impossible scenario) is a
subclass of :class:`BorderGeoError`, with a message that names the file, row and field
involved. The command line turns them into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

__all__ = [
    "BorderGeoError",
    "DataFileError",
    "SchemaError",
    "LookupFailedError",
    "AssetsMissingError",
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
