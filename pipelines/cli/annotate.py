"""`plantdata annotate`: push tasks to Label Studio, simulate experts (demo), pull labels, show progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipelines.cli.common import console, plain, sources_option
from pipelines.settings import home, sources_path

project_option = click.option("--project", "project", required=True, help="Project name from the annotation file.")


def _loop(sources_file: str | None) -> Any:
    from annotation.loop import Loop
    from annotation.settings import LabelStudioSettings
    from config.layout import Layout
    from config.sources import load_sources

    root = home()
    return Loop.from_sources(
        LabelStudioSettings.from_environment(root), load_sources(sources_path(sources_file)), Layout(root)
    )


@click.group()
def annotate() -> None:
    """Expert annotation in Label Studio: push, simulate (demo), pull, status."""


@annotate.command()
@project_option
@click.option("--limit", type=int, default=None, help="At most this many new tasks (default: the project's batch).")
@sources_option
def push(project: str, limit: int | None, sources_file: str | None) -> None:
    """Create or update the project and push the next batch: most uncertain first, pre-labelled."""
    from annotation.loop import push as push_batch

    report = push_batch(_loop(sources_file), project, limit)
    pushed = report.pushed
    console.print(
        f"[green]ok[/] {plain(project)}: {pushed.created} task(s) pushed ({pushed.with_prediction} pre-labelled by "
        f"{plain(report.model_version or 'no model')}), {pushed.already_there} already there, from "
        f"{report.candidates} candidate(s) of {plain(report.release)}; project id {pushed.project_id}; "
        f"cleared annotators: {plain(', '.join(report.annotators))}"
    )


@annotate.command()
@project_option
@click.option("--no-publish", is_flag=True, help="Pull only; do not publish the labels dataset.")
@sources_option
def pull(project: str, no_publish: bool, sources_file: str | None) -> None:
    """Pull annotations changed since the last pull and publish labels_<project> to the catalog."""
    from annotation.loop import pull_labels

    report = pull_labels(_loop(sources_file), project, publish=not no_publish)
    published = report.published
    where = (
        f"; published labels_{project} v{published.version}" + ("" if published.new else " (unchanged)")
        if published
        else ""
    )
    console.print(
        f"[green]ok[/] {plain(project)}: {report.tasks_fetched} task(s) fetched, {report.changed} annotation(s) "
        f"new or changed, {report.annotations} in all{plain(where)}"
    )
    for email, count in sorted(report.summary.excluded.items()):
        console.print(
            f"  [yellow]![/] {count} annotation(s) by {plain(email)} left out: not in the annotation file or not "
            "cleared for the dataset's grade"
        )


@annotate.command()
@click.option("--project", "project", default=None, help="One project (default: all).")
@click.option("--json", "as_json", is_flag=True)
@sources_option
def status(project: str | None, as_json: bool, sources_file: str | None) -> None:
    """Tasks, annotations per annotator, agreement, consensus and pre-label acceptance (as of the last pull)."""
    from annotation.loop import status as project_status

    loop = _loop(sources_file)
    names = [project] if project else [p.name for p in loop.annotation.projects]
    rows = [project_status(loop, name) for name in names]
    if as_json:
        click.echo(json.dumps(rows, indent=1, default=str))
        return
    for row in rows:
        alpha = "n/a" if row["alpha"] is None else f"{row['alpha']:.3f}"
        click.echo(
            f"{row['project']} ({row['kind']} on {row['dataset']}, grade {row['grade']}): {row['tasks']} task(s), "
            f"{row['annotated_tasks']} with enough annotations, {row['annotations']} annotation(s), "
            f"Krippendorff alpha {alpha}"
        )
        click.echo(f"  per annotator: {row['annotations_per_annotator']}")
        click.echo(f"  consensus: {row['consensus']}")
        for pair in row["kappa_pairs"]:
            kappa = "n/a" if pair["kappa"] is None else f"{pair['kappa']:.3f}"
            click.echo(f"  kappa {pair['a']} / {pair['b']}: {kappa} over {pair['tasks']} task(s)")
        for version, acceptance in row["prelabel_acceptance"].items():
            click.echo(
                f"  pre-labels {version}: {acceptance['accepted_unchanged']}/{acceptance['annotations']} kept "
                f"unchanged ({acceptance['rate']:.0%})"
            )


@annotate.command()
@project_option
@click.option("--limit", type=int, default=None, help="Only the first N tasks.")
@click.option(
    "--demo",
    "demo",
    type=click.Path(file_okay=False),
    default=None,
    help="Demo plant folder (default: <data root>/demo).",
)
@sources_option
def simulate(project: str, limit: int | None, demo: str | None, sources_file: str | None) -> None:
    """SIMULATED experts (demo and tests): scripted users annotate through the server from the demo's truth."""
    from annotation.loop import simulate as run_simulation
    from demo_plant.oracle import DemoOracle

    loop = _loop(sources_file)
    oracle = DemoOracle(Path(demo) if demo else loop.layout.root / "demo")
    reports = run_simulation(loop, project, oracle, limit)
    annotators, reviewer = reports["annotators"], reports["reviewer"]
    console.print(
        f"[green]ok[/] {plain(project)}: simulated experts made {annotators.annotations} annotation(s) "
        f"{plain(annotators.by_annotator)}, {annotators.prelabels_kept} kept the pre-label unchanged; the simulated "
        f"reviewer settled {reviewer.annotations} disagreement(s)"
    )
