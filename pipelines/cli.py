"""The `plantdata` command line."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingest.errors import PlantdataError
from ingest.layout import Layout
from pipelines.settings import home, sources_path

console = Console(stderr=True)
sources_option = click.option(
    "--sources",
    "sources_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Sources YAML (default: $PLANTDATA_SOURCES, else the embedded demo plant).",
)


@click.group()
def main() -> None:
    """plantdata: raw plant exports in, graded and trusted industrial datasets out."""


@main.command()
@sources_option
def run(sources_file: str | None) -> None:
    """Materialise all assets for all partitions through Dagster, in-process."""
    from pipelines.run import run_all

    path, root = sources_path(sources_file), home()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        from ingest.config import load_sources

        total = len(load_sources(path).sources)
        task = progress.add_task("discovering", total=total)

        def on_source(source: Any, partitions: int) -> None:
            progress.update(task, description=f"{source.name}: {partitions} partition(s)", advance=1)

        outcomes = run_all(path, root, on_source=on_source)
    from ingest.manifest import summarise

    failed = [o for o in outcomes if not o.success]
    for outcome in outcomes:
        if not outcome.success:
            console.print(f"[red]FAILED[/] {outcome.source}: {outcome.error}")
            continue
        if outcome.source == "catalog":
            console.print(f"[green]ok[/] catalog: {outcome.partitions} dataset(s) published")
            continue
        totals = summarise(Layout(root), outcome.source)
        console.print(
            f"[green]ok[/] {outcome.source}: {outcome.partitions} partition(s), {totals['rows_in']:,} rows in, "
            f"{totals['rows_out']:,} out, {totals['rows_quarantined']:,} quarantined"
            + (f" ({outcome.error})" if outcome.error else "")
        )
    console.print(f"data root: {root}")
    if failed:
        sys.exit(1)


@main.group()
def sources() -> None:
    """Inspect the configured sources."""


@sources.command("list")
@sources_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def sources_list(sources_file: str | None, as_json: bool) -> None:
    """List configured sources."""
    from ingest.config import load_sources

    loaded = load_sources(sources_path(sources_file))
    rows = [
        {
            "name": s.name,
            "kind": s.kind.value,
            "system": s.system.value,
            "owner": s.owner,
            "location": loaded.resolve_location(s),
            "format": s.format.value,
            "partitioning": s.partitioning,
        }
        for s in loaded.sources
    ]
    _emit(rows, as_json, ["name", "kind", "system", "owner", "partitioning", "location"])


@sources.command("status")
@sources_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--summary", is_flag=True, help="One line per source instead of one per partition.")
def sources_status(sources_file: str | None, as_json: bool, summary: bool) -> None:
    """Per source and partition: files, rows in/out/quarantined and the last run."""
    from ingest.config import load_sources
    from ingest.manifest import read_manifests, summarise

    loaded = load_sources(sources_path(sources_file))
    layout = Layout(home())
    if summary:
        totals = [summarise(layout, s.name) for s in loaded.sources]
        _emit(totals, as_json, ["source", "partitions", "files", "rows_in", "rows_out", "rows_quarantined", "balanced"])
        return
    rows = []
    for source in loaded.sources:
        for manifest in read_manifests(layout, source.name):
            rows.append(
                {
                    "source": source.name,
                    "partition": manifest["key"],
                    "files": [f["name"] for f in manifest["files"]],
                    "rows_in": manifest["rows_in"],
                    "rows_out": manifest["rows_out"],
                    "rows_quarantined": manifest["rows_quarantined"],
                    "balanced": manifest["rows_in"] == manifest["rows_out"] + manifest["rows_quarantined"],
                    "rules": manifest["rules"],
                    "last_run": manifest["run_id"],
                    "finished_at": manifest["finished_at"],
                }
            )
    _emit(rows, as_json, ["source", "partition", "rows_in", "rows_out", "rows_quarantined", "balanced", "finished_at"])


@main.group()
def quality() -> None:
    """Quality scores by GB/T 36344 dimension, grades and failed rules."""


@quality.command("report")
@sources_option
@click.option("--source", "only", default=None, help="One source (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--summary", is_flag=True, help="One line per source, without its partitions.")
def quality_report(sources_file: str | None, only: str | None, as_json: bool, summary: bool) -> None:
    """Per source and partition: dimension scores, overall score and grade, failed rules, rows quarantined."""
    from ingest.config import load_sources
    from quality.dimensions import Dimension
    from quality.report import source_report

    loaded = load_sources(sources_path(sources_file))
    chosen = [loaded.get(only)] if only else loaded.sources
    layout = Layout(home())
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
            report["source"],
            "(all)",
            *(str(report["scores"].get(d, "-")) for d in dimensions),
            str(report["overall"]),
            str(report["grade"] or "-"),
            *([""] * len(detail)),
        )
        for part in [] if summary else report["partitions"]:
            failed = ", ".join(f"{f['rule']}({f['unexpected']})" for f in part["failed"])
            table.add_row(
                "",
                part["partition"],
                *(str(part["scores"].get(d, "-")) for d in dimensions),
                str(part["overall"]),
                part["grade"],
                failed,
                str(part["rows_quarantined"]),
            )
    _wide_console().print(table)


@main.group()
def catalog() -> None:
    """The dataset catalog (DuckDB): what exists, where it came from, how good it is."""


@catalog.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_list(as_json: bool) -> None:
    """Every dataset at its latest version."""
    from catalog.queries import list_datasets
    from catalog.store import CatalogStore

    rows = list_datasets(CatalogStore(Layout(home()).catalog()))
    _emit(
        rows,
        as_json,
        [
            "name",
            "version",
            "row_count",
            "source_system",
            "domain",
            "data_type",
            "scenario",
            "security_grade",
            "gbt_43697",
            "overall",
            "quality_grade",
        ],
    )


@catalog.command("show")
@click.argument("name")
@click.option("--version", "version", type=int, default=None, help="A version (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_show(name: str, version: int | None, as_json: bool) -> None:
    """A dataset version: classes, grade with reasons, profile, personal data found, access, lineage."""
    from catalog.queries import show_dataset
    from catalog.store import CatalogStore

    shown = show_dataset(CatalogStore(Layout(home()).catalog()), name, version)
    if as_json:
        click.echo(json.dumps(shown, indent=1, default=str))
        return
    console_out = _wide_console()
    console_out.print(
        f"[bold]{shown['name']}[/] v{shown['version']}: {shown['row_count']:,} rows, "
        f"{shown['source_system']} / {shown['owner']}, published {shown['published_at']}"
    )
    _emit(shown["classification"], False, ["axis", "value", "why"])
    _emit(shown["security"], False, ["grade", "gbt_43697", "reasons", "override_actor", "override_reason"])
    _emit(shown["columns"], False, ["name", "type", "nulls", "distinct_approx", "min", "max"])
    found = [row for row in shown["pii"] if row["entity_type"]]
    _emit(found, False, ["column_name", "entity_type", "findings", "rows_affected", "treatment", "ner_model"])
    if not found:
        console_out.print(f"personal data: none found in {len(shown['pii'])} text column(s)")
    _emit(shown["access"], False, ["principal", "access", "reason"])
    _emit(shown["lineage"], False, ["from_kind", "from_id", "to_kind", "to_id"])


@catalog.command("search")
@click.argument("text")
@click.option("--grade", type=click.IntRange(1, 3), default=None, help="Only this security grade.")
@click.option("--domain", default=None, help="Only this business domain.")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True, help="At most this many, by name.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_search(text: str, grade: int | None, domain: str | None, limit: int, as_json: bool) -> None:
    """Datasets whose name, description, owner, steward or columns mention TEXT."""
    from catalog.queries import search
    from catalog.store import CatalogStore

    rows = search(CatalogStore(Layout(home()).catalog()), text, grade, domain, limit)
    _emit(rows, as_json, ["name", "version", "domain", "security_grade", "overall", "row_count"])


@catalog.command("lineage")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_lineage(name: str, as_json: bool) -> None:
    """Where the latest version of NAME came from: export files, standardised and gated partitions."""
    from catalog.queries import lineage
    from catalog.store import CatalogStore

    _emit(lineage(CatalogStore(Layout(home()).catalog()), name), as_json, ["from_kind", "from_id", "to_kind", "to_id"])


@catalog.command("sql")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_sql(query: str, as_json: bool) -> None:
    """Run a read-only SQL QUERY on the current catalog snapshot (DuckDB 2.0 SQL; the tables are documented by
    `SELECT table_name, comment FROM duckdb_tables()`)."""
    from catalog.queries import run_sql
    from catalog.store import CatalogStore

    rows = run_sql(CatalogStore(Layout(home()).catalog()), query)
    _emit(rows, as_json, list(rows[0]) if rows else [])


@catalog.command("override")
@click.argument("name")
@click.option("--axis", required=True, help="domain, data_type, scenario, modality or grade.")
@click.option("--value", required=True)
@click.option("--reason", required=True, help="Why the rules' suggestion is wrong (kept in the audit log).")
@click.option("--actor", default=lambda: __import__("getpass").getuser(), help="Who decides (default: you).")
def catalog_override(name: str, axis: str, value: str, reason: str, actor: str) -> None:
    """Set a dataset's class or security grade by hand; audited, and kept for later versions."""
    from catalog.overrides import override
    from catalog.store import CatalogStore

    override(CatalogStore(Layout(home()).catalog()), name, axis, value, actor, reason)
    console.print(f"{name}: {axis} = {value} (by {actor})")


