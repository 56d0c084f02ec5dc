"""Name lookup that ignores case and Vietnamese diacritics.

``"huu nghi"``, ``"Hữu Nghị"`` and ``"HUU-NGHI"`` all find the Hữu Nghị gate; a miss raises
:class:`~bordergeo.errors.LookupFailedError` with the closest names as suggestions.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

from bordergeo.errors import LookupFailedError

__all__ = ["fold", "find_row", "NAME_COLUMNS"]

NAME_COLUMNS = ("id", "name_vi", "name_en", "name_zh", "name")

# Vietnamese đ/Đ is a letter of its own, not d plus a combining mark.
_LETTERS = str.maketrans({"đ": "d", "Đ": "d"})
_SEPARATORS = re.compile(r"[\s\-_./,()]+")
# Prefixes that people often type or leave out: "Cửa khẩu Hữu Nghị" = "Hữu Nghị".
_PREFIXES = ("cua khau quoc te ", "cua khau ", "thanh pho ", "thi tran ", "ga ", "tp ")


def fold(text: str) -> str:
    """Return ``text`` lower-cased, without diacritics, with single spaces.

    Parameters
    ----------
    text
        Any name, e.g. ``"Cửa khẩu Hữu Nghị"``.

    Returns
    -------
    str
        The folded key, e.g. ``"cua khau huu nghi"``.
    """
    decomposed = unicodedata.normalize("NFKD", str(text).translate(_LETTERS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SEPARATORS.sub(" ", stripped.lower()).strip()


def _keys(value: object) -> Iterable[str]:
    if not isinstance(value, str) or not value.strip():
        return ()
    key = fold(value)
    keys = {key, key.replace(" ", "")}
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            keys.add(key[len(prefix):])
    return keys


def find_row(table: pd.DataFrame, query: str, *, what: str = "place") -> int:
    """Find the position of the row whose id or a name matches ``query``.

    Parameters
    ----------
    table
        A gates or hubs layer (columns ``id`` and any of ``name_vi``, ``name_en``,
        ``name_zh``, ``name``).
    query
        Id or name, with or without diacritics, any case.
    what
        Word used in the error message (``"gate"``, ``"hub"``).

    Returns
    -------
    int
        Row position in ``table``.

    Raises
    ------
    LookupFailedError
        If nothing matches, or the query matches several rows; the message lists the
        closest names.
    """
    wanted = set(_keys(query))
    columns = [c for c in NAME_COLUMNS if c in table.columns]
    index: dict[str, set[int]] = {}
    labels: dict[str, str] = {}
    for col in columns:
        for pos, value in enumerate(table[col].tolist()):
            for key in _keys(value):
                index.setdefault(key, set()).add(pos)
                labels.setdefault(key, str(value))
    hits: set[int] = set()
    for key in wanted:
        hits |= index.get(key, set())
    if len(hits) == 1:
        return hits.pop()
    if len(hits) > 1:
        ids = ", ".join(sorted(str(table["id"].iloc[p]) for p in hits))
        raise LookupFailedError(f"{what} {query!r} is ambiguous: it matches {ids}; use an id")
    close = difflib.get_close_matches(fold(query), list(index), n=3, cutoff=0.6)
    names = []
    for key in close:
        pos = min(index[key])
        name = table["name_vi"].iloc[pos] if "name_vi" in table.columns else labels[key]
        label = f"{name} ({table['id'].iloc[pos]})"
        if label not in names:
            names.append(label)
    hint = f"; did you mean {' or '.join(names)}?" if names else ""
    raise LookupFailedError(f"no {what} named {query!r}{hint}")
