"""`plantdata dataset`: build task datasets from their specs, list them, show a version, diff two versions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from config.layout import home_layout
from pipelines.cli.common import console, emit, plain, wide_console

json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@click.group()
def dataset() -> None:
    """Task datasets: named, versioned, documented datasets for one AI task, built from releases and labels."""


@dataset.command("build")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def dataset_build(spec: Path, as_json: bool) -> None:
    """Build SPEC into a new version (none if its inputs and spec are unchanged)."""
    from task_datasets.build import build

    with console.status(f"building {plain(spec)} (read releases, window, label, split, write, document) ..."):
        result = build(spec, home_layout())
    out = {
        "name": result.name,
        "version": result.version,
        "new": result.new,
        "folder": str(result.folder),
        "content_sha256": result.content_sha256,
    }
    if as_json:
        click.echo(json.dumps(out))
        return
    state = "built" if result.new else "unchanged inputs: kept"
    console.print(f"[green]ok[/] {plain(result.name)} v{result.version} {state}: {plain(result.folder)}")


@dataset.command("list")
@json_option
def dataset_list(as_json: bool) -> None:
    """Every task dataset at its latest version: rows per split, grade, quality, baseline."""
    from catalog.store import CatalogStore
    from task_datasets.views import list_task_datasets

    rows = list_task_datasets(CatalogStore.of(home_layout()))
    if as_json:
        click.echo(json.dumps(rows, indent=1, default=str))
        return
    for row in rows:
        row["rows"] = ", ".join(f"{k} {v}" for k, v in row["rows_per_split"].items())
        row["baseline"] = f"{row['baseline_metric']} {row['baseline_value']}" if row["baseline_metric"] else "-"
        row["quality"] = f"{row['quality_overall']} ({row['quality_grade']})"
    emit(rows, False, ["name", "version", "task", "rows", "security_grade", "quality", "baseline", "adversarial_auc"])


@dataset.command("show")
@click.argument("name")
@click.option("--version", "version", type=int, default=None, help="A version (default: the latest).")
@json_option
def dataset_show(name: str, version: int | None, as_json: bool) -> None:
    """A version's manifest: files, schema, sources, labels, splits, baseline, quality, security."""
    from task_datasets.views import show

    shown = show(home_layout(), name, version)
    if as_json:
        click.echo(json.dumps(shown, indent=1))
        return
    out = wide_console()
    out.print(f"[bold]{plain(shown['name'])}[/] v{shown['version']}: {plain(shown['title'])} ({plain(shown['task'])})")
    out.print(f"folder: {plain(shown['folder'])}; documents: {plain(', '.join(shown['documents']))}")
    emit(shown["files"], False, ["split", "rows", "bytes", "sha256"])
    sources = [
        {"source": s["dataset"], "version": s["version"], "partitions": len(s["partitions"])} for s in shown["sources"]
    ]
    emit(sources, False, ["source", "version", "partitions"])
    splits, quality = shown["splits"], shown["quality"]
    for line in (
        f"splits: {splits['method']}, gap {splits['gap']}, adversarial AUC {splits['adversarial_auc']}",
        f"class balance: {json.dumps(splits['class_balance'])}",
        f"labels: {json.dumps(shown['labels']['provenance'])}; baseline: {json.dumps(shown['baseline'])}",
        f"quality: {quality['overall']} ({quality['grade']}); security grade {shown['security']['grade']}",
    ):
        out.print(plain(line))


@dataset.command("diff")
@click.argument("name")
@click.argument("old", type=int)
@click.argument("new", type=int)
@json_option
def dataset_diff(name: str, old: int, new: int, as_json: bool) -> None:
    """What changed from version OLD to NEW: schema, rows per split, labels, quality, baseline."""
    from task_datasets.views import diff

    changes = diff(home_layout(), name, old, new)
    if as_json:
        click.echo(json.dumps(changes, indent=1))
        return
    out = wide_console()
    out = wide_console()
    state = "same content" if changes["same_content"] else "content changed"
    out.print(f"[bold]{plain(name)}[/] v{old} -> v{new}: {state}")
    schema = changes["schema"]
    out.print(plain(f"schema: added {schema['added']}, removed {schema['removed']}, changed {schema['changed']}"))
    rows = [{"split": s, **r} for s, r in changes["rows"].items()]
    emit(rows, False, ["split", "added", "removed", "changed", "unchanged"])
    shifts = [{"split": s, "total_variation": v["total_variation"]} for s, v in changes["labels"].items()]
    emit(shifts, False, ["split", "total_variation"])
    out.print(plain(f"quality: {json.dumps(changes['quality'])}"))
    out.print(plain(f"baseline: {json.dumps(changes['baseline'])}"))
