"""Every gate run's evaluation per partition, kept as history (never overwritten)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from config.layout import Layout
from quality.evaluate import PartitionEvaluation, RuleResult


def path_for(layout: Layout, evaluation: PartitionEvaluation) -> Path:
    """Where an evaluation is kept; its flagged rows sit beside it (`.flags.parquet`)."""
    folder = layout.quality(evaluation.source) / evaluation.key
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{evaluation.evaluated_at.replace(':', '')}-{evaluation.run_id}.json"


def save(layout: Layout, evaluation: PartitionEvaluation) -> Path:
    """Keep an evaluation (last: whoever finds it, finds its flags file in place already)."""
    path = path_for(layout, evaluation)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(json.dumps(asdict(evaluation), indent=1, default=str), encoding="utf-8")
    partial.replace(path)
    return path


def load(path: Path) -> PartitionEvaluation:
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    raw["results"] = [RuleResult(**r) for r in raw["results"]]
    return PartitionEvaluation(**raw)


def runs(layout: Layout, source: str, key: str) -> list[PartitionEvaluation]:
    """All evaluations of a partition, oldest first."""
    folder = layout.quality(source) / key
    return [load(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def latest(layout: Layout, source: str) -> list[PartitionEvaluation]:
    """The newest evaluation of each evaluated partition of a source."""
    base = layout.quality(source)
    if not base.is_dir():
        return []
    found = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        newest = sorted(folder.glob("*.json"))
        if newest:
            found.append(load(newest[-1]))
    return found
