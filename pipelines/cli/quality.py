"""`plantdata quality`: GB/T 36344 scores of the gated sources."""

from __future__ import annotations

import json

import click
from rich.table import Table

from config.layout import home_layout
from pipelines.cli.common import emit, plain, sources_option, wide_console
from pipelines.settings import sources_path


@click.group()
def quality() -> None:
    """Quality scores by GB/T 36344 dimension, grades and failed rules."""


@quality.command("report")
@sources_option
@click.option("--source", "only", default=None, help="One source (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--summary", is_flag=True, help="One line per source, without its partitions.")
def quality_report(sources_file: str | None, only: str | None, as_json: bool, summary: bool) -> None:
    """Per source and partition: dimension scores, overall score and grade, failed rules, rows quarantined."""
    from config.sources import load_sources
    from quality.dimensions import Dimension
    from quality.report import source_report

    loaded = load_sources(sources_path(sources_file))
    try:
        chosen = [loaded.get(only)] if only else loaded.sources
    except KeyError as exc:  # names the sources file and the sources it has
        raise click.BadParameter(str(exc.args[0]), param_hint="--source") from None
    layout = home_layout()
    reports = [source_report(layout, s.name, s.partitioning) for s in chosen]
    if as_json:
        click.echo(json.dumps(reports, indent=1, default=str))
        return
    dimensions = ["conformity", "completeness", "accuracy", "consistency", "timeliness", "accessibility"]
    detail = [] if summary else ["failed rules", "quarantined"]
    headers = [f"{d} {Dimension(d).chinese}" for d in dimensions]  # GB/T 36344 names, as the standard gives them
    table = Table("source", "partition", *headers, "overall", "grade", *detail)
    for report in reports:
        table.add_row(
            plain(report["source"]),
            "(all)",
            *(str(report["scores"].get(d, "-")) for d in dimensions),
            str(report["overall"]),
            str(report["grade"] or "-"),
            *([""] * len(detail)),
        )
        for part in [] if summary else report["partitions"]:
            failed = plain(", ".join(f"{f['rule']}({f['unexpected']})" for f in part["failed"]))
            table.add_row(
                "",
                plain(part["partition"]),
                *(str(part["scores"].get(d, "-")) for d in dimensions),
                str(part["overall"]),
                part["grade"],
                failed,
                str(part["rows_quarantined"]),
            )
    wide_console().print(table)


@quality.command("suites")
@click.option("--source", "only", default=None, help="One source (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def quality_suites(only: str | None, as_json: bool) -> None:
    """Where the gate's Great Expectations suites are saved: per source, one JSON file for its rows, one for the
    flags of the one-pass evaluation and one for its partition facts, to read, diff and version."""
    from quality import gx_store

    layout = home_layout()
    folder = gx_store.published(layout, gx_store.EXPECTATIONS) / "expectations"  # from the store on object storage
    files = sorted(folder.glob("*/*.json")) if folder.is_dir() else []
    chosen = [f for f in files if only is None or f.parent.name == only]
    if not chosen:
        raise click.ClickException(
            f"no expectation suite{' for ' + only if only else ''} in {folder}: the gate writes three per source "
            "when it judges it (plantdata run)"
        )
    rows = [
        {
            "source": f.parent.name,
            "suite": f"{f.parent.name}.{f.stem}",
            "expectations": len(json.loads(f.read_text())["expectations"]),
            "file": str(f),
        }
        for f in chosen
    ]
    emit(rows, as_json, ["source", "suite", "expectations", "file"])
    if not as_json:
        click.echo(f"Data Docs: {gx_store.site(layout) / 'index.html'}")
