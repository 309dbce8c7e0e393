"""`plantdata demo`: the embedded demo plant."""

from __future__ import annotations

from pathlib import Path

import click

from config.layout import home_layout
from pipelines.cli.common import console, plain

# `generate`'s arguments as this command's options, for usage errors
_OPTIONS = {
    "days": "--days",
    "tags": "--tags",
    "min_period_s": "--min-period",
    "max_period_s": "--max-period",
    "defects": "--defects",
}


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
@click.option(
    "--defects",
    type=float,
    default=1.0,
    show_default=True,
    help="Intensity of the planted export defects: 0 a clean plant, 5 five times the usual rates.",
)
def demo_generate(
    out: str | None, days: int, tags: int, min_period: int, max_period: int, seed: int, defects: float
) -> None:
    """Generate the demo plant's exports (deterministic for a seed)."""
    from demo_plant import generate
    from demo_plant.errors import DemoArgumentError

    target = Path(out) if out else home_layout().demo()
    try:
        with console.status("generating the demo plant"):
            plant = generate(
                target,
                days=days,
                tags=tags,
                min_period_s=min_period,
                max_period_s=max_period,
                seed=seed,
                defects=defects,
            )
    except DemoArgumentError as exc:  # raised before anything is written
        raise click.BadParameter(f"{exc.problem}; got {exc.value}", param_hint=_OPTIONS[exc.argument]) from None
    console.print(f"demo plant: {len(plant.files)} files, {plant.historian_rows:,} historian rows in {plain(target)}")


# One person per role of the web catalog (catalog/rules.yaml principals), from demo_plant/annotation.yaml.
DEMO_LOGINS = (
    ("all_employees", "olaf.berg@werk-nord.example"),
    ("data_engineers", "dana.engel@werk-nord.example"),
    ("ai_project_members", "kai.lin@werk-nord.example"),
    ("steward (Reliability engineering)", "petra.hoff@werk-nord.example"),
    ("chief_data_officer", "cdo@werk-nord.example"),
)


@demo.command("logins")
@click.option("--url", default="http://127.0.0.1:8000/", show_default=True, help="Where `make serve` listens.")
def demo_logins(url: str) -> None:
    """Give the demo's people a web catalog password (random, kept in <data root>/demo/logins.json) and print them."""
    import json
    import os
    import secrets

    from catalog.web.context import WebCatalog
    from config.commit import commit_bytes

    layout = home_layout()  # the web catalog's people and credentials: in the store when the data root is a URL
    web = WebCatalog.open(layout)
    kept = layout.demo() / "logins.json"
    passwords: dict[str, str] = json.loads(kept.read_text()) if kept.exists() else {}
    click.echo(f"Web catalog: make serve, then {url} and sign in as one of:")
    for role, email in DEMO_LOGINS:
        person = web.person(email)
        if person is None:
            click.echo(f"  {role}: {email} is not in the catalog's people (run `plantdata annotate demo` first)")
            continue
        if email not in passwords or not web.credentials.check_password(email, passwords[email]):
            passwords[email] = secrets.token_urlsafe(12)
            web.credentials.set_password(email, passwords[email])
        click.echo(f"  {role:<34} {email:<30} password {passwords[email]}")
    commit_bytes(kept, json.dumps(passwords, indent=1).encode())
    os.chmod(kept, 0o600)
