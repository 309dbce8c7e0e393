"""The `plantdata` command line: `main` and `run` here, one module per command group."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from config.errors import PlantdataError
from config.layout import Layout
from pipelines.cli.annotate import annotate
from pipelines.cli.bench import bench
from pipelines.cli.catalog import catalog
from pipelines.cli.common import console, plain, sources_option
from pipelines.cli.dataset import dataset
from pipelines.cli.demo import demo
from pipelines.cli.labelstudio import labelstudio
from pipelines.cli.quality import quality
from pipelines.cli.sources import sources
from pipelines.cli.web import serve, users
from pipelines.settings import home_url, sources_path


@click.group()
def main() -> None:
    """plantdata: raw plant exports in, graded and trusted industrial datasets out."""


@main.command()
@sources_option
@click.option(
    "--parallel",
    "parallel_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Standardise each source's partitions side by side through a Dagster executor, as this file says "
    "(pipelines/deploy/local/multiprocess.yaml, pipelines/deploy/celery/celery.yaml); the gate then runs once "
    "per source. Default: everything in this process.",
)
def run(sources_file: str | None, parallel_file: str | None) -> None:
    """Materialise all assets for all partitions through Dagster, in this process (with --parallel, each source's
    partitions are standardised by the executor's processes or workers first)."""
    from pathlib import Path

    from pipelines.parallel import load_parallel
    from pipelines.run import run_all

    path, root = sources_path(sources_file), home_url()
    parallel = load_parallel(Path(parallel_file)) if parallel_file else None
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        from config.sources import load_sources

        total = len(load_sources(path).sources)
        task = progress.add_task("discovering", total=total)

        def on_source(source: Any, partitions: int) -> None:
            progress.update(task, description=f"{plain(source.name)}: {partitions} partition(s)", advance=1)

        outcomes = run_all(path, root, on_source=on_source, parallel=parallel)
    from ingest.manifest import summarise

    for outcome in outcomes:
        if outcome.source == "catalog":
            state = "[green]ok[/]" if outcome.success else "[red]FAILED[/]"
            detail = f": {plain(outcome.error)}" if outcome.error else ""
            if outcome.skipped:
                console.print(
                    f"{state} catalog: {outcome.partitions} dataset(s), nothing changed since they were published"
                )
            else:
                console.print(f"{state} catalog: {outcome.partitions} dataset(s) published{detail}")
            continue
        if outcome.error:
            console.print(f"[red]FAILED[/] {plain(outcome.source)}: {plain(outcome.error)}")
        elif outcome.partitions:
            totals = summarise(Layout.at(root), outcome.source)
            state = (
                "[yellow]partly[/]" if outcome.problems else "[yellow]warn[/]" if outcome.warnings else "[green]ok[/]"
            )
            console.print(
                f"{state} {plain(outcome.source)}: {outcome.partitions} partition(s), {totals['rows_in']:,} rows in, "
                f"{totals['rows_out']:,} out, {totals['rows_quarantined']:,} quarantined"
                + (
                    f", {outcome.removed_by_gate:,} {outcome.unit} removed by the quality gate"
                    if outcome.removed_by_gate
                    else ""
                )
                + (" (unchanged since the last run: no work)" if outcome.skipped else "")
            )
        for problem in outcome.problems:
            console.print(f"  [red]✗[/] {plain(outcome.source)}: {plain(problem)}")
        for warning in outcome.warnings:
            console.print(f"  [yellow]![/] {plain(outcome.source)}: {plain(warning)}")
    console.print(f"data root: {plain(root)}")
    problems = sum(len(o.problems) + (0 if o.success else 1) for o in outcomes)
    if problems:
        console.print(
            f"[red]{problems} problem(s)[/]: everything else was ingested and published; "
            "fix the exports or the sources file and run again"
        )
        sys.exit(1)


for group in (sources, quality, catalog, dataset, demo, bench, labelstudio, annotate, serve, users):
    main.add_command(group)


def entrypoint() -> None:
    try:
        main(standalone_mode=True)
    except PlantdataError as exc:
        console.print(f"[red]error:[/] {plain(exc)}")
        sys.exit(2)
    except Exception as exc:
        if type(exc).__module__.split(".")[0] != "botocore":  # only object storage's own errors are explained here
            raise
        console.print(
            f"[red]error:[/] object storage refused or could not be reached: {exc}. Check AWS_ENDPOINT_URL, "
            "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION, and the URLs in PLANTDATA_CATALOG and "
            "PLANTDATA_RELEASES (README, Deployment)."
        )
        sys.exit(2)
