"""What `plantdata dataset list|show|diff` show: task datasets as the catalog lists them, one version's manifest,
and the difference between two versions (schema, rows by key, labels, quality, baseline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from catalog.listing import EFFECTIVE
from catalog.store import CatalogStore
from config.layout import Layout
from task_datasets.manifest import MANIFEST, read_manifest
from task_datasets.versions import version_dir

LIST_SQL = (
    EFFECTIVE
    + """
    SELECT t.dataset AS name, t.version, t.task, t.scenario, t.rows_per_split, g.grade AS security_grade,
           l.overall AS quality_overall, l.quality_grade, t.baseline_model, t.baseline_metric, t.baseline_value,
           t.adversarial_auc, t.split_method, t.label_provenance, v.location
    FROM task_dataset_versions t
    JOIN (SELECT dataset, max(version) AS version FROM task_dataset_versions GROUP BY dataset) m
        USING (dataset, version)
    JOIN versions v ON v.dataset = t.dataset AND v.version = t.version
    LEFT JOIN grades g ON g.dataset = t.dataset
    LEFT JOIN dataset_listing l ON l.name = t.dataset
    ORDER BY t.dataset
"""
)


def list_task_datasets(store: CatalogStore) -> list[dict[str, Any]]:
    """Each task dataset at its latest registered version: rows per split, grade, quality, baseline."""
    if store.current() is None:
        return []
    with store.reader() as con:
        cursor = con.execute(LIST_SQL)
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    for row in rows:
        row["rows_per_split"] = json.loads(row["rows_per_split"])
        row["label_provenance"] = json.loads(row["label_provenance"])
    return rows


def show(layout: Layout, name: str, version: int | None = None) -> dict[str, Any]:
    """One version's manifest, with its folder and documents (as the store lists them)."""
    folder = version_dir(layout, name, version)
    manifest = read_manifest(layout, folder)
    documents = [n for n in layout.names(folder) if n != MANIFEST]
    return {"folder": str(folder), "documents": documents, **manifest}


def diff(layout: Layout, name: str, old: int, new: int) -> dict[str, Any]:
    """Schema changes, rows added/removed/changed per split by the key column, label shift, quality, baseline."""
    a_dir, b_dir = version_dir(layout, name, old), version_dir(layout, name, new)
    a, b = read_manifest(layout, a_dir), read_manifest(layout, b_dir)
    return {
        "name": name,
        "from": old,
        "to": new,
        "same_content": a["content_sha256"] == b["content_sha256"],
        "schema": _schema(a["schema"], b["schema"]),
        "rows": _rows(layout, a_dir, b_dir, a, b),
        "labels": _labels(a["splits"]["class_balance"], b["splits"]["class_balance"]),
        "quality": _change(a["quality"], b["quality"], ("overall", "grade"), "overall"),
        "baseline": _change(a.get("baseline") or {}, b.get("baseline") or {}, ("model", "metric", "value"), "value"),
        "sources": {
            "from": {s["dataset"]: s["version"] for s in a["sources"]},
            "to": {s["dataset"]: s["version"] for s in b["sources"]},
        },
    }


def _schema(a: list[dict[str, str]], b: list[dict[str, str]]) -> dict[str, Any]:
    old, new = {c["name"]: c for c in a}, {c["name"]: c for c in b}
    return {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "changed": [
            {
                "column": n,
                "from": {"type": old[n]["type"], "role": old[n]["role"]},
                "to": {"type": new[n]["type"], "role": new[n]["role"]},
            }
            for n in sorted(set(old) & set(new))
            if (old[n]["type"], old[n]["role"]) != (new[n]["type"], new[n]["role"])
        ],
    }


def _rows(layout: Layout, a_dir: Path, b_dir: Path, a: dict[str, Any], b: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per split: rows whose key is only in the old version (removed), only in the new (added), in both with
    different values (changed, by a hash of the row), and unchanged."""
    key = next((c["name"] for c in b["schema"] if c["role"] == "key"), None)
    splits = sorted({f["split"] for f in a["files"]} | {f["split"] for f in b["files"]})
    out = {}
    for split in splits:
        old, new = _row_hashes(layout, a_dir, a, split, key), _row_hashes(layout, b_dir, b, split, key)
        common = set(old) & set(new)
        changed = sum(1 for k in common if old[k] != new[k])
        out[split] = {
            "added": len(set(new) - set(old)),
            "removed": len(set(old) - set(new)),
            "changed": changed,
            "unchanged": len(common) - changed,
        }
    return out


def _row_hashes(layout: Layout, folder: Path, manifest: dict[str, Any], split: str, key: str | None) -> dict[str, int]:
    entry = next((f for f in manifest["files"] if f["split"] == split), None)
    if entry is None:
        return {}
    frame = pl.read_parquet(layout.fetch(folder / entry["path"]))
    keys = frame[key].cast(pl.String) if key and key in frame.columns else frame.hash_rows().cast(pl.String)
    return dict(zip(keys.to_list(), frame.hash_rows(seed=0).to_list(), strict=True))


def _labels(a: dict[str, dict[str, int]], b: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Per split: each class's rows before and after, and the total variation distance of the two distributions
    (0: same shares, 1: disjoint)."""
    out: dict[str, Any] = {}
    for split in sorted(set(a) | set(b)):
        old, new = a.get(split, {}), b.get(split, {})
        classes = sorted(set(old) | set(new))
        total_old, total_new = sum(old.values()) or 1, sum(new.values()) or 1
        distance = 0.5 * sum(abs(old.get(c, 0) / total_old - new.get(c, 0) / total_new) for c in classes)
        out[split] = {
            "classes": {c: {"from": old.get(c, 0), "to": new.get(c, 0)} for c in classes},
            "total_variation": round(distance, 4),
        }
    return out


def _change(a: dict[str, Any], b: dict[str, Any], keys: tuple[str, ...], measure: str) -> dict[str, Any]:
    """Both sides' `keys`, and the change of the numeric `measure` when both have it."""
    out: dict[str, Any] = {"from": {k: a.get(k) for k in keys}, "to": {k: b.get(k) for k in keys}}
    before, after = a.get(measure), b.get(measure)
    if isinstance(before, int | float) and isinstance(after, int | float):
        out["delta"] = round(after - before, 4)
    return out
