"""`plantdata annotate`: push tasks to Label Studio, simulate experts (demo), pull labels, show progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipelines.cli.common import console, plain, sources_option
from pipelines.settings import sources_path

project_option = click.option(
    "--project", "project", default=None, help="Project name from the annotation file (default: every project)."
)


def _loop(sources_file: str | None) -> Any:
    from annotation.loop import Loop
    from annotation.settings import LabelStudioSettings
    from config.layout import home_layout
    from config.sources import load_sources

    layout = home_layout()  # a folder or an `s3://` URL; Label Studio's own data stays in this machine's folder
    return Loop.from_sources(
        LabelStudioSettings.from_environment(layout.root), load_sources(sources_path(sources_file)), layout
    )


@click.group()
def annotate() -> None:
    """Expert annotation in Label Studio: push, simulate (demo), pull, status."""


@annotate.command()
@project_option
@click.option("--limit", type=int, default=None, help="At most this many new tasks (default: the project's batch).")
@sources_option
def push(project: str | None, limit: int | None, sources_file: str | None) -> None:
    """Create or update the project and push the next batch: most uncertain first, pre-labelled."""
    from annotation.loop import push as push_batch

    loop = _loop(sources_file)
    for name in _names(loop, project):
        report = push_batch(loop, name, limit)
        pushed = report.pushed
        console.print(
            f"[green]ok[/] {plain(name)}: {pushed.created} task(s) pushed ({pushed.with_prediction} pre-labelled by "
            f"{plain(report.model_version or 'no model')}), {pushed.already_there} already there, from "
            f"{report.candidates} candidate(s) of {plain(report.release)}; project id {pushed.project_id}; "
            f"cleared annotators: {plain(', '.join(report.annotators))}"
        )


@annotate.command()
@project_option
@click.option("--no-publish", is_flag=True, help="Pull only; do not publish the labels dataset.")
@sources_option
def pull(project: str | None, no_publish: bool, sources_file: str | None) -> None:
    """Pull annotations changed since the last pull and publish labels_<project> to the catalog."""
    from annotation.loop import pull_labels

    loop = _loop(sources_file)
    for name in _names(loop, project):
        report = pull_labels(loop, name, publish=not no_publish)
        published = report.published
        where = (
            f"; published labels_{name} v{published.version}" + ("" if published.new else " (unchanged)")
            if published
            else ""
        )
        console.print(
            f"[green]ok[/] {plain(name)}: {report.tasks_fetched} task(s) fetched, {report.changed} annotation(s) "
            f"new or changed, {report.annotations} in all{plain(where)}"
        )
        for email, count in sorted(report.summary.excluded.items()):
            console.print(
                f"  [yellow]![/] {count} annotation(s) by {plain(email)} left out: not in the annotation file or "
                "not cleared for the dataset's grade"
            )


@annotate.command()
@project_option
@click.option("--json", "as_json", is_flag=True)
@sources_option
def status(project: str | None, as_json: bool, sources_file: str | None) -> None:
    """Tasks, annotations per annotator, agreement, consensus and pre-label acceptance (as of the last pull)."""
    from annotation.loop import status as project_status

    loop = _loop(sources_file)
    rows = [project_status(loop, name) for name in _names(loop, project)]
    if as_json:
        click.echo(json.dumps(rows, indent=1, default=str))
        return
    for row in rows:
        click.echo(
            f"{row['project']} ({row['kind']} on {row['dataset']}, grade {row['grade']}): {row['tasks']} task(s), "
            f"{row['annotated_tasks']} with enough annotations, {row['annotations']} annotation(s), "
            f"Krippendorff alpha {_number(row['alpha'])}, mean task agreement {_number(row['mean_task_agreement'])}"
            + (f", mean segment IoU {_number(row['mean_segment_iou'])}" if row["mean_segment_iou"] is not None else "")
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
def simulate(project: str | None, limit: int | None, demo: str | None, sources_file: str | None) -> None:
    """SIMULATED experts (demo and tests): scripted users annotate through the server from the demo's truth."""
    from annotation.loop import simulate as run_simulation
    from demo_plant.oracle import DemoOracle

    loop = _loop(sources_file)
    oracle = DemoOracle(Path(demo) if demo else loop.layout.root / "demo")
    for name in _names(loop, project):
        reports = run_simulation(loop, name, oracle, limit)
        annotators, reviewer = reports["annotators"], reports["reviewer"]
        console.print(
            f"[green]ok[/] {plain(name)}: SIMULATED experts made {annotators.annotations} annotation(s) "
            f"{plain(annotators.by_annotator)}, {annotators.prelabels_kept} kept the pre-label unchanged; the "
            f"simulated reviewer settled {reviewer.annotations} disagreement(s)"
        )


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _names(loop: Any, project: str | None) -> list[str]:
    if project is not None:
        loop.annotation.project(project)  # an unknown name fails here, naming the known ones
        return [project]
    return [p.name for p in loop.annotation.projects]


@annotate.command()
@sources_option
def demo(sources_file: str | None) -> None:
    """The whole loop on the demo plant with SIMULATED experts: start Label Studio (unless one of ours is up),
    push every project, annotate, pull and publish, push the next batch chosen by the retrained models, stop."""
    from annotation.launcher import LabelStudioServer, ensure_installed

    loop = _loop(sources_file)
    ensure_installed(loop.settings.venv)
    server = LabelStudioServer(loop.settings)
    console.print(f"starting Label Studio at {plain(loop.settings.url)} (half a minute on a fresh database) ...")
    with server:
        context = click.get_current_context()
        for command in (push, simulate, pull):
            context.invoke(command, project=None, sources_file=sources_file)
        context.invoke(push, project=None, sources_file=sources_file)  # round two: retrained models choose
    context.invoke(status, project=None, as_json=False, sources_file=sources_file)
    console.print(
        f"Open the projects: make labelstudio, then {plain(loop.settings.url)} and log in as "
        f"{plain(loop.settings.admin_email)} (password in .env); the simulated experts' passwords are in "
        f"{plain(loop.accounts().where)}"
    )
