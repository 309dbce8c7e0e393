"""Committing a file: a reader sees the old content or the new, never part of it.

The one place plantdata replaces small local state files (cursors, pulled annotations): a run-unique temporary
file beside the target and `os.replace`. This is `config.storage.LocalStorage.commit_bytes`; its object-storage
counterpart, `ObjectStorage.commit_bytes`, is a single PUT (atomic per object).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _partial(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")


def commit_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step."""
    partial = _partial(path)
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def commit_parquet(path: Path, table: pa.Table) -> None:
    """Replace `path` with `table` as zstd Parquet in one step."""
    partial = _partial(path)
    try:
        pq.write_table(table, partial, compression="zstd")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
