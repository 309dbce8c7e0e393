"""Every gate run's evaluation per partition, kept as history (never overwritten).

`quality/<source>/<key>/<evaluated at>-<run id>.json`, with the rows its rules flagged beside it
(`.flags.parquet`): run-unique names, published and read through the layout's store, so another machine reads
the same history and its cached copies never go stale.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Any

from config.layout import Layout
from quality.errors import NotEvaluatedError
from quality.evaluate import PartitionEvaluation, RuleResult

FLAGS_SUFFIX = ".flags.parquet"


def path_for(layout: Layout, evaluation: PartitionEvaluation) -> Path:
    """Where an evaluation is kept; its flagged rows sit beside it (`.flags.parquet`)."""
    folder = layout.quality(evaluation.source) / evaluation.key
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{evaluation.evaluated_at.replace(':', '')}-{evaluation.run_id}.json"


def save(layout: Layout, evaluation: PartitionEvaluation) -> Path:
    """Keep an evaluation (last: whoever finds it, finds its flags file in place already)."""
    path = path_for(layout, evaluation)
    partial = _scratch(layout, path.name)
    partial.write_text(json.dumps(asdict(evaluation), indent=1, default=str), encoding="utf-8")
    layout.publish(partial, path)
    return path


def save_flags(layout: Layout, evaluation: PartitionEvaluation, flags: Path) -> Path:
    """Keep the finished flags file `flags` of an evaluation beside it (before the evaluation: see `save`)."""
    path = path_for(layout, evaluation).with_suffix(FLAGS_SUFFIX)
    layout.publish(flags, path)
    return path


def flags_file(layout: Layout, evaluation: PartitionEvaluation) -> Path:
    """The flagged rows of an evaluation, as a local path to read."""
    folder = layout.quality(evaluation.source) / evaluation.key
    matches = sorted(n for n in layout.names(folder) if n.endswith(f"-{evaluation.run_id}{FLAGS_SUFFIX}"))
    if not matches:
        raise NotEvaluatedError(evaluation.source, evaluation.key)
    return layout.fetch(folder / matches[-1])


def load(path: Path) -> PartitionEvaluation:
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    raw["results"] = [RuleResult(**r) for r in raw["results"]]
    return PartitionEvaluation(**raw)


def runs(layout: Layout, source: str, key: str) -> list[PartitionEvaluation]:
    """All evaluations of a partition, oldest first."""
    folder = layout.quality(source) / key
    return [load(layout.fetch(folder / name)) for name in _evaluations(layout.names(folder))]


def newest(layout: Layout, source: str, key: str) -> PartitionEvaluation | None:
    """The newest evaluation of a partition (None: never evaluated)."""
    folder = layout.quality(source) / key
    found = _evaluations(layout.names(folder))
    return load(layout.fetch(folder / found[-1])) if found else None


def latest(layout: Layout, source: str) -> list[PartitionEvaluation]:
    """The newest evaluation of each evaluated partition of a source."""
    base = layout.quality(source)
    by_key: dict[str, list[str]] = defaultdict(list)
    for name in layout.walk(base):
        path = PurePosixPath(name)
        if len(path.parts) == 2:
            by_key[path.parts[0]].append(path.name)
    found = []
    for key in sorted(by_key):
        names = _evaluations(by_key[key])
        if names:
            found.append(load(layout.fetch(base / key / names[-1])))
    return found


def _evaluations(names: list[str]) -> list[str]:
    """The evaluations among a partition's files, oldest first (names start with the time of the evaluation)."""
    return sorted(n for n in names if n.endswith(".json"))


def _scratch(layout: Layout, name: str) -> Path:
    folder = layout.scratch()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial"
