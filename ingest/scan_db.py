"""One in-memory DuckDB per process for the scans that type export files into standardised Parquet.

Opening a DuckDB database of its own costs 11-16 ms and closing it after a large write as much again (its threads
and buffer pool go with it); a file's scan and its standardising each paid that, a fixed cost per export file that
was a tenth of ingesting a million rows. A connection to a database already open (a cursor) costs microseconds.
Everything a scan creates is connection-local: its temporary tables, the CSV reader's rejects tables and its ENUM
types (`ingest.plan_sql.declare_enum` declares them TEMP), so scans running side by side never see each other's.

The database keeps DuckDB's unordered writes (`preserve_insertion_order = false`, a database-wide setting): only
scans that do not depend on row order use it. A process forked from one that opened it opens its own, and leaves
the inherited one alone: its threads stayed in the parent, and closing it would wait for them forever.
"""

from __future__ import annotations

import os
import threading

import duckdb

# Unordered writes; and the allocator's background threads, which hand the memory of a finished scan back to the
# system within a second or two (a database closed after each scan used to do that; without them this process kept
# about 150 MB more after a 10M-row scan).
_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "preserve_insertion_order": False,
    "allocator_background_threads": True,
}


class _ScanDatabase:
    """The process's database, opened on first use; a forked child's copy of it is left alone."""

    def __init__(self) -> None:
        self._opening = threading.Lock()
        self._pid = 0
        self._con: duckdb.DuckDBPyConnection | None = None
        self._inherited: list[duckdb.DuckDBPyConnection] = []  # a forked parent's: closing it would wait forever

    def connect(self) -> duckdb.DuckDBPyConnection:
        with self._opening:
            if self._con is not None and self._pid != os.getpid():
                self._inherited.append(self._con)  # its threads did not come along: never close it, never use it
                self._con = None
            if self._con is None:
                self._con = self._open()
            try:
                return self._con.cursor()
            except duckdb.Error:  # invalidated by a fatal error in an earlier scan: open it again
                self._con = self._open()
                return self._con.cursor()

    def _open(self) -> duckdb.DuckDBPyConnection:
        self._pid = os.getpid()
        return duckdb.connect(":memory:", config=_CONFIG)


_DATABASE = _ScanDatabase()


def scan_connection() -> duckdb.DuckDBPyConnection:
    """A new connection (UTC session) to this process's scan database; close it when done."""
    con = _DATABASE.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con
