"""A version's manifest (the shared contract's keys) and the facts its documents get: what the data holds, where
it came from, how it was labelled and split, the baseline, quality, security and personal data."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from task_datasets import baseline as baselines
from task_datasets import labels as label_sources
from task_datasets import manifest as files
from task_datasets import registry, splits
from task_datasets.examples import KEY, Inputs
from task_datasets.sequences import SEQUENCE
from task_datasets.spec import RecordsSpec, TaskSpec
from task_datasets.windows import feature_name

DATA_TYPE = {"records": "free_text", "windows": "time_series", "sequence": "time_series"}
MODALITY = {"records": "text", "windows": "time_series", "sequence": "time_series"}


def compose_manifest(
    spec: TaskSpec,
    spec_sha: str,
    version: int,
    entries: list[dict[str, Any]],
    content: str,
    frame: pl.DataFrame,
    roles: dict[str, str],
    inputs: Inputs,
) -> dict[str, Any]:
    target = spec.target
    published = frame.drop(splits.SPLIT)
    features = [c for c, r in roles.items() if r == "feature"]
    text = next((c for c, r in roles.items() if r == "text"), None)
    train = published.filter(frame[splits.SPLIT] == "train")
    test = published.filter(frame[splits.SPLIT] == "test")
    baseline = (
        baselines.train_and_score(spec.baseline, train, test, features, text, target.column) if spec.baseline else None
    )
    auc = splits.adversarial_auc(frame, lambda f: _encode(f, features, text))
    provenance = dict(sorted(published[label_sources.PROVENANCE].value_counts().iter_rows()))
    found = sorted(i.dataset for i in inputs.sources.values() if i.personal_data_findings)
    personal = bool(found and text)  # only published text can carry what the sources' scan found
    first_source = next(iter(inputs.sources.values()))
    return {
        "name": spec.name,
        "version": version,
        "title": spec.title,
        "description": spec.description,
        "task": spec.task,
        "scenario": spec.scenario.value,
        "license": spec.license,
        "spec_sha256": spec_sha,
        "code_version": code_version(),
        "content_sha256": content,
        "files": entries,
        "schema": files.arrow_schema(published, roles, _descriptions(spec)),
        "target": {"column": target.column, "kind": target.kind, "classes": list(target.classes)},
        "sources": [i.manifest_entry() for i in sorted(inputs.all, key=lambda i: i.dataset)],
        "labels": {
            "precedence": list(spec.labels.precedence) if spec.labels else ["work_orders"],
            "provenance": {str(k): int(v) for k, v in provenance.items()},
            "projects": [
                {
                    "project": project,
                    "version": released.version,
                    "agreement": _agreement(released.progress),
                    "annotators": int(released.progress.get("annotators") or 0),
                }
                for project, released in sorted(inputs.projects.items())
            ],
        },
        "splits": {
            "method": spec.splits.method,
            "group_by": spec.splits.group_by,
            "gap": spec.splits.gap,
            "boundaries": _boundaries(spec, frame),
            "class_balance": splits.class_balance(frame, target.column, target.classes),
            "disjoint": True,
            "adversarial_auc": auc,
            "texts_seen_in_train": splits.texts_seen_in_train(frame, text) if text else None,
        },
        "baseline": baseline,
        "quality": registry.quality([i for i in inputs.all if i.quality]),
        "security": registry.security(inputs.all),
        "classification": {
            "data_type": DATA_TYPE[spec.examples.kind],
            "modality": MODALITY[spec.examples.kind],
            "domain": first_source.classes.get("domain", "operation_maintenance"),
            "source_systems": sorted({i.source_system for i in inputs.all}),
            "scenario": spec.scenario.value,
        },
        "personal_data": {
            "present": personal,
            "treatment": f"found in {', '.join(found)} and pseudonymised in those releases before this build"
            + ("" if personal else "; no text column of theirs is published here")
            if found
            else "none found in the source releases",
            "columns": [text] if personal and text else [],
        },
    }


def _agreement(progress: dict[str, Any]) -> float | None:
    """Krippendorff's alpha of the project, else its mean task agreement (segment tasks have no alpha)."""
    value = progress.get("alpha")
    if value is None:
        value = progress.get("mean_task_agreement")
    return None if value is None else round(float(value), 4)


def _boundaries(spec: TaskSpec, frame: pl.DataFrame) -> dict[str, Any]:
    """What the spec asked and the time span and groups each split ended up with."""
    out: dict[str, Any] = {}
    for name in splits.SPLITS:
        rows = frame.filter(pl.col(splits.SPLIT) == name)
        if rows.is_empty():
            continue
        out[name] = {
            "start": rows["window_start"].min().isoformat(),  # type: ignore[union-attr]
            "end": rows["window_end"].max().isoformat(),  # type: ignore[union-attr]
            "groups": sorted(set(rows[splits.GROUP].cast(pl.String).to_list())),
        }
    return out


def _encode(frame: pl.DataFrame, features: list[str], text: str | None) -> Any:
    if text is not None:
        from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

        return TfidfVectorizer().fit_transform(frame[text].fill_null("").to_list())
    from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]

    return SimpleImputer(strategy="median", keep_empty_features=True).fit_transform(
        baselines.features_matrix(frame, features)
    )


def _descriptions(spec: TaskSpec) -> dict[str, str]:
    out = {
        KEY: "stable id of the example (equipment|entity|window start, or the record's key)",
        "window_start": "start of the example's time span (UTC, inclusive)",
        "window_end": "end of the example's time span (UTC, exclusive)",
        "equipment": "equipment id from the asset register (ISA-95)",
        splits.GROUP: f"the split group ({spec.splits.group_by or 'equipment'})",
        "entity": "the source file (experiment) the readings came from",
        SEQUENCE: "position of the window in its equipment's sequence up to the failure",
        spec.target.column: f"target ({spec.target.kind})",
        label_sources.PROVENANCE: "which label source decided the target (see labels.precedence)",
    }
    if isinstance(spec.examples, RecordsSpec):
        out[spec.examples.text] = "free text, pseudonymised in the source release"
    else:
        for signal in spec.examples.signals:
            for aggregate in spec.examples.aggregates:
                out[feature_name(signal, aggregate)] = (
                    f"{aggregate} of {signal} over the window ({spec.examples.resample} resampled)"
                )
    return out


def document_facts(spec: TaskSpec, frame: pl.DataFrame) -> dict[str, Any]:
    """The spec's prose facts; the publication date is the day of the newest example (from the inputs, never the
    clock, so the same inputs give the same documents)."""
    facts: dict[str, Any] = dict(spec.facts)
    facts.setdefault("creator", "plantdata")
    newest: Any = frame["window_end"].max()
    facts.setdefault("date_published", newest.date().isoformat())
    return facts


def code_version() -> str:
    """The package version and a hash of this package's code: the same code gives the same string."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    try:
        version = metadata.version("plantdata")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"{version}+{digest.hexdigest()[:12]}"
