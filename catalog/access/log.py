"""The access log: every view, search, download, refusal, sign-in, access request and decision in the web catalog,
append only, as a hash chain like the catalog's own audit log (publications and overrides, `catalog.audit`).

Appends come from every request of the server, so they cannot each publish a catalog snapshot: the log is a JSON
lines file (`access/audit.jsonl`), appended in a turn (`config.locks.exclusive`), each entry carrying the hash of
the one before. `verify` names the first broken link. Each process keeps what it has read, and reads on from where
it stopped.

With a data root on object storage the log stays in this machine's working folder (`layout.access()`), one chain
per machine: object storage has no append, and a log shared by several web servers needs another shape (an object
per entry, created only if its number is free, and a checkpoint so a new process does not read every entry).
Credentials, access requests and the session key do live in the store (`catalog.access.state`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.audit import GENESIS, ChainReport, entry_hash, verify_rows
from config.locks import exclusive


@dataclass(frozen=True)
class Entry:
    seq: int
    happened_at: datetime
    actor: str
    action: str
    dataset: str | None
    version: int | None
    detail: str | None
    prev_hash: str
    hash: str

    def row(self) -> tuple[Any, ...]:
        return (self.seq, self.happened_at, self.actor, self.action, self.dataset, self.version, self.detail,
                self.prev_hash, self.hash)  # fmt: skip


def _entry(line: bytes) -> Entry:
    raw = json.loads(line)
    return Entry(**{**raw, "happened_at": datetime.fromisoformat(raw["happened_at"])})


class AccessLog:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "audit.jsonl"
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._offset = 0

    def _read_on(self) -> None:
        """Read the entries appended since this process last looked (call with `_lock` held)."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return
        complete = data[: data.rfind(b"\n") + 1]  # a line being written by another process is read next time
        for line in complete.splitlines():
            if line.strip():
                self._entries.append(_entry(line))
        self._offset += len(complete)

    def append(self, actor: str, action: str, dataset: str | None = None, version: int | None = None,
               detail: dict[str, Any] | str | None = None) -> Entry:  # fmt: skip
        """Write one entry after the newest, chained to it; returns it once it is in the file."""
        text = detail if isinstance(detail, str) or detail is None else json.dumps(detail, ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, exclusive(self.path.with_name(".audit.jsonl.lock")):
            self._read_on()
            last = self._entries[-1] if self._entries else None
            seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
            now = datetime.now(UTC)
            digest = entry_hash(seq, now, actor, action, dataset, version, text, prev)
            entry = Entry(seq, now, actor, action, dataset, version, text, prev, digest)
            line = {**entry.__dict__, "happened_at": now.isoformat()}
            with open(self.path, "ab") as handle:
                handle.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            self._read_on()
            return entry

    def entries(self) -> Sequence[Entry]:
        """Every entry, oldest first."""
        with self._lock:
            self._read_on()
            return list(self._entries)

    def verify(self) -> ChainReport:
        """Walk the whole file as it is now (not this process's memory of it) and name the first broken link."""
        try:
            lines = [line for line in self.path.read_bytes().splitlines() if line.strip()]
        except FileNotFoundError:
            return ChainReport(0, None, None)
        rows: list[tuple[Any, ...]] = []
        for number, line in enumerate(lines, start=1):
            try:
                rows.append(_entry(line).row())
            except (ValueError, TypeError, KeyError) as error:
                return ChainReport(len(lines), number, f"line {number} of {self.path} is not an entry: {error}")
        return verify_rows(rows)