@main.group()
def demo() -> None:
    """The embedded demo plant."""


@demo.command("generate")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Folder (default: <data root>/demo).")
@click.option("--days", type=int, default=2, show_default=True)
@click.option("--tags", type=int, default=200, show_default=True)
@click.option("--min-period", type=int, default=1, show_default=True, help="Shortest sampling period, s.")
@click.option("--max-period", type=int, default=10, show_default=True, help="Longest sampling period, s.")
@click.option("--seed", type=int, default=7, show_default=True)
def demo_generate(out: str | None, days: int, tags: int, min_period: int, max_period: int, seed: int) -> None:
    """Generate the demo plant's exports (deterministic for a seed)."""
    from ingest.demo_plant import generate

    target = Path(out) if out else Layout(home()).demo()
    with console.status("generating the demo plant"):
        plant = generate(target, days=days, tags=tags, min_period_s=min_period, max_period_s=max_period, seed=seed)
    console.print(f"demo plant: {len(plant.files)} files, {plant.historian_rows:,} historian rows in {target}")


@main.group()
def bench() -> None:
    """Benchmarks against a raw baseline measured in the same run."""


@bench.command("ingest")
@click.option("--rows", type=int, default=1_000_000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench_ingest(rows: int, as_json: bool) -> None:
    """Time plantdata's ingest of an N-row historian CSV against a raw DuckDB COPY of the same file."""
    from bench.ingest import run_ingest_bench

    result = run_ingest_bench(rows, Layout(home()).root / "bench")
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key}: {value}")


