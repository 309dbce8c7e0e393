"""Build a task dataset version from its spec: `build(spec_path, layout) -> BuildResult`.

Reads the named releases through one catalog snapshot (refusing partitions the gate failed), cuts examples
(windows, sequences or records), labels them with provenance and precedence, splits them without leakage
(refusing a spec that would leak), writes deterministic Parquet per split, the manifest, the baseline, the
documents (datasheet, Croissant), commits the folder by one rename under the dataset's lock and registers it in
the catalog. Unchanged inputs, spec and code: no new version, the latest is returned (`new=False`).
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from catalog.store import CatalogStore
from config.layout import Layout
from config.locks import exclusive
from task_datasets import baseline as baselines
from task_datasets import labels as label_sources
from task_datasets import manifest as files
from task_datasets import registry, splits, versions
from task_datasets.errors import TaskDatasetError
from task_datasets.inputs import LABELS_PREFIX, ReleasedInput, resolve
from task_datasets.records import build_records
from task_datasets.register import EMPTY, load_register
from task_datasets.sequences import SEQUENCE, rul_targets
from task_datasets.spec import RecordsSpec, SequenceSpec, TaskSpec, load_spec, spec_sha256
from task_datasets.windows import build_windows, feature_name

KEY = "example_key"
DATA_TYPE = {"records": "free_text", "windows": "time_series", "sequence": "time_series"}
MODALITY = {"records": "text", "windows": "time_series", "sequence": "time_series"}


@dataclass(frozen=True)
class BuildResult:
    name: str
    version: int
    folder: Path
    new: bool
    content_sha256: str


@dataclass
class Inputs:
    """The releases a spec names, by its `sources` keys, and the label projects' releases by project."""

    sources: dict[str, ReleasedInput]
    projects: dict[str, ReleasedInput]

    @property
    def all(self) -> list[ReleasedInput]:
        return [*self.sources.values(), *self.projects.values()]


def build(spec_path: Path, layout: Layout, run_id: str = "cli") -> BuildResult:
    spec = load_spec(spec_path)
    store = CatalogStore(layout.catalog())
    inputs = _resolve(spec, store, layout)
    frame, roles = examples(spec, inputs)
    assigned = splits.assign_splits(frame, spec.splits)
    splits.check_disjoint(assigned, spec.splits, KEY)
    folder = versions.dataset_dir(layout, spec.name)
    spec_sha = spec_sha256(spec_path)
    with exclusive(versions.lock_file(layout, spec.name)):  # staging, numbering and commit: one build at a time
        versions.remove_leftovers(layout, spec.name)
        _register_missing(layout, store, spec.name)
        staging = folder / f".v-{uuid.uuid4().hex[:12]}{versions.PARTIAL}"
        try:
            entries = _write_data(staging, assigned, roles)
            content = files.content_sha256(entries)
            same = versions.same_as_latest(layout, spec.name, content, spec_sha, code_version())
            if same is not None:
                return BuildResult(spec.name, same, folder / f"v{same}", new=False, content_sha256=content)
            numbers = versions.version_numbers(layout, spec.name)
            number = max([0, *numbers, *registry.registered_versions(store, spec.name)]) + 1
            manifest = _manifest(spec, spec_sha, number, entries, content, assigned, roles, inputs)
            (staging / "manifest.json").write_text(files.dumps(manifest), encoding="utf-8")
            from task_datasets.documents import write_documents

            write_documents(staging, manifest, _facts(spec, assigned))
            target = folder / f"v{number}"
            versions.promote(staging, target)
            registry.register_version(store, target, manifest, run_id)
            return BuildResult(spec.name, number, target, new=True, content_sha256=content)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def examples(spec: TaskSpec, inputs: Inputs) -> tuple[pl.DataFrame, dict[str, str]]:
    """The labelled examples (one row each, with `group` and `example_key`) and each column's role."""
    cut = spec.examples
    if isinstance(cut, RecordsSpec):
        frame = build_records(inputs.sources[cut.source], cut)
        frame = frame.with_columns(pl.col(cut.key).cast(pl.String).alias(KEY))
    else:
        register = load_register(inputs.sources[cut.asset_register]) if cut.asset_register else EMPTY
        by_entity = spec.splits.group_by == "entity"
        frame = build_windows(
            inputs.sources[cut.readings], register, cut, by_entity, label_sources.rule_signals(spec.labels)
        )
        if spec.splits.group_by in ("unit", "line"):
            level = spec.splits.group_by
            frame = frame.with_columns(
                pl.col("equipment")
                .map_elements(lambda e: register.ancestor(e, level), return_dtype=pl.String)
                .alias(level)
            )
        key = pl.concat_str(
            [pl.col("equipment"), pl.col("entity"), pl.col("window_start").dt.strftime("%Y-%m-%dT%H:%M:%SZ")],
            separator="|",
        )
        frame = frame.with_columns(key.alias(KEY))
    frame = frame.with_columns(_group(spec, frame).alias(splits.GROUP))
    if isinstance(cut, SequenceSpec):
        frame = rul_targets(frame, inputs.sources[cut.failure.source], cut.failure, spec.target.column)
        frame = frame.with_columns(pl.lit("work_orders").alias(label_sources.PROVENANCE))
    else:
        assert spec.labels is not None  # the spec's validator requires labels for windows and records
        frame = label_sources.apply_labels(frame, spec.labels, spec.target, _opinions(spec, inputs))
    return _columns(spec, frame)


