"""`plantdata serve` (the web catalog) and `plantdata users` (who may sign in to it)."""

from __future__ import annotations

import json
import os
import sys

import click

from config.layout import home_layout
from pipelines.cli.common import emit
from pipelines.settings import home_url


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--secure-cookies", is_flag=True, help="Mark session cookies Secure (behind an HTTPS proxy).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (pages are rendered in Python: one process uses about one core).")  # fmt: skip
def serve(host: str, port: int, secure_cookies: bool, workers: int) -> None:
    """The web catalog for chief data officers and everyone else: estate, search, datasets, access, audit.

    It reads the catalog while `plantdata run` publishes. The first time, nobody can sign in: set
    PLANTDATA_ADMIN_EMAIL and PLANTDATA_ADMIN_PASSWORD for the first administrator (a CDO), or give people
    passwords with `plantdata users password`.
    """
    import uvicorn

    from catalog.web.app import create_app
    from catalog.web.context import WebCatalog

    layout = home_layout()
    created = WebCatalog.open(layout).first_admin()
    if created:
        click.echo(f"first administrator: {created} (chief data officer)")
    click.echo(f"catalog on http://{host}:{port}/  (data root {home_url()}; Ctrl-C stops it)")
    if workers == 1:
        uvicorn.run(create_app(layout, secure_cookies=secure_cookies), host=host, port=port, log_level="warning",
                    server_header=False)  # fmt: skip
        return
    os.environ["PLANTDATA_HOME"] = home_url()  # the workers open the same data root, a folder or a URL
    os.environ["PLANTDATA_SECURE_COOKIES"] = "1" if secure_cookies else "0"
    uvicorn.run("catalog.web.app:app_from_environment", factory=True, workers=workers, host=host, port=port,
                log_level="warning", server_header=False)  # fmt: skip


@click.group("users")
def users() -> None:
    """People who may sign in to the web catalog (the catalog's people directory) and their credentials."""


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def users_list(as_json: bool) -> None:
    """Everyone in the directory, with whether they can sign in."""
    from catalog.web.context import WebCatalog

    web = WebCatalog.open(home_layout())
    can = set(web.credentials.emails())
    rows = [{**p.model_dump(mode="json"), "can_sign_in": p.email in can} for p in web.service.people().values()]
    emit(rows, as_json, ["email", "name", "role", "department", "clearance", "can_sign_in"])


@users.command("add")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", required=True, help="employee, data_engineer, ai_project_member, chief_data_officer, ...")
@click.option("--department", required=True, help="Owner and steward rights follow the department.")
@click.option("--clearance", type=click.IntRange(1, 3), required=True, help="Highest security grade they may see.")
def users_add(email: str, name: str, role: str, department: str, clearance: int) -> None:
    """Add (or change) a person in the directory; give them a password with `plantdata users password`."""
    from pydantic import ValidationError

    from catalog.web.context import WebCatalog, add_people
    from config.people import Person, Role

    try:
        person = Person(email=email.lower(), name=name, role=Role(role), department=department, clearance=clearance)
    except (ValidationError, ValueError) as error:
        raise click.UsageError(str(error)) from error
    add_people(WebCatalog.open(home_layout()).service, [person])
    click.echo(f"added {person.email} ({person.role.value}, {person.department}, clearance {person.clearance})")


@users.command("password")
@click.argument("email")
@click.option("--from-env", "from_env", metavar="VAR", help="Read the password from this environment variable.")
def users_password(email: str, from_env: str | None) -> None:
    """Set a person's password (asked twice, or read from an environment variable); older sessions end."""
    from catalog.web.context import WebCatalog

    web = WebCatalog.open(home_layout())
    email = email.lower()
    if web.person(email) is None:
        click.echo(f"error: {email} is not in the directory; add them first: plantdata users add {email} ...")
        sys.exit(2)
    password = os.environ.get(from_env, "") if from_env else click.prompt("password", hide_input=True,
                                                                          confirmation_prompt=True)  # fmt: skip
    web.credentials.set_password(email, password)
    web.log.append("cli", "password_set", None, None, {"email": email})
    click.echo(f"password set for {email}")


@users.command("token")
@click.argument("email")
@click.option("--purpose", default="cli", show_default=True)
def users_token(email: str, purpose: str) -> None:
    """Issue an API token for the JSON API (printed once)."""
    from catalog.web.context import WebCatalog

    web = WebCatalog.open(home_layout())
    if web.person(email.lower()) is None:
        click.echo(f"error: {email} is not in the directory")
        sys.exit(2)
    token = web.credentials.issue_token(email.lower(), purpose)
    web.log.append("cli", "token_issued", None, None, {"email": email.lower(), "purpose": purpose})
    click.echo(json.dumps({"email": email.lower(), "token": token}))


__all__ = ["serve", "users"]
