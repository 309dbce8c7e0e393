"""`plantdata labelstudio`: install, start and stop the Label Studio server annotators work in."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click

from pipelines.cli.common import console, plain, report
from pipelines.settings import home

env_file_option = click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    default=".env",
    show_default=True,
    help="Credentials file, read for the PLANTDATA_LABEL_STUDIO_* variables the environment does not set.",
)


@click.group()
def labelstudio() -> None:
    """The Label Studio server (its own virtualenv in .label-studio/, its data in <data root>/labelstudio)."""


@labelstudio.command("env")
@env_file_option
def labelstudio_env(env_file: str) -> None:
    """Write the credentials file with a fresh random admin, unless it exists; print its path."""
    from annotation.settings import write_dotenv

    existed = Path(env_file).exists()
    path = write_dotenv(Path(env_file))
    console.print(f"{plain(path)}: " + ("kept as it is" if existed else "written with fresh random credentials"))
    click.echo(str(path))


@labelstudio.command("install")
@env_file_option
def labelstudio_install(env_file: str) -> None:
    """Install Label Studio into its own virtualenv from the hash-pinned lock (again only when the lock changed)."""
    from annotation.launcher import LOCK, ensure_installed
    from annotation.settings import venv_path

    venv = venv_path(dotenv=Path(env_file))
    with console.status(f"installing Label Studio into {plain(venv)} (a few minutes the first time)"):
        ensure_installed(venv, LOCK)
    console.print(f"Label Studio installed in {plain(venv)}")


@labelstudio.command("start")
@env_file_option
@click.option("--background", is_flag=True, help="Return once it is up; `plantdata labelstudio stop` stops it.")
@click.option("--timeout", type=float, default=180, show_default=True, help="Seconds to wait for it to be up.")
def labelstudio_start(env_file: str, background: bool, timeout: float) -> None:
    """Start the server and wait until it is up; in the foreground (the default) Ctrl-C stops it."""
    from annotation.launcher import LabelStudioServer
    from annotation.settings import LabelStudioSettings

    settings = LabelStudioSettings.from_environment(home(), dotenv=Path(env_file))
    server = LabelStudioServer(settings)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started from a script that ignores it
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGHUP, _exit)
    with console.status(f"starting Label Studio at {plain(settings.url)} (about half a minute the first time)"):
        try:
            server.start()
            server.wait_healthy(timeout)
        except BaseException:
            server.stop()
            raise
    welcome = f"Label Studio at {plain(settings.url)}: log in as {plain(settings.admin_email)}"
    welcome += f" (password in {plain(env_file)} or $PLANTDATA_LABEL_STUDIO_ADMIN_PASSWORD)"
    if server.reused:
        console.print(f"{welcome}; it was already running")
        return
    if background:
        pid_file = server.detach()
        console.print(
            f"{welcome}; running in the background (pid file {plain(pid_file)}, log {plain(server.log_path)})"
        )
        return
    console.print(f"{welcome}. Log: {plain(server.log_path)}. Ctrl-C stops it.")
    code: int | None = None
    try:
        code = server.wait()
    except KeyboardInterrupt:
        console.print("stopping Label Studio")
    finally:
        server.stop()
    if code is not None:
        console.print(f"[red]Label Studio exited with code {code}[/]; see {plain(server.log_path)}")
        sys.exit(1)


def _exit(signum: int, frame: FrameType | None) -> None:
    """SIGTERM or SIGHUP: unwind through `finally`, so the server (in its own process group) is stopped too."""
    sys.exit(128 + signum)


@labelstudio.command("stop")
@env_file_option
def labelstudio_stop(env_file: str) -> None:
    """Stop the server `start --background` left running."""
    from annotation.launcher import pid_file, stop_background
    from annotation.settings import LabelStudioSettings

    settings = LabelStudioSettings.from_environment(home(), dotenv=Path(env_file))
    with console.status("stopping Label Studio"):
        pid = stop_background(settings)
    if pid is None:
        console.print(f"no background Label Studio of ours runs (pid file {plain(pid_file(settings))})")
    else:
        console.print(f"stopped Label Studio (pid {pid})")


@labelstudio.command("status")
@env_file_option
@click.option("--json", "as_json", is_flag=True)
def labelstudio_status(env_file: str, as_json: bool) -> None:
    """Whether the server is installed, up and ours (accepts our admin token); exits 1 when it is not up."""
    from annotation.launcher import admin_accepted, is_healthy, pid_file
    from annotation.settings import LabelStudioSettings

    settings = LabelStudioSettings.from_environment(home(), dotenv=Path(env_file))
    up = is_healthy(settings.url)
    result: dict[str, Any] = {
        "url": settings.url,
        "up": up,
        "admin_token_accepted": up and admin_accepted(settings),
        "admin_email": settings.admin_email,
        "installed": (settings.venv / "bin" / "label-studio").exists(),
        "venv": str(settings.venv),
        "data_dir": str(settings.data_dir),
        "background_pid_file": str(pid_file(settings)) if pid_file(settings).exists() else None,
    }
    report(result, as_json)
    if not up:
        sys.exit(1)
