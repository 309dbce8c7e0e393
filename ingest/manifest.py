"""Per-partition manifests: what was read, written and quarantined, by which run, and when.

A partition's manifest is the authority on its files: readers take the file lists from it, never from a folder
listing. A new version of a partition is written under run-unique names beside the old one, then the manifest
is swapped in one `os.replace`, then the old files are removed: a reader sees the old partition or the new one,
never a mix, whenever a crash happens.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.layout import Layout, partition_dir


@dataclass
class PartitionResult:
    """What standardising one partition produced; the materialisation metadata and the manifest."""

    source: str
    key: str
    files: list[dict[str, Any]] = field(default_factory=list)
    rows_in: int = 0
    rows_out: int = 0
    readings_out: int = 0
    rows_quarantined: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    quarantine: list[str] = field(default_factory=list)
    unreadable: list[dict[str, Any]] = field(default_factory=list)  # files quarantined whole: name, size, sha, why
    top_rule: str | None = None  # the rule that quarantined the most rows
    example: dict[str, Any] = field(default_factory=dict)  # one quarantined row of the top rule: line, raw, detail

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_out + self.rows_quarantined


def content_id(outputs: list[str], quarantine: list[str]) -> str:
    """What a partition holds, in a few characters: its files have run-unique names, so their names do."""
    text = json.dumps({"outputs": sorted(outputs), "quarantine": sorted(quarantine)})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def write_manifest(layout: Layout, result: PartitionResult, run_id: str) -> Path:
    """Swap in a partition's manifest atomically (a run-unique temporary file, then `os.replace`)."""
    folder = layout.manifests(result.source)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.key}.json"
    record = {
        **asdict(result),
        "content": content_id(result.outputs, result.quarantine),
        "run_id": run_id,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    partial = path.with_suffix(f".{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
    partial.write_text(json.dumps(record, indent=1), encoding="utf-8")
    partial.replace(path)
    return path


def read_manifest(layout: Layout, source: str, key: str) -> dict[str, Any] | None:
    path = layout.manifests(source) / f"{key}.json"
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return record


def partition_files(layout: Layout, source: str, partitioning: str, key: str, kind: str = "standardised") -> list[Path]:
    """The files of a partition as its manifest lists them (`kind`: standardised or quarantine); none without one."""
    manifest = read_manifest(layout, source, key)
    if manifest is None:
        return []
    base = layout.standardised(source) if kind == "standardised" else layout.quarantine(source)
    names = manifest["outputs"] if kind == "standardised" else manifest["quarantine"]
    return [partition_dir(base, partitioning, key) / name for name in names]


def source_files(layout: Layout, source: str, partitioning: str) -> list[Path]:
    """The standardised files of every partition of a source, as their manifests list them."""
    return [
        partition_dir(layout.standardised(source), partitioning, m["key"]) / name
        for m in read_manifests(layout, source)
        for name in m["outputs"]
    ]


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
