"""Debian's PostgreSQL 15 on loopback for a test session: a throwaway cluster in a temporary folder.

initdb refuses to run as root, so the cluster belongs to the `postgres` system user the package creates (the
commands run through `runuser`); its folder is made under /tmp (pytest's own temporary folders are mode 0700 root,
which that user cannot enter) and its socket lives there too (/var/run/postgresql may not be writable). fsync is
off: the cluster is thrown away at the end.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers.ports import free_port, require

BIN = Path("/usr/lib/postgresql/15/bin")
OWNER = "postgres"
USER = "dagster"
DATABASE = "dagster"


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    database: str
    folder: Path  # data directory, log and socket

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"


def _as_owner(*command: str) -> list[str]:
    return ["runuser", "-u", OWNER, "--", *command]


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A running cluster with database `dagster` (user `dagster`, trust auth on loopback); stopped and removed
    when the block ends, whatever happened in it."""
    for tool in ("initdb", "pg_ctl", "createdb"):
        require(BIN / tool, "postgresql-15")
    try:
        owner = pwd.getpwnam(OWNER)
    except KeyError:
        raise RuntimeError(f"no `{OWNER}` system user: run .ci/install-servers (Debian's postgresql-15)") from None
    folder = Path(tempfile.mkdtemp(prefix="plantdata-pg-", dir="/tmp"))
    os.chown(folder, owner.pw_uid, owner.pw_gid)
    data, port = folder / "data", free_port()
    started = False
    try:
        subprocess.run(
            _as_owner(str(BIN / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"),
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(
            _as_owner(str(BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o", options, "start"),
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        started = True
        subprocess.run(
            [str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        yield Postgres("127.0.0.1", port, USER, DATABASE, folder)
    except subprocess.CalledProcessError as failed:
        log = folder / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"{failed.cmd[0:4]} failed: {failed.stderr}{tail}") from failed
    finally:
        if started:
            stop = _as_owner(str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
            subprocess.run(stop, check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