@bench.command("gate")
@click.option("--rows", type=int, default=1_000_000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench_gate(rows: int, as_json: bool) -> None:
    """Time the quality gate's validation of an N-row partition against a raw DuckDB COPY of the same data."""
    from bench.gate import run_gate_bench

    result = run_gate_bench(rows, Layout(home()).root / "bench")
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key}: {value}")


@bench.command("catalog")
@click.option("--datasets", type=int, default=10_000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench_catalog(datasets: int, as_json: bool) -> None:
    """Search latency (p50/p95) over a catalog of N datasets, against a bare ILIKE on an open connection."""
    from bench.catalog import run_catalog_bench

    _report(run_catalog_bench(datasets, Layout(home()).root / "bench"), as_json)


@bench.command("pii")
@click.option("--texts", type=int, default=20_000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench_pii(texts: int, as_json: bool) -> None:
    """Personal-data scanning with the NER model: distinct texts/s on both cores, and effective texts/s on
    the demo's repetitive work orders, against bare spaCy NER on the same texts."""
    from bench.pii import run_pii_bench

    _report(run_pii_bench(texts), as_json)


def _report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key}: {value}")


def _emit(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=1, default=str))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(row[c]) for c in columns))
    _wide_console().print(table)


def _wide_console() -> Console:
    """The terminal's width, or a wide page when output goes to a file or a pipe (Rich would assume 80)."""
    return Console(width=shutil.get_terminal_size((160, 40)).columns)


def entrypoint() -> None:
    try:
        main(standalone_mode=True)
    except PlantdataError as exc:
        console.print(f"[red]error:[/] {exc}")
        sys.exit(2)
