"""Per-partition manifests: what was read, written and quarantined, by which run, and when."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.layout import Layout
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


def summarise(layout: Layout, source: str) -> dict[str, Any]:
    """Per-source totals over its published partitions."""
    manifests = read_manifests(layout, source)
    rules: dict[str, int] = {}
    for manifest in manifests:
        for rule, count in manifest["rules"].items():
            rules[rule] = rules.get(rule, 0) + count
    return {
        "source": source,
        "partitions": len(manifests),
        "files": len({f["name"] for m in manifests for f in m["files"]}),
        "rows_in": sum(m["rows_in"] for m in manifests),
        "rows_out": sum(m["rows_out"] for m in manifests),
        "rows_quarantined": sum(m["rows_quarantined"] for m in manifests),
        "balanced": all(m["rows_in"] == m["rows_out"] + m["rows_quarantined"] for m in manifests),
        "rules": rules,
        "unreadable_files": sorted({u["file"] for m in manifests for u in m.get("unreadable", [])}),
    }
