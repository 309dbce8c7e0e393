"""SQL pieces every pass over an export file shares: its ENUM types, its UTC time and its partition key."""

from __future__ import annotations

import duckdb

from ingest.columns import quote_ident
from ingest.plan import ScanPlan


def declare_enum(con: duckdb.DuckDBPyConnection, plan: ScanPlan) -> None:
    """(Re)declare the ENUM types the plan's SQL refers to; names are constants, values are parameters. They are
    TEMP: a connection's own, never seen by another connection to the same database (ingest.scan_db)."""
    for name, values in plan.enums.items():
        con.execute(f"DROP TYPE IF EXISTS {name}")
        con.execute(f"CREATE TEMP TYPE {name} AS ENUM (SELECT unnest(?::VARCHAR[]))", [list(values)])


def with_utc(plan: ScanPlan, scan: str) -> str:
    """`scan` with wide columns unpivoted into tag/value rows and the plan's derived values (UTC time as `_utc`,
    typed tag, quality code and class) computed once per row."""
    if plan.unpivot:
        columns = ", ".join(quote_ident(c) for c in plan.unpivot)
        scan = f"(SELECT * FROM {scan} u UNPIVOT INCLUDE NULLS (value FOR tag IN ({columns})))"
    return with_derived(plan, scan)


def with_derived(plan: ScanPlan, scan: str) -> str:
    """`scan` with the plan's derived values but without unpivoting: rules of input rows (wide: time only)."""
    for layer in sorted({layer for _, _, layer in plan.derived}):
        derived = ", ".join(f"{sql} AS {name}" for name, sql, at in plan.derived if at == layer)
        scan = f"(SELECT *, {derived} FROM {scan} s)"
    return scan


def partition_expr(plan: ScanPlan) -> str:
    """The partition key as text: the row's UTC day, or the file's key (a parameter) for file partitions."""
    return f"({plan.partition_sql})::VARCHAR" if plan.partition_sql != "NULL" else "?::VARCHAR"