def _group(spec: TaskSpec, frame: pl.DataFrame) -> pl.Expr:
    by = spec.splits.group_by
    if by == "entity" and "entity" in frame.columns:
        return pl.col("entity")
    if by in ("unit", "line"):
        return pl.col(by)
    return pl.col("equipment")


def _opinions(spec: TaskSpec, inputs: Inputs) -> dict[str, label_sources.Opinion]:
    labels, cut = spec.labels, spec.examples
    assert labels is not None
    opinions: dict[str, label_sources.Opinion] = {}
    records = isinstance(cut, RecordsSpec)
    if labels.expert_consensus is not None:
        released = inputs.projects[labels.expert_consensus.project]
        opinions["expert_consensus"] = (
            label_sources.expert_records(released, labels.expert_consensus, cut.key)
            if isinstance(cut, RecordsSpec)
            else label_sources.expert_windows(released, labels.expert_consensus)
        )
    if labels.work_orders is not None:
        if records:
            assert isinstance(cut, RecordsSpec)
            if cut.label_column is None:
                raise TaskDatasetError("labels.work_orders on records needs examples.label_column; add it")
            opinions["work_orders"] = label_sources.work_order_records(labels.work_orders, cut.label_column)
        else:
            released = inputs.sources[labels.work_orders.source]
            opinions["work_orders"] = label_sources.work_order_windows(released, labels.work_orders)
    if labels.alarms is not None:
        opinions["alarms"] = label_sources.alarm_windows(inputs.sources[labels.alarms.source], labels.alarms)
    if labels.rule is not None:
        opinions["rule"] = label_sources.rule(labels.rule)
    return opinions


def _columns(spec: TaskSpec, frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """The published columns in a fixed order, with their roles; helper columns (`_max__*`) are dropped."""
    cut = spec.examples
    roles: dict[str, str] = {KEY: "key", "window_start": "time", "window_end": "time", "equipment": "group"}
    if splits.GROUP not in roles:
        roles[splits.GROUP] = "group"
    if "entity" in frame.columns and spec.splits.group_by == "entity":
        roles["entity"] = "group"
    if SEQUENCE in frame.columns:
        roles[SEQUENCE] = "feature"
    if isinstance(cut, RecordsSpec):
        roles[cut.text] = "text"
    else:
        for column in frame.columns:
            if "__" in column and not column.startswith("_"):
                roles[column] = "feature"
    roles[spec.target.column] = "target"
    roles[label_sources.PROVENANCE] = "label_provenance"
    ordered = [c for c in roles if c in frame.columns]
    return frame.select(ordered), {c: roles[c] for c in ordered}


def _write_data(staging: Path, frame: pl.DataFrame, roles: dict[str, str]) -> list[dict[str, Any]]:
    entries = []
    for name in splits.SPLITS:
        part = frame.filter(pl.col(splits.SPLIT) == name).drop(splits.SPLIT).sort(KEY)
        if part.is_empty():
            continue
        entries.append(files.write_split(staging / "data" / f"{name}.parquet", part))
    return entries


def _manifest(
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


def _facts(spec: TaskSpec, frame: pl.DataFrame) -> dict[str, Any]:
    """The spec's prose facts; the publication date is the day of the newest example (from the inputs, never the
    clock, so the same inputs give the same documents)."""
    facts: dict[str, Any] = dict(spec.facts)
    facts.setdefault("creator", "plantdata")
    newest: Any = frame["window_end"].max()
    facts.setdefault("date_published", newest.date().isoformat())
    return facts


def _resolve(spec: TaskSpec, store: CatalogStore, layout: Layout) -> Inputs:
    sources = {key: resolve(store, layout, ref.dataset, ref.version) for key, ref in spec.sources.items()}
    projects = {}
    if spec.labels is not None and spec.labels.expert_consensus is not None:
        consensus = spec.labels.expert_consensus
        projects[consensus.project] = resolve(store, layout, LABELS_PREFIX + consensus.project, consensus.version)
    return Inputs(sources, projects)


def _register_missing(layout: Layout, store: CatalogStore, name: str) -> None:
    """Register versions committed by a build whose catalog registration failed (the folder came first)."""
    known = registry.registered_versions(store, name)
    for number in versions.version_numbers(layout, name):
        if number not in known:
            folder = versions.dataset_dir(layout, name) / f"v{number}"
            registry.register_version(store, folder, files.read_manifest(folder), "recovered")


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
