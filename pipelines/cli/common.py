"""What every command group shares: the stderr console, the --sources option, table or JSON output, and `plain`
for putting data text into Rich markup."""

from __future__ import annotations

import json
import shutil
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(stderr=True)
sources_option = click.option(
    "--sources",
    "sources_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Sources YAML (default: $PLANTDATA_SOURCES, else the embedded demo plant).",
)


def plain(text: object) -> str:
    """`text` as it is inside a Rich markup string: `Rotational speed [rpm]` would otherwise lose `[rpm]` as a style
    tag, and a `[/]` in data would make printing fail. Use it on every error message, file, source or column name
    put into `console.print`, a status or progress description, or a table cell."""
    return escape(str(text))


def report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key}: {value}")


def emit(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=1, default=str))
        return
    table = Table(*(plain(c) for c in columns))
    for row in rows:
        table.add_row(*(plain(row[c]) for c in columns))
    wide_console().print(table)


def wide_console() -> Console:
    """The terminal's width, or a wide page when output goes to a file or a pipe (Rich would assume 80)."""
    return Console(width=shutil.get_terminal_size((160, 40)).columns)
