"""Quoting what comes from configuration, export headers or the register into SQL: the one place that does it.

DuckDB takes `?` parameters for values, but not for identifiers, for lists inside view definitions or for the
paths of COPY and views; those go through these helpers, so a quote in a column name, a rule name, a tag or a
folder can never end a literal early.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def quote_ident(name: str) -> str:
    """An identifier (a column, a flag), whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def sql_str(value: str) -> str:
    """Text as the body of a SQL string literal."""
    return value.replace("'", "''")


def sql_literal(value: object) -> str:
    """A constant as a SQL literal: text quoted, numbers and booleans as they are, None as NULL."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return f"'{sql_str(str(value))}'"


def sql_list(values: Iterable[object]) -> str:
    """Constants as the items of `IN (...)` or a list literal's body."""
    return ", ".join(sql_literal(v) for v in values)


def path_literal(path: Path | str) -> str:
    """A file or folder path as a SQL string literal (COPY targets and view definitions take no parameters)."""
    return sql_literal(str(path))


def path_list(paths: Iterable[Path | str]) -> str:
    """Paths as a SQL list literal."""
    return "[" + ", ".join(path_literal(p) for p in paths) + "]"
