"""Per-partition manifests: what was read, written and quarantined, by which run, and when."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.layout import Layout
from ingest.standardise import PartitionResult


def write_manifest(layout: Layout, result: PartitionResult, run_id: str) -> Path:
    folder = layout.manifests(result.source)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.key}.json"
    record = {**asdict(result), "run_id": run_id, "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(json.dumps(record, indent=1), encoding="utf-8")
    partial.replace(path)
    return path


def read_manifests(layout: Layout, source: str) -> list[dict[str, Any]]:
    folder = layout.manifests(source)
    if not folder.is_dir():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
