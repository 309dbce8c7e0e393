"""Recount a published partition from its files: the evidence behind the rows-balance asset check.

Rows in come from the index, whose per-partition counts are the standardiser's own typed pass for most CSV files;
what makes the balance a proof is that, for every text file feeding the partition, those counts add up to the
file's raw line count, taken from its bytes by something that cannot make the parser's mistakes."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from config.kinds import SourceKind
from config.layout import Layout
from config.sources import SourceConfig
from ingest.index import IndexedFile
from ingest.manifest import partition_files


@dataclass(frozen=True)
class Balance:
    key: str
    rows_in: int  # from the index: independent of the standardiser
    rows_out: int  # from the published Parquet
    rows_quarantined: int  # from the quarantine Parquet
    unbalanced_files: tuple[str, ...] = ()  # text files whose rows per partition do not add up to their raw lines

    @property
    def ok(self) -> bool:
        return self.rows_in == self.rows_out + self.rows_quarantined and not self.unbalanced_files


def _matches_raw_lines(file: IndexedFile) -> bool:
    """A file read by DuckDB's reader (or quarantined whole) has one row per raw line; one read record by record
    may hold fewer (a record spanning lines), and JSON lines and Parquet have no raw line count here."""
    if file.reader not in {"csv", "none"} or file.lines is None:
        return True
    return sum(file.partitions.values()) == file.lines


def recount(source: SourceConfig, files: list[IndexedFile], key: str, layout: Layout) -> Balance:
    rows_in = sum(f.partitions.get(key, 0) for f in files)
    unbalanced = tuple(f.name for f in files if key in f.partitions and not _matches_raw_lines(f))
    # listed by the manifest and still there (a listed file that is gone counts nothing: the balance fails);
    # the standardiser's quarantine only: gate-*.parquet holds rows the quality gate removed later
    good = partition_files(layout, source.name, source.partitioning, key, skip_missing=True)
    bad = partition_files(layout, source.name, source.partitioning, key, kind="quarantine", skip_missing=True)
    con = duckdb.connect()
    try:
        rows_out = 0
        if good:
            if source.kind is SourceKind.HISTORIAN_WIDE:  # one input row became one reading per tag
                sql = (
                    "SELECT COALESCE(sum(n // w), 0) FROM (SELECT count(*) AS n, count(DISTINCT tag) AS w "
                    "FROM read_parquet(?) GROUP BY source_file)"
                )
            else:
                sql = "SELECT count(*) FROM read_parquet(?)"
            found = con.execute(sql, [[str(p) for p in good]]).fetchone()
            rows_out = int(found[0]) if found else 0
        quarantined = 0
        if bad:
            # a file quarantined whole is one record standing for all its rows
            found = con.execute(
                "SELECT COALESCE(sum(rows), 0) FROM read_parquet(?, union_by_name = true)", [[str(p) for p in bad]]
            ).fetchone()
            quarantined = int(found[0]) if found else 0
    finally:
        con.close()
    return Balance(key, rows_in, rows_out, quarantined, unbalanced)
