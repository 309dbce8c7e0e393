"""`plantdata demo`: the embedded demo plant."""

from __future__ import annotations

from pathlib import Path

import click

from config.layout import Layout
from pipelines.cli.common import console, plain
from pipelines.settings import home

# `generate`'s arguments as this command's options, for usage errors
_OPTIONS = {"days": "--days", "tags": "--tags", "min_period_s": "--min-period", "max_period_s": "--max-period"}


@click.group()
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
    from demo_plant import generate
    from demo_plant.errors import DemoArgumentError

    target = Path(out) if out else Layout(home()).demo()
    try:
        with console.status("generating the demo plant"):
            plant = generate(target, days=days, tags=tags, min_period_s=min_period, max_period_s=max_period, seed=seed)
    except DemoArgumentError as exc:  # raised before anything is written
        raise click.BadParameter(f"{exc.problem}; got {exc.value}", param_hint=_OPTIONS[exc.argument]) from None
    console.print(f"demo plant: {len(plant.files)} files, {plant.historian_rows:,} historian rows in {plain(target)}")
