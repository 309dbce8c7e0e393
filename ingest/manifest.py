"""Per-partition manifests: what was read, written and quarantined, by which run, and when.

A partition's manifest is the authority on its files: readers take the file lists from it, never from a folder
listing. A new version of a partition is written under run-unique names beside the old one, then the manifest
is swapped in one step (`os.replace` on a folder, one PUT on object storage), then the old files are removed: a
reader sees the old partition or the new one, never a mix, whenever a crash happens.

Manifests are the data root's mutable records: they are read from the layout's store every time (never from this
machine's cache), and the files they list are fetched through the layout, so the same calls serve a folder and an
`s3://` data root.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.layout import Layout, partition_dir
from ingest.side_by_side import each


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
    """Swap in a partition's manifest in one step (a reader on any machine sees the old one or the new)."""
    path = manifest_path(layout, result.source, result.key)
    record = {
        **asdict(result),
        "content": content_id(result.outputs, result.quarantine),
        "run_id": run_id,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    layout.commit_text(path, json.dumps(record, indent=1))
    return path


def manifest_path(layout: Layout, source: str, key: str) -> Path:
    return layout.manifests(source) / f"{key}.json"


def read_manifest(layout: Layout, source: str, key: str) -> dict[str, Any] | None:
    """A partition's manifest, from the store; None when the partition has none."""
    text = layout.read_text(manifest_path(layout, source, key))
    if text is None:
        return None
    record: dict[str, Any] = json.loads(text)
    return record


def manifest_keys(layout: Layout, source: str) -> list[str]:
    """The partitions of a source that have a manifest (sorted), from the store's listing."""
    return [name.removesuffix(".json") for name in layout.names(layout.manifests(source)) if name.endswith(".json")]


def read_manifests(layout: Layout, source: str) -> list[dict[str, Any]]:
    """Every manifest of a source, in partition order (one removed meanwhile is left out)."""
    found = each(layout, lambda key: read_manifest(layout, source, key), manifest_keys(layout, source))
    return [manifest for manifest in found if manifest is not None]


def partition_files(
    layout: Layout,
    source: str,
    partitioning: str,
    key: str,
    kind: str = "standardised",
    *,
    skip_missing: bool = False,
) -> list[Path]:
    """The files of a partition as its manifest lists them (`kind`: standardised or quarantine), as local paths to
    read (fetched into this machine's cache from object storage); none without a manifest.

    A listed file that is gone raises FileNotFoundError on object storage (a folder's path is returned as it is, as
    before); with `skip_missing` it is left out instead, so a recount sees what is really there."""
    manifest = read_manifest(layout, source, key)
    if manifest is None:
        return []
    names = manifest["outputs"] if kind == "standardised" else manifest["quarantine"]
    folder = _folder(layout, source, kind, partitioning, key)
    return _fetched(layout, [folder / name for name in names], skip_missing)


def source_files(layout: Layout, source: str, partitioning: str) -> list[Path]:
    """The standardised files of every partition of a source, as their manifests list them (local paths to read)."""
    targets = [
        _folder(layout, source, "standardised", partitioning, m["key"]) / name
        for m in read_manifests(layout, source)
        for name in m["outputs"]
    ]
    return _fetched(layout, targets)


def _folder(layout: Layout, source: str, kind: str, partitioning: str, key: str) -> Path:
    base = layout.standardised(source) if kind == "standardised" else layout.quarantine(source)
    return partition_dir(base, partitioning, key)


def _fetched(layout: Layout, targets: list[Path], skip_missing: bool = False) -> list[Path]:
    def fetch(target: Path) -> Path | None:
        try:
            path = layout.fetch(target)
        except FileNotFoundError:
            if not skip_missing:
                raise
            return None
        return path if not skip_missing or path.exists() else None

    return [path for path in each(layout, fetch, targets) if path is not None]


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
