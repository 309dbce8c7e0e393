"""A version's files and manifest: deterministic Parquet per split and a manifest that hashes them.

The same rows give the same bytes: rows are sorted by key, the writer's settings are fixed (zstd level 3,
dictionary encoding, one row group per 64k rows, no timestamps written by us), and the manifest holds no
timestamp or absolute path. `content_sha256` covers the data files only, so two builds from the same inputs
share it whatever their version number.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from config.layout import Layout

ROW_GROUP_SIZE = 65_536
MANIFEST = "manifest.json"


def write_split(path: Path, frame: pl.DataFrame) -> dict[str, Any]:
    """Write one split's Parquet with fixed settings; its manifest entry (path relative to the version)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = frame.to_arrow().replace_schema_metadata(None)
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        row_group_size=ROW_GROUP_SIZE,
        data_page_version="1.0",
        version="2.6",
        write_statistics=True,
    )
    data = path.read_bytes()
    return {
        "split": path.stem,
        "path": f"data/{path.name}",
        "sha256": hashlib.sha256(data).hexdigest(),
        "rows": table.num_rows,
        "bytes": len(data),
    }


def content_sha256(files: list[dict[str, Any]]) -> str:
    """sha256 over the sorted file hashes: the identity of a version's data."""
    return hashlib.sha256("".join(sorted(f["sha256"] for f in files)).encode()).hexdigest()


def arrow_schema(frame: pl.DataFrame, roles: dict[str, str], descriptions: dict[str, str]) -> list[dict[str, str]]:
    schema: pa.Schema = frame.to_arrow().schema
    return [
        {"name": f.name, "type": str(f.type), "role": roles[f.name], "description": descriptions.get(f.name, "")}
        for f in schema
    ]


def dumps(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def read_manifest(layout: Layout, version_dir: Path) -> dict[str, Any]:
    """A committed version's manifest (never rewritten: fetched once into this machine's cache on object storage)."""
    loaded: dict[str, Any] = json.loads(layout.fetch(version_dir / MANIFEST).read_text(encoding="utf-8"))
    return loaded
