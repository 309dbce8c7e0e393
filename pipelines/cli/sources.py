"""`plantdata sources`: the configured sources and what was ingested from them."""

from __future__ import annotations

import click

from config.layout import Layout
from pipelines.cli.common import emit, sources_option
from pipelines.settings import home, sources_path


@click.group()
def sources() -> None:
    """Inspect the configured sources."""


@sources.command("list")
@sources_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def sources_list(sources_file: str | None, as_json: bool) -> None:
    """List configured sources."""
    from config.sources import load_sources

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
    emit(rows, as_json, ["name", "kind", "system", "owner", "partitioning", "location"])


@sources.command("status")
@sources_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--summary", is_flag=True, help="One line per source instead of one per partition.")
def sources_status(sources_file: str | None, as_json: bool, summary: bool) -> None:
    """Per source and partition: files, rows in/out/quarantined and the last run."""
    from config.sources import load_sources
    from ingest.manifest import read_manifests, summarise

    loaded = load_sources(sources_path(sources_file))
    layout = Layout(home())
    if summary:
        totals = [summarise(layout, s.name) for s in loaded.sources]
        emit(totals, as_json, ["source", "partitions", "files", "rows_in", "rows_out", "rows_quarantined", "balanced"])
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
    emit(rows, as_json, ["source", "partition", "rows_in", "rows_out", "rows_quarantined", "balanced", "finished_at"])
