"""Sentences about a version, read from its manifest, that the datasheet and the Croissant RAI fields share.

One wording in one place, so the two documents of a version never tell a reader different things. Every function is
pure and deterministic (sorted keys, fixed number formats, no clock), so a rebuild writes the same bytes.
"""

from __future__ import annotations

from typing import Any

Manifest = dict[str, Any]
SPLIT_ORDER = ("train", "validation", "test")


def splits_in_order(manifest: Manifest) -> list[dict[str, Any]]:
    """The `files` entries, train then validation then test (any other split after them, by name)."""
    rank = {name: i for i, name in enumerate(SPLIT_ORDER)}
    files: list[dict[str, Any]] = manifest["files"]
    return sorted(files, key=lambda f: (rank.get(f["split"], len(rank)), f["split"]))


def number(value: float | None, digits: int = 3) -> str:
    """A metric as fixed text ("n/a" when absent), so documents do not depend on float repr."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def source_lines(manifest: Manifest) -> list[str]:
    """One line per source dataset version: its partitions and their hashes, short."""
    lines = []
    for source in sorted(manifest["sources"], key=lambda s: (s["dataset"], s["version"])):
        parts = sorted(source.get("partitions", []), key=lambda p: p["key"])
        shown = ", ".join(f"{p['key']} (sha256 {p['sha256'][:12]})" for p in parts) or "no partitions"
        lines.append(f"{source['dataset']} v{source['version']}: {len(parts)} partition(s): {shown}")
    return lines


def label_projects(manifest: Manifest) -> list[dict[str, Any]]:
    projects: list[dict[str, Any]] = (manifest.get("labels") or {}).get("projects", [])
    return sorted(projects, key=lambda p: (p["project"], p["version"]))


def project_lines(manifest: Manifest) -> list[str]:
    """One line per annotation project: version, annotators, agreement."""
    return [
        f"labels_{p['project']} v{p['version']}: {p['annotators']} annotator(s), "
        f"agreement (Krippendorff's alpha) {number(p.get('agreement'))}"
        for p in label_projects(manifest)
    ]


def labelling_text(manifest: Manifest) -> str:
    """How the target was labelled: precedence of label sources and rows per source."""
    labels = manifest.get("labels") or {}
    precedence = labels.get("precedence") or []
    provenance = labels.get("provenance") or {}
    counts = ", ".join(f"{name}: {rows} rows" for name, rows in sorted(provenance.items())) or "none recorded"
    order = " > ".join(precedence) if precedence else "a single label source"
    return (
        f"Target column `{manifest['target']['column']}` ({manifest['target']['kind']}). When label sources disagree, "
        f"precedence is {order}. Rows per label source: {counts}."
    )


def personal_data_text(manifest: Manifest) -> str:
    personal = manifest.get("personal_data") or {}
    columns = ", ".join(sorted(personal.get("columns", []))) or "none"
    if personal.get("present"):
        return f"Personal data present in columns {columns}; treatment: {personal.get('treatment', 'not stated')}."
    return f"No personal data in the released columns; treatment: {personal.get('treatment', 'not stated')}."


def security_text(manifest: Manifest) -> str:
    security = manifest.get("security") or {}
    reasons = "; ".join(security.get("reasons", [])) or "no reasons recorded"
    return f"Security grade {security.get('grade', 'unknown')} (the highest of its sources): {reasons}."


def split_text(manifest: Manifest) -> str:
    """Split method, grouping, gap, disjointness and the adversarial-validation leakage signal."""
    splits = manifest["splits"]
    parts = [f"Split method: {splits['method']}"]
    if splits.get("group_by"):
        parts.append(f"grouped by {splits['group_by']}")
    if splits.get("gap"):
        parts.append(f"gap between train and test {splits['gap']}")
    parts.append("splits checked disjoint in time and group" if splits.get("disjoint") else "splits NOT disjoint")
    auc = splits.get("adversarial_auc")
    parts.append(
        f"adversarial validation AUC (a classifier telling train from test; 0.5 means indistinguishable) {number(auc)}"
    )
    return "; ".join(parts) + "."


def quality_text(manifest: Manifest) -> str:
    quality = manifest.get("quality") or {}
    dims = ", ".join(f"{d} {number(v)}" for d, v in sorted((quality.get("dimensions") or {}).items()))
    overall, grade = number(quality.get("overall")), quality.get("grade", "n/a")
    return f"Quality {overall} (grade {grade}); by dimension: {dims or 'n/a'}."


def baseline_text(manifest: Manifest) -> str:
    baseline = manifest.get("baseline")
    if not baseline:
        return "No baseline was trained for this version."
    return (
        f"Baseline {baseline['model']} trained on train, {baseline['metric']} on {baseline['split']}: "
        f"{number(baseline['value'])}."
    )


def class_balance_lines(manifest: Manifest) -> list[str]:
    balance: dict[str, dict[str, int]] = manifest["splits"].get("class_balance") or {}
    lines = []
    for entry in splits_in_order(manifest):
        counts = balance.get(entry["split"])
        if counts:
            shown = ", ".join(f"{cls}: {rows}" for cls, rows in sorted(counts.items()))
            lines.append(f"{entry['split']}: {shown}")
    return lines


def maintenance_text(manifest: Manifest) -> str:
    return (
        f"Version {manifest['version']} is immutable: a rebuild writes a new version and never overwrites this one. "
        f"Compare versions with `plantdata dataset diff {manifest['name']} V1 V2`."
    )
