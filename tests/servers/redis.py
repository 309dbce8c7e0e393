"""redis-server on loopback for a test session (Celery's broker and result backend): no persistence, no daemon."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers.ports import free_port, require

REDIS = Path("/usr/bin/redis-server")


@contextmanager
def redis_server() -> Iterator[str]:
    """A running redis-server; yields its URL without a database number (`redis://127.0.0.1:PORT`). Stopped when
    the block ends, whatever happened in it."""
    require(REDIS, "redis-server")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="plantdata-redis-", dir="/tmp")
    command = [str(REDIS), "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(
        [*command, "--daemonize", "no", "--dir", folder], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for(port, server)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read().decode(errors="replace") if server.stdout else ""
            raise RuntimeError(f"redis-server exited with {server.returncode}: {output[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{port} within 30 s")
