"""`plantdata catalog`: datasets, their classes, grades, personal data, lineage; overrides and SQL."""

from __future__ import annotations

import json
import sys

import click

from config.layout import home_layout
from pipelines.cli.common import console, emit, plain, wide_console


@click.group()
def catalog() -> None:
    """The dataset catalog (DuckDB): what exists, where it came from, how good it is."""


@catalog.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_list(as_json: bool) -> None:
    """Every dataset at its latest version."""
    from catalog.queries import list_datasets
    from catalog.store import CatalogStore

    rows = list_datasets(CatalogStore.of(home_layout()))
    emit(
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

    shown = show_dataset(CatalogStore.of(home_layout()), name, version)
    if as_json:
        click.echo(json.dumps(shown, indent=1, default=str))
        return
    console_out = wide_console()
    console_out.print(
        f"[bold]{plain(shown['name'])}[/] v{shown['version']}: {shown['row_count']:,} rows, "
        f"{plain(shown['source_system'])} / {plain(shown['owner'])}, published {shown['published_at']}"
    )
    emit(shown["classification"], False, ["axis", "value", "why"])
    emit(shown["security"], False, ["grade", "gbt_43697", "reasons", "override_actor", "override_reason"])
    emit(shown["columns"], False, ["name", "type", "nulls", "distinct_approx", "min", "max"])
    found = [row for row in shown["pii"] if row["entity_type"]]
    emit(found, False, ["column_name", "entity_type", "findings", "rows_affected", "treatment", "ner_model"])
    if not found:
        console_out.print(f"personal data: none found in {len(shown['pii'])} text column(s)")
    emit(shown["access"], False, ["principal", "access", "reason"])
    emit(shown["lineage"], False, ["from_kind", "from_id", "to_kind", "to_id"])
    if shown["annotation"]:
        console_out.print("expert annotation (Label Studio), as of the last labels publication:")
        emit(
            shown["annotation"],
            False,
            ["project", "labelled_version", "tasks", "annotated_tasks", "annotations", "alpha", "consensus"],
        )


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

    rows = search(CatalogStore.of(home_layout()), text, grade, domain, limit)
    emit(rows, as_json, ["name", "version", "domain", "security_grade", "overall", "row_count"])


@catalog.command("lineage")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_lineage(name: str, as_json: bool) -> None:
    """Where the latest version of NAME came from: export files, standardised and gated partitions."""
    from catalog.queries import lineage
    from catalog.store import CatalogStore

    emit(lineage(CatalogStore.of(home_layout()), name), as_json, ["from_kind", "from_id", "to_kind", "to_id"])


@catalog.command("sql")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_sql(query: str, as_json: bool) -> None:
    """Run a read-only SQL QUERY on the current catalog snapshot (DuckDB 2.0 SQL; the tables are documented by
    `SELECT table_name, comment FROM duckdb_tables()`). The query sees the catalog only: reading or writing
    files, ATTACH, extensions and SET are refused."""
    from catalog.queries import run_sql
    from catalog.store import CatalogStore

    rows = run_sql(CatalogStore.of(home_layout()), query)
    emit(rows, as_json, list(rows[0]) if rows else [])


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

    override(CatalogStore.of(home_layout()), name, axis, value, actor, reason)
    console.print(f"{plain(name)}: {plain(axis)} = {plain(value)} (by {plain(actor)})")


@catalog.group("audit")
def catalog_audit() -> None:
    """The audit log: every publication and every change by a person, as a hash chain."""


@catalog_audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_audit_verify(as_json: bool) -> None:
    """Check both chains: the catalog's audit log (publications, overrides) in the current snapshot, and the web
    catalog's access log (views, searches, downloads, requests, decisions, refusals); exit 1 naming the first broken
    link."""
    from catalog.access.log import AccessLog
    from catalog.audit import verify
    from catalog.store import CatalogStore

    layout = home_layout()
    with CatalogStore.of(layout).reader() as con:
        checked = verify(con)
    access = AccessLog(layout.access(), layout).verify()
    if as_json:
        click.echo(json.dumps({**checked.__dict__, "access_log": access.__dict__}))
    else:
        for name, report in (("audit log", checked), ("access log", access)):
            if report.first_broken is None:
                click.echo(f"{name} intact: {report.entries} entries, each chained to the one before")
            else:
                click.echo(f"{name} BROKEN at entry {report.first_broken}: {report.reason}")
    if checked.first_broken is not None or access.first_broken is not None:
        sys.exit(1)
