"""`plantdata sources`: the configured sources and what was ingested from them."""

from __future__ import annotations

import click

from config.layout import home_layout
from pipelines.cli.common import emit, sources_option
from pipelines.settings import sources_path


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
    from quality.evaluate import quarantine_summary

    loaded = load_sources(sources_path(sources_file))
    layout = home_layout()
    if summary:
        totals = [summarise(layout, s.name) for s in loaded.sources]
        for total in totals:
            total["unreadable"] = ", ".join(total["unreadable_files"]) or "-"
        columns = ["source", "partitions", "files", "rows_in", "rows_out", "rows_quarantined", "balanced", "unreadable"]
        emit(totals, as_json, columns)
        return
    rows = []
    for source in loaded.sources:
        alert_share = source.quality.quarantine_alert_share
        for manifest in read_manifests(layout, source.name):
            share = manifest["rows_quarantined"] / manifest["rows_in"] if manifest["rows_in"] else 0.0
            unreadable = manifest.get("unreadable", [])
            alert = ""
            if unreadable:
                alert = "; ".join(f"unreadable file {u['file']}: {u['cause']}" for u in unreadable)
            elif share > alert_share:
                alert = quarantine_summary(
                    manifest["rows_in"],
                    manifest["rows_quarantined"],
                    manifest.get("top_rule"),
                    manifest.get("example", {}),
                    alert_share,
                )
            rows.append(
                {
                    "source": source.name,
                    "partition": manifest["key"],
                    "files": [f["name"] for f in manifest["files"]],
                    "rows_in": manifest["rows_in"],
                    "rows_out": manifest["rows_out"],
                    "rows_quarantined": manifest["rows_quarantined"],
                    "quarantined_share": round(share, 4),
                    "balanced": manifest["rows_in"] == manifest["rows_out"] + manifest["rows_quarantined"],
                    "rules": manifest["rules"],
                    "top_rule": manifest.get("top_rule"),
                    "example": manifest.get("example", {}),
                    "unreadable": unreadable,
                    "alert": alert,
                    "last_run": manifest["run_id"],
                    "finished_at": manifest["finished_at"],
                }
            )
    columns = ["source", "partition", "rows_in", "rows_out", "rows_quarantined", "balanced", "alert", "finished_at"]
    emit(rows, as_json, columns)
