"""A source's mapping against a file's header, and the SQL quoting every plan uses.

Whether a file has the columns its source maps is known from the header alone, so discovery can set a
file aside before any row is read, with the fix in the export's own terms.
"""

from __future__ import annotations

import re

from config.kinds import CANONICAL_FIELDS, READING_KINDS, SourceKind
from config.sources import SourceConfig
from config.sql import quote_ident, sql_literal, sql_str

__all__ = ["quote_ident", "sql_literal", "sql_str"]

LOOKS_LIKE_DATA = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|\d{4}-\d{2}-\d{2}.*|\d{1,2}[./]\d{1,2}[./]\d{2,4}.*)\s*$")


BLANKS = "' \t\u00a0\r\n'"  # SQL literal: space, tab, no-break space and stray line ends, trimmed around keys


def joined_sql(parts: list[str]) -> str:
    """Text columns joined with a blank (a date and a time of day); NULL when any part is."""
    return parts[0] if len(parts) == 1 else "(" + " || ' ' || ".join(parts) + ")"


def entity_key_sql(value_sql: str) -> str:
    """The partition key of an entity value: its text, with anything unusual replaced (as file keys are)."""
    return f"NULLIF(regexp_replace(trim(CAST({value_sql} AS VARCHAR)), '[^A-Za-z0-9._-]', '_', 'g'), '')"


def mapped_columns(source: SourceConfig) -> list[tuple[str, str, bool]]:
    """(canonical name, export column, must exist) for every canonical column fed by an export column."""
    if source.kind is SourceKind.HISTORIAN_WIDE:
        return [("ts", column, True) for column in source.source_columns("ts")]
    if source.kind is SourceKind.HISTORIAN_LONG:
        wanted = [("ts", True), ("tag", True), ("value", True), ("quality", "quality" in source.columns)]
    elif source.kind is SourceKind.TABLE:
        wanted = [(name, True) for name in source.schema_]  # a table lists its columns: each must be in the file
    else:
        wanted = [(f.name, f.required or f.name in source.columns) for f in CANONICAL_FIELDS[source.kind]]
    found = []
    for canonical, must in wanted:
        origin = source.column_source(canonical)
        for column in source.source_columns(canonical):  # a column with a default may be missing entirely
            found.append((canonical, column, must and origin.default is None))
    return found


SHOWN_NAMES, SHOWN_CHARS = 12, 60  # of a header quoted in a message: a wide export's runs to thousands of names


def _shown(header: list[str]) -> str:
    """The header as a message quotes it: its first names, each cut short, and how many there are."""
    names = [name if len(name) <= SHOWN_CHARS else name[: SHOWN_CHARS - 3] + "..." for name in header[:SHOWN_NAMES]]
    return str(names) if names == header else f"{names} ({len(header)} columns)"


def missing_columns_problem(source: SourceConfig, header: list[str]) -> tuple[str, str] | None:
    """(cause, fix) when the header lacks a column the source needs; None when every one is there."""
    missing = [(c, col) for c, col, must in mapped_columns(source) if must and col not in header]
    if source.kind is SourceKind.HISTORIAN_WIDE and source.value_columns:
        missing += [(col, col) for col in source.value_columns if col not in header]
    if not missing:
        return None
    canonical, column = missing[0]
    cause = f"column {column!r} (for {canonical!r}) is not in the header {_shown(header)}"
    if source.csv.header and not source.csv.column_names and any(LOOKS_LIKE_DATA.match(h) for h in header):
        return (
            cause + "; its first line looks like data, not a header",
            f"if the export has no header row, set sources[{source.name}].csv: {{header: false, column_names: "
            f"[...]}} listing its {len(header)} columns in order",
        )
    kind_note = "" if source.kind not in READING_KINDS else f" (a {source.kind.value} export)"
    return cause, f"map it under sources[{source.name}].columns: {{{canonical}: <column>}}{kind_note}"
