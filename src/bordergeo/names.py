"""Name lookup that ignores case and Vietnamese diacritics.

``"huu nghi"``, ``"Hữu Nghị"`` and ``"HUU-NGHI"`` all find the Hữu Nghị gate; a miss raises
:class:`~bordergeo.errors.LookupFailedError` with the closest names as suggestions.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping

import pandas as pd

from bordergeo.errors import LookupFailedError
from bordergeo.inputs import preview

__all__ = ["fold", "find_place", "find_row", "NAME_COLUMNS", "ALIAS_COLUMNS"]

NAME_COLUMNS = ("id", "name_vi", "name_en", "name_zh", "name")
#: Other names a place is known by: its Chinese counterpart's, and any listed aliases.
ALIAS_COLUMNS = ("counterpart_zh", "counterpart_en", "aliases")

# Vietnamese đ/Đ is a letter of its own, not d plus a combining mark.
_LETTERS = str.maketrans({"đ": "d", "Đ": "d"})
_SEPARATORS = re.compile(r"[\s\-_./,()]+")
# Prefixes that people often type or leave out: "Cửa khẩu Hữu Nghị" = "Hữu Nghị".
_PREFIXES = ("cua khau quoc te ", "cua khau ", "thanh pho ", "thi tran ", "ga ", "tp ")
#: Endings of the same kind: "友谊口岸" = "友谊", "Tan Thanh gate" = "Tan Thanh".
_SUFFIXES = (" international border gate", " international gate", " border gate", " gate",
             " railway station", " station", " city", "口岸", "站")
_PARENTHESES = re.compile(r"\([^)]*\)|（[^）]*）")


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


def _name_keys(value: object) -> set[str]:
    """Return the folded forms of a full name, with and without spaces."""
    if not isinstance(value, str) or not value.strip():
        return set()
    key = fold(value)
    return {key, key.replace(" ", "")} - {""}


def _derived_keys(value: object) -> set[str]:
    """Shorter forms people type: without a prefix, a suffix or a part in parentheses."""
    if not isinstance(value, str) or not value.strip():
        return set()
    bases = {fold(value), fold(_PARENTHESES.sub(" ", value))}
    keys: set[str] = set()
    for base in bases:
        keys.add(base)
        for prefix in _PREFIXES:
            if base.startswith(prefix):
                keys.add(base[len(prefix):])
        for suffix in _SUFFIXES:
            if base.endswith(suffix) and len(base) > len(suffix):
                keys.add(base[: -len(suffix)].strip())
    keys |= {k.replace(" ", "") for k in keys}
    return keys - {""}


def _alias_values(value: object) -> list[str]:
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split("|") if part.strip()]


def _ids(table: pd.DataFrame) -> list[tuple[str, object]]:
    return [(c, _name_keys) for c in ("id",) if c in table.columns]


def _full_names(table: pd.DataFrame) -> list[tuple[str, object]]:
    return [(c, _name_keys) for c in NAME_COLUMNS[1:] if c in table.columns]


def _short_names(table: pd.DataFrame) -> list[tuple[str, object]]:
    return [(c, _derived_keys) for c in NAME_COLUMNS[1:] if c in table.columns]


def _aliases(table: pd.DataFrame) -> list[tuple[str, object]]:
    return [(c, _derived_keys) for c in ALIAS_COLUMNS if c in table.columns]


#: How a query is matched, most exact first; the first tier with a match decides. Each
#: entry: which keys of the table, and whether the query may be shortened too.
_TIERS = ((_ids, False), (_full_names, False), (_short_names, False), (_aliases, False),
          (_short_names, True), (_aliases, True))


def _tier_index(table: pd.DataFrame, columns: list[tuple[str, object]]) -> dict[str, set[int]]:
    index: dict[str, set[int]] = {}
    for col, keys_of in columns:
        for pos, value in enumerate(table[col].tolist()):
            values = _alias_values(value) if col == "aliases" else [value]
            for item in values:
                for key in keys_of(item):
                    index.setdefault(key, set()).add(pos)
    return index


def _parent_of_all(table: pd.DataFrame, hits: set[int]) -> int | None:
    """Return the one hit that every other hit names as its ``parent_id``, if any."""
    if "parent_id" not in table.columns:
        return None
    ids = table["id"].astype(str).tolist()
    parents = table["parent_id"].tolist()
    roots = [p for p in hits if not isinstance(parents[p], str) or not parents[p]]
    if len(roots) == 1 and all(parents[p] == ids[roots[0]] for p in hits - {roots[0]}):
        return roots[0]
    return None


def find_place(tables: Mapping[str, pd.DataFrame], query: str) -> tuple[str, int]:
    """Find a place by id or name across several layers (e.g. gates and hubs).

    Matching runs in tiers, most exact first, and the first tier that matches decides: an
    exact id; a full name (Vietnamese, English or Chinese, any case, diacritics optional);
    a short name (without "Cửa khẩu", "Ga", "口岸", "gate", a part in parentheses…); an
    alias (the Chinese counterpart's names, an ``aliases`` column of ``|``-separated
    names); then the last two again with the query shortened the same way. Within a tier
    a crossing wins over its own lanes (``parent_id``).

    Parameters
    ----------
    tables
        Layer name → table with ``id`` and name columns, e.g. ``{"gate": gates, "hub":
        hubs}``; the names are the words used in messages.
    query
        What the user typed.

    Returns
    -------
    tuple
        The layer name and the row position in that table.

    Raises
    ------
    LookupFailedError
        Nothing matches (the message lists the closest names), or one tier matches
        several places (the message lists their ids, e.g. a gate and a hub of one name).
    """
    exact = _name_keys(query)
    short = exact | _derived_keys(query)
    everything: dict[str, tuple[str, int]] = {}
    for columns_of, shorten in _TIERS:
        wanted = short if shorten else exact
        hits: dict[str, set[int]] = {}
        for what, table in tables.items():
            index = _tier_index(table, columns_of(table))
            for key, positions in index.items():
                everything.setdefault(key, (what, min(positions)))
            found = set().union(*(index.get(key, set()) for key in wanted))
            if found:
                hits[what] = found
        if not hits:
            continue
        if len(hits) == 1:
            what, found = next(iter(hits.items()))
            if len(found) == 1:
                return what, found.pop()
            parent = _parent_of_all(tables[what], found)
            if parent is not None:
                return what, parent
        listed = ", ".join(f"{what} {tables[what]['id'].iloc[p]}"
                           for what, found in hits.items() for p in sorted(found))
        if len(hits) == 1:
            listed = ", ".join(sorted(str(tables[what]["id"].iloc[p])
                                      for what, found in hits.items() for p in found))
        raise LookupFailedError(f"{_kinds(tables)} {preview(str(query))} is ambiguous: it "
                                f"matches {listed}; use an id")
    close = difflib.get_close_matches(fold(query), list(everything), n=3, cutoff=0.6)
    names = []
    for key in close:
        what, pos = everything[key]
        table = tables[what]
        name = table["name_vi"].iloc[pos] if "name_vi" in table.columns else key
        label = f"{name} ({table['id'].iloc[pos]})"
        if label not in names:
            names.append(label)
    hint = f"; did you mean {' or '.join(names)}?" if names else ""
    raise LookupFailedError(f"no {_kinds(tables)} named {preview(str(query))}{hint}")


def _kinds(tables: Mapping[str, pd.DataFrame]) -> str:
    return " or ".join(tables)


def find_row(table: pd.DataFrame, query: str, *, what: str = "place") -> int:
    """Find the position of the row whose id or a name matches ``query``.

    Parameters
    ----------
    table
        A gates or hubs layer (columns ``id`` and any of ``name_vi``, ``name_en``,
        ``name_zh``, ``name``, ``counterpart_en``, ``counterpart_zh``, ``aliases``).
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
        closest names (see :func:`find_place` for the order of matching).
    """
    return find_place({what: table}, query)[1]
