"""The audit log as a hash chain: each entry carries the hash of the one before, so an edited, removed or
reordered entry breaks the chain from there on, and `verify` names the first broken link.

Entries are appended only through `append`, inside a publisher's turn (one writer at a time), so the chain has
no forks. The hash covers every field of the entry and the previous hash, as canonical JSON.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

GENESIS = "0" * 64


def entry_hash(seq: int, happened_at: datetime, actor: str, action: str, dataset: str | None, version: int | None,
               detail: str | None, prev_hash: str) -> str:  # fmt: skip
    canonical = json.dumps(
        [seq, happened_at.astimezone(UTC).isoformat(), actor, action, dataset, version, detail, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(
    con: duckdb.DuckDBPyConnection,
    happened_at: datetime,
    actor: str,
    action: str,
    dataset: str | None,
    version: int | None,
    detail: str | None,
) -> None:
    """Append one entry after the newest, chained to it (call inside the publisher's turn)."""
    last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
    digest = entry_hash(seq, happened_at, actor, action, dataset, version, detail, prev)
    con.execute(
        "INSERT INTO audit_log (happened_at, actor, action, dataset, version, detail, seq, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [happened_at, actor, action, dataset, version, detail, seq, prev, digest],
    )


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_broken: int | None  # the seq of the first entry whose link or content does not hold
    reason: str | None


def verify(con: duckdb.DuckDBPyConnection) -> ChainReport:
    """Walk the chain in order; report the first entry that was edited, removed after, or moved."""
    rows: list[tuple[Any, ...]] = con.execute(
        "SELECT seq, happened_at, actor, action, dataset, version, detail, prev_hash, hash FROM audit_log ORDER BY seq"
    ).fetchall()
    return verify_rows(rows)


def verify_rows(rows: list[tuple[Any, ...]]) -> ChainReport:
    """The chain check over rows (seq, happened_at, actor, action, dataset, version, detail, prev_hash, hash)."""
    prev = GENESIS
    for expected, row in enumerate(rows, start=1):
        seq, happened_at, actor, action, dataset, version, detail, prev_hash, digest = row
        if seq != expected:
            return ChainReport(len(rows), expected, f"entry {expected} is missing (next is {seq})")
        if prev_hash != prev:
            return ChainReport(len(rows), seq, f"entry {seq} does not point at entry {seq - 1}")
        if entry_hash(seq, happened_at, actor, action, dataset, version, detail, prev_hash) != digest:
            return ChainReport(len(rows), seq, f"entry {seq} was changed after it was written")
        prev = digest
    return ChainReport(len(rows), None, None)


BACKFILL = """
    UPDATE audit_log SET seq = numbered.seq FROM (
        SELECT rowid AS id, row_number() OVER (ORDER BY happened_at, rowid) AS seq FROM audit_log
    ) numbered WHERE audit_log.rowid = numbered.id
"""


def chain_existing(con: duckdb.DuckDBPyConnection) -> None:
    """Give entries written before the chain existed their sequence numbers and hashes, oldest first."""
    con.execute(BACKFILL)
    prev = GENESIS
    rows = con.execute(
        "SELECT seq, happened_at, actor, action, dataset, version, detail FROM audit_log ORDER BY seq"
    ).fetchall()
    for seq, happened_at, actor, action, dataset, version, detail in rows:
        digest = entry_hash(seq, happened_at, actor, action, dataset, version, detail, prev)
        con.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", [prev, digest, seq])
        prev = digest
