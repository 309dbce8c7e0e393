"""The test servers themselves: they answer while the block runs and leave nothing behind."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg2
import pytest

from tests.servers.ports import require
from tests.servers.postgres import postgres_server
from tests.servers.redis import redis_server


def test_postgres_answers_and_is_gone_afterwards() -> None:
    with postgres_server() as server:
        with psycopg2.connect(server.url) as connection, connection.cursor() as cursor:
            cursor.execute("select current_user, current_database()")
            assert cursor.fetchone() == ("dagster", "dagster")
        assert server.folder.is_dir()
    assert not _listening(server.port)
    assert not server.folder.exists()


def test_redis_answers_and_is_gone_afterwards() -> None:
    with redis_server() as url:
        port = int(url.rsplit(":", 1)[1])
        assert _listening(port)
    assert not _listening(port)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_a_missing_server_is_an_error_naming_the_installer(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"run \.ci/install-servers \(it installs Debian's redis-server\)"):
        require(tmp_path / "redis-server", "redis-server")
